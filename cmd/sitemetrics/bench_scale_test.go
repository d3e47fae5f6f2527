package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// BenchmarkScale (`make bench-scale N=…`): N SLOs, each a 30-day ratio SLO on
// its own series of one 5-minute feed, and DAYS of data posted through the
// webhook (1,000-row batches, 4 senders) into a real `sitemetrics serve`
// process on PostgreSQL; then, in this order:
//
//	ingest     rows/s through the webhook, beside COPY of the same rows into a
//	           table with the samples table's columns, indexes and partitions,
//	           from as many connections in batches of the same size (each
//	           side makes its rows as it goes, from the same numbers: JSON text
//	           for the webhook, the stored values for COPY), the two taking
//	           turns in up to five rounds, and the CPU time the app,
//	           PostgreSQL and the load generator spent on each
//	memory     the process's RSS once every summary is computed (VmRSS, and
//	           VmHWM, its peak during ingest)
//	disk       bytes per sample: samples, roll-ups, series and field names,
//	           over the number of samples, deliveries apart; as ingested, then
//	           after a retention pass (the app's, at start and hourly), which
//	           rebuilds indexes grown loose
//	warm       /api/v1/slos and the signed-in overview, 16 clients, PHASE each,
//	           nothing arriving
//	viewers    1,000 signed-in overview viewers: all at once, then each
//	           reloading every 10 s for PHASE
//	fresh      after a 2xx, how long until /api/v1/slos/{id} shows the new
//	           version, on the replica posted to and on a second replica
//	live       warm's reads while every SLO gets one row a minute (N/60 rows/s,
//	           a delivery each second)
//	burst      the same while every SLO gets one row each 5 s (N rows every 5 s
//	           in 1,000-row deliveries over 4 senders)
//	cold       the first /api/v1/slos, then the first overview, each after a
//	           SIGKILL and a start of the process; its RSS then
//
// Live and burst rows are for each SLO's current 5-minute bucket, with new
// counts each time: the first of each 5 minutes adds a bucket, the rest replace
// it. Every such row is a change of the SLO's data (a new version and a summary
// computed again), which is the cost a new bucket has. A new bucket every 5 s
// per series is impossible on a 5-minute feed without rows stamped in the
// future, which do not move data time.
//
// Settings (environment, set by the make target): SITEMETRICS_BENCH_SLOS (N,
// default 100), _DAYS (30), _WINDOW (30d), _PHASE (10s), _VIEWERS (1000),
// _FRESH (20 samples per replica set), _PPROF (a directory: CPU profiles of the
// app during ingest, the viewers, live and burst (both reads each), and its heap
// once summarised, are written there for `go tool pprof`), _STATEMENTS (PostgreSQL's
// statements that took most time while ingesting; see statements). Timed reads ask for
// gzip and do not inflate what they receive (see reader.get). It fails, rather than skips, without
// PostgreSQL when SITEMETRICS_TEST_REQUIRE names it (as .ci/with-services does).
func BenchmarkScale(b *testing.B) {
	r := newScaleRun(b)
	r.ingestHistory(true)
	r.topUp()
	r.summarised()
	r.diskUse()
	r.warm()
	r.viewers()
	r.freshness()
	r.live("live", time.Minute, time.Second)
	r.live("burst", 5*time.Second, 5*time.Second)
	r.cold()
	r.print()
}

// BenchmarkFresh (`make bench-fresh`): how long after a webhook's 2xx the API
// reflects it, p50/p99, on the replica posted to and on a second replica
// sharing its PostgreSQL; N SLOs with DAYS of data (defaults 100 and 1),
// nothing else arriving.
func BenchmarkFresh(b *testing.B) {
	r := newScaleRun(b, "SITEMETRICS_BENCH_DAYS=1")
	r.ingestHistory(false)
	r.topUp()
	r.summarised()
	r.freshness()
	r.print()
}

// scaleConfig is what a scale run does, from the environment.
type scaleConfig struct {
	slos, days, viewers, fresh int
	window                     string
	phase                      time.Duration
	clients, senders, batch    int
}

