package charts

import (
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
)

func yLabels(f frame) []string {
	var out []string
	for _, t := range f.YTicks {
		out = append(out, t.Label)
	}
	return out
}

func TestBurnDown(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC)
	// line goes linearly from 1 at start to last at now, hourly.
	line := func(last float64) []Point {
		var pts []Point
		n := now.Sub(start).Hours()
		for h := 0.0; h <= n; h++ {
			pts = append(pts, Point{T: start.Add(time.Duration(h) * time.Hour), V: 1 + (last-1)*h/n})
		}
		return pts
	}
	base := func(pts []Point) BurnDownInput {
		return BurnDownInput{ID: "b", Title: "t", Start: start, End: end, Now: now, Points: pts}
	}
	tests := []struct {
		name  string
		in    BurnDownInput
		check func(t *testing.T, c BurnDown)
	}{
		{"fixed 0–100% axis while the budget stays positive", base(line(0.62)), func(t *testing.T, c BurnDown) {
			if got, want := yLabels(c.frame), []string{"0%", "20%", "40%", "60%", "80%", "100%"}; !slices.Equal(got, want) {
				t.Errorf("y labels = %q, want %q", got, want)
			}
			if c.zone != nil {
				t.Error("overspent zone drawn without overspending")
			}
			if c.current == nil || c.current.Label.Text != "62% left" {
				t.Errorf("current label = %+v, want 62%% left", c.current)
			}
		}},
		{"axis extends below zero and the zone is labelled", base(line(-0.3)), func(t *testing.T, c BurnDown) {
			if got := yLabels(c.frame); !slices.Contains(got, "−50%") || !slices.Contains(got, "100%") {
				t.Errorf("y labels = %q, want −50%% … 100%%", got)
			}
			if c.zone == nil || c.zoneLabel == nil || c.zoneLabel.Text != "overspent" {
				t.Fatalf("zone = %+v, label = %+v", c.zone, c.zoneLabel)
			}
			if c.zone.Y != num(c.frame.y.at(0)) {
				t.Errorf("zone starts at y=%s, want the 0%% line %s", c.zone.Y, num(c.frame.y.at(0)))
			}
			if c.current.Label.Text != "30% overspent" {
				t.Errorf("current label = %q", c.current.Label.Text)
			}
		}},
		{"axis extends above 100% only as far as the data", base(append(line(0.5), Point{T: now.Add(time.Hour), V: 1.3})), func(t *testing.T, c BurnDown) {
			if got := c.frame.y.d1; got != 1.3 {
				t.Errorf("top of domain = %v, want 1.3", got)
			}
		}},
		{"projection ends at 0% on the exhaustion date", func() BurnDownInput {
			in := base(line(0.3))
			in.Exhaustion = time.Date(2026, 3, 26, 12, 0, 0, 0, time.UTC)
			return in
		}(), func(t *testing.T, c BurnDown) {
			if c.proj == nil {
				t.Fatal("no projection")
			}
			if c.proj.MarkY != num(c.frame.y.at(0)) || c.proj.MarkX != num(c.frame.x.at(time.Date(2026, 3, 26, 12, 0, 0, 0, time.UTC))) {
				t.Errorf("projection ends at %s,%s", c.proj.MarkX, c.proj.MarkY)
			}
			if c.current.Sub == nil || c.current.Sub.Text != "runs out 26 Mar" {
				t.Errorf("projection label = %+v", c.current.Sub)
			}
		}},
		{"projection past the period end is clipped there", func() BurnDownInput {
			in := base(line(0.6))
			in.Exhaustion = now.Add(20 * 24 * time.Hour) // 0.6 burns over 20 days; 10 remain → 30% left at end
			return in
		}(), func(t *testing.T, c BurnDown) {
			if c.proj == nil || c.proj.MarkX != num(c.frame.right) {
				t.Fatalf("projection = %+v, want it to end at x=%s", c.proj, num(c.frame.right))
			}
			if c.proj.MarkY != num(c.frame.y.at(0.3)) || c.current.Sub.Text != "≈30% left at end" {
				t.Errorf("projection ends at y=%s with %q, want y=%s and ≈30%% left at end", c.proj.MarkY, c.current.Sub.Text, num(c.frame.y.at(0.3)))
			}
		}},
		{"no projection once overspent", func() BurnDownInput {
			in := base(line(-0.1))
			in.Exhaustion = now.Add(time.Hour)
			return in
		}(), func(t *testing.T, c BurnDown) {
			if c.proj != nil || c.current.Sub != nil {
				t.Errorf("projection drawn for an overspent budget: %+v", c.proj)
			}
		}},
		{"ideal line from 100% at start to 0% at end", func() BurnDownInput {
			in := base(line(0.5))
			in.Ideal = true
			return in
		}(), func(t *testing.T, c BurnDown) {
			f := c.frame
			want := segment{num(f.left), num(f.y.at(1)), num(f.right), num(f.y.at(0))}
			if c.ideal == nil || *c.ideal != want {
				t.Errorf("ideal = %+v, want %+v", c.ideal, want)
			}
		}},
		{"now, annotations and maintenance outside the period are left out", func() BurnDownInput {
			in := base(line(0.5))
			in.Now = end.Add(time.Hour)
			in.Annotations = []Annotation{
				{T: start.Add(-time.Hour), Kind: "deploy", Label: "before"},
				{T: start.Add(48 * time.Hour), Kind: "Incident", Label: "inside"},
				{T: end.Add(time.Hour), Kind: "deploy", Label: "after"},
			}
			in.Maintenance = []Span{
				{Start: start.Add(-5 * time.Hour), End: start.Add(-time.Hour)},
				{Start: end.Add(-2 * time.Hour), End: end.Add(10 * time.Hour), Label: "overlaps the end"},
			}
			return in
		}(), func(t *testing.T, c BurnDown) {
			f := c.frame
			if f.Now != nil {
				t.Error("now marker drawn outside the period")
			}
			if len(f.Anns) != 1 || f.Anns[0].Text != "inside" || f.Anns[0].Kind != "incident" {
				t.Errorf("annotations = %+v", f.Anns)
			}
			if len(f.Maint) != 1 {
				t.Fatalf("maintenance = %+v", f.Maint)
			}
			if x, w := f.Maint[0].X, f.Maint[0].W; x != num(f.x.at(end.Add(-2*time.Hour))) || w != num(f.right-f.x.at(end.Add(-2*time.Hour))) {
				t.Errorf("maintenance not clipped to the period: x=%s w=%s", x, w)
			}
		}},
		{"an adjustment is a diamond on a dotted rule, in the legend and the events", func() BurnDownInput {
			in := base(line(0.5))
			in.Annotations = []Annotation{{T: start.Add(48 * time.Hour), Kind: "adjusted", Label: "Target 99.9% → 99.5% by alice"}}
			return in
		}(), func(t *testing.T, c BurnDown) {
			f := c.frame
			x := f.x.at(start.Add(48 * time.Hour))
			if len(f.Anns) != 1 || f.Anns[0].Kind != "adjusted" || f.Anns[0].Marker != "M"+num(x)+","+num(f.top-6)+"l6,6l-6,6l-6,-6z" {
				t.Fatalf("annotations = %+v", f.Anns)
			}
			var legend []string
			for _, it := range f.Legend {
				legend = append(legend, it.Swatch+"="+it.Label)
			}
			if !strings.Contains(strings.Join(legend, ","), "ann-adjusted=Adjusted afterwards") {
				t.Errorf("legend %v", legend)
			}
			if len(f.Events) != 1 || eventKindName(f.Events[0].Kind) != "Adjusted afterwards" || f.Events[0].Label != "Target 99.9% → 99.5% by alice" {
				t.Errorf("events %+v", f.Events)
			}
			if dash("ann-adjusted") == "" {
				t.Error("an adjustment's rule is solid: it would differ from a note by colour alone")
			}
		}},
		{"no data gives the empty state", base(nil), func(t *testing.T, c BurnDown) {
			if c.frame.Empty == nil || c.frame.Empty.Text != "No data yet" || c.line != "" || c.current != nil {
				t.Errorf("empty state = %+v, line %q", c.frame.Empty, c.line)
			}
			if c.frame.Summary != "No data yet." {
				t.Errorf("summary = %q", c.frame.Summary)
			}
			if got := yLabels(c.frame); len(got) == 0 || got[len(got)-1] != "100%" {
				t.Errorf("empty chart keeps its 0–100%% axis, got %q", got)
			}
		}},
		{"only no-data points is empty too", base([]Point{{T: start, NoData: true}, {T: now, NoData: true}}), func(t *testing.T, c BurnDown) {
			if c.frame.Empty == nil {
				t.Error("no empty state")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, NewBurnDown(tt.in))
		})
	}
}

