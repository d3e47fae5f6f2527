package charts

import (
	"math"
	"time"
)

// linearScale maps a value domain [d0, d1] onto a range [r0, r1] of SVG user
// units. For a y axis r0 is the bottom edge, because SVG's y grows downwards.
type linearScale struct {
	d0, d1, r0, r1 float64
}

// at maps v; a degenerate domain maps everything to the middle of the range
// rather than dividing by zero.
func (s linearScale) at(v float64) float64 {
	if s.d1 == s.d0 {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// timeScale maps instants in [t0, t1] onto [r0, r1]. It works on absolute time,
// so a day with a DST change is 23 or 25 hours wide, as it really was.
type timeScale struct {
	t0, t1 time.Time
	r0, r1 float64
}

func (s timeScale) at(t time.Time) float64 {
	span := s.t1.Sub(s.t0)
	if span <= 0 {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + float64(t.Sub(s.t0))/float64(span)*(s.r1-s.r0)
}

// clampedAt maps t and clamps it to the range, for marks (maintenance spans,
// projections) that may start before or end after the plotted period.
func (s timeScale) clampedAt(t time.Time) float64 {
	x := s.at(t)
	lo, hi := math.Min(s.r0, s.r1), math.Max(s.r0, s.r1)
	return math.Max(lo, math.Min(hi, x))
}
