package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// An SLO whose data streams in (StreamChanges deliveries or more since its numbers were
// computed) is computed for the notifier at most every StreamGap, and one that gets a
// delivery now and then every ComputeGap, as before; pages and the API read both fresh.
func TestStreamingSLOIsComputedLessOften(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now().UTC().Truncate(5 * time.Minute)
		s.Now = func() time.Time { return now }
		f := checkoutFeed(t, s)
		ids := map[string]int64{}
		for _, series := range []string{"streaming", "trickle"} {
			slo, _, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: series, Indicator: "ratio",
				Target: "99", Window: "30d", Feed: "web", Series: series, GoodField: "good", TotalField: "total"})
			if err != nil {
				t.Fatal(err)
			}
			ids[series] = slo.ID
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		// 101 rows a delivery: more than a small delivery's, so PostgreSQL queues its
		// change for a fold, as a backfill's.
		bucket := 0
		send := func(series string) {
			t.Helper()
			var rows []string
			for range 101 {
				bucket++
				at := now.Add(-time.Duration(bucket) * 5 * time.Minute).Unix()
				rows = append(rows, fmt.Sprintf(`{"service":%q,"_time":"%d","total":"10","good":"9"}`, series, at))
			}
			res, err := s.IngestBody(ctx, f, 0, []byte(`{"results":[`+strings.Join(rows, ",")+`]}`), "application/json", now, models.IngestOptions{})
			if err != nil || res.Accepted != 101 {
				t.Fatalf("%s: %+v %v", series, res, err)
			}
		}
		send("streaming")
		send("trickle")
		settle(t, s)
		computed := time.Now()
		for range sqlstore.StreamChanges {
			send("streaming")
		}
		send("trickle")
		sqlstore.FoldOwn(s)
		time.Sleep(time.Until(computed.Add(sqlstore.ComputeGap + 200*time.Millisecond)))
		if time.Since(computed) >= sqlstore.StreamGap {
			t.Fatalf("the deliveries took %v: too long to tell the gaps apart", time.Since(computed))
		}
		totals := func(rs []models.SLOReport) map[int64]float64 {
			out := map[int64]float64{}
			for _, r := range rs {
				out[r.ID] = r.Eval.Total
			}
			return out
		}
		held, err := s.HeldReports(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		got := totals(held)
		if got[ids["trickle"]] != 2020 {
			t.Errorf("the notifier's view of an SLO with one delivery since it was computed %v ago: total %v, want 2020 (computed again)",
				sqlstore.ComputeGap, got[ids["trickle"]])
		}
		if got[ids["streaming"]] != 1010 {
			t.Errorf("the notifier's view of an SLO with %d deliveries since it was computed less than %v ago: total %v, want 1010 (held)",
				sqlstore.StreamChanges, sqlstore.StreamGap, got[ids["streaming"]])
		}
		fresh, err := s.Reports(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		got = totals(fresh)
		if got[ids["streaming"]] != 9090 || got[ids["trickle"]] != 2020 {
			t.Errorf("what pages read: totals %v (streaming) and %v (trickle), want 9090 and 2020", got[ids["streaming"]], got[ids["trickle"]])
		}
	})
}
