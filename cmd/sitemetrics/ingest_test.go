package main

import (
	"bytes"
	"strings"
	"testing"
)

type answer struct {
	Accepted   int  `json:"accepted"`
	Replaced   int  `json:"replaced"`
	Duplicates int  `json:"duplicates"`
	Spooled    bool `json:"spooled"`
	Rejected   []struct {
		Row    int    `json:"row"`
		Reason string `json:"reason"`
	} `json:"rejected"`
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type samplesPage struct {
	Samples []struct {
		ID          int64              `json:"id"`
		Time        string             `json:"time"`
		Series      string             `json:"series"`
		Fields      map[string]float64 `json:"fields"`
		SID         string             `json:"sid"`
		ResultsLink string             `json:"results_link"`
	} `json:"samples"`
}

// Real Splunk payloads go through HTTP into the database and come back through the API.
func TestWebhookRealPayloadsRoundTrip(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env := testEnv(t, dialect)
		hook := newFeed(t, env, "--name", "web", "--series-field", "service")
		viewer, sre := newAPIToken(t, env, "viewer"), newAPIToken(t, env, "sre")
		a := startApp(t, env)

		posts := []struct {
			file, ctype                  string
			accepted, replaced, rejected int
		}{
			{"native_slo_report.json", "application/json", 1, 0, 0},
			{"per_result_1.json", "application/json", 1, 0, 0},
			// The same service and 5-minute bucket from another host: it replaces the first
			// (a feed whose rows are parts of a bucket uses the 'add' policy instead).
			{"per_result_2.json", "application/json", 0, 1, 0},
			// Three rows a minute apart: the second replaces the first in their 5-minute bucket.
			{"packed_stats_list.json", "application/json", 2, 1, 0},
			{"batch_results.json", "text/plain", 3, 0, 0}, // a wrong Content-Type does not matter
			{"batch_csv_rows.json", "application/json", 2, 0, 0},
			{"rows.ndjson", "application/x-ndjson", 3, 0, 0},
			{"rest_export_stream.json", "application/json", 3, 0, 0}, // BOM, two preview lines left out
			{"native_doc_example.json", "application/json", 0, 0, 1}, // no service field: rejected, with a reason
		}
		for _, p := range posts {
			r := do(t, "POST", hook, fixture(t, p.file), "Content-Type", p.ctype, "User-Agent", "Splunk/6B1C1F6A")
			var got answer
			r.json(t, &got)
			if got.Accepted != p.accepted || got.Replaced != p.replaced || len(got.Rejected) != p.rejected {
				t.Fatalf("%s: %d %s", p.file, r.Status, r.Body)
			}
		}
		// Redelivery of everything: no bucket is new, nothing is stored twice (rows that
		// share a bucket with another row replace it again in turn).
		for _, p := range posts[:8] {
			var got answer
			do(t, "POST", hook, fixture(t, p.file), "Content-Type", p.ctype).json(t, &got)
			mustf(t, got.Accepted == 0 && got.Duplicates+got.Replaced == p.accepted+p.replaced, "%s redelivered: %+v", p.file, got)
		}
		var again answer
		do(t, "POST", hook, fixture(t, "per_result_2.json"), "Content-Type", "application/json").json(t, &again)
		mustf(t, again.Duplicates == 1, "the stored row, resent: %+v", again)
		// The Authorization header form reaches the same feed.
		token := hook[strings.LastIndex(hook, "/")+1:]
		r := do(t, "POST", a.URL+"/hooks/splunk", []byte(`{"result":{"service":"checkout","_time":"1700009000","total":"10","good":"10"}}`),
			"Authorization", "Bearer "+token)
		mustf(t, r.Status == 200, "bearer form: %d %s", r.Status, r.Body)

		var feeds struct {
			Feeds []struct {
				ID     int64  `json:"id"`
				Name   string `json:"name"`
				Tokens []struct {
					LastUsedAt *string `json:"last_used_at"`
				} `json:"tokens"`
				LastSampleAt  *string `json:"last_sample_at"`
				Deliveries24h int     `json:"deliveries_24h"`
				Rejected24h   int     `json:"rejected_rows_24h"`
			} `json:"feeds"`
		}
		apiGet(t, a, sre, "/api/v1/feeds", &feeds)
		mustf(t, len(feeds.Feeds) == 1 && feeds.Feeds[0].Name == "web", "feeds %+v", feeds)
		web := feeds.Feeds[0]
		mustf(t, len(web.Tokens) == 1 && web.Tokens[0].LastUsedAt != nil && web.LastSampleAt != nil &&
			web.Deliveries24h == len(posts)+8+1+1 && web.Rejected24h == 1, "feed activity %+v", web)

		var page samplesPage
		apiGet(t, a, viewer, "/api/v1/feeds/1/samples?series=checkout&from=1700000000&to=2023-11-14T22:26:00Z", &page)
		var times []string
		for _, s := range page.Samples {
			times = append(times, s.Time)
		}
		mustf(t, strings.Join(times, " ") == "2023-11-14T22:15:00Z 2023-11-14T22:20:00Z 2023-11-14T22:25:00Z", "times %v", times)
		first := page.Samples[0]
		mustf(t, first.Fields["total"] == 1234 && first.Fields["p99_ms"] == 480.25 &&
			strings.HasSuffix(first.SID, "_at_1700000100_42") && strings.Contains(first.ResultsLink, "@go?sid="), "sample %+v", first)

		apiGet(t, a, viewer, "/api/v1/feeds/1/samples?series=search", &page)
		// Seven search rows, two of them (packed, a minute apart) in one 5-minute bucket.
		mustf(t, len(page.Samples) == 6, "search samples %d", len(page.Samples))

		var deliveries struct {
			Deliveries []struct {
				Outcome    string `json:"outcome"`
				Status     int    `json:"status"`
				BodyURL    string `json:"body_url"`
				Accepted   int    `json:"accepted"`
				Duplicates int    `json:"duplicates"`
				Rejections []struct {
					Reason string `json:"reason"`
				} `json:"rejections"`
			} `json:"deliveries"`
		}
		apiGet(t, a, sre, "/api/v1/feeds/1/deliveries?limit=100", &deliveries)
		mustf(t, len(deliveries.Deliveries) == 19, "deliveries %d", len(deliveries.Deliveries))
		rej := deliveries.Deliveries[10] // newest first: ten deliveries came after it
		var one struct {
			Body string `json:"body"`
		}
		apiGet(t, a, sre, rej.BodyURL, &one) // raw bodies one at a time, to SREs
		mustf(t, rej.Outcome == "rejected" && rej.Status == 422 && strings.Contains(one.Body, `"sourcetype": "mongod"`) &&
			len(rej.Rejections) == 1 && strings.Contains(rej.Rejections[0].Reason, `series field "service" is missing`), "rejected delivery %+v", rej)
	})
}

