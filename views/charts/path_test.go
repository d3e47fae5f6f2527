package charts

import (
	"math"
	"testing"
	"time"
)

func TestNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{12, "12"},
		{12.04, "12"},
		{12.05, "12.1"},
		{12.34, "12.3"},
		{-0.04, "0"},
		{-3.26, "-3.3"},
		{0.1 + 0.2, "0.3"},
		{799.99, "800"},
	}
	for _, tt := range tests {
		if got := num(tt.in); got != tt.want {
			t.Errorf("num(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLinePath(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	x := func(t time.Time) float64 { return t.Sub(t0).Minutes() }
	y := func(v float64) float64 { return 100 - v }
	tests := []struct {
		name string
		pts  []Point
		want string
	}{
		{"empty", nil, ""},
		{"a line", []Point{{T: at(0), V: 10}, {T: at(1), V: 20.04}, {T: at(2), V: -5.55}}, "M0,90L1,80L2,105.6"},
		{"a gap starts a new subpath", []Point{{T: at(0), V: 1}, {T: at(1), V: 2}, {T: at(2), NoData: true}, {T: at(3), V: 3}, {T: at(4), V: 4}}, "M0,99L1,98M3,97L4,96"},
		{"a lone point is a dot", []Point{{T: at(0), V: 1}, {T: at(1), NoData: true}, {T: at(2), V: 2}, {T: at(3), NoData: true}}, "M0,99h0M2,98h0"},
		{"NaN and Inf are gaps", []Point{{T: at(0), V: 1}, {T: at(1), V: math.NaN()}, {T: at(2), V: 2}, {T: at(3), V: math.Inf(1)}, {T: at(4), V: 3}, {T: at(5), V: 4}}, "M0,99h0M2,98h0M4,97L5,96"},
		{"points that round together are written once", []Point{{T: at(0), V: 1}, {T: at(0), V: 1.01}, {T: at(1), V: 1}}, "M0,99L1,99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := linePath(tt.pts, x, y); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
