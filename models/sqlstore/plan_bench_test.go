package sqlstore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
)

// BenchmarkPlanDelivery is the app's work on a parsed 1,000-row delivery between
// parsing and the database, as in `make bench-scale`: each row its own series, read by
// one ratio SLO, none stored before; series numbered in the order of their names, as
// seriesIDs creates them, SLOs in the order they were made. It checks the rows against
// their bindings (prepare), finds the samples they touch (identities), plans the samples
// and roll-up differences (planBatch) and lays the change out for the fold queue
// (queueChange). No database: run it with
// `go test -run '^$' -bench PlanDelivery -benchmem ./models/sqlstore`.
func BenchmarkPlanDelivery(b *testing.B) {
	const rows = 1000
	feed := models.Feed{ID: 1, IntervalSeconds: 300}
	set := bindingSet{version: 1, policy: models.PolicyReplace}
	numbered := &fieldNames{ids: map[string]int64{"good": 1, "total": 2}, names: map[int64]string{1: "good", 2: "total"}}
	snap := snapshot{feeds: map[int64]feedState{1: {version: 1, policy: models.PolicyReplace}}, encode: numbered.encoder().encode}
	received := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	body := splunk.Body{Rows: make([]splunk.Row, rows)}
	ids := make([]int64, rows) // each row's series id, as tryBatch sets them
	names := make([]string, rows)
	for i := range rows {
		names[i] = fmt.Sprintf("svc-%d", i)
	}
	slices.Sort(names)
	for i := range rows {
		series := fmt.Sprintf("svc-%d", i)
		set.bindings = append(set.bindings, models.Binding{SLOID: int64(i + 1), FeedID: 1, Series: series,
			Indicator: models.IndicatorRatio, GoodField: "good", TotalField: "total"})
		body.Rows[i] = splunk.Row{Index: i, Time: received.Add(-5 * time.Minute), Series: series,
			Fields: models.Fields{{Name: "good", Value: float64(990 + i%10)}, {Name: "total", Value: 1000}}}
		k, _ := slices.BinarySearch(names, series)
		ids[i] = int64(k + 1)
	}
	set.index()
	for b.Loop() {
		parsed := body
		parsed.Rows = append([]splunk.Row(nil), body.Rows...)
		set.checkRows(&parsed)
		pd := &pendingDelivery{d: &models.Delivery{ReceivedAt: received}, rows: parsed.Rows, ids: ids, feed: feed, set: set}
		batch := []*pendingDelivery{pd}
		p, err := planBatch(batch, identities(batch), snap)
		if err != nil {
			b.Fatal(err)
		}
		if pd.d.Accepted != rows || len(p.hours) != rows {
			b.Fatalf("accepted %d, %d hour differences; want %d of each", pd.d.Accepted, len(p.hours), rows)
		}
		_ = queuedOf(&p.rollupChange).encode()
	}
}
