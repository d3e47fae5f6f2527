package charts

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Layout in SVG user units. Every chart is viewW units wide and scales to its
// container. charts.css picks the font size from the container's width
// (26 units on a phone down to 11 on a wide screen) so text stays roughly
// 11–16 CSS px at every size; margins here are sized for the largest font so
// nothing clips on a phone. Keep fontMax and fontMid in step with charts.css.
const (
	viewW         = 800.0
	fontMax       = 26.0 // narrowest container tier in charts.css
	fontMid       = 17.0 // medium tier; annotation text is hidden below it
	glyphW        = 0.6  // average glyph advance in em, for width estimates
	padTop        = 36.0
	padBottom     = 40.0
	padRight      = 16.0
	maxXTicks     = 10
	narrowXTicks  = 5 // with more ticks than this, every other x label is hidden on phones
	maxYTicks     = 6
	maxPoints     = 500 // per series: about 1.5 user units per point at full width
	maxTableRows  = 48
	maxLabelRunes = 28 // annotation text is cut here in the SVG; the events list has it whole
)

// Span is a maintenance window: time excluded from the budget, shaded on
// charts. Label is the reason, shown in the events list and the tooltip.
type Span struct {
	Start, End time.Time
	Label      string
}

// Annotation marks an instant on the time axis: Kind "deploy" or "incident"
// (anything else is drawn as a neutral "note") and a short label such as
// "checkout v2.3".
type Annotation struct {
	T     time.Time
	Kind  string
	Label string
}

// frame is the geometry every time-series chart shares: plot area, scales,
// ticks, maintenance shading, annotation rules, the "now" marker, the empty
// state and the HTML around the SVG (legend, events, data table). Exported
// field names are what the templ components print; they are unexported
// outside this package because frame itself is.
type frame struct {
	ID, Title, Summary string
	ViewBox            string
	Plot               box
	// Edges and label positions derived from the plot area.
	Right, Bottom, AxisY, YLabelX, XLabelY, XTickY2 string
	XTicks                                          []xTick
	YTicks                                          []yTick
	YUnit                                           *label
	Maint                                           []spanMark
	Anns                                            []annMark
	Now                                             *nowMark
	Empty                                           *label
	Legend                                          []legendItem
	Events                                          []eventItem
	Table                                           dataTable

	left, right, top, bottom float64
	start, end               time.Time
	loc                      *time.Location
	x                        timeScale
	y                        linearScale
}

// box is a rectangle with formatted coordinates.
type box struct{ X, Y, W, H string }

// label is a piece of text placed in the SVG. DY, when set, shifts it by a
// multiple of the font size, so stacked labels stay apart at any font tier.
type label struct{ X, Y, DY, Anchor, Text string }

type xTick struct {
	X, Label, Anchor string
	Alt              bool // hidden on narrow containers to avoid overlap
}

type yTick struct {
	Y, LabelY, Label string
	Zero             bool // the 0 line is drawn stronger
}

type spanMark struct{ X, W, Title string }

type annMark struct {
	N, Kind, X, Y1, Y2, Marker string
	LabelX, LabelY, Anchor     string
	Text, Title                string
}

type nowMark struct {
	X, Y1, Y2 string
	Label     label
}

// legendItem names one visual encoding; Swatch selects how the legend draws it
// (see swatch in common.templ) and doubles as the CSS class suffix.
type legendItem struct{ Swatch, Label string }

// eventItem is one line of the events list under a chart.
type eventItem struct{ N, Kind, When, Label string }

// dataTable is the accessible alternative to the drawing: the first cell of
// each row is the row header.
type dataTable struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// frameSpec is what a chart tells newFrame about itself.
type frameSpec struct {
	id, title, summary string
	height             float64
	start, end, now    time.Time
	loc                *time.Location
	yLo, yHi, yStep    float64
	yLabel             func(float64) string
	yUnit              string
	maintenance        []Span
	annotations        []Annotation
	empty              bool
}

