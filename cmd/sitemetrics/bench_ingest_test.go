package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
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
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// BenchmarkIngest compares the webhook with what the same PostgreSQL can do
// raw (`make bench-ingest`):
//
//	http-single-no-slo/…    single-row native Splunk deliveries through HTTP to a
//	                        feed no SLO reads (a sample and a delivery written)
//	http-single/senders=N   the same to a feed whose every row feeds two SLOs
//	                        (two SLO points written too)
//	raw-insert/conns=N      single-row INSERTs into a table shaped like samples
//	http-batch1000(-no-slo) 1,000-row batch deliveries through HTTP
//	copy-1000               COPY of the same 1,000 rows
func BenchmarkIngest(b *testing.B) {
	env := testEnv(b, "postgres")
	env["SITEMETRICS_LOG_LEVEL"] = "error"
	hook := newFeed(b, env, "--name", "bench", "--series-field", "service")
	plain := newFeed(b, env, "--name", "plain", "--series-field", "service")
	// Each series feeds an availability and a latency SLO, so every row also
	// writes two SLO points, as in production.
	store, err := sqlstore.Open(context.Background(), env["SITEMETRICS_DATABASE_URL"], "", dbtest.Logger(b))
	if err != nil {
		b.Fatal(err)
	}
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
	startApp(b, env)
	pool, err := pgxpool.New(context.Background(), env["SITEMETRICS_DATABASE_URL"])
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `CREATE TABLE bench_raw (LIKE samples INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	// Let the app finish deriving the new SLOs' (empty) histories and warm
	// its caches, as a running server would have.
	time.Sleep(2 * time.Second)
	for i := 0; i < 200; i++ {
		body := fmt.Sprintf(`{"result":{"service":"svc%d","_time":"%d","total":"10","good":"10","p95_ms":"100"}}`, i%100, 1600000000+i)
		resp, err := client.Post(hook, "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	for _, n := range []int{8, 32} {
		b.Run(fmt.Sprintf("http-single-no-slo/senders=%d", n), func(b *testing.B) {
			report(b, concurrently(b, n, postSingle(client, plain, &seq)), "deliveries/s")
		})
		b.Run(fmt.Sprintf("http-single/senders=%d", n), func(b *testing.B) {
			report(b, concurrently(b, n, postSingle(client, hook, &seq)), "deliveries/s")
		})
		b.Run(fmt.Sprintf("raw-insert/conns=%d", n), func(b *testing.B) {
			lat := concurrently(b, n, func() error {
				i := seq.Add(1)
				h := sha256.Sum256([]byte(fmt.Sprint(i)))
				_, err := pool.Exec(context.Background(), `INSERT INTO bench_raw (feed_id, series, ts, fields, sid, row_hash) VALUES ($1,$2,$3,$4,$5,$6)`,
					1, fmt.Sprintf("svc%d", i%100), time.Unix(1700000000+i, 0), `{"good":1229,"p95_ms":212.5,"total":1234}`, "sid", h[:])
				return err
			})
			report(b, lat, "inserts/s")
		})
	}

	for _, feed := range []struct{ name, url string }{{"http-batch1000-no-slo", plain}, {"http-batch1000", hook}} {
		b.Run(feed.name, func(b *testing.B) {
			lat := concurrently(b, 1, func() error {
				base := seq.Add(1000)
				var body bytes.Buffer
				body.WriteString(`{"sid":"batch","results":[`)
				for r := 0; r < 1000; r++ {
					if r > 0 {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, `{"service":"svc%d","_time":"%d","total":"1234","good":"1229","p95_ms":"212.5"}`, r%100, 1700000000+base+int64(r))
				}
				body.WriteString("]}")
				resp, err := client.Post(feed.url, "application/json", &body)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			})
			report(b, lat, "deliveries/s")
			b.ReportMetric(1000*float64(len(lat))/b.Elapsed().Seconds(), "rows/s")
		})
	}
	b.Run("copy-1000", func(b *testing.B) {
		lat := concurrently(b, 1, func() error {
			base := seq.Add(1000)
			rows := make([][]any, 1000)
			for r := range rows {
				h := sha256.Sum256([]byte(fmt.Sprint(base + int64(r))))
				rows[r] = []any{int64(1), fmt.Sprintf("svc%d", r%100), time.Unix(1700000000+base+int64(r), 0),
					`{"good":1229,"p95_ms":212.5,"total":1234}`, "batch", h[:]}
			}
			_, err := pool.CopyFrom(context.Background(), pgx.Identifier{"bench_raw"},
				[]string{"feed_id", "series", "ts", "fields", "sid", "row_hash"}, pgx.CopyFromRows(rows))
			return err
		})
		report(b, lat, "copies/s")
		b.ReportMetric(1000*float64(len(lat))/b.Elapsed().Seconds(), "rows/s")
	})
}

// postSingle sends one native Splunk delivery of one row, as the webhook
// alert action does.
func postSingle(client *http.Client, hook string, seq *atomic.Int64) func() error {
	return func() error {
		i := seq.Add(1)
		body := fmt.Sprintf(`{"sid":"scheduler__svc__search__RMD5b_at_1700000000_%d","search_name":"SLO","app":"search","owner":"svc",`+
			`"results_link":"https://splunk:8000/app/search/@go?sid=x","result":{"service":"svc%d","_time":"%d","total":"1234","good":"1229","p95_ms":"212.5"}}`,
			i, i%100, 1700000000+i)
		resp, err := client.Post(hook, "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
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

func report(b *testing.B, lat []time.Duration, unit string) {
	sorted := append([]time.Duration(nil), lat...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	pct := func(p float64) float64 {
		return float64(sorted[int(p*float64(len(sorted)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), unit)
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.95), "p95_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}
