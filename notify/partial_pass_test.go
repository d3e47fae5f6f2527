package notify_test

import (
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// A pass between two full ones decides for the SLOs whose numbers changed and reads
// only their alert states: the others' states, firing, are left as they are, not taken
// for those of deleted SLOs; the next full pass decides for every SLO again.
func TestPassDecidesWhatChanged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		search := r.addSearch()
		r.both(make([]int, 3*288)...)
		r.step()
		r.both(150, 150)
		r.step() // a full pass (forced): both SLOs fire
		// firing counts the alerts firing, by SLO.
		firing := func() map[string]int {
			t.Helper()
			list, err := s.FiringAlerts(ctx)
			must(t, err)
			got := map[string]int{}
			for _, a := range list {
				switch a.State.SLOID {
				case r.slo.ID:
					got["checkout"]++
				case search.ID:
					got["search"]++
				}
			}
			return got
		}
		before := firing()
		if before["checkout"] == 0 || before["search"] == 0 {
			t.Fatalf("firing after the full pass: %v, want both SLOs", before)
		}

		// checkout's newest bucket again, worse (a slower tier fires too): its numbers
		// change, search's do not; the clock stays within the full pass's period.
		res, err := s.IngestBody(ctx, r.feed, 0, rows("checkout", r.end.Add(-5*time.Minute), 300), "application/json", r.clock.Now(), models.IngestOptions{})
		if err != nil || res.Replaced != 1 {
			t.Fatalf("replace checkout's newest bucket: %+v %v", res, err)
		}
		must(t, s.Settle(ctx))
		_, err = r.n.Evaluate(ctx, false)
		must(t, err)
		after := firing()
		if after["checkout"] <= before["checkout"] || after["search"] != before["search"] {
			t.Fatalf("firing after a pass for checkout alone: %v, want more of checkout's than %v and search's as they were", after, before)
		}

		// search is deleted: the next full pass forgets its alerts.
		must(t, s.DeleteSLO(ctx, "sam", search.ID))
		must(t, s.Settle(ctx))
		r.clock.Add(11 * time.Second)
		_, err = r.n.Evaluate(ctx, false)
		must(t, err)
		if got := firing(); got["search"] != 0 || got["checkout"] != after["checkout"] {
			t.Fatalf("firing after the full pass following search's deletion: %v, want checkout's alone", got)
		}
	})
}