// Every refusal has its status, a clear reason, and stores nothing but the delivery record.
func TestWebhookErrors(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env := testEnv(t, dialect)
		env["SITEMETRICS_INGEST_MAX_BYTES"] = "64KiB"
		hook := newFeed(t, env, "--name", "web")
		viewer, sre := newAPIToken(t, env, "viewer"), newAPIToken(t, env, "sre")
		a := startApp(t, env)
		big := []byte(`{"results":[` + strings.Repeat(`{"total":"1"},`, 10000) + `{"total":"1"}]}`)
		tests := []struct {
			name, method, url, body, ctype string
			status                         int
			msg                            string
		}{
			{"malformed JSON", "POST", hook, `{"result": {`, "application/json", 400, "malformed JSON"},
			{"not an object", "POST", hook, `[1,2,3]`, "application/json", 400, "not an object"},
			{"empty body", "POST", hook, ``, "application/json", 400, "empty body"},
			{"unknown shape", "POST", hook, `{"alert": {"count": "8"}}`, "application/json", 400, "unrecognised body"},
			{"over the size limit", "POST", hook, string(big), "application/json", 413, "over the 65536-byte limit"},
			{"wrong token", "POST", a.URL + "/hooks/splunk/smf_" + strings.Repeat("x", 43), `{"result":{"a":"1"}}`, "", 404, "unknown or revoked token"},
			{"no token", "POST", a.URL + "/hooks/splunk", `{"result":{"a":"1"}}`, "", 401, "missing token"},
			{"wrong method", "GET", hook, ``, "", 405, "use POST"},
			{"NaN", "POST", hook, `{"result":{"total":"NaN"}}`, "", 422, "not a finite number"},
			{"Infinity", "POST", hook, `{"result":{"total":"Infinity"}}`, "", 422, "not a finite number"},
			{"1e400", "POST", hook, `{"result":{"total":"1e400"}}`, "", 422, "out of range"},
			{"negative count", "POST", hook, `{"result":{"total":"-5"}}`, "", 422, "negative"},
			{"time that does not parse", "POST", hook, `{"result":{"_time":"soon","total":"5"}}`, "", 422, "does not parse"},
			{"odd field name", "POST", hook, "{\"result\":{\"tot\\u0000al\":\"5\"}}", "", 422, "control character"},
			{"invalid UTF-8", "POST", hook, "{\"result\":{\"total\":\"5\",\"host\":\"\xc3\x28\"}}", "", 400, "not valid UTF-8"},
		}
		for _, tc := range tests {
			r := do(t, tc.method, tc.url, []byte(tc.body), "Content-Type", tc.ctype)
			var got answer
			r.json(t, &got)
			reason := got.Error.Message
			if len(got.Rejected) > 0 {
				reason = got.Rejected[0].Reason
			}
			if r.Status != tc.status || !strings.Contains(reason, tc.msg) {
				t.Errorf("%s: %d %s, want %d with %q", tc.name, r.Status, r.Body, tc.status, tc.msg)
			}
		}
		// Ten thousand rows fit under a larger body limit but not under the row limit.
		env2 := testEnv(t, dialect)
		hook2 := newFeed(t, env2, "--name", "bulk")
		startApp(t, env2)
		r := do(t, "POST", hook2, big)
		mustf(t, r.Status == 413 && bytes.Contains(r.Body, []byte("too many rows: 10001")), "10001 rows: %d %s", r.Status, r.Body)

		var page samplesPage
		apiGet(t, a, viewer, "/api/v1/feeds/1/samples", &page)
		mustf(t, len(page.Samples) == 0, "refused input stored samples: %+v", page.Samples)
		var deliveries struct {
			Deliveries []struct {
				Outcome       string `json:"outcome"`
				BodyTruncated bool   `json:"body_truncated"`
				BodyURL       string `json:"body_url"`
			} `json:"deliveries"`
		}
		apiGet(t, a, sre, "/api/v1/feeds/1/deliveries?limit=100", &deliveries)
		// Every request that reached the feed is in its log (not the bad-token ones, nor the GET).
		mustf(t, len(deliveries.Deliveries) == 12, "deliveries %d", len(deliveries.Deliveries))
		var first struct {
			BodyBase64 string `json:"body_base64"`
		}
		apiGet(t, a, sre, deliveries.Deliveries[0].BodyURL, &first)
		mustf(t, first.BodyBase64 != "", "invalid UTF-8 body not kept as base64")
		mustf(t, deliveries.Deliveries[len(deliveries.Deliveries)-5].BodyTruncated, "oversized body not marked truncated: %+v", deliveries.Deliveries)
	})
}

