package main

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// markedFields checks that a refused form marks exactly the fields given:
// each control aria-invalid and described by its own error text, the summary
// at the top naming each one, and no other control marked.
func markedFields(t *testing.T, what string, d *goquery.Document, fields ...string) {
	t.Helper()
	for _, f := range fields {
		ctl := d.Find("#" + f)
		mustf(t, ctl.Length() == 1, "%s: no control #%s", what, f)
		mustf(t, ctl.AttrOr("aria-invalid", "") == "true", "%s: #%s is not aria-invalid", what, f)
		ids := strings.Fields(ctl.AttrOr("aria-describedby", ""))
		mustf(t, slices.Contains(ids, f+"-error"), "%s: #%s is described by %v, not its error", what, f, ids)
		msg := strings.TrimSpace(d.Find("#" + f + "-error").Text())
		mustf(t, msg != "", "%s: #%s-error is empty", what, f)
		mustf(t, d.Find(`[data-testid="error-summary"] a[href="#`+f+`"]`).Text() == msg, "%s: the summary does not name %s", what, f)
	}
	var marked []string
	d.Find(`[aria-invalid="true"]`).Each(func(_ int, s *goquery.Selection) { marked = append(marked, s.AttrOr("id", "?")) })
	mustf(t, len(marked) == len(fields), "%s: marked %v, want %v", what, marked, fields)
}

// A form with several mistakes marks every one at once, each on its field.
func TestFormsMarkEveryError(t *testing.T) {
	env := localEnv(t, "sqlite")
	newFeed(t, env, "--name", "web", "--series-field", "service")
	a := startApp(t, env)
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	mustf(t, b.post("/services/new", url.Values{"name": {"checkout"}}).Status == 303, "service")

	tests := []struct {
		name, path string
		form       url.Values
		fields     []string
	}{
		{"SLO", "/slos/new", url.Values{"service": {"checkout"}, "name": {"Checkout Availability"}, "indicator": {"ratio"}, "target": {"100"},
			"window": {"fortnight"}, "feed": {"web"}, "good_field": {"good"}, "total_field": {"total"}}, []string{"name", "target", "window"}},
		{"SLO with nothing", "/slos/new", url.Values{"indicator": {"ratio"}},
			[]string{"service", "name", "feed", "good_field", "total_field", "target", "window"}},
		{"service", "/services/new", url.Values{"name": {"Check Out"}, "team": {strings.Repeat("t", 101)}, "tier": {strings.Repeat("1", 51)}},
			[]string{"name", "team", "tier"}},
		{"feed", "/feeds/new", url.Values{"name": {"Web Feed"}, "interval": {"often"}, "series_field": {"service\x01"}},
			[]string{"name", "interval", "series_field"}},
		{"maintenance", "/maintenance", url.Values{"starts_at": {"yesterday"}, "ends_at": {""}, "reason": {""}},
			[]string{"slo_id", "starts_at", "ends_at", "reason"}},
		{"annotation", "/annotations", url.Values{"kind": {"release"}, "at": {"soon"}, "link": {"ftp://example.com"}},
			[]string{"kind", "at", "title", "link"}},
		{"API token", "/admin/tokens", url.Values{"role": {"root"}}, []string{"name", "role"}},
		{"kiosk link", "/admin/kiosk", url.Values{"days": {"many"}, "time_zone": {"Tokyo"}}, []string{"name", "days", "time_zone"}},
		{"password", "/account/password", url.Values{"current": {"nope"}, "new": {"short"}}, []string{"current", "new"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.post(tc.path, tc.form)
			mustf(t, r.Status == 400, "%s: %d", tc.name, r.Status)
			markedFields(t, tc.name, page(t, r), tc.fields...)
		})
	}

	// The API says the first as before, and lists them all.
	token := newAPIToken(t, env, "sre")
	r := do(t, "POST", a.URL+"/api/v1/slos", []byte(`{"service": "checkout", "name": "Checkout Availability", "indicator": "ratio",
		"target": "100", "window": "fortnight", "feed": "web", "good_field": "good", "total_field": "total"}`), "Authorization", "Bearer "+token)
	var answer struct {
		Error struct {
			Code, Field, Message string
			FieldErrors          []struct{ Field, Message string } `json:"field_errors"`
		}
	}
	must(t, json.Unmarshal(r.Body, &answer))
	e := answer.Error
	mustf(t, r.Status == 400 && e.Code == "invalid" && e.Field == "name" && strings.Contains(e.Message, "Checkout Availability"), "API error: %d %s", r.Status, r.Body)
	var got []string
	for _, f := range e.FieldErrors {
		got = append(got, f.Field)
	}
	mustf(t, strings.Join(got, ",") == "name,window,target" && e.FieldErrors[0].Message == e.Message, "field_errors %v: %s", got, r.Body)
}

