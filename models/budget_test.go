package models

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every expected number below is worked out by hand in the comment beside it; the code
// under test is never used to produce an expectation.

func mustSLOWindow(t testing.TB, spec, tz string) Window {
	t.Helper()
	w, err := ParseWindow(spec, tz)
	if err != nil {
		t.Fatalf("ParseWindow(%q, %q): %v", spec, tz, err)
	}
	return w
}

func mustUTC(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// pointsEvery gives one point per step in [start, end), each with total events of which
// bad(at) are bad.
func pointsEvery(start, end time.Time, step time.Duration, total float64, bad func(time.Time) float64) []Point {
	var out []Point
	for at := start; at.Before(end); at = at.Add(step) {
		b := bad(at)
		out = append(out, Point{At: at, Good: total - b, Total: total})
	}
	return out
}

func TestParseWindow(t *testing.T) {
	good := []struct {
		name, spec, tz  string
		kind            WindowKind
		days            int
		str, back, zone string
		nominal         time.Duration
	}{
		{"28 days", "28d", "", WindowRolling, 28, "28-day rolling", "28d", "UTC", 28 * 24 * time.Hour},
		{"upper case and spaces", " 7D ", "Europe/Madrid", WindowRolling, 7, "7-day rolling", "7d", "Europe/Madrid", 7 * 24 * time.Hour},
		{"longest", "366d", "", WindowRolling, 366, "366-day rolling", "366d", "UTC", 366 * 24 * time.Hour},
		{"month in Madrid", "month", "Europe/Madrid", WindowMonth, 0, "calendar month (Europe/Madrid)", "month", "Europe/Madrid", 30 * 24 * time.Hour},
		{"OpenSLO 1M", "1M", "UTC", WindowMonth, 0, "calendar month (UTC)", "month", "UTC", 30 * 24 * time.Hour},
		{"quarter", "Quarter", "America/New_York", WindowQuarter, 0, "calendar quarter (America/New_York)", "quarter", "America/New_York", 90 * 24 * time.Hour},
		{"OpenSLO 1Q", "1Q", "", WindowQuarter, 0, "calendar quarter (UTC)", "quarter", "UTC", 90 * 24 * time.Hour},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			w := mustSLOWindow(t, tc.spec, tc.tz)
			if w.Kind() != tc.kind || w.Days() != tc.days || w.String() != tc.str || w.Spec() != tc.back ||
				w.TimeZone() != tc.zone || w.Nominal() != tc.nominal || w.Calendar() != (tc.kind != WindowRolling) {
				t.Errorf("got kind %s days %d %q spec %q zone %q nominal %s", w.Kind(), w.Days(), w.String(), w.Spec(), w.TimeZone(), w.Nominal())
			}
			if again := mustSLOWindow(t, w.Spec(), w.TimeZone()); again.String() != w.String() || again.Spec() != w.Spec() {
				t.Errorf("Spec/TimeZone do not round-trip: %v vs %v", again, w)
			}
		})
	}

	bad := []struct {
		name, spec, tz, field, msg string
	}{
		{"zero days", "0d", "", "window", `window "0d" is too short: use 1 to 366 days, e.g. 28d`},
		{"months are not a unit", "13mo", "", "window", `window "13mo" is not understood: write a number of days such as 28d, or month or quarter`},
		{"words", "abc", "", "window", `window "abc" is not understood`},
		{"minutes, not OpenSLO's 1M", "1m", "", "window", `window "1m" is not understood`},
		{"negative", "-5d", "", "window", `is not understood`},
		{"fraction of days", "1.5d", "", "window", `is not understood`},
		{"over 366 days", "367d", "", "window", `window "367d" is too long: use at most 366 days, or a calendar quarter`},
		{"absurdly long", "99999999999999999999d", "", "window", `is too long`},
		{"empty", "", "", "window", "window is required"},
		{"unknown zone", "month", "Mars/Olympus_Mons", "time_zone", `time zone "Mars/Olympus_Mons" is unknown: use an IANA name such as Europe/Madrid or UTC`},
		{"server-local zone", "month", "Local", "time_zone", `depends on the server`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWindow(tc.spec, tc.tz)
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || e.Field != tc.field || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("ParseWindow(%q, %q) = %#v, want %s error containing %q", tc.spec, tc.tz, err, tc.field, tc.msg)
			}
		})
	}
}