// TestZeroValueInputs renders every chart from a zero input: no period, no
// data, no location. Each must show its empty state rather than fail.
func TestZeroValueInputs(t *testing.T) {
	charts := map[string]templ.Component{
		"burndown":  BurnDownChart(NewBurnDown(BurnDownInput{})),
		"sli":       SLIChart(NewSLI(SLIInput{})),
		"latency":   LatencyChart(NewLatency(LatencyInput{})),
		"sparkline": SparklineChart(NewSparkline(SparklineInput{})),
	}
	for name, c := range charts {
		t.Run(name, func(t *testing.T) {
			out := render(t, c)
			if !strings.Contains(out, ">No data yet<") {
				t.Errorf("no empty-state message in %s", out)
			}
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("non-finite coordinates in %s", out)
			}
		})
	}
}

// TestUnsortedAndOutOfPeriodPoints checks that handlers need not pre-sort or
// pre-filter: the chart draws the same line either way.
func TestUnsortedAndOutOfPeriodPoints(t *testing.T) {
	in := burnDownFixture(t)
	want := NewBurnDown(in).line
	messy := slices.Clone(in.Points)
	slices.Reverse(messy)
	messy = append(messy, Point{T: in.Start.Add(-time.Hour), V: 5}, Point{T: in.End.Add(time.Hour), V: -5})
	in.Points = messy
	if got := NewBurnDown(in).line; got != want {
		t.Errorf("line differs for unsorted input with points outside the period")
	}
}

