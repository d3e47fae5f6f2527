package models

import (
	"time"
)

// SLOReport is an SLO with its numbers at a moment: what the overview, the
// detail page, the TV view and the API show.
type SLOReport struct {
	SLODetail
	Eval        Evaluation    `json:"evaluation"`
	Sparkline   []BudgetPoint `json:"-"`
	Maintenance []Maintenance `json:"-"`
	LastDataAt  *time.Time    `json:"last_data_at"`
	// At is when the numbers were computed; Eval.End is the data time they are for.
	At time.Time `json:"evaluated_at"`
	// Version is the data version the numbers were computed for: caches of anything drawn
	// from them key on it.
	Version int64 `json:"version"`
	// Loaded counts this replica's loads of the settings: with Version, it tells a cache
	// that the settings shown beside the numbers changed.
	Loaded uint64 `json:"-"`
}

// LatencyPoint is one sample's latency percentiles, in the fields' unit.
type LatencyPoint struct {
	At     time.Time
	Values []float64 // per latency field; NaN when the sample lacks it
	Has    []bool
}

// ChartData is what an SLO's detail charts draw over a range ending at its data time.
type ChartData struct {
	// Budget is the remaining budget (and SLI) over the range, as Evaluate would say at
	// each point; its last point is the SLO's current numbers.
	Budget      []BudgetPoint
	Maintenance []Maintenance
	// Latency is the latency fields' values, thinned for drawing (peaks kept).
	Latency []LatencyPoint
	// LatencyStats are counted over every sample of the range, not the thinned ones.
	LatencyStats []LatencyStat
}

// LatencyStat sums up one latency field over a chart's range.
type LatencyStat struct {
	Field   string
	Samples int
	// Over counts samples above the SLO's threshold (for the field the SLO judges).
	Over   int
	Latest float64
	// LatestAt is the newest sample's time; zero when the range has none.
	LatestAt time.Time
}
