package handlers

import (
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// An overview is drawn into a buffer the size of the last one with the same filters,
// and what is kept is what was drawn, longer or shorter than the last.
func TestOverviewCacheDrawsIntoLastSize(t *testing.T) {
	var c overviewCache
	page := func(n int) func() templ.Component {
		return func() templ.Component { return templ.Raw(strings.Repeat("<tr>x</tr>", n)) }
	}
	all, filtered := overviewKey{numbers: [32]byte{1}}, overviewKey{numbers: [32]byte{1}, query: "service=a"}
	for i, step := range []struct {
		key  overviewKey
		rows int
		last int // lastSize before drawing
	}{
		{all, 1000, 0},
		{filtered, 10, 0},
		{overviewKey{numbers: [32]byte{2}}, 1200, 10000},               // new numbers: the last drawing without filters
		{overviewKey{numbers: [32]byte{3}}, 300, 12000},                // shorter than the last
		{overviewKey{numbers: [32]byte{3}, query: "service=a"}, 20, 0}, // its last drawing was dropped with numbers 1
	} {
		if got := c.lastSize(step.key); got != step.last {
			t.Errorf("step %d: last size %d, want %d", i, got, step.last)
		}
		shared, err := c.get(step.key, page(step.rows))
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Repeat("<tr>x</tr>", step.rows); shared.html != want {
			t.Errorf("step %d: kept %d bytes, drew %d", i, len(shared.html), len(want))
		}
	}
}