func TestSLIRange(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	series := func(vs ...float64) []Point {
		pts := make([]Point, len(vs))
		for i, v := range vs {
			pts[i] = Point{T: start.Add(time.Duration(i) * time.Hour), V: v}
		}
		return pts
	}
	tests := []struct {
		name      string
		pts       []Point
		target    float64
		wantBelow bool
	}{
		{"all above target", series(0.9995, 0.9993, 0.9998), 0.999, false},
		{"a dip below target", series(0.9995, 0.9971, 0.9998), 0.999, true},
		{"a deep dip", series(0.9995, 0.95, 0.9998), 0.99, true},
		{"perfect", series(1, 1, 1), 0.999, false},
		{"no data", nil, 0.999, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewSLI(SLIInput{ID: "s", Points: tt.pts, Target: tt.target, Start: start, End: start.Add(3 * time.Hour)})
			lo, hi := c.frame.y.d0, c.frame.y.d1
			dLo, dHi, _ := valueRange(tt.pts)
			if len(tt.pts) == 0 {
				dLo, dHi = tt.target, tt.target
			}
			if lo > min(dLo, tt.target) || hi < max(dHi, tt.target) || hi > 1 {
				t.Errorf("domain [%v, %v] does not show target %v and data [%v, %v] within 100%%", lo, hi, tt.target, dLo, dHi)
			}
			if lo < 0.5 {
				t.Errorf("domain starts at %v: the target would be a flat line at the top", lo)
			}
			if y := c.frame.y.at(tt.target); y <= c.frame.top || y >= c.frame.bottom {
				t.Errorf("target at y=%v sits on the frame edge [%v, %v]", y, c.frame.top, c.frame.bottom)
			}
			if (c.below != nil) != tt.wantBelow || (c.lowest != nil) != tt.wantBelow {
				t.Errorf("below-target emphasis = %v, want %v", c.below != nil, tt.wantBelow)
			}
			if c.targetLabel.Text != "target "+percentLabel(tt.target) {
				t.Errorf("target label = %q", c.targetLabel.Text)
			}
		})
	}
}

