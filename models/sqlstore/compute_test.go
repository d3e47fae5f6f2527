package sqlstore_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// The read model computes SLOs in batches, one statement per step for the whole batch.
// Each SLO's numbers must be those it gets computed alone: its own series, generation,
// maintenance windows (its own and its service's, not another's) and data time, with
// SLOs without data and SLOs deleted meanwhile in the same batch.
func TestBatchedSummariesMatchEachAlone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		f, _ := mustFeed(t, s, "web", "service")
		start := now.Add(-48 * time.Hour)
		post(t, s, f, "checkout", start, 576, func(i int) string {
			return fmt.Sprintf(`"total":"1000","good":"%d","p95_ms":"%d"`, 1000-i%7, 200+i%300)
		})
		post(t, s, f, "search", start.Add(-3*time.Hour), 300, func(i int) string {
			return fmt.Sprintf(`"total":"500","good":"%d"`, 500-i%11)
		})
		var ids []int64
		slo := func(in models.SLOInput) int64 {
			t.Helper()
			if _, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: in.Service}); err != nil && models.ErrorCode(err) != models.ECONFLICT {
				t.Fatal(err)
			}
			in.Feed, in.Target = "web", "99"
			d, _, err := s.CreateSLO(ctx, "sam", in)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, d.ID)
			return d.ID
		}
		availability := slo(models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio", Window: "30d",
			Series: "checkout", GoodField: "good", TotalField: "total"})
		latency := slo(models.SLOInput{Service: "checkout", Name: "checkout-latency", Indicator: "threshold", Window: "7d",
			Series: "checkout", ValueField: "p95_ms", Op: "lte", Threshold: "400"})
		searchID := slo(models.SLOInput{Service: "search", Name: "search-availability", Indicator: "ratio", Window: "month",
			Series: "search", GoodField: "good", TotalField: "total"})
		slo(models.SLOInput{Service: "payments", Name: "payments-availability", Indicator: "ratio", Window: "30d",
			Series: "payments", GoodField: "good", TotalField: "total"}) // nothing received
		gone := slo(models.SLOInput{Service: "search", Name: "search-spare", Indicator: "ratio", Window: "30d",
			Series: "search", GoodField: "good", TotalField: "total"})
		search, err := s.SLO(ctx, searchID)
		if err != nil {
			t.Fatal(err)
		}
		windows := []models.MaintenanceInput{
			{SLOID: &latency, StartsAt: now.Add(-20 * time.Hour), EndsAt: now.Add(-17 * time.Hour), Reason: "latency's own"},
			{ServiceID: &search.ServiceID, StartsAt: now.Add(-30 * time.Hour), EndsAt: now.Add(-29 * time.Hour), Reason: "search's"},
		}
		for _, w := range windows {
			if _, err := s.CreateMaintenance(ctx, "bob", w); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSLO(ctx, "sam", gone); err != nil {
			t.Fatal(err)
		}
		together, sparks, err := sqlstore.EvaluateTogether(s, ids)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := together[gone]; ok || len(together) != len(ids)-1 {
			t.Fatalf("computed %d SLOs (deleted one included: %v); want the %d that exist", len(together), ok, len(ids)-1)
		}
		seen := map[float64]bool{}
		for _, id := range ids[:len(ids)-1] {
			alone, aloneSpark, err := sqlstore.EvaluateTogether(s, []int64{id})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(together[id], alone[id]) || !reflect.DeepEqual(sparks[id], aloneSpark[id]) {
				t.Errorf("SLO %d in a batch:\n%+v\n%+v\nalone:\n%+v\n%+v", id, together[id], sparks[id], alone[id], aloneSpark[id])
			}
			seen[together[id].Total] = true
		}
		if len(seen) != 4 || !seen[0] {
			t.Errorf("event totals %v: want four different ones, 0 for the SLO without data (the SLOs must differ for the test to tell them apart)", seen)
		}
		if together[availability].Total == 0 || together[searchID].Bad == 0 || together[latency].Bad == 0 {
			t.Errorf("numbers missing: availability %+v, search %+v, latency %+v", together[availability], together[searchID], together[latency])
		}
	})
}

// Creating an SLO on a feed that has received nothing says so, whatever SLOs were
// created before it (on PostgreSQL each made its series row, which once read as rows
// received); once rows arrive, an SLO on a series never sent is told apart.
func TestUnseenSeriesWarnings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		f := checkoutFeed(t, s)
		create := func(series string) []string {
			t.Helper()
			_, warnings, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: series + "-availability", Indicator: "ratio",
				Target: "99", Window: "30d", Feed: "web", Series: series, GoodField: "good", TotalField: "total"})
			if err != nil {
				t.Fatal(err)
			}
			return warnings
		}
		for _, series := range []string{"checkout", "search"} {
			if w := create(series); len(w) != 1 || !strings.Contains(w[0], "has not received any rows yet") {
				t.Fatalf("SLO on %s before any row: warnings %q", series, w)
			}
		}
		post(t, s, f, "checkout", now.Add(-time.Hour), 1, func(int) string { return `"total":"10","good":"10"` })
		if w := create("payments"); len(w) != 1 || !strings.Contains(w[0], `has never sent a row for series "payments"`) {
			t.Fatalf("SLO on a series never sent: warnings %q", w)
		}
	})
}