func TestWindowPeriod(t *testing.T) {
	madridMonth := mustSLOWindow(t, "month", "Europe/Madrid")
	tests := []struct {
		name       string
		w          Window
		at         string
		start, end string // UTC
		length     time.Duration
	}{
		// Rolling: [t − 28 × 24 h, t]; 2026-03-29 has a DST change in Madrid but rolling
		// windows count elapsed hours.
		{"rolling 28d ends at t", mustSLOWindow(t, "28d", "Europe/Madrid"), "2026-04-10T12:00:00Z", "2026-03-13T12:00:00Z", "2026-04-10T12:00:00Z", 672 * time.Hour},
		// Madrid is UTC+1 until 2026-03-29 02:00, then UTC+2: March starts 02-28 23:00Z and ends
		// 03-31 22:00Z, 31 × 24 − 1 = 743 h.
		{"Madrid March loses an hour", madridMonth, "2026-03-15T12:00:00Z", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", 743 * time.Hour},
		// October: 10-01 00:00+02 = 09-30 22:00Z to 11-01 00:00+01 = 10-31 23:00Z, 745 h.
		{"Madrid October gains an hour", madridMonth, "2026-10-15T12:00:00Z", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", 745 * time.Hour},
		// 02-28 23:00Z is already 1 March local: the instant of the boundary starts March.
		{"boundary instant belongs to the new month", madridMonth, "2026-02-28T23:00:00Z", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", 743 * time.Hour},
		// One second earlier is still 28 February local: February is 28 × 24 = 672 h.
		{"a second before is the old month", madridMonth, "2026-02-28T22:59:59Z", "2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z", 672 * time.Hour},
		// Q2 in UTC: April 30 + May 31 + June 30 = 91 days = 2184 h.
		{"UTC quarter", mustSLOWindow(t, "quarter", ""), "2026-05-20T00:00:00Z", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", 2184 * time.Hour},
		// Q1 in Madrid: 31 + 28 + 31 = 90 days, minus the spring DST hour = 2159 h.
		{"Madrid Q1", mustSLOWindow(t, "quarter", "Europe/Madrid"), "2026-02-10T00:00:00Z", "2025-12-31T23:00:00Z", "2026-03-31T22:00:00Z", 2159 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end := tc.w.Period(mustUTC(t, tc.at))
			if !start.Equal(mustUTC(t, tc.start)) || !end.Equal(mustUTC(t, tc.end)) {
				t.Errorf("Period = [%s, %s), want [%s, %s)", start.UTC(), end.UTC(), tc.start, tc.end)
			}
			if got := tc.w.Length(mustUTC(t, tc.at)); got != tc.length {
				t.Errorf("Length = %s, want %s", got, tc.length)
			}
		})
	}

	prev := []struct {
		name       string
		w          Window
		at         string
		start, end string
	}{
		// The month before Madrid's March: 01-31 23:00Z to 02-28 23:00Z.
		{"previous month", madridMonth, "2026-03-15T12:00:00Z", "2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z"},
		// Before Q1 2026 in UTC comes Q4 2025.
		{"previous quarter crosses the year", mustSLOWindow(t, "quarter", ""), "2026-01-01T00:00:00Z", "2025-10-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		// Rolling 7d at 04-15 12:00: [t − 14d, t − 7d].
		{"previous rolling window", mustSLOWindow(t, "7d", ""), "2026-04-15T12:00:00Z", "2026-04-01T12:00:00Z", "2026-04-08T12:00:00Z"},
	}
	for _, tc := range prev {
		t.Run(tc.name, func(t *testing.T) {
			start, end := tc.w.Previous(mustUTC(t, tc.at))
			if !start.Equal(mustUTC(t, tc.start)) || !end.Equal(mustUTC(t, tc.end)) {
				t.Errorf("Previous = [%s, %s), want [%s, %s)", start.UTC(), end.UTC(), tc.start, tc.end)
			}
		})
	}

	t.Run("MonthOf uses the zone even for rolling windows", func(t *testing.T) {
		// 03-31 23:30Z is 1 April 01:30 in Madrid: April is 03-31 22:00Z to 04-30 22:00Z.
		start, end := mustSLOWindow(t, "30d", "Europe/Madrid").MonthOf(mustUTC(t, "2026-03-31T23:30:00Z"))
		if !start.Equal(mustUTC(t, "2026-03-31T22:00:00Z")) || !end.Equal(mustUTC(t, "2026-04-30T22:00:00Z")) {
			t.Errorf("MonthOf = [%s, %s)", start.UTC(), end.UTC())
		}
	})
}

func TestParseTargetPercent(t *testing.T) {
	good := []struct {
		in   string
		want float64
	}{
		{"99.9", 0.999}, // exactly the double nearest 0.999, not 99.9/100
		{"99.9%", 0.999},
		{" 95 ", 0.95},
		{"50", 0.5},
		{"99.999", 0.99999},
		{"0.5", 0.005},
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTargetPercent(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("ParseTargetPercent(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}

	const rule = "target must be between 0 and 100 (exclusive), e.g. 99.9"
	bad := []struct {
		name, in, msg string
	}{
		{"zero", "0", "target 0 is out of range: " + rule},
		{"hundred", "100", "target 100% leaves no error budget: " + rule},
		{"hundred with decimals", "100.0", "leaves no error budget"},
		{"over a hundred", "100.5", "target 100.5 is out of range: " + rule},
		{"word", "abc", `target "abc" is not a number: ` + rule},
		{"NaN", "NaN", `target "NaN" is not a number: ` + rule},
		{"infinity", "Inf", "is not a number"},
		{"empty", "", "is not a number"},
		{"negative", "-1", "target -1 is out of range: " + rule},
		{"exponent", "9.99e1", "is not a number"},
		{"decimal comma", "99,9", `target "99,9": write the decimals with a dot, e.g. 99.9`},
		// 0.9999999999999999999 rounds to 1.0 as a double: no budget left to compute with.
		{"too many nines", "99.99999999999999999", "too close to 100"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTargetPercent(tc.in)
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || e.Field != "target" || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("ParseTargetPercent(%q) = %#v, want message containing %q", tc.in, err, tc.msg)
			}
		})
	}

	for _, f := range []float64{0, 1, -0.5, 1.5, math.NaN()} {
		if ValidateTarget(f) == nil {
			t.Errorf("ValidateTarget(%v) accepted", f)
		}
	}
	if err := ValidateTarget(0.999); err != nil {
		t.Errorf("ValidateTarget(0.999): %v", err)
	}
}

func TestTargetFor(t *testing.T) {
	w := mustSLOWindow(t, "month", "Europe/Madrid")
	// History, deliberately out of order: 99.9% from 1 Jan, 99.5% from 15 March 12:00 local.
	changes := []TargetChange{
		{From: mustUTC(t, "2026-03-15T11:00:00Z"), Target: 0.995},
		{From: mustUTC(t, "2025-12-31T23:00:00Z"), Target: 0.999},
	}
	monthEnd := func(at string) time.Time { _, end := w.Period(mustUTC(t, at)); return end }
	tests := []struct {
		name      string
		periodEnd time.Time
		want      float64
	}{
		{"the month of the change takes the new target, all of it", monthEnd("2026-03-02T00:00:00Z"), 0.995},
		{"the month before keeps the old target", monthEnd("2026-02-15T00:00:00Z"), 0.999},
		{"later months take the new target", monthEnd("2026-04-15T00:00:00Z"), 0.995},
		{"months before the history take the first target", monthEnd("2025-11-15T00:00:00Z"), 0.999},
		{"rolling window: the target in force now", mustUTC(t, "2026-03-15T11:00:01Z"), 0.995},
		{"rolling window: a second before the change", mustUTC(t, "2026-03-15T10:59:59Z"), 0.999},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := TargetFor(changes, tc.periodEnd); !ok || got != tc.want {
				t.Errorf("TargetFor(…, %s) = %v, %v; want %v", tc.periodEnd.UTC(), got, ok, tc.want)
			}
		})
	}

	t.Run("a change at the month boundary belongs to the new month", func(t *testing.T) {
		// 1 March 00:00 Madrid = 02-28 23:00Z, which is February's (exclusive) end.
		atBoundary := []TargetChange{{From: mustUTC(t, "2026-01-01T00:00:00Z"), Target: 0.999}, {From: mustUTC(t, "2026-02-28T23:00:00Z"), Target: 0.99}}
		if got, _ := TargetFor(atBoundary, monthEnd("2026-02-15T00:00:00Z")); got != 0.999 {
			t.Errorf("February = %v, want 0.999", got)
		}
		if got, _ := TargetFor(atBoundary, monthEnd("2026-03-15T00:00:00Z")); got != 0.99 {
			t.Errorf("March = %v, want 0.99", got)
		}
	})
	if _, ok := TargetFor(nil, time.Now()); ok {
		t.Error("TargetFor(nil) reported a target")
	}
}

func TestBudgetThresholdGood(t *testing.T) {
	tests := []struct {
		op           string
		value, limit float64
		want         bool
		err          string
	}{
		{"lte", 300, 300, true, ""},
		{"lte", 301, 300, false, ""},
		{"lt", 300, 300, false, ""},
		{"lt", 299.9, 300, true, ""},
		{"gte", 99.5, 99.5, true, ""},
		{"gt", 99.5, 99.5, false, ""},
		{" GT ", 100, 99.5, true, ""},
		{"eq", 1, 1, false, `comparison "eq" is not one of lte, lt, gte, gt`},
		{"lte", math.NaN(), 300, false, "not a number"},
	}
	for _, tc := range tests {
		got, err := ThresholdGood(tc.op, tc.value, tc.limit)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ThresholdGood(%q, %v, %v) error = %v, want %q", tc.op, tc.value, tc.limit, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ThresholdGood(%q, %v, %v) = %v, %v; want %v", tc.op, tc.value, tc.limit, got, err, tc.want)
		}
	}
}

func TestBudgetObjectiveValidate(t *testing.T) {
	w := mustSLOWindow(t, "28d", "")
	ok := Objective{Indicator: IndicatorRatio, Target: 0.999, Window: w, Interval: 5 * time.Minute}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid objective: %v", err)
	}
	for name, o := range map[string]Objective{
		"indicator": {Indicator: "latency", Target: 0.999, Window: w, Interval: time.Minute},
		"target":    {Indicator: IndicatorRatio, Target: 1, Window: w, Interval: time.Minute},
		"window":    {Indicator: IndicatorRatio, Target: 0.999, Interval: time.Minute},
		"interval":  {Indicator: IndicatorThreshold, Target: 0.999, Window: w},
	} {
		err := o.Validate()
		if e, ok := err.(*Error); !ok || e.Field != name {
			t.Errorf("%s: Validate() = %v, want an error on field %s", name, err, name)
		}
	}
}

// evaluateCase is one Evaluate scenario with the figures it must produce. NaN means "do not check".
type evaluateCase struct {
	name       string
	obj        Objective
	points     []Point
	maint      []Span
	now, last  time.Time
	status     SLOStatus
	remaining  float64
	sli        float64
	hasData    bool
	stale      bool
	lowTraffic bool
}

