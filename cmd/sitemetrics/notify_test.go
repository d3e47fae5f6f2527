package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/sitemetrics/sitemetrics/notify"
)

const notifyLease = notify.Lease

// hookSink is a local webhook receiver.
type hookSink struct {
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
	srv    *httptest.Server
}

func newHookSink(t *testing.T) *hookSink {
	s := &hookSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, b)
		s.sigs = append(s.sigs, r.Header.Get("X-Sitemetrics-Signature"))
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *hookSink) wait(t *testing.T, n int, what string) [][]byte {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		s.mu.Lock()
		got := append([][]byte(nil), s.bodies...)
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d messages after 15 s, want %d", what, len(got), n)
		}
	}
}

// The whole path through the running app: channels over the API (credentials never
// shown back, never logged), a test sent from the background, a real webhook delivery
// crossing a tier reaches the receiver, /alerts and the API say so, silences, roles,
// the pages, and per-SLO gauges on /metrics.
func TestNotificationsEndToEnd(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env := localEnv(t, dialect)
		env["SITEMETRICS_LOG_LEVEL"] = "debug"
		a := startApp(t, env)
		sre, viewer := newAPIToken(t, env, "sre"), newAPIToken(t, env, "viewer")
		hook := newHookSink(t)
		secretPath := "/T0123/B0456/XoXoSECRETpath9876"
		signKey := "sig-key-0123456789-abcdef"

		r := apiSend(t, a, "POST", sre, "/api/v1/channels", map[string]any{"name": "pager", "type": "webhook",
			"url": hook.srv.URL + secretPath, "secret": signKey, "min_severity": "page", "services": []string{"checkout"}})
		mustf(t, r.Status == 201, "create channel: %d %s", r.Status, r.Body)
		var ch struct {
			ID       int64    `json:"id"`
			URLHint  string   `json:"url_hint"`
			Services []string `json:"services"`
		}
		r.json(t, &ch)
		mustf(t, ch.ID > 0 && strings.HasSuffix(ch.URLHint, "9876") && len(ch.Services) == 1, "channel %s", r.Body)
		// A refused write (the name is taken) must not put the URL in the database's log lines.
		r = apiSend(t, a, "POST", sre, "/api/v1/channels", map[string]any{"name": "pager", "type": "webhook", "url": hook.srv.URL + secretPath + "2"})
		mustf(t, r.Status == 400 && strings.Contains(string(r.Body), `"field":"name"`), "duplicate name: %d %s", r.Status, r.Body)
		r = apiSend(t, a, "POST", sre, "/api/v1/channels", map[string]any{"name": "bad", "type": "sms", "url": "https://x.example/"})
		mustf(t, r.Status == 400 && strings.Contains(string(r.Body), `"field":"type"`), "bad type: %d %s", r.Status, r.Body)
		mustf(t, apiSend(t, a, "GET", viewer, "/api/v1/channels", nil).Status == 403, "a viewer reads channels")
		mustf(t, apiSend(t, a, "POST", viewer, "/api/v1/channels", map[string]any{"name": "x"}).Status == 403, "a viewer adds a channel")

		// Send a test: queued on the request, sent by the background sender, signed.
		r = apiSend(t, a, "POST", sre, fmt.Sprintf("/api/v1/channels/%d/test", ch.ID), nil)
		mustf(t, r.Status == 202, "test: %d %s", r.Status, r.Body)
		got := hook.wait(t, 1, "the test message")
		mustf(t, strings.Contains(string(got[0]), `"kind":"test"`), "test body %s", got[0])
		mac := hmac.New(sha256.New, []byte(signKey))
		mac.Write(got[0])
		mustf(t, hook.sigs[0] == "sha256="+hex.EncodeToString(mac.Sum(nil)), "signature %q", hook.sigs[0])

		// An SLO, its feed, history, and then the delivery that crosses the page tier.
		feedURL := newFeed(t, env, "--name", "web", "--interval", "5m", "--series-field", "service")
		mustf(t, apiSend(t, a, "POST", sre, "/api/v1/services", map[string]any{"name": "checkout", "team": "payments"}).Status == 201, "service")
		r = apiSend(t, a, "POST", sre, "/api/v1/slos", map[string]any{"service": "checkout", "name": "checkout-availability", "indicator": "ratio",
			"target": "99.9", "window": "30d", "feed": "web", "series": "checkout", "good_field": "good", "total_field": "total"})
		mustf(t, r.Status == 201, "slo: %d %s", r.Status, r.Body)
		end := time.Now().UTC().Truncate(5 * time.Minute)
		var rows []string
		for i := 288; i >= 1; i-- {
			rows = append(rows, fmt.Sprintf(`{"service":"checkout","_time":"%d","total":"1000","good":"1000"}`, end.Add(-time.Duration(i)*5*time.Minute).Unix()))
		}
		mustf(t, do(t, "POST", feedURL, []byte(`{"results":[`+strings.Join(rows, ",")+`]}`)).Status == 200, "history")
		time.Sleep(1500 * time.Millisecond) // the evaluator has seen the healthy SLO
		row := fmt.Sprintf(`{"sid":"scheduler__sre__search__RMD5_at_%d_1","result":{"service":"checkout","_time":"%d","total":"1000","good":"700"}}`, end.Unix(), end.Unix())
		mustf(t, do(t, "POST", feedURL, []byte(row)).Status == 200, "crossing delivery")
		got = hook.wait(t, 2, "the firing")
		mustf(t, strings.Contains(string(got[1]), `"status":"firing"`) && strings.Contains(string(got[1]), `"name":"page quick"`), "firing body %s", got[1])

		var alerts struct {
			Firing []struct {
				Kind, Tier, Severity string
				SLOURL               string `json:"slo_url"`
			} `json:"firing"`
			Events []struct {
				ID         string `json:"id"`
				Deliveries struct{ Sent int }
			} `json:"events"`
		}
		apiGet(t, a, viewer, "/api/v1/alerts", &alerts)
		mustf(t, len(alerts.Firing) >= 1 && len(alerts.Events) >= 1, "alerts API: %+v", alerts)
		pageQuick := false
		for _, f := range alerts.Firing {
			pageQuick = pageQuick || (f.Tier == "page quick" && f.Severity == "page" && strings.Contains(f.SLOURL, "/slos/"))
		}
		mustf(t, pageQuick, "page quick not firing in the API: %+v", alerts.Firing)

		// Silences over the API, SREs only.
		r = apiSend(t, a, "POST", sre, "/api/v1/silences", map[string]any{"duration": "2h", "reason": "known issue"})
		mustf(t, r.Status == 201, "silence: %d %s", r.Status, r.Body)
		mustf(t, apiSend(t, a, "POST", viewer, "/api/v1/silences", map[string]any{"duration": "2h", "reason": "x"}).Status == 403, "a viewer silences")
		r = apiSend(t, a, "POST", sre, "/api/v1/silences", map[string]any{"reason": "forever"})
		mustf(t, r.Status == 400 && strings.Contains(string(r.Body), `"field":"ends_at"`), "silence without end: %d %s", r.Status, r.Body)
		mustf(t, apiSend(t, a, "DELETE", sre, "/api/v1/silences/1", nil).Status == 204, "end a silence")

		// The pages: an admin sees channels, a channel, alerts and silences; labels on controls.
		b := newBrowser(t, a.URL)
		b.login("admin", adminPassword, "/")
		for _, path := range []string{"/alerts", "/channels", fmt.Sprintf("/channels/%d", ch.ID), "/silences"} {
			p := b.get(path)
			mustf(t, p.Status == 200, "%s: %d", path, p.Status)
			d, err := goquery.NewDocumentFromReader(bytes.NewReader(p.Body))
			must(t, err)
			d.Find("input, select").Each(func(_ int, s *goquery.Selection) {
				if id, _ := s.Attr("id"); s.AttrOr("type", "") != "hidden" && (id == "" || d.Find(`label[for="`+id+`"]`).Length() == 0) {
					t.Errorf("%s: a control without a label: %s", path, s.AttrOr("name", "?"))
				}
			})
			mustf(t, !strings.Contains(string(p.Body), "SECRETpath") && !strings.Contains(string(p.Body), signKey), "%s shows a credential", path)
			mustf(t, !strings.Contains(string(p.Body), "style=") && !strings.Contains(string(p.Body), "<script"), "%s: inline style or script", path)
		}
		d, _ := goquery.NewDocumentFromReader(bytes.NewReader(b.get("/alerts").Body))
		mustf(t, strings.Contains(d.Find(`[data-testid="firing"]`).Text(), "page quick"), "/alerts does not show the firing tier")
		href, _ := d.Find(`[data-testid="firing"] a`).Attr("href")
		mustf(t, strings.HasPrefix(href, "/slos/1?range=24h&at="), "link to the SLO at that time: %q", href)
		mustf(t, b.get(href).Status == 200, "the SLO link")
		r = b.post(fmt.Sprintf("/channels/%d/test", ch.ID), url.Values{})
		mustf(t, r.Status == 303, "test from the page: %d", r.Status)
		hook.wait(t, 3, "the second test")
		d, _ = goquery.NewDocumentFromReader(bytes.NewReader(b.get(fmt.Sprintf("/channels/%d", ch.ID)).Body))
		mustf(t, d.Find(`[data-testid="delivery-state"]`).Length() >= 3, "the channel page lists its messages")
		r = b.post("/channels", url.Values{"name": {"mail"}, "type": {"email"}, "url": {"smtp://mail.example:587?from=a@example.com"}})
		mustf(t, r.Status == 400 && strings.Contains(string(r.Body), `data-testid="error-url"`), "email without to: %d", r.Status)
		r = b.post("/silences", url.Values{"target": {"slo:1"}, "duration": {"1h"}, "reason": {"deploy"}})
		mustf(t, r.Status == 303, "silence from the page: %d %s", r.Status, r.Body)
		mustf(t, strings.Contains(string(b.get("/alerts").Body), `data-testid="silenced"`), "/alerts does not list the silence")

		// Audit entries for every change, hints only.
		r = apiSend(t, a, "GET", sre, "/api/v1/audit", nil)
		for _, want := range []string{`"entity":"channel"`, `"entity":"silence"`, `"action":"test"`, `"action":"expire"`} {
			mustf(t, strings.Contains(string(r.Body), want), "audit lacks %s", want)
		}
		mustf(t, !strings.Contains(string(r.Body), "SECRETpath") && !strings.Contains(string(r.Body), signKey), "the audit log holds a credential")

		// Per-SLO gauges, gone with the SLO.
		metrics := string(do(t, "GET", a.URL+"/metrics", nil).Body)
		for _, want := range []string{`sitemetrics_slo_budget_remaining{service="checkout",slo="checkout-availability"}`,
			`sitemetrics_slo_burn_rate{service="checkout",slo="checkout-availability",tier="page_quick",window="short"} 299.99`,
			// 300 bad events against one day of history (288 allowed): the budget is spent.
			`sitemetrics_slo_status{service="checkout",slo="checkout-availability",status="breached"} 1`,
			`sitemetrics_slo_tier_firing{service="checkout",slo="checkout-availability",tier="page_quick"} 1`} {
			mustf(t, strings.Contains(metrics, want), "/metrics lacks %s\n%s", want, metrics)
		}
		mustf(t, apiSend(t, a, "DELETE", sre, "/api/v1/slos/1", nil).Status == 204, "delete SLO")
		mustf(t, !strings.Contains(string(do(t, "GET", a.URL+"/metrics", nil).Body), `slo="checkout-availability"`), "a deleted SLO's series remain")

		mustf(t, !strings.Contains(a.out.String(), "SECRETpath") && !strings.Contains(a.out.String(), signKey), "the log holds a credential")
	})
}

