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
		points := func(id int64) (good, total float64, n int) {
			var rows []struct{ Good, Total float64 }
			if err := s.DB().Table("slo_points").Where("slo_id = ?", id).Order("ts").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				good, total = good+r.Good, total+r.Total
			}
			return good, total, len(rows)
		}
		if g, tot, n := points(slices.ID); g != 1 || tot != 2 || n != 2 {
			t.Errorf("ratio in time slices: %v good of %v slices in %d points, want 1 of 2 in 2", g, tot, n)
		}
		if g, tot, n := points(events.ID); g != 2 || tot != 3 || n != 3 {
			t.Errorf("threshold in occurrences: %v good of %v events in %d points, want 2 of 3 in 3", g, tot, n)
		}
		rs, err := s.Report(ctx, slices.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		// Time slices: allowed bad time = 1% of 28 days = 6h43m12s; one bad 5-minute slice spent.
		if rs.Eval.AllowedBadTime != 6*time.Hour+43*time.Minute+12*time.Second || rs.Eval.BadTime != 5*time.Minute {
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
