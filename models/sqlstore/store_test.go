package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

var ctx = context.Background()

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "splunk", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustFeed(t *testing.T, s *sqlstore.Store, name, series string) (models.Feed, string) {
	t.Helper()
	f, err := s.CreateFeed(ctx, models.FeedInput{Name: name, Interval: "5m", SeriesField: series})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.CreateFeedToken(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f, tok
}

func TestFeeds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		f, tok := mustFeed(t, s, "web", "service")
		if f.IntervalSeconds != 300 || f.TimeField != "_time" || f.SeriesField != "service" {
			t.Fatalf("feed %+v", f)
		}
		if !strings.HasPrefix(tok, "smf_") || len(tok) < 4+43 {
			t.Fatalf("token %q is not a 32-byte secret", tok)
		}
		_, err := s.CreateFeed(ctx, models.FeedInput{Name: "web"})
		if models.ErrorCode(err) != models.ECONFLICT {
			t.Fatalf("duplicate name: %v", err)
		}
		for _, bad := range []models.FeedInput{{Name: ""}, {Name: "Web Feed"}, {Name: "ok", Interval: "5"}, {Name: "ok", Interval: "1s"}, {Name: "ok", Interval: "48h"}} {
			if _, err := s.CreateFeed(ctx, bad); models.ErrorCode(err) != models.EINVALID {
				t.Errorf("CreateFeed(%+v) = %v, want invalid", bad, err)
			}
		}

		got, id, err := s.FeedByToken(ctx, tok)
		if err != nil || got.ID != f.ID || id == 0 {
			t.Fatalf("FeedByToken = %+v, %d, %v", got, id, err)
		}
		// Rotation: a second token works alongside the first; revoking one leaves the other.
		tok2, t2, err := s.CreateFeedToken(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeFeedToken(ctx, f.ID, id); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.FeedByToken(ctx, tok); models.ErrorCode(err) != models.ENOTFOUND {
			t.Fatalf("revoked token still works: %v", err)
		}
		if _, _, err := s.FeedByToken(ctx, tok2); err != nil {
			t.Fatalf("second token: %v", err)
		}
		_, _, unknownErr := s.FeedByToken(ctx, "smf_"+strings.Repeat("A", 43))
		if models.ErrorCode(unknownErr) != models.ENOTFOUND || unknownErr.Error() != "unknown or revoked token" {
			t.Fatalf("unknown token: %v", unknownErr)
		}
		list, err := s.Feeds(ctx)
		if err != nil || len(list) != 1 || len(list[0].Tokens) != 2 || list[0].Tokens[0].RevokedAt == nil || list[0].Tokens[1].ID != t2.ID {
			t.Fatalf("Feeds = %+v, %v", list, err)
		}
		if strings.Contains(list[0].Tokens[1].Hint, tok2[4:20]) {
			t.Fatal("the hint reveals the token")
		}
	})
}

