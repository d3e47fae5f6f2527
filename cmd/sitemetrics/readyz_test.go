package main

import (
	"encoding/json"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// /readyz is unauthenticated: during an outage it says what is wrong in a
// few words and nothing about the database (user, host, port, name); the
// cause goes to the log once per change, however often it is polled.
func TestReadyzDuringOutageRevealsNothing(t *testing.T) {
	env := testEnv(t, "postgres")
	user := dbUser(t, env)
	proxy := throughProxy(t, env)
	viewer := newAPIToken(t, env, "viewer")
	a := startApp(t, env)

	proxy.cut()
	var last response
	for range 5 {
		last = do(t, "GET", a.URL+"/readyz", nil)
		mustf(t, last.Status == 503, "readyz during the outage: %d %s", last.Status, last.Body)
	}
	var body struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	must(t, json.Unmarshal(last.Body, &body))
	mustf(t, body.Status == "unavailable" && body.Reason == "database unreachable", "readyz body %s", last.Body)
	_, port, _ := net.SplitHostPort(proxy.addr)
	for _, secret := range []string{"127.0.0.1", port, user, "search_path", "SQLSTATE", "dial", "user="} {
		mustf(t, !strings.Contains(string(last.Body), secret), "readyz reveals %q: %s", secret, last.Body)
	}
	// The API says the same: a 503 in our words, not the driver's.
	api := do(t, "GET", a.URL+"/api/v1/slos", nil, "Authorization", "Bearer "+viewer)
	var e answer
	api.json(t, &e)
	mustf(t, api.Status == 503 && e.Error.Code == "unavailable" && e.Error.Message == "Sitemetrics cannot reach its database right now. Try again in a moment.", "API during the outage: %d %s", api.Status, api.Body)
	for _, secret := range []string{"127.0.0.1", port, user, "SQLSTATE", "dial"} {
		mustf(t, !strings.Contains(string(api.Body), secret), "the API reveals %q: %s", secret, api.Body)
	}
	logs := a.out.String()
	mustf(t, strings.Count(logs, `msg="not ready"`) == 1, "five polls during one outage logged %d times:\n%s", strings.Count(logs, `msg="not ready"`), logs)
	mustf(t, regexp.MustCompile(`msg="not ready".*err="database unreachable: .+"`).MatchString(logs), "the log does not keep the cause:\n%s", logs)

	proxy.restore(t)
	deadline := time.Now().Add(10 * time.Second)
	for do(t, "GET", a.URL+"/readyz", nil).Status != 200 {
		mustf(t, time.Now().Before(deadline), "not ready after the database returned")
		time.Sleep(50 * time.Millisecond)
	}
}

func dbUser(t *testing.T, env map[string]string) string {
	u, err := url.Parse(env["SITEMETRICS_DATABASE_URL"])
	must(t, err)
	return u.User.Username()
}
