package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// visit is one page as a person opens it: a URL, maybe a form to fill in,
// and the numbers and words they came for.
type visit struct {
	name   string                           // screenshots are NAME-1280.png and NAME-390.png
	path   string                           // opened first
	then   []chromedp.Action[chromedp.Void] // then done (fill in and send a form)
	ready  string                           // shown once the page is there
	keys   []string                         // must be visible, unclipped, at every width
	allow  map[string]string                // axe rule → why this page may break it
	status int                              // the page's HTTP status, when not 200 (an error page)
	screen bool                             // also a screenshot of a phone's first screen, for the README
}

// Every page of the app, with the demo's data (every status, thirty days of
// history, deploys, incidents, maintenance), at 1280 and 390 px: nothing
// scrolls sideways, the numbers are on screen, axe-core finds no serious or
// critical WCAG 2.2 AA violation, no console error or CSP violation. With
// SITEMETRICS_TEST_SCREENSHOTS=docs/screenshots (`make screenshots`) it
// takes the README's screenshots.
func TestBrowserPages(t *testing.T) {
	c := newChrome(t)
	axe := axeSource(t)
	env := localEnv(t, "sqlite")
	a := startApp(t, env, "--demo")
	waitDemo(t, a, newAPIToken(t, env, "viewer"))

	c.do(chromedp.Navigate(a.URL+"/login"), chromedp.WaitVisible("#username"))
	c.checkPage(visit{name: "login", keys: []string{"#username", "#password", `button[type="submit"]`}}, axe)
	c.do(chromedp.SendKeys("#username", "admin"), chromedp.SendKeys("#password", adminPassword),
		chromedp.Submit("#password"), chromedp.WaitVisible(`[data-testid="meeting"]`))

	overview := []string{`[data-testid="meeting"]`, `[data-testid="slo-name"]`, `[data-testid="status"]`, `[data-testid="remaining"]`,
		`[data-testid="sli"]`, `[data-testid="target"]`, `[data-testid="burn"]`, `[data-testid="age"]`}
	detail := []string{`[data-testid="objective"]`, `[data-testid="sli"]`, `[data-testid="remaining"]`, `[data-testid="status"]`,
		`[data-testid="tiers"] [data-testid="tier-factor"]`, `[data-testid="tiers"] [data-testid="tier-long"]`,
		`[data-testid="tiers"] [data-testid="tier-short"]`, `[data-testid="tiers"] [data-testid="tier-state"]`}
	pages := []visit{
		// First the viewer's time zone, so that every page after shows Madrid's times.
		{name: "account", path: "/account", ready: "#time_zone", keys: []string{`[data-testid="zone"]`, "#time_zone"}},
		{name: "account-zone-error", path: "/account", then: []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys("#time_zone", "Europe/Madird"), chromedp.Submit("#time_zone")},
			ready: `[data-testid="error-summary"]`, keys: []string{`[data-testid="error-summary"]`, `[data-testid="error-time_zone"]`}, status: 400},
		{name: "account-zone-saved", path: "/account", then: []chromedp.Action[chromedp.Void]{
			chromedp.SetValue("#time_zone", "Europe/Madrid"), chromedp.Submit("#time_zone")},
			ready: `[data-testid="flash"]`, keys: []string{`[data-testid="flash"]`, `[data-testid="zone"]`}},
		{name: "overview", path: "/", ready: `[data-testid="meeting"]`, keys: overview, screen: true},
		{name: "slo-detail", path: "/slos/1", ready: `[data-testid="slo-title"]`, keys: detail, screen: true},
		{name: "slo-detail-latency", path: "/slos/2", ready: `[data-testid="slo-title"]`, keys: detail},
		// Search's maintenance window was added after it began: marked on its charts.
		{name: "slo-detail-adjusted", path: "/slos/3", ready: `[data-testid="slo-title"]`,
			keys: append([]string{`[data-testid="chart-burndown"] svg g.ch-ann-adjusted`}, detail...)},
		{name: "slo-detail-no-data", path: "/slos/6", ready: `[data-testid="no-data"]`, keys: []string{`[data-testid="objective"]`, `[data-testid="status"]`}},
		{name: "report", path: "/reports", ready: `[data-testid="report"]`, keys: []string{`[data-testid="attained"]`,
			`[data-testid="report-target"]`, `[data-testid="met"]`, `[data-testid="budget-used"]`, `[data-testid="breach-time"]`, `[data-testid="history"]`,
			`[data-testid="adjusted"]`, `[data-testid="adjusted-count"]`}},
		{name: "tv", path: "/tv", ready: `[data-testid="tv-tile"]`, keys: []string{`[data-testid="tv-meeting"]`, `[data-testid="tv-clock"]`,
			`[data-testid="tv-remaining"]`, `[data-testid="tv-status"]`, `[data-testid="tv-sli"]`, `[data-testid="tv-age"]`, `[data-testid="tv-toggle"]`}},
		{name: "help", path: "/help", ready: `[data-testid="formulas"]`},
		{name: "feeds", path: "/feeds", ready: `[data-testid="feeds"]`, keys: []string{`[data-testid="feed-deliveries"]`,
			`[data-testid="feed-rejected"]`, `[data-testid="feed-tokens"]`, `[data-testid="feed-last"]`}},
		{name: "feed", path: "/feeds/1", ready: `[data-testid="deliveries"]`, keys: []string{`[data-testid="delivery-rows"]`,
			`[data-testid="delivery-accepted"]`, `[data-testid="delivery-rejected"]`, `[data-testid="tokens"] code`}},
		{name: "feed-new-token", path: "/feeds/2", then: []chromedp.Action[chromedp.Void]{chromedp.Click(`[data-testid="new-token"]`)},
			ready: `[data-testid="webhook-url"]`, keys: []string{`[data-testid="webhook-url"] pre`}},
		{name: "feed-token-revoke", path: "/feeds/1/tokens/1/revoke", ready: `[data-testid="confirm"]`,
			keys: []string{`[data-testid="confirm-message"]`, `[data-testid="consequences"]`, `[data-testid="confirm"]`}},
		{name: "feed-new", path: "/feeds/new", ready: "#interval"},
		{name: "feed-preview", path: "/feeds/1/preview", then: []chromedp.Action[chromedp.Void]{
			chromedp.SetValue("#body", string(fixture(t, "batch_results.json"))), chromedp.Submit("#body")},
			ready: `[data-testid="preview"]`, keys: []string{`[data-testid="preview"] td`}},
		{name: "slos", path: "/slos", ready: `[data-testid="service-checkout"]`, keys: []string{`[data-testid="slo-target"]`, `[data-testid="slo-window"]`}},
		{name: "slo-new", path: "/slos/new", ready: "#target"},
		{name: "slo-new-errors", path: "/slos/new", then: []chromedp.Action[chromedp.Void]{chromedp.Submit("#target")},
			ready: `[data-testid="error-summary"]`, keys: []string{`[data-testid="error-summary"]`, `[data-testid="error-service"]`,
				`[data-testid="error-name"]`, `[data-testid="error-feed"]`, `[data-testid="error-good_field"]`, `[data-testid="error-total_field"]`}, status: 400},
		{name: "slo-new-suggest", path: "/slos/new", then: []chromedp.Action[chromedp.Void]{
			chromedp.SetValue("#feed", "batch-jobs"), chromedp.Click(`[data-testid="suggest"]`)},
			ready: `[data-testid="suggest-note"][data-feed="batch-jobs"]`, keys: []string{`[data-testid="suggest"]`, `[data-testid="suggest-note"]`}},
		{name: "slo-edit", path: "/slos/1/edit", ready: "#target"},
		{name: "slo-delete", path: "/slos/1/delete", ready: `[data-testid="confirm"]`},
		{name: "service-new", path: "/services/new", ready: "#team"},
		{name: "service-edit", path: "/services/1/edit", ready: "#team"},
		{name: "maintenance", path: "/maintenance", ready: `[data-testid="maintenance"]`, keys: []string{`[data-testid="maintenance"] td`}},
		{name: "annotations", path: "/annotations", ready: `[data-testid="annotations"]`, keys: []string{`[data-testid="annotations"] td`}},
		{name: "audit", path: "/audit", ready: `[data-testid="audit"]`, keys: []string{`[data-testid="audit"] td`}},
		{name: "admin-users", path: "/admin/users", ready: `[data-testid="users"]`, keys: []string{`[data-testid="sessions"]`}},
		{name: "admin-tokens-new", path: "/admin/tokens", then: []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys("#name", "ci-deploys"), chromedp.Submit("#name")},
			ready: `[data-testid="new-token"]`, keys: []string{`[data-testid="new-token"] pre`, `[data-testid="api-tokens"] td`}},
		{name: "admin-kiosk-new", path: "/admin/kiosk", then: []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys("#name", "Lobby TV"), chromedp.SendKeys("#time_zone", "Europe/Madrid"), chromedp.Submit("#name")},
			ready: `[data-testid="kiosk-url"]`, keys: []string{`[data-testid="kiosk-url"] pre`, `[data-testid="kiosk-links"] td`}},
		{name: "admin-token-revoke", path: "/admin/tokens/1/revoke", ready: `[data-testid="confirm"]`,
			keys: []string{`[data-testid="confirm-message"]`, `[data-testid="consequences"]`}},
		{name: "admin-kiosk-revoke", path: "/admin/kiosk/1/revoke", ready: `[data-testid="confirm"]`,
			keys: []string{`[data-testid="confirm-message"]`, `[data-testid="consequences"]`}},
		{name: "account-password", path: "/account/password", ready: "#current"},
		{name: "alerts", path: "/alerts", ready: "main h1"},
		{name: "channels", path: "/channels", ready: "#url"},
		// A Slack channel on a local port nothing listens on: the demo's alerts go nowhere.
		{name: "channel", path: "/channels", then: []chromedp.Action[chromedp.Void]{chromedp.SendKeys("#name", "sre-chat"),
			chromedp.SetValue("#type", "slack"), chromedp.SendKeys("#url", "http://127.0.0.1:9/services/T000/B000/XXXXdemo"), chromedp.Submit("#name")},
			ready: `[data-testid="channel-where"]`, keys: []string{`[data-testid="channel-last-sent"]`, `[data-testid="channel-last-error"]`}},
		{name: "silences", path: "/silences", ready: "#duration"},
		{name: "not-found", path: "/no/such/page", ready: `[data-testid="error"]`, status: 404},
	}
	var kiosk string
	for _, p := range pages {
		seen := c.seen()
		c.do(chromedp.Navigate(a.URL + p.path))
		c.do(p.then...)
		c.do(chromedp.WaitVisible(p.ready))
		c.checkPage(p, axe)
		if p.status != 0 {
			c.expected(seen, fmt.Sprintf("the server responded with a status of %d", p.status))
		}
		if p.name == "admin-kiosk-new" {
			kiosk = c.text(`[data-testid="kiosk-url"] pre`)
		}
	}
	// The wall screen of a kiosk link, paused (its pause link is on the page:
	// refreshing itself, it would fail WCAG 2.2.1 as axe checks it, with no one
	// at the screen to ask).
	mustf(t, strings.Contains(kiosk, "&tz=Europe/Madrid"), "kiosk link %q", kiosk)
	c.do(chromedp.Navigate(kiosk), chromedp.WaitVisible(`[data-testid="tv-toggle"]`), chromedp.Click(`[data-testid="tv-toggle"]`),
		chromedp.WaitVisible(`[data-testid="tv-tile"]`))
	mustf(t, strings.Contains(c.location(), "refresh=off") && c.text(`[data-testid="tv-refresh"]`) == "Not refreshing", "paused at %s", c.location())
	c.checkPage(visit{name: "tv-kiosk-paused", keys: []string{`[data-testid="tv-clock"]`, `[data-testid="tv-remaining"]`, `[data-testid="tv-toggle"]`}}, axe)
	mustf(t, strings.HasSuffix(c.text(`[data-testid="tv-clock"]`), "CET"), "the wall screen's clock is not in its zone: %q", c.text(`[data-testid="tv-clock"]`))

	time.Sleep(200 * time.Millisecond) // let the last console events arrive
	mustf(t, len(c.problems()) == 0, "console errors or CSP violations:\n%s", strings.Join(c.problems(), "\n"))
}

