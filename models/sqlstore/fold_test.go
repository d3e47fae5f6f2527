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

// On PostgreSQL a big delivery's roll-up change is queued in its transaction and folded
// in after the commit (fold.go). A derivation that runs in between reads the delivery's
// samples from the samples table: the queued change must not be added again on top of
// what it sets. Small deliveries fold in their own transaction. On SQLite every change
// is applied in its transaction; the same numbers hold.
func TestQueuedChangeCountsOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now().UTC().Truncate(time.Hour)
		s.Now = func() time.Time { return now }
		f := checkoutFeed(t, s)
		// deliver writes n rows of 100 events, 5 minutes apart from ago back, as one
		// delivery; more than 100 rows are queued on PostgreSQL, and nothing folds them
		// but the steps below.
		deliver := func(ago time.Duration, n int) {
			t.Helper()
			rows := make([]string, n)
			for i := range rows {
				rows[i] = fmt.Sprintf(`{"service":"checkout","_time":"%d","total":"100","good":"99"}`, now.Add(-ago+time.Duration(i)*5*time.Minute).Unix())
			}
			if _, errs := sqlstore.WriteTogether(s, []models.Feed{f}, []string{`{"results":[` + strings.Join(rows, ",") + `]}`}); errs[0] != nil {
				t.Fatal(errs[0])
			}
		}
		deliver(24*time.Hour, 101)
		// Created now, the SLO derives its history from the stored samples; the
		// delivery below is written while that derivation is still to run.
		slo := checkoutSLO(t, s)
		deliver(12*time.Hour, 101)
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
		if got := total(); got != 20200 {
			t.Fatalf("after the derivation: %v events; want 20200 (202 samples of 100, each counted once)", got)
		}
		deliver(40*time.Hour, 101) // queued, folded when the replica settles
		if got := total(); got != 30300 {
			t.Fatalf("after 101 more samples, folded in: %v events; want 30300", got)
		}
		deliver(time.Hour, 1) // folded in its own transaction
		if got := total(); got != 30400 {
			t.Fatalf("after one more sample: %v events; want 30400", got)
		}
	})
}

// A queued change no fold can read is dropped with an error in the log: left in the
// queue it would fail every fold after it, and with them every small delivery.
func TestUnreadableQueuedChangeIsDropped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now().UTC().Truncate(time.Hour)
		s.Now = func() time.Time { return now }
		f := checkoutFeed(t, s)
		slo := checkoutSLO(t, s)
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		if err := sqlstore.QueueRaw(s, []byte(`{"slo":[1],"gen":[]}`)); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf(`{"results":[{"service":"checkout","_time":"%d","total":"100","good":"99"}]}`, now.Add(-time.Hour).Unix())
		if _, errs := sqlstore.WriteTogether(s, []models.Feed{f}, []string{body}); errs[0] != nil {
			t.Fatalf("a small delivery after an unreadable queued change: %v", errs[0])
		}
		settle(t, s)
		r, err := s.Report(ctx, slo.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if r.Eval.Total != 100 {
			t.Fatalf("%v events; want 100", r.Eval.Total)
		}
	})
}

// checkoutFeed creates the feed "web" (series by "service") and the service "checkout".
func checkoutFeed(t *testing.T, s *sqlstore.Store) models.Feed {
	t.Helper()
	f, _ := mustFeed(t, s, "web", "service")
	if _, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// checkoutSLO creates a 99 % ratio SLO on checkoutFeed's series "checkout".
func checkoutSLO(t *testing.T, s *sqlstore.Store) models.SLODetail {
	t.Helper()
	slo, _, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
		Target: "99", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"})
	if err != nil {
		t.Fatal(err)
	}
	return slo
}
