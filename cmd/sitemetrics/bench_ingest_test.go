package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// BenchmarkIngest compares the webhook with what the same PostgreSQL can do
// raw (`make bench-ingest`):
//
//	http-single-no-slo/…    single-row native Splunk deliveries through HTTP to a
//	                        feed no SLO reads (a sample and a delivery written)
//	http-single/senders=N   the same to a feed whose every row feeds two SLOs
//	                        (their hour and day roll-ups written too)
//	raw-insert/conns=N      single-row INSERTs, each its own transaction, from N
//	                        goroutines over a pool of exactly N connections, into a
//	                        table with the samples table's columns, indexes and
//	                        partitions
//	http-batch1000(-no-slo) 1,000-row batch deliveries through HTTP, one at a time
//	copy-1000               COPY of 1,000 such rows into that table, one at a time
//
// `make bench-ingest` runs the single-row ones 4,000 times and the 1,000-row
// ones 300 times.
//
// Connections: the baseline at N uses N connections, as many as the app has
// senders. The app's pool is capped at 32 connections (sqlstore.Open), and its
// small deliveries are written by one group-commit writer at a time, so at 8
// and 32 senders the app writes through one connection while the baseline
// writes through 8 and 32. Every row is a new (series, bucket): nothing is
// replaced. The ratios are logged at the end.
func BenchmarkIngest(b *testing.B) {
	env := testEnv(b, "postgres")
	env["SITEMETRICS_LOG_LEVEL"] = "error"
	hook := newFeed(b, env, "--name", "bench", "--series-field", "service")
	plain := newFeed(b, env, "--name", "plain", "--series-field", "service")
	// Each series feeds an availability and a latency SLO, so every row also
	// updates two SLOs' hour and day roll-ups, as in production.
	store := dbtest.OpenURL(b, env["SITEMETRICS_DATABASE_URL"])
	for i := 0; i < 100; i++ {
		svc := fmt.Sprintf("svc%d", i)
		if _, err := store.CreateService(context.Background(), "bench", models.ServiceInput{Name: svc}); err != nil {
			b.Fatal(err)
		}
		for _, in := range []models.SLOInput{
			{Service: svc, Name: svc + "-availability", Indicator: "ratio", Target: "99.9", Window: "30d", Feed: "bench", Series: svc, GoodField: "good", TotalField: "total"},
			{Service: svc, Name: svc + "-latency", Indicator: "threshold", Target: "99", Window: "30d", Feed: "bench", Series: svc, ValueField: "p95_ms", Op: "lte", Threshold: "300"},
		} {
			if _, _, err := store.CreateSLO(context.Background(), "bench", in); err != nil {
				b.Fatal(err)
			}
		}
	}
	store.Close()
	a := startApp(b, env)
	db, err := sql.Open("pgx", env["SITEMETRICS_DATABASE_URL"])
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := dbtest.MirrorTable(context.Background(), db, "samples", "bench_raw"); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq, rawSeq atomic.Int64 // rows for the app, rows for bench_raw
	// Let the app finish deriving the new SLOs' (empty) histories and warm
	// its caches, as a running server would have.
	time.Sleep(2 * time.Second)
	for i := 0; i < 200; i++ {
		if err := postSingle(client, hook, &seq)(); err != nil {
			b.Fatalf("%v\n%s", err, a.out.String())
		}
	}
	rates := map[string]float64{}
	for _, n := range []int{8, 32} {
		b.Run(fmt.Sprintf("http-single-no-slo/senders=%d", n), func(b *testing.B) {
			report(b, concurrently(b, n, postSingle(client, plain, &seq)), "deliveries/s")
		})
		b.Run(fmt.Sprintf("http-single/senders=%d", n), func(b *testing.B) {
			rates[b.Name()] = report(b, concurrently(b, n, postSingle(client, hook, &seq)), "deliveries/s")
		})
		b.Run(fmt.Sprintf("raw-insert/conns=%d", n), func(b *testing.B) {
			pool := poolOf(b, env["SITEMETRICS_DATABASE_URL"], n)
			lat := concurrently(b, n, func() error {
				series, bucket := rowKey(rawSeq.Add(1))
				_, err := pool.Exec(context.Background(), `INSERT INTO bench_raw (series_id, bucket, fields, delivery_id) VALUES ($1, $2, $3, $4)`,
					series, bucket, `{"good":1229,"p95_ms":212.5,"total":1234}`, bucket)
				return err
			})
			if got := pool.Stat().TotalConns(); got != int32(n) {
				b.Fatalf("the baseline used %d connections, not %d", got, n)
			}
			rates[b.Name()] = report(b, lat, "inserts/s")
		})
	}

	for _, feed := range []struct{ name, url string }{{"http-batch1000-no-slo", plain}, {"http-batch1000", hook}} {
		b.Run(feed.name, func(b *testing.B) {
			lat := concurrently(b, 1, func() error {
				base := seq.Add(1000) - 1000
				var body bytes.Buffer
				body.WriteString(`{"sid":"batch","results":[`)
				for r := int64(0); r < 1000; r++ {
					if r > 0 {
						body.WriteByte(',')
					}
					series, bucket := rowKey(base + r)
					fmt.Fprintf(&body, `{"service":"svc%d","_time":"%d","total":"1234","good":"1229","p95_ms":"212.5"}`, series, bucket)
				}
				body.WriteString("]}")
				_, err := okBody(client.Post(feed.url, "application/json", &body))
				return err
			})
			report(b, lat, "deliveries/s")
			rates[b.Name()] = 1000 * float64(len(lat)) / b.Elapsed().Seconds()
			b.ReportMetric(rates[b.Name()], "rows/s")
		})
	}
	b.Run("copy-1000", func(b *testing.B) {
		pool := poolOf(b, env["SITEMETRICS_DATABASE_URL"], 1)
		lat := concurrently(b, 1, func() error {
			base := rawSeq.Add(1000) - 1000
			rows := make([][]any, 1000)
			for r := range rows {
				series, bucket := rowKey(base + int64(r))
				rows[r] = []any{series, bucket, `{"good":1229,"p95_ms":212.5,"total":1234}`, base}
			}
			_, err := pool.CopyFrom(context.Background(), pgx.Identifier{"bench_raw"},
				[]string{"series_id", "bucket", "fields", "delivery_id"}, pgx.CopyFromRows(rows))
			return err
		})
		report(b, lat, "copies/s")
		rates[b.Name()] = 1000 * float64(len(lat)) / b.Elapsed().Seconds()
		b.ReportMetric(rates[b.Name()], "rows/s")
	})
	// Printed, not logged: a parent benchmark's log is not shown.
	for _, n := range []int{8, 32} {
		app, raw := rates[fmt.Sprintf("%s/http-single/senders=%d", b.Name(), n)], rates[fmt.Sprintf("%s/raw-insert/conns=%d", b.Name(), n)]
		if app > 0 && raw > 0 {
			fmt.Printf("single-row deliveries at %d senders: %.2f × raw INSERT on %d connections\n", n, app/raw, n)
		}
	}
	if app, raw := rates[b.Name()+"/http-batch1000"], rates[b.Name()+"/copy-1000"]; app > 0 && raw > 0 {
		fmt.Printf("1,000-row deliveries: %.2f × COPY (one at a time each, COPY on one connection)\n", app/raw)
	}
}