// waitDemo waits until the demo's six SLOs are derived.
func waitDemo(t *testing.T, a *app, token string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct {
			SLOs []struct {
				Rederiving *struct{ Done int } `json:"rederiving"`
			} `json:"slos"`
		}
		apiGet(t, a, token, "/api/v1/slos", &list)
		derived := len(list.SLOs) == 6
		for _, s := range list.SLOs {
			derived = derived && s.Rederiving == nil
		}
		if derived {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo not derived after 30 s: %d SLOs", len(list.SLOs))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A keyboard user reaches the content with one Tab and Enter, and sees where
// the focus is: the ring contrasts at least 3:1 with what is around it, on
// the light page and in the dark top bar.
func TestBrowserKeyboard(t *testing.T) {
	c := newChrome(t)
	env := localEnv(t, "sqlite")
	a := startApp(t, env)
	c.do(chromedp.Navigate(a.URL+"/login"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "admin"), chromedp.SendKeys("#password", adminPassword),
		chromedp.Submit("#password"), chromedp.WaitVisible(`[data-testid="empty"]`))

	c.do(chromedp.KeyEvent("\t"))
	mustf(t, c.activeText() == "Skip to content", "the first Tab stop is %q, not the skip link", c.activeText())
	c.focusRing("the skip link")
	c.do(chromedp.KeyEvent("\r"), chromedp.KeyEvent("\t"))
	var inMain bool
	c.eval(`document.querySelector('main').contains(document.activeElement)`, &inMain)
	mustf(t, inMain, "after the skip link, Tab went to %q, outside the content", c.activeText())
	c.focusRing("the first link in the content")

	c.do(chromedp.Navigate(a.URL + "/help"))
	for c.activeText() != "Help" {
		c.do(chromedp.KeyEvent("\t"))
		mustf(t, c.activeText() != "", "Tab never reached the Help link of the top bar")
	}
	c.focusRing("a link in the top bar")
}

func (c *chrome) activeText() string {
	var s string
	c.eval(`document.activeElement === document.body ? '' : document.activeElement.textContent.trim()`, &s)
	return s
}

// focusRing checks the focused element's outline: solid, at least 2 px, and
// 3:1 against the background it is drawn on.
func (c *chrome) focusRing(what string) {
	c.t.Helper()
	var ring struct {
		Visible                   bool
		Style, Width, Color, Back string
	}
	c.eval(`(() => {
  const el = document.activeElement, cs = getComputedStyle(el);
  let back = 'rgb(255, 255, 255)';
  for (let p = el.parentElement; p; p = p.parentElement) {
    const b = getComputedStyle(p).backgroundColor;
    if (b !== 'rgba(0, 0, 0, 0)' && b !== 'transparent') { back = b; break; }
  }
  return {visible: el.matches(':focus-visible'), style: cs.outlineStyle, width: cs.outlineWidth, color: cs.outlineColor, back};
})()`, &ring)
	width, _ := strconv.ParseFloat(strings.TrimSuffix(ring.Width, "px"), 64)
	ratio := contrast(rgb(c.t, ring.Color), rgb(c.t, ring.Back))
	mustf(c.t, ring.Visible && ring.Style == "solid" && width >= 2 && ratio >= 3,
		"focus ring of %s: %s %s %s on %s, contrast %.1f:1 (want a solid ring ≥ 2 px, ≥ 3:1)", what, ring.Style, ring.Width, ring.Color, ring.Back, ratio)
}

var rgbRE = regexp.MustCompile(`^rgba?\((\d+), (\d+), (\d+)`)

func rgb(t *testing.T, css string) [3]float64 {
	m := rgbRE.FindStringSubmatch(css)
	if m == nil {
		t.Fatalf("not an rgb() colour: %q", css)
	}
	var c [3]float64
	for i := range c {
		c[i], _ = strconv.ParseFloat(m[i+1], 64)
	}
	return c
}
