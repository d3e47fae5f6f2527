package charts

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/a-h/templ"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* from the current output")

func render(t testing.TB, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

// goldenCases are the charts with realistic data that the golden files and
// the markup tests share. svg is the bare <svg> (a standalone SVG document);
// figure is the whole component as a page embeds it.
func goldenCases(t testing.TB) []struct {
	name        string
	svg, figure templ.Component
} {
	bd := NewBurnDown(burnDownFixture(t))
	sli := NewSLI(sliFixture(t))
	lat := NewLatency(latencyFixture(t))
	sp := NewSparkline(sparklineFixture(t))
	empty := NewBurnDown(BurnDownInput{
		ID:       "slo-9-burndown",
		Title:    "Search availability: error budget, March",
		Location: time.UTC,
		Start:    time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		End:      time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		Now:      time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Ideal:    true,
	})
	return []struct {
		name        string
		svg, figure templ.Component
	}{
		{"burndown", burnDownSVG(bd), BurnDownChart(bd)},
		{"sli", sliSVG(sli), SLIChart(sli)},
		{"latency", latencySVG(lat), LatencyChart(lat)},
		{"sparkline", SparklineChart(sp), SparklineChart(sp)},
		{"empty", burnDownSVG(empty), BurnDownChart(empty)},
	}
}

// TestGolden compares each chart byte for byte with testdata: NAME.golden.svg
// holds the SVG alone, NAME.golden.html the full figure with legend, events
// and data table. Run `go test ./views/charts -update` after an intended
// change and review the diff (and the pictures) before committing.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]templ.Component{tc.name + ".golden.svg": tc.svg}
			if tc.name != "sparkline" {
				files[tc.name+".golden.html"] = tc.figure
			}
			for file, c := range files {
				got := render(t, c)
				path := filepath.Join("testdata", file)
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the golden file; run `go test ./views/charts -update` and review the diff\n%s", path, firstDiff(got, string(want)))
				}
			}
		})
	}
}

// firstDiff shows where two outputs start to differ.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-80)
	return "at byte " + itoa(i) + ":\n got: …" + got[lo:min(len(got), i+80)] + "\nwant: …" + want[lo:min(len(want), i+80)]
}
