package charts

import (
	"slices"
	"testing"
	"time"
)

func TestTimeTicks(t *testing.T) {
	madrid := mustLoad(t, "Europe/Madrid")
	ny := mustLoad(t, "America/New_York")
	kathmandu := mustLoad(t, "Asia/Kathmandu") // UTC+5:45
	d := func(loc *time.Location, y int, m time.Month, day, h, min int) time.Time {
		return time.Date(y, m, day, h, min, 0, 0, loc)
	}
	tests := []struct {
		name       string
		start, end time.Time
		loc        *time.Location
		max        int
		wantStep   timeStep
		wantLabels []string
		// wantLocalMidnights checks every tick is 00:00 on the local clock.
		wantLocalMidnights bool
	}{
		{
			name:  "one UTC day in 3-hour steps",
			start: d(time.UTC, 2026, 3, 10, 0, 0), end: d(time.UTC, 2026, 3, 11, 0, 0), loc: time.UTC, max: 10,
			wantStep:   timeStep{unitHour, 3},
			wantLabels: []string{"10 Mar", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00", "11 Mar"},
		},
		{
			name:  "Madrid spring forward: 02:00 does not exist and is not repeated",
			start: d(madrid, 2026, 3, 29, 0, 0), end: d(madrid, 2026, 3, 29, 6, 0), loc: madrid, max: 10,
			wantStep:   timeStep{unitHour, 1},
			wantLabels: []string{"29 Mar", "01:00", "03:00", "04:00", "05:00", "06:00"},
		},
		{
			name:  "Madrid fall back: wall-clock hours, the repeated 02:00 once",
			start: d(madrid, 2026, 10, 25, 0, 0), end: d(madrid, 2026, 10, 25, 5, 0), loc: madrid, max: 10,
			wantStep:   timeStep{unitHour, 1},
			wantLabels: []string{"25 Oct", "01:00", "02:00", "03:00", "04:00", "05:00"},
		},
		{
			name:  "New York spring forward in 6-hour steps stays on 00/06/12/18",
			start: d(ny, 2026, 3, 7, 12, 0), end: d(ny, 2026, 3, 9, 0, 0), loc: ny, max: 10,
			wantStep:   timeStep{unitHour, 6},
			wantLabels: []string{"12:00", "18:00", "8 Mar", "06:00", "12:00", "18:00", "9 Mar"},
		},
		{
			name:  "New York fall back: days are local midnights 25 hours apart",
			start: d(ny, 2026, 10, 30, 0, 0), end: d(ny, 2026, 11, 4, 0, 0), loc: ny, max: 10,
			wantStep:           timeStep{unitDay, 1},
			wantLabels:         []string{"30 Oct", "31 Oct", "1 Nov", "2 Nov", "3 Nov", "4 Nov"},
			wantLocalMidnights: true,
		},
		{
			name:  "across a month boundary",
			start: d(time.UTC, 2026, 2, 26, 0, 0), end: d(time.UTC, 2026, 3, 4, 0, 0), loc: time.UTC, max: 10,
			wantStep:           timeStep{unitDay, 1},
			wantLabels:         []string{"26 Feb", "27 Feb", "28 Feb", "1 Mar", "2 Mar", "3 Mar", "4 Mar"},
			wantLocalMidnights: true,
		},
		{
			name:  "2-day steps stay evenly spaced across 31 March",
			start: d(madrid, 2026, 3, 24, 0, 0), end: d(madrid, 2026, 4, 10, 0, 0), loc: madrid, max: 10,
			wantStep:           timeStep{unitDay, 2},
			wantLabels:         []string{"24 Mar", "26 Mar", "28 Mar", "30 Mar", "1 Apr", "3 Apr", "5 Apr", "7 Apr", "9 Apr"},
			wantLocalMidnights: true,
		},
		{
			name:  "30 days in Madrid: Mondays, across the DST change",
			start: d(madrid, 2026, 3, 1, 0, 0), end: d(madrid, 2026, 3, 31, 0, 0), loc: madrid, max: 10,
			wantStep:           timeStep{unitWeek, 1},
			wantLabels:         []string{"2 Mar", "9 Mar", "16 Mar", "23 Mar", "30 Mar"},
			wantLocalMidnights: true,
		},
		{
			name:  "a quarter in 2-week steps",
			start: d(time.UTC, 2026, 1, 1, 0, 0), end: d(time.UTC, 2026, 4, 1, 0, 0), loc: time.UTC, max: 10,
			wantStep:   timeStep{unitWeek, 2},
			wantLabels: []string{"12 Jan", "26 Jan", "9 Feb", "23 Feb", "9 Mar", "23 Mar"},
		},
		{
			name:  "a year in months, January shows the year",
			start: d(time.UTC, 2025, 10, 15, 0, 0), end: d(time.UTC, 2026, 5, 1, 0, 0), loc: time.UTC, max: 10,
			wantStep:   timeStep{unitMonth, 1},
			wantLabels: []string{"Nov", "Dec", "Jan 2026", "Feb", "Mar", "Apr", "May"},
		},
		{
			name:  "Kathmandu quarter hours are on the local clock",
			start: d(kathmandu, 2026, 3, 10, 9, 7), end: d(kathmandu, 2026, 3, 10, 11, 0), loc: kathmandu, max: 10,
			wantStep:   timeStep{unitMinute, 15},
			wantLabels: []string{"09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00"},
		},
		{
			name:  "the viewer's zone, not UTC, decides the labels",
			start: d(time.UTC, 2026, 3, 10, 0, 0), end: d(time.UTC, 2026, 3, 10, 12, 0), loc: ny, max: 10,
			wantStep:   timeStep{unitHour, 2},
			wantLabels: []string{"20:00", "22:00", "10 Mar", "02:00", "04:00", "06:00", "08:00"},
		},
		{
			name:  "empty range",
			start: d(time.UTC, 2026, 3, 10, 0, 0), end: d(time.UTC, 2026, 3, 10, 0, 0), loc: time.UTC, max: 10,
			wantStep: timeStep{unitMinute, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks, step := timeTicks(tt.start, tt.end, tt.loc, tt.max)
			if step != tt.wantStep {
				t.Errorf("step = %+v, want %+v", step, tt.wantStep)
			}
			labels := make([]string, len(ticks))
			for i, tk := range ticks {
				labels[i] = step.label(tk, tt.loc)
			}
			if !slices.Equal(labels, tt.wantLabels) {
				t.Errorf("labels = %q\nwant     %q", labels, tt.wantLabels)
			}
			if len(ticks) > tt.max {
				t.Errorf("%d ticks, want ≤ %d", len(ticks), tt.max)
			}
			for i, tk := range ticks {
				if tk.Before(tt.start) || tk.After(tt.end) {
					t.Errorf("tick %v outside [%v, %v]", tk, tt.start, tt.end)
				}
				if i > 0 && !tk.After(ticks[i-1]) {
					t.Errorf("ticks not strictly increasing at %d: %v then %v", i, ticks[i-1], tk)
				}
				if lt := tk.In(tt.loc); tt.wantLocalMidnights && (lt.Hour() != 0 || lt.Minute() != 0) {
					t.Errorf("tick %v is not a local midnight", lt)
				}
			}
		})
	}
}

// TestTableBucketsAcrossDST checks that data-table periods follow local days
// (29 March 2026 has 23 hours in Madrid) and lose no point.
func TestTableBucketsAcrossDST(t *testing.T) {
	madrid := mustLoad(t, "Europe/Madrid")
	start := time.Date(2026, 3, 20, 0, 0, 0, 0, madrid)
	end := time.Date(2026, 4, 14, 0, 0, 0, 0, madrid)
	var pts []Point
	for tm := start; tm.Before(end); tm = tm.Add(time.Hour) {
		pts = append(pts, Point{T: tm, V: 1})
	}
	f := frame{start: start, end: end, loc: madrid}
	buckets, unit := f.tableBuckets(pts)
	if unit != "day" {
		t.Fatalf("unit = %q, want day", unit)
	}
	total := 0
	for _, b := range buckets {
		total += len(b.pts)
		want := 24
		if b.start.In(madrid).Day() == 29 {
			want = 23
		}
		if b.start.Before(end) && len(b.pts) != want {
			t.Errorf("day %s holds %d hourly points, want %d", b.start.In(madrid).Format("2 Jan"), len(b.pts), want)
		}
	}
	if total != len(pts) {
		t.Fatalf("buckets hold %d points, want %d", total, len(pts))
	}
}