func TestEvaluate(t *testing.T) {
	now := mustUTC(t, "2026-04-10T12:00:00Z")
	fresh := now.Add(-time.Minute)
	rolling30 := mustSLOWindow(t, "30d", "")
	ratio := func(target float64, w Window, interval time.Duration) Objective {
		return Objective{Indicator: IndicatorRatio, Target: target, Window: w, Interval: interval}
	}
	nobl9 := []Point{{At: now.Add(-10 * 24 * time.Hour), Good: 111, Total: 118}}
	// An incident: two all-bad rows at now−2h and now−1h55m on top of 100 000 good events.
	incident := []Point{
		{At: now.Add(-5 * 24 * time.Hour), Good: 100000, Total: 100000},
		{At: now.Add(-2 * time.Hour), Good: 0, Total: 1000},
		{At: now.Add(-115 * time.Minute), Good: 0, Total: 1000},
	}
	apr1 := mustUTC(t, "2026-04-01T00:00:00Z")
	monthUTC := mustSLOWindow(t, "month", "UTC")

	// Threshold, rolling 1 day, hourly slices, 90%: slices at now−24h+k h for k = 0..23,
	// k = 5..8 missing, k = 1, 2 bad. 20 slices with data, 18 good.
	var slices24 []Point
	for k := 0; k < 24; k++ {
		if k >= 5 && k <= 8 {
			continue
		}
		good := 1.0
		if k == 1 || k == 2 {
			good = 0
		}
		slices24 = append(slices24, Point{At: now.Add(time.Duration(k-24) * time.Hour), Good: good, Total: 1})
	}

	tests := []evaluateCase{
		{
			// Nobl9: SLI = 111/118 = 0.940678; allowed = 0.05 × 118 = 5.9; bad 7;
			// remaining = 1 − 7/5.9 = −0.186441 (118.6% burnt). Low traffic: 5.9 ≥ 1, no.
			name: "Nobl9 example", obj: ratio(0.95, rolling30, 5*time.Minute), points: nobl9, now: now, last: fresh,
			status: StatusBreached, remaining: -0.186441, sli: 0.940678, hasData: true,
		},
		{
			// Same, but the feed stopped an hour ago (> 2 × 5m): breached wins, Stale still says so.
			name: "breached and stale", obj: ratio(0.95, rolling30, 5*time.Minute), points: nobl9, now: now, last: now.Add(-time.Hour),
			status: StatusBreached, remaining: -0.186441, sli: 0.940678, hasData: true, stale: true,
		},
		{
			// Rows arrive with total 0: nothing to judge, nothing spent; (1 − 0.999) × 0 < 1.
			name: "zero traffic", obj: ratio(0.999, rolling30, 5*time.Minute),
			points: []Point{{At: now.Add(-time.Hour)}, {At: now.Add(-30 * time.Minute)}}, now: now, last: fresh,
			status: StatusNoData, remaining: 1, sli: 0, lowTraffic: true,
		},
		{
			// The only point is 10 days old, outside a 7-day window, and so is the last data.
			name: "window with no samples, feed stopped", obj: ratio(0.999, mustSLOWindow(t, "7d", ""), 5*time.Minute),
			points: []Point{{At: now.Add(-240 * time.Hour), Good: 5, Total: 10}}, now: now, last: now.Add(-240 * time.Hour),
			status: StatusNoData, remaining: 1, stale: true, lowTraffic: true,
		},
		{
			name: "never received anything", obj: ratio(0.999, rolling30, 5*time.Minute), now: now,
			status: StatusNoData, remaining: 1, lowTraffic: true,
		},
		{
			// Last data 10m ago with a 5m feed: exactly 2 × interval is not yet late.
			name: "late by exactly twice the interval is not stale", obj: ratio(0.999, rolling30, 5*time.Minute), now: now, last: now.Add(-10 * time.Minute),
			points: []Point{{At: now.Add(-time.Hour), Good: 10, Total: 10}},
			status: StatusHealthy, remaining: 1, sli: 1, hasData: true, lowTraffic: true,
		},
		{
			name: "late by more than twice the interval is stale", obj: ratio(0.999, rolling30, 5*time.Minute), now: now, last: now.Add(-10*time.Minute - time.Second),
			points: []Point{{At: now.Add(-time.Hour), Good: 10, Total: 10}},
			status: StatusStale, remaining: 1, sli: 1, hasData: true, stale: true, lowTraffic: true,
		},
		{
			// Without maintenance: bad 2000 of 102 000; allowed 0.001 × 102 000 = 102;
			// remaining = 1 − 2000/102 = −18.607843.
			name: "incident without maintenance", obj: ratio(0.999, rolling30, 5*time.Minute), points: incident, now: now, last: fresh,
			status: StatusBreached, remaining: -18.607843, sli: 100000.0 / 102000, hasData: true,
		},
		{
			// Maintenance [now−2h10m, now−1h50m) covers both bad rows: only the 100 000 good remain.
			name: "maintenance over the incident", obj: ratio(0.999, rolling30, 5*time.Minute), points: incident, now: now, last: fresh,
			maint:  []Span{{Start: now.Add(-130 * time.Minute), End: now.Add(-110 * time.Minute)}},
			status: StatusHealthy, remaining: 1, sli: 1, hasData: true,
		},
		{
			// Maintenance ends at now−1h55m, exclusive: the row at now−1h55m counts.
			// bad 1000 of 101 000; allowed 101; remaining = 1 − 1000/101 = −8.900990.
			name: "maintenance end is exclusive", obj: ratio(0.999, rolling30, 5*time.Minute), points: incident, now: now, last: fresh,
			maint:  []Span{{Start: now.Add(-130 * time.Minute), End: now.Add(-115 * time.Minute)}, {Start: now, End: now}},
			status: StatusBreached, remaining: -8.900990, sli: 100000.0 / 101000, hasData: true,
		},
		{
			// Overlapping windows given out of order, [now−125m, now−110m) and
			// [now−130m, now−118m), join into one that covers both bad rows.
			name: "overlapping maintenance windows", obj: ratio(0.999, rolling30, 5*time.Minute), points: incident, now: now, last: fresh,
			maint: []Span{
				{Start: now.Add(-125 * time.Minute), End: now.Add(-110 * time.Minute)},
				{Start: now.Add(-130 * time.Minute), End: now.Add(-118 * time.Minute)},
			},
			status: StatusHealthy, remaining: 1, sli: 1, hasData: true,
		},
		{
			// Two rows share an At (two hosts), and a row for 3 days ago arrives after them
			// (out of order): all three count. bad 10+10+10 of 300, allowed 0.1 × 300 = 30:
			// remaining exactly 0, which is breached (float rounding alone would give −2e-16).
			name: "duplicate and late samples all count", obj: ratio(0.9, rolling30, 5*time.Minute), now: now, last: fresh,
			points: []Point{
				{At: now.Add(-2 * 24 * time.Hour), Good: 90, Total: 100},
				{At: now.Add(-2 * 24 * time.Hour), Good: 90, Total: 100},
				{At: now.Add(-3 * 24 * time.Hour), Good: 90, Total: 100},
			},
			status: StatusBreached, remaining: 0, sli: 0.9, hasData: true,
		},
		{
			// Threshold with missing slices: SLI = 18/20 = 0.9; allowed bad time = 0.1 × 24h
			// = 2.4h; bad time 2h; remaining = 1 − 2/2.4 = 0.166667. Missing slices are not bad.
			// The current burn rate (1h lookback, see tiers) is 0: healthy.
			name: "threshold with missing slices", obj: Objective{Indicator: IndicatorThreshold, Target: 0.9, Window: mustSLOWindow(t, "1d", ""), Interval: time.Hour},
			points: slices24, now: now, last: fresh,
			status: StatusHealthy, remaining: 1 - 2/2.4, sli: 0.9, hasData: true,
		},
		{
			// 3 minutes into April: 14 events, 1 bad, target 99.9%. Allowed = 0.014 events,
			// remaining = 1 − 1/0.014 = −70.428571. We do not hide it: breached, and low
			// traffic (0.014 < 1) says why. March's rows do not count.
			name: "first minutes of a month, one bad event", obj: ratio(0.999, monthUTC, time.Minute),
			points: []Point{
				{At: mustUTC(t, "2026-03-31T23:59:00Z"), Good: 0, Total: 50},
				{At: apr1, Good: 5, Total: 5},
				{At: apr1.Add(time.Minute), Good: 3, Total: 4},
				{At: apr1.Add(2 * time.Minute), Good: 5, Total: 5},
			},
			now: apr1.Add(3 * time.Minute), last: apr1.Add(2*time.Minute + 30*time.Second),
			status: StatusBreached, remaining: 1 - 1/0.014, sli: 13.0 / 14, hasData: true, lowTraffic: true,
		},
		{
			// 30 s into April, the newest bucket is 23:59–00:00: windows end at data time, so
			// the SLO still shows March, with its 23:59 row, until April's first bucket.
			name: "new month before its first bucket", obj: ratio(0.999, monthUTC, time.Minute),
			points: []Point{{At: mustUTC(t, "2026-03-31T23:59:00Z"), Good: 100, Total: 100}},
			now:    apr1.Add(30 * time.Second), last: apr1,
			status: StatusHealthy, remaining: 1, sli: 1, hasData: true, lowTraffic: true,
		},
		{
			// A row for 31 March arriving on 2 April lands in March, not in April's figures.
			name: "late sample lands in its own month", obj: ratio(0.999, monthUTC, time.Minute),
			points: []Point{
				{At: apr1.Add(time.Hour), Good: 2000, Total: 2000},
				{At: mustUTC(t, "2026-03-31T12:00:00Z"), Good: 0, Total: 500},
			},
			now: apr1.Add(48 * time.Hour), last: apr1.Add(48*time.Hour - time.Second),
			status: StatusHealthy, remaining: 1, sli: 1, hasData: true,
		},
		{
			// A row stamped a minute in the future (a skewed Splunk clock) waits for its time:
			// only the 100 good events count. (1 − 0.999) × 100 = 0.1 < 1: low traffic.
			name: "points after now are ignored", obj: ratio(0.999, rolling30, 5*time.Minute), now: now, last: fresh,
			points: []Point{{At: now.Add(-time.Hour), Good: 100, Total: 100}, {At: now.Add(time.Minute), Good: 0, Total: 100}},
			status: StatusHealthy, remaining: 1, sli: 1, hasData: true, lowTraffic: true,
		},
		{
			// Total 999 at 99.9%: 0.999 allowed bad events < 1.
			name: "low traffic just under one allowed error", obj: ratio(0.999, rolling30, 5*time.Minute),
			points: []Point{{At: now.Add(-48 * time.Hour), Good: 999, Total: 999}}, now: now, last: fresh,
			status: StatusHealthy, remaining: 1, sli: 1, hasData: true, lowTraffic: true,
		},
		{
			// Total 1000 at 99.9%: exactly one allowed bad event, not low traffic.
			name: "one allowed error is enough traffic", obj: ratio(0.999, rolling30, 5*time.Minute),
			points: []Point{{At: now.Add(-48 * time.Hour), Good: 1000, Total: 1000}}, now: now, last: fresh,
			status: StatusHealthy, remaining: 1, sli: 1, hasData: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.points)
			e := evalAt(tc.obj, tc.points, tc.maint, tc.now, tc.last)
			if e.Status != tc.status || !near(e.Remaining, tc.remaining, 1e-6) || !near(e.SLI, tc.sli, 1e-6) ||
				e.HasData != tc.hasData || e.Stale != tc.stale || e.LowTraffic != tc.lowTraffic {
				t.Errorf("got status %q remaining %.6f SLI %.6f hasData %v stale %v lowTraffic %v\nwant status %q remaining %.6f SLI %.6f hasData %v stale %v lowTraffic %v",
					e.Status, e.Remaining, e.SLI, e.HasData, e.Stale, e.LowTraffic,
					tc.status, tc.remaining, tc.sli, tc.hasData, tc.stale, tc.lowTraffic)
			}
			if !near(e.Consumed, 1-tc.remaining, 1e-6) {
				t.Errorf("Consumed = %v, want %v", e.Consumed, 1-tc.remaining)
			}
			if !slices.Equal(before, tc.points) {
				t.Error("Evaluate reordered the caller's points")
			}
		})
	}

	t.Run("Nobl9 figures in full", func(t *testing.T) {
		e := evalAt(ratio(0.95, rolling30, 5*time.Minute), nobl9, nil, now, fresh)
		// good 111, total 118, bad 7, allowed 5.9, consumed 7/5.9 = 1.186441 (118.6%).
		if e.Good != 111 || e.Total != 118 || e.Bad != 7 || !near(e.AllowedBad, 5.9, 1e-9) || !near(e.Consumed, 1.186441, 1e-6) {
			t.Errorf("good %v total %v bad %v allowed %v consumed %v", e.Good, e.Total, e.Bad, e.AllowedBad, e.Consumed)
		}
		// The row is 10 days old: no tier lookback (≤ 3 days) sees it, no projection.
		if e.BurnRateHasData || e.TimeToExhaustion != nil || e.FastestBurnRate != 0 {
			t.Errorf("burn rate %v (%v), tte %v, fastest %v", e.BurnRate, e.BurnRateHasData, e.TimeToExhaustion, e.FastestBurnRate)
		}
	})
}

