package sqlstore

import (
	"context"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
)

// PreviewBody parses a body as the feed's webhook would, and derives the
// points of the SLOs bound to the feed, storing nothing.
func (s *Store) PreviewBody(ctx context.Context, feed models.Feed, body []byte, contentType string, now time.Time, maxRows int) (models.Preview, error) {
	set, err := loadBindings(s.db.WithContext(ctx), feed.ID)
	if err != nil {
		return models.Preview{}, err
	}
	parsed, err := splunk.Parse(body, contentType, splunk.Options{TimeField: feed.TimeField, SeriesField: feed.SeriesField,
		NumericFields: set.numericFields(), ReceivedAt: now, MaxRows: maxRows})
	if err != nil {
		return models.Preview{}, err
	}
	set.checkRows(&parsed)
	names := map[int64]string{}
	var slos []models.SLO
	if err := s.db.WithContext(ctx).Find(&slos).Error; err != nil {
		return models.Preview{}, err
	}
	for _, x := range slos {
		names[x.ID] = x.Name
	}
	p := models.Preview{Shape: parsed.Shape, SID: parsed.SID, Rejected: parsed.Rejected}
	if p.Rejected == nil {
		p.Rejected = []models.Rejection{}
	}
	for _, r := range parsed.Rows {
		p.Rows = append(p.Rows, models.PreviewRow{Index: r.Index, Time: r.Time, TimeSource: r.TimeSource, Series: r.Series, Fields: r.Fields.Map()})
		for _, b := range set.forSeries(r.Series) {
			if good, total, ok := b.Derive(r.Fields); ok {
				p.Points = append(p.Points, models.PreviewPoint{Row: r.Index, SLO: names[b.SLOID], Good: good, Total: total})
			}
		}
	}
	return p, nil
}
