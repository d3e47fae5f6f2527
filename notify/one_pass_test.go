package notify_test

import (
	"testing"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Two SLOs of two services cross in the same pass: the pass writes both events at once,
// and each channel gets the message of each event it wants and no other (a delivery
// pointing at the wrong event would carry the other service's SLO).
func TestOnePassManyServices(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		r.addSearch()
		only := func(service string) func(*models.ChannelInput) {
			return func(in *models.ChannelInput) { in.Services = []string{service}; in.MinSeverity = "page" }
		}
		checkout, search, all := newReceiver(t, checkWebhook), newReceiver(t, checkWebhook), newReceiver(t, checkWebhook)
		r.channel("checkout-pages", "webhook", checkout.url, nil, only("checkout"))
		r.channel("search-pages", "webhook", search.url, nil, only("search"))
		r.channel("all-pages", "webhook", all.url, nil, pageOnly)

		r.both(make([]int, 3*288)...)
		r.step()
		r.both(150, 150)
		r.step()

		services := func(rc *receiver) map[string]int {
			got := map[string]int{}
			for _, b := range rc.bodies(t) {
				if b.Status != "firing" {
					t.Fatalf("%s: %s, want firing", b.SLO.Name, b.Status)
				}
				got[b.SLO.Service]++
			}
			return got
		}
		if got := services(checkout); len(got) != 1 || got["checkout"] != 1 {
			t.Fatalf("checkout's channel got %v, want one checkout page", got)
		}
		if got := services(search); len(got) != 1 || got["search"] != 1 {
			t.Fatalf("search's channel got %v, want one search page", got)
		}
		if got := services(all); len(got) != 2 || got["checkout"] != 1 || got["search"] != 1 {
			t.Fatalf("the channel for all got %v, want one page of each", got)
		}
		hist, err := s.AlertHistory(ctx, 0, 10)
		must(t, err)
		if len(hist) != 2 || hist[0].Sent != 2 || hist[1].Sent != 2 {
			t.Fatalf("history: %+v", hist)
		}
	})
}