func TestEvaluateCalendarMonthAcrossDST(t *testing.T) {
	// Threshold SLO, Madrid month, target 99%, 5-minute slices. March 2026 lasts 743 h, so
	// allowed bad time = 0.01 × 743 h = 7.43 h = 7h25m48s (744 h would give 7h26m24s).
	// Ten slices on 2–4 March, 3 of them bad: SLI 7/10; bad time 15m = 900 s;
	// remaining = 1 − 900/26748 = 0.966352. None falls in any burn-rate lookback.
	obj := Objective{Indicator: IndicatorThreshold, Target: 0.99, Window: mustSLOWindow(t, "month", "Europe/Madrid"), Interval: 5 * time.Minute}
	var pts []Point
	for k := 0; k < 10; k++ {
		good := 1.0
		if k < 3 {
			good = 0
		}
		pts = append(pts, Point{At: mustUTC(t, "2026-03-02T00:00:00Z").Add(time.Duration(k) * 6 * time.Hour), Good: good, Total: 1})
	}
	now := mustUTC(t, "2026-03-30T12:00:00Z") // after the DST change on the 29th
	e := evalAt(obj, pts, nil, now, now.Add(-time.Minute))
	if e.Length != 743*time.Hour || e.AllowedBadTime != 7*time.Hour+25*time.Minute+48*time.Second || e.BadTime != 15*time.Minute {
		t.Errorf("length %s, allowed bad time %s, bad time %s", e.Length, e.AllowedBadTime, e.BadTime)
	}
	// Allowed slices = 26748 s / 300 s = 89.16.
	if !near(e.AllowedBad, 89.16, 1e-9) || !near(e.Remaining, 1-900.0/26748, 1e-12) || !near(e.SLI, 0.7, 1e-12) {
		t.Errorf("allowed %v remaining %v SLI %v", e.AllowedBad, e.Remaining, e.SLI)
	}
	if !e.PeriodStart.Equal(mustUTC(t, "2026-02-28T23:00:00Z")) || !e.PeriodEnd.Equal(mustUTC(t, "2026-03-31T22:00:00Z")) || e.Status != StatusHealthy {
		t.Errorf("period [%s, %s) status %s", e.PeriodStart.UTC(), e.PeriodEnd.UTC(), e.Status)
	}
	// A time-slice budget is a share of the whole month: one bad 5-minute slice in the first
	// hour of a month spends 300/26748 = 1.12% of it (unlike a ratio budget, where one bad
	// event among few spends it all).
	first := evalAt(obj, []Point{{At: mustUTC(t, "2026-02-28T23:00:00Z"), Good: 0, Total: 1}}, nil, mustUTC(t, "2026-02-28T23:10:00Z"), mustUTC(t, "2026-02-28T23:06:00Z"))
	if !near(first.Remaining, 1-300.0/26748, 1e-12) || !first.LowTraffic {
		t.Errorf("first slice: remaining %v low traffic %v", first.Remaining, first.LowTraffic)
	}
}

