package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
	"github.com/sitemetrics/sitemetrics/notify"
)

func ptr[T any](v T) *T { return &v }

// history is three days without a bad event: enough that only the page-quick tier (1h
// and 5m at 14.4×) fires on a short burst, and the budget (866 bad events) lasts.
func (r *rig) history() { r.good(3 * 288) }

// cross delivers two buckets with 15% bad events: 300 of 12,000 in the last hour is
// 25× the budget rate, and the newest bucket 150×: the page-quick tier fires.
func (r *rig) cross() { r.deliver(150, 150) }

func pageOnly(in *models.ChannelInput) { in.MinSeverity = "page" }

// Every channel type gets the firing and, after the tier's short window of quiet data,
// the resolved message, each once, in its product's documented format.
func TestChannelsFiringAndResolved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		hook, slack, teams, pd := newReceiver(t, checkWebhook), newReceiver(t, checkSlack), newReceiver(t, checkTeams), newReceiver(t, checkPagerDuty)
		secret := "whsec-0123456789abcdef"
		r.channel("generic", "webhook", hook.url, &secret, pageOnly)
		r.channel("slack-sre", "slack", slack.url, nil, pageOnly)
		r.channel("teams-sre", "teams", teams.url, nil, pageOnly)
		r.channel("pagerduty", "pagerduty", pd.url, ptr("R0UTINGKEY0123456789abcdefABCDEF"), pageOnly)
		ticket := newReceiver(t, checkWebhook)
		r.channel("tickets", "webhook", ticket.url, nil, func(in *models.ChannelInput) { in.Services = []string{"search"} })

		r.history()
		r.step()
		if n := len(hook.requests()); n != 0 {
			t.Fatalf("%d messages before anything happened", n)
		}
		r.cross()
		r.step()
		r.good(1) // quiet since 5 minutes: not yet resolved
		r.step()
		for _, rc := range []*receiver{hook, slack, teams, pd} {
			if got := rc.requests(); len(got) != 1 {
				t.Fatalf("after the crossing: %d messages, want 1 firing", len(got))
			}
		}
		r.good(1)
		r.step()
		r.good(3)
		r.step()
		for name, rc := range map[string]*receiver{"webhook": hook, "slack": slack, "teams": teams, "pagerduty": pd} {
			got := rc.requests()
			if len(got) != 2 {
				t.Fatalf("%s: %d messages, want firing and resolved", name, len(got))
			}
			for _, q := range got {
				if q.Err != nil {
					t.Fatalf("%s: the body breaks the product's format: %v\n%s", name, q.Err, q.Body)
				}
			}
		}
		if n := len(ticket.requests()); n != 0 {
			t.Fatalf("a channel scoped to another service got %d messages", n)
		}

		// The generic webhook: the documented body, signed, ids stable per event and channel.
		bodies := hook.bodies(t)
		fire, res := bodies[0], bodies[1]
		if fire.Status != "firing" || res.Status != "resolved" || fire.Kind != "burn_rate" || fire.Severity != "page" || fire.ID == res.ID {
			t.Fatalf("bodies: %+v / %+v", fire, res)
		}
		if fire.SLO.Name != "checkout-availability" || fire.SLO.Service != "checkout" || fire.SLO.Team != "payments" ||
			!strings.HasPrefix(fire.SLO.URL, fmt.Sprintf("https://slo.example/slos/%d?", r.slo.ID)) {
			t.Fatalf("slo: %+v", fire.SLO)
		}
		if fire.Tier == nil || fire.Tier.Name != "page quick" || fire.Tier.LongWindow != "1h" || fire.Tier.ShortWindow != "5m" ||
			fire.Tier.Factor != 14.4 || fire.Tier.LongRate < 24.9 || fire.Tier.LongRate > 25.1 || fire.Tier.ShortRate < 149 {
			t.Fatalf("tier: %+v", fire.Tier)
		}
		if fire.BudgetRemaining == nil || *fire.BudgetRemaining <= 0 || *fire.BudgetRemaining >= 1 {
			t.Fatalf("budget remaining %v", fire.BudgetRemaining)
		}
		for _, q := range hook.requests() {
			if want := notify.Sign(secret, q.Body); q.Header.Get("X-Sitemetrics-Signature") != want {
				t.Fatalf("signature %q, want %q", q.Header.Get("X-Sitemetrics-Signature"), want)
			}
		}
		// PagerDuty: trigger then resolve with one dedup_key, critical for a page.
		var trig, resolve map[string]any
		must(t, json.Unmarshal(pd.requests()[0].Body, &trig))
		must(t, json.Unmarshal(pd.requests()[1].Body, &resolve))
		if trig["event_action"] != "trigger" || resolve["event_action"] != "resolve" || trig["dedup_key"] != resolve["dedup_key"] ||
			trig["payload"].(map[string]any)["severity"] != "critical" {
			t.Fatalf("pagerduty: %v / %v", trig, resolve)
		}
		// The history says what happened, and every delivery is recorded as sent.
		hist, err := s.AlertHistory(ctx, 0, 10)
		must(t, err)
		if len(hist) != 2 || hist[0].Status != models.AlertResolved || hist[1].Status != models.AlertFiring || hist[0].Sent != 4 || hist[1].Sent != 4 {
			t.Fatalf("history: %+v", hist)
		}
		firing, err := s.FiringAlerts(ctx)
		must(t, err)
		if len(firing) != 0 {
			t.Fatalf("still firing: %+v", firing)
		}
	})
}

