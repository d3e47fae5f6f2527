package main

import (
	"net/url"
	"strings"
	"testing"
)

// Revoking a token asks first, on a page that says what stops working, and
// revokes only on that page's POST.
func TestRevokeAsksFirst(t *testing.T) {
	env := localEnv(t, "sqlite")
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	a := startApp(t, env)
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	body := []byte(`{"result":{"service":"checkout","total":"10","good":"10"}}`)
	hint := "smf_…" + hook[len(hook)-4:]

	// The feed's only token: the page says so, and what Splunk gets.
	d := page(t, b.get("/feeds/1"))
	mustf(t, d.Find(`[data-testid="tokens"] a[data-testid="revoke"]`).AttrOr("href", "") == "/feeds/1/tokens/1/revoke", "no revoke link on the feed page")
	r := b.get("/feeds/1/tokens/1/revoke")
	d = page(t, r)
	text := d.Find(`[data-testid="confirm-message"]`).Text() + " " + d.Find(`[data-testid="consequences"]`).Text()
	for _, want := range []string{"Splunk's report posting with " + hint + " will get 404 and its deliveries will be lost: Splunk never retries",
		"This is the feed's only active token", "It has never been used."} {
		mustf(t, r.Status == 200 && strings.Contains(text, want), "the confirmation (%d) does not say %q:\n%s", r.Status, want, text)
	}
	mustf(t, do(t, "POST", hook, body).Status == 200, "delivery")
	mustf(t, strings.Contains(page(t, b.get("/feeds/1/tokens/1/revoke")).Find(`[data-testid="consequences"]`).Text(), "It was last used"),
		"the confirmation does not say when the token was last used")

	// One POST without the confirmation only asks.
	r = b.post("/feeds/1/tokens/1/revoke", url.Values{})
	mustf(t, r.Status == 303 && r.Header.Get("Location") == "/feeds/1/tokens/1/revoke", "an unconfirmed revoke: %d %s", r.Status, r.Header.Get("Location"))
	mustf(t, do(t, "POST", hook, body).Status == 200, "an unconfirmed revoke revoked")

	// With a second token, the first is no longer the only one.
	b.post("/feeds/1/tokens", url.Values{})
	text = page(t, b.get("/feeds/1/tokens/1/revoke")).Find(`[data-testid="consequences"]`).Text()
	mustf(t, strings.Contains(text, "keeps 1 other active token") && !strings.Contains(text, "only active token"), "with two tokens: %s", text)
	r = b.post("/feeds/1/tokens/1/revoke", url.Values{"confirm": {"yes"}})
	mustf(t, r.Status == 303 && r.Header.Get("Location") == "/feeds/1", "revoke: %d", r.Status)
	mustf(t, strings.Contains(page(t, b.follow(r)).Find(`[data-testid="flash"]`).Text(), "revoked"), "no word that it was revoked")
	mustf(t, do(t, "POST", hook, body).Status == 404, "a revoked token still works")
	mustf(t, b.get("/feeds/1/tokens/1/revoke").Status == 404, "a revoked token can be revoked again")

	// API tokens and kiosk links ask the same way.
	token := newAPIToken(t, env, "sre")
	text = page(t, b.get("/admin/tokens/1/revoke")).Text()
	mustf(t, strings.Contains(text, "get 401 Unauthorized") && strings.Contains(text, "Its role is sre"), "API token confirmation:\n%s", text)
	mustf(t, b.post("/admin/tokens/1/revoke", url.Values{}).Status == 303, "unconfirmed API token revoke")
	mustf(t, do(t, "GET", a.URL+"/api/v1/slos", nil, "Authorization", "Bearer "+token).Status == 200, "an unconfirmed revoke revoked the API token")
	// Scripts revoke without a page to confirm on.
	admin := newAPIToken(t, env, "admin")
	mustf(t, do(t, "DELETE", a.URL+"/api/v1/tokens/1", nil, "Authorization", "Bearer "+admin).Status == 204, "API revoke")
	mustf(t, do(t, "GET", a.URL+"/api/v1/slos", nil, "Authorization", "Bearer "+token).Status == 401, "a revoked API token works")

	link := kioskLink(t, b, url.Values{"name": {"Lobby"}, "days": {"30"}})
	text = page(t, b.get("/admin/kiosk/1/revoke")).Text()
	mustf(t, strings.Contains(text, "The screen showing Lobby loses the TV view at its next refresh"), "kiosk confirmation:\n%s", text)
	mustf(t, b.post("/admin/kiosk/1/revoke", url.Values{}).Status == 303 && do(t, "GET", link, nil).Status == 200, "an unconfirmed revoke revoked the kiosk link")
	mustf(t, b.post("/admin/kiosk/1/revoke", url.Values{"confirm": {"yes"}}).Status == 303 && do(t, "GET", link, nil).Status == 401, "kiosk revoke")
}
