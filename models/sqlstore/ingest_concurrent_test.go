package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Many single-row deliveries at once, half of them repeats of another's row,
// as Splunk's "For each result" mode and a retrying proxy would send: every
// row is stored once with its SLO point, every delivery is answered with the
// counts its record keeps, and accepted plus duplicates add up.
func TestConcurrentDeliveries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		// This test is about counts under concurrency, not the deadline: under the race
		// detector SQLite's pure-Go engine runs several times slower, and 16 writers queue
		// past the 2 s a delivery may wait in production.
		s.IngestDeadline = time.Minute
		f, _ := mustFeed(t, s, "web", "service")
		if _, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout"}); err != nil {
			t.Fatal(err)
		}
		slo, _, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
			Target: "99.9", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		const senders, each = 16, 25
		start := time.Now().Add(-2 * 24 * time.Hour).Truncate(5 * time.Minute)
		results := make([][]models.IngestResult, senders)
		var wg sync.WaitGroup
		for w := 0; w < senders; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					row := (w/2)*each + i                                 // senders 2k and 2k+1 post the same rows
					at := start.Add(time.Duration(row) * 5 * time.Minute) // one bucket per row
					body := fmt.Sprintf(`{"sid":"scheduler__a__s__RMD5x_at_%d_%d","result":{"service":"checkout","_time":"%d","total":"100","good":"99"}}`,
						start.Unix(), row, at.Unix())
					res, err := s.IngestBody(ctx, f, 0, []byte(body), "application/json", time.Now(), models.IngestOptions{})
					if err != nil {
						t.Error(err)
						return
					}
					results[w] = append(results[w], res)
				}
			}()
		}
		wg.Wait()
		unique := senders / 2 * each
		accepted, duplicates := 0, 0
		byID := map[int64]models.IngestResult{}
		for _, rs := range results {
			for _, r := range rs {
				accepted += r.Accepted
				duplicates += r.Duplicates
				if _, seen := byID[r.DeliveryID]; seen {
					t.Fatalf("delivery id %d answered twice", r.DeliveryID)
				}
				byID[r.DeliveryID] = r
			}
		}
		if accepted != unique || duplicates != senders*each-unique {
			t.Fatalf("accepted %d duplicates %d, want %d and %d", accepted, duplicates, unique, senders*each-unique)
		}
		var ds []models.Delivery
		for before := int64(0); ; {
			page, err := s.Deliveries(ctx, f.ID, models.DeliveryQuery{Limit: 100, BeforeID: before})
			if err != nil {
				t.Fatal(err)
			}
			ds = append(ds, page...)
			if len(page) < 100 {
				break
			}
			before = page[len(page)-1].ID
		}
		if len(ds) != senders*each {
			t.Fatalf("%d deliveries recorded, want %d", len(ds), senders*each)
		}
		for _, d := range ds {
			r := byID[d.ID]
			if d.Accepted != r.Accepted || d.Duplicates != r.Duplicates || d.Outcome != r.Outcome || d.Code != "" {
				t.Fatalf("delivery %d recorded %d/%d %s %q, answered %+v", d.ID, d.Accepted, d.Duplicates, d.Outcome, d.Code, r)
			}
		}
		samples, err := s.Samples(ctx, f.ID, models.SampleQuery{Limit: 5000})
		if err != nil || len(samples) != unique {
			t.Fatalf("%d samples, want %d: %v", len(samples), unique, err)
		}
		// Every bucket counted once in the SLO's roll-ups: 100 events, 1 bad, each.
		if err := s.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := s.Report(ctx, slo.ID, time.Now())
		if err != nil || r.Eval.Total != float64(unique*100) || r.Eval.Bad != float64(unique) {
			t.Fatalf("SLO counted total %v bad %v, want %d and %d: %v", r.Eval.Total, r.Eval.Bad, unique*100, unique, err)
		}
	})
}

// One statement writes a whole batch on PostgreSQL. A delivery that cannot
// be stored (its feed was deleted) fails alone; the others in its batch are
// stored. Two deliveries of one row in the same batch store it once.
func TestBatchedDeliveriesFailAlone(t *testing.T) {
	s := dbtest.Open(t, migrations.Postgres)
	f, _ := mustFeed(t, s, "web", "service")
	gone, _ := mustFeed(t, s, "gone", "service")
	if err := s.DeleteFeed(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	row := func(sid string, ts int) string {
		return fmt.Sprintf(`{"sid":%q,"result":{"service":"checkout","_time":"%d","total":"10","good":"10"}}`, sid, ts)
	}
	ds, errs := sqlstore.WriteTogether(s, []models.Feed{f, gone, f, f},
		[]string{row("a", 1700000100), row("b", 1700000400), row("c", 1700000700), row("c", 1700000700)})
	if errs[0] != nil || errs[2] != nil || errs[3] != nil || errs[1] == nil {
		t.Fatalf("errors %v", errs)
	}
	if ds[0].Accepted != 1 || ds[2].Accepted+ds[3].Accepted != 1 || ds[2].Duplicates+ds[3].Duplicates != 1 {
		t.Fatalf("counts %+v", ds)
	}
	ds, errs = sqlstore.WriteTogether(s, []models.Feed{f, f}, []string{row("a", 1700000100), row("d", 1700001000)})
	if errs[0] != nil || errs[1] != nil || ds[0].Outcome != models.OutcomeDuplicate || ds[1].Outcome != models.OutcomeAccepted {
		t.Fatalf("second batch %+v %v", ds, errs)
	}
	recorded, err := s.Deliveries(ctx, f.ID, models.DeliveryQuery{})
	if err != nil || len(recorded) != 5 {
		t.Fatalf("%d deliveries recorded: %v", len(recorded), err)
	}
	samples, err := s.Samples(ctx, f.ID, models.SampleQuery{})
	if err != nil || len(samples) != 3 {
		t.Fatalf("%d samples: %v", len(samples), err)
	}
}

// Deleting a feed deletes its samples and deliveries, and nothing of another feed's.
func TestDeleteFeedDeletesItsData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		web, _ := mustFeed(t, s, "web", "service")
		other, _ := mustFeed(t, s, "other", "service")
		for _, f := range []models.Feed{web, other} {
			if _, err := s.IngestBody(ctx, f, 0, readFixture(t, "native_slo_report.json"), "", time.Now(), models.IngestOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteFeed(ctx, web.ID); err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int64{"samples": 0, "deliveries": 0, "feed_tokens": 0} {
			var n int64
			q := "SELECT count(*) FROM " + table + " WHERE feed_id = ?"
			if table == "samples" {
				q = "SELECT count(*) FROM samples WHERE series_id IN (SELECT id FROM series WHERE feed_id = ?)"
			}
			if err := s.DB().Raw(q, web.ID).Scan(&n).Error; err != nil || n != want {
				t.Errorf("%s of the deleted feed: %d %v", table, n, err)
			}
		}
		if samples, err := s.Samples(ctx, other.ID, models.SampleQuery{}); err != nil || len(samples) != 1 {
			t.Fatalf("the other feed's samples: %d %v", len(samples), err)
		}
		if err := s.DeleteFeed(ctx, web.ID); models.ErrorCode(err) != models.ENOTFOUND {
			t.Fatalf("second delete: %v", err)
		}
	})
}
