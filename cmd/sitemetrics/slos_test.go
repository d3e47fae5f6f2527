package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

type sloAnswer struct {
	SLO struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Status struct {
			Status          string   `json:"status"`
			SLI             *float64 `json:"sli"`
			BudgetRemaining float64  `json:"budget_remaining"`
			Good, Total     float64
			LowTraffic      bool `json:"low_traffic"`
		} `json:"status"`
		Rederiving *struct{ Done, Total int } `json:"rederiving"`
	} `json:"slo"`
	Warnings []string `json:"warnings"`
	Error    struct {
		Code, Message, Field string
	} `json:"error"`
}

func apiSend(t *testing.T, a *app, method, token, path string, body any) response {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case nil:
	default:
		b, _ = json.Marshal(v)
	}
	return do(t, method, a.URL+path, b, "Authorization", "Bearer "+token, "Content-Type", "application/json")
}

// waitDerived waits for an SLO's history derivation to finish.
func waitDerived(t *testing.T, a *app, token string, id int64) sloAnswer {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var got sloAnswer
		apiSend(t, a, "GET", token, fmt.Sprintf("/api/v1/slos/%d", id), nil).json(t, &got.SLO)
		if got.SLO.Rederiving == nil {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("SLO %d still deriving", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// An SRE goes from a Splunk report to a correct SLO through the API; the
// numbers match a hand computation; viewers cannot change anything.
func TestSLOAPI(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env := testEnv(t, dialect)
		hook := newFeed(t, env, "--name", "web", "--series-field", "service")
		sre, viewer := newAPIToken(t, env, "sre"), newAPIToken(t, env, "viewer")
		a := startApp(t, env)
		now := time.Now().Truncate(time.Minute)
		// Nobl9's example spread over four rows: 111 good of 118.
		for i, gt := range [][2]int{{30, 30}, {30, 31}, {25, 28}, {26, 29}} {
			at := now.Add(time.Duration(i-4) * 5 * time.Minute)
			r := do(t, "POST", hook, []byte(fmt.Sprintf(`{"sid":"scheduler__a__s__RMD5x_at_%d_1","result":{"service":"checkout","_time":"%d","good":"%d","total":"%d"}}`,
				at.Unix(), at.Unix(), gt[0], gt[1])))
			mustf(t, r.Status == 200, "post: %d %s", r.Status, r.Body)
		}
		r := apiSend(t, a, "POST", sre, "/api/v1/services", map[string]string{"name": "checkout", "team": "payments"})
		mustf(t, r.Status == 201, "service: %d %s", r.Status, r.Body)

		in := map[string]any{"service": "checkout", "name": "checkout-availability", "indicator": "ratio", "target": 95,
			"window": "28d", "feed": "web", "series": "checkout", "good_field": "good", "total_field": "total"}
		r = apiSend(t, a, "POST", viewer, "/api/v1/slos", in)
		mustf(t, r.Status == 403, "a viewer created an SLO: %d", r.Status)
		r = apiSend(t, a, "POST", sre, "/api/v1/slos", in)
		var created sloAnswer
		r.json(t, &created)
		mustf(t, r.Status == 201 && created.SLO.ID > 0, "create: %d %s", r.Status, r.Body)

		got := waitDerived(t, a, viewer, created.SLO.ID)
		st := got.SLO.Status
		// burnt = (1 − 111/118) / (1 − 0.95) = 118.6%; remaining = −18.6%.
		mustf(t, st.Good == 111 && st.Total == 118 && math.Abs(st.BudgetRemaining-(-0.18644)) < 1e-4 && st.Status == "breached",
			"numbers: %+v", st)

		bad := []struct {
			mut   func(map[string]any)
			field string
		}{
			{func(m map[string]any) { m["target"] = 0 }, "target"},
			{func(m map[string]any) { m["target"] = 100 }, "target"},
			{func(m map[string]any) { m["target"] = 100.5 }, "target"},
			{func(m map[string]any) { m["target"] = "abc" }, "target"},
			{func(m map[string]any) { m["window"] = "0d" }, "window"},
			{func(m map[string]any) { m["window"] = "13mo" }, "window"},
			{func(m map[string]any) { m["window"] = "month"; m["time_zone"] = "Nowhere/Land" }, "time_zone"},
			{func(m map[string]any) { m["indicator"] = "threshold"; delete(m, "good_field") }, "value_field"},
			{func(m map[string]any) { m["colour"] = "red" }, "colour"},
		}
		for _, b := range bad {
			x := map[string]any{}
			for k, v := range in {
				x[k] = v
			}
			x["name"] = "other"
			b.mut(x)
			var e sloAnswer
			r := apiSend(t, a, "POST", sre, "/api/v1/slos", x)
			r.json(t, &e)
			if r.Status != 400 || e.Error.Field != b.field || e.Error.Message == "" {
				t.Errorf("%v: %d %s, want 400 naming %s", x, r.Status, r.Body, b.field)
			}
		}
		// A field the feed never sent: allowed, with a warning.
		in2 := map[string]any{"service": "checkout", "name": "checkout-latency", "indicator": "threshold", "target": "99",
			"window": "month", "time_zone": "Europe/Madrid", "feed": "web", "series": "checkout", "value_field": "p95_ms", "op": "lte", "threshold": 300}
		var w sloAnswer
		apiSend(t, a, "POST", sre, "/api/v1/slos", in2).json(t, &w)
		mustf(t, len(w.Warnings) == 1 && strings.Contains(w.Warnings[0], `"p95_ms" has not been seen`), "warnings: %+v", w)

		var list struct {
			SLOs []json.RawMessage `json:"slos"`
		}
		apiSend(t, a, "GET", viewer, "/api/v1/slos", nil).json(t, &list)
		mustf(t, len(list.SLOs) == 2, "list: %d", len(list.SLOs))
		r = apiSend(t, a, "DELETE", viewer, fmt.Sprintf("/api/v1/slos/%d", created.SLO.ID), nil)
		mustf(t, r.Status == 403, "a viewer deleted an SLO: %d", r.Status)

		// Annotations from CI, OpenSLO out and back in.
		r = apiSend(t, a, "POST", sre, "/api/v1/annotations", map[string]string{"kind": "deploy", "title": "checkout v2.4.1", "service": "checkout"})
		mustf(t, r.Status == 201, "annotation: %d %s\n%s", r.Status, r.Body, a.out.String())
		r = apiSend(t, a, "GET", viewer, "/api/v1/openslo", nil)
		mustf(t, r.Status == 200 && bytes.Contains(r.Body, []byte("kind: SLO")) && bytes.Contains(r.Body, []byte("type: sitemetrics")), "export: %s", r.Body)
		var before struct {
			Audit []json.RawMessage `json:"audit"`
		}
		apiSend(t, a, "GET", sre, "/api/v1/audit", nil).json(t, &before)
		r2 := apiSend(t, a, "POST", sre, "/api/v1/openslo", string(r.Body))
		mustf(t, r2.Status == 200 && bytes.Contains(r2.Body, []byte(`"slos_unchanged":2`)) && bytes.Contains(r2.Body, []byte(`"slos_updated":0`)) &&
			bytes.Contains(r2.Body, []byte(`"services_unchanged":1`)), "re-import of the export: %d %s", r2.Status, r2.Body)
		var after struct {
			Audit []json.RawMessage `json:"audit"`
		}
		apiSend(t, a, "GET", sre, "/api/v1/audit", nil).json(t, &after)
		mustf(t, len(after.Audit) == len(before.Audit), "a no-op import wrote %d audit entries", len(after.Audit)-len(before.Audit))
		// A dry run over HTTP says what would change, and changes nothing.
		changed := bytes.Replace(r.Body, []byte("target: 0.95\n"), []byte("target: 0.955\n"), 1)
		mustf(t, !bytes.Equal(changed, r.Body), "the export has no target 0.95 to change:\n%s", r.Body)
		r2 = apiSend(t, a, "POST", sre, "/api/v1/openslo?dry_run=1", string(changed))
		mustf(t, r2.Status == 200 && bytes.Contains(r2.Body, []byte(`"dry_run":true`)) && bytes.Contains(r2.Body, []byte(`"slos_updated":1`)) &&
			bytes.Contains(r2.Body, []byte(`target: 95% → 95.5%`)), "dry run: %d %s", r2.Status, r2.Body)
		again := apiSend(t, a, "GET", viewer, "/api/v1/openslo", nil)
		mustf(t, bytes.Equal(again.Body, r.Body), "a dry run changed the export:\n%s", again.Body)
		r2 = apiSend(t, a, "POST", sre, "/api/v1/openslo", "apiVersion: openslo/v2\nkind: SLO\nmetadata: {name: x}\n")
		mustf(t, r2.Status == 400 && bytes.Contains(r2.Body, []byte("only openslo/v1")), "bad import: %d %s", r2.Status, r2.Body)

		var audit struct {
			Audit []struct{ Actor, Action, Entity string } `json:"audit"`
		}
		apiSend(t, a, "GET", sre, "/api/v1/audit?entity=slo", nil).json(t, &audit)
		mustf(t, len(audit.Audit) == 2 && audit.Audit[len(audit.Audit)-1].Actor == "token:test-sre", "audit (two creates; the no-op import adds none): %+v", audit)
	})
}

// Pages show what the API computes, escape what SREs type, and refuse viewers' edits.
func TestPagesAgainstAPI(t *testing.T) {
	env := localEnv(t, "sqlite")
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	now := time.Now().Truncate(time.Minute)
	for i := 0; i < 12; i++ {
		at := now.Add(time.Duration(i-12) * 5 * time.Minute)
		do(t, "POST", hook, []byte(fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","good":"%d","total":"1000","p95_ms":"%d"}}`, at.Unix(), 1000-i%3, 200+i)))
	}
	apiSend(t, a, "POST", sre, "/api/v1/services", map[string]string{"name": "checkout", "team": "payments"})
	var created sloAnswer
	apiSend(t, a, "POST", sre, "/api/v1/slos", map[string]any{"service": "checkout", "name": "checkout-availability",
		"display_name": `<script>alert("x")</script> Checkout`, "indicator": "ratio", "target": "99.9", "window": "30d", "feed": "web",
		"series": "checkout", "good_field": "good", "total_field": "total", "latency_fields": "p95_ms"}).json(t, &created)
	api := waitDerived(t, a, sre, created.SLO.ID).SLO.Status

	b := newBrowser(t, a.URL)
	mustf(t, b.login("admin", adminPassword, "/").Status == 303, "login")
	doc := func(path string) *goquery.Document {
		r := b.get(path)
		mustf(t, r.Status == 200, "GET %s: %d %s", path, r.Status, r.Body)
		mustf(t, !bytes.Contains(r.Body, []byte("<script>alert")), "%s: an SLO name came out unescaped", path)
		mustf(t, !bytes.Contains(r.Body, []byte(" style=")), "%s: an inline style", path)
		d, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
		must(t, err)
		return d
	}
	ov := doc("/")
	row := ov.Find(fmt.Sprintf(`[data-testid="slo-%d"]`, created.SLO.ID))
	mustf(t, row.Length() == 1, "overview row missing")
	mustf(t, strings.TrimSpace(row.Find(`[data-testid="remaining"]`).Text()) == pct(api.BudgetRemaining), "overview budget %q, API %v",
		row.Find(`[data-testid="remaining"]`).Text(), api.BudgetRemaining)
	mustf(t, strings.TrimSpace(row.Find(`[data-testid="status"]`).Text()) == api.Status, "overview status")
	mustf(t, strings.Contains(row.Find(`[data-testid="slo-name"]`).Text(), `<script>alert("x")</script>`), "the name's text is lost")
	mustf(t, strings.Contains(ov.Find(`[data-testid="meeting"]`).Text(), "of 1 SLOs meeting objective"), "header")

	det := doc(fmt.Sprintf("/slos/%d", created.SLO.ID))
	mustf(t, strings.TrimSpace(det.Find(`[data-testid="remaining"]`).Text()) == pct(api.BudgetRemaining), "detail budget")
	mustf(t, strings.TrimSpace(det.Find(`[data-testid="objective"]`).Text()) == "99.9%", "objective")
	for _, chart := range []string{"chart-burndown", "chart-sli", "chart-latency"} {
		svg := det.Find(`[data-testid="` + chart + `"] svg.chart-svg`)
		mustf(t, svg.Length() == 1 && svg.AttrOr("role", "") == "img" && svg.Find("title").Length() > 0 && svg.Find("desc").Length() > 0, "%s: not an accessible SVG", chart)
	}
	mustf(t, det.Find(`[data-testid="tiers"] tbody tr`).Length() == 4, "tier table")
	mustf(t, det.Find(`[data-testid="samples"] tbody tr`).Length() == 12, "recent samples")
	for _, rng := range []string{"24h", "7d"} {
		doc(fmt.Sprintf("/slos/%d?range=%s", created.SLO.ID, rng))
	}

	rep := doc("/reports/" + now.Format("2006-01"))
	mustf(t, rep.Find(`[data-testid="report"] tbody tr`).Length() == 1, "report rows")
	csv := b.get("/reports/" + now.Format("2006-01") + ".csv")
	mustf(t, csv.Status == 200 && strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") &&
		regexp.MustCompile(`checkout-availability,checkout,payments,30d,UTC,[a-z_]+,99\.9,`).Match(csv.Body), "csv: %s", csv.Body)
	mustf(t, b.get("/reports/2026-13").Status == 404, "a bad month")

	for _, p := range []string{"/slos", "/slos/new", fmt.Sprintf("/slos/%d/edit", created.SLO.ID), "/feeds", "/feeds/1", "/feeds/1/preview",
		"/maintenance", "/annotations", "/audit", "/admin/tokens", "/admin/kiosk", "/help", "/tv"} {
		doc(p)
	}
	// The payload preview shows rows and points without storing them.
	r := b.post("/feeds/1/preview", url.Values{"body": {`{"result":{"service":"checkout","total":"10","good":"9"}}`}, "ctype": {"application/json"}})
	mustf(t, r.Status == 200 && bytes.Contains(r.Body, []byte("checkout-availability: 9 good of 10")), "preview: %s", r.Body)
	// A form error names the field and keeps the input.
	r = b.post("/slos/new", url.Values{"service": {"checkout"}, "name": {"x"}, "indicator": {"ratio"}, "target": {"100"}, "window": {"28d"},
		"feed": {"web"}, "series": {"checkout"}, "good_field": {"good"}, "total_field": {"total"}})
	mustf(t, r.Status == 400 && bytes.Contains(r.Body, []byte(`data-testid="error-target"`)), "form error: %d", r.Status)
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// The TV view opens with a kiosk link until it is revoked or expires.
func TestTVKioskLinks(t *testing.T) {
	env := localEnv(t, "sqlite")
	a := startApp(t, env)
	anon := newBrowser(t, a.URL)
	mustf(t, anon.get("/tv").Status == 303, "TV without a session or link")
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	link := kioskLink(t, b, url.Values{"name": {"Lobby"}, "days": {"30"}})
	mustf(t, strings.Contains(link, "/tv?k=smk_"), "kiosk link %q", link)
	tv := anon.get(strings.TrimPrefix(link, a.URL))
	mustf(t, tv.Status == 200 && bytes.Contains(tv.Body, []byte(`http-equiv="refresh"`)) && bytes.Contains(tv.Body, []byte("Lobby")), "TV by link: %d", tv.Status)
	// The wall screen refreshes itself, and says how to pause that; paused, it does not.
	d := page(t, tv)
	refresh, _ := d.Find(`meta[http-equiv="refresh"]`).Attr("content")
	mustf(t, strings.HasPrefix(refresh, "60; url=/tv?k=smk_") && strings.HasSuffix(refresh, "&refresh=on"), "refresh %q", refresh)
	toggle := d.Find(`[data-testid="tv-toggle"]`)
	mustf(t, toggle.Text() == "Pause refreshing" && strings.HasSuffix(toggle.AttrOr("href", ""), "&refresh=off"), "no pause: %q %q", toggle.Text(), toggle.AttrOr("href", ""))
	paused := page(t, anon.get(toggle.AttrOr("href", "")))
	mustf(t, paused.Find(`meta[http-equiv="refresh"]`).Length() == 0 && paused.Find(`[data-testid="tv-toggle"]`).Text() == "Refresh every minute",
		"a paused screen still refreshes")
	// Someone signed in is not reloaded unless they ask.
	mine := page(t, b.get("/tv"))
	mustf(t, mine.Find(`meta[http-equiv="refresh"]`).Length() == 0 && mine.Find(`[data-testid="tv-toggle"]`).AttrOr("href", "") == "/tv?refresh=on",
		"the signed-in TV reloads by itself")
	mustf(t, page(t, b.get("/tv?refresh=on")).Find(`meta[http-equiv="refresh"]`).AttrOr("content", "") == "60; url=/tv?refresh=on", "refresh on request")
	mustf(t, anon.get("/tv?k=smk_forged").Status == 401, "a forged link")
	mustf(t, b.post("/admin/kiosk/1/revoke", url.Values{"confirm": {"yes"}}).Status == 303, "revoke")
	mustf(t, anon.get(strings.TrimPrefix(link, a.URL)).Status == 401, "a revoked link still works")
	mustf(t, anon.get("/").Status == 303, "a kiosk link opened other pages")
}

// An OpenSLO file over the limit imports nothing and says so (413), even when it is
// cut at a document boundary that would parse.
func TestOpenSLOImportTooLarge(t *testing.T) {
	env := localEnv(t, "sqlite")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	var b strings.Builder
	for i := 0; b.Len() <= 4<<20; i++ {
		fmt.Fprintf(&b, "---\napiVersion: openslo/v1\nkind: Service\nmetadata: {name: svc-%05d}\nspec: {description: %q}\n", i, strings.Repeat("x", 1000))
	}
	r := do(t, "POST", a.URL+"/api/v1/openslo", []byte(b.String()), "Authorization", "Bearer "+sre, "Content-Type", "application/yaml")
	mustf(t, r.Status == 413, "import over the limit: %d %.300s", r.Status, r.Body)
	var services struct {
		Services []json.RawMessage `json:"services"`
	}
	apiGet(t, a, sre, "/api/v1/services", &services)
	mustf(t, len(services.Services) == 0, "%d services imported from a refused file", len(services.Services))
}