// Per-result deliveries, one per host for the same service and bucket, on an 'add'
// feed: each host's row adds to the bucket once; a redelivered row is a duplicate.
func TestIngestIdempotentAndReadBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		f, err := s.CreateFeed(ctx, models.FeedInput{Name: "web", Interval: "5m", SeriesField: "service", SamplePolicy: models.PolicyAdd})
		if err != nil {
			t.Fatal(err)
		}
		opt := models.IngestOptions{MaxRows: 5000, MaxRawBytes: 1 << 20}
		now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

		res, err := s.IngestBody(ctx, f, 0, readFixture(t, "per_result_1.json"), "application/json", now, opt)
		if err == nil && res.OutsideWindow != 1 {
			t.Fatalf("a 2022 row received in 2026 is outside every window: %+v", res)
		}
		if err != nil || res.Accepted != 1 || res.Duplicates != 0 || res.Outcome != models.OutcomeAccepted {
			t.Fatalf("first delivery: %+v %v", res, err)
		}
		res, err = s.IngestBody(ctx, f, 0, readFixture(t, "per_result_2.json"), "application/json", now, opt)
		if err != nil || res.Accepted != 1 {
			t.Fatalf("second row of the same sid: %+v %v", res, err)
		}
		res, err = s.IngestBody(ctx, f, 0, readFixture(t, "per_result_1.json"), "application/json", now.Add(time.Minute), opt)
		if err != nil || res.Accepted != 0 || res.Duplicates != 1 || res.Outcome != models.OutcomeDuplicate {
			t.Fatalf("redelivery: %+v %v", res, err)
		}
		res, err = s.IngestBody(ctx, f, 0, []byte(`{"results":[{"service":"checkout","_time":"1659706159","total":"5","good":"5"},{"service":"checkout","total":"NaN"}]}`), "", now, opt)
		if err != nil || res.Accepted != 1 || len(res.Rejected) != 1 || res.Outcome != models.OutcomePartial {
			t.Fatalf("partial: %+v %v", res, err)
		}
		_, err = s.IngestBody(ctx, f, 0, []byte(`{nope`), "application/json", now, opt)
		if models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("malformed: %v", err)
		}

		checkout := "checkout"
		samples, err := s.Samples(ctx, f.ID, models.SampleQuery{Series: &checkout})
		if err != nil || len(samples) != 2 {
			t.Fatalf("samples: %d %v", len(samples), err)
		}
		// Both hosts' rows in one bucket (13:24:19 floored to 13:20), from the last delivery.
		first := samples[0]
		if first.Fields["total"] != 612+598 || first.Fields["good"] != 610+597 || !first.Time.Equal(time.Date(2022, 8, 5, 13, 20, 0, 0, time.UTC)) ||
			!strings.Contains(first.ResultsLink, "loadjob") || !strings.HasSuffix(first.SID, "_at_1659705853_1.1") {
			t.Fatalf("first sample %+v", first)
		}
		if _, ok := first.Fields["host"]; ok {
			t.Fatal("host stored as a number")
		}
		page, err := s.Samples(ctx, f.ID, models.SampleQuery{Limit: 1})
		if err != nil || len(page) != 1 {
			t.Fatal(page, err)
		}
		rest, err := s.Samples(ctx, f.ID, models.SampleQuery{After: &models.SampleCursor{Time: page[0].Time, SeriesID: page[0].SeriesID}})
		if err != nil || len(rest) != 1 || rest[0].Time.Equal(page[0].Time) {
			t.Fatalf("second page %+v %v", rest, err)
		}
		window, err := s.Samples(ctx, f.ID, models.SampleQuery{From: time.Unix(1659705900, 0), To: time.Unix(1659706200, 0)})
		if err != nil || len(window) != 1 || window[0].Fields["total"] != 5 {
			t.Fatalf("time window %+v %v", window, err)
		}

		ds, err := s.Deliveries(ctx, f.ID, models.DeliveryQuery{})
		if err != nil || len(ds) != 5 {
			t.Fatalf("deliveries %d %v", len(ds), err)
		}
		outcomes := []string{}
		for _, d := range ds {
			outcomes = append(outcomes, d.Outcome)
		}
		if strings.Join(outcomes, ",") != "refused,partial,duplicate,accepted,accepted" {
			t.Fatalf("outcomes %v", outcomes)
		}
		refused, err := s.Delivery(ctx, f.ID, ds[0].ID) // listings carry no bodies
		if err != nil || ds[0].Code != models.EINVALID || string(refused.Body) != "{nope" || !strings.Contains(ds[0].Error, "malformed JSON") {
			t.Fatalf("refused delivery %+v", ds[0])
		}
		if r := ds[1].RejectionList(); len(r) != 1 || r[0].Row != 1 || !strings.Contains(r[0].Reason, "NaN") {
			t.Fatalf("rejections %+v", r)
		}
		if first, err := s.Delivery(ctx, f.ID, ds[4].ID); err != nil || !strings.Contains(string(first.Body), `"host": "web01"`) {
			t.Fatal("the raw body (with host) is not kept")
		}
	})
}