func TestLatencySeriesSubset(t *testing.T) {
	in := latencyFixture(t)
	tests := []struct {
		name       string
		mutate     func(*LatencyInput)
		wantSeries []string
		wantBreach bool
	}{
		{"all three", func(*LatencyInput) {}, []string{"p50", "p95", "p99"}, true},
		{"only p95", func(in *LatencyInput) { in.P50, in.P99 = nil, nil }, []string{"p95"}, true},
		{"p50 and p99 without a threshold", func(in *LatencyInput) { in.P95, in.Threshold = nil, 0 }, []string{"p50", "p99"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := in
			tt.mutate(&in)
			c := NewLatency(in)
			var names, legend []string
			for _, s := range c.series {
				names = append(names, s.Name)
			}
			for _, l := range c.frame.Legend {
				legend = append(legend, l.Swatch)
			}
			if !slices.Equal(names, tt.wantSeries) {
				t.Errorf("series = %v, want %v", names, tt.wantSeries)
			}
			for _, n := range tt.wantSeries {
				if !slices.Contains(legend, n) {
					t.Errorf("legend %v lacks %s", legend, n)
				}
			}
			if (c.breach != nil) != tt.wantBreach || slices.Contains(legend, "breach") != tt.wantBreach {
				t.Errorf("breach band = %v, want %v", c.breach != nil, tt.wantBreach)
			}
			if got := len(c.frame.Table.Head); got != 1+len(tt.wantSeries)+map[bool]int{true: 1}[tt.wantBreach] {
				t.Errorf("table head = %q", c.frame.Table.Head)
			}
		})
	}
	if c := NewLatency(in); c.thLabel.Text != "SLO p95 ≤ 300 ms" {
		t.Errorf("threshold label = %q", c.thLabel.Text)
	}
}

const (
	evilScript = "<script>alert(1)</script>"
	evilAttr   = `"onload=alert(2) x="`
)

// evilCharts are every chart with hostile text wherever a user string goes.
func evilCharts(t testing.TB) map[string]templ.Component {
	bd := burnDownFixture(t)
	bd.ID = `x" onload="alert(3)`
	bd.Title = "Checkout " + evilScript + " " + evilAttr
	bd.Summary = evilScript
	bd.Annotations = append(bd.Annotations, Annotation{T: bd.Start.Add(24 * time.Hour), Kind: evilAttr, Label: evilScript})
	bd.Maintenance[0].Label = evilScript + evilAttr
	sli := sliFixture(t)
	sli.Title, sli.Annotations[0].Label = evilScript, evilAttr
	lat := latencyFixture(t)
	lat.Title, lat.ThresholdLabel, lat.Annotations[0].Label = evilAttr, evilScript, evilScript
	sp := sparklineFixture(t)
	sp.ID, sp.Title, sp.Summary = evilAttr, evilScript, evilAttr
	return map[string]templ.Component{
		"burndown":  BurnDownChart(NewBurnDown(bd)),
		"sli":       SLIChart(NewSLI(sli)),
		"latency":   LatencyChart(NewLatency(lat)),
		"sparkline": SparklineChart(NewSparkline(sp)),
	}
}

