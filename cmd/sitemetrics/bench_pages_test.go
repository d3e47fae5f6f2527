package main

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// BenchmarkPages: 100 SLOs with 30 days of 5-minute samples on PostgreSQL,
// 32 signed-in clients at once (`make bench-pages`), reported apart:
//
//	warm/…   every page was rendered once before timing, and nothing arrives
//	         while timing: a server that has been serving, at rest
//	live/…   the same while every SLO gets a row a minute through the webhook
//	         (100 rows a minute, a delivery each second, for its current
//	         bucket: a new or replaced sample, a new version and summary)
//	cold/…   one request per iteration, the first one a freshly started
//	         `sitemetrics serve` process (SIGKILL, then start: read model
//	         empty) answers; ready_ms is from exec to /readyz
//
// with p50/p95/p99 and requests per second, and the bytes of each chart on a
// detail page. Without PostgreSQL it fails when SITEMETRICS_TEST_REQUIRE names
// it (as `make bench-pages` does), and skips otherwise.
func BenchmarkPages(b *testing.B) {
	const slos, clients = 100, 32
	env := testEnv(b, "postgres")
	env["SITEMETRICS_ADMIN_PASSWORD"] = adminPassword
	env["SITEMETRICS_LOG_LEVEL"] = "error"
	ctx := context.Background()
	store := dbtest.OpenURL(b, env["SITEMETRICS_DATABASE_URL"])
	if _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	ids := dbtest.SeedSLOs(b, store, slos, 30, time.Now().UTC())
	feed, err := store.FeedByName(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	hookToken, _, err := store.CreateFeedToken(ctx, feed.ID)
	if err != nil {
		b.Fatal(err)
	}
	store.Close()
	a := startApp(b, env)

	readers := make([]*reader, clients)
	for i := range readers {
		readers[i] = newReader(signIn(b, a.URL), "")
	}
	var next, nextID atomic.Int64
	get := func(base string, path func() string) func() error {
		return func() error { return readers[next.Add(1)%clients].get(base, path(), nil) }
	}
	overview := func() string { return "/" }
	detail := func() string { return fmt.Sprintf("/slos/%d", ids[nextID.Add(1)%int64(len(ids))]) }

	// Warm: every page rendered once first, as a running server's would be.
	if err := get(a.URL, overview)(); err != nil {
		b.Fatal(err)
	}
	for range ids {
		if err := get(a.URL, detail)(); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range []struct {
		name string
		path func() string
	}{{"overview", overview}, {"detail", detail}} {
		b.Run("warm/"+p.name, func(b *testing.B) {
			report(b, concurrently(b, clients, get(a.URL, p.path)), "requests/s")
		})
	}

	// Live: every SLO a row a minute, for its current bucket, counts changed each time.
	send := newSender(a.URL + "/hooks/splunk/" + hookToken)
	posted := make([]int, slos)
	row := func(i int) string {
		posted[i]++
		return fmt.Sprintf(`{"service":"svc%03d","_time":"%d","total":"1000","good":"%d","p50_ms":"90","p95_ms":"250","p99_ms":"500"}`,
			i, time.Now().Unix()/300*300, 900+posted[i]%50)
	}
	for _, p := range []struct {
		name string
		path func() string
	}{{"overview", overview}, {"detail", detail}} {
		b.Run("live/"+p.name, func(b *testing.B) {
			load := startFeedLoad(b, slos, time.Minute, time.Second, 4, 1000, row, func(rows []string) error { return send.post(a.URL, rows) })
			lat := concurrently(b, clients, get(a.URL, p.path))
			load.stop()
			if load.lat.errs > 0 {
				b.Fatalf("webhook: %s", load.lat)
			}
			report(b, lat, "requests/s")
			b.ReportMetric(float64(load.rows.Load())/time.Since(load.start).Seconds(), "rows_arriving/s")
		})
	}

	// Cold: a process of its own, killed and started before each request.
	coldEnv := map[string]string{}
	for k, v := range env {
		coldEnv[k] = v
	}
	addr := dbtest.FreeAddr(b)
	coldEnv["SITEMETRICS_ADDR"], coldEnv["SITEMETRICS_BASE_URL"], coldEnv["SITEMETRICS_DATA_DIR"] = addr, "http://"+addr, b.TempDir()
	cold := startServe(b, buildServe(b), coldEnv)
	for _, p := range []struct {
		name string
		path func() string
	}{{"overview", overview}, {"detail", detail}} {
		b.Run("cold/"+p.name, func(b *testing.B) {
			lat := make([]time.Duration, b.N)
			var ready time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				cold.restart(b)
				ready += cold.Ready.Sub(cold.Started)
				b.StartTimer()
				t := time.Now()
				if err := get(cold.URL, p.path)(); err != nil {
					b.Fatal(err)
				}
				lat[i] = time.Since(t)
			}
			b.StopTimer()
			report(b, lat, "requests/s")
			b.ReportMetric(float64(ready.Milliseconds())/float64(b.N), "ready_ms")
		})
	}

	b.Run("chart-bytes", func(b *testing.B) {
		var page []byte
		if err := readers[0].get(a.URL, fmt.Sprintf("/slos/%d", ids[0]), &page); err != nil {
			b.Fatal(err)
		}
		for _, chart := range []string{"burndown", "sli", "latency"} {
			m := regexp.MustCompile(`(?s)<figure[^>]*data-testid="chart-` + chart + `".*?</figure>`).Find(page)
			if m == nil {
				b.Fatalf("no %s chart", chart)
			}
			b.ReportMetric(float64(len(m)), chart+"_bytes")
		}
		b.ReportMetric(float64(len(page)), "page_bytes")
		b.ReportMetric(0, "ns/op")
	})
}
