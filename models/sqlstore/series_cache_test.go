package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// The series cache learns each series once, when a delivery creates it, keeps what it
// learnt across deliveries, and forgets a deleted feed's series.
func TestSeriesCacheLearnsCreatedSeries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		f, _ := mustFeed(t, s, "web", "service")
		at := time.Now().Add(-time.Hour).Truncate(5 * time.Minute).Unix()
		post := func(services ...string) {
			t.Helper()
			body := `{"results":[`
			for i, svc := range services {
				if i > 0 {
					body += ","
				}
				body += fmt.Sprintf(`{"service":%q,"_time":"%d","total":"10","good":"9"}`, svc, at)
			}
			body += `]}`
			if _, err := s.IngestBody(ctx, f, 0, []byte(body), "application/json", time.Now(), models.IngestOptions{}); err != nil {
				t.Fatal(err)
			}
			at += 300
		}
		want := func(keys ...string) {
			t.Helper()
			if got := sqlstore.CachedSeries(s, f.ID); !slices.Equal(got, keys) {
				t.Fatalf("series cached: %q, want %q", got, keys)
			}
		}
		want()
		post("cart", "checkout")
		want("cart", "checkout")
		post("checkout", "search") // one known, one new
		want("cart", "checkout", "search")
		if err := s.DeleteFeed(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		want()
	})
}
