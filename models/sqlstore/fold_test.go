package sqlstore_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
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
		// delivery; more than 100 rows are queued on PostgreSQL, and folded by the steps
		// below or soon after the write, whichever comes first.
		deliver := func(ago time.Duration, n int) {
			t.Helper()
			if _, errs := sqlstore.WriteTogether(s, []models.Feed{f}, []string{checkoutRows(now.Add(-ago), n, 99)}); errs[0] != nil {
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
		now, f, slo := checkoutReady(t, s)
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

// A replica writes buckets later than the newest it stored without reading back what is
// stored (PostgreSQL): when another replica stored one of them meanwhile, the guess is
// wrong, and the delivery is written again after reading it. It must then count as a
// replacement, and the roll-ups must hold the new value only.
func TestGuessedNewSampleStoredByAnotherReplica(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		other := dbtest.Reopen(t, s)
		now, f, slo := checkoutReady(t, s)
		t0 := now.Add(-time.Hour)
		send := func(st *sqlstore.Store, bucket int, good int) models.IngestResult {
			t.Helper()
			at := t0.Add(time.Duration(bucket) * 5 * time.Minute)
			body := fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"100","good":"%d"}}`, at.Unix(), good)
			res, err := st.IngestBody(ctx, f, 0, []byte(body), "application/json", now, models.IngestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		for b := range 2 { // this replica's newest is bucket 1
			if res := send(s, b, 99); res.Accepted != 1 {
				t.Fatalf("bucket %d: %+v", b, res)
			}
		}
		if res := send(other, 2, 90); res.Accepted != 1 {
			t.Fatalf("bucket 2 from the other replica: %+v", res)
		}
		if res := send(s, 2, 95); res.Replaced != 1 || res.Accepted != 0 {
			t.Fatalf("bucket 2 again, with other numbers, where it looked new: %+v; want it replaced", res)
		}
		if res := send(s, 2, 95); res.Duplicates != 1 {
			t.Fatalf("bucket 2 a third time, the same: %+v; want a duplicate", res)
		}
		if res := send(s, 3, 98); res.Accepted != 1 {
			t.Fatalf("bucket 3: %+v", res)
		}
		settle(t, s)
		r, err := s.Report(ctx, slo.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if r.Eval.Total != 400 || r.Eval.Bad != 1+1+5+2 {
			t.Fatalf("total %v, bad %v; want 400 and 9 (bucket 2 counted once, with its last numbers)", r.Eval.Total, r.Eval.Bad)
		}
	})
}

// A big delivery's answer does not wait for the fold of its roll-up change (PostgreSQL
// queues it), but the fold follows on its own: with nobody reading on the replica that
// took it, the queue empties and another replica shows the numbers. A store closed
// right after a delivery folds what it queued first.
func TestQueuedChangeFoldedSoon(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now, f, slo := checkoutReady(t, s)
		deliver := func(st *sqlstore.Store, from time.Time) {
			t.Helper()
			body := checkoutRows(from, 101, 99) // more than 100 rows: queued on PostgreSQL
			res, err := st.IngestBody(ctx, f, 0, []byte(body), "application/json", now, models.IngestOptions{})
			if err != nil || res.Accepted != 101 {
				t.Fatalf("%+v %v", res, err)
			}
		}
		queued := func() int64 {
			t.Helper()
			var n int64
			if s.Dialect() == migrations.Postgres {
				if err := s.DB().Raw("SELECT count(*) FROM rollup_queue").Scan(&n).Error; err != nil {
					t.Fatal(err)
				}
			}
			return n
		}
		deliver(s, now.Add(-24*time.Hour))
		deadline := time.Now().Add(5 * time.Second)
		for queued() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := queued(); n > 0 {
			t.Fatalf("%d roll-up changes still queued 5 s after the answer", n)
		}
		other := dbtest.Reopen(t, s)
		r, err := other.Report(ctx, slo.ID, now)
		if err != nil || r.Eval.Total != 10100 {
			t.Fatalf("the other replica shows %v events (%v); want 10100", r.Eval.Total, err)
		}

		closing := dbtest.Reopen(t, s)
		closing.Now = s.Now
		deliver(closing, now.Add(-36*time.Hour))
		if err := closing.Close(); err != nil {
			t.Fatal(err)
		}
		if n := queued(); n > 0 {
			t.Fatalf("%d roll-up changes still queued after the store that took them closed", n)
		}
		if err := other.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		if r, err = other.Report(ctx, slo.ID, now); err != nil || r.Eval.Total != 20200 {
			t.Fatalf("after the second delivery the other replica shows %v events (%v); want 20200", r.Eval.Total, err)
		}
	})
}

// checkoutReady sets the clock to the hour, creates checkoutFeed and checkoutSLO, and
// derives the SLO's (empty) history.
func checkoutReady(t *testing.T, s *sqlstore.Store) (time.Time, models.Feed, models.SLODetail) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Hour)
	s.Now = func() time.Time { return now }
	f := checkoutFeed(t, s)
	slo := checkoutSLO(t, s)
	if err := s.DeriveAll(ctx); err != nil {
		t.Fatal(err)
	}
	return now, f, slo
}

// checkoutRows is a body of n rows of 100 events for checkoutFeed, good of them good,
// 5 minutes apart from from on.
func checkoutRows(from time.Time, n, good int) string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf(`{"service":"checkout","_time":"%d","total":"100","good":"%d"}`, from.Add(time.Duration(i)*5*time.Minute).Unix(), good)
	}
	return `{"results":[` + strings.Join(rows, ",") + `]}`
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

// Big deliveries of buckets later than any stored share their series' locks: from two
// replicas at once, each round's buckets sent by both with other numbers, one stores
// them and the other, meeting its rows, writes them again as replacements. Every round
// ends with one delivery's numbers stored and the roll-ups holding exactly those.
func TestNewBucketsFromTwoReplicasAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		s.IngestDeadline = time.Minute // counts under concurrency, not the deadline (race detector)
		other := dbtest.Reopen(t, s)
		other.IngestDeadline = s.IngestDeadline
		now, f, slo := checkoutReady(t, s)
		const rounds, rows = 8, 101 // more than 100 rows: written alone
		from := now.Add(-time.Duration(rounds*rows+1) * 5 * time.Minute)
		body := func(round, good int) []byte {
			return []byte(checkoutRows(from.Add(time.Duration(round*rows)*5*time.Minute), rows, good))
		}
		for _, st := range []*sqlstore.Store{s, other} { // each replica now knows the newest bucket stored
			if _, err := st.IngestBody(ctx, f, 0, body(0, 99), "application/json", now, models.IngestOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for round := 1; round < rounds; round++ {
			sendAtOnce(t, f, now, []*sqlstore.Store{s, other}, func(i int) []byte { return body(round, 90+i) }, rows)
		}
		settle(t, s)
		r, err := s.Report(ctx, slo.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.Samples(ctx, f.ID, models.SampleQuery{Limit: 5000})
		if err != nil {
			t.Fatal(err)
		}
		var bad, total float64
		for _, x := range stored {
			bad, total = bad+x.Fields["total"]-x.Fields["good"], total+x.Fields["total"]
		}
		if len(stored) != rounds*rows || total != float64(rounds*rows*100) {
			t.Fatalf("%d samples of %v events stored; want %d of 100 each", len(stored), total, rounds*rows)
		}
		if r.Eval.Bad != bad || r.Eval.Total != total {
			t.Fatalf("the SLO counts %v bad of %v; the samples stored hold %v of %v", r.Eval.Bad, r.Eval.Total, bad, total)
		}
	})
}

// Under 'add' a bucket later than any stored is written as new too (it has no row parts
// yet): its row is remembered, so the same row sent again is a duplicate, and the SLO
// counts it once. The delivery here was parsed while the feed still replaced samples.
func TestNewBucketUnderAddWrittenAsNew(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now, f, slo := checkoutReady(t, s)
		send := func(at time.Time) models.IngestResult {
			t.Helper()
			res, err := s.IngestBody(ctx, f, 0, []byte(checkoutRows(at, 1, 99)), "application/json", now, models.IngestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		start := now.Add(-time.Hour)
		send(start) // this replica now knows the newest bucket stored
		if _, err := s.UpdateFeed(ctx, f.ID, models.FeedInput{Name: f.Name, Interval: "5m", SeriesField: "service", SamplePolicy: models.PolicyAdd}); err != nil {
			t.Fatal(err)
		}
		next := start.Add(5 * time.Minute)
		if res := send(next); res.Accepted != 1 {
			t.Fatalf("a new bucket after the change: %+v", res)
		}
		if res := send(next); res.Duplicates != 1 {
			t.Fatalf("the same row again: %+v; want a duplicate", res)
		}
		settle(t, s)
		if r, err := s.Report(ctx, slo.ID, now); err != nil || r.Eval.Total != 200 {
			t.Fatalf("the SLO counts %v events (%v); want 200", r.Eval.Total, err)
		}
	})
}

// sendAtOnce has each replica send its body of the same new rows to f at the same
// time: one stores them and the other, finding them stored, replaces them.
func sendAtOnce(t *testing.T, f models.Feed, now time.Time, replicas []*sqlstore.Store, body func(i int) []byte, rows int) []models.IngestResult {
	t.Helper()
	var wg sync.WaitGroup
	res := make([]models.IngestResult, len(replicas))
	for i, st := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := st.IngestBody(ctx, f, 0, body(i), "application/json", now, models.IngestOptions{})
			if err != nil {
				t.Error(err)
			}
			res[i] = r
		}()
	}
	wg.Wait()
	if a, r := res[0].Accepted+res[1].Accepted, res[0].Replaced+res[1].Replaced; a != rows || r != rows {
		t.Fatalf("accepted %d, replaced %d; want %d each (one stores, the other replaces): %+v", a, r, rows, res)
	}
	return res
}

// A replica not yet upgraded queues its changes in format 1 (integers as varints, numbers
// as their eight bytes); an upgraded replica's fold adds them to the roll-ups as it adds
// its own. Only PostgreSQL queues changes.
func TestFormat1QueuedChangeFolds(t *testing.T) {
	s := dbtest.Open(t, migrations.Postgres)
	now, _, slo := checkoutReady(t, s)
	one := func(b []byte, xs ...int64) []byte { // a column of varints, as format 1 wrote it
		b = binary.AppendUvarint(b, uint64(len(xs)))
		for _, x := range xs {
			b = binary.AppendVarint(b, x)
		}
		return b
	}
	number := func(b []byte, x float64) []byte { return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)) }
	raw := one([]byte{1}, slo.ID)                 // format 1; the hour rows' SLOs
	raw = one(raw, int64(slo.Binding.Generation)) // their generations
	raw = one(raw, now.Add(-2*time.Hour).Unix())  // their hours
	raw = binary.AppendUvarint(raw, 1)            // their bad events
	raw = number(raw, 3)
	raw = binary.AppendUvarint(raw, 1) // their totals
	raw = number(raw, 100)
	raw = one(raw, 0)      // their excluded rows
	raw = one(raw)         // no series
	raw = one(raw)         // nor data times
	raw = one(raw, slo.ID) // the SLOs whose data changed
	if err := sqlstore.QueueRaw(s, raw); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	r, err := s.Report(ctx, slo.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Eval.Total != 100 || r.Eval.Bad != 3 {
		t.Fatalf("%v events, %v bad; want the queued change's 100 and 3", r.Eval.Total, r.Eval.Bad)
	}
}

// Two SLOs reading one series make a plan list each hour twice, one for each binding,
// interleaved: a big delivery's queued change (PostgreSQL) and a small one's own change
// are summed so that each roll-up row is written once and each SLO counts every event
// once.
func TestTwoSLOsOnOneSeriesCountOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now().UTC().Truncate(time.Hour)
		s.Now = func() time.Time { return now }
		f := checkoutFeed(t, s)
		first := checkoutSLO(t, s)
		second, _, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-strict", Indicator: "ratio",
			Target: "99.9", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeriveAll(ctx); err != nil { // nothing stored yet: both generations become active
			t.Fatal(err)
		}
		for _, d := range []struct {
			ago time.Duration
			n   int
		}{{20 * time.Hour, 101}, {5 * time.Hour, 5}} { // queued on PostgreSQL; folded in its own transaction
			if _, errs := sqlstore.WriteTogether(s, []models.Feed{f}, []string{checkoutRows(now.Add(-d.ago), d.n, 99)}); errs[0] != nil {
				t.Fatal(errs[0])
			}
		}
		settle(t, s)
		for _, slo := range []models.SLODetail{first, second} {
			r, err := s.Report(ctx, slo.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			if r.Eval.Total != 10600 || r.Eval.Bad != 106 {
				t.Fatalf("%s: %v bad of %v events; want 106 of 10600 (106 samples of 100, 1 bad each)", slo.Name, r.Eval.Bad, r.Eval.Total)
			}
		}
	})
}