// Every form that changes something answers 303 to the page that shows the
// result, which says what happened once: a refresh neither sends the form
// again nor repeats the message.
func TestFormsRedirectAfterPost(t *testing.T) {
	env := localEnv(t, "sqlite")
	newFeed(t, env, "--name", "web", "--series-field", "service")
	a := startApp(t, env)
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	slo := url.Values{"service": {"checkout"}, "name": {"checkout-availability"}, "indicator": {"ratio"}, "target": {"99.9"},
		"window": {"28d"}, "feed": {"web"}, "series": {"checkout"}, "good_field": {"good"}, "total_field": {"total"}, "latency_fields": {"p99_ms"}}
	steps := []struct {
		path  string
		form  url.Values
		to    string
		flash string
	}{
		{"/services/new", url.Values{"name": {"checkout"}}, "/slos", "Service checkout saved."},
		{"/services/1/edit", url.Values{"name": {"checkout"}, "team": {"payments"}}, "/slos", "Service checkout saved."},
		// The feed has never sent a row: saved, with a warning that says so.
		{"/slos/new", slo, "/slos/1", "saved, but check"},
		{"/slos/1/edit", slo, "/slos/1", "saved"},
		{"/feeds/new", url.Values{"name": {"batch"}, "interval": {"15m"}}, "/feeds/2", "Feed batch created."},
		{"/feeds/2", url.Values{"name": {"batch"}, "interval": {"10m"}}, "/feeds/2", "Feed settings saved."},
		{"/feeds/2/tokens", url.Values{}, "/feeds/2", "New webhook token created."},
		{"/maintenance", url.Values{"target": {"service:1"}, "starts_at": {"2026-11-22T08:00"}, "ends_at": {"2026-11-22T09:00"}, "reason": {"upgrade"}},
			"/maintenance", "Maintenance window added."},
		{"/maintenance/1/delete", url.Values{}, "/maintenance", "Maintenance window removed."},
		{"/annotations", url.Values{"kind": {"deploy"}, "title": {"checkout v2"}}, "/annotations", "Annotation added."},
		{"/annotations/1/delete", url.Values{}, "/annotations", "Annotation removed."},
		{"/admin/tokens", url.Values{"name": {"ci"}, "role": {"sre"}}, "/admin/tokens", "API token ci created."},
		{"/admin/kiosk", url.Values{"name": {"Lobby"}, "days": {"30"}}, "/admin/kiosk", "Kiosk link for Lobby created."},
		{"/account", url.Values{"time_zone": {"Europe/Madrid"}}, "/account", "Time zone saved"},
		{"/slos/1/delete", url.Values{}, "/slos", "SLO deleted."},
		{"/services/1/delete", url.Values{}, "/slos", "Service deleted."},
	}
	for _, s := range steps {
		r := b.post(s.path, s.form)
		mustf(t, r.Status == 303 && r.Header.Get("Location") == s.to, "POST %s: %d to %q, want 303 to %s: %s", s.path, r.Status, r.Header.Get("Location"), s.to, r.Body)
		d := page(t, b.follow(r))
		got := d.Find(`[data-testid="flash"]`).Text()
		mustf(t, strings.Contains(got, s.flash), "after POST %s the page says %q, want %q", s.path, got, s.flash)
		if s.path == "/slos/new" {
			mustf(t, strings.Contains(d.Find(`[data-testid="warning"]`).Text(), "has not received any rows"), "the warning is lost: %q", got)
		}
		again := page(t, b.get(s.to))
		mustf(t, again.Find(`[data-testid="flash"]`).Length() == 0, "a refresh of %s says %q again", s.to, again.Find(`[data-testid="flash"]`).Text())
	}
}

