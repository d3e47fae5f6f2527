package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// A delivery gives its SLOs new numbers and leaves their settings as this replica
// loaded them (at 1,000 SLOs, reloading every SLO's settings at every delivery was a
// quarter of the app's work during a backfill); a change of settings, its service's
// included, is loaded at once.
func TestDeliveriesKeepSettingsLoaded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		f, _ := mustFeed(t, s, "web", "service")
		svc, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout", Team: "payments"})
		if err != nil {
			t.Fatal(err)
		}
		slo, _, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
			Target: "99", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		send := func(ago time.Duration) models.SLOReport {
			t.Helper()
			body := fmt.Sprintf(`{"results":[{"service":"checkout","_time":"%d","total":"100","good":"99"}]}`, now.Add(-ago).Unix())
			if _, err := s.IngestBody(ctx, f, 0, []byte(body), "application/json", now, models.IngestOptions{}); err != nil {
				t.Fatal(err)
			}
			settle(t, s)
			r, err := s.Report(ctx, slo.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		first := send(time.Hour)
		second := send(30 * time.Minute)
		if second.Version <= first.Version || second.Eval.Total != 200 {
			t.Fatalf("after a second delivery: version %d (was %d), total %v; want a newer version and 200", second.Version, first.Version, second.Eval.Total)
		}
		if second.Loaded != first.Loaded {
			t.Errorf("a delivery reloaded the SLO's settings (load %d, then %d)", first.Loaded, second.Loaded)
		}

		if _, err := s.UpdateService(ctx, "sam", svc.ID, models.ServiceInput{Name: "checkout", Team: "storefront"}); err != nil {
			t.Fatal(err)
		}
		settle(t, s)
		third, err := s.Report(ctx, slo.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if third.Service.Team != "storefront" || third.Loaded == second.Loaded || third.Eval.Total != 200 {
			t.Fatalf("after the service's team changed: team %q, load %d (was %d), total %v; want storefront, a new load, 200",
				third.Service.Team, third.Loaded, second.Loaded, third.Eval.Total)
		}
		fourth := send(20 * time.Minute)
		if fourth.Service.Team != "storefront" || fourth.Eval.Total != 300 {
			t.Fatalf("a delivery after the change: team %q, total %v; want storefront, 300", fourth.Service.Team, fourth.Eval.Total)
		}
	})
}