func newFrame(s frameSpec) frame {
	f := frame{
		ID:      sanitizeID(s.id),
		Title:   s.title,
		Summary: s.summary,
		ViewBox: "0 0 " + num(viewW) + " " + num(s.height),
		start:   s.start,
		end:     s.end,
		loc:     s.loc,
	}
	if f.Summary == "" && s.empty {
		f.Summary = "No data yet."
	}
	ticks := ticksIn(s.yLo, s.yHi, s.yStep)
	labels := make([]string, len(ticks))
	widest := 0
	for i, v := range ticks {
		labels[i] = s.yLabel(v)
		widest = max(widest, utf8.RuneCountInString(labels[i]))
	}
	f.left = math.Round(max(48, float64(widest)*glyphW*fontMax+14))
	f.right = viewW - padRight
	f.top = padTop
	f.bottom = s.height - padBottom
	f.Plot = box{num(f.left), num(f.top), num(f.right - f.left), num(f.bottom - f.top)}
	f.Right, f.Bottom, f.AxisY = num(f.right), num(f.bottom), num(crisp(f.bottom))
	f.YLabelX, f.XLabelY, f.XTickY2 = num(f.left-8), num(f.bottom+8), num(f.bottom+5)
	f.x = timeScale{t0: s.start, t1: s.end, r0: f.left, r1: f.right}
	f.y = linearScale{d0: s.yLo, d1: s.yHi, r0: f.bottom, r1: f.top}

	for i, v := range ticks {
		y := f.y.at(v)
		f.YTicks = append(f.YTicks, yTick{
			Y:      num(crisp(y)),
			LabelY: num(y),
			Label:  labels[i],
			Zero:   v == 0 && s.yLo < 0,
		})
	}
	if s.yUnit != "" {
		f.YUnit = &label{X: num(f.left - 8), Y: num(f.top - 14), Anchor: "end", Text: s.yUnit}
	}

	// A zero start means neither a period nor data: draw no time axis.
	var xt []time.Time
	var step timeStep
	if !s.start.IsZero() {
		xt, step = timeTicks(s.start, s.end, s.loc, maxXTicks)
	}
	for i, t := range xt {
		x := f.x.at(t)
		text := step.label(t, s.loc)
		half := float64(utf8.RuneCountInString(text)) * glyphW * fontMax / 2
		f.XTicks = append(f.XTicks, xTick{
			X:      num(crisp(x)),
			Label:  text,
			Anchor: anchorFor(x, half, f.left, viewW-2),
			Alt:    len(xt) > narrowXTicks && i%2 == 1,
		})
	}

	f.Maint = f.maintenanceMarks(s.maintenance)
	f.Anns = f.annotationMarks(s.annotations)
	f.Events = f.eventList(s.annotations, s.maintenance)
	if s.now.After(s.start) && s.now.Before(s.end) {
		x := f.x.at(s.now)
		f.Now = &nowMark{
			X: num(x), Y1: num(f.top), Y2: num(f.bottom),
			Label: label{X: num(x), Y: num(f.top - 8), Anchor: anchorFor(x, 2*glyphW*fontMax, 0, viewW), Text: "now"},
		}
	}
	if s.empty {
		f.Empty = &label{X: num((f.left + f.right) / 2), Y: num((f.top + f.bottom) / 2), Anchor: "middle", Text: "No data yet"}
	}
	return f
}

// crisp puts a 1-unit line on a half unit, so that at 1:1 scale it covers one
// device pixel instead of blurring across two.
func crisp(v float64) float64 { return math.Floor(v) + 0.5 }

// anchorFor centres a label of half-width half on x unless that would push
// it past lo or hi, in which case it hangs inwards from x.
func anchorFor(x, half, lo, hi float64) string {
	switch {
	case x-half < lo:
		return "start"
	case x+half > hi:
		return "end"
	default:
		return "middle"
	}
}

func (f *frame) maintenanceMarks(spans []Span) []spanMark {
	var out []spanMark
	for _, s := range spans {
		if !f.overlaps(s) {
			continue
		}
		x0, x1 := f.x.clampedAt(s.Start), f.x.clampedAt(s.End)
		// A five-minute window on a 30-day axis would be invisible; give it
		// a minimum width so it can still be seen and hovered.
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		title := "Maintenance " + f.spanText(s.Start, s.End)
		if s.Label != "" {
			title += ": " + s.Label
		}
		out = append(out, spanMark{X: num(x0), W: num(x1 - x0), Title: title})
	}
	return out
}

// overlaps reports whether a non-empty span reaches into the period.
func (f *frame) overlaps(s Span) bool {
	return s.End.After(s.Start) && s.End.After(f.start) && s.Start.Before(f.end)
}

