package main

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// Fresh everywhere: two replicas share one PostgreSQL, the second reading its pages
// and API through a streaming replica of it; a delivery answered 2xx by one is in
// the other's API within the freshness bound (5 s), and in the first one's at once.
// The figures (from the 2xx to the number) are logged.
func TestFreshOnTwoReplicas(t *testing.T) {
	env := localEnv(t, migrations.Postgres)
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	envB := maps.Clone(env)
	addr := dbtest.FreeAddr(t)
	envB["SITEMETRICS_ADDR"], envB["SITEMETRICS_BASE_URL"], envB["SITEMETRICS_DATA_DIR"] = addr, "http://"+addr, t.TempDir()
	envB["SITEMETRICS_DATABASE_READ_URL"] = dbtest.ReplicaURL(t, env["SITEMETRICS_DATABASE_URL"])
	b := startApp(t, envB)

	apiSend(t, a, "POST", sre, "/api/v1/services", map[string]string{"name": "checkout"})
	var created sloAnswer
	apiSend(t, a, "POST", sre, "/api/v1/slos", map[string]any{"service": "checkout", "name": "checkout-availability",
		"indicator": "ratio", "target": "99.9", "window": "30d", "feed": "web", "series": "checkout",
		"good_field": "good", "total_field": "total"}).json(t, &created)
	waitDerived(t, a, sre, created.SLO.ID)
	path := fmt.Sprintf("/api/v1/slos/%d", created.SLO.ID)

	start := time.Now().Add(-2 * time.Hour).Truncate(5 * time.Minute)
	var onA, onB []time.Duration
	for i := 0; i < 10; i++ {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		r := do(t, "POST", hook, []byte(fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","good":"990","total":"1000"}}`, at.Unix())))
		answered := time.Now()
		mustf(t, r.Status == 200, "delivery %d: %d %s", i, r.Status, r.Body)
		want := float64(1000 * (i + 1))
		for _, rep := range []struct {
			app  *app
			took *[]time.Duration
		}{{a, &onA}, {b, &onB}} {
			for {
				var got sloAnswer
				apiSend(t, rep.app, "GET", sre, path, nil).json(t, &got.SLO)
				if got.SLO.Status.Total == want {
					*rep.took = append(*rep.took, time.Since(answered))
					break
				}
				mustf(t, time.Since(answered) < 5*time.Second, "replica %s still shows %v events %s after the 2xx, want %v",
					rep.app.URL, got.SLO.Status.Total, time.Since(answered), want)
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	p := func(d []time.Duration, q float64) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[int(q*float64(len(s)-1))]
	}
	mustf(t, p(onA, 1) < time.Second, "the replica that took the delivery showed it only after %s", p(onA, 1))
	t.Logf("from a 2xx to the API: same replica p50 %s max %s; other replica p50 %s max %s (%d deliveries)",
		p(onA, 0.5).Round(time.Millisecond), p(onA, 1).Round(time.Millisecond), p(onB, 0.5).Round(time.Millisecond), p(onB, 1).Round(time.Millisecond), len(onA))
}
