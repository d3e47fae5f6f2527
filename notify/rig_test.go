package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
	"github.com/sitemetrics/sitemetrics/notify"
)

var ctx = context.Background()

// clock is the injected time of a store and a notifier.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// rig is one SLO, checkout-availability (99.9% over 30 days, 5-minute feed "web"), on a
// real database, with a notifier on an injected clock.
type rig struct {
	t     testing.TB
	s     *sqlstore.Store
	clock *clock
	n     *notify.Notifier
	feed  models.Feed
	token string
	slo   models.SLODetail
	// end is the end of the newest bucket delivered.
	end time.Time
}

// t0 is where every rig's data starts: a Monday, midnight UTC.
var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func newRig(t testing.TB, s *sqlstore.Store) *rig { return newRigAt(t, s, t0) }

// newRigAt is a rig whose data starts at start (a bucket boundary).
func newRigAt(t testing.TB, s *sqlstore.Store, start time.Time) *rig {
	t.Helper()
	r := &rig{t: t, s: s, clock: &clock{t: start}}
	s.Now = r.clock.Now
	var err error
	r.feed, err = s.CreateFeed(ctx, models.FeedInput{Name: "web", Interval: "5m", SeriesField: "service"})
	must(t, err)
	r.token, _, err = s.CreateFeedToken(ctx, r.feed.ID)
	must(t, err)
	_, err = s.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout", Team: "payments"})
	must(t, err)
	r.slo, _, err = s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability",
		DisplayName: "Checkout availability", Indicator: "ratio", Target: "99.9", Window: "30d", Feed: "web", Series: "checkout",
		GoodField: "good", TotalField: "total"})
	must(t, err)
	must(t, s.DeriveAll(ctx))
	r.n = notify.New(s, notify.Options{BaseURL: "https://slo.example", Log: dbtest.Logger(t), Now: r.clock.Now})
	r.end = start
	return r
}

// rows is a batch body of 5-minute buckets for checkout from start, one per bad count.
func rows(series string, start time.Time, bad ...int) []byte {
	var parts []string
	for i, b := range bad {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		parts = append(parts, fmt.Sprintf(`{"service":%q,"_time":"%d","total":"1000","good":"%d"}`, series, at.Unix(), 1000-b))
	}
	return []byte(`{"sid":"scheduler__sre__search__RMD5_at_` + fmt.Sprint(start.Unix()) + `_7","results":[` + strings.Join(parts, ",") + `]}`)
}

// deliver stores buckets after the newest one (bad events per 1000 each), received at
// the end of the last of them, moving the clock there.
func (r *rig) deliver(bad ...int) {
	r.t.Helper()
	start := r.end
	r.end = start.Add(time.Duration(len(bad)) * 5 * time.Minute)
	if r.clock.Now().Before(r.end) {
		r.clock.Set(r.end)
	}
	res, err := r.s.IngestBody(ctx, r.feed, 0, rows("checkout", start, bad...), "application/json", r.clock.Now(), models.IngestOptions{})
	if err != nil || res.Accepted+res.Replaced != len(bad) {
		r.t.Fatalf("deliver: %+v %v", res, err)
	}
}

// addSearch adds a second service, search (team discovery), with an SLO like
// checkout's on the feed's "search" series.
func (r *rig) addSearch() models.SLODetail {
	r.t.Helper()
	_, err := r.s.CreateService(ctx, "sam", models.ServiceInput{Name: "search", Team: "discovery"})
	must(r.t, err)
	d, _, err := r.s.CreateSLO(ctx, "sam", models.SLOInput{Service: "search", Name: "search-availability",
		Indicator: "ratio", Target: "99.9", Window: "30d", Feed: "web", Series: "search", GoodField: "good", TotalField: "total"})
	must(r.t, err)
	must(r.t, r.s.DeriveAll(ctx))
	return d
}

