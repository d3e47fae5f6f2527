package main

import (
	"bytes"
	"strings"
	"testing"
)

// The JSON API refuses what it cannot take whole: a body over 1 MiB is 413
// (not a parse error), trailing garbage after a valid value is 400 (not
// ignored); and no answer about a signed-in caller may be cached.
func TestAPIBodiesAndCaching(t *testing.T) {
	env := testEnv(t, "sqlite")
	sre := newAPIToken(t, env, "sre")
	admin := newAPIToken(t, env, "admin")
	a := startApp(t, env)
	auth := func(tok string) []string {
		return []string{"Authorization", "Bearer " + tok, "Content-Type", "application/json"}
	}
	huge := append([]byte(`{"reason":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	huge = append(huge, []byte(`"}`)...)
	cases := []struct {
		name, path, token string
		body              []byte
		status            int
		code              string
	}{
		{"2 MiB maintenance window", "/api/v1/maintenance", sre, huge, 413, "too_large"},
		{"2 MiB token", "/api/v1/tokens", admin, huge, 413, "too_large"},
		{"trailing garbage", "/api/v1/maintenance", sre,
			[]byte(`{"reason":"deploy","starts_at":"2026-01-01T00:00:00Z","ends_at":"2026-01-01T01:00:00Z"} {"x":1}`), 400, "invalid"},
		{"trailing text", "/api/v1/tokens", admin, []byte(`{"name":"ci","role":"viewer"}garbage`), 400, "invalid"},
		{"trailing white space is fine", "/api/v1/tokens", admin, []byte("{\"name\":\"ci\",\"role\":\"viewer\"}\n \n"), 201, ""},
	}
	for _, tc := range cases {
		r := do(t, "POST", a.URL+tc.path, tc.body, auth(tc.token)...)
		var e answer
		r.json(t, &e)
		mustf(t, r.Status == tc.status && e.Error.Code == tc.code, "%s: %d %.300s", tc.name, r.Status, r.Body)
	}
	for _, path := range []string{"/api/v1/slos", "/api/v1/tokens", "/api/v1/nothing"} {
		r := do(t, "GET", a.URL+path, nil, auth(admin)...)
		mustf(t, r.Header.Get("Cache-Control") == "no-store", "GET %s: Cache-Control %q", path, r.Header.Get("Cache-Control"))
	}
	r := do(t, "GET", a.URL+"/api/v1/slos", nil)
	mustf(t, r.Status == 401 && strings.Contains(r.Header.Get("Cache-Control"), "no-store"), "anonymous: %d %q", r.Status, r.Header.Get("Cache-Control"))
}
