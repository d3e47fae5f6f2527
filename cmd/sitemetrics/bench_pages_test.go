package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// BenchmarkPages: 100 SLOs with 30 days of 5-minute samples on PostgreSQL,
// 32 signed-in clients at once (`make bench-pages`). It reports p50/p95/p99
// and requests per second for the overview and for detail pages, and the
// bytes of each chart on a detail page.
func BenchmarkPages(b *testing.B) {
	env := localEnv(&testing.T{}, "postgres")
	env["SITEMETRICS_DATABASE_URL"] = dbtest.URL(b, "postgres")
	env["SITEMETRICS_LOG_LEVEL"] = "error"
	env["SITEMETRICS_ADDR"] = freePort(b)
	env["SITEMETRICS_BASE_URL"] = "http://" + env["SITEMETRICS_ADDR"]
	store, err := sqlstore.Open(context.Background(), env["SITEMETRICS_DATABASE_URL"], "", dbtest.Logger(b))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	ids := dbtest.SeedSLOs(b, store, 100, 30, time.Now().UTC())
	store.Close()
	a := startApp(b, env)

	const clients = 32
	jars := make([]*http.Client, clients)
	for i := range jars {
		jar, _ := cookiejar.New(nil)
		jars[i] = &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		resp, err := jars[i].PostForm(a.URL+"/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "next": {"/"}})
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var next atomic.Int64
	get := func(path func() string) func() error {
		return func() error {
			c := jars[next.Add(1)%clients]
			resp, err := c.Get(a.URL + path())
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Request.URL.Path == "/login" {
				return fmt.Errorf("status %d at %s", resp.StatusCode, resp.Request.URL.Path)
			}
			return nil
		}
	}
	// Warm the caches once, as a running server's would be.
	if err := get(func() string { return "/" })(); err != nil {
		b.Fatal(err)
	}
	for _, id := range ids {
		if err := get(func() string { return fmt.Sprintf("/slos/%d", id) })(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("overview", func(b *testing.B) {
		report(b, concurrently(b, clients, get(func() string { return "/" })), "requests/s")
	})
	var n atomic.Int64
	b.Run("detail", func(b *testing.B) {
		report(b, concurrently(b, clients, get(func() string { return fmt.Sprintf("/slos/%d", ids[n.Add(1)%int64(len(ids))]) })), "requests/s")
	})
	b.Run("chart-bytes", func(b *testing.B) {
		page := newBrowser(&testing.T{}, a.URL)
		page.client = jars[0]
		body := string(page.get(fmt.Sprintf("/slos/%d", ids[0])).Body)
		for _, chart := range []string{"burndown", "sli", "latency"} {
			m := regexp.MustCompile(`(?s)<figure[^>]*data-testid="chart-` + chart + `".*?</figure>`).FindString(body)
			if m == "" {
				b.Fatalf("no %s chart", chart)
			}
			b.ReportMetric(float64(len(m)), chart+"_bytes")
		}
		b.ReportMetric(float64(len(body)), "page_bytes")
		b.ReportMetric(0, "ns/op")
	})
}
