package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/spool"
)

// replayChunk is how many spooled deliveries share a transaction on replay.
const replayChunk = 500

// StoreSpooled stores deliveries taken from the spool, as if they had just arrived,
// several to a transaction. It answers one error per delivery, as spool.Replay wants:
//   - nil: stored; or refused by the parser and recorded as refused; or for a feed
//     deleted meanwhile, dropped with a log line; or refused by the database and
//     recorded, whole, as quarantined, for an SRE to replay once the cause is fixed;
//   - spool.Poison: refused by the database and not even recordable;
//   - any other error: the database is out of reach again; try later.
func (s *Store) StoreSpooled(ctx context.Context, ds []spool.Delivery, opt models.IngestOptions) []error {
	errs := make([]error, len(ds))
	fail := func(from int, err error) []error {
		for i := from; i < len(errs); i++ {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	feeds := map[int64]*models.Feed{}
	var batch []*pendingDelivery
	var at []int // batch[k] is ds[at[k]]
	for i, d := range ds {
		f, seen := feeds[d.FeedID]
		if !seen {
			feed, err := s.Feed(ctx, d.FeedID)
			switch {
			case models.ErrorCode(err) == models.ENOTFOUND:
				s.log.Warn("spooled delivery for a deleted feed dropped", "feed_id", d.FeedID, "received_at", d.ReceivedAt)
			case err != nil:
				return fail(i, err)
			default:
				f = &feed
			}
			feeds[d.FeedID] = f
		}
		if f == nil {
			continue
		}
		p, err := s.prepare(ctx, *f, d.TokenID, d.Body, d.ContentType, d.ReceivedAt, opt)
		if err != nil {
			if code := models.ErrorCode(err); code != models.EINVALID && code != models.ETOOLARGE {
				return fail(i, err) // not the body's fault
			}
			continue // refused and recorded
		}
		p.ctx = ctx
		batch, at = append(batch, p), append(at, i)
	}
	for start := 0; start < len(batch); start += replayChunk {
		end := min(start+replayChunk, len(batch))
		chunk := batch[start:end]
		err := s.writeBatch(ctx, chunk)
		if err != nil && IsUnavailable(err) {
			return fail(at[start], err)
		}
		for k, p := range chunk {
			i := at[start+k]
			switch {
			case err != nil || errors.Is(p.err, errStaleBindings):
				// One of the batch is refused, or bindings changed: each on its own.
				d := ds[i]
				_, ierr := s.IngestBody(ctx, p.feed, d.TokenID, d.Body, d.ContentType, d.ReceivedAt, opt)
				if ierr == nil || models.ErrorCode(ierr) == models.EINVALID || models.ErrorCode(ierr) == models.ETOOLARGE {
					continue
				}
				if IsUnavailable(ierr) {
					return fail(i, ierr)
				}
				errs[i] = s.quarantine(ctx, ds[i], ierr)
			}
		}
	}
	s.foldAfter(ctx)
	return errs
}

// quarantine records a spooled delivery the database refused, whole, with why: it was
// acknowledged (202), so it must not be lost, and it must not hold up the others.
func (s *Store) quarantine(ctx context.Context, d spool.Delivery, cause error) error {
	reason := models.Truncate("the database refused this delivery when it was replayed from the spool: "+cause.Error(), 500)
	rec := models.Delivery{FeedID: d.FeedID, ReceivedAt: d.ReceivedAt.UTC(), ContentType: models.Truncate(d.ContentType, 100),
		Body: d.Body, BodyBytes: len(d.Body), Outcome: models.OutcomeQuarantined, Code: models.EINVALID, Error: reason}
	if d.TokenID != 0 {
		rec.TokenID = &d.TokenID
	}
	if err := s.RecordDelivery(ctx, &rec); err != nil {
		if IsUnavailable(err) {
			return err
		}
		return spool.Poison{Reason: fmt.Sprintf("%s; recording it failed too: %v", reason, err)}
	}
	s.log.Error("spooled delivery quarantined", "feed_id", d.FeedID, "delivery_id", rec.ID, "reason", reason)
	return nil
}

// ReplayQuarantined stores a quarantined delivery again, from its kept body (an SRE's
// action, once the cause is fixed), and marks it replayed.
func (s *Store) ReplayQuarantined(ctx context.Context, feedID, deliveryID int64, opt models.IngestOptions) (models.IngestResult, error) {
	var d models.Delivery
	if err := s.db.WithContext(ctx).Where("id = ? AND feed_id = ?", deliveryID, feedID).First(&d).Error; err != nil {
		return models.IngestResult{}, notFound(err, "delivery %d of feed %d not found", deliveryID, feedID)
	}
	if d.Outcome != models.OutcomeQuarantined {
		return models.IngestResult{}, models.Errorf(models.ECONFLICT, "delivery %d is %s, not quarantined: only quarantined deliveries are replayed", deliveryID, d.Outcome)
	}
	feed, err := s.Feed(ctx, feedID)
	if err != nil {
		return models.IngestResult{}, err
	}
	token := int64(0)
	if d.TokenID != nil {
		token = *d.TokenID
	}
	res, err := s.IngestBody(ctx, feed, token, d.Body, d.ContentType, d.ReceivedAt, opt)
	if err != nil && models.ErrorCode(err) != models.EINVALID && models.ErrorCode(err) != models.ETOOLARGE {
		return res, err
	}
	if err := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("id = ?", deliveryID).Updates(map[string]any{
		"outcome": models.OutcomeReplayed, "error": fmt.Sprintf("replayed as delivery %d; first refused: %s", res.DeliveryID, d.Error),
	}).Error; err != nil {
		return res, fmt.Errorf("mark delivery %d replayed: %w", deliveryID, err)
	}
	return res, nil
}
