package charts

import (
	"math"
	"strconv"
	"time"
)

// SLIInput is an SLO's service-level indicator over time and its target.
type SLIInput struct {
	// ID prefixes element ids; unique on the page.
	ID string
	// Title names the chart; Summary states the conclusion (the <desc>).
	Title, Summary string
	// Location is the viewer's time zone; nil means UTC.
	Location *time.Location
	// Start and End bound the x axis; zero values fall back to the data.
	Start, End time.Time
	// Now places the "now" marker when it falls inside the period.
	Now time.Time
	// Points is the SLI as a fraction, e.g. 0.9993.
	Points []Point
	// Target is the objective as a fraction, e.g. 0.999.
	Target float64
	// Maintenance spans are shaded; Annotations are drawn as labelled rules.
	Maintenance []Span
	Annotations []Annotation
}

// SLI is the laid-out SLI chart: build it with NewSLI, render it with SLIChart.
type SLI struct {
	frame       frame
	line        string
	target      segment
	targetLabel label
	// below is the band under the target, drawn only when some point is in it.
	below      *box
	belowLabel *label
	lowest     *valueMark
}

// NewSLI lays out an SLI chart. The y range is chosen so the target line and
// every point are visible with room around them: an SLI of 99.93% against a
// 99.9% target would be a flat line on a 0–100% axis.
func NewSLI(in SLIInput) SLI {
	loc := orUTC(in.Location)
	start, end := period(in.Start, in.End, in.Points)
	pts := clip(in.Points, start, end)
	lo, hi, ok := valueRange(pts)
	if !ok {
		lo, hi = in.Target, in.Target
	}
	lo, hi = math.Min(lo, in.Target), math.Max(hi, in.Target)
	// Pad by a tenth of the range, and at least half the error budget
	// (1 − target), so the target never sits on the frame's edge.
	pad := math.Max((hi-lo)*0.1, (1-in.Target)*0.5)
	if !(pad > 0) {
		pad = 0.001
	}
	dLo, dHi, step := niceDomain(math.Max(0, lo-pad), math.Min(1, hi+pad), maxYTicks)
	dLo, dHi = math.Max(0, dLo), math.Min(1, dHi)
	pd := percentDecimals(step)

	c := SLI{frame: newFrame(frameSpec{
		id: in.ID, title: in.Title, summary: in.Summary, height: 320,
		start: start, end: end, now: in.Now, loc: loc,
		yLo: dLo, yHi: dHi, yStep: step,
		yLabel:      func(v float64) string { return formatPercent(v, pd) },
		maintenance: in.Maintenance, annotations: in.Annotations,
		empty: !ok,
	})}
	f := &c.frame
	yT := f.y.at(in.Target)
	c.target = segment{num(f.left), num(yT), num(f.right), num(yT)}
	c.targetLabel = label{X: num(f.right - 4), Y: num(yT - 7), Anchor: "end", Text: "target " + percentLabel(in.Target)}
	if ok {
		c.line = linePath(downsample(pts, maxPoints), f.x.at, f.y.at)
		if lo < in.Target {
			c.below = &box{num(f.left), num(yT), num(f.right - f.left), num(f.bottom - yT)}
			c.belowLabel = &label{X: num(f.left + 6), Y: num(yT + 6), Anchor: "start", Text: "below target"}
			c.lowest = c.lowestMark(pts)
		}
	}
	var items []legendItem
	if c.line != "" {
		items = append(items, legendItem{"sli", "SLI"})
	}
	items = append(items, legendItem{"target", "Target " + percentLabel(in.Target)})
	if c.below != nil {
		items = append(items, legendItem{"below", "Below target"})
	}
	f.Legend = append(items, f.markLegend()...)
	f.Table = c.table(pts, in.Target)
	return c
}

// lowestMark circles the worst point and labels it beside the dot, on the
// side with more room.
func (c *SLI) lowestMark(pts []Point) *valueMark {
	f := &c.frame
	var low Point
	found := false
	for _, p := range pts {
		if p.ok() && (!found || p.V < low.V) {
			low, found = p, true
		}
	}
	x, y := f.x.at(low.T), f.y.at(low.V)
	l := label{X: num(x + 9), Y: num(y), Anchor: "start", Text: "lowest " + formatPercent(low.V, 2)}
	if x > (f.left+f.right)/2 {
		l.X, l.Anchor = num(x-9), "end"
	}
	return &valueMark{X: num(x), Y: num(y), Label: l}
}

func (c *SLI) table(pts []Point, target float64) dataTable {
	f := &c.frame
	buckets, unit := f.tableBuckets(pts)
	// Show two more decimals than the error budget has, so 99.93% and 99.90%
	// against a 99.9% target read differently.
	dec := percentDecimals(1-target) + 2
	t := dataTable{
		Caption: "Lowest SLI in each " + unit + " (target " + percentLabel(target) + ")",
		Head:    []string{"Time of lowest", "SLI", "Against target"},
	}
	for _, b := range buckets {
		var low Point
		found := false
		for _, p := range b.pts {
			if p.ok() && (!found || p.V < low.V) {
				low, found = p, true
			}
		}
		if !found {
			continue
		}
		verdict := "meets"
		if low.V < target {
			verdict = "below target"
		}
		t.Rows = append(t.Rows, []string{f.when(low.T), formatPercent(low.V, dec), verdict})
	}
	return t
}

// percentLabel prints a target-like fraction with as many decimals as it has
// (0.999 → "99.9%", 0.9995 → "99.95%"), capped at four.
func percentLabel(frac float64) string {
	return strconv.FormatFloat(roundTo(frac*100, 4), 'f', -1, 64) + "%"
}
