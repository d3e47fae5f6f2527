package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
)

// NewDelivery fills a delivery record from a parsed body; the caller sets
// the feed, token, receipt time and raw body.
func NewDelivery(b splunk.Body) models.Delivery {
	rej, _ := json.Marshal(b.Rejected)
	if b.Rejected == nil {
		rej = []byte("[]")
	}
	return models.Delivery{
		Shape: b.Shape, SID: b.SID, SearchName: b.SearchName, ResultsLink: b.ResultsLink,
		RowsTotal: len(b.Rows) + len(b.Rejected), Rejected: len(b.Rejected), Rejections: string(rej),
	}
}

// Small deliveries arriving together share a transaction and a commit, one in flight
// at a time: measured on two cores, one writer gathering what arrives meanwhile beats
// two writers with half the batch. Deliveries of more than aloneRows rows already
// amortise their commit; they are written at once, on their own, so they never hold
// small ones up.
const (
	commitWriters = 1
	commitRows    = 1000
	aloneRows     = 100
	// DefaultIngestDeadline is how long a delivery waits for the database: a database
	// that hangs is treated like one that is down, and the delivery is spooled.
	DefaultIngestDeadline = 2 * time.Second
	// A big delivery is given more: 2 ms a row (1 s per 50 KiB of body before it is
	// parsed), at most 8 s more. At 1,000 SLOs a busy database wrote 1,000-row
	// deliveries in up to 2 s, and 2 s alone took it for a hung one.
	perRowDeadline   = 2 * time.Millisecond
	perKiBDeadline   = 20 * time.Millisecond
	maxExtraDeadline = 8 * time.Second
)

// deadlineFor is how long a delivery of rows rows (or, unparsed, of size bytes)
// waits for the database.
func (s *Store) deadlineFor(rows, size int) time.Duration {
	return s.IngestDeadline + min(maxExtraDeadline, max(time.Duration(rows)*perRowDeadline, time.Duration(size/1024)*perKiBDeadline))
}

func newIngestCommitter(s *Store) *groupCommit[*pendingDelivery] {
	return newGroupCommit(commitWriters, commitRows,
		func(p *pendingDelivery) int { return len(p.rows) },
		func(batch []*pendingDelivery) { s.writeDeliveries(batch) })
}

// writeDeliveries writes a batch. If that fails for a reason other than the database
// being out of reach, each delivery is tried alone, so one delivery's error is not
// another's.
func (s *Store) writeDeliveries(batch []*pendingDelivery) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), s.deadlineFor(rowsOf(batch), 0))
	defer cancel()
	err := s.writeBatch(ctx, batch)
	if err == nil {
		s.markUp()
		return
	}
	if IsUnavailable(err) {
		s.markDown(err)
	}
	if len(batch) == 1 || IsUnavailable(err) {
		for _, p := range batch {
			p.err = err
		}
		return
	}
	for _, p := range batch {
		p.err = nil
		if err := s.writeBatch(ctx, []*pendingDelivery{p}); err != nil {
			p.err = err
		}
	}
}

// ingest stores a parsed delivery with its rows, atomically, and returns after commit
// (a big one's roll-up change, queued on PostgreSQL, is folded in soon after: fold.go).
// On PostgreSQL small deliveries posted at the same time share a commit.
func (s *Store) ingest(p *pendingDelivery) error {
	if s.dialect == migrations.Postgres && len(p.rows) <= aloneRows {
		s.commits.do(p)
	} else {
		s.writeDeliveries([]*pendingDelivery{p})
	}
	if p.err == nil && s.queues([]*pendingDelivery{p}) {
		s.foldSoon()
	}
	return p.err
}

