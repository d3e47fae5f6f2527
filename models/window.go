package models

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// WindowKind says whether an SLO window rolls with the clock or follows the calendar.
type WindowKind string

// The window kinds.
const (
	WindowRolling WindowKind = "rolling" // the last N days, moving with now
	WindowMonth   WindowKind = "month"   // the calendar month in the SLO's time zone
	WindowQuarter WindowKind = "quarter" // the calendar quarter in the SLO's time zone
)

// MaxWindowDays is the longest rolling window, a leap year (Nobl9 stops at the same place):
// a budget that long no longer tells anyone what to do this week; that is a report's job.
const MaxWindowDays = 366

// day is 24 hours: rolling windows count elapsed time, so a DST change does not stretch them.
const day = 24 * time.Hour

// Window is the time span an SLO is judged over: a rolling number of days or a calendar
// month or quarter in an IANA time zone. Make one with ParseWindow; the zero Window is invalid.
type Window struct {
	kind WindowKind
	days int            // rolling only
	loc  *time.Location // calendar boundaries; kept for rolling windows too (monthly reports)
}

var windowDaysRE = regexp.MustCompile(`^([0-9]+)d$`)

// ParseWindow reads a window as the SLO form and OpenSLO write it: "Nd" for a rolling window of
// N days (1–366), or "month" / "quarter" (also OpenSLO's "1M" / "1Q") for a calendar window.
// tz is an IANA zone name; empty means UTC. Rolling windows keep the zone only for monthly reports.
func ParseWindow(spec, tz string) (Window, error) {
	w, err := parseWindowSpec(spec)
	if err != nil {
		return Window{}, err
	}
	if w.loc, err = loadZone(tz); err != nil {
		return Window{}, err
	}
	return w, nil
}

func parseWindowSpec(spec string) (Window, error) {
	s := strings.TrimSpace(spec)
	// "1M" is OpenSLO's month; it must be read before lowercasing turns it into minutes.
	switch s {
	case "1M":
		return Window{kind: WindowMonth}, nil
	case "1Q":
		return Window{kind: WindowQuarter}, nil
	}
	switch s = strings.ToLower(s); s {
	case "":
		return Window{}, FieldErrorf("window", "window is required: write a number of days such as 28d, or month or quarter")
	case "month":
		return Window{kind: WindowMonth}, nil
	case "quarter":
		return Window{kind: WindowQuarter}, nil
	}
	m := windowDaysRE.FindStringSubmatch(s)
	if m == nil {
		return Window{}, FieldErrorf("window", "window %q is not understood: write a number of days such as 28d, or month or quarter", spec)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > MaxWindowDays { // Atoi fails only on overflow here: the digits matched
		return Window{}, FieldErrorf("window", "window %q is too long: use at most %d days, or a calendar quarter", spec, MaxWindowDays)
	}
	if n < 1 {
		return Window{}, FieldErrorf("window", "window %q is too short: use 1 to %d days, e.g. 28d", spec, MaxWindowDays)
	}
	return Window{kind: WindowRolling, days: n}, nil
}

// LoadZone reads an IANA time zone name ("" is UTC), refusing names that
// depend on the server ("Local"); the error names the field time_zone.
func LoadZone(tz string) (*time.Location, error) { return loadZone(tz) }

func loadZone(tz string) (*time.Location, error) {
	tz = strings.TrimSpace(tz)
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	// "Local" is whatever the server runs in, so the same SLO would change with the host.
	if strings.EqualFold(tz, "local") {
		return nil, FieldErrorf("time_zone", "time zone %q depends on the server: use an IANA name such as Europe/Madrid or UTC", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, FieldErrorf("time_zone", "time zone %q is unknown: use an IANA name such as Europe/Madrid or UTC", tz)
	}
	return loc, nil
}

// IsZero reports whether w was never parsed.
func (w Window) IsZero() bool { return w.kind == "" }

// Kind says rolling, month or quarter.
func (w Window) Kind() WindowKind { return w.kind }

// Calendar reports whether w follows calendar boundaries (month or quarter).
func (w Window) Calendar() bool { return w.kind == WindowMonth || w.kind == WindowQuarter }

// Days is the length of a rolling window in days, 0 for calendar windows.
func (w Window) Days() int { return w.days }

// Location is the window's time zone (UTC when none was given).
func (w Window) Location() *time.Location {
	if w.loc == nil {
		return time.UTC
	}
	return w.loc
}

// TimeZone is the IANA name of the window's zone, as ParseWindow accepts it back.
func (w Window) TimeZone() string { return w.Location().String() }

// Spec is the window as ParseWindow accepts it back: "28d", "month" or "quarter".
func (w Window) Spec() string {
	if w.kind == WindowRolling {
		return strconv.Itoa(w.days) + "d"
	}
	return string(w.kind)
}

// String is the window for people: "28-day rolling", "calendar month (Europe/Madrid)".
func (w Window) String() string {
	switch w.kind {
	case WindowRolling:
		return fmt.Sprintf("%d-day rolling", w.days)
	case WindowMonth, WindowQuarter:
		return fmt.Sprintf("calendar %s (%s)", w.kind, w.TimeZone())
	}
	return "no window"
}

// Period is the stretch of time that t is judged in. Rolling: [t − N days, t], both ends
// counted, so end is t itself. Calendar: [first instant of t's local month or quarter, first
// instant of the next one), end exclusive; local midnight makes these DST-aware.
func (w Window) Period(t time.Time) (start, end time.Time) {
	switch w.kind {
	case WindowRolling:
		return t.Add(-time.Duration(w.days) * day), t
	case WindowMonth:
		y, m, _ := t.In(w.Location()).Date()
		return w.local(y, m), w.local(y, m+1)
	case WindowQuarter:
		y, m, _ := t.In(w.Location()).Date()
		q := m - (m-1)%3 // January, April, July or October
		return w.local(y, q), w.local(y, q+3)
	}
	return t, t
}

// local is midnight on the first of month m (time.Date normalises m = 13 to next January).
func (w Window) local(y int, m time.Month) time.Time {
	return time.Date(y, m, 1, 0, 0, 0, 0, w.Location())
}

// Length is how long the period containing t lasts: N × 24 h for a rolling window; the real
// elapsed time for a calendar one, so a month with a DST change is 743 h or 745 h, not 744 h.
func (w Window) Length(t time.Time) time.Duration {
	start, end := w.Period(t)
	return end.Sub(start)
}

// Nominal is a length that does not change from period to period: N days for rolling
// windows, 30 days for a month, 90 days for a quarter. Burn-rate tiers scale with it, so
// alerting does not shift between a 28-day February and a 31-day March.
func (w Window) Nominal() time.Duration {
	switch w.kind {
	case WindowRolling:
		return time.Duration(w.days) * day
	case WindowMonth:
		return 30 * day
	case WindowQuarter:
		return 90 * day
	}
	return 0
}

// Previous is the period just before the one containing t: the previous calendar month or
// quarter, or for a rolling window [t − 2N days, t − N days].
func (w Window) Previous(t time.Time) (start, end time.Time) {
	start, _ = w.Period(t)
	if w.kind == WindowRolling {
		return start.Add(-time.Duration(w.days) * day), start
	}
	return w.Period(start.Add(-time.Nanosecond))
}

// MonthOf is the calendar month containing t in the window's time zone, [start, end), whatever
// the window's kind: monthly reports judge every SLO by the month its owners live in.
func (w Window) MonthOf(t time.Time) (start, end time.Time) {
	y, m, _ := t.In(w.Location()).Date()
	return w.local(y, m), w.local(y, m+1)
}