func scaleConfigFrom(b *testing.B, defaults ...string) scaleConfig {
	def := map[string]string{}
	for _, d := range defaults {
		k, v, _ := strings.Cut(d, "=")
		def[k] = v
	}
	get := func(k, fallback string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		if v, ok := def[k]; ok {
			return v
		}
		return fallback
	}
	num := func(k, fallback string) int {
		n, err := strconv.Atoi(get(k, fallback))
		if err != nil || n <= 0 {
			b.Fatalf("%s: want a positive whole number, have %q", k, get(k, fallback))
		}
		return n
	}
	c := scaleConfig{slos: num("SITEMETRICS_BENCH_SLOS", "100"), days: num("SITEMETRICS_BENCH_DAYS", "30"),
		viewers: num("SITEMETRICS_BENCH_VIEWERS", "1000"), fresh: num("SITEMETRICS_BENCH_FRESH", "20"),
		window: get("SITEMETRICS_BENCH_WINDOW", "30d"), clients: 16, senders: 4, batch: 1000}
	var err error
	if c.phase, err = time.ParseDuration(get("SITEMETRICS_BENCH_PHASE", "10s")); err != nil || c.phase <= 0 {
		b.Fatalf("SITEMETRICS_BENCH_PHASE: want a duration such as 10s, have %q", get("SITEMETRICS_BENCH_PHASE", "10s"))
	}
	return c
}

// scaleRun is one scale benchmark: the app under test, its database and what
// was measured so far.
type scaleRun struct {
	b       *testing.B
	cfg     scaleConfig
	begun   time.Time
	bin     string
	env     map[string]string
	app     *serveProc
	db      *sql.DB
	pg      []int // the postmasters whose processes' CPU is PostgreSQL's (postmasters)
	pool    *pgxpool.Pool
	send    *sender
	api     *reader   // viewer API token
	apis    []*reader // the same, one per reading client
	pages   []*reader // signed-in clients (sign-in through /login)
	viewing []string  // session tokens of the overview viewers
	ids     []int64   // SLO id by series number
	end     int64     // start of the newest bucket posted
	posted  []int     // per series, rows posted after the history (to vary counts)
	first   int64     // start of the history's oldest bucket
	rows    int64     // history rows posted
	results []scaleResult
}

// scaleResult is one line of the table: a figure, and the target it is held to.
type scaleResult struct {
	what, figure, target, verdict string
}

func (r *scaleRun) record(what, figure, target string, met *bool) {
	v := ""
	if met != nil {
		v = "met"
		if !*met {
			v = "MISSED"
		}
	}
	r.results = append(r.results, scaleResult{what, figure, target, v})
	r.say("%s: %s", what, figure)
}

func verdict(ok bool) *bool { return &ok }

// say prints progress at once (the benchmark log would hold it to the end).
func (r *scaleRun) say(format string, args ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(r.begun).Seconds(), fmt.Sprintf(format, args...))
}

func seriesKey(i int) string { return fmt.Sprintf("s%05d", i) }