// rowKey is where the i-th row of the benchmark goes: series svc0…svc99, each
// getting consecutive 5-minute buckets from 45 days before the benchmark
// began, so that no row replaces another and none is in the future: 4,000
// single-row deliveries of each kind and 300 of 1,000 rows of each kind take
// about 22 days of buckets.
func rowKey(i int64) (series, bucket int64) {
	return i % 100, ingestStart + (i/100)*300
}

// ingestStart is a UTC midnight 45 days before this test binary started.
var ingestStart = (time.Now().Unix() - 45*86400) / 86400 * 86400

// poolOf is a pool of exactly n connections, opened before timing starts.
func poolOf(b *testing.B, url string, n int) *pgxpool.Pool {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns, cfg.MinConns = int32(n), int32(n)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	deadline := time.Now().Add(10 * time.Second)
	for pool.Stat().TotalConns() < int32(n) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return pool
}

// postSingle sends one native Splunk delivery of one row, as the webhook
// alert action does.
func postSingle(client *http.Client, hook string, seq *atomic.Int64) func() error {
	return func() error {
		i := seq.Add(1)
		series, bucket := rowKey(i)
		body := fmt.Sprintf(`{"sid":"scheduler__svc__search__RMD5b_at_1700000000_%d","search_name":"SLO","app":"search","owner":"svc",`+
			`"results_link":"https://splunk:8000/app/search/@go?sid=x","result":{"service":"svc%d","_time":"%d","total":"1234","good":"1229","p95_ms":"212.5"}}`,
			i, series, bucket)
		_, err := okBody(client.Post(hook, "application/json", strings.NewReader(body)))
		return err
	}
}

// concurrently runs b.N calls of f over n workers and returns each call's latency.
func concurrently(b *testing.B, n int, f func() error) []time.Duration {
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				start := time.Now()
				if err := f(); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return lat
}

// report reports the rate and percentiles of lat, and returns the rate.
func report(b *testing.B, lat []time.Duration, unit string) float64 {
	sorted := append([]time.Duration(nil), lat...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	pct := func(p float64) float64 {
		return float64(sorted[int(p*float64(len(sorted)-1))].Microseconds()) / 1000
	}
	rate := float64(len(lat)) / b.Elapsed().Seconds()
	b.ReportMetric(rate, unit)
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.95), "p95_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
	return rate
}
