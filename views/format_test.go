package views

import (
	"math"
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	for _, c := range []struct {
		name string
		in   float64
		want string
	}{
		{"zero", 0, "0"},
		{"under a thousand", 999, "999"},
		{"a thousand", 1000, "1,000"},
		{"events in a month", 4990771, "4,990,771"},
		// Allowed bad events = (1 − 0.999) × 4,990,771 = 4,990.771: one decimal, grouped.
		{"allowed bad events", 4990.771, "4,990.8"},
		{"a fraction below one", 0.45, "0.5"},
		{"negative", -1234567, "-1,234,567"},
		{"the ingest limit", 1e15, "1,000,000,000,000,000"},
		{"not a number", math.NaN(), "—"},
		{"infinite", math.Inf(1), "—"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Count(c.in); got != c.want {
				t.Errorf("Count(%v) = %q, want %q", c.in, got, c.want)
			}
		})
	}
	if got := Count(12345); got != "12,345" {
		t.Errorf("Count(int 12345) = %q", got)
	}
	if got := Count(int64(-7)); got != "-7" {
		t.Errorf("Count(int64 -7) = %q", got)
	}
}

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		name     string
		in       float64
		decimals int
		want     string
	}{
		{"budget left", 0.6234, 1, "62.3%"},
		{"all of it", 1, 1, "100.0%"},
		{"overspent", -0.437, 1, "-43.7%"},
		// Remaining = 1 − bad/allowed = 1 − 13.5 = −12.5: grouped like a count.
		{"overspent many times", -12.5, 1, "-1,250.0%"},
		{"SLI against 99.9%", 0.99953, 3, "99.953%"},
		{"SLI rounds", 0.999999, 3, "100.000%"},
		{"target as written", 0.999, -1, "99.9%"},
		{"target with two decimals", 0.9995, -1, "99.95%"},
		{"whole target", 0.99, -1, "99%"},
		{"no data", math.NaN(), 1, "—"},
		{"infinite", math.Inf(-1), 1, "—"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Percent(c.in, c.decimals); got != c.want {
				t.Errorf("Percent(%v, %d) = %q, want %q", c.in, c.decimals, got, c.want)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0 s"},
		{"seconds", 45 * time.Second, "45 s"},
		{"a minute", time.Minute, "1 min"},
		{"minutes, seconds dropped", 12*time.Minute + 59*time.Second, "12 min"},
		{"whole hours", 3 * time.Hour, "3 h"},
		{"hours and minutes", 2*time.Hour + 5*time.Minute, "2 h 5 min"},
		{"a day and more in hours", 26 * time.Hour, "26 h"},
		{"just under two days", 47*time.Hour + 59*time.Minute, "47 h 59 min"},
		{"two days", 48 * time.Hour, "2 days"},
		{"days and hours, minutes dropped", 3*24*time.Hour + 4*time.Hour + 30*time.Minute, "3 days 4 h"},
		{"a 30-day window", 30 * 24 * time.Hour, "30 days"},
		// 0.1% of 30 days = 43.2 minutes of allowed bad time.
		{"allowed bad time", 2592 * time.Second, "43 min"},
		{"negative", -90 * time.Minute, "-1 h 30 min"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Duration(c.in); got != c.want {
				t.Errorf("Duration(%v) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