// A receiver that is down for an hour gets the message once when it is back, after
// retries at 30 s, 1, 2, 4, 8 and then every 10 minutes (simulated time).
func TestReceiverDownForAnHour(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		var mu sync.Mutex
		var attempts []time.Time
		r.n = notify.New(s, notify.Options{BaseURL: "https://slo.example", Now: r.clock.Now, Log: dbtest.Logger(t),
			Sent: func(ob models.Outbound, o models.Outcome) {
				if ob.Event.Tier == "page quick" && ob.Event.Status == models.AlertFiring {
					mu.Lock()
					attempts = append(attempts, r.clock.Now())
					mu.Unlock()
				}
			}})
		hook := newReceiver(t, checkWebhook)
		r.channel("generic", "webhook", hook.url, nil, pageOnly)
		r.history()
		r.step()
		hook.stop()
		r.deliver(90, 90) // 180 of 12,000 in the hour: 15×, and 90× in the newest bucket
		down := r.clock.Now()
		r.step()
		for r.clock.Now().Sub(down) < 70*time.Minute {
			r.clock.Add(5 * time.Second)
			if !r.clock.Now().Before(r.end.Add(5 * time.Minute)) {
				r.deliver(18) // the burn goes on: every bucket 18×, the hour above 14.4×
				must(t, s.Settle(ctx))
				_, err := r.n.Evaluate(ctx, true)
				must(t, err)
			}
			if r.clock.Now().Sub(down) == time.Hour {
				hook.start(t, nil)
			}
			_, err := r.n.Send(ctx)
			must(t, err)
		}
		got := hook.bodies(t)
		if len(got) != 1 || got[0].Status != "firing" || got[0].Tier == nil || got[0].Tier.Name != "page quick" {
			t.Fatalf("received %+v, want the firing once", got)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(attempts) != 11 {
			t.Fatalf("%d attempts, want 11 (10 while down, 1 after): %v", len(attempts), attempts)
		}
		for i := 1; i < len(attempts); i++ {
			if gap := attempts[i].Sub(attempts[i-1]); gap != models.RetryDelay(i) {
				t.Fatalf("attempt %d came %s after the one before, want %s", i+1, gap, models.RetryDelay(i))
			}
		}
		if back := attempts[10].Sub(down); back < time.Hour || back > time.Hour+models.RetryMax {
			t.Fatalf("delivered %s after the receiver went down", back)
		}
	})
}

// A receiver that answers 500 three times gets the message on the fourth attempt, with
// the same id each time, and the channel shows the last error.
func TestFiveHundredThreeTimesThenOK(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		hook := newReceiver(t, checkWebhook)
		hook.fail = func(n int) int {
			if n < 3 {
				return 500
			}
			return 0
		}
		ch := r.channel("generic", "webhook", hook.url, nil, pageOnly)
		r.history()
		r.cross()
		r.step()
		for i := 1; i <= 3; i++ {
			c, err := s.Channel(ctx, ch.ID)
			must(t, err)
			if !strings.Contains(c.LastError, "HTTP 500") || strings.Contains(c.LastError, "SECRET") {
				t.Fatalf("last error %q: want the status, never the URL's secret", c.LastError)
			}
			r.clock.Add(models.RetryDelay(i))
			r.step()
		}
		got := hook.bodies(t)
		if len(got) != 4 || got[0].ID != got[3].ID || got[1].ID != got[2].ID || got[0].ID != got[1].ID {
			t.Fatalf("%d requests: %+v", len(got), got)
		}
		ds, err := s.ChannelDeliveries(ctx, ch.ID, 10)
		must(t, err)
		if len(ds) != 1 || ds[0].State != models.DeliverySent || ds[0].Attempts != 4 {
			t.Fatalf("deliveries: %+v", ds)
		}
		r.clock.Add(time.Hour)
		r.step()
		if n := len(hook.requests()); n != 4 {
			t.Fatalf("sent again after success: %d", n)
		}
	})
}

