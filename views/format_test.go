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

func TestValue(t *testing.T) {
	for _, c := range []struct {
		name string
		in   float64
		want string
	}{
		{"a latency as sent", 212.345, "212.345"},
		{"a large count, grouped", 4996600, "4,996,600"},
		// A small ratio must not round to zero, as Count would.
		{"an error rate", 0.0003, "0.0003"},
		{"negative", -1234.5, "-1,234.5"},
		{"not a number", math.NaN(), "—"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Value(c.in); got != c.want {
				t.Errorf("Value(%v) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// Dates carry their year when it is not the current one, in the viewer's
// zone (where New Year may not have come yet), and name the zone.
func TestDates(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name           string
		t              time.Time
		loc            *time.Location
		dateTime, date string
		row            string
	}{
		{"this year", time.Date(2026, 12, 10, 8, 30, 0, 0, time.UTC), madrid, "Thu 10 Dec 09:30 CET", "10 Dec", "Thu 10 Dec 09:30:00 CET"},
		{"summer time", time.Date(2026, 7, 1, 8, 30, 15, 0, time.UTC), madrid, "Wed 1 Jul 10:30 CEST", "1 Jul", "Wed 1 Jul 10:30:15 CEST"},
		// An exhaustion projected into next year says so.
		{"next year", time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC), madrid, "Mon 4 Jan 2027 13:00 CET", "4 Jan 2027", "Mon 4 Jan 2027 13:00:00 CET"},
		{"last year", time.Date(2025, 11, 30, 23, 0, 0, 0, time.UTC), time.UTC, "Sun 30 Nov 2025 23:00 UTC", "30 Nov 2025", "Sun 30 Nov 2025 23:00:00 UTC"},
		// 2027-01-01 03:00 UTC is still 2026 in New York.
		{"the viewer's year, not UTC's", time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC), ny, "Thu 31 Dec 22:00 EST", "31 Dec", "Thu 31 Dec 22:00:00 EST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := DateTime(c.t, now, c.loc); got != c.dateTime {
				t.Errorf("DateTime = %q, want %q", got, c.dateTime)
			}
			if got := Date(c.t, now, c.loc); got != c.date {
				t.Errorf("Date = %q, want %q", got, c.date)
			}
			if got := RowTime(c.t, now, c.loc); got != c.row {
				t.Errorf("RowTime = %q, want %q", got, c.row)
			}
		})
	}
}
