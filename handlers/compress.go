package handlers

import (
	"compress/gzip"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// compressed answers in zstd or gzip whoever asks for it (Accept-Encoding):
// pages, CSS, SVG, JSON and CSV, the text a browser or a script reads. A
// page of the overview shrinks to about a fifth. gzip runs at its fastest
// level: on a busy overview the default level cost a fifth of the CPU, for
// a few percent of bytes.
//
// The Splunk webhook is left out: Splunk does not ask for compression, its
// answers are a few bytes of JSON, and ingest stays free of buffering.
// Metrics and pprof profiles compress themselves or are binary; a response
// that already has a Content-Encoding passes through untouched. The security
// headers set by the routes stay: only Content-Encoding, Content-Length and
// Vary change. (BREACH needs a secret repeated in responses that also echo
// an attacker's input; the only secrets pages show are tokens shown once, on
// the answer to a same-origin POST.)
func compressed(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.ContentTypes([]string{
		"text/html", "text/css", "text/plain", "text/csv", "image/svg+xml",
		"application/json", "application/yaml", "application/problem+json",
	}), gzhttp.CompressionLevel(gzip.BestSpeed))
	if err != nil {
		panic("gzhttp options: " + err.Error()) // fixed options: a programming error
	}
	zipped := wrap(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/hooks/") {
			next.ServeHTTP(w, r)
			return
		}
		zipped.ServeHTTP(w, r)
	})
}
