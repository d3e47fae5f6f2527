package charts

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestDownsample(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	flat := func(n int) []Point {
		return fiveMinuteSeries(t0, func(i int) float64 { return 0.5 + 0.01*math.Sin(float64(i)/50) })[:n]
	}
	withAt := func(pts []Point, i int, v float64) []Point {
		out := slices.Clone(pts)
		out[i].V = v
		return out
	}
	withGap := func(pts []Point, from, to int) []Point {
		out := slices.Clone(pts)
		for i := from; i < to; i++ {
			out[i].NoData = true
		}
		return out
	}
	tests := []struct {
		name     string
		in       []Point
		max      int
		mustKeep []float64 // values that must survive
		wantGap  bool      // a no-data point must survive
	}{
		{name: "empty", in: nil, max: 500},
		{name: "short series is untouched", in: flat(300), max: 500},
		{name: "30 days of 5-minute points", in: flat(8640), max: 500},
		{name: "a single spike survives", in: withAt(flat(8640), 4321, 9.5), max: 500, mustKeep: []float64{9.5}},
		{name: "a single dip survives", in: withAt(flat(8640), 1234, -3), max: 500, mustKeep: []float64{-3}},
		{name: "spike and dip in the same bucket both survive", in: withAt(withAt(flat(8640), 5000, 7), 5001, -7), max: 500, mustKeep: []float64{7, -7}},
		{name: "negative values", in: fiveMinuteSeries(t0, func(i int) float64 { return -0.4 - float64(i)/1e5 }), max: 500},
		{name: "spike on the first point", in: withAt(flat(8640), 0, 4), max: 500, mustKeep: []float64{4}},
		{name: "spike on the last point", in: withAt(flat(8640), 8639, 4), max: 500, mustKeep: []float64{4}},
		{name: "a gap survives", in: withGap(flat(8640), 3000, 3100), max: 500, wantGap: true},
		{name: "gap and spike", in: withAt(withGap(flat(8640), 3000, 3100), 7000, 8), max: 500, wantGap: true, mustKeep: []float64{8}},
		{name: "all no data", in: withGap(flat(8640), 0, 8640), max: 500, wantGap: true},
		{name: "tiny budget", in: withAt(flat(1000), 500, 9), max: 4, mustKeep: []float64{9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := downsample(tt.in, tt.max)
			if len(got) > max(tt.max, 4) {
				t.Fatalf("%d points, want ≤ %d", len(got), tt.max)
			}
			if len(tt.in) == 0 {
				if len(got) != 0 {
					t.Fatalf("got %d points from none", len(got))
				}
				return
			}
			if len(tt.in) <= tt.max && len(got) != len(tt.in) {
				t.Fatalf("short series changed: %d → %d points", len(tt.in), len(got))
			}
			if got[0] != tt.in[0] || got[len(got)-1] != tt.in[len(tt.in)-1] {
				t.Errorf("first/last not kept: got %v … %v", got[0], got[len(got)-1])
			}
			for i := 1; i < len(got); i++ {
				if !got[i].T.After(got[i-1].T) {
					t.Fatalf("time goes backwards at %d: %v then %v", i, got[i-1].T, got[i].T)
				}
			}
			for _, v := range tt.mustKeep {
				if !slices.ContainsFunc(got, func(p Point) bool { return p.ok() && p.V == v }) {
					t.Errorf("value %v lost", v)
				}
			}
			if hasGap := slices.ContainsFunc(got, func(p Point) bool { return !p.ok() }); hasGap != tt.wantGap {
				t.Errorf("gap kept = %v, want %v", hasGap, tt.wantGap)
			}
			// Every kept point is a real sample, not an invented average.
			for _, p := range got {
				if !slices.Contains(tt.in, p) {
					t.Fatalf("point %v is not in the input", p)
				}
			}
		})
	}
}