func TestTiers(t *testing.T) {
	h, m := time.Hour, time.Minute
	d := 24 * h
	type lw struct{ long, short time.Duration }
	tests := []struct {
		name             string
		window, interval time.Duration
		want             [4]lw
	}{
		// The SRE Workbook preset, unchanged: every window is a multiple of 5m.
		{"30d, 5m feed: the preset", 30 * d, 5 * m, [4]lw{{h, 5 * m}, {6 * h, 30 * m}, {d, 2 * h}, {3 * d, 6 * h}}},
		// An hourly feed cannot measure 5 or 30 minutes: those become 1h.
		{"30d, hourly feed: short windows clamped", 30 * d, h, [4]lw{{h, h}, {6 * h, h}, {d, 2 * h}, {3 * d, 6 * h}}},
		// × 7/30: 1h → 14m, 5m → 70s ⇒ 2m (whole minutes), 6h → 84m, 30m → 7m, 1d → 336m,
		// 2h → 28m, 3d → 1008m, 6h → 84m.
		{"7d, 1m feed", 7 * d, m, [4]lw{{14 * m, 2 * m}, {84 * m, 7 * m}, {336 * m, 28 * m}, {1008 * m, 84 * m}}},
		// Same, rounded up to whole 5 minutes: 14m → 15m, 70s → 5m, 84m → 85m, 7m → 10m,
		// 336m → 340m, 28m → 30m, 1008m → 1010m, 84m → 85m.
		{"7d, 5m feed", 7 * d, 5 * m, [4]lw{{15 * m, 5 * m}, {85 * m, 10 * m}, {340 * m, 30 * m}, {1010 * m, 85 * m}}},
		// × 3: 3h/15m, 18h/90m, 3d/6h, 9d/18h.
		{"90d, 5m feed", 90 * d, 5 * m, [4]lw{{3 * h, 15 * m}, {18 * h, 90 * m}, {3 * d, 6 * h}, {9 * d, 18 * h}}},
		// × 1/30: 2m → 5m, 10s → 5m, 12m → 15m, 1m → 5m, 48m → 50m, 4m → 5m, 144m → 145m, 12m → 15m.
		{"1d, 5m feed: clamped to the interval", d, 5 * m, [4]lw{{5 * m, 5 * m}, {15 * m, 5 * m}, {50 * m, 5 * m}, {145 * m, 15 * m}}},
		// × 28/30 to the second: 56m/4m40s, 5h36m/28m, 22h24m/1h52m, 67h12m/5h36m.
		{"28d, no interval: whole seconds", 28 * d, 0, [4]lw{{56 * m, 4*m + 40*time.Second}, {5*h + 36*m, 28 * m}, {22*h + 24*m, h + 52*m}, {67*h + 12*m, 5*h + 36*m}}},
	}
	factors := [4]float64{14.4, 6, 3, 1}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tiers := Tiers(tc.window, tc.interval)
			if len(tiers) != 4 {
				t.Fatalf("%d tiers", len(tiers))
			}
			for i, tier := range tiers {
				if tier.Long != tc.want[i].long || tier.Short != tc.want[i].short || tier.Factor != factors[i] {
					t.Errorf("%s: %s/%s ×%v, want %s/%s ×%v", tier.Name, tier.Long, tier.Short, tier.Factor, tc.want[i].long, tc.want[i].short, factors[i])
				}
			}
		})
	}
	t.Run("budget share of the preset", func(t *testing.T) {
		// 14.4 × 1h/720h = 2%, 6 × 6/720 = 5%, 3 × 24/720 = 10%, 1 × 72/720 = 10%.
		want := [4]float64{0.02, 0.05, 0.10, 0.10}
		names := [4]string{"page quick", "page slow", "ticket quick", "ticket slow"}
		sev := [4]Severity{SeverityPage, SeverityPage, SeverityTicket, SeverityTicket}
		for i, tier := range Tiers(30*d, 5*m) {
			if !near(tier.BudgetSpent, want[i], 1e-12) || tier.Name != names[i] || tier.Severity != sev[i] {
				t.Errorf("tier %d: %+v", i, tier)
			}
		}
	})
	if Tiers(0, m) != nil {
		t.Error("Tiers(0) should be nil")
	}
	if r, ok := BurnRate(0, 0, 0.999); ok || r != 0 {
		t.Errorf("BurnRate with no events = %v, %v", r, ok)
	}
}