func TestAPIAuthAndErrors(t *testing.T) {
	env := testEnv(t, "sqlite")
	viewer, sre := newAPIToken(t, env, "viewer"), newAPIToken(t, env, "sre")
	a := startApp(t, env)
	tests := []struct {
		path, auth string
		status     int
		code       string
	}{
		{"/api/v1/feeds", "", 401, "unauthorized"},
		{"/api/v1/feeds", "Bearer sma_nope", 401, "unauthorized"},
		{"/api/v1/feeds/99/samples", "Bearer " + viewer, 404, "not_found"},
		{"/api/v1/feeds/abc", "Bearer " + sre, 404, "not_found"},
		// Raw bodies and token hints are for SREs, as the feed pages are.
		{"/api/v1/feeds", "Bearer " + viewer, 403, "forbidden"},
		{"/api/v1/feeds/1", "Bearer " + viewer, 403, "forbidden"},
		{"/api/v1/feeds/1/deliveries", "Bearer " + viewer, 403, "forbidden"},
		{"/api/v1/nothing", "Bearer " + viewer, 404, "not_found"},
	}
	for _, tc := range tests {
		r := do(t, "GET", a.URL+tc.path, nil, "Authorization", tc.auth)
		var e answer
		r.json(t, &e)
		if r.Status != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
			t.Errorf("GET %s (%q): %d %s", tc.path, tc.auth, r.Status, r.Body)
		}
	}
	newFeed(t, env, "--name", "web")
	r := do(t, "GET", a.URL+"/api/v1/feeds/1/samples?from=yesterday", nil, "Authorization", "Bearer "+viewer)
	mustf(t, r.Status == 400 && bytes.Contains(r.Body, []byte(`"field":"from"`)), "bad from: %d %s", r.Status, r.Body)
}

func TestHealthAndMetrics(t *testing.T) {
	env := testEnv(t, "sqlite")
	hook := newFeed(t, env, "--name", "web")
	a := startApp(t, env)
	do(t, "POST", hook, fixture(t, "native_doc_example.json"))
	do(t, "POST", hook, []byte(`{`))
	mustf(t, do(t, "GET", a.URL+"/healthz", nil).Status == 200, "healthz")
	r := do(t, "GET", a.URL+"/readyz", nil)
	mustf(t, r.Status == 200 && bytes.Contains(r.Body, []byte("ready")), "readyz %s", r.Body)
	r = do(t, "GET", a.URL+"/metrics", nil)
	for _, want := range []string{
		`sitemetrics_ingest_deliveries_total{outcome="accepted"} 1`,
		`sitemetrics_ingest_deliveries_total{outcome="refused"} 1`,
		`sitemetrics_ingest_rows_total{outcome="accepted"} 1`,
		`sitemetrics_http_request_duration_seconds_count{code="200",method="POST",route="/hooks/splunk/:token"} 1`,
	} {
		mustf(t, bytes.Contains(r.Body, []byte(want)), "metrics lack %s", want)
	}
	mustf(t, !bytes.Contains(r.Body, []byte("smf_")), "a token leaked into the metrics")
	r = do(t, "GET", a.URL+"/healthz", nil)
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Request-Id"} {
		mustf(t, r.Header.Get(h) != "", "header %s missing", h)
	}
	mustf(t, !strings.Contains(a.out.String(), "smf_"), "a feed token leaked into the logs:\n%s", a.out.String())
}
