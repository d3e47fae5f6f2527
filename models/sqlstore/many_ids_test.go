package sqlstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// A replica reads every SLO's settings and numbers by id. PostgreSQL takes at most 65,535
// parameters in a statement and SQLite 32,766, so a statement listing 70,000 ids failed;
// they are read 5,000 at a time, and an SLO listed past the first 65,535 is found with
// its service, feed, binding, targets and numbers.
func TestReadsListingMoreIDsThanAStatementTakes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now().UTC().Truncate(time.Minute)
		f := checkoutFeed(t, s)
		post(t, s, f, "checkout", now.Add(-time.Hour), 12, func(int) string { return `"total":"100","good":"99"` })
		d := checkoutSLO(t, s)
		if _, err := s.Reports(ctx, now); err != nil { // computes and stores its numbers
			t.Fatal(err)
		}
		var ids []int64
		var slos []models.SLO
		for id := d.ID + 1; len(ids) < 70000; id++ {
			ids, slos = append(ids, id), append(slos, models.SLO{ID: id}) // no such SLOs
		}
		ids, slos = append(ids, d.ID), append(slos, d.SLO)
		details, err := sqlstore.DetailsOf(s, slos)
		if err != nil {
			t.Fatal(err)
		}
		got := details[len(details)-1]
		if got.Service.Name != "checkout" || got.Feed.Name != "web" || got.Binding.Series != "checkout" || len(got.Targets) != 1 {
			t.Fatalf("the SLO listed last was read as %+v", got)
		}
		withNumbers, err := sqlstore.SummariesOf(s, ids)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(withNumbers, []int64{d.ID}) {
			t.Fatalf("numbers stored for %v, want those of SLO %d", withNumbers, d.ID)
		}
	})
}
