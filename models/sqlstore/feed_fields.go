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
	for _, r := range rows {
		if series[r.FeedID] == nil {
			series[r.FeedID], fields[r.FeedID] = map[string]bool{}, map[string]bool{}
		}
		series[r.FeedID][r.Series] = true
		var f map[string]float64
		_ = json.Unmarshal([]byte(r.Fields), &f)
		for k := range f {
			fields[r.FeedID][k] = true
		}
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