// A sender killed while a receiver holds its request never records the send; another
// replica sends it again once the lease ends, with the same id. Nothing is lost.
func TestSenderKilledMidSend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		hook := newReceiver(t, checkWebhook)
		hook.hold = make(chan struct{})
		r.channel("generic", "webhook", hook.url, nil, pageOnly)
		r.history()
		r.cross()
		must(t, s.Settle(ctx))
		_, err := r.n.Evaluate(ctx, true)
		must(t, err)
		killed, kill := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _, _ = r.n.Send(killed); close(done) }()
		<-hook.arrived
		kill()
		<-done
		close(hook.hold)

		other := dbtest.Reopen(t, s)
		other.Now = r.clock.Now
		n2 := notify.New(other, notify.Options{BaseURL: "https://slo.example", Now: r.clock.Now, Log: dbtest.Logger(t)})
		if n, err := n2.Send(ctx); err != nil || n != 0 {
			t.Fatalf("claimed a leased delivery: %d %v", n, err)
		}
		r.clock.Add(notify.Lease)
		if n, err := n2.Send(ctx); err != nil || n != 1 {
			t.Fatalf("after the lease: %d %v", n, err)
		}
		got := hook.bodies(t)
		if len(got) != 2 || got[0].ID != got[1].ID {
			t.Fatalf("want the same message twice, same id: %+v", got)
		}
		r.clock.Add(time.Hour)
		if n, err := n2.Send(ctx); err != nil || n != 0 {
			t.Fatalf("sent a third time: %d %v", n, err)
		}
	})
}

// An SLO under maintenance, or silenced, sends nothing; a firing event queued before
// the maintenance began is dropped when checked again before sending.
func TestMaintenanceAndSilencesSendNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		r := newRig(t, s)
		hook := newReceiver(t, checkWebhook)
		r.channel("generic", "webhook", hook.url, nil, pageOnly)
		r.history()
		r.step()
		pageQuick := func(status string) int {
			n := 0
			for _, b := range hook.bodies(t) {
				if string(b.Status) == status && b.Tier != nil && b.Tier.Name == "page quick" {
					n++
				}
			}
			return n
		}
		// The burn is in the data from just before the window; the window covers now.
		svc := r.slo.ServiceID
		r.cross()
		m, err := s.CreateMaintenance(ctx, "sam", models.MaintenanceInput{ServiceID: &svc, StartsAt: r.end, EndsAt: r.end.Add(2 * time.Hour), Reason: "upgrade"})
		must(t, err)
		r.step()
		r.clock.Add(30 * time.Minute) // and the feed goes late
		r.step()
		if got := hook.requests(); len(got) != 0 {
			t.Fatalf("under maintenance: %d messages: %s", len(got), got[0].Body)
		}
		must(t, s.DeleteMaintenance(ctx, "sam", m.ID))
		r.good(6)
		r.step()

		// A silence, an SRE's, with an expiry: nothing until it ends, then the alert fires.
		slo := r.slo.ID
		_, err = s.CreateSilence(ctx, "sam", models.SilenceInput{SLOID: &slo, Duration: "20m", Reason: "known issue"})
		must(t, err)
		r.deliver(150, 150)
		r.step()
		if n := len(hook.requests()); n != 0 {
			t.Fatalf("silenced: %d messages", n)
		}
		r.deliver(150, 150, 150, 150)
		r.step()
		if pageQuick("firing") != 1 {
			t.Fatalf("after the silence: %+v", hook.bodies(t))
		}

		// Queued, then maintenance: dropped at the re-check, and no "resolved" follows.
		r.good(12 * 6)
		r.step()
		r.good(2) // five minutes of quiet seen
		r.step()
		if pageQuick("resolved") != 1 {
			t.Fatalf("not resolved: %+v", hook.bodies(t))
		}
		r.cross()
		must(t, s.Settle(ctx))
		_, err = r.n.Evaluate(ctx, true)
		must(t, err)
		_, err = s.CreateMaintenance(ctx, "sam", models.MaintenanceInput{ServiceID: &svc, StartsAt: r.end.Add(-time.Minute), EndsAt: r.end.Add(time.Hour), Reason: "late"})
		must(t, err)
		r.step()
		r.good(12)
		r.clock.Add(2 * time.Hour)
		r.step()
		if pageQuick("firing") != 1 || pageQuick("resolved") != 1 {
			t.Fatalf("a firing queued before the maintenance was sent, or its resolve: %+v", hook.bodies(t))
		}
		hist, err := s.AlertHistory(ctx, 0, 100)
		must(t, err)
		for _, h := range hist {
			if h.Tier == "page quick" {
				if h.Status != models.AlertFiring || h.Dropped != 1 || h.Sent != 0 {
					t.Fatalf("the last page-quick event: %+v", h)
				}
				break
			}
		}
	})
}