// Notifications ride out a database outage as ingest does: the delivery that crosses a
// tier is spooled while PostgreSQL is unreachable, replayed when it returns, and the
// alert it causes is then decided and sent; the log says "paused" once, not per pass.
func TestNotificationsThroughDatabaseOutage(t *testing.T) {
	env := testEnv(t, "postgres")
	proxy := throughProxy(t, env)
	feedURL := newFeed(t, env, "--name", "web", "--interval", "5m", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	hook := newHookSink(t)
	mustf(t, apiSend(t, a, "POST", sre, "/api/v1/channels", map[string]any{"name": "pager", "type": "webhook", "url": hook.srv.URL,
		"min_severity": "page"}).Status == 201, "channel")
	mustf(t, apiSend(t, a, "POST", sre, "/api/v1/services", map[string]any{"name": "checkout"}).Status == 201, "service")
	mustf(t, apiSend(t, a, "POST", sre, "/api/v1/slos", map[string]any{"service": "checkout", "name": "checkout-availability", "indicator": "ratio",
		"target": "99.9", "window": "30d", "feed": "web", "series": "checkout", "good_field": "good", "total_field": "total"}).Status == 201, "slo")
	end := time.Now().UTC().Truncate(5 * time.Minute)
	var rows []string
	for i := 288 * 3; i >= 1; i-- {
		rows = append(rows, fmt.Sprintf(`{"service":"checkout","_time":"%d","total":"1000","good":"1000"}`, end.Add(-time.Duration(i)*5*time.Minute).Unix()))
	}
	mustf(t, do(t, "POST", feedURL, []byte(`{"results":[`+strings.Join(rows, ",")+`]}`)).Status == 200, "history")
	time.Sleep(1500 * time.Millisecond)

	proxy.cut()
	row := fmt.Sprintf(`{"sid":"scheduler__sre__search__RMD5_at_%d_1","result":{"service":"checkout","_time":"%d","total":"1000","good":"700"}}`, end.Unix(), end.Unix())
	r := do(t, "POST", feedURL, []byte(row))
	mustf(t, r.Status == 202, "during the outage the delivery is spooled: %d %s", r.Status, r.Body)
	time.Sleep(3 * time.Second) // evaluator and sender find the database gone, pass after pass
	hook.mu.Lock()
	early := len(hook.bodies)
	hook.mu.Unlock()
	mustf(t, early == 0, "sent during the outage")
	proxy.restore(t)
	got := hook.wait(t, 1, "the firing after the outage")
	mustf(t, strings.Contains(string(got[0]), `"status":"firing"`) && strings.Contains(string(got[0]), `"page quick"`), "body %s", got[0])
	mustf(t, strings.Count(a.out.String(), "notifications paused") == 1, "the outage is logged once:\n%s", a.out.String())
}

// The replica sending a message is killed (SIGKILL) while the receiver holds the
// request: nothing recorded it as sent, so the replica that takes over sends it again
// once its lease (30 s) ends, with the same id; nothing is lost, nothing else is doubled.
func TestSenderProcessKilledMidSend(t *testing.T) {
	env := testEnv(t, "postgres")
	sre := newAPIToken(t, env, "sre")
	var mu sync.Mutex
	var ids []string
	hold := make(chan struct{})
	arrived := make(chan struct{}, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct{ ID, Kind string }
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		ids = append(ids, m.ID)
		first := len(ids) == 1
		mu.Unlock()
		arrived <- struct{}{}
		if first {
			select { // the first request hangs until the test ends: its sender dies meanwhile
			case <-hold:
			case <-r.Context().Done():
			}
		}
	}))
	defer recv.Close()
	defer close(hold)

	cmd := startProcess(t, env)
	a := &app{URL: env["SITEMETRICS_BASE_URL"]}
	mustf(t, apiSend(t, a, "POST", sre, "/api/v1/channels", map[string]any{"name": "pager", "type": "webhook", "url": recv.URL}).Status == 201, "channel")
	mustf(t, apiSend(t, a, "POST", sre, "/api/v1/channels/1/test", nil).Status == 202, "test queued")
	select {
	case <-arrived:
	case <-time.After(15 * time.Second):
		t.Fatal("the message never arrived")
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	killedAt := time.Now()

	startProcess(t, env)
	select {
	case <-arrived:
	case <-time.After(notifyLease + 20*time.Second):
		t.Fatal("the message was not sent again after the lease")
	}
	again := time.Since(killedAt)
	time.Sleep(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] == "" {
		t.Fatalf("want the same message twice, with one id: %v", ids)
	}
	t.Logf("sent again %s after the kill, with the same id %s", again.Round(time.Second), ids[0])
}
