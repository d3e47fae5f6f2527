package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/handlers"
	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
	"github.com/sitemetrics/sitemetrics/notify"
)

// webhookApp is the app's HTTP edge on a store, for posting real Splunk webhooks.
func webhookApp(t testing.TB, s *sqlstore.Store, now func() time.Time) *httptest.Server {
	t.Helper()
	h := handlers.New(handlers.Deps{Store: s, Log: dbtest.Logger(t), Metrics: handlers.NewMetrics(), Now: now,
		Config: handlers.Config{BaseURL: "https://slo.example", IngestMaxRows: 5000, DeliveryKeep: 1 << 20}})
	srv := httptest.NewServer(h.Routes())
	t.Cleanup(srv.Close)
	return srv
}

// postSplunk posts one row as Splunk's webhook alert action does ("For each result").
func postSplunk(t testing.TB, url, token, series string, bucket time.Time, bad int) {
	t.Helper()
	body := fmt.Sprintf(`{"sid":"scheduler__sre__search__RMD5_at_%d_42","search_name":"checkout availability","app":"search","owner":"sre",`+
		`"results_link":"https://splunk.example/app/search/@go?sid=x","result":{"service":%q,"_time":"%d","total":"1000","good":"%d"}}`,
		bucket.Unix(), series, bucket.Unix(), 1000-bad)
	resp, err := http.Post(url+"/hooks/splunk/"+token, "application/json", strings.NewReader(body))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
}

// A 30-minute flapping run in data time, through real webhook deliveries (one row per
// 5-minute bucket, as Splunk posts them): the page-quick tier flips on and off with
// every bucket, and the receiver hears one "firing" and, once the tier has been quiet
// for its 5-minute short window, one "resolved". Prints the figure:
//
//	go test -run TestFlappingRun -v ./notify   (under .ci/with-services for PostgreSQL)
func TestFlappingRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		hook := newReceiver(t, checkWebhook)
		r.channel("pager", "webhook", hook.url, nil, pageOnly)
		r.history()
		app := webhookApp(t, s, r.clock.Now)
		flips, last := 0, false
		post := func(bad int) {
			bucket := r.end
			r.end = bucket.Add(5 * time.Minute)
			r.clock.Set(r.end)
			postSplunk(t, app.URL, r.token, "checkout", bucket, bad)
			r.step()
			rep, err := s.Report(ctx, r.slo.ID, r.clock.Now())
			must(t, err)
			if f := rep.Eval.Tiers[0].Firing; f != last {
				flips, last = flips+1, f
			}
		}
		post(150)
		post(150) // the tier fires
		start := r.end
		for i := 0; r.end.Sub(start) < 30*time.Minute; i++ {
			post([]int{0, 40}[i%2]) // 40‰ in a bucket is 40×; the hour stays above 14.4×
		}
		during := len(hook.requests())
		post(0)
		post(0)
		post(0)
		got := hook.bodies(t)
		t.Logf("figure: a 30-minute flapping run (data time, %d webhook deliveries): the tier changed state %d times; %d messages sent during the run, %d in all (firing, resolved)",
			2+6+3, flips, during, len(got))
		if flips < 6 {
			t.Fatalf("the run did not flap: %d flips", flips)
		}
		if during != 1 || len(got) != 2 || got[0].Status != "firing" || got[1].Status != "resolved" {
			t.Fatalf("want one firing during the run and one resolved after: %+v", got)
		}
	})
}

