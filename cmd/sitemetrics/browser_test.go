package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// chrome starts a headless Chromium (Debian's, as `make test` installs it)
// and collects every console message: errors and CSP violations fail the test.
type chrome struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	messages []string
}

func newChrome(t *testing.T) *chrome {
	path := os.Getenv("SITEMETRICS_TEST_CHROMIUM")
	dbtest.Require(t, "chromium", path != "", "SITEMETRICS_TEST_CHROMIUM is not set")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Every page at two widths, with axe and screenshots, on two shared cores.
	ctx, cancelTimeout := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	c := &chrome{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.messages = append(c.messages, fmt.Sprintf("%s %s: %s", m.Type, m.Source, m.Text))
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatal(err)
	}
}

func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(sel))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (c *chrome) location() string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// problems are console errors and warnings, CSP violations among them.
func (c *chrome) problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.messages {
		if strings.HasPrefix(m, "error") || strings.HasPrefix(m, "warning") || strings.Contains(m, "Content Security Policy") {
			out = append(out, m)
		}
	}
	return out
}

// A person signs in through the form, lands on the page they asked for, and
// reads the same numbers the API computes on every page; no console error,
// no CSP violation. (TestBrowserPages checks every page at both widths.)
func TestBrowser(t *testing.T) {
	c := newChrome(t)
	env := localEnv(t, "sqlite")
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	now := time.Now().Truncate(time.Minute)
	for i := 0; i < 24; i++ {
		at := now.Add(time.Duration(i-24) * 5 * time.Minute)
		do(t, "POST", hook, []byte(fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","good":"%d","total":"1000","p50_ms":"90","p95_ms":"%d","p99_ms":"400"}}`,
			at.Unix(), 1000-i%4, 180+i*3)))
	}
	apiSend(t, a, "POST", sre, "/api/v1/services", map[string]string{"name": "checkout", "team": "payments"})
	var created sloAnswer
	apiSend(t, a, "POST", sre, "/api/v1/slos", map[string]any{"service": "checkout", "name": "checkout-availability",
		"display_name": "Checkout availability", "indicator": "ratio", "target": "99.9", "window": "month", "time_zone": "Europe/Madrid",
		"feed": "web", "series": "checkout", "good_field": "good", "total_field": "total", "latency_fields": "p50_ms,p95_ms,p99_ms"}).json(t, &created)
	api := waitDerived(t, a, sre, created.SLO.ID).SLO.Status
	detail := fmt.Sprintf("/slos/%d", created.SLO.ID)

	c.do(chromedp.Navigate(a.URL + detail))
	mustf(t, strings.Contains(c.location(), "/login?next="), "not sent to sign in: %s", c.location())
	c.do(chromedp.SendKeys("#username", "admin"), chromedp.SendKeys("#password", adminPassword),
		chromedp.Submit("#password"), chromedp.WaitVisible(`[data-testid="slo-title"]`))
	mustf(t, strings.HasSuffix(c.location(), detail), "landed on %s, not %s", c.location(), detail)
	mustf(t, c.text(`[data-testid="remaining"]`) == pct(api.BudgetRemaining), "detail budget %q, API %v", c.text(`[data-testid="remaining"]`), api.BudgetRemaining)
	mustf(t, c.text(`[data-testid="objective"]`) == "99.9%", "objective")

	c.do(chromedp.Navigate(a.URL+"/"), chromedp.WaitVisible(`[data-testid="meeting"]`))
	mustf(t, c.text(`[data-testid="slo-1"] [data-testid="remaining"]`) == pct(api.BudgetRemaining), "overview budget")
	mustf(t, c.text(`[data-testid="slo-1"] [data-testid="status"]`) == api.Status, "overview status")

	c.do(chromedp.Navigate(a.URL+"/reports"), chromedp.WaitVisible(`[data-testid="report"]`))
	mustf(t, strings.HasPrefix(c.text(`[data-testid="report-1"] [data-testid="budget-used"]`), strings.TrimSuffix(pct(1-api.BudgetRemaining), "%")[:1]), "report budget used")

	c.do(chromedp.Navigate(a.URL+"/tv"), chromedp.WaitVisible(`[data-testid="tv-tile"]`))
	mustf(t, strings.Contains(c.text(`[data-testid="tv-tile"]`), pct(api.BudgetRemaining)), "TV tile")

	time.Sleep(200 * time.Millisecond) // let the last console events arrive
	mustf(t, len(c.problems()) == 0, "console errors or CSP violations:\n%s", strings.Join(c.problems(), "\n"))
}
