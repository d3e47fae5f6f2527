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
	// At is the moment the numbers are for.
	At time.Time `json:"evaluated_at"`
}

// LatencyPoint is one sample's latency percentiles, in the fields' unit.
type LatencyPoint struct {
	At     time.Time
	Values []float64 // per latency field; NaN when the sample lacks it
	Has    []bool
}
