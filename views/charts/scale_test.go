package charts

import (
	"testing"
	"time"
)

func TestLinearScale(t *testing.T) {
	tests := []struct {
		name string
		s    linearScale
		v    float64
		want float64
	}{
		{"bottom of a y axis", linearScale{0, 1, 300, 20}, 0, 300},
		{"top of a y axis", linearScale{0, 1, 300, 20}, 1, 20},
		{"middle", linearScale{0, 1, 300, 20}, 0.5, 160},
		{"negative domain", linearScale{-0.5, 1, 300, 0}, 0, 200},
		{"beyond the domain extrapolates", linearScale{0, 1, 100, 0}, -0.5, 150},
		{"degenerate domain maps to the middle", linearScale{3, 3, 100, 0}, 3, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.at(tt.v); !near(got, tt.want) {
				t.Fatalf("at(%v) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestTimeScale(t *testing.T) {
	madrid := mustLoad(t, "Europe/Madrid")
	// 29 March 2026 in Madrid has 23 hours: the scale is absolute time, so
	// local noon is past the middle of the day.
	day := timeScale{
		t0: time.Date(2026, 3, 29, 0, 0, 0, 0, madrid),
		t1: time.Date(2026, 3, 30, 0, 0, 0, 0, madrid),
		r0: 0, r1: 230,
	}
	utc := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		s     timeScale
		at    time.Time
		want  float64
		clamp bool
	}{
		{"start", day, day.t0, 0, false},
		{"end", day, day.t1, 230, false},
		{"local noon on a 23-hour day", day, time.Date(2026, 3, 29, 12, 0, 0, 0, madrid), 110, false},
		{"before the start clamps", day, day.t0.Add(-time.Hour), 0, true},
		{"after the end clamps", day, day.t1.Add(time.Hour), 230, true},
		{"empty span maps to the middle", timeScale{utc, utc, 10, 20}, utc, 15, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.s.at(tt.at)
			if tt.clamp {
				got = tt.s.clampedAt(tt.at)
			}
			if !near(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