// annotationMarks places a rule, a marker and a numbered label per annotation.
// Labels sit inside the plot at the top and are stacked in rows when their
// estimated widths (at the medium font, since phones show only the number)
// would overlap.
func (f *frame) annotationMarks(anns []Annotation) []annMark {
	in := f.visibleAnnotations(anns)
	const rowH = fontMid + 5
	const maxRows = 3
	var rowEnds [maxRows]float64
	for i := range rowEnds {
		rowEnds[i] = math.Inf(-1)
	}
	out := make([]annMark, 0, len(in))
	for i, a := range in {
		x := f.x.at(a.T)
		kind := annotationKind(a.Kind)
		n := itoa(i + 1)
		text := truncate(annotationText(a), maxLabelRunes)
		w := float64(utf8.RuneCountInString(n)+1+utf8.RuneCountInString(text)) * glyphW * fontMid
		anchor, x0, x1 := "start", x+7, x+7+w
		if x1 > f.right {
			anchor, x0, x1 = "end", x-7-w, x-7
		}
		row := 0
		for r := range rowEnds {
			if rowEnds[r]+6 < x0 {
				row = r
				break
			}
			if rowEnds[r] < rowEnds[row] {
				row = r
			}
		}
		rowEnds[row] = max(rowEnds[row], x1)
		lx := x + 7
		if anchor == "end" {
			lx = x - 7
		}
		out = append(out, annMark{
			N: n, Kind: kind, X: num(crisp(x)), Y1: num(f.top), Y2: num(f.bottom),
			Marker: markerPath(kind, x, f.top),
			LabelX: num(lx), LabelY: num(f.top + 4 + float64(row)*rowH), Anchor: anchor,
			Text: text, Title: capitalize(kind) + " " + f.when(a.T) + ": " + annotationText(a),
		})
	}
	return out
}

// visibleAnnotations returns the annotations inside the period, oldest first.
func (f *frame) visibleAnnotations(anns []Annotation) []Annotation {
	var in []Annotation
	for _, a := range anns {
		if !a.T.Before(f.start) && !a.T.After(f.end) {
			in = append(in, a)
		}
	}
	slices.SortStableFunc(in, func(a, b Annotation) int { return a.T.Compare(b.T) })
	return in
}

// eventList is the text version of annotations and maintenance spans, in
// time order; annotation numbers match the markers in the SVG.
func (f *frame) eventList(anns []Annotation, spans []Span) []eventItem {
	type ev struct {
		t    time.Time
		item eventItem
	}
	var evs []ev
	for i, a := range f.visibleAnnotations(anns) {
		evs = append(evs, ev{a.T, eventItem{N: itoa(i + 1), Kind: annotationKind(a.Kind), When: f.when(a.T), Label: annotationText(a)}})
	}
	for _, s := range spans {
		if !f.overlaps(s) {
			continue
		}
		text := s.Label
		if text == "" {
			text = "Maintenance"
		}
		evs = append(evs, ev{s.Start, eventItem{Kind: "maint", When: f.spanText(s.Start, s.End), Label: text}})
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return a.t.Compare(b.t) })
	out := make([]eventItem, len(evs))
	for i, e := range evs {
		out[i] = e.item
	}
	return out
}

func annotationKind(k string) string {
	switch k := strings.ToLower(strings.TrimSpace(k)); k {
	case "deploy", "incident", "adjusted":
		return k
	default:
		return "note"
	}
}

func annotationText(a Annotation) string {
	if t := strings.TrimSpace(a.Label); t != "" {
		return t
	}
	return capitalize(annotationKind(a.Kind))
}

// markerPath draws the marker on top of an annotation rule: a circle for a
// deploy, a downward triangle for an incident, a diamond for an adjustment
// made afterwards (a target change, retroactive maintenance), a small square
// otherwise — so the kind reads without colour.
func markerPath(kind string, x, y float64) string {
	switch kind {
	case "adjusted":
		return "M" + num(x) + "," + num(y-6) + "l6,6l-6,6l-6,-6z"
	case "deploy":
		return "M" + num(x-5) + "," + num(y) + "a5,5 0 1,0 10,0a5,5 0 1,0 -10,0"
	case "incident":
		return "M" + num(x-6) + "," + num(y-6) + "h12l-6,10z"
	default:
		return "M" + num(x-4) + "," + num(y-4) + "h8v8h-8z"
	}
}

// when formats an instant for tooltips, lists and tables, naming the zone,
// and the year when it is not the year the chart ends in (now's).
func (f *frame) when(t time.Time) string { return t.In(f.loc).Format(f.dayLayout(t) + " 15:04 MST") }

// dayLayout writes a day, with its year when that is not the chart's.
func (f *frame) dayLayout(t time.Time) string {
	if t.In(f.loc).Year() != f.end.In(f.loc).Year() {
		return "Mon 2 Jan 2006"
	}
	return "Mon 2 Jan"
}

