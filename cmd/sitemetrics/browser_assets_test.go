package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sitemetrics/sitemetrics/static"
)

// What a browser downloads, over real HTTP: pages, CSS and JSON compressed
// for whoever asks (gzip or zstd) with the security headers intact; CSS and
// images under content-hashed URLs that may be cached for a year, and the
// plain or another release's URLs never cached blindly; the Splunk webhook
// answered uncompressed, whatever it asks for.
func TestBrowserAssets(t *testing.T) {
	env := localEnv(t, "sqlite")
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)

	login := do(t, "GET", a.URL+"/login", nil, "Accept-Encoding", "gzip")
	page := gunzipped(t, "/login", login)
	css := regexp.MustCompile(`href="(/static/css/app\.[0-9a-f]{10}\.css)"`).FindStringSubmatch(page)
	mustf(t, css != nil, "the login page links no hashed stylesheet:\n%s", page)
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		mustf(t, login.Header.Get(h) != "", "the compressed page lost %s", h)
	}
	mustf(t, strings.Contains(login.Header.Get("Vary"), "Accept-Encoding"), "no Vary: Accept-Encoding: %q", login.Header.Get("Vary"))

	r := do(t, "GET", a.URL+css[1], nil, "Accept-Encoding", "gzip")
	want, err := fs.ReadFile(static.FS, "css/app.css")
	must(t, err)
	mustf(t, gunzipped(t, css[1], r) == string(want), "the hashed URL does not serve css/app.css")
	mustf(t, r.Header.Get("Cache-Control") == "public, max-age=31536000, immutable", "hashed CSS cached as %q", r.Header.Get("Cache-Control"))
	mustf(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/css"), "hashed CSS typed %q", r.Header.Get("Content-Type"))
	t.Logf("app.css: %d bytes, %d gzipped", len(want), len(r.Body))

	for _, p := range []string{"/static/css/app.css", "/static/css/app.0123456789.css"} {
		r := do(t, "GET", a.URL+p, nil)
		mustf(t, r.Status == 200 && string(r.Body) == string(want), "%s: %d", p, r.Status)
		mustf(t, r.Header.Get("Cache-Control") == "no-cache", "%s cached as %q", p, r.Header.Get("Cache-Control"))
	}
	mustf(t, do(t, "GET", a.URL+"/static/css/nope.0123456789.css", nil).Status == 404, "a missing file is found")
	mustf(t, do(t, "GET", a.URL+"/static/css/", nil).Status == 404, "a folder is listed")

	// A signed-in page: compressed, and still never stored by caches.
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	r = b.get("/help", "Accept-Encoding", "gzip")
	help := gunzipped(t, "/help", r)
	mustf(t, strings.Contains(help, "How Sitemetrics computes SLOs"), "help page")
	mustf(t, r.Header.Get("Cache-Control") == "no-store", "signed-in page cached as %q", r.Header.Get("Cache-Control"))
	t.Logf("help page: %d bytes, %d gzipped", len(help), len(r.Body))
	r = b.get("/help", "Accept-Encoding", "zstd")
	mustf(t, r.Header.Get("Content-Encoding") == "zstd", "zstd asked, %q given", r.Header.Get("Content-Encoding"))
	dec, err := zstd.NewReader(bytes.NewReader(r.Body))
	must(t, err)
	plain, err := io.ReadAll(dec)
	dec.Close()
	must(t, err)
	mustf(t, string(plain) == help, "the zstd page differs from the gzip one")
	r = b.get("/help")
	mustf(t, r.Header.Get("Content-Encoding") == "" && string(r.Body) == help, "compressed for a client that did not ask")

	// The overview is compressed once for every reader and only its own head and foot
	// per request: read back, it is the page a client that does not ask gets, with
	// the same headers.
	r = b.get("/", "Accept-Encoding", "gzip")
	overview := gunzipped(t, "/", r)
	mustf(t, strings.Contains(overview, "<h1") && strings.HasSuffix(strings.TrimSpace(overview), "</html>"), "overview:\n%s", overview)
	mustf(t, r.Header.Get("Cache-Control") == "no-store" && r.Header.Get("Content-Security-Policy") != "", "overview headers: %v", r.Header)
	plainOverview := b.get("/")
	mustf(t, plainOverview.Header.Get("Content-Encoding") == "" && string(plainOverview.Body) == overview,
		"the gzip overview differs from the plain one:\n%s\n----\n%s", overview, plainOverview.Body)
	mustf(t, plainOverview.Header.Get("Content-Type") == r.Header.Get("Content-Type"), "types %q and %q",
		plainOverview.Header.Get("Content-Type"), r.Header.Get("Content-Type"))

	// The webhook answers plain JSON, even a long answer (one row stored, 60
	// with an unreadable time) to a client that asks for gzip.
	rows := []string{fmt.Sprintf(`{"service":"checkout","_time":"%d","good":"9","total":"10"}`, time.Now().Unix())}
	for i := 0; i < 60; i++ {
		rows = append(rows, fmt.Sprintf(`{"service":"checkout","_time":"%d minutes ago","good":"9","total":"10"}`, i))
	}
	r = do(t, "POST", hook, []byte(`{"results":[`+strings.Join(rows, ",")+`]}`), "Accept-Encoding", "gzip")
	var answer struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			Row int `json:"row"`
		} `json:"rejected"`
	}
	mustf(t, r.Status == 200 && r.Header.Get("Content-Encoding") == "" && len(r.Body) > 1024, "webhook: %d %q, %d bytes: %.300s", r.Status, r.Header.Get("Content-Encoding"), len(r.Body), r.Body)
	must(t, json.Unmarshal(r.Body, &answer))
	mustf(t, answer.Accepted == 1 && len(answer.Rejected) == 60, "webhook answer: %+v", answer)
	mustf(t, r.Header.Get("X-Content-Type-Options") == "nosniff", "the webhook answer lost its headers")

	// The JSON API compresses: the delivery log now holds that long answer's delivery.
	r = do(t, "GET", a.URL+"/api/v1/feeds/1/deliveries", nil, "Authorization", "Bearer "+sre, "Accept-Encoding", "gzip")
	var deliveries struct {
		Deliveries []any `json:"deliveries"`
	}
	must(t, json.Unmarshal([]byte(gunzipped(t, "/api/v1/feeds/1/deliveries", r)), &deliveries))
	mustf(t, len(deliveries.Deliveries) == 1, "deliveries: %+v", deliveries)
}

// gunzipped checks that an answer is gzip-compressed and returns its text.
func gunzipped(t *testing.T, what string, r response) string {
	t.Helper()
	if r.Status != 200 || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("%s: %d, Content-Encoding %q, want 200 gzip", what, r.Status, r.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.Body))
	must(t, err)
	b, err := io.ReadAll(zr)
	must(t, err)
	return string(b)
}
