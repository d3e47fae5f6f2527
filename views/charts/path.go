package charts

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// num formats a coordinate rounded to one decimal without a trailing ".0".
// One decimal is finer than a device pixel at any sensible size, keeps the
// markup small and makes golden files stable.
func num(v float64) string {
	r := math.Round(v*10) / 10
	if r == 0 {
		return "0" // never "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// linePath returns the "d" attribute of a polyline through pts. Each run of
// points between gaps becomes its own subpath, so missing data shows as a
// break in the line. A lone point becomes a zero-length segment, which round
// line caps draw as a dot. Consecutive points that round to the same
// coordinates are written once.
func linePath(pts []Point, x func(time.Time) float64, y func(float64) float64) string {
	var b strings.Builder
	b.Grow(len(pts) * 12)
	inRun, runLen := false, 0
	var lastX, lastY string
	closeRun := func() {
		if inRun && runLen == 1 {
			b.WriteString("h0")
		}
		inRun, runLen = false, 0
	}
	for _, p := range pts {
		if !p.ok() {
			closeRun()
			continue
		}
		px, py := num(x(p.T)), num(y(p.V))
		if inRun && px == lastX && py == lastY {
			continue
		}
		if inRun {
			b.WriteByte('L')
		} else {
			b.WriteByte('M')
			inRun = true
		}
		b.WriteString(px)
		b.WriteByte(',')
		b.WriteString(py)
		lastX, lastY = px, py
		runLen++
	}
	closeRun()
	return b.String()
}