// The SLO form suggests the series and fields of the feed chosen, and only
// those: without JavaScript, a button reloads the form for the feed selected,
// keeping what was typed.
func TestSLOFormSuggestsTheChosenFeed(t *testing.T) {
	env := localEnv(t, "sqlite")
	web := newFeed(t, env, "--name", "web", "--series-field", "service")
	batch := newFeed(t, env, "--name", "batch", "--series-field", "job", "--interval", "15m")
	a := startApp(t, env)
	mustf(t, do(t, "POST", web, []byte(`{"result":{"service":"checkout","total":"10","good":"10","p95_ms":"120"}}`)).Status == 200, "web")
	mustf(t, do(t, "POST", batch, []byte(`{"result":{"job":"partner-export","runs":"4","succeeded":"4"}}`)).Status == 200, "batch")
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	b.post("/services/new", url.Values{"name": {"checkout"}})

	options := func(d *goquery.Document, list string) string {
		var out []string
		d.Find("datalist#" + list + " option").Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("value", "")) })
		return strings.Join(out, ",")
	}
	d := page(t, b.get("/slos/new"))
	mustf(t, options(d, "series-list") == "" && options(d, "field-list") == "", "suggestions before a feed is chosen: %s / %s",
		options(d, "series-list"), options(d, "field-list"))
	mustf(t, strings.Contains(d.Find(`[data-testid="suggest-note"]`).Text(), "Choose a feed"), "no word on how to get suggestions")
	button := d.Find(`[data-testid="suggest"]`)
	mustf(t, button.AttrOr("formmethod", "") == "get" && button.AttrOr("formaction", "") == "/slos/new", "the suggest button does not reload the form")

	d = page(t, b.get("/slos/new?suggest=1&feed=batch&name=export-runs&target=99.5&indicator=ratio"))
	mustf(t, options(d, "series-list") == "partner-export" && options(d, "field-list") == "runs,succeeded", "batch's suggestions: %s / %s",
		options(d, "series-list"), options(d, "field-list"))
	mustf(t, d.Find("#name").AttrOr("value", "") == "export-runs" && d.Find("#target").AttrOr("value", "") == "99.5" &&
		d.Find(`#feed option[selected]`).AttrOr("value", "") == "batch", "what was typed is lost")

	r := b.post("/slos/new", url.Values{"service": {"checkout"}, "name": {"checkout-availability"}, "indicator": {"ratio"}, "target": {"99.9"},
		"window": {"28d"}, "feed": {"web"}, "series": {"checkout"}, "good_field": {"good"}, "total_field": {"total"}})
	mustf(t, r.Status == 303, "create: %d", r.Status)
	d = page(t, b.get("/slos/1/edit"))
	mustf(t, options(d, "series-list") == "checkout" && options(d, "field-list") == "good,p95_ms,total", "web's suggestions on edit: %s / %s",
		options(d, "series-list"), options(d, "field-list"))
	mustf(t, d.Find(`[data-testid="suggest"]`).AttrOr("formaction", "") == "/slos/1/edit", "edit's suggest button")
	d = page(t, b.get("/slos/1/edit?suggest=1&feed=batch&name=checkout-availability"))
	mustf(t, options(d, "series-list") == "partner-export", "edit, another feed chosen: %s", options(d, "series-list"))
}
