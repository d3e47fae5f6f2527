package models

import (
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
