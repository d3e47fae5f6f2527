package handlers

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// The names handlers format numbers with. Each is one of views' three
// formats (Count, Percent, Duration) with the precision its quantity needs.

// pct writes a fraction as a percentage with one decimal: 0.6234 → "62.3%".
func pct(f float64) string { return views.Percent(f, 1) }

// sliPct writes an SLI precisely enough to compare with its target:
// 0.99953 against 99.9% → "99.953%".
func sliPct(f float64, target float64) string {
	digits := 2
	for t := 1 - target; t < 0.01 && digits < 5; t *= 10 {
		digits++
	}
	return views.Percent(f, digits)
}

// targetPct writes a target as people wrote it: 0.999 → "99.9%".
func targetPct(t float64) string { return views.Percent(t, -1) }

// burn writes a burn rate, a multiple of the sustainable rate: "2.4×", "143×".
func burn(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	if r >= 100 {
		return strconv.FormatFloat(r, 'f', 0, 64) + "×"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "×"
}

// ago writes how long ago t was, for data ages: "3 min ago", "2 h 5 min ago".
func ago(now, t time.Time) string {
	if d := now.Sub(t); d >= time.Minute {
		return views.Duration(d) + " ago"
	}
	return "just now"
}

// span writes a duration for people: "2 h 5 min", "3 days 4 h".
func span(d time.Duration) string { return views.Duration(d) }

// statusClass is the CSS modifier of a status: "at risk" → "at-risk".
func statusClass(s models.SLOStatus) string { return strings.ReplaceAll(string(s), " ", "-") }
