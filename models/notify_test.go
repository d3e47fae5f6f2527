package models

import (
	"testing"
	"time"
)

// report is an SLO whose page-quick tier (1h and 5m) fires or not at data time end.
func alertReport(end time.Time, version int64, pageQuick bool) SLOReport {
	tiers := Tiers(30*day, 5*time.Minute)
	states := make([]TierState, len(tiers))
	for i, t := range tiers {
		states[i] = TierState{BurnTier: t, LongHasData: true, ShortHasData: true, LongRate: 0.5, ShortRate: 0.5}
	}
	if pageQuick {
		states[0].LongRate, states[0].ShortRate, states[0].Firing = 20, 30, true
	}
	r := SLOReport{Version: version}
	r.ID, r.Name = 7, "checkout-availability"
	r.Service = Service{ID: 3, Name: "checkout", Team: "payments"}
	r.Eval = Evaluation{End: end, Tiers: states, HasData: true, Remaining: 0.5, Status: StatusHealthy}
	return r
}

func TestDecideAlerts(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key := AlertKeyOf(7, KindBurnRate, "page quick")
	type step struct {
		at       time.Duration // data time after t0
		firing   bool
		silenced bool
		want     AlertStatus // "" = no event
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"fires once, holds quietly", []step{{0, true, false, AlertFiring}, {5 * time.Minute, true, false, ""}, {10 * time.Minute, true, false, ""}}},
		// The tier's short window is 5m: quiet from 12:05, resolved once data reaches 12:10.
		{"resolves after its short window of quiet data", []step{{0, true, false, AlertFiring}, {5 * time.Minute, false, false, ""},
			{9 * time.Minute, false, false, ""}, {10 * time.Minute, false, false, AlertResolved}, {15 * time.Minute, false, false, ""}}},
		{"flapping within the short window sends nothing more", []step{{0, true, false, AlertFiring}, {5 * time.Minute, false, false, ""},
			{8 * time.Minute, true, false, ""}, {10 * time.Minute, false, false, ""}, {14 * time.Minute, true, false, ""},
			{15 * time.Minute, false, false, ""}, {20 * time.Minute, false, false, AlertResolved}}},
		{"silenced: nothing, then fires when the silence ends", []step{{0, true, true, ""}, {5 * time.Minute, true, true, ""},
			{10 * time.Minute, true, false, AlertFiring}}},
		{"silenced throughout: nothing at all", []step{{0, true, true, ""}, {5 * time.Minute, false, true, ""}, {30 * time.Minute, false, false, ""}}},
		{"fires again after a resolve: a new episode", []step{{0, true, false, AlertFiring}, {5 * time.Minute, false, false, ""},
			{10 * time.Minute, false, false, AlertResolved}, {15 * time.Minute, true, false, AlertFiring}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			states := map[string]AlertState{}
			episodes := map[string]bool{}
			for i, s := range tc.steps {
				r := alertReport(t0.Add(s.at), int64(i+1), s.firing)
				changed, events := DecideAlerts(r, states, s.silenced, t0)
				for _, st := range changed {
					states[st.AlertKey] = st
				}
				var got AlertStatus
				for _, e := range events {
					if e.AlertKey != key {
						t.Fatalf("step %d: unexpected event %+v", i, e)
					}
					if got != "" {
						t.Fatalf("step %d: two events", i)
					}
					got = e.Status
					if e.Status == AlertFiring {
						if e.UID != e.Episode || episodes[e.Episode] {
							t.Fatalf("step %d: a firing event starts a new episode named after itself: %+v", i, e)
						}
						episodes[e.Episode] = true
					} else if !episodes[e.Episode] || e.UID == e.Episode {
						t.Fatalf("step %d: a resolved event belongs to the episode it ends: %+v", i, e)
					}
					if e.Severity != SeverityPage || e.Detail().Tier == nil || e.Detail().Tier.LongRate != r.Eval.Tiers[0].LongRate {
						t.Fatalf("step %d: event detail %+v", i, e.Detail())
					}
				}
				if got != s.want {
					t.Fatalf("step %d (data +%s, firing %v, silenced %v): event %q, want %q", i, s.at, s.firing, s.silenced, got, s.want)
				}
			}
		})
	}
}

