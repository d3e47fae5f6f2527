package models

import (
	"context"
	"sort"
	"time"
)

// Preview is what a webhook body would become, computed without storing it.
type Preview struct {
	Shape    string         `json:"shape"`
	SID      string         `json:"sid"`
	Rows     []PreviewRow   `json:"rows"`
	Rejected []Rejection    `json:"rejected"`
	Points   []PreviewPoint `json:"slo_points"`
}

// PreviewRow is one row that would be stored as a sample.
type PreviewRow struct {
	Index      int                `json:"row"`
	Time       time.Time          `json:"time"`
	TimeSource string             `json:"time_source"`
	Series     string             `json:"series"`
	Fields     map[string]float64 `json:"fields"`
}

// PreviewPoint is one SLO point a row would produce.
type PreviewPoint struct {
	Row   int     `json:"row"`
	SLO   string  `json:"slo"`
	Good  float64 `json:"good"`
	Total float64 `json:"total"`
}

// PreviewBody parses a body as the feed's webhook would, and derives the
// points of the SLOs bound to the feed, storing nothing.
func (s *Store) PreviewBody(ctx context.Context, feed Feed, body []byte, contentType string, now time.Time, maxRows int) (Preview, error) {
	set, err := loadBindings(s.db.WithContext(ctx), feed.ID)
	if err != nil {
		return Preview{}, err
	}
	parsed, err := ParseSplunk(body, contentType, ParseOptions{TimeField: feed.TimeField, SeriesField: feed.SeriesField,
		NumericFields: set.numericFields(), ReceivedAt: now, MaxRows: maxRows})
	if err != nil {
		return Preview{}, err
	}
	set.checkRows(&parsed)
	names := map[int64]string{}
	var slos []SLO
	if err := s.db.WithContext(ctx).Find(&slos).Error; err != nil {
		return Preview{}, err
	}
	for _, x := range slos {
		names[x.ID] = x.Name
	}
	p := Preview{Shape: parsed.Shape, SID: parsed.SID, Rejected: parsed.Rejected}
	if p.Rejected == nil {
		p.Rejected = []Rejection{}
	}
	index := map[string]int{}
	for _, r := range parsed.Rows {
		p.Rows = append(p.Rows, PreviewRow{Index: r.Index, Time: r.Time, TimeSource: r.TimeSource, Series: r.Series, Fields: r.Fields})
		index[string(r.Hash)] = r.Index
	}
	for _, d := range set.derive(parsed.Rows) {
		p.Points = append(p.Points, PreviewPoint{Row: index[string(d.rowHash)], SLO: names[d.sloID], Good: d.good, Total: d.total})
	}
	sort.SliceStable(p.Points, func(i, j int) bool { return p.Points[i].Row < p.Points[j].Row })
	return p, nil
}
