package charts

import (
	"time"
)

// timeUnit is the calendar unit a time step counts in.
type timeUnit int

const (
	unitMinute timeUnit = iota
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitYear
)

// timeStep is a tick interval such as "every 6 hours" or "every Monday". Steps
// of an hour or more are counted on the viewer's wall clock, not in absolute
// time, so ticks stay on 00:00, 06:00, 12:00 … and on midnights through DST
// changes.
type timeStep struct {
	unit timeUnit
	n    int
}

// timeSteps lists candidate steps from finest to coarsest. Each divides the
// next larger unit evenly (24 h, 60 min), which keeps ticks aligned across
// day boundaries.
func timeSteps() []timeStep {
	return []timeStep{
		{unitMinute, 1}, {unitMinute, 2}, {unitMinute, 5}, {unitMinute, 10},
		{unitMinute, 15}, {unitMinute, 30},
		{unitHour, 1}, {unitHour, 2}, {unitHour, 3}, {unitHour, 6}, {unitHour, 12},
		{unitDay, 1}, {unitDay, 2},
		{unitWeek, 1}, {unitWeek, 2},
		{unitMonth, 1}, {unitMonth, 3}, {unitMonth, 6},
		{unitYear, 1}, {unitYear, 2}, {unitYear, 5}, {unitYear, 10},
	}
}

// approx is the nominal length of the step, used only to skip steps that
// would obviously produce far too many ticks before generating them.
func (s timeStep) approx() time.Duration {
	var d time.Duration
	switch s.unit {
	case unitMinute:
		d = time.Minute
	case unitHour:
		d = time.Hour
	case unitDay:
		d = 24 * time.Hour
	case unitWeek:
		d = 7 * 24 * time.Hour
	case unitMonth:
		d = 28 * 24 * time.Hour
	default:
		d = 365 * 24 * time.Hour
	}
	return time.Duration(s.n) * d
}

// timeTicks returns the ticks in [start, end] of the finest step that yields at
// most maxTicks of them, and that step. Ticks sit on wall-clock boundaries in
// loc: minutes, hours, local midnights, Mondays, the 1st of a month.
func timeTicks(start, end time.Time, loc *time.Location, maxTicks int) ([]time.Time, timeStep) {
	steps := timeSteps()
	if !end.After(start) {
		return nil, steps[0]
	}
	span := end.Sub(start)
	for _, s := range steps {
		if span/s.approx() > time.Duration(maxTicks) {
			continue
		}
		if ticks := s.ticks(start, end, loc); len(ticks) <= maxTicks {
			return ticks, s
		}
	}
	last := steps[len(steps)-1]
	return last.ticks(start, end, loc), last
}

// ticks generates the step's boundaries within [start, end].
func (s timeStep) ticks(start, end time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	add := func(t time.Time) {
		// Wall-clock iteration can produce the same instant twice (02:00 does
		// not exist on a spring-forward day and normalises to 03:00).
		if t.Before(start) || t.After(end) || (len(out) > 0 && !t.After(out[len(out)-1])) {
			return
		}
		out = append(out, t)
	}
	ls := start.In(loc)
	y, m, d := ls.Date()
	switch s.unit {
	case unitMinute:
		// Sub-hour steps are stepped in absolute time: every real zone offset
		// is a multiple of 15 minutes and every minute step divides 30, so
		// alignment survives DST, and the repeated hour of a fall-back night
		// gets its ticks instead of being skipped.
		t := start.Truncate(time.Minute)
		if t.Before(start) {
			t = t.Add(time.Minute)
		}
		for i := 0; i < 60 && t.In(loc).Minute()%s.n != 0; i++ {
			t = t.Add(time.Minute)
		}
		for ; !t.After(end); t = t.Add(time.Duration(s.n) * time.Minute) {
			add(t)
		}
	case unitHour:
		h := ls.Hour() - ls.Hour()%s.n
		for k := 0; ; k++ {
			t := time.Date(y, m, d, h+k*s.n, 0, 0, 0, loc)
			if t.After(end) {
				break
			}
			add(t)
		}
	case unitDay, unitWeek:
		for k := 0; ; k++ {
			t := time.Date(y, m, d+k, 0, 0, 0, 0, loc)
			if t.After(end) {
				break
			}
			// Counting days from a fixed epoch keeps a 2-day step evenly
			// spaced across month ends (31 → 2, not 31 → 1).
			cd := civilDay(t.In(loc))
			switch {
			case s.unit == unitDay && floorMod(cd, s.n) == 0:
				add(t)
			case s.unit == unitWeek && t.In(loc).Weekday() == time.Monday && floorMod(floorDiv(cd+3, 7), s.n) == 0:
				add(t)
			}
		}
	case unitMonth:
		for k := 0; ; k++ {
			t := time.Date(y, m+time.Month(k), 1, 0, 0, 0, 0, loc)
			if t.After(end) {
				break
			}
			if (int(t.Month())-1)%s.n == 0 {
				add(t)
			}
		}
	case unitYear:
		for k := 0; ; k++ {
			t := time.Date(y+k, time.January, 1, 0, 0, 0, 0, loc)
			if t.After(end) {
				break
			}
			if t.Year()%s.n == 0 {
				add(t)
			}
		}
	}
	return out
}

// label formats a tick for the axis: clock times for sub-day steps (with the
// date at midnight, so a reader sees where the day changes), dates above.
func (s timeStep) label(t time.Time, loc *time.Location) string {
	lt := t.In(loc)
	switch s.unit {
	case unitMinute, unitHour:
		if lt.Hour() == 0 && lt.Minute() == 0 {
			return lt.Format("2 Jan")
		}
		return lt.Format("15:04")
	case unitDay, unitWeek:
		return lt.Format("2 Jan")
	case unitMonth:
		if lt.Month() == time.January {
			return lt.Format("Jan 2006")
		}
		return lt.Format("Jan")
	default:
		return lt.Format("2006")
	}
}

// civilDay is the number of calendar days from 1970-01-01 to t's local date.
func civilDay(t time.Time) int {
	y, m, d := t.Date()
	return int(floorDiv64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400))
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorDiv(a, b int) int { return int(floorDiv64(int64(a), int64(b))) }

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }
