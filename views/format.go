package views

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// The number formats of every page: one for counts, one for percentages, one
// for durations. Handlers use them to build view models and components to
// render the numbers they hold, so that a quantity reads the same everywhere
// ("3,147 of 4,996.6 bad events allowed", never "3,147 of 4996.6").

// Count writes a number of things (events, rows, deliveries, slices): digits
// grouped by thousands, no decimals for a whole number and one otherwise
// (an allowed number of bad events is (1 − target) × total):
// 3147 → "3,147", 4996.6 → "4,996.6".
func Count[N int | int64 | float64](n N) string {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	if f == math.Trunc(f) {
		return group(strconv.FormatFloat(f, 'f', 0, 64))
	}
	return group(strconv.FormatFloat(f, 'f', 1, 64))
}

// Percent writes a fraction as a percentage with the given decimals, digits
// grouped: (0.6234, 1) → "62.3%", (-12.5, 1) → "-1,250.0%". Negative
// decimals write the shortest exact form, for targets as people wrote them:
// (0.9995, -1) → "99.95%". Not a number → "—".
func Percent(f float64, decimals int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	p := f * 100
	if decimals < 0 {
		// 0.999 × 100 is 99.90000000000001 in floating point.
		return group(strconv.FormatFloat(math.Round(p*1e6)/1e6, 'f', -1, 64)) + "%"
	}
	return group(strconv.FormatFloat(p, 'f', decimals, 64)) + "%"
}

// Duration writes a length of time in its two largest units, rounded down:
// "45 s", "12 min", "2 h 5 min", "3 days 4 h". Below two days it counts
// hours, so that "26 h" is not read as "2 days 6 h".
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-d)
	}
	two := func(n int, unit string, m int, small string) string {
		if m == 0 {
			return strconv.Itoa(n) + " " + unit
		}
		return strconv.Itoa(n) + " " + unit + " " + strconv.Itoa(m) + " " + small
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		return two(int(d.Hours()), "h", int(d.Minutes())%60, "min")
	default:
		return two(int(d.Hours())/24, "days", int(d.Hours())%24, "h")
	}
}

// Value writes a measured value as it was sent (a latency, a field of a
// Splunk row), exactly, digits grouped: 1234.5678 → "1,234.5678", 0.0003 →
// "0.0003". Counts go through Count; values are not rounded because a row's
// field may be a small ratio.
func Value(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	return group(strconv.FormatFloat(f, 'f', -1, 64))
}

// DateTime writes an instant in the viewer's zone, naming the zone, with the
// year only when it is not the current one (in that zone):
// "Thu 3 Dec 15:04 CET", "Mon 29 Dec 2025 09:30 CET".
func DateTime(t, now time.Time, loc *time.Location) string {
	lt := t.In(loc)
	if lt.Year() != now.In(loc).Year() {
		return lt.Format("Mon 2 Jan 2006 15:04 MST")
	}
	return lt.Format("Mon 2 Jan 15:04 MST")
}

// RowTime writes the time of a row to the second, like DateTime:
// "Thu 3 Dec 15:04:05 CET".
func RowTime(t, now time.Time, loc *time.Location) string {
	lt := t.In(loc)
	if lt.Year() != now.In(loc).Year() {
		return lt.Format("Mon 2 Jan 2006 15:04:05 MST")
	}
	return lt.Format("Mon 2 Jan 15:04:05 MST")
}

// Date writes a day in the viewer's zone, with the year only when it is not
// the current one: "3 Dec", "29 Dec 2025".
func Date(t, now time.Time, loc *time.Location) string {
	lt := t.In(loc)
	if lt.Year() != now.In(loc).Year() {
		return lt.Format("2 Jan 2006")
	}
	return lt.Format("2 Jan")
}

// group puts thousands separators into a formatted decimal number:
// "-1234567.5" → "-1,234,567.5".
func group(s string) string {
	sign, rest := "", s
	if strings.HasPrefix(rest, "-") {
		sign, rest = "-", rest[1:]
	}
	whole, frac, hasFrac := strings.Cut(rest, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Itoa writes an id for a URL.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }

// label is the name of column i of a table whose columns are data fields,
// for the cell's data-label (its caption when the table becomes cards).
func label(columns []string, i int) string {
	if i < len(columns) {
		return columns[i]
	}
	return ""
}