func TestIngestBatchAtomicAndChunked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		f, err := s.CreateFeed(ctx, models.FeedInput{Name: "bulk", Interval: "1m"})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(`{"results":[`)
		for i := 0; i < 1000; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"_time":"` + itoa(1700000000+i*60) + `","total":"` + itoa(i) + `"}`)
		}
		b.WriteString("]}")
		opt := models.IngestOptions{MaxRows: 5000, MaxRawBytes: 1 << 20}
		res, err := s.IngestBody(ctx, f, 0, []byte(b.String()), "", time.Now(), opt)
		if err != nil || res.Accepted != 1000 {
			t.Fatalf("%+v %v", res, err)
		}
		res, err = s.IngestBody(ctx, f, 0, []byte(b.String()), "", time.Now(), opt)
		if err != nil || res.Accepted != 0 || res.Duplicates != 1000 {
			t.Fatalf("redelivered batch: %+v %v", res, err)
		}
		all, err := s.Samples(ctx, f.ID, models.SampleQuery{Limit: 5000})
		if err != nil || len(all) != 1000 || all[999].Fields["total"] != 999 {
			t.Fatalf("%d %v", len(all), err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		plain, tok, err := s.CreateAPIToken(ctx, "ci", models.RoleSRE, "cli")
		if err != nil || !strings.HasPrefix(plain, "sma_") {
			t.Fatal(plain, err)
		}
		got, err := s.APITokenBySecret(ctx, plain)
		if err != nil || got.ID != tok.ID || got.Role != models.RoleSRE {
			t.Fatal(got, err)
		}
		if _, _, err := s.CreateAPIToken(ctx, "x", "root", "cli"); models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("bad role: %v", err)
		}
		if err := s.RevokeAPIToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APITokenBySecret(ctx, plain); models.ErrorCode(err) != models.EUNAUTHORIZED {
			t.Fatalf("revoked: %v", err)
		}
	})
}

// Retention: the delivery log keeps 30 days (samples stay), samples keep the
// installation's retention or their feed's shorter one; on PostgreSQL samples and
// deliveries live in monthly and daily partitions attached ahead of the data, and
// what is past retention goes with its partition.
func TestRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		web, _ := mustFeed(t, s, "web", "service")
		short, err := s.CreateFeed(ctx, models.FeedInput{Name: "short", Interval: "5m", SeriesField: "service", RetentionDays: "10"})
		if err != nil || short.RetentionDays == nil || *short.RetentionDays != 10 {
			t.Fatalf("feed with its own retention: %+v %v", short, err)
		}
		post := func(f models.Feed, at, received time.Time) {
			t.Helper()
			body := fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"10","good":"10"}}`, at.Unix())
			if _, err := s.IngestBody(ctx, f, 0, []byte(body), "", received, models.IngestOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateService(ctx, "ci", models.ServiceInput{Name: "checkout"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateSLO(ctx, "ci", models.SLOInput{Service: "checkout", Name: "availability", Feed: "web", Series: "checkout",
			Indicator: "ratio", GoodField: "good", TotalField: "total", Target: "99", Window: "30d"}); err != nil {
			t.Fatal(err)
		}
		post(web, now.AddDate(0, 0, -900), now.AddDate(0, 0, -40))  // its roll-ups past their 800 days
		post(web, now.AddDate(0, 0, -500), now)                     // past the samples' 400 days, not its roll-ups'
		post(web, now.AddDate(0, 0, -40), now.AddDate(0, 0, -40))   // its delivery past the log's 30 days
		post(web, now.Add(-time.Hour), now)                         // kept
		post(short, now.AddDate(0, 0, -20), now.AddDate(0, 0, -20)) // past its feed's 10 days
		post(short, now.AddDate(0, 0, -5), now)                     // kept
		r := sqlstore.Retention{Samples: 400 * 24 * time.Hour, Rollups: 800 * 24 * time.Hour, Deliveries: 30 * 24 * time.Hour}
		for range 2 { // the second pass finds everything in place
			if err := s.Retain(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			feed models.Feed
			want int
		}{{web, 2}, {short, 1}} {
			if got, err := s.Samples(ctx, c.feed.ID, models.SampleQuery{}); err != nil || len(got) != c.want {
				t.Errorf("feed %s keeps %d samples, want %d: %v", c.feed.Name, len(got), c.want, err)
			}
		}
		ds, err := s.Deliveries(ctx, web.ID, models.DeliveryQuery{})
		if err != nil || len(ds) != 2 {
			t.Fatalf("deliveries of web after pruning: %d %v", len(ds), err)
		}
		for _, r := range []struct{ table, col string }{{"slo_hours", "hour"}, {"slo_days", "day"}} {
			var old, kept int64
			if err := s.DB().Raw("SELECT count(*) FILTER (WHERE "+r.col+" < ?), count(*) FILTER (WHERE "+r.col+" >= ?) FROM "+r.table,
				now.AddDate(0, 0, -800).Unix(), now.AddDate(0, 0, -800).Unix()).Row().Scan(&old, &kept); err != nil {
				t.Fatal(err)
			}
			if old != 0 || kept != 3 {
				t.Errorf("%s: %d rows past the roll-ups' 800 days left, %d within them (want 0 and 3: 500 days, 40 days and an hour ago)", r.table, old, kept)
			}
		}
		if s.Dialect() != migrations.Postgres {
			return
		}
		var parts []string
		if err := s.DB().Raw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = to_regclass('samples') ORDER BY 1`).Scan(&parts).Error; err != nil {
			t.Fatal(err)
		}
		// 400 days back from 20 Nov 2026 is 16 Oct 2025: October 2025 to next month, and the default.
		if len(parts) != 16 || parts[0] != "samples_default" || parts[1] != "samples_p202510" || parts[15] != "samples_p202612" {
			t.Errorf("sample partitions %v", parts)
		}
		var inDefault int64
		if err := s.DB().Raw("SELECT count(*) FROM samples_default").Scan(&inDefault).Error; err != nil || inDefault != 0 {
			t.Errorf("%d samples left in the default partition: %v", inDefault, err)
		}
		var days int64
		if err := s.DB().Raw(`SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass('deliveries')`).Scan(&days).Error; err != nil || days != 1+33 {
			t.Errorf("%d delivery partitions, want the default and 33 days: 21 Oct (30 days back) to 22 Nov (two ahead): %v", days, err)
		}
	})
}

// Attaching a partition moves the default partition's rows in its range into it. A
// query that waits on the attach must find those rows in one place or the other: one
// planned before the attach and run after it found them in neither, so an app
// restarted onto rows in the default partition listed no samples at all while its
// first retention pass ran.
func TestAttachPartitionWhileReading(t *testing.T) {
	s := dbtest.Open(t, "postgres")
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.DB().Exec("INSERT INTO samples (series_id, bucket, fields) VALUES (?, ?, '{}')", i+1, month.Unix()+300).Error; err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("pgx", s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waiting := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM pg_locks WHERE NOT granted
				AND relation IN (to_regclass('samples')::oid, to_regclass('samples_default')::oid)`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n >= want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d statements wait on the samples tables, want %d", n, want)
			}
		}
	}
	// A transaction reading the default partition holds the attach up, so that a
	// query can arrive while it is under way.
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.Exec("LOCK TABLE samples_default IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	attached := make(chan error, 1)
	go func() {
		attached <- sqlstore.Attach(ctx, s, "samples", "samples_default", "samples_p202611", "bucket", month.Unix(), month.AddDate(0, 1, 0).Unix())
	}()
	waiting(1)
	counted := make(chan int, 1)
	go func() {
		n := -1
		if err := db.QueryRow("SELECT count(*) FROM samples").Scan(&n); err != nil {
			t.Error(err)
		}
		counted <- n
	}()
	waiting(2)
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-attached; err != nil {
		t.Fatal(err)
	}
	if n := <-counted; n != 3 {
		t.Errorf("a query that waited on the attach counted %d samples, want 3", n)
	}
}

// A retention pass that attaches partitions while deliveries arrive (a first start
// attaches over a year of them, and ingest runs meanwhile) loses none and fails none.
// Each partition is filled by a copy from the default partition and a delete from it:
// a row written between the two was lost, and one written after the delete failed the
// attach (or its own insert, routed to the default just before the attach).
func TestRetentionBesideIngest(t *testing.T) {
	r := sqlstore.Retention{Samples: 400 * 24 * time.Hour, Rollups: 800 * 24 * time.Hour, Deliveries: 30 * 24 * time.Hour}
	for round := range 3 { // each round a first pass on a fresh store: most rounds overlapped the race
		s := dbtest.Open(t, migrations.Postgres)
		s.IngestDeadline = time.Minute // this is about rows, not the deadline (the attach holds writers)
		web, _ := mustFeed(t, s, "web", "service")
		stop, done := make(chan struct{}), make(chan int)
		start := time.Now().UTC().Truncate(5 * time.Minute)
		go func() {
			n := 0
			defer func() { done <- n }()
			for i := range 5000 {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"10","good":"10"}}`,
					start.Add(-time.Duration(i)*5*time.Minute).Unix()) // a bucket of its own each
				if _, err := s.IngestBody(ctx, web, 0, []byte(body), "", time.Now().UTC(), models.IngestOptions{}); err != nil {
					t.Errorf("round %d: delivery %d during the retention pass: %v", round, i, err)
					return
				}
				n++
			}
		}()
		err := s.Retain(ctx, r)
		close(stop)
		n := <-done
		if err != nil {
			t.Fatalf("round %d: retention pass beside ingest: %v", round, err)
		}
		var deliveries, samples int64
		if err := s.DB().Raw("SELECT count(*) FROM deliveries").Scan(&deliveries).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.DB().Raw("SELECT count(*) FROM samples").Scan(&samples).Error; err != nil {
			t.Fatal(err)
		}
		if deliveries != int64(n) || samples != int64(n) {
			t.Fatalf("round %d: %d deliveries stored, %d deliveries and %d samples kept", round, n, deliveries, samples)
		}
		t.Logf("round %d: %d deliveries during the pass, all kept", round, n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// The feeds list: newest sample over every series, last delivery, the last
// day's deliveries and rejected rows, and when each token was last presented.
func TestFeedSummary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		f, tok := mustFeed(t, s, "web", "service")
		quiet, _ := mustFeed(t, s, "quiet", "service")
		opt := models.IngestOptions{MaxRows: 100}
		// The newest row is in a series that sorts first, and arrived in an older delivery.
		bodies := []struct {
			at   time.Time
			body string
		}{
			{now.Add(-30 * time.Hour), `{"results":[{"service":"zeta","_time":"1763700000","total":"1"}]}`},
			{now.Add(-2 * time.Hour), `{"results":[{"service":"alpha","_time":"1763800000","total":"1"},{"service":"beta","_time":"1763600000","total":"1"}]}`},
			{now.Add(-time.Hour), `{"results":[{"service":"beta","_time":"1763500000","total":"1"},{"service":"beta","_time":"1763500060","total":"-1"}]}`},
		}
		for _, b := range bodies {
			if _, err := s.IngestBody(ctx, f, 0, []byte(b.body), "", b.at, opt); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.FeedByToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		list, err := s.Feeds(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "quiet" || list[1].Name != "web" {
			t.Fatalf("Feeds = %+v, %v", list, err)
		}
		q, w := list[0], list[1]
		if q.Feed.ID != quiet.ID || q.LastSampleAt != nil || q.LastDeliveryAt != nil || q.Deliveries24h != 0 {
			t.Fatalf("quiet feed %+v", q)
		}
		// The newest bucket: 1763800000 floored to 5 minutes.
		if w.LastSampleAt == nil || !w.LastSampleAt.Equal(time.Unix(1763799900, 0)) {
			t.Errorf("last sample %v, want %v", w.LastSampleAt, time.Unix(1763799900, 0).UTC())
		}
		if w.LastDeliveryAt == nil || !w.LastDeliveryAt.Equal(now.Add(-time.Hour)) {
			t.Errorf("last delivery %v", w.LastDeliveryAt)
		}
		if w.Deliveries24h != 2 || w.Rejected24h != 1 {
			t.Errorf("last 24 h: %d deliveries, %d rejected rows; want 2 and 1", w.Deliveries24h, w.Rejected24h)
		}
		if len(w.Tokens) != 1 || w.Tokens[0].LastUsedAt == nil || !w.Tokens[0].LastUsedAt.Equal(now) {
			t.Fatalf("token use %+v", w.Tokens)
		}
		// Within a minute a lookup does not write again; after it, it does.
		s.Now = func() time.Time { return now.Add(30 * time.Second) }
		_, _, _ = s.FeedByToken(ctx, tok)
		s.Now = func() time.Time { return now.Add(2 * time.Minute) }
		list, _ = s.Feeds(ctx)
		if used := list[1].Tokens[0].LastUsedAt; used == nil || !used.Equal(now) {
			t.Errorf("token use rewritten within a minute: %v", used)
		}
		_, _, _ = s.FeedByToken(ctx, tok)
		list, _ = s.Feeds(ctx)
		if used := list[1].Tokens[0].LastUsedAt; used == nil || !used.Equal(now.Add(2*time.Minute)) {
			t.Errorf("token use after two minutes: %v", used)
		}
	})
}

// A stored sample whose fields do not parse is logged with its feed and
// series, not silently read as "no fields"; the feed's other series keep
// their fields, and another feed's series are not this feed's shape.
func TestFeedShapeLogsCorruptFields(t *testing.T) {
	for _, dialect := range dbtest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			var logs strings.Builder
			s, err := sqlstore.Open(ctx, dbtest.URL(t, dialect), "", slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			f, _ := mustFeed(t, s, "web", "service")
			other, _ := mustFeed(t, s, "batch", "job")
			bucket := time.Now().Unix() / 300 * 300
			for i, row := range []struct {
				feedID int64
				fields string
			}{
				{f.ID, `{"good": 1, "total": 2}`},
				{f.ID, `{"good": 1, "tot`},
				{other.ID, `{"ok": 1, "all": 2}`},
			} {
				var id int64
				if err := s.DB().Raw("INSERT INTO series (feed_id, key, last_bucket) VALUES (?, ?, ?) RETURNING id",
					row.feedID, "s"+strconv.Itoa(i), bucket).Scan(&id).Error; err != nil {
					t.Fatal(err)
				}
				if err := s.DB().Exec("INSERT INTO samples (series_id, bucket, fields, delivery_id) VALUES (?, ?, ?, 0)",
					id, bucket, row.fields).Error; err != nil {
					t.Fatal(err)
				}
			}
			shape, err := s.FeedShape(ctx, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(shape.Fields, ","); got != "good,total" {
				t.Errorf("fields %q, want good,total", got)
			}
			if got := strings.Join(shape.Series, ","); got != "s0,s1" {
				t.Errorf("series %q, want s0,s1 (the other feed's s2 is not this feed's)", got)
			}
			if !strings.Contains(logs.String(), `msg="stored sample fields do not parse`) || !strings.Contains(logs.String(), "series=s1") ||
				!strings.Contains(logs.String(), "feed_id="+strconv.FormatInt(f.ID, 10)) {
				t.Errorf("the corrupt row was not logged with its feed and series:\n%s", logs.String())
			}
		})
	}
}