func (f *frame) spanText(a, b time.Time) string {
	la, lb := a.In(f.loc), b.In(f.loc)
	if la.YearDay() == lb.YearDay() && la.Year() == lb.Year() {
		return la.Format(f.dayLayout(a)+" 15:04") + "–" + lb.Format("15:04 MST")
	}
	return la.Format(f.dayLayout(a)+" 15:04") + " – " + lb.Format(f.dayLayout(b)+" 15:04 MST")
}

// bucket is one row of a data table: the points in [start, end).
type bucket struct {
	start time.Time
	pts   []Point
}

// tableBuckets splits pts (sorted) into calendar periods (hours, days,
// weeks…) fine enough to show the shape and coarse enough that the table
// stays short enough to read (≤ maxTableRows). It returns the buckets and
// the period's name for captions ("day", "6-hour period").
func (f *frame) tableBuckets(pts []Point) ([]bucket, string) {
	ticks, step := timeTicks(f.start, f.end, f.loc, maxTableRows)
	bounds := append([]time.Time{f.start}, ticks...)
	if len(ticks) > 0 && ticks[0].Equal(f.start) {
		bounds = ticks
	}
	// pts is sorted, so each bucket is a subslice: no copying.
	out := make([]bucket, len(bounds))
	i := 0
	for b := range bounds {
		j := i
		for j < len(pts) && (b == len(bounds)-1 || pts[j].T.Before(bounds[b+1])) {
			j++
		}
		out[b] = bucket{start: bounds[b], pts: pts[i:j:j]}
		i = j
	}
	return out, step.name()
}

// name is the step in words, for table captions: "day", "6-hour period".
func (s timeStep) name() string {
	unit := [...]string{unitMinute: "minute", unitHour: "hour", unitDay: "day", unitWeek: "week", unitMonth: "month", unitYear: "year"}[s.unit]
	if s.n == 1 {
		return unit
	}
	return itoa(s.n) + "-" + unit + " period"
}

// clip returns the points inside [start, end] in time order. Handlers pass
// sorted points inside the period, so the common case is one read-only pass
// and no copy.
func clip(pts []Point, start, end time.Time) []Point {
	clean := true
	for i := range pts {
		t := pts[i].T
		if t.Before(start) || t.After(end) || (i > 0 && t.Before(pts[i-1].T)) {
			clean = false
			break
		}
	}
	if clean {
		return pts
	}
	out := make([]Point, 0, len(pts))
	for _, p := range pts {
		if !p.T.Before(start) && !p.T.After(end) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b Point) int { return a.T.Compare(b.T) })
	return out
}

// period resolves the plotted time range: the caller's, or else the extent
// of the data. The range is never empty; a zero start means "unknown" (no
// data and no period given), which the frame draws without time ticks.
func period(start, end time.Time, series ...[]Point) (time.Time, time.Time) {
	if start.IsZero() || end.IsZero() {
		var lo, hi time.Time
		for _, s := range series {
			for i := range s {
				if t := s[i].T; lo.IsZero() || t.Before(lo) {
					lo = t
				}
				if t := s[i].T; t.After(hi) {
					hi = t
				}
			}
		}
		if start.IsZero() {
			start = lo
		}
		if end.IsZero() {
			end = hi
		}
	}
	if !end.After(start) {
		end = start.Add(time.Hour)
	}
	return start, end
}

// capitalize upper-cases the first letter of an ASCII kind name.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// truncate cuts s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func itoa(i int) string { return strconv.Itoa(i) }

// sanitizeID turns the caller's prefix into a safe XML id: letters, digits,
// "-" and "_" only, starting with a letter. The id also appears inside
// url(#…) references, where templ's attribute escaping alone would not keep a
// space or quote from breaking the reference.
func sanitizeID(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		s = "chart-" + s
	}
	return strings.TrimRight(s, "-")
}

// markLegend lists the legend entries for what the frame drew itself:
// maintenance shading and each kind of annotation present.
func (f *frame) markLegend() []legendItem {
	var items []legendItem
	if len(f.Maint) > 0 {
		items = append(items, legendItem{"maint", "Maintenance (excluded)"})
	}
	seen := map[string]bool{}
	for _, a := range f.Anns {
		seen[a.Kind] = true
	}
	for _, k := range []string{"deploy", "incident", "note", "adjusted"} {
		if seen[k] {
			items = append(items, legendItem{"ann-" + k, eventKindName(k)})
		}
	}
	return items
}

// eventKindName is the word shown for an event kind in the events list.
func eventKindName(kind string) string {
	switch kind {
	case "maint":
		return "Maintenance"
	case "adjusted":
		return "Adjusted afterwards"
	}
	return capitalize(kind)
}
