package sqlstore

import (
	"context"
	"fmt"

	"github.com/sitemetrics/sitemetrics/models"
)

// FeedShape lists the series values and numeric fields one feed sends, from
// the newest row of each of its series: what the SLO form suggests once that
// feed is chosen.
func (s *Store) FeedShape(ctx context.Context, feedID int64) (models.FeedShape, error) {
	var rows []struct {
		Series string
		Fields string
	}
	// Each series' newest sample is enough to show what a feed sends, without
	// reading a table that grows forever.
	err := s.db.WithContext(ctx).Raw(`SELECT sr.key AS series, COALESCE(s.fields, '{}') AS fields FROM series sr
		LEFT JOIN samples s ON s.series_id = sr.id AND s.bucket = sr.last_bucket WHERE sr.feed_id = ?`, feedID).Scan(&rows).Error
	if err != nil {
		return models.FeedShape{}, fmt.Errorf("read the shape of feed %d: %w", feedID, err)
	}
	series, fields := map[string]bool{}, map[string]bool{}
	corrupt := 0
	for _, r := range rows {
		series[r.Series] = true
		f, err := s.decodeFields(ctx, r.Fields)
		if err != nil {
			// One bad row must not hide the feed's other fields; it is logged, once a call.
			if corrupt++; corrupt == 1 {
				s.log.ErrorContext(ctx, "stored sample fields do not parse: the feed's field list lacks them",
					"feed_id", feedID, "series", r.Series, "err", err)
			}
			continue
		}
		for _, x := range f {
			fields[x.Name] = true
		}
	}
	if corrupt > 1 {
		s.log.ErrorContext(ctx, "more stored sample fields do not parse", "feed_id", feedID, "rows", corrupt)
	}
	return models.FeedShape{Series: sortedKeys(series), Fields: sortedKeys(fields)}, nil
}