// RecordDelivery stores a delivery that stored no rows (refused, or spooled).
func (s *Store) RecordDelivery(ctx context.Context, d *models.Delivery) error {
	if d.Rejections == "" {
		d.Rejections = "[]"
	}
	if err := s.db.WithContext(ctx).Omit("id").Create(d).Error; err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// Deliveries lists a feed's deliveries, newest first, without their raw bodies.
func (s *Store) Deliveries(ctx context.Context, feedID int64, q models.DeliveryQuery) ([]models.Delivery, error) {
	q.Limit = q.PageSize()
	// Listings never carry raw bodies (up to the body limit each): see Delivery.
	db := s.db.WithContext(ctx).Omit("body").Where("feed_id = ?", feedID)
	if q.BeforeID > 0 {
		db = db.Where("id < ?", q.BeforeID)
	}
	if q.Outcome != "" {
		db = db.Where("outcome = ?", q.Outcome)
	}
	var out []models.Delivery
	if err := db.Order("id DESC").Limit(q.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list deliveries of feed %d: %w", feedID, err)
	}
	return out, nil
}

// Delivery is one delivery of a feed with its raw body, for SREs, one at a time.
func (s *Store) Delivery(ctx context.Context, feedID, id int64) (models.Delivery, error) {
	var d models.Delivery
	if err := s.db.WithContext(ctx).Where("id = ? AND feed_id = ?", id, feedID).First(&d).Error; err != nil {
		return d, notFound(err, "delivery %d of feed %d not found", id, feedID)
	}
	return d, nil
}

// Samples lists a feed's samples in time order (then by series), each with the sid and
// results link of the delivery that stored it. A series' samples are read through its
// own index (an SLO page shows its newest twelve); the deliveries are looked up by id
// afterwards, for the rows listed only.
func (s *Store) Samples(ctx context.Context, feedID int64, q models.SampleQuery) ([]models.Sample, error) {
	if q.Limit <= 0 || q.Limit > 5000 {
		q.Limit = 1000
	}
	db := s.db.WithContext(ctx).Table("samples AS s").Select("s.series_id, s.bucket, sr.key, s.fields, s.delivery_id").
		Joins("JOIN series sr ON sr.id = s.series_id")
	order := "s.bucket, s.series_id"
	if q.Series != nil {
		id, err := s.seriesOf(ctx, feedID, *q.Series)
		if err != nil {
			return nil, err
		}
		if id == 0 {
			return []models.Sample{}, nil
		}
		db, order = db.Where("s.series_id = ?", id), "s.bucket"
	} else {
		db = db.Where("sr.feed_id = ?", feedID)
	}
	if !q.From.IsZero() {
		db = db.Where("s.bucket >= ?", q.From.Unix())
	}
	if !q.To.IsZero() {
		db = db.Where("s.bucket < ?", q.To.Unix())
	}
	if c := q.After; c != nil {
		db = db.Where("(s.bucket > ? OR (s.bucket = ? AND s.series_id > ?))", c.Time.Unix(), c.Time.Unix(), c.SeriesID)
	}
	if q.Newest {
		order = strings.ReplaceAll(order, ",", " DESC,") + " DESC"
	}
	var rows []struct {
		SeriesID   int64
		Bucket     int64
		Key        string
		Fields     string
		DeliveryID *int64
	}
	if err := db.Order(order).Limit(q.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list samples of feed %d: %w", feedID, err)
	}
	var ids []int64
	for _, r := range rows {
		if r.DeliveryID != nil {
			ids = append(ids, *r.DeliveryID)
		}
	}
	from := map[int64]models.Delivery{}
	if len(ids) > 0 {
		var ds []models.Delivery
		if err := s.db.WithContext(ctx).Select("id, sid, results_link").Where("id IN ?", slices.Compact(slices.Sorted(slices.Values(ids)))).Find(&ds).Error; err != nil {
			return nil, fmt.Errorf("list samples of feed %d: %w", feedID, err)
		}
		for _, d := range ds {
			from[d.ID] = d
		}
	}
	out := make([]models.Sample, len(rows))
	for i, r := range rows {
		f, err := s.decodeFields(ctx, r.Fields)
		if err != nil {
			return nil, fmt.Errorf("sample %d@%d of feed %d: %w", r.SeriesID, r.Bucket, feedID, err)
		}
		out[i] = models.Sample{SeriesID: r.SeriesID, Time: time.Unix(r.Bucket, 0).UTC(), Series: r.Key, Fields: f.Map(), DeliveryID: r.DeliveryID}
		if r.DeliveryID != nil {
			d := from[*r.DeliveryID]
			out[i].SID, out[i].ResultsLink = d.SID, d.ResultsLink
		}
	}
	return out, nil
}

// IngestBody parses a webhook body for a feed and stores it: the rows it can,
// and the delivery record whatever happens. A body-level refusal is stored
// and returned as an *Error (EINVALID or ETOOLARGE).
func (s *Store) IngestBody(ctx context.Context, feed models.Feed, tokenID int64, body []byte, contentType string,
	receivedAt time.Time, opt models.IngestOptions) (models.IngestResult, error) {
	if s.Down() {
		return models.IngestResult{}, models.Errorf(models.EUNAVAILABLE, "database unreachable")
	}
	ctx, cancel := context.WithTimeout(ctx, s.deadlineFor(0, len(body)))
	defer cancel()
	for attempt := 0; ; attempt++ {
		p, err := s.prepare(ctx, feed, tokenID, body, contentType, receivedAt, opt)
		if err != nil && p == nil {
			return models.IngestResult{}, err
		}
		if err != nil {
			return models.IngestResult{DeliveryID: p.d.ID, Rejected: []models.Rejection{}, Outcome: models.OutcomeRefused}, err
		}
		err = s.ingest(p)
		if errors.Is(err, errStaleBindings) {
			if attempt < 10 && ctx.Err() == nil {
				s.bindings.outdated(feed.ID, p.set.version) // parse again with the bindings now in force
				continue
			}
			// The feed's SLOs kept changing under this delivery (someone creating many at
			// once): it is not refused but kept, and the spool's replay writes it later.
			return models.IngestResult{}, models.Wrap(models.EUNAVAILABLE, err, "the feed's SLOs are being changed; try again in a moment")
		}
		if err != nil {
			return models.IngestResult{}, err
		}
		return resultOf(p.d), nil
	}
}

func resultOf(d *models.Delivery) models.IngestResult {
	return models.IngestResult{DeliveryID: d.ID, Accepted: d.Accepted, Replaced: d.Replaced, Duplicates: d.Duplicates,
		Rejected: d.RejectionList(), FromReceipt: d.FromReceipt, OutsideWindow: d.OutsideWindow, Outcome: d.Outcome}
}

// prepare parses a body with the feed's bindings and checks its rows. A body the
// parser refuses is recorded as refused at once (the returned delivery says which)
// and its error returned.
func (s *Store) prepare(ctx context.Context, feed models.Feed, tokenID int64, body []byte, contentType string,
	receivedAt time.Time, opt models.IngestOptions) (*pendingDelivery, error) {
	set, err := s.feedBindings(ctx, feed.ID)
	if err != nil {
		return nil, err
	}
	parsed, perr := splunk.Parse(body, contentType, splunk.Options{
		TimeField: feed.TimeField, SeriesField: feed.SeriesField, NumericFields: set.numericFields(),
		ReceivedAt: receivedAt, MaxRows: opt.MaxRows,
	})
	if perr == nil {
		set.checkRows(&parsed)
	}
	d := NewDelivery(parsed)
	d.FeedID, d.ReceivedAt, d.ContentType = feed.ID, receivedAt.UTC(), models.Truncate(contentType, 100)
	if tokenID != 0 {
		d.TokenID = &tokenID
	}
	d.Body, d.BodyBytes = body, len(body)
	p := &pendingDelivery{ctx: ctx, d: &d, rows: parsed.Rows, feed: feed, set: set}
	if perr != nil {
		d.Outcome, d.Code, d.Error = models.OutcomeRefused, models.ErrorCode(perr), models.ErrorMessage(perr)
		d.KeepAtMost(opt.MaxRawBytes)
		if err := s.RecordDelivery(ctx, &d); err != nil {
			// The refusal is still the answer; losing its log entry is the lesser harm.
			s.log.ErrorContext(ctx, "could not record a refused delivery", "feed_id", feed.ID, "err", err)
		}
		return p, perr
	}
	return p, nil
}

// RecordRefusal keeps a delivery refused before its body could be read (over the size limit).
func (s *Store) RecordRefusal(ctx context.Context, feed models.Feed, tokenID int64, head []byte, size int, contentType string,
	receivedAt time.Time, refusal error, maxRaw int) error {
	d := models.Delivery{FeedID: feed.ID, ReceivedAt: receivedAt.UTC(), ContentType: models.Truncate(contentType, 100),
		Body: head, BodyBytes: size, Outcome: models.OutcomeRefused, Code: models.ErrorCode(refusal), Error: models.ErrorMessage(refusal)}
	if tokenID != 0 {
		d.TokenID = &tokenID
	}
	d.KeepAtMost(maxRaw)
	d.BodyTruncated = d.BodyTruncated || len(head) < size
	return s.RecordDelivery(ctx, &d)
}
