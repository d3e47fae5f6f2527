package charts

import (
	"math"
	"time"
)

// SparklineInput is a small remaining-budget trend for the overview table.
type SparklineInput struct {
	// ID prefixes element ids; unique on the page (one per table row).
	ID string
	// Title names what is drawn ("Checkout availability: budget, 30 days");
	// Summary is the conclusion a screen reader hears ("62% left").
	Title, Summary string
	// Start and End bound the x axis; zero values fall back to the data.
	// Passing the SLO window keeps rows comparable.
	Start, End time.Time
	// Points is the remaining budget as a fraction.
	Points []Point
}

// Sparkline is the laid-out sparkline: build it with NewSparkline, render it
// with SparklineChart.
type Sparkline struct {
	id, title, summary string
	line               string
	zeroY              string
	below              *box // the area under 0%, used to clip the overspent part
	dot                *valueMark
	neg                bool // last value overspent
	empty              bool
}

// Sparkline geometry, in user units: it is drawn at its natural size of
// sparkW × sparkH CSS pixels, so one unit is one pixel.
const (
	sparkW         = 120.0
	sparkH         = 28.0
	sparkPad       = 3.0
	sparkMaxPoints = 120 // two per pixel-pair is all 120 px can show
)

// NewSparkline lays out a sparkline on a fixed 0–100% scale (extended when
// the data leaves it) so that rows of the overview compare at a glance.
func NewSparkline(in SparklineInput) Sparkline {
	start, end := period(in.Start, in.End, in.Points)
	pts := clip(in.Points, start, end)
	c := Sparkline{id: sanitizeID(in.ID), title: in.Title, summary: in.Summary}
	lo, hi, ok := valueRange(pts)
	if !ok {
		c.empty = true
		if c.summary == "" {
			c.summary = "No data yet."
		}
		return c
	}
	x := timeScale{t0: start, t1: end, r0: sparkPad, r1: sparkW - sparkPad}
	y := linearScale{d0: math.Min(0, lo), d1: math.Max(1, hi), r0: sparkH - sparkPad, r1: sparkPad}
	c.line = linePath(downsample(pts, sparkMaxPoints), x.at, y.at)
	y0 := y.at(0)
	c.zeroY = num(crisp(y0))
	if lo < 0 {
		c.below = &box{"0", num(y0), num(sparkW), num(sparkH - y0)}
	}
	last, _ := lastAtOrBefore(pts, end)
	c.dot = &valueMark{X: num(x.at(last.T)), Y: num(y.at(last.V))}
	c.neg = last.V < 0
	return c
}
