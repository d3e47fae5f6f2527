package main

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// An SRE creates a feed in the browser, gets its URL once, rotates the
// token, and the revoked one stops working at once; forms refuse bad input
// with the field named.
func TestSREPages(t *testing.T) {
	env := localEnv(t, "sqlite")
	a := startApp(t, env)
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")

	r := b.post("/feeds/new", url.Values{"name": {"web"}, "interval": {"5m"}, "series_field": {"service"}, "time_field": {"_time"}})
	mustf(t, r.Status == 303 && r.Header.Get("Location") == "/feeds/1", "create feed: %d %s", r.Status, r.Header.Get("Location"))
	r = b.follow(r)
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	must(t, err)
	first := strings.TrimSpace(d.Find(`[data-testid="webhook-url"] pre`).Text())
	mustf(t, r.Status == 200 && regexp.MustCompile(`/hooks/splunk/smf_[A-Za-z0-9_-]{43}$`).MatchString(first), "feed URL %q", first)
	// A refresh shows the page again, without the URL: it was shown once.
	mustf(t, !strings.Contains(string(b.get("/feeds/1").Body), first[strings.LastIndex(first, "/")+1:]), "a refresh shows the webhook URL again")
	body := []byte(`{"result":{"service":"checkout","total":"10","good":"10"}}`)
	mustf(t, do(t, "POST", first, body).Status == 200, "the new URL does not work")
	mustf(t, !strings.Contains(string(b.get("/feeds/1").Body), strings.TrimPrefix(first[strings.LastIndex(first, "/")+1:], "smf_")),
		"the feed page shows the token again")

	r = b.follow(b.post("/feeds/1/tokens", url.Values{}))
	d, _ = goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	second := strings.TrimSpace(d.Find(`[data-testid="webhook-url"] pre`).Text())
	mustf(t, second != "" && second != first, "rotation")
	mustf(t, b.post("/feeds/1/tokens/1/revoke", url.Values{"confirm": {"yes"}}).Status == 303, "revoke")
	mustf(t, do(t, "POST", first, body).Status == 404, "a revoked token still works")
	mustf(t, do(t, "POST", second, body).Status == 200, "the new token does not work")

	r = b.post("/feeds/new", url.Values{"name": {"Web Feed"}, "interval": {"5m"}})
	mustf(t, r.Status == 400 && strings.Contains(string(r.Body), `data-testid="error-name"`), "bad feed name: %d", r.Status)

	b.post("/services/new", url.Values{"name": {"checkout"}, "team": {"payments"}})
	r = b.post("/maintenance", url.Values{"target": {"service:1"}, "starts_at": {"2026-11-22T10:00"}, "ends_at": {"2026-11-22T09:00"}, "reason": {"upgrade"}})
	mustf(t, r.Status == 400 && strings.Contains(string(r.Body), `data-testid="error-ends_at"`) && strings.Contains(string(r.Body), "before it starts"),
		"maintenance ending before it starts: %d", r.Status)
	r = b.post("/maintenance", url.Values{"target": {"service:1"}, "starts_at": {"2026-11-22T08:00"}, "ends_at": {"2026-11-22T09:00"}, "reason": {"upgrade"}})
	mustf(t, r.Status == 303, "maintenance: %d %s", r.Status, r.Body)
	r = b.post("/annotations", url.Values{"kind": {"incident"}, "title": {"INC-1 <b>payments</b>"}, "target": {""}})
	mustf(t, r.Status == 303, "annotation: %d", r.Status)
	page := b.get("/annotations")
	mustf(t, strings.Contains(string(page.Body), "INC-1 &lt;b&gt;payments&lt;/b&gt;"), "annotation title not escaped")
	// A target that no longer exists is the form's error, not a global annotation.
	for _, target := range []string{"slo:999", "service:999"} {
		r = b.post("/annotations", url.Values{"kind": {"deploy"}, "title": {"v2 to " + target}, "target": {target}})
		mustf(t, r.Status == 400 && strings.Contains(string(r.Body), "no longer exists"), "annotation on a missing %s: %d", target, r.Status)
		mustf(t, !strings.Contains(string(b.get("/annotations").Body), "v2 to "+target), "an annotation on a missing %s was stored", target)
	}
	audit := string(b.get("/audit").Body)
	for _, want := range []string{"service checkout", "maintenance: upgrade", "incident: INC-1"} {
		mustf(t, strings.Contains(audit, want), "audit lacks %q", want)
	}
	// An admin creates an API token in the page; it works once shown, and not once revoked.
	r = b.follow(b.post("/admin/tokens", url.Values{"name": {"ci"}, "role": {"sre"}}))
	d, _ = goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	token := strings.TrimSpace(d.Find(`[data-testid="new-token"] pre`).Text())
	mustf(t, strings.HasPrefix(token, "sma_"), "API token page: %d", r.Status)
	mustf(t, do(t, "GET", a.URL+"/api/v1/slos", nil, "Authorization", "Bearer "+token).Status == 200, "the new API token does not work")
	mustf(t, b.post("/admin/tokens/1/revoke", url.Values{"confirm": {"yes"}}).Status == 303, "revoke API token")
	mustf(t, do(t, "GET", a.URL+"/api/v1/slos", nil, "Authorization", "Bearer "+token).Status == 401, "a revoked API token works")
	r = b.post("/admin/tokens", url.Values{"name": {""}, "role": {"sre"}})
	mustf(t, r.Status == 400 && strings.Contains(string(r.Body), `data-testid="error-name"`), "API token without a name: %d", r.Status)

	viewer := newAPIToken(t, env, "viewer")
	r = do(t, "POST", a.URL+"/api/v1/maintenance", []byte(`{"service_id":1,"starts_at":"2026-11-22T08:00:00Z","ends_at":"2026-11-22T09:00:00Z","reason":"x"}`),
		"Authorization", "Bearer "+viewer)
	mustf(t, r.Status == 403, "a viewer added maintenance: %d", r.Status)
}