// newScaleRun builds the binary, makes the feed, N SLOs and the tokens with the
// CLI on a fresh PostgreSQL schema, starts the app and signs the readers in.
func newScaleRun(b *testing.B, defaults ...string) *scaleRun {
	r := &scaleRun{b: b, cfg: scaleConfigFrom(b, defaults...), begun: time.Now()}
	url := dbtest.URL(b, "postgres")
	var err error
	if r.db, err = sql.Open("pgx", url); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.db.Close() })
	if r.pg, err = postmasters(r.db); err != nil {
		b.Fatalf("PostgreSQL's processes: %v", err)
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	pcfg.MaxConns = int32(r.cfg.senders)
	if r.pool, err = pgxpool.NewWithConfig(context.Background(), pcfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.pool.Close)
	var pgVersion string
	_ = r.db.QueryRow("SHOW server_version").Scan(&pgVersion)
	load, _ := os.ReadFile("/proc/loadavg")
	r.say("%d SLOs × %d days of 5-minute data, %s windows; %d CPUs, PostgreSQL %s, load average %s",
		r.cfg.slos, r.cfg.days, r.cfg.window, runtime.NumCPU(), pgVersion, strings.Join(strings.Fields(string(load))[:3], " "))

	r.bin = buildServe(b)
	addr := dbtest.FreeAddr(b)
	r.env = map[string]string{"SITEMETRICS_ADDR": addr, "SITEMETRICS_BASE_URL": "http://" + addr, "SITEMETRICS_DATABASE_URL": url,
		"SITEMETRICS_DATA_DIR": b.TempDir(), "SITEMETRICS_LOG_LEVEL": "warn", "SITEMETRICS_ADMIN_PASSWORD": adminPassword,
		// Every simulated person comes from 127.0.0.1: the per-address caps, which
		// stop one client from taking the server, would count them as one.
		"SITEMETRICS_HTTP_MAX_CONNECTIONS_PER_CLIENT": "0", "SITEMETRICS_HTTP_MAX_REQUESTS_PER_CLIENT": "0"}
	r.cli("migrate")
	m := webhookRE.FindStringSubmatch(r.cli("feed", "create", "--name", "bench", "--interval", "5m", "--series-field", "service"))
	if m == nil {
		b.Fatal("feed create printed no webhook URL")
	}
	r.send = newSender(m[1])
	t := apiTokRE.FindStringSubmatch(r.cli("token", "create", "--name", "bench", "--role", "viewer"))
	if t == nil {
		b.Fatal("token create printed no token")
	}
	r.api = newReader("", t[1])
	for range r.cfg.clients {
		r.apis = append(r.apis, newReader("", t[1]))
	}
	r.importSLOs()
	r.app = startServe(b, r.bin, r.env)

	// The new SLOs' (empty) histories are derived in the background first.
	deadline := time.Now().Add(2*time.Minute + time.Duration(r.cfg.slos)*20*time.Millisecond)
	for {
		list, err := r.api.slos(r.app.URL)
		computing := 0
		for _, s := range list {
			if s.Status.Status == string(models.StatusComputing) {
				computing++
			}
		}
		if err == nil && len(list) == r.cfg.slos && computing == 0 {
			r.ids = make([]int64, r.cfg.slos)
			for i, s := range list { // by name, and names follow series numbers
				r.ids[i] = s.ID
			}
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the SLOs were not ready in time: %d listed, %d computing, %v\n%s", len(list), computing, err, r.app.tail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.posted = make([]int, r.cfg.slos)

	for range r.cfg.clients {
		r.pages = append(r.pages, newReader(signIn(b, r.app.URL), ""))
	}
	// Viewers' sessions are made in the database: signing 1,000 people in is
	// not what is measured (each sign-in costs an argon2id hash).
	store := dbtest.OpenURL(b, url)
	admin, err := store.UserByName(context.Background(), "admin")
	if err != nil {
		b.Fatal(err)
	}
	for range r.cfg.viewers {
		tok, _, err := store.CreateSession(context.Background(), models.SessionInput{UserID: admin.ID, Role: models.RoleViewer,
			Source: "local", Lifetime: 12 * time.Hour, Idle: 2 * time.Hour, ClientIP: "127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		r.viewing = append(r.viewing, tok)
	}
	store.Close()
	r.say("set up: %d SLOs, app pid %d ready %s after start", r.cfg.slos, r.app.cmd.Process.Pid, ms(r.app.Ready.Sub(r.app.Started)))
	return r
}

// profile starts recording a CPU profile of the app for d (d = 0: a heap
// profile, at once) into SITEMETRICS_BENCH_PPROF/name.pprof (the directory made if
// need be), when that is set;
// the function it returns waits for it.
func (r *scaleRun) profile(name string, d time.Duration) func() {
	dir := os.Getenv("SITEMETRICS_BENCH_PPROF")
	if dir == "" {
		return func() {}
	}
	path := "/debug/pprof/heap"
	if d > 0 {
		path = fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(d.Seconds()))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b []byte
		err := r.pages[0].get(r.app.URL, path, &b)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".pprof"), b, 0o644)
		}
		if err != nil {
			r.say("profile %s: %v", name, err)
		}
	}()
	return func() {
		select {
		case <-done:
		case <-time.After(d + time.Minute):
			r.say("profile %s: no answer", name)
		}
	}
}