// TestUserStringsAreEscaped parses each chart as a browser would and checks
// that hostile titles and labels stayed text: no script element, no event
// handler attribute, and the text intact.
func TestUserStringsAreEscaped(t *testing.T) {
	for name, c := range evilCharts(t) {
		t.Run(name, func(t *testing.T) {
			out := render(t, c)
			doc, err := html.Parse(strings.NewReader("<!doctype html><body>" + out))
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for n := range doc.Descendants() {
				switch n.Type {
				case html.ElementNode:
					if strings.EqualFold(n.Data, "script") {
						t.Errorf("a <script> element got through")
					}
					for _, a := range n.Attr {
						if strings.HasPrefix(strings.ToLower(a.Key), "on") {
							t.Errorf("event handler attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
						}
					}
				case html.TextNode:
					text.WriteString(n.Data)
				}
			}
			for _, evil := range []string{evilScript, evilAttr} {
				if !strings.Contains(text.String(), evil) {
					t.Errorf("%q was not kept as text", evil)
				}
			}
		})
	}
}

// TestNoInlineStyleOrScript guards the CSP: no style attribute, no <style>
// and no <script> in any chart.
func TestNoInlineStyleOrScript(t *testing.T) {
	outputs := map[string]string{}
	for _, tc := range goldenCases(t) {
		outputs[tc.name] = render(t, tc.figure)
	}
	for name, c := range evilCharts(t) {
		outputs["hostile "+name] = render(t, c)
	}
	for name, out := range outputs {
		for _, bad := range []string{"style=", "<style", "<script"} {
			if strings.Contains(strings.ToLower(out), bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

// TestAccessibleStructure checks what assistive technology relies on: the
// SVG is an image named by its title and described by its conclusion, and the
// numbers are in a table behind "Data".
func TestAccessibleStructure(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader("<!doctype html><body>" + render(t, tc.figure)))
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			var svg, table, summary *html.Node
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				if id := attr(n, "id"); id != "" {
					ids[id] = textOf(n)
				}
				switch {
				case n.Data == "svg" && attr(n, "role") == "img" && svg == nil:
					svg = n
				case n.Data == "table":
					table = n
				case n.Data == "summary" && textOf(n) == "Data":
					summary = n
				}
			}
			if svg == nil {
				t.Fatal("no <svg role=img>")
			}
			if attr(svg, "viewBox") == "" || attr(svg, "width") == "" {
				t.Error("svg lacks viewBox scaling")
			}
			refs := strings.Fields(attr(svg, "aria-labelledby"))
			if len(refs) != 2 || ids[refs[0]] == "" || ids[refs[1]] == "" {
				t.Errorf("aria-labelledby=%q does not point at a non-empty title and desc (%v)", attr(svg, "aria-labelledby"), refs)
			}
			if tc.name == "sparkline" {
				return // sits in a table row; its desc carries the value
			}
			if summary == nil {
				t.Error("no <summary>Data</summary>")
			}
			if tc.name != "empty" && table == nil {
				t.Error("no data table")
			}
		})
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key || strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// TestSVGIsWellFormedXML parses each bare SVG strictly, so the golden .svg
// files open as standalone images.
func TestSVGIsWellFormedXML(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			dec := xml.NewDecoder(strings.NewReader(render(t, tc.svg)))
			for {
				_, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed XML: %v", err)
				}
			}
		})
	}
}

// TestMonthOfFiveMinutePoints renders 30 days × 5 minutes (8,640 points per
// series) and checks the page weight and the per-series point budget.
func TestMonthOfFiveMinutePoints(t *testing.T) {
	bd, sli, lat, sp := monthInputs(t)
	charts := []struct {
		name string
		c    templ.Component
	}{
		{"burndown", BurnDownChart(NewBurnDown(bd))},
		{"sli", SLIChart(NewSLI(sli))},
		{"latency", LatencyChart(NewLatency(lat))},
		{"sparkline", SparklineChart(NewSparkline(sp))},
	}
	const limit = 60 * 1000
	for _, ch := range charts {
		t.Run(ch.name, func(t *testing.T) {
			out := render(t, ch.c)
			t.Logf("%s: %d bytes (%.1f KB)", ch.name, len(out), float64(len(out))/1000)
			if len(out) >= limit {
				t.Errorf("%s is %d bytes, want < %d", ch.name, len(out), limit)
			}
			doc, err := html.Parse(strings.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			paths := 0
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode || n.Data != "path" || !strings.Contains(attr(n, "class"), "line") {
					continue
				}
				d := attr(n, "d")
				if pts := strings.Count(d, "M") + strings.Count(d, "L"); pts > maxPoints {
					t.Errorf("a series has %d points, want ≤ %d", pts, maxPoints)
				}
				paths++
			}
			if paths == 0 {
				t.Error("no series drawn")
			}
		})
	}
}

func BenchmarkCharts(b *testing.B) {
	bd, sli, lat, sp := monthInputs(b)
	benches := []struct {
		name   string
		render func() templ.Component
	}{
		{"burndown", func() templ.Component { return BurnDownChart(NewBurnDown(bd)) }},
		{"sli", func() templ.Component { return SLIChart(NewSLI(sli)) }},
		{"latency", func() templ.Component { return LatencyChart(NewLatency(lat)) }},
		{"sparkline", func() templ.Component { return SparklineChart(NewSparkline(sp)) }},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			var buf strings.Builder
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := bc.render().Render(b.Context(), &buf); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}