// TestTierFiring drives each tier on a 30-day rolling window at 99.9% with a 5-minute feed
// of 1000 events per point, from now−30d to now−5m (8640 points). A point with b bad events
// burns at b/1000/0.001 = b×.
func TestTierFiring(t *testing.T) {
	now := mustUTC(t, "2026-04-10T12:00:00Z")
	obj := Objective{Indicator: IndicatorRatio, Target: 0.999, Window: mustSLOWindow(t, "30d", ""), Interval: 5 * time.Minute}
	// recent burns at rate within the last `within`, 0 before.
	recent := func(within time.Duration, rate float64) func(time.Time) float64 {
		return func(at time.Time) float64 {
			if now.Sub(at) <= within {
				return rate
			}
			return 0
		}
	}
	series := func(bad func(time.Time) float64) []Point {
		return pointsEvery(now.Add(-30*24*time.Hour), now, 5*time.Minute, 1000, bad)
	}
	tests := []struct {
		name     string
		points   []Point
		firing   [4]bool
		long     [4]float64 // hand-computed long-window rates
		short    [4]float64
		status   SLOStatus
		remain   float64
		burnRate float64 // the 1-day rate
	}{
		{
			// Last hour at 20×: page quick long 20, short 20 → fires. Page slow 6h: 20/6 = 3.33;
			// 1d: 20/24 = 0.833; 3d: 20/72 = 0.278. Bad 12 × 20 = 240 of 8640 allowed:
			// remaining 1 − 240/8640 = 0.972222.
			name: "page quick fires", points: series(recent(time.Hour, 20)),
			firing: [4]bool{true, false, false, false}, long: [4]float64{20, 20.0 / 6, 20.0 / 24, 20.0 / 72}, short: [4]float64{20, 20, 20 * 12 / 24.0, 20 * 12 / 72.0},
			status: StatusAtRisk, remain: 1 - 240.0/8640, burnRate: 20.0 / 24,
		},
		{
			// Same hour, but the newest point (now−5m) is clean: long 11×20/12 = 18.33 > 14.4,
			// short 0: not firing. Burn over 1d = 220/288 = 0.764 < 1: healthy.
			name: "long above, short below: not firing", points: series(func(at time.Time) float64 {
				if now.Sub(at) == 5*time.Minute {
					return 0
				}
				return recent(time.Hour, 20)(at)
			}),
			// Page slow short 30m holds 6 points, 5 of them bad: 100/6.
			firing: [4]bool{}, long: [4]float64{220.0 / 12, 220.0 / 72, 220.0 / 288, 220.0 / 864}, short: [4]float64{0, 100.0 / 6, 220.0 / 24, 220.0 / 72},
			status: StatusHealthy, remain: 1 - 220.0/8640, burnRate: 220.0 / 288,
		},
		{
			// Only the newest point at 100×: short 100, long 100/12 = 8.33 < 14.4: not firing.
			// Page slow: long 100/72 = 1.39, short 100/6 = 16.7 — long below 6.
			name: "short above, long below: not firing", points: series(recent(5*time.Minute, 100)),
			firing: [4]bool{}, long: [4]float64{100.0 / 12, 100.0 / 72, 100.0 / 288, 100.0 / 864}, short: [4]float64{100, 100.0 / 6, 100.0 / 24, 100.0 / 72},
			status: StatusHealthy, remain: 1 - 100.0/8640, burnRate: 100.0 / 288,
		},
		{
			// Last 6h at 7×: page quick 7 < 14.4; page slow long 7 short 7 > 6 → fires;
			// 1d: 7×72/288 = 1.75 < 3; 3d: 7×72/864 = 0.583 < 1. Bad 72 × 7 = 504.
			name: "page slow fires", points: series(recent(6*time.Hour, 7)),
			firing: [4]bool{false, true, false, false}, long: [4]float64{7, 7, 1.75, 7 * 72 / 864.0}, short: [4]float64{7, 7, 7, 7},
			status: StatusAtRisk, remain: 1 - 504.0/8640, burnRate: 1.75,
		},
		{
			// Last day at 3.5×: pages no (3.5 < 6); ticket quick 3.5/3.5 > 3 → fires; ticket
			// slow long 3.5/3 = 1.167 > 1 and short 3.5 → fires too. Bad 288 × 3.5 = 1008;
			// remaining 1 − 1008/8640 = 0.883333. No page fires, but the 1-day rate 3.5 ≥ 1
			// makes a rolling window at risk.
			name: "ticket quick and slow fire", points: series(recent(24*time.Hour, 3.5)),
			firing: [4]bool{false, false, true, true}, long: [4]float64{3.5, 3.5, 3.5, 3.5 / 3}, short: [4]float64{3.5, 3.5, 3.5, 3.5},
			status: StatusAtRisk, remain: 1 - 1008.0/8640, burnRate: 3.5,
		},
		{
			// Last 3 days at 1.5×: ticket quick 1.5 < 3; ticket slow 1.5/1.5 > 1 → fires.
			// Bad 864 × 1.5 = 1296; remaining 1 − 1296/8640 = 0.85.
			name: "ticket slow fires", points: series(recent(72*time.Hour, 1.5)),
			firing: [4]bool{false, false, false, true}, long: [4]float64{1.5, 1.5, 1.5, 1.5}, short: [4]float64{1.5, 1.5, 1.5, 1.5},
			status: StatusAtRisk, remain: 0.85, burnRate: 1.5,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := evalAt(obj, tc.points, nil, now, now.Add(-time.Minute))
			for i, ts := range e.Tiers {
				if ts.Firing != tc.firing[i] || !near(ts.LongRate, tc.long[i], 1e-9) || !near(ts.ShortRate, tc.short[i], 1e-9) || !ts.LongHasData || !ts.ShortHasData {
					t.Errorf("%s: firing %v long %.4f short %.4f; want %v %.4f %.4f", ts.Name, ts.Firing, ts.LongRate, ts.ShortRate, tc.firing[i], tc.long[i], tc.short[i])
				}
			}
			if e.Status != tc.status || !near(e.Remaining, tc.remain, 1e-9) || !near(e.BurnRate, tc.burnRate, 1e-9) || e.BurnRateWindow != 24*time.Hour {
				t.Errorf("status %q remaining %v burn %v over %s; want %q %v %v", e.Status, e.Remaining, e.BurnRate, e.BurnRateWindow, tc.status, tc.remain, tc.burnRate)
			}
			maxLong := slices.Max(tc.long[:])
			if !near(e.FastestBurnRate, maxLong, 1e-9) {
				t.Errorf("fastest %v, want %v", e.FastestBurnRate, maxLong)
			}
		})
	}

	t.Run("a point at the window end is outside every window", func(t *testing.T) {
		// Windows end at now, exclusive: 1000 good at now−30m count, 1000 bad at now do not
		// (a bucket starting at the end belongs to the next window). The period holds good
		// events only; the page-quick long hour sees the good row (rate 0), the 5-minute
		// short window nothing.
		pts := []Point{{At: now.Add(-30 * time.Minute), Good: 1000, Total: 1000}, {At: now, Good: 0, Total: 1000}}
		e := evalAt(obj, pts, nil, now, now)
		q := e.Tiers[0]
		if e.Remaining != 1 || e.Total != 1000 || q.LongRate != 0 || !q.LongHasData || q.ShortHasData {
			t.Errorf("remaining %v, page quick %+v", e.Remaining, q)
		}
	})

	t.Run("an empty short window never fires", func(t *testing.T) {
		// Points stop at now−10m: [now−5m, now) is empty. Long 1h holds 11 points at 20×.
		pts := pointsEvery(now.Add(-30*24*time.Hour), now.Add(-5*time.Minute), 5*time.Minute, 1000, recent(time.Hour, 20))
		e := evalAt(obj, pts, nil, now, now.Add(-6*time.Minute))
		q := e.Tiers[0]
		if q.Firing || q.ShortHasData || !q.LongHasData || !near(q.LongRate, 20, 1e-9) {
			t.Errorf("page quick: %+v", q)
		}
	})
}

func TestEvaluateTimeToExhaustion(t *testing.T) {
	h := time.Hour
	// Ticket-quick case above: remaining 0.883333 at 3.5× on a 720 h window:
	// 0.883333 × 720 h / 3.5 = 181.714286 h.
	now := mustUTC(t, "2026-04-10T12:00:00Z")
	rollObj := Objective{Indicator: IndicatorRatio, Target: 0.999, Window: mustSLOWindow(t, "30d", ""), Interval: 5 * time.Minute}
	lastDay := func(rate float64) func(time.Time) float64 {
		return func(at time.Time) float64 {
			if now.Sub(at) <= 24*h {
				return rate
			}
			return 0
		}
	}
	e := evalAt(rollObj, pointsEvery(now.Add(-30*24*h), now, 5*time.Minute, 1000, lastDay(3.5)), nil, now, now)
	want := time.Duration((1 - 1008.0/8640) * 720 / 3.5 * float64(h))
	if e.TimeToExhaustion == nil || (*e.TimeToExhaustion-want).Abs() > time.Second || !e.ExhaustsAt.Equal(now.Add(*e.TimeToExhaustion)) {
		t.Fatalf("tte %v, want %s", e.TimeToExhaustion, want)
	}

	// At 0.5× the projection (0.983333 × 720 h / 0.5 = 1416 h = 59 days, since bad = 288 ×
	// 0.5 = 144 of 8640) falls beyond one window: not shown, and not at risk.
	e = evalAt(rollObj, pointsEvery(now.Add(-30*24*h), now, 5*time.Minute, 1000, lastDay(0.5)), nil, now, now)
	if e.TimeToExhaustion != nil || e.ExhaustsAt != nil || e.Status != StatusHealthy {
		t.Errorf("0.5×: tte %v status %s", e.TimeToExhaustion, e.Status)
	}

	// Not burning: no bad event in the last day → rate 0 → no projection.
	e = evalAt(rollObj, pointsEvery(now.Add(-30*24*h), now, 5*time.Minute, 1000, lastDay(0)), nil, now, now)
	if e.TimeToExhaustion != nil || e.ExhaustsAt != nil || !e.BurnRateHasData {
		t.Errorf("not burning: tte %v", e.TimeToExhaustion)
	}
	// Already exhausted: no projection either.
	e = evalAt(rollObj, []Point{{At: now.Add(-h), Good: 0, Total: 10}}, nil, now, now)
	if e.TimeToExhaustion != nil || e.Status != StatusBreached {
		t.Errorf("exhausted: tte %v status %s", e.TimeToExhaustion, e.Status)
	}

	// Calendar April (720 h) in UTC, 1.5× over the last day, clean before; points from
	// 1 April to now−5m, 1000 events each.
	calObj := Objective{Indicator: IndicatorRatio, Target: 0.999, Window: mustSLOWindow(t, "month", "UTC"), Interval: 5 * time.Minute}
	apr1 := mustUTC(t, "2026-04-01T00:00:00Z")
	calendar := []struct {
		name   string
		now    time.Time
		remain float64
		tte    time.Duration
		status SLOStatus
	}{
		// On 10 April: 2592 points, allowed 2592, bad 288 × 1.5 = 432: remaining 0.833333;
		// tte = 0.833333 × 720 h / 1.5 = 400 h → 26 April 16:00, before 1 May: at risk.
		{"exhaustion before the month ends", mustUTC(t, "2026-04-10T00:00:00Z"), 1 - 432.0/2592, 400 * h, StatusAtRisk},
		// On 25 April: 6912 points, allowed 6912: remaining 0.9375; tte = 0.9375 × 720 h / 1.5
		// = 450 h → 13 May 18:00, after the month: not shown, healthy.
		{"exhaustion after the month ends", mustUTC(t, "2026-04-25T00:00:00Z"), 1 - 432.0/6912, 0, StatusHealthy},
	}
	for _, tc := range calendar {
		t.Run(tc.name, func(t *testing.T) {
			day := func(at time.Time) float64 {
				if tc.now.Sub(at) <= 24*h {
					return 1.5
				}
				return 0
			}
			e := evalAt(calObj, pointsEvery(apr1, tc.now, 5*time.Minute, 1000, day), nil, tc.now, tc.now)
			gotTTE := time.Duration(0)
			if e.TimeToExhaustion != nil {
				gotTTE = *e.TimeToExhaustion
			}
			if !near(e.Remaining, tc.remain, 1e-9) || (gotTTE-tc.tte).Abs() > time.Second || e.Status != tc.status {
				t.Errorf("remaining %v tte %v status %s; want %v %s %s", e.Remaining, e.TimeToExhaustion, e.Status, tc.remain, tc.tte, tc.status)
			}
		})
	}
}