func TestDecideAlertsOtherKinds(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := alertReport(t0, 1, false)
	r.Eval.Stale, r.Eval.Remaining = true, -0.1
	changed, events := DecideAlerts(r, nil, false, t0)
	if len(events) != 2 || len(changed) != 2 {
		t.Fatalf("stale and exhausted: %d events, %d states", len(events), len(changed))
	}
	for _, e := range events {
		if e.Severity != SeverityTicket || (e.Kind != KindStaleFeed && e.Kind != KindBudgetExhausted) {
			t.Fatalf("event %+v", e)
		}
	}
	states := map[string]AlertState{}
	for _, st := range changed {
		states[st.AlertKey] = st
	}
	// The feed is back at once; the budget needs the shortest short window (5m) with budget left.
	r2 := alertReport(t0.Add(time.Minute), 2, false)
	_, events = DecideAlerts(r2, states, false, t0)
	if len(events) != 1 || events[0].Kind != KindStaleFeed || events[0].Status != AlertResolved {
		t.Fatalf("recovered feed: %+v", events)
	}
	// A replica whose numbers are older than the last decision does nothing.
	if c, e := DecideAlerts(alertReport(t0, 0, true), states, false, t0); c != nil || e != nil {
		t.Fatalf("older numbers decided %v %v", c, e)
	}
	// Computing: no verdict, no decision.
	r3 := alertReport(t0, 3, true)
	r3.Eval.Status = StatusComputing
	if c, e := DecideAlerts(r3, nil, false, t0); c != nil || e != nil {
		t.Fatalf("computing decided %v %v", c, e)
	}
}

func TestRetryDelay(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		if got := RetryDelay(i + 1); got != w {
			t.Errorf("after failure %d: %s, want %s", i+1, got, w)
		}
	}
}

func TestChannelWantsAndInput(t *testing.T) {
	c := Channel{MinSeverity: SeverityPage, Services: "checkout", Teams: "search-team"}
	cases := []struct {
		sev           Severity
		service, team string
		want          bool
	}{
		{SeverityPage, "checkout", "", true},
		{SeverityTicket, "checkout", "", false},
		{SeverityPage, "search", "search-team", true},
		{SeverityPage, "search", "other", false},
	}
	for _, tc := range cases {
		if got := c.Wants(tc.sev, tc.service, tc.team); got != tc.want {
			t.Errorf("Wants(%s, %s, %s) = %v", tc.sev, tc.service, tc.team, got)
		}
	}
	bad := []ChannelInput{
		{Name: "", Type: "slack", URL: "https://hooks.slack.com/services/x"},
		{Name: "a", Type: "sms", URL: "https://x"},
		{Name: "a", Type: "slack", URL: "ftp://x/y"},
		{Name: "a", Type: "email", URL: "smtp://mail.example:587?from=a@example.com"},
		{Name: "a", Type: "pagerduty"},
		{Name: "a", Type: "webhook", URL: "https://x.example/", MinSeverity: "critical"},
	}
	for _, in := range bad {
		if err := in.Validate(false); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v", in, err)
		}
	}
	in := ChannelInput{Name: "mail", Type: "email", URL: "smtp://u:p@mail.example:2525?from=slo@example.com&to=a@example.com,b@example.com"}
	if err := in.Validate(false); err != nil {
		t.Fatal(err)
	}
	if h := ChannelURLHint(ChannelEmail, in.URL); h != "smtp://mail.example:2525 → a@example.com, b@example.com" {
		t.Errorf("email hint %q", h)
	}
	if h := ChannelURLHint(ChannelSlack, "https://hooks.slack.com/services/T000/B000/XXXXsecretABCD"); h != "https://hooks.slack.com/…ABCD" {
		t.Errorf("slack hint %q", h)
	}
}