// cli runs one sitemetrics command against the run's database.
func (r *scaleRun) cli(args ...string) string {
	r.b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = os.Environ()
	for k, v := range r.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.b.Fatalf("sitemetrics %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// importSLOs imports N ratio SLOs as OpenSLO, a service for every ten, in one file:
// one transaction, whose locks on PostgreSQL do not grow with its SLOs.
func (r *scaleRun) importSLOs() {
	r.importRange(0, r.cfg.slos)
}

func (r *scaleRun) importRange(from, to int) {
	var y strings.Builder
	for i := from; i < to; i++ {
		svc := fmt.Sprintf("svc%04d", i/10)
		if i%10 == 0 {
			fmt.Fprintf(&y, "---\napiVersion: openslo/v1\nkind: Service\nmetadata: {name: %s}\nspec: {description: bench}\n", svc)
		}
		k := seriesKey(i)
		fmt.Fprintf(&y, `---
apiVersion: openslo/v1
kind: SLO
metadata: {name: %[1]s-availability}
spec:
  service: %[2]s
  indicator:
    metadata: {name: %[1]s-requests}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: sitemetrics, spec: {feed: bench, series: %[1]s, field: good}}}
        total: {metricSource: {type: sitemetrics, spec: {feed: bench, series: %[1]s, field: total}}}
  timeWindow: [{duration: %[3]s, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: Availability, target: 0.999}]
`, k, svc, r.cfg.window)
	}
	path := filepath.Join(r.b.TempDir(), "slos.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o600); err != nil {
		r.b.Fatal(err)
	}
	r.cli("slo", "import", path)
}

// historyCounts are series i's good and total events in the bucket starting at t:
// 1,000 events, a few bad, and a bad patch now and then, different per series.
func historyCounts(i int, t int64) (good, total int64) {
	k := t / 300
	bad := k % 3
	if (k+int64(i)*37)%500 < 3 {
		bad = 40
	}
	return 1000 - bad, 1000
}

// historyRow is series i's row for the bucket starting at t.
func historyRow(i int, t int64) string {
	good, total := historyCounts(i, t)
	return fmt.Sprintf(`{"service":"%s","_time":"%d","total":"%d","good":"%d"}`, seriesKey(i), t, total, good)
}

// storedFields is what the app stores for historyRow(i, t): [id, value, ...] in the
// order of the field names' numbers (ids, from field_names).
func storedFields(i int, t int64, ids map[string]int64) string {
	good, total := historyCounts(i, t)
	pairs := [2][2]int64{{ids["good"], good}, {ids["total"], total}}
	if pairs[1][0] < pairs[0][0] {
		pairs[0], pairs[1] = pairs[1], pairs[0]
	}
	return fmt.Sprintf("[%d,%d,%d,%d]", pairs[0][0], pairs[0][1], pairs[1][0], pairs[1][1])
}

// cpu reads the CPU time spent so far (cpuNow).
func (r *scaleRun) cpu() cpuUse {
	u, err := cpuNow(r.app.cmd.Process.Pid, r.pg)
	if err != nil {
		r.b.Fatalf("CPU time: %v", err)
	}
	return u
}

// inBatches runs f for batches 0..count-1 over the run's senders.
func (r *scaleRun) inBatches(count int64, f func(j int64) error) (*latencies, time.Duration) {
	var next atomic.Int64
	var wg sync.WaitGroup
	lat := newLatencies()
	for range r.cfg.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := next.Add(1) - 1; j < count; j = next.Add(1) - 1 {
				t := time.Now()
				err := f(j)
				lat.add(time.Since(t), err)
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	lat.done()
	return lat, lat.end.Sub(lat.start)
}

// topUp posts the buckets that began while the history was being posted, so
// that no feed is late when reading starts.
func (r *scaleRun) topUp() {
	now := time.Now().Unix() / 300 * 300
	var rows []string
	for t := r.end + 300; t <= now; t += 300 {
		for i := range r.cfg.slos {
			rows = append(rows, historyRow(i, t))
		}
	}
	for len(rows) > 0 {
		k := min(len(rows), r.cfg.batch)
		if err := r.send.post(r.app.URL, rows[:k]); err != nil {
			r.b.Fatalf("top-up: %v", err)
		}
		rows = rows[k:]
	}
	r.end = max(r.end, now)
}

// awaitSummaries waits until /api/v1/slos shows, for every SLO, the data
// version the database holds now, and returns how long that took.
func (r *scaleRun) awaitSummaries(limit time.Duration) time.Duration {
	start := time.Now()
	want := map[int64]int64{}
	rows, err := r.db.Query("SELECT slo_id, version FROM slo_state")
	if err != nil {
		r.b.Fatal(err)
	}
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			r.b.Fatal(err)
		}
		want[id] = v
	}
	rows.Close()
	for {
		list, err := r.api.slos(r.app.URL)
		behind := 0
		for _, s := range list {
			if s.Status.Version < want[s.ID] {
				behind++
			}
		}
		if err == nil && behind == 0 && len(list) == len(want) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			r.b.Fatalf("summaries not current after %s: %d of %d behind, %v\n%s", limit, behind, len(want), err, r.app.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// summarised waits for every summary and reads the app's memory.
func (r *scaleRun) summarised() {
	took := r.awaitSummaries(5*time.Minute + time.Duration(r.cfg.slos)*50*time.Millisecond)
	rss, peak, err := r.app.memory()
	if err != nil {
		r.b.Fatal(err)
	}
	r.b.ReportMetric(float64(rss)/(1<<20), "rss_MiB")
	r.record("summaries current after the last 2xx", ms(took), "", nil)
	r.profile("heap", 0)()
	r.record("RSS with every summary computed (same process)", fmt.Sprintf("%s (peak during ingest %s)", mib(rss), mib(peak)),
		"≤ 200 MiB", verdict(rss <= 200<<20))
}

// quiet waits (up to a minute) until PostgreSQL has finished what the phase before
// left it: autovacuum workers that its writes set off, and a streaming standby's
// replay of its WAL up to where it ended, when one is attached (the make targets start
// none; replay would run on the same two cores; WAL the app writes meanwhile is not
// waited for). It runs before each COPY and before
// each round of ingest, so that each starts on a quiet PostgreSQL and neither's time
// or CPU carries what the other left behind (a COPY's rows set off an autovacuum of
// its table, which took seconds).
func (r *scaleRun) quiet(before, after string) {
	start, end := time.Now(), r.walNow()
	for {
		var workers, standbys int
		var behind int64
		if err := r.db.QueryRow(`SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'),
			(SELECT count(*) FROM pg_stat_replication),
			(SELECT coalesce(max(pg_wal_lsn_diff($1::pg_lsn, replay_lsn)), 0)::bigint FROM pg_stat_replication)`, end).Scan(&workers, &standbys, &behind); err != nil {
			r.b.Fatalf("autovacuum workers and replay: %v", err)
		}
		if workers == 0 && behind <= 0 || time.Since(start) > time.Minute {
			replay := ""
			if standbys > 0 {
				replay = fmt.Sprintf(" and the standby's replay of %s (%.1f MB left)", after, float64(max(behind, 0))/1e6)
			}
			r.say("before %s: waited %.1f s for autovacuum (%d workers left)%s", before, time.Since(start).Seconds(), workers, replay)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// walNow is the primary's WAL position.
func (r *scaleRun) walNow() string {
	var lsn string
	if err := r.db.QueryRow("SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		r.b.Fatalf("WAL position: %v", err)
	}
	return lsn
}

// walSince is how many bytes of WAL the primary wrote since lsn.
func (r *scaleRun) walSince(lsn string) int64 {
	var n int64
	if err := r.db.QueryRow("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint", lsn).Scan(&n); err != nil {
		r.b.Fatalf("WAL written: %v", err)
	}
	return n
}

// diskUse reports bytes per sample on disk as ingested, then after a retention
// pass (what the app runs at start and hourly: it rebuilds indexes grown loose).
func (r *scaleRun) diskUse() {
	per := r.bytesPerSample("database bytes per sample as ingested, deliveries aside")
	r.b.ReportMetric(per, "bytes/sample")
	s := dbtest.OpenURL(r.b, r.env["SITEMETRICS_DATABASE_URL"])
	start := time.Now()
	if err := s.Retain(context.Background(), sqlstore.Retention{Samples: 400 * 24 * time.Hour, Rollups: 800 * 24 * time.Hour, Deliveries: 30 * 24 * time.Hour}); err != nil {
		r.b.Fatal(err)
	}
	r.say("retention pass (the app's defaults), which rebuilds loose indexes: %s", ms(time.Since(start)))
	per = r.bytesPerSample("database bytes per sample after the hourly retention pass, deliveries aside")
	r.b.ReportMetric(per, "bytes/sample_after_pass")
	var deliveries, samples int64
	if err := r.db.QueryRow("SELECT (SELECT count(*) FROM deliveries), (SELECT count(*) FROM samples)").Scan(&deliveries, &samples); err != nil {
		r.b.Fatal(err)
	}
	size := map[string]int64{}
	for _, t := range []string{"deliveries", "slo_state"} {
		heap, idx, err := dbtest.RelationBytes(context.Background(), r.db, t)
		if err != nil {
			r.b.Fatal(err)
		}
		size[t] = heap + idx
	}
	var stored, text float64
	if err := r.db.QueryRow("SELECT coalesce(avg(pg_column_size(summary)), 0), coalesce(avg(octet_length(summary)), 0) FROM slo_state").Scan(&stored, &text); err != nil {
		r.b.Fatal(err)
	}
	r.record("deliveries (raw bodies kept 30 days) and summaries", fmt.Sprintf("deliveries %s for %d deliveries (%.0f B per sample); slo_state %s (a summary %.0f B stored, %.0f B of JSON)",
		mib(size["deliveries"]), deliveries, float64(size["deliveries"])/float64(samples), mib(size["slo_state"]), stored, text), "", nil)
}

// bytesPerSample records and returns the database's bytes per sample.
func (r *scaleRun) bytesPerSample(what string) float64 {
	ctx := context.Background()
	if _, err := r.db.Exec("ANALYZE"); err != nil {
		r.b.Fatal(err)
	}
	size, index := map[string]int64{}, map[string]int64{}
	for _, t := range []string{"samples", "slo_hours", "slo_days", "series", "sample_parts", "field_names"} {
		heap, idx, err := dbtest.RelationBytes(ctx, r.db, t)
		if err != nil {
			r.b.Fatal(err)
		}
		size[t], index[t] = heap+idx, idx
	}
	var count int64
	if err := r.db.QueryRow("SELECT count(*) FROM samples").Scan(&count); err != nil {
		r.b.Fatal(err)
	}
	data := size["samples"] + size["slo_hours"] + size["slo_days"] + size["series"] + size["sample_parts"] + size["field_names"]
	per := float64(data) / float64(count)
	perRow := func(t string) string {
		return fmt.Sprintf("%s %.1f (index %.1f)", t, float64(size[t])/float64(count), float64(index[t])/float64(count))
	}
	r.record(what, fmt.Sprintf("%.0f B over %d samples: %s, %s, %s, %s, %s",
		per, count, perRow("samples"), perRow("slo_hours"), perRow("slo_days"), perRow("series"), perRow("sample_parts")),
		"≤ 120 B", verdict(per <= 120))
	return per
}

// readAPI and readOverview are the two reads measured with 16 clients.
func (r *scaleRun) readAPI(c int) error {
	return r.apis[c%len(r.apis)].get(r.app.URL, "/api/v1/slos", nil)
}

func (r *scaleRun) readOverview(c int) error { return r.pages[c%len(r.pages)].get(r.app.URL, "/", nil) }

// reads measures both reads, one after the other, for PHASE each.
func (r *scaleRun) reads(label string, apiTarget, pageTarget time.Duration) {
	for _, x := range []struct {
		name   string
		read   func(int) error
		target time.Duration
	}{{"/api/v1/slos", r.readAPI, apiTarget}, {"overview /", r.readOverview, pageTarget}} {
		l := hammer(r.cfg.clients, r.cfg.phase, x.read)
		var met *bool
		target := ""
		if x.target > 0 {
			target, met = "p95 ≤ "+ms(x.target), verdict(l.pct(0.95) <= x.target && l.errs == 0)
		}
		r.record(fmt.Sprintf("%s %s, %d clients", label, x.name, r.cfg.clients), l.String(), target, met)
	}
}

func (r *scaleRun) warm() {
	// One read of each first: what is measured here is a server that has been
	// serving, not its first answer (see cold).
	if err := r.readAPI(0); err != nil {
		r.b.Fatal(err)
	}
	if err := r.readOverview(0); err != nil {
		r.b.Fatal(err)
	}
	r.reads("warm (nothing arriving)", 0, 0)
	if rss, _, err := r.app.memory(); err == nil {
		r.record("RSS after the warm reads", mib(rss), "≤ 200 MiB", verdict(rss <= 200<<20))
	}
}

// viewers: every viewer opens the overview at the same instant, each on its
// own connection and session; then each reloads it every 10 s for PHASE.
func (r *scaleRun) viewers() {
	n := len(r.viewing)
	readers := make([]*reader, n)
	for i, s := range r.viewing {
		readers[i] = newReader(s, "")
	}
	herd, steady := newLatencies(), newLatencies()
	gate := make(chan struct{})
	stop := time.Now().Add(r.cfg.phase + 30*time.Second) // the herd itself may take a while
	var wg sync.WaitGroup
	var herdDone sync.WaitGroup
	herdDone.Add(n)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			t := time.Now()
			err := readers[i].get(r.app.URL, "/", nil)
			herd.add(time.Since(t), err)
			herdDone.Done()
			herdDone.Wait()
			end := time.Now().Add(r.cfg.phase)
			next := time.Now().Add(time.Duration(rand.Int64N(int64(10 * time.Second))))
			for {
				time.Sleep(time.Until(next))
				if next.After(end) || time.Now().After(stop) {
					return
				}
				t := time.Now()
				err := readers[i].get(r.app.URL, "/", nil)
				steady.add(time.Since(t), err)
				next = next.Add(10 * time.Second)
			}
		}()
	}
	profiled := r.profile("viewers", 10*time.Second)
	herd.start = time.Now() // the goroutines touch herd only once the gate opens
	close(gate)
	herdDone.Wait()
	herd.done()
	steady.mu.Lock()
	steady.start = time.Now()
	steady.mu.Unlock()
	wg.Wait()
	steady.done()
	profiled()
	for _, rd := range readers {
		rd.client.CloseIdleConnections()
	}
	r.record(fmt.Sprintf("%d viewers open the overview at once", n), herd.String(), "no error, p99 ≤ 1 s",
		verdict(herd.errs == 0 && herd.pct(0.99) <= time.Second))
	r.record(fmt.Sprintf("then each reloads it every 10 s for %s", r.cfg.phase), steady.String(), "no error, p99 ≤ 1 s",
		verdict(steady.errs == 0 && steady.pct(0.99) <= time.Second))
}

// liveRow is a new row for series i's current bucket, with counts that differ
// from every row it had before.
func (r *scaleRun) liveRow(i int) string {
	r.posted[i]++
	t := time.Now().Unix() / 300 * 300
	return fmt.Sprintf(`{"service":"%s","_time":"%d","total":"1000","good":"%d"}`, seriesKey(i), t, 900+r.posted[i]%50)
}

// live measures the reads while every SLO gets a row each period.
func (r *scaleRun) live(label string, period, tick time.Duration) {
	rate := float64(r.cfg.slos) / period.Seconds()
	asked := fmt.Sprintf("%s (every SLO a row each %s: %.1f rows/s, posted every %s)", label, period, rate, tick)
	load := startFeedLoad(r.b, r.cfg.slos, period, tick, r.cfg.senders, r.cfg.batch, r.liveRow,
		func(rows []string) error { return r.send.post(r.app.URL, rows) })
	profiled := r.profile(label, 2*r.cfg.phase) // both reads
	target := 100 * time.Millisecond
	if period < time.Minute {
		target = time.Second
	}
	r.reads(asked, target, target)
	profiled()
	load.stop()
	took := time.Since(load.start)
	r.record(label+": what arrived", fmt.Sprintf("%.1f rows/s for %s; per delivery %s", float64(load.rows.Load())/took.Seconds(), ms(took), load.lat), "", nil)
}

// freshness measures, after a delivery's 2xx, how long /api/v1/slos/{id}
// takes to show its new version: polled on the replica posted to, then on a
// second replica sharing the database.
func (r *scaleRun) freshness() {
	measure := func(label string, at *serveProc) {
		lat := newLatencies()
		for k := range r.cfg.fresh {
			i := (k * 7919) % r.cfg.slos // spread over the SLOs
			id := r.ids[i]
			before, err := r.api.slo(at.URL, id)
			if err != nil {
				r.b.Fatal(err)
			}
			if err := r.send.post(r.app.URL, []string{r.liveRow(i)}); err != nil {
				r.b.Fatal(err)
			}
			acked := time.Now()
			for {
				s, err := r.api.slo(at.URL, id)
				if err == nil && s.Status.Version > before.Status.Version {
					lat.add(time.Since(acked), nil)
					break
				}
				if time.Since(acked) > 10*time.Second {
					lat.add(0, fmt.Errorf("SLO %d: version %d still shown 10 s after the 2xx (%v)", id, before.Status.Version, err))
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		lat.done()
		r.record(label, lat.String(), "≤ 5 s", verdict(lat.errs == 0 && lat.pct(1) <= 5*time.Second))
	}
	measure("fresh: 2xx → /api/v1/slos/{id} shows it, same replica", r.app)
	env := map[string]string{}
	for k, v := range r.env {
		env[k] = v
	}
	addr := dbtest.FreeAddr(r.b)
	env["SITEMETRICS_ADDR"], env["SITEMETRICS_BASE_URL"], env["SITEMETRICS_DATA_DIR"] = addr, "http://"+addr, r.b.TempDir()
	second := startServe(r.b, r.bin, env)
	defer second.stop(r.b)
	if _, err := r.api.slos(second.URL); err != nil {
		r.b.Fatal(err)
	}
	measure("fresh: 2xx on one replica → the other's /api/v1/slos/{id} shows it", second)
}

// cold restarts the app (SIGKILL, then start) and times its first answers.
func (r *scaleRun) cold() {
	r.awaitSummaries(5 * time.Minute)
	r.app.restart(r.b)
	profiled := r.profile("cold", 3*time.Second) // the first answer, with PPROF
	t := time.Now()
	list, err := r.api.slos(r.app.URL)
	first, answered := time.Since(t), time.Since(r.app.Started)
	profiled()
	if err != nil {
		r.b.Fatal(err)
	}
	withData := 0
	for _, s := range list {
		if s.Status.HasData {
			withData++
		}
	}
	r.b.ReportMetric(first.Seconds()*1000, "first_api_ms")
	r.record("cold: first /api/v1/slos after SIGKILL and start", fmt.Sprintf("%s (%d of %d SLOs with numbers; ready %s after exec, answered %s after exec)",
		ms(first), withData, r.cfg.slos, ms(r.app.Ready.Sub(r.app.Started)), ms(answered)),
		"≤ 1 s", verdict(first <= time.Second && withData == r.cfg.slos))
	if rss, _, err := r.app.memory(); err == nil {
		r.record("RSS after restart and the first answer", mib(rss), "≤ 200 MiB", verdict(rss <= 200<<20))
	}
	r.app.restart(r.b)
	t = time.Now()
	err = r.readOverview(0)
	first = time.Since(t)
	if err != nil {
		r.b.Fatal(err)
	}
	r.record("cold: first overview / after SIGKILL and start", ms(first), "≤ 1 s", verdict(first <= time.Second))
}

// print writes the table.
func (r *scaleRun) print() {
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\nSitemetrics at scale: %d SLOs × %d days (%s windows), took %s; load average at the end %s\n\n",
		r.cfg.slos, r.cfg.days, r.cfg.window, ms(time.Since(r.begun)), strings.Join(strings.Fields(string(load))[:3], " "))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "what\tfigure\ttarget\t")
	for _, x := range r.results {
		fmt.Fprintf(w, "%s\t%s\t%s %s\t\n", x.what, x.figure, x.target, x.verdict)
	}
	w.Flush()
	fmt.Println()
}
