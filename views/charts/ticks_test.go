package charts

import (
	"math"
	"slices"
	"testing"
)

func TestNiceDomain(t *testing.T) {
	tests := []struct {
		name           string
		lo, hi         float64
		max            int
		wantLo, wantHi float64
		wantStep       float64
		wantTicks      []float64
	}{
		{"budget 0–100%", 0, 1, 6, 0, 1, 0.2, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{"overspent budget", -0.42, 1, 6, -0.5, 1, 0.5, []float64{-0.5, 0, 0.5, 1}},
		{"latency up to 987 ms", 0, 987, 6, 0, 1000, 200, []float64{0, 200, 400, 600, 800, 1000}},
		{"SLI near 99.9%", 0.9975, 1, 6, 0.9975, 1, 0.0005, []float64{0.9975, 0.998, 0.9985, 0.999, 0.9995, 1}},
		{"SLI with a deep dip", 0.991, 1, 6, 0.99, 1, 0.002, []float64{0.99, 0.992, 0.994, 0.996, 0.998, 1}},
		{"all negative", -37, -3, 6, -40, 0, 10, []float64{-40, -30, -20, -10, 0}},
		{"tiny range", 0.99951, 0.99953, 6, 0.99951, 0.99953, 0.000005, []float64{0.99951, 0.999515, 0.99952, 0.999525, 0.99953}},
		{"flat series is padded", 5, 5, 6, 4.5, 5.5, 0.5, []float64{4.5, 5, 5.5}},
		{"flat zero", 0, 0, 6, -1, 1, 0.5, []float64{-1, -0.5, 0, 0.5, 1}},
		{"reversed bounds", 10, 0, 6, 0, 10, 2, []float64{0, 2, 4, 6, 8, 10}},
		{"large", 0, 123456, 6, 0, 150000, 50000, []float64{0, 50000, 100000, 150000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, step := niceDomain(tt.lo, tt.hi, tt.max)
			if lo != tt.wantLo || hi != tt.wantHi || step != tt.wantStep {
				t.Fatalf("niceDomain(%v, %v) = %v, %v, step %v; want %v, %v, step %v", tt.lo, tt.hi, lo, hi, step, tt.wantLo, tt.wantHi, tt.wantStep)
			}
			if got := ticksIn(lo, hi, step); !slices.Equal(got, tt.wantTicks) {
				t.Fatalf("ticks = %v, want %v", got, tt.wantTicks)
			}
		})
	}
}

// TestNiceStepIsOneTwoFive checks the property over many ranges: the step is
// 1, 2 or 5 × 10ⁿ and the tick count respects the maximum.
func TestNiceStepIsOneTwoFive(t *testing.T) {
	for _, span := range []float64{1e-6, 3e-5, 0.0007, 0.013, 0.42, 1, 7.3, 55, 980, 12345, 7e6} {
		for _, lo := range []float64{-span, 0, span / 3, 0.999} {
			for _, max := range []int{3, 5, 6, 8, 10} {
				step := niceStep(lo, lo+span, max)
				m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))
				if !(near(m, 1) || near(m, 2) || near(m, 5)) {
					t.Errorf("niceStep(%v, %v, %d) = %v: mantissa %v", lo, lo+span, max, step, m)
				}
				if n := tickCount(lo, lo+span, step); n > max {
					t.Errorf("niceStep(%v, %v, %d) = %v gives %d ticks", lo, lo+span, max, step, n)
				}
			}
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestFormat(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"percent", formatPercent(0.62, 0), "62%"},
		{"percent rounds", formatPercent(0.6249, 1), "62.5%"},
		{"negative percent uses a minus sign", formatPercent(-0.125, 1), "−12.5%"},
		{"negative zero is zero", formatPercent(-0.0001, 1), "0.0%"},
		{"SLI", formatPercent(0.99932, 3), "99.932%"},
		{"four digits stay compact", formatFixed(1500, 0), "1500"},
		{"five digits are grouped", formatFixed(12500, 0), "12,500"},
		{"grouped with decimals", formatFixed(-1234567.25, 2), "−1,234,567.25"},
		{"percent decimals for 20% steps", itoa(percentDecimals(0.2)), "0"},
		{"percent decimals for 0.05% steps", itoa(percentDecimals(0.0005)), "2"},
		{"target label", percentLabel(0.999), "99.9%"},
		{"target label 99.95", percentLabel(0.9995), "99.95%"},
		{"ms", formatMs(312.4), "312 ms"},
		{"small ms", formatMs(4.26), "4.3 ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
