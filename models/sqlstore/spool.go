package sqlstore

import (
	"context"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/spool"
)

// StoreSpooled stores one delivery taken from the spool, as if it had just
// arrived. A delivery for a feed deleted meanwhile is dropped with a log line;
// a body the parser refuses is recorded as refused, like any other. Only an
// error that means "try again later" is returned.
func (s *Store) StoreSpooled(ctx context.Context, d spool.Delivery, opt models.IngestOptions) error {
	feed, err := s.Feed(ctx, d.FeedID)
	if err != nil && models.ErrorCode(err) == models.ENOTFOUND {
		s.log.Warn("spooled delivery for a deleted feed dropped", "feed_id", d.FeedID, "received_at", d.ReceivedAt)
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := s.IngestBody(ctx, feed, d.TokenID, d.Body, d.ContentType, d.ReceivedAt, opt); err != nil && models.ErrorCode(err) == models.EINTERNAL {
		return err
	}
	return nil
}
