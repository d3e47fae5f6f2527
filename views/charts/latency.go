package charts

import (
	"math"
	"strconv"
	"time"
)

// LatencyInput is latency percentiles over time in milliseconds, with the
// SLO's threshold. Any of P50, P95 and P99 may be empty; only the series
// given are drawn and listed.
type LatencyInput struct {
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
	// P50, P95 and P99 are the percentile series in milliseconds.
	P50, P95, P99 []Point
	// Threshold is the SLO's latency limit in milliseconds; 0 means none.
	Threshold float64
	// ThresholdOf names the series the threshold judges ("p50", "p95" or
	// "p99"); it labels the line and decides the table's verdict column.
	// Empty means any series above the threshold counts.
	ThresholdOf string
	// ThresholdLabel overrides the line's text; empty gives "SLO p95 ≤ 300 ms".
	ThresholdLabel string
	// Maintenance spans are shaded; Annotations are drawn as labelled rules.
	Maintenance []Span
	Annotations []Annotation
}

// Latency is the laid-out latency chart: build it with NewLatency, render it
// with LatencyChart.
type Latency struct {
	frame     frame
	series    []latencySeries
	threshold *segment
	thLabel   label
	breach    *box
}

// latencySeries is one drawn percentile; Name is also its CSS class suffix.
type latencySeries struct {
	Name, D, Dash string
	pts           []Point
}

// latencyDash gives each percentile its own dash pattern, so the lines
// differ without colour (and in black-and-white print).
func latencyDash(name string) string {
	switch name {
	case "p50":
		return "2 3"
	case "p99":
		return "8 3 2 3"
	default:
		return ""
	}
}

// thresholdDash is a long dash, distinct from every percentile's pattern.
const thresholdDash = "10 5"

// NewLatency lays out a latency chart with a y axis from 0 ms to a nice value
// above both the data and the threshold.
func NewLatency(in LatencyInput) Latency {
	loc := orUTC(in.Location)
	start, end := period(in.Start, in.End, in.P50, in.P95, in.P99)
	var series []latencySeries
	for _, s := range []struct {
		name string
		pts  []Point
	}{{"p50", in.P50}, {"p95", in.P95}, {"p99", in.P99}} {
		if len(s.pts) > 0 {
			series = append(series, latencySeries{Name: s.name, Dash: latencyDash(s.name), pts: clip(s.pts, start, end)})
		}
	}
	all := make([][]Point, len(series))
	for i, s := range series {
		all[i] = s.pts
	}
	_, hi, ok := valueRange(all...)
	if !ok {
		hi = 0
	}
	hi = math.Max(math.Max(hi, in.Threshold*1.15), 1)
	dLo, dHi, step := niceDomain(0, hi, maxYTicks)
	dec := stepDecimals(step)

	c := Latency{frame: newFrame(frameSpec{
		id: in.ID, title: in.Title, summary: in.Summary, height: 320,
		start: start, end: end, now: in.Now, loc: loc,
		yLo: dLo, yHi: dHi, yStep: step, yUnit: "ms",
		yLabel:      func(v float64) string { return formatFixed(v, dec) },
		maintenance: in.Maintenance, annotations: in.Annotations,
		empty: !ok,
	})}
	f := &c.frame
	if ok {
		for i := range series {
			series[i].D = linePath(downsample(series[i].pts, maxPoints), f.x.at, f.y.at)
		}
		c.series = series
	}
	if in.Threshold > 0 {
		yT := f.y.at(in.Threshold)
		c.threshold = &segment{num(f.left), num(yT), num(f.right), num(yT)}
		c.breach = &box{num(f.left), num(f.top), num(f.right - f.left), num(yT - f.top)}
		text := in.ThresholdLabel
		if text == "" {
			text = "SLO " + in.ThresholdOf
			if in.ThresholdOf != "" {
				text += " "
			}
			text += "≤ " + formatMs(in.Threshold)
		}
		c.thLabel = label{X: num(f.right - 4), Y: num(yT - 7), Anchor: "end", Text: text}
	}
	items := make([]legendItem, 0, 8)
	for _, s := range c.series {
		items = append(items, legendItem{s.Name, s.Name})
	}
	if c.threshold != nil {
		items = append(items, legendItem{"threshold", c.thLabel.Text}, legendItem{"breach", "Breach (above SLO)"})
	}
	f.Legend = append(items, f.markLegend()...)
	f.Table = c.table(series, in.Threshold, in.ThresholdOf)
	return c
}

// table lists the highest value of each percentile per period: for latency
// the worst moment is what matters, and min/max downsampling keeps it on the
// drawing too.
func (c *Latency) table(series []latencySeries, threshold float64, of string) dataTable {
	f := &c.frame
	t := dataTable{Head: []string{"Period from"}}
	var unit string
	per := make([][]bucket, len(series))
	for i, s := range series {
		per[i], unit = f.tableBuckets(s.pts)
		t.Head = append(t.Head, "Highest "+s.Name)
	}
	if len(series) == 0 {
		return t
	}
	t.Caption = "Highest latency in each " + unit
	if threshold > 0 {
		t.Head = append(t.Head, "Against SLO")
		t.Caption += " (" + c.thLabel.Text + ")"
	}
	for b := range per[0] {
		row := []string{f.when(per[0][b].start)}
		breached, any := false, false
		for i, s := range series {
			_, hi, ok := valueRange(per[i][b].pts)
			if !ok {
				row = append(row, "no data")
				continue
			}
			any = true
			row = append(row, formatMs(hi))
			if hi > threshold && (of == "" || of == s.Name) {
				breached = true
			}
		}
		if !any {
			continue
		}
		if threshold > 0 {
			verdict := "within"
			if breached {
				verdict = "above SLO"
			}
			row = append(row, verdict)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// formatMs prints milliseconds with one decimal below 10 ms and none above.
func formatMs(v float64) string {
	dec := 0
	if math.Abs(v) < 10 {
		dec = 1
	}
	return strconv.FormatFloat(roundTo(v, dec), 'f', dec, 64) + " ms"
}
