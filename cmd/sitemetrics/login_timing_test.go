package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every kind of failed sign-in costs the same time, so timing tells a
// guesser nothing: not whether the name exists, not whether a password was
// right for someone without a role, not whether the cache is locked or the
// directory down. Each kind is timed over HTTP against the real slapd,
// from a fresh address each time (so the throttle stays out of it), in
// interleaved rounds; the medians must lie within a few milliseconds.
//
// Run it alone to see the figures:
//
//	./.ci/with-services go test -count=1 -run TestLoginFailuresTakeTheSameTime -v ./cmd/sitemetrics
func TestLoginFailuresTakeTheSameTime(t *testing.T) {
	env, proxy := ldapEnv(t, "sqlite")
	env["SITEMETRICS_TRUSTED_PROXIES"] = "127.0.0.1"
	// A floor well above one hash plus a round trip on a busy machine.
	env["SITEMETRICS_AUTH_FAILURE_TIME"] = "150ms"
	a := startApp(t, env)
	address := 0
	attempt := func(user, password string) (int, time.Duration) {
		address++
		b := newBrowser(t, a.URL)
		start := time.Now()
		r := b.post("/login", formOf("username", user, "password", password), "X-Forwarded-For", fmt.Sprintf("2001:db8::%x", address))
		return r.Status, time.Since(start)
	}
	type kind struct {
		name           string
		user, password string
		before         func() // run, untimed, before each timed attempt
	}
	// Per kind, the fastest and the median of its attempts. Load on the
	// machine only ever adds time, so the fastest is what a patient attacker
	// can estimate and what the test holds to; medians are shown beside.
	type figures struct{ fastest, median time.Duration }
	measure := func(kinds []kind, rounds int) map[string]figures {
		took := map[string][]time.Duration{}
		for range rounds {
			for _, k := range kinds {
				if k.before != nil {
					k.before()
				}
				status, d := attempt(k.user, k.password)
				mustf(t, status == 401, "%s: %d, want 401", k.name, status)
				took[k.name] = append(took[k.name], d)
			}
		}
		out := map[string]figures{}
		for name, ds := range took {
			slices.Sort(ds)
			out[name] = figures{ds[0], ds[len(ds)/2]}
		}
		return out
	}

	// Sam and alice sign in once online, so the cache knows them.
	for _, u := range [][2]string{{"sam", "sampw"}, {"alice", "alicepw"}} {
		status, _ := attempt(u[0], u[1])
		mustf(t, status == 303, "%s online: %d", u[0], status)
	}
	const rounds = 7
	online := measure([]kind{
		{name: "unknown user", user: "ghost", password: "ghostpw"},
		{name: "wrong password", user: "eve", password: "wrong"},
		{name: "no role, right password", user: "nora", password: "norapw"},
		{name: "no role, wrong password", user: "nora", password: "wrong"},
		{name: "name with a NUL", user: "eve\x00", password: "evepw"},
	}, rounds)

	// The directory goes away; the breaker opens after two failures.
	proxy.cut()
	for range 3 {
		attempt("ghost", "x")
	}
	for range 5 { // alice's cached credential locks
		attempt("alice", "wrong")
	}
	offline := measure([]kind{
		{name: "directory down, wrong password", user: "sam", password: "wrong", before: func() {
			status, _ := attempt("sam", "sampw") // resets sam's offline failures: he never locks
			mustf(t, status == 303, "sam from the cache: %d", status)
		}},
		{name: "directory down, locked", user: "alice", password: "alicepw"},
		{name: "directory down, never signed in", user: "olga", password: "olgapw"},
		{name: "directory down, unknown user", user: "ghost", password: "ghostpw"},
	}, rounds)

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var lines []string
	lo, hi, loMed, hiMed := time.Hour, time.Duration(0), time.Hour, time.Duration(0)
	for _, m := range []map[string]figures{online, offline} {
		for k, v := range m {
			lines = append(lines, fmt.Sprintf("  %-34s %6.1f ms fastest, %6.1f ms median", k, ms(v.fastest), ms(v.median)))
			lo, hi = min(lo, v.fastest), max(hi, v.fastest)
			loMed, hiMed = min(loMed, v.median), max(hiMed, v.median)
		}
	}
	slices.Sort(lines)
	t.Logf("%d failed sign-ins per kind:\n%s\n  spread between kinds: %.1f ms (fastest), %.1f ms (median)", rounds, strings.Join(lines, "\n"),
		ms(hi-lo), ms(hiMed-loMed))
	mustf(t, hi-lo < 10*time.Millisecond, "failed sign-ins differ by %s between kinds", hi-lo)
}