// both delivers the same buckets to checkout and to search (addSearch).
func (r *rig) both(bad ...int) {
	r.t.Helper()
	start := r.end
	r.deliver(bad...)
	res, err := r.s.IngestBody(ctx, r.feed, 0, rows("search", start, bad...), "application/json", r.clock.Now(), models.IngestOptions{})
	if err != nil || res.Accepted != len(bad) {
		r.t.Fatalf("deliver search: %+v %v", res, err)
	}
}

// good delivers n buckets without a bad event.
func (r *rig) good(n int) { r.deliver(make([]int, n)...) }

// step brings the read model up to date, decides and sends, as the background loops
// would within a second.
func (r *rig) step() {
	r.t.Helper()
	must(r.t, r.s.Settle(ctx))
	_, err := r.n.Evaluate(ctx, true)
	must(r.t, err)
	for {
		n, err := r.n.Send(ctx)
		must(r.t, err)
		if n == 0 {
			return
		}
	}
}

func (r *rig) channel(name, typ, url string, secret *string, extra ...func(*models.ChannelInput)) models.Channel {
	r.t.Helper()
	in := models.ChannelInput{Name: name, Type: typ, URL: url, Secret: secret}
	for _, f := range extra {
		f(&in)
	}
	c, err := r.s.CreateChannel(ctx, "sam", in)
	must(r.t, err)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// receiver is a local HTTP endpoint that records what it is sent; fail answers a status
// instead of 2xx while it returns one.
type receiver struct {
	mu    sync.Mutex
	url   string
	srv   *http.Server
	ln    net.Listener
	addr  string
	got   []request
	fail  func(n int) int // n: requests so far; 0 = accept
	check func(body []byte) error
	// hold, when set, keeps the request open until it is closed (a send in flight).
	hold    chan struct{}
	arrived chan struct{}
}

type request struct {
	Header http.Header
	Body   []byte
	At     time.Time
	Err    error // what check said about the body
}

func newReceiver(t testing.TB, check func([]byte) error) *receiver {
	t.Helper()
	rc := &receiver{check: check, arrived: make(chan struct{}, 1000)}
	rc.addr = dbtest.FreeAddr(t) // started again on it after a stop
	ln, err := net.Listen("tcp", rc.addr)
	must(t, err)
	rc.url = "http://" + rc.addr + "/hook/T0000/B0000/SECRETsecret1234"
	rc.start(t, ln)
	t.Cleanup(rc.stop)
	return rc
}

func (rc *receiver) start(t testing.TB, ln net.Listener) {
	if ln == nil {
		var err error
		for i := 0; i < 50; i++ { // the port was ours a moment ago
			if ln, err = net.Listen("tcp", rc.addr); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		must(t, err)
	}
	rc.mu.Lock()
	rc.ln = ln
	rc.srv = &http.Server{Handler: http.HandlerFunc(rc.serve)}
	srv := rc.srv
	rc.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// stop closes the receiver: connections are refused until start.
func (rc *receiver) stop() {
	rc.mu.Lock()
	srv := rc.srv
	rc.srv = nil
	rc.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := request{Header: r.Header.Clone(), Body: body, At: time.Now()}
	if rc.check != nil {
		req.Err = rc.check(body)
	}
	rc.mu.Lock()
	n := len(rc.got)
	rc.got = append(rc.got, req)
	fail, hold := rc.fail, rc.hold
	rc.mu.Unlock()
	rc.arrived <- struct{}{}
	if hold != nil {
		<-hold
	}
	if fail != nil {
		if code := fail(n); code != 0 {
			http.Error(w, "receiver says no", code)
			return
		}
	}
	if req.Err != nil {
		http.Error(w, req.Err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"success"}`))
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.got...)
}

// ids are the "id" of every generic webhook body received, in order.
func (rc *receiver) bodies(t testing.TB) []notify.WebhookBody {
	t.Helper()
	var out []notify.WebhookBody
	for _, r := range rc.requests() {
		var b notify.WebhookBody
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("not a webhook body: %s", r.Body)
		}
		out = append(out, b)
	}
	return out
}

// syncWriter collects a child process's output.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
