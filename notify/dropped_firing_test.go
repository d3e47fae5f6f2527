package notify_test

import (
	"testing"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// A firing message dropped when checked again just before sending (another replica's
// numbers had moved on) takes its resolution with it: a resolution decided meanwhile
// waits for its firing message and is never sent alone, so nobody hears "resolved" about
// an alert they never heard fire. Two replicas deciding at once sent exactly that.
func TestResolvedWaitsForItsFiring(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		hook := newReceiver(t, checkWebhook)
		r.channel("generic", "webhook", hook.url, nil, pageOnly)
		r.history()
		r.step()
		decide := func() {
			t.Helper()
			must(t, s.Settle(ctx))
			_, err := r.n.Evaluate(ctx, true)
			must(t, err)
		}
		r.cross()
		decide()                           // firing, not sent yet
		for _, n := range []int{1, 1, 3} { // quiet for the tier's short window: resolved
			r.good(n)
			decide()
		}
		hist, err := s.AlertHistory(ctx, 0, 100)
		must(t, err)
		var firing, resolved *models.EventSummary
		for i := range hist {
			switch h := &hist[i]; {
			case h.Tier == "page quick" && h.Status == models.AlertFiring:
				firing = h
			case h.Tier == "page quick" && h.Status == models.AlertResolved:
				resolved = h
			}
		}
		if firing == nil || resolved == nil || firing.Pending != 1 || resolved.Pending != 1 {
			t.Fatalf("want a firing and a resolved page quick event, each pending: %+v", hist)
		}

		// While the firing message is pending, its resolution is not handed out.
		claimed, err := s.ClaimDeliveries(ctx, r.clock.Now(), 100, 0)
		must(t, err)
		for _, ob := range claimed {
			if ob.Event.UID == resolved.UID {
				t.Fatalf("the resolution was claimed while its firing message was pending")
			}
		}
		must(t, s.DropEvent(ctx, firing.AlertEvent, "no longer holds"))
		r.step()
		if got := hook.requests(); len(got) != 0 {
			t.Fatalf("%d messages sent for an alert whose firing message was dropped: %s", len(got), got[0].Body)
		}
		hist, err = s.AlertHistory(ctx, 0, 100)
		must(t, err)
		for _, h := range hist {
			if h.UID == resolved.UID && (h.Dropped != 1 || h.Sent != 0) {
				t.Fatalf("the resolution: %+v, want dropped", h)
			}
		}
	})
}