func TestBudgetSeries(t *testing.T) {
	t.Run("calendar: resets at the month boundary", func(t *testing.T) {
		// Month UTC, target 90%. Points: 03-31 22:00 {8 of 10}, 04-01 00:30 {10 of 10},
		// 04-01 01:00 {5 of 10}.
		obj := Objective{Indicator: IndicatorRatio, Target: 0.9, Window: mustSLOWindow(t, "month", "UTC"), Interval: 30 * time.Minute}
		pts := []Point{
			{At: mustUTC(t, "2026-03-31T22:00:00Z"), Good: 8, Total: 10},
			{At: mustUTC(t, "2026-04-01T00:30:00Z"), Good: 10, Total: 10},
			{At: mustUTC(t, "2026-04-01T01:00:00Z"), Good: 5, Total: 10},
		}
		from, to := mustUTC(t, "2026-03-31T22:00:00Z"), mustUTC(t, "2026-04-01T01:30:00Z")
		got := BudgetSeries(obj, pts, nil, from, to, 30*time.Minute)
		// March: bad 2 of 10, allowed 1 → 1 − 2 = −1 until the month ends.
		// 00:30: April [00:00, 00:30) has nothing yet → 1, no data. 01:00: 0 bad of 10 → 1.
		// 01:30: bad 5 of 20, allowed 2 → 1 − 5/2 = −1.5, SLI 15/20.
		// Windows end at t, exclusive: at 22:00 the 22:00 row is not in yet. At midnight the
		// window is still March (the period just before t), all of it.
		want := []BudgetPoint{
			{At: from, Remaining: 1},
			{At: from.Add(30 * time.Minute), Remaining: -1, SLI: 0.8, HasData: true},
			{At: from.Add(60 * time.Minute), Remaining: -1, SLI: 0.8, HasData: true},
			{At: from.Add(90 * time.Minute), Remaining: -1, SLI: 0.8, HasData: true},
			{At: from.Add(120 * time.Minute), Remaining: -1, SLI: 0.8, HasData: true},
			{At: from.Add(150 * time.Minute), Remaining: 1},
			{At: from.Add(180 * time.Minute), Remaining: 1, SLI: 1, HasData: true},
			{At: to, Remaining: -1.5, SLI: 0.75, HasData: true},
		}
		checkSeries(t, got, want)
	})

	t.Run("rolling: old errors age out", func(t *testing.T) {
		// 1-day window, 90%. d0 00:00 {5 of 10}, d0 12:00 {10 of 10}, d1 06:00 {9 of 10}.
		obj := Objective{Indicator: IndicatorRatio, Target: 0.9, Window: mustSLOWindow(t, "1d", ""), Interval: time.Hour}
		d0 := mustUTC(t, "2026-04-01T00:00:00Z")
		d1 := d0.Add(24 * time.Hour)
		pts := []Point{{At: d0, Good: 5, Total: 10}, {At: d0.Add(12 * time.Hour), Good: 10, Total: 10}, {At: d1.Add(6 * time.Hour), Good: 9, Total: 10}}
		// d1 00:00 over [d0 00:00, d1 00:00): bad 5 of 20, allowed 2 → −1.5.
		// d1 06:00 over [d0 06:00, d1 06:00): only the clean d0 12:00 row → 1.
		// d1 12:00 over [d0 12:00, d1 12:00): bad 1 of 20 → 1 − 1/2 = 0.5.
		// The last point is at `to` (d1 14:00) although steps are 6 h: over [d0 14:00, d1 14:00)
		// the clean d0 12:00 row has aged out too, leaving bad 1 of 10, allowed 1 → 0.
		want := []BudgetPoint{
			{At: d1, Remaining: -1.5, SLI: 0.75, HasData: true},
			{At: d1.Add(6 * time.Hour), Remaining: 1, SLI: 1, HasData: true},
			{At: d1.Add(12 * time.Hour), Remaining: 0.5, SLI: 0.95, HasData: true},
			{At: d1.Add(14 * time.Hour), Remaining: 0, SLI: 0.9, HasData: true},
		}
		checkSeries(t, BudgetSeries(obj, pts, nil, d1, d1.Add(14*time.Hour), 6*time.Hour), want)
	})

	t.Run("ends where Evaluate is", func(t *testing.T) {
		now := mustUTC(t, "2026-04-10T12:00:00Z")
		maint := []Span{{Start: now.Add(-40 * time.Hour), End: now.Add(-39 * time.Hour)}}
		for _, w := range []string{"30d", "month"} {
			obj := Objective{Indicator: IndicatorRatio, Target: 0.999, Window: mustSLOWindow(t, w, "Europe/Madrid"), Interval: 5 * time.Minute}
			// 60 days of points, a bad point every 7th.
			i := 0
			pts := pointsEvery(now.Add(-60*24*time.Hour), now, 5*time.Minute, 1000, func(time.Time) float64 { i++; return float64(i % 7 / 6) })
			s := BudgetSeries(obj, pts, maint, now.Add(-30*24*time.Hour), now, 7*time.Hour)
			e := evalAt(obj, pts, maint, now, now)
			last := s[len(s)-1]
			// Two implementations (prefix sums vs one backward pass) must agree.
			if !last.At.Equal(now) || !near(last.Remaining, e.Remaining, 1e-12) || !near(last.SLI, e.SLI, 1e-12) || !last.HasData {
				t.Errorf("%s: series ends %+v, Evaluate says remaining %v SLI %v", w, last, e.Remaining, e.SLI)
			}
		}
	})

	if s := BudgetSeries(Objective{}, nil, nil, time.Now(), time.Now(), 0); s != nil {
		t.Errorf("step 0 gave %v", s)
	}
}

