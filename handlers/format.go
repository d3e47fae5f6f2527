package handlers

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// pct writes a fraction as a percentage with one decimal: 0.6234 → "62.3%".
func pct(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// sliPct writes an SLI precisely enough to compare with its target:
// 0.99953 against 99.9% → "99.953%".
func sliPct(f float64, target float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	digits := 2
	for t := 1 - target; t < 0.01 && digits < 5; t *= 10 {
		digits++
	}
	s := strconv.FormatFloat(f*100, 'f', digits, 64)
	return s + "%"
}

// targetPct writes a target as people wrote it: 0.999 → "99.9%".
func targetPct(t float64) string { return models.FormatPercent(t) + "%" }

// burn writes a burn rate: "2.4×".
func burn(r float64) string {
	if r >= 100 {
		return strconv.FormatFloat(r, 'f', 0, 64) + "×"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "×"
}

// ago writes how long ago t was, for data ages: "3 min ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min ago", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// span writes a duration for people: "2 h 5 min", "3 days 4 h".
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		if m := int(d.Minutes()) % 60; m != 0 {
			return fmt.Sprintf("%d h %d min", int(d.Hours()), m)
		}
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		days, h := int(d.Hours())/24, int(d.Hours())%24
		if h != 0 {
			return fmt.Sprintf("%d days %d h", days, h)
		}
		return fmt.Sprintf("%d days", days)
	}
}

// statusClass is the CSS modifier of a status: "at risk" → "at-risk".
func statusClass(s models.SLOStatus) string { return strings.ReplaceAll(string(s), " ", "-") }
