package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// On PostgreSQL a delivery's roll-up change is queued in its transaction and folded in
// after the commit (fold.go). A derivation that runs in between reads the delivery's
// sample from the samples: the queued change must not be added again on top of what
// it sets. On SQLite the change is applied in the transaction; the same numbers hold.
func TestQueuedChangeCountsOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now().UTC().Truncate(time.Hour)
		s.Now = func() time.Time { return now }
		f, _ := mustFeed(t, s, "web", "service")
		if _, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout"}); err != nil {
			t.Fatal(err)
		}
		row := func(ago time.Duration) string {
			return fmt.Sprintf(`{"results":[{"service":"checkout","_time":"%d","total":"100","good":"99"}]}`, now.Add(-ago).Unix())
		}
		if _, errs := sqlstore.WriteTogether(s, []models.Feed{f}, []string{row(2 * time.Hour)}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		// Created now, the SLO derives its history from the stored sample; the
		// delivery below is written while that derivation is still to run.
		slo, _, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
			Target: "99", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"})
		if err != nil {
			t.Fatal(err)
		}
		if _, errs := sqlstore.WriteTogether(s, []models.Feed{f}, []string{row(time.Hour)}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		total := func() float64 {
			t.Helper()
			settle(t, s)
			r, err := s.Report(ctx, slo.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			return r.Eval.Total
		}
		if got := total(); got != 200 {
			t.Fatalf("after the derivation: %v events; want 200 (two samples of 100, each counted once)", got)
		}
		if _, errs := sqlstore.WriteTogether(s, []models.Feed{f}, []string{row(30 * time.Minute)}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		if got := total(); got != 300 {
			t.Fatalf("after a third sample, folded in: %v events; want 300", got)
		}
	})
}
