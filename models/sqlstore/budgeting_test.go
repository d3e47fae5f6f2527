package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// The budgeting method reaches the stored points and the math through the
// existing ingest and evaluation: a ratio SLO in time slices stores one slice per
// row (good when good/total ≥ 99%) and is budgeted in time; a threshold SLO in
// occurrences stores one event per row and is budgeted in events.
func TestBudgetingMethodThroughIngestAndEvaluation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		feed, _ := mustFeed(t, s, "web", "service")
		now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		if _, err := s.CreateService(ctx, "ci", models.ServiceInput{Name: "checkout"}); err != nil {
			t.Fatal(err)
		}
		slices, _, err := s.CreateSLO(ctx, "ci", models.SLOInput{Service: "checkout", Name: "slices", Feed: "web", Series: "checkout", Indicator: "ratio",
			GoodField: "good", TotalField: "total", Target: "99", Window: "28d", Budgeting: "timeslices", SliceTarget: "99"})
		if err != nil {
			t.Fatal(err)
		}
		events, _, err := s.CreateSLO(ctx, "ci", models.SLOInput{Service: "checkout", Name: "events", Feed: "web", Series: "checkout", Indicator: "threshold",
			ValueField: "p95_ms", Op: "lte", Threshold: "300", Target: "99", Window: "28d", Budgeting: "occurrences"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		// 990/1000 = 99%: a good slice. 980/1000: a bad one. 0/0: a slice without data.
		body := fmt.Sprintf(`{"results": [
			{"_time": "%d", "service": "checkout", "good": "990", "total": "1000", "p95_ms": "250"},
			{"_time": "%d", "service": "checkout", "good": "980", "total": "1000", "p95_ms": "450"},
			{"_time": "%d", "service": "checkout", "good": "0", "total": "0", "p95_ms": "100"}]}`,
			now.Add(-15*time.Minute).Unix(), now.Add(-10*time.Minute).Unix(), now.Add(-5*time.Minute).Unix())
		res, err := s.IngestBody(ctx, feed, 0, []byte(body), "application/json", now, models.IngestOptions{MaxRows: 100})
		if err != nil || res.Accepted != 3 {
			t.Fatalf("ingest %+v %v", res, err)
		}
		if err := s.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		rs, err := s.Report(ctx, slices.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		// Time slices: two slices with data, one bad; allowed bad time = 1% of 28 days =
		// 6h43m12s; one bad 5-minute slice spent.
		if rs.Eval.Total != 2 || rs.Eval.Bad != 1 || rs.Eval.AllowedBadTime != 6*time.Hour+43*time.Minute+12*time.Second || rs.Eval.BadTime != 5*time.Minute {
			t.Errorf("ratio in time slices is not budgeted in time: %+v", rs.Eval)
		}
		re, err := s.Report(ctx, events.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		// Events: allowed bad = 1% of 3 events = 0.03; no time budget.
		if re.Eval.AllowedBadTime != 0 || re.Eval.Total != 3 || re.Eval.Bad != 1 {
			t.Errorf("threshold in occurrences is not budgeted in events: %+v", re.Eval)
		}
	})
}
