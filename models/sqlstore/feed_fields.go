package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/sitemetrics/sitemetrics/models"
)

// FeedShapes reads the last rows of every feed (or one) and lists the series
// values and numeric fields seen.
func (s *Store) FeedShapes(ctx context.Context) (map[int64]models.FeedShape, error) {
	var rows []struct {
		FeedID int64
		Series string
		Fields string
	}
	// Each series' newest sample is enough to show what feeds send, without
	// reading a table that grows forever.
	err := s.db.WithContext(ctx).Raw(`SELECT sr.feed_id, sr.key AS series, COALESCE(s.fields, '{}') AS fields FROM series sr
		LEFT JOIN samples s ON s.series_id = sr.id AND s.bucket = sr.last_bucket`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read feed shapes: %w", err)
	}
	series, fields := map[int64]map[string]bool{}, map[int64]map[string]bool{}
	corrupt := 0
	for _, r := range rows {
		if series[r.FeedID] == nil {
			series[r.FeedID], fields[r.FeedID] = map[string]bool{}, map[string]bool{}
		}
		series[r.FeedID][r.Series] = true
		var f map[string]float64
		if err := json.Unmarshal([]byte(r.Fields), &f); err != nil {
			// One bad row must not hide every feed's fields; it is logged, once a call.
			if corrupt++; corrupt == 1 {
				s.log.ErrorContext(ctx, "stored sample fields do not parse: the feed's field list lacks them",
					"feed_id", r.FeedID, "series", r.Series, "err", err)
			}
			continue
		}
		for k := range f {
			fields[r.FeedID][k] = true
		}
	}
	if corrupt > 1 {
		s.log.ErrorContext(ctx, "more stored sample fields do not parse", "rows", corrupt)
	}
	out := map[int64]models.FeedShape{}
	for id := range series {
		out[id] = models.FeedShape{Series: sortedKeys(series[id]), Fields: sortedKeys(fields[id])}
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
