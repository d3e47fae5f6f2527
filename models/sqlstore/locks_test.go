package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// manySeriesRows is a body of one bucket at at for the series "checkout" and n-1 others,
// 100 events each, good of them good.
func manySeriesRows(at time.Time, n, good int) []byte {
	rows := make([]string, n)
	for i := range rows {
		name := "checkout"
		if i > 0 {
			name = fmt.Sprintf("svc-%05d", i)
		}
		rows[i] = fmt.Sprintf(`{"service":%q,"_time":"%d","total":"100","good":"%d"}`, name, at.Unix(), good)
	}
	return []byte(`{"results":[` + strings.Join(rows, ",") + `]}`)
}

// A delivery of 50,000 series, each new, on PostgreSQL: it took a lock per series in
// one transaction, ran out of the server's lock table ("out of shared memory", SQLSTATE
// 53200: about 30,000 locks on the test server, fewer than 13,000 on a default one), was
// taken for an outage and spooled, and could never be stored. It is stored (its series
// share the feed's 64 locks), sent again it is 50,000 duplicates, and the SLO on one of its series
// counts its row once. (SQLite takes no locks.)
func TestDeliveryOfManySeries(t *testing.T) {
	s := dbtest.Open(t, migrations.Postgres)
	s.IngestDeadline = time.Minute // one big delivery, not the deadline (race detector)
	now, f, slo := checkoutReady(t, s)
	const n = 50000
	body := manySeriesRows(now.Add(-10*time.Minute), n, 99)
	for i, want := range []models.IngestResult{{Accepted: n}, {Duplicates: n}} {
		res, err := s.IngestBody(ctx, f, 0, body, "application/json", now, models.IngestOptions{MaxRows: n})
		if err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
		if res.Accepted != want.Accepted || res.Duplicates != want.Duplicates {
			t.Fatalf("delivery %d: accepted %d, duplicates %d; want %d and %d", i+1, res.Accepted, res.Duplicates, want.Accepted, want.Duplicates)
		}
	}
	settle(t, s)
	r, err := s.Report(ctx, slo.ID, now)
	if err != nil || r.Eval.Total != 100 || r.Eval.Bad != 1 {
		t.Fatalf("the SLO counts %v bad of %v, want 1 of 100: %v", r.Eval.Bad, r.Eval.Total, err)
	}
}

// Two replicas send the same new buckets of 100 series at once, round after round: more
// series than a feed has locks, so the batches share stripes. Each guesses its bucket
// new; one stores it and the other, finding it stored, replaces it. The SLO
// counts what is stored.
func TestManySeriesFromTwoReplicasAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		s.IngestDeadline = time.Minute // counts under concurrency, not the deadline (race detector)
		other := dbtest.Reopen(t, s)
		other.IngestDeadline = s.IngestDeadline
		now, f, slo := checkoutReady(t, s)
		const rounds, series = 6, 100
		at := func(round int) time.Time { return now.Add(-time.Duration(rounds-round) * 5 * time.Minute) }
		for _, st := range []*sqlstore.Store{s, other} { // each replica now knows the newest bucket stored
			if _, err := st.IngestBody(ctx, f, 0, manySeriesRows(at(0), series, 99), "application/json", now, models.IngestOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		good := 99
		for round := 1; round < rounds; round++ {
			res := sendAtOnce(t, f, now, []*sqlstore.Store{s, other}, func(i int) []byte { return manySeriesRows(at(round), series, 90+i) }, series)
			if res[0].Replaced > 0 { // the second replaced the first's
				good += 90
			} else {
				good += 91
			}
		}
		settle(t, s)
		r, err := s.Report(ctx, slo.ID, now)
		if err != nil || r.Eval.Total != rounds*100 || r.Eval.Bad != float64(rounds*100-good) {
			t.Fatalf("the SLO counts %v bad of %v, want %d of %d: %v", r.Eval.Bad, r.Eval.Total, rounds*100-good, rounds*100, err)
		}
	})
}

// A writer creates the series it meets first, then waits for their locks; an SLO
// created on such a series used to create it too, before taking its lock, and so
// waited for that writer's transaction while the writer could wait for the SLO's lock:
// a deadlock, which PostgreSQL ends after a second by failing one of them. The SLO's
// change now finds the lock from the series key and creates nothing: here it is made
// while another transaction holds the series' new row uncommitted.
func TestBindingChangeBesideNewSeries(t *testing.T) {
	s := dbtest.Open(t, migrations.Postgres)
	f := checkoutFeed(t, s)
	db, err := sql.Open("pgx", s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	writer, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback()
	if _, err := writer.Exec("INSERT INTO series (feed_id, key) VALUES ($1, 'checkout')", f.ID); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, _, err := s.CreateSLO(c, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
		Target: "99", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"}); err != nil {
		t.Fatalf("an SLO on a series another transaction is creating: %v", err)
	}
}
