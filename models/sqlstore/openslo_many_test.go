package sqlstore_test

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// manySLOs is an OpenSLO file of n ratio SLOs of the service checkout, each on its own
// series of the feed web.
func manySLOs(n int) []byte {
	var y strings.Builder
	for i := range n {
		fmt.Fprintf(&y, `---
apiVersion: openslo/v1
kind: SLO
metadata: {name: s%05[1]d-availability}
spec:
  service: checkout
  indicator:
    metadata: {name: s%05[1]d-requests}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: sitemetrics, spec: {feed: web, series: s%05[1]d, field: good}}}
        total: {metricSource: {type: sitemetrics, spec: {feed: web, series: s%05[1]d, field: total}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: Availability, target: 0.999}]
`, i)
	}
	return []byte(y.String())
}

// An import is one transaction, and on PostgreSQL the locks a transaction takes stay in
// the server's shared lock table until it ends; the table holds
// max_locks_per_transaction (64) per connection. An import took a lock per new SLO's
// series and per savepoint, and a file of about 6,400 SLOs failed with "out of shared
// memory" on a default server. Now the locks it holds do not grow with its SLOs: at most
// lockStripes series locks per feed it binds, and its tables'. The most its connection holds
// while importing 400 SLOs, polled from another connection, stays under 128 (locks
// taken on the fast path, which are not in the table, aside).
func TestImportHoldsFewLocks(t *testing.T) {
	url := dbtest.URL(t, migrations.Postgres)
	app := fmt.Sprintf("import-locks-%d", time.Now().UnixNano())
	s := dbtest.OpenURL(t, url+"&application_name="+app)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkoutFeed(t, s)
	watch, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	done := make(chan struct{})
	var most, polls int
	var wg sync.WaitGroup
	wg.Add(1)
	stop := sync.OnceFunc(func() { close(done); wg.Wait() })
	defer stop()
	go func() {
		defer wg.Done()
		for {
			var n int
			if err := watch.QueryRow(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
				WHERE a.application_name = $1 AND l.granted AND NOT l.fastpath`, app).Scan(&n); err != nil {
				t.Error(err)
				return
			}
			most, polls = max(most, n), polls+1
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	const n = 400
	res := mustImport(t, s, manySLOs(n), false)
	stop()
	if len(res.SLOs) != n {
		t.Fatalf("%d SLOs imported, want %d", len(res.SLOs), n)
	}
	t.Logf("importing %d SLOs held at most %d locks in the lock table (%d polls)", n, most, polls)
	if most >= 128 || polls < 10 {
		t.Fatalf("importing %d SLOs held up to %d locks in the lock table (%d polls); want fewer than 128, whatever the number of SLOs", n, most, polls)
	}
}