// BenchmarkCrossingToPOST measures, on the real clock with the app's background loops
// running, the time from the webhook delivery that makes an SLO's page tier fire to the
// receiver's POST. One SLO per iteration (each crossed once).
//
//	.ci/with-services go test -run '^$' -bench CrossingToPOST -benchtime 40x ./notify
func BenchmarkCrossingToPOST(b *testing.B) {
	dialect := migrations.SQLite
	if os.Getenv("SITEMETRICS_TEST_DATABASE_URL") != "" {
		dialect = migrations.Postgres
	}
	s := dbtest.Open(b, dialect)
	feed, err := s.CreateFeed(ctx, models.FeedInput{Name: "web", Interval: "5m", SeriesField: "service"})
	must(b, err)
	token, _, err := s.CreateFeedToken(ctx, feed.ID)
	must(b, err)
	now := time.Now().UTC()
	end := now.Truncate(5 * time.Minute)
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("svc%03d", i)
		_, err := s.CreateService(ctx, "bench", models.ServiceInput{Name: name})
		must(b, err)
		_, _, err = s.CreateSLO(ctx, "bench", models.SLOInput{Service: name, Name: name + "-availability", Indicator: "ratio",
			Target: "99.9", Window: "30d", Feed: "web", Series: name, GoodField: "good", TotalField: "total"})
		must(b, err)
		res, err := s.IngestBody(ctx, feed, 0, rows(name, end.Add(-24*time.Hour), make([]int, 288)...), "application/json", now, models.IngestOptions{})
		if err != nil || res.Accepted != 288 {
			b.Fatalf("history: %+v %v", res, err)
		}
	}
	must(b, s.DeriveAll(ctx))
	must(b, s.Settle(ctx))

	var mu sync.Mutex
	arrived := map[string]time.Time{}
	got := make(chan struct{}, b.N)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		at := time.Now()
		body := buf.String()
		i := strings.Index(body, `"name":"svc`)
		mu.Lock()
		if i >= 0 {
			if _, dup := arrived[body[i+8:i+14]]; !dup {
				arrived[body[i+8:i+14]] = at
				got <- struct{}{}
			}
		}
		mu.Unlock()
	}))
	defer recv.Close()
	_, err = s.CreateChannel(ctx, "bench", models.ChannelInput{Name: "pager", Type: "webhook", URL: recv.URL, MinSeverity: "page"})
	must(b, err)
	app := webhookApp(b, s, nil)
	run, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	n := notify.New(s, notify.Options{BaseURL: "https://slo.example", Log: dbtest.Logger(b)})
	wg.Add(2)
	go func() { defer wg.Done(); s.RunReadModel(run) }()
	go func() { defer wg.Done(); n.Run(run) }()
	time.Sleep(1500 * time.Millisecond) // the first evaluation pass has seen every SLO
	b.ResetTimer()
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("svc%03d", i)
		// Deliveries arrive whenever Splunk sends them, not in step with our loops.
		b.StopTimer()
		time.Sleep(time.Duration(rand.Int64N(int64(time.Second))))
		b.StartTimer()
		sent := time.Now()
		// 300‰ bad in the current bucket: 25× over the hour, 300× over 5 minutes.
		postSplunk(b, app.URL, token, name, end, 300)
		select {
		case <-got:
		case <-time.After(20 * time.Second):
			b.Fatalf("no POST for %s within 20 s", name)
		}
		mu.Lock()
		lat = append(lat, arrived[name].Sub(sent))
		mu.Unlock()
	}
	b.StopTimer()
	stop()
	wg.Wait()
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	b.ReportMetric(p(0.5).Seconds()*1000, "p50-ms")
	b.ReportMetric(p(0.99).Seconds()*1000, "p99-ms")
	b.Logf("figure (%s, %d crossings): delivery that crosses a page tier → receiver's POST: p50 %s, p99 %s, max %s",
		dialect, len(lat), p(0.5).Round(time.Millisecond), p(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}

// BenchmarkSenderDrain measures how fast the sender drains the outbox to one local
// receiver: b.N queued messages, sent by one notifier's passes.
//
//	.ci/with-services go test -run '^$' -bench SenderDrain -benchtime 2000x ./notify
func BenchmarkSenderDrain(b *testing.B) {
	dialect := migrations.SQLite
	if os.Getenv("SITEMETRICS_TEST_DATABASE_URL") != "" {
		dialect = migrations.Postgres
	}
	s := dbtest.Open(b, dialect)
	var mu sync.Mutex
	count := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		count++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()
	ch, err := s.CreateChannel(ctx, "bench", models.ChannelInput{Name: "sink", Type: "webhook", URL: recv.URL})
	must(b, err)
	for i := 0; i < b.N; i++ {
		_, err := s.QueueTest(ctx, "bench", ch.ID)
		must(b, err)
	}
	n := notify.New(s, notify.Options{BaseURL: "https://slo.example", Log: dbtest.Logger(b)})
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; {
		k, err := n.Send(ctx)
		must(b, err)
		if k == 0 {
			b.Fatalf("drained %d of %d", done, b.N)
		}
		done += k
	}
	el := time.Since(start)
	b.StopTimer()
	if count != b.N {
		b.Fatalf("receiver got %d of %d", count, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	b.Logf("figure (%s): the sender drained %d messages in %s: %.0f events/s", dialect, b.N, el.Round(time.Millisecond), float64(b.N)/el.Seconds())
}