func checkSeries(t *testing.T, got, want []BudgetPoint) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) || !near(g.Remaining, w.Remaining, 1e-9) || !near(g.SLI, w.SLI, 1e-9) || g.HasData != w.HasData {
			t.Errorf("point %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestSeriesIdealRemaining(t *testing.T) {
	w := mustSLOWindow(t, "month", "Europe/Madrid")
	start, end := w.Period(mustUTC(t, "2026-03-10T00:00:00Z"))
	tests := []struct {
		name string
		at   time.Time
		want float64
	}{
		{"start", start, 1},
		{"before", start.Add(-time.Hour), 1},
		{"half of 743 h", start.Add(371*time.Hour + 30*time.Minute), 0.5},
		{"end", end, 0},
		{"after", end.Add(time.Hour), 0},
	}
	for _, tc := range tests {
		if got := IdealRemaining(start, end, tc.at); !near(got, tc.want, 1e-12) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAttainment(t *testing.T) {
	madrid := mustSLOWindow(t, "month", "Europe/Madrid")
	mStart, mEnd := madrid.MonthOf(mustUTC(t, "2026-03-15T00:00:00Z")) // 02-28 23:00Z – 03-31 22:00Z
	ratioObj := Objective{Indicator: IndicatorRatio, Target: 0.95, Window: madrid, Interval: 5 * time.Minute}
	mar := func(s string) time.Time { return mustUTC(t, "2026-03-"+s) }

	// Threshold, 1-minute slices, judged at 99% (the target given, not obj.Target): allowed bad
	// time = 0.01 × 743 h = 26748 s = 445.8 slices. 1000 good slices from 2 March 00:00Z, then
	// 446 bad slices from 30 March 00:00Z: 446 × 60 = 26760 s > 26748 s → used 1.000449, not
	// met (with a 744 h month, 26784 s, it would have been met). The 446th bad slice is at
	// 07:25Z; the breach lasts to the month end 03-31 22:00Z: 38h35m.
	thrObj := Objective{Indicator: IndicatorThreshold, Target: 0.999, Window: madrid, Interval: time.Minute}
	thr := append(pointsEvery(mar("02T00:00:00Z"), mar("02T16:40:00Z"), time.Minute, 1, func(time.Time) float64 { return 0 }),
		pointsEvery(mar("30T00:00:00Z"), mar("30T07:26:00Z"), time.Minute, 1, func(time.Time) float64 { return 1 })...)

	tests := []struct {
		name    string
		obj     Objective
		points  []Point
		target  float64
		sli     float64
		used    float64
		breach  time.Duration
		met     bool
		hasData bool
	}{
		{
			// Nobl9 in March: 60 of 60 on the 10th, 51 of 58 on the 20th: 111 of 118 at 95%,
			// used 7/5.9 = 1.186441. Breach from 20 March 00:00Z to 31 March 22:00Z = 286 h.
			// A row from April (arriving late, listed first) is outside the month.
			name: "Nobl9 month, overspent", obj: ratioObj, target: 0.95,
			points: []Point{{At: mustUTC(t, "2026-04-02T00:00:00Z"), Good: 0, Total: 100}, {At: mar("10T00:00:00Z"), Good: 60, Total: 60}, {At: mar("20T00:00:00Z"), Good: 51, Total: 58}},
			sli:    111.0 / 118, used: 7 / 5.9, breach: 286 * time.Hour, hasData: true,
		},
		{
			// Add 100 good on the 25th: 211 of 218, allowed 10.9, used 7/10.9 = 0.642202. The
			// budget recovered on the 25th: breach 20th → 25th = 120 h. Met.
			name: "ratio budget recovers", obj: ratioObj, target: 0.95,
			points: []Point{{At: mar("10T00:00:00Z"), Good: 60, Total: 60}, {At: mar("20T00:00:00Z"), Good: 51, Total: 58}, {At: mar("25T00:00:00Z"), Good: 100, Total: 100}},
			sli:    211.0 / 218, used: 7 / 10.9, breach: 120 * time.Hour, met: true, hasData: true,
		},
		{
			// 999 of 1000 at 99.9%: SLI equals the target, the budget is exactly spent. Met, and
			// in breach (0% left) from 10 March 00:00Z to 31 March 22:00Z = 526 h.
			name: "exactly on target is met but spent", obj: ratioObj, target: 0.999,
			points: []Point{{At: mar("10T00:00:00Z"), Good: 999, Total: 1000}},
			sli:    0.999, used: 1, breach: 526 * time.Hour, met: true, hasData: true,
		},
		{
			name: "threshold month across DST", obj: thrObj, target: 0.99, points: thr,
			sli: 1000.0 / 1446, used: 26760.0 / 26748, breach: 38*time.Hour + 35*time.Minute, hasData: true,
		},
		{
			name: "no data is not met", obj: ratioObj, target: 0.95,
			points: []Point{{At: mustUTC(t, "2026-02-10T00:00:00Z"), Good: 1, Total: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Attainment(tc.obj, tc.points, nil, mStart, mEnd, tc.target)
			if !near(a.SLI, tc.sli, 1e-9) || !near(a.BudgetUsed, tc.used, 1e-9) || a.TimeInBreach != tc.breach || a.Met != tc.met || a.HasData != tc.hasData || a.Target != tc.target {
				t.Errorf("SLI %v used %v breach %s met %v hasData %v; want %v %v %s %v %v", a.SLI, a.BudgetUsed, a.TimeInBreach, a.Met, a.HasData, tc.sli, tc.used, tc.breach, tc.met, tc.hasData)
			}
		})
	}

	t.Run("maintenance excluded from the month", func(t *testing.T) {
		// The bad row of the Nobl9 month sits in maintenance: 60 of 60 left, nothing used.
		pts := []Point{{At: mar("10T00:00:00Z"), Good: 60, Total: 60}, {At: mar("20T00:00:00Z"), Good: 51, Total: 58}}
		a := Attainment(ratioObj, pts, []Span{{Start: mar("19T00:00:00Z"), End: mar("21T00:00:00Z")}}, mStart, mEnd, 0.95)
		if a.SLI != 1 || a.BudgetUsed != 0 || a.TimeInBreach != 0 || !a.Met || a.Total != 60 {
			t.Errorf("%+v", a)
		}
	})
}

func TestBudgetFormulaHelp(t *testing.T) {
	for _, must := range []string{
		string(StatusBreached), string(StatusAtRisk), string(StatusNoData), string(StatusStale), string(StatusHealthy),
		"low traffic", "118.6%", "14.4", "maintenance", "burn rate", "time slice", "calendar", "rolling",
		"applies to the whole period",
	} {
		if !strings.Contains(strings.ToLower(FormulaHelp), strings.ToLower(must)) {
			t.Errorf("FormulaHelp does not mention %q", must)
		}
	}
}

func BenchmarkEvaluate30d5m(b *testing.B) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	obj := Objective{Indicator: IndicatorRatio, Target: 0.999, Window: mustSLOWindow(b, "30d", ""), Interval: 5 * time.Minute}
	i := 0
	pts := pointsEvery(now.Add(-30*24*time.Hour), now, 5*time.Minute, 1000, func(time.Time) float64 { i++; return float64(i % 3) })
	if len(pts) != 8640 {
		b.Fatalf("%d points", len(pts))
	}
	maint := []Span{{Start: now.Add(-50 * time.Hour), End: now.Add(-48 * time.Hour)}}
	b.ReportAllocs()
	for b.Loop() {
		evalAt(obj, pts, maint, now, now)
	}
}

// BenchmarkBudgetSeries100k shows the series is linear: 100 000 points and 10 000 steps
// would be 10⁹ range sums if each step rescanned the points.
func BenchmarkBudgetSeries100k(b *testing.B) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	for _, w := range []string{"30d", "month"} {
		b.Run(w, func(b *testing.B) {
			obj := Objective{Indicator: IndicatorRatio, Target: 0.999, Window: mustSLOWindow(b, w, "Europe/Madrid"), Interval: time.Minute}
			i := 0
			pts := pointsEvery(now.Add(-100000*time.Minute), now, time.Minute, 1000, func(time.Time) float64 { i++; return float64(i % 5) })
			from := now.Add(-30 * 24 * time.Hour)
			step := now.Sub(from) / 10000
			b.ReportAllocs()
			for b.Loop() {
				if s := BudgetSeries(obj, pts, nil, from, now, step); len(s) < 10000 {
					b.Fatal(len(s))
				}
			}
		})
	}
}

// evalAt evaluates with windows ending at now, the newest data having ended at last (zero:
// none ever), as DataTimeOf places them for a feed whose newest bucket ended at last.
func evalAt(obj Objective, points []Point, maint []Span, now, last time.Time) Evaluation {
	dt := DataTime{End: now, Last: last, Stale: !last.IsZero() && now.Sub(last) > 2*obj.Interval}
	if !last.IsZero() && !dt.Stale && last.Before(now) && now.Sub(last) < obj.Interval {
		dt.End = last // the newest bucket ended less than an interval ago: windows end there
	}
	return Evaluate(obj, points, maint, dt, now)
}
