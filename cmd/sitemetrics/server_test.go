package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// idleConn opens a connection from local (an address on the loopback),
// makes one keep-alive request on it and leaves it open and idle, as a
// client hoarding connections does. It reports whether the server answered.
func idleConn(t *testing.T, addr, local string) (net.Conn, bool) {
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, false
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return c, false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return c, false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_ = c.SetDeadline(time.Time{})
	return c, resp.StatusCode == 200
}

// One client hoarding idle keep-alive connections gets its cap and no more;
// everyone else is served at once. (The 20,000 connections exhausted
// the file descriptors and every new request timed out.)
func TestIdleConnectionsAreCappedPerClient(t *testing.T) {
	env := testEnv(t, "sqlite")
	env["SITEMETRICS_HTTP_MAX_CONNECTIONS_PER_CLIENT"] = "40"
	a := startApp(t, env)
	addr := strings.TrimPrefix(a.URL, "http://")

	served := 0
	for range 400 {
		if _, ok := idleConn(t, addr, "127.0.0.1"); ok {
			served++
		}
	}
	// startApp's readiness poll may still hold a connection from 127.0.0.1.
	mustf(t, served <= 40 && served >= 39, "%d of 400 connections from one client were served, want its cap of 40", served)

	start := time.Now()
	_, ok := idleConn(t, addr, "127.0.0.2")
	mustf(t, ok && time.Since(start) < time.Second, "another client waited %s (served: %v)", time.Since(start), ok)
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}).DialContext}}
	resp, err := client.Get(a.URL + "/metrics")
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var refused int
	_, err = fmt.Sscanf(grepLines(string(body), `sitemetrics_http_connections_refused_total{cap="per_client"}`),
		`sitemetrics_http_connections_refused_total{cap="per_client"} %d`, &refused)
	mustf(t, err == nil && refused >= 360, "refusals not counted (%v):\n%s", err, grepLines(string(body), "sitemetrics_http_connections"))
}

// A client with its cap of requests in flight gets 429 for one more; others
// are not affected.
func TestRequestsInFlightAreCappedPerClient(t *testing.T) {
	env := testEnv(t, "sqlite")
	env["SITEMETRICS_HTTP_MAX_REQUESTS_PER_CLIENT"] = "2"
	a := startApp(t, env)
	addr := strings.TrimPrefix(a.URL, "http://")
	// Two sign-ins whose forms never finish arriving: both in flight.
	for range 2 {
		c, err := net.Dial("tcp", addr)
		must(t, err)
		t.Cleanup(func() { c.Close() })
		_, err = fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=")
		must(t, err)
	}
	time.Sleep(200 * time.Millisecond)
	r := do(t, "GET", a.URL+"/healthz", nil)
	mustf(t, r.Status == 429 && r.Header.Get("Retry-After") == "1", "a third request in flight: %d", r.Status)
	// A webhook delivery is never refused for it: Splunk would not retry.
	r = do(t, "POST", a.URL+"/hooks/splunk/smf_unknown", []byte(`{"result":{}}`))
	mustf(t, r.Status == 404, "a delivery while the client is at its cap: %d", r.Status)
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", a.URL+"/healthz", nil)
	resp, err := client.Do(req)
	must(t, err)
	resp.Body.Close()
	mustf(t, resp.StatusCode == 200, "another client: %d", resp.StatusCode)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
