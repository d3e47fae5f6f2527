package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/sync/singleflight"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
	"github.com/sitemetrics/sitemetrics/views/charts"
)

// overviewCache keeps the overviews drawn for the current numbers, compressed: a
// thousand people opening the overview at once cost one drawing and one compression
// per set of filters, not a thousand; those arriving while it is drawn wait for it.
type overviewCache struct {
	mu     sync.Mutex
	m      map[overviewKey]*sharedHTML
	flight singleflight.Group
}

// lastSize is the length of the overview drawn last with k's filters, still kept
// while the next is drawn (0 if none is): the next is drawn into a buffer that size,
// not one grown by doubling (at 10,000 SLOs the page is megabytes, and growing its
// buffer was a sixteenth of the app's CPU while every SLO changed).
func (c *overviewCache) lastSize(k overviewKey) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for old, shared := range c.m {
		if old.query == k.query && old.canEdit == k.canEdit {
			return len(shared.html)
		}
	}
	return 0
}

func (c *overviewCache) get(k overviewKey, draw func() templ.Component) (*sharedHTML, error) {
	c.mu.Lock()
	shared, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return shared, nil
	}
	v, err, _ := c.flight.Do(fmt.Sprintf("%x/%s/%t/%d", k.numbers, k.query, k.canEdit, k.tick), func() (any, error) {
		size := c.lastSize(k)
		var b strings.Builder
		b.Grow(size + size/32)
		if err := draw().Render(context.Background(), &b); err != nil {
			return nil, err
		}
		html := b.String()
		if b.Cap()-b.Len() > b.Len()/16 {
			html = strings.Clone(html) // the first drawing, or shorter than the last: kept without the room
		}
		shared, err := newSharedHTML(html)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for old := range c.m {
			if old.numbers != k.numbers || old.tick != k.tick || len(c.m) >= 64 {
				delete(c.m, old) // drawn for other numbers, another tick, or too many filters
			}
		}
		if c.m == nil {
			c.m = map[overviewKey]*sharedHTML{}
		}
		c.m[k] = shared
		return shared, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*sharedHTML), nil
}

// sparklineCache keeps each SLO's laid-out sparkline for as long as its
// evaluation (the same r.At) is served: drawing 100 of them is most of an
// overview's work otherwise.
type sparklineCache struct {
	mu sync.Mutex
	m  map[int64]sparkEntry
}

// sparkEntry is a sparkline's markup, drawn once per summary: drawing it is most of
// what an overview costs, and a thousand viewers see the same one.
type sparkEntry struct {
	at    time.Time
	title string
	html  templ.Component
}

func (c *sparklineCache) get(ctx context.Context, r models.SLOReport, draw func() charts.Sparkline) templ.Component {
	c.mu.Lock()
	e, ok := c.m[r.ID]
	c.mu.Unlock()
	if ok && e.at.Equal(r.At) && e.title == r.Title() {
		return e.html
	}
	var b strings.Builder
	if err := charts.SparklineChart(draw()).Render(ctx, &b); err != nil {
		return charts.SparklineChart(draw()) // drawn again where it is shown, which reports the error
	}
	html := templ.Raw(b.String())
	c.mu.Lock()
	if c.m == nil {
		c.m = map[int64]sparkEntry{}
	}
	c.m[r.ID] = sparkEntry{r.At, r.Title(), html}
	c.mu.Unlock()
	return html
}

// dataAge says how fresh an SLO's data is: "updated 3 min ago", or loudly stale.
func dataAge(r models.SLOReport, now time.Time) string {
	switch {
	case r.LastDataAt == nil:
		return "no data yet"
	case r.Eval.Stale:
		return "stale: no data for " + span(now.Sub(*r.LastDataAt))
	default:
		return "updated " + ago(now, *r.LastDataAt)
	}
}

// rowCache keeps each SLO's overview row drawn, for its numbers and the overview's
// tick: while data arrives a few SLOs change each second, and the overview is drawn
// again from the rows of the rest as they were.
type rowCache struct {
	mu sync.Mutex
	m  map[int64]rowEntry
}

type rowEntry struct {
	numbers sloNumbers
	tick    int64
	drawn   templ.Component
}

func (c *rowCache) get(r models.SLOReport, tick int64, row func() views.OverviewRow) views.OverviewRow {
	c.mu.Lock()
	e, ok := c.m[r.ID]
	c.mu.Unlock()
	if ok && e.numbers == numbersOf(r) && e.tick == tick {
		return views.OverviewRow{ID: r.ID, Drawn: e.drawn}
	}
	v := row()
	var b strings.Builder
	if err := views.OverviewRowHTML(v).Render(context.Background(), &b); err != nil {
		return v // drawn again in the page, whose renderer reports the error
	}
	v.Drawn = templ.Raw(b.String())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]rowEntry{}
	}
	c.m[r.ID] = rowEntry{numbers: numbersOf(r), tick: tick, drawn: v.Drawn}
	return v
}

// forgetExcept drops the rows of SLOs no longer shown anywhere.
func (c *rowCache) forgetExcept(reports []models.SLOReport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) <= len(reports) {
		return
	}
	keep := make(map[int64]bool, len(reports))
	for _, r := range reports {
		keep[r.ID] = true
	}
	for id := range c.m {
		if !keep[id] {
			delete(c.m, id)
		}
	}
}