// Two replicas on one PostgreSQL, each deciding and sending in the background, never
// send an event twice, and decide each transition once.
func TestTwoReplicas(t *testing.T) {
	s := dbtest.Open(t, migrations.Postgres)
	r := newRig(t, s)
	hook := newReceiver(t, checkWebhook)
	r.channel("generic", "webhook", hook.url, nil)
	r.history()
	other := dbtest.Reopen(t, s)
	other.Now = r.clock.Now
	run, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, st := range []*sqlstore.Store{s, other} {
		n := notify.New(st, notify.Options{BaseURL: "https://slo.example", Now: r.clock.Now, Log: dbtest.Logger(t)})
		wg.Add(2)
		go func() { defer wg.Done(); st.RunReadModel(run) }()
		go func() { defer wg.Done(); n.Run(run) }()
	}
	// pageQuick waits (at most 15 s) until the page-quick tier's message of this status
	// for this round is sent: each round is decided and sent before its data moves on,
	// however slow the machine (a firing message still unsent when the tier resolves is
	// dropped at its re-check, rightly).
	pageQuick := func(round int, status models.AlertStatus) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			hist, err := s.AlertHistory(ctx, 0, 100)
			must(t, err)
			sent := 0
			for _, h := range hist {
				if h.Tier == "page quick" && h.Status == status && h.Sent == 1 {
					sent++
				}
			}
			if sent > round {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d page-quick %s messages sent after 15 s", round, sent, status)
			}
		}
	}
	// Bursts and quiet spells: the tier fires and resolves three times.
	for round := 0; round < 3; round++ {
		r.cross()
		pageQuick(round, models.AlertFiring)
		r.good(3)
		time.Sleep(1500 * time.Millisecond)
		r.good(12)
		pageQuick(round, models.AlertResolved)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if hist, err := s.AlertHistory(ctx, 0, 100); err == nil {
			pending := 0
			for _, h := range hist {
				pending += h.Pending
			}
			if pending == 0 && len(hist) >= 6 {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	wg.Wait()
	seen := map[string]int{}
	for _, b := range hook.bodies(t) {
		seen[b.ID]++
		if seen[b.ID] > 1 {
			t.Fatalf("message %s sent twice", b.ID)
		}
	}
	hist, err := s.AlertHistory(ctx, 0, 100)
	must(t, err)
	last := map[string]models.AlertStatus{}
	fired := 0
	sent := 0
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		// A replica whose numbers lag the clock may decide what the re-check then
		// drops (a feed that looks late); what is sent goes out once.
		if h.Dropped == 1 && h.Sent == 0 {
			continue
		}
		if last[h.AlertKey] == h.Status {
			var seq []string
			for j := len(hist) - 1; j >= 0; j-- {
				if e := hist[j]; e.AlertKey == h.AlertKey {
					seq = append(seq, fmt.Sprintf("%s %s (episode %s, data %s, decided %s; sent %d, dropped %d)", e.UID, e.Status, e.Episode,
						e.DataTime.Format(time.TimeOnly), e.DecidedAt.Format(time.TimeOnly), e.Sent, e.Dropped))
				}
			}
			t.Fatalf("%s decided %s twice in a row:\n%s", h.AlertKey, h.Status, strings.Join(seq, "\n"))
		}
		last[h.AlertKey] = h.Status
		if h.Sent != 1 {
			t.Fatalf("event %s: %+v", h.UID, h)
		}
		sent++
		if h.Tier == "page quick" && h.Status == models.AlertFiring {
			fired++
		}
	}
	if fired != 3 || len(seen) != sent {
		t.Fatalf("page quick fired %d times (want 3); %d messages for %d events sent", fired, len(seen), sent)
	}
}
