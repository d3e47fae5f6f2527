package models

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AlertKind is what an alert is about: a burn-rate tier, a stale feed or an exhausted budget.
type AlertKind string

// The kinds of alert.
const (
	KindBurnRate        AlertKind = "burn_rate"
	KindStaleFeed       AlertKind = "stale_feed"
	KindBudgetExhausted AlertKind = "budget_exhausted"
	// KindTest is the "send a test" message: no SLO behind it.
	KindTest AlertKind = "test"
)

// AlertStatus is whether an event announces an alert or its end.
type AlertStatus string

// The statuses of an event.
const (
	AlertFiring   AlertStatus = "firing"
	AlertResolved AlertStatus = "resolved"
)

// Severity ranks: a channel takes events at or above its minimum.
func (s Severity) rank() int {
	if s == SeverityPage {
		return 2
	}
	return 1
}

// ChannelType is how a channel delivers.
type ChannelType string

// The channel types.
const (
	ChannelWebhook      ChannelType = "webhook"
	ChannelSlack        ChannelType = "slack"
	ChannelTeams        ChannelType = "teams"
	ChannelEmail        ChannelType = "email"
	ChannelPagerDuty    ChannelType = "pagerduty"
	ChannelAlertmanager ChannelType = "alertmanager"
)

// ChannelTypes lists the channel types in the order pages offer them.
func ChannelTypes() []ChannelType {
	return []ChannelType{ChannelWebhook, ChannelSlack, ChannelTeams, ChannelEmail, ChannelPagerDuty, ChannelAlertmanager}
}

// PagerDutyEventsURL is the Events API v2 endpoint, the default url of a pagerduty channel.
const PagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

// Channel is where notifications go. URL and Secret are credentials (a Slack or Teams
// URL is one): they never leave the server; pages, the API and the audit log show hints.
type Channel struct {
	ID          int64       `gorm:"primaryKey" json:"id"`
	Name        string      `json:"name"`
	Type        ChannelType `json:"type"`
	URL         string      `json:"-"`
	Secret      string      `json:"-"`
	URLHint     string      `json:"url_hint"`
	SecretHint  string      `json:"secret_hint,omitempty"`
	MinSeverity Severity    `json:"min_severity"`
	// Services and Teams scope the channel, as comma-separated names; empty = all.
	Services    string     `json:"services"`
	Teams       string     `json:"teams"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	LastSentAt  *time.Time `json:"last_sent_at"`
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
}

// TableName keeps GORM on the migration's table.
func (Channel) TableName() string { return "notification_channels" }

// ServiceList and TeamList are the channel's scope.
func (c Channel) ServiceList() []string { return SplitList(c.Services) }

// TeamList is the teams the channel is scoped to; empty = all.
func (c Channel) TeamList() []string { return SplitList(c.Teams) }

// Wants reports whether an event of this severity, for an SLO of this service and team,
// goes to the channel: at or above its minimum severity, and in its scope (a service or a
// team listed, or no scope at all).
func (c Channel) Wants(sev Severity, service, team string) bool {
	if sev.rank() < c.MinSeverity.rank() {
		return false
	}
	svcs, teams := c.ServiceList(), c.TeamList()
	if len(svcs) == 0 && len(teams) == 0 {
		return true
	}
	return slices.Contains(svcs, service) || (team != "" && slices.Contains(teams, team))
}

// ChannelInput is what a person or the API gives for a channel. On update an empty URL
// or Secret keeps the stored one (it is never shown, so it cannot be sent back).
type ChannelInput struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	URL         string   `json:"url"`
	Secret      *string  `json:"secret,omitempty"`
	MinSeverity string   `json:"min_severity,omitempty"`
	Services    []string `json:"services,omitempty"`
	Teams       []string `json:"teams,omitempty"`
}

// Validate normalises the input and names the first field at fault. update says the
// channel exists, so an empty url keeps the stored one.
func (in *ChannelInput) Validate(update bool) error {
	in.Name, in.Type, in.URL = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Type)), strings.TrimSpace(in.URL)
	in.MinSeverity = strings.ToLower(strings.TrimSpace(in.MinSeverity))
	if in.Name == "" || len(in.Name) > 100 {
		return FieldErrorf("name", "name is required (at most 100 characters), e.g. sre-pager")
	}
	if !slices.Contains(ChannelTypes(), ChannelType(in.Type)) {
		return FieldErrorf("type", "type %q is not one of webhook, slack, teams, email, pagerduty, alertmanager", in.Type)
	}
	switch in.MinSeverity {
	case "":
		in.MinSeverity = string(SeverityTicket)
	case string(SeverityPage), string(SeverityTicket):
	default:
		return FieldErrorf("min_severity", "minimum severity %q is not page or ticket", in.MinSeverity)
	}
	if in.URL == "" && ChannelType(in.Type) == ChannelPagerDuty && !update {
		in.URL = PagerDutyEventsURL
	}
	if in.URL != "" || !update {
		if err := validateChannelURL(ChannelType(in.Type), in.URL); err != nil {
			return err
		}
	}
	if in.Secret != nil {
		*in.Secret = strings.TrimSpace(*in.Secret)
		if len(*in.Secret) > 500 {
			return FieldErrorf("secret", "the secret is longer than 500 characters")
		}
	}
	if ChannelType(in.Type) == ChannelPagerDuty && !update && (in.Secret == nil || *in.Secret == "") {
		return FieldErrorf("secret", "a PagerDuty channel needs its integration's routing key as the secret")
	}
	clean := func(names []string) []string {
		var out []string
		for _, n := range names {
			for _, x := range SplitList(n) {
				if !slices.Contains(out, x) {
					out = append(out, x)
				}
			}
		}
		return out
	}
	in.Services, in.Teams = clean(in.Services), clean(in.Teams)
	return nil
}

func validateChannelURL(t ChannelType, raw string) error {
	if raw == "" {
		return FieldErrorf("url", "the URL is required")
	}
	if len(raw) > 2000 {
		return FieldErrorf("url", "the URL is longer than 2000 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return FieldErrorf("url", "the URL does not parse: write it whole, e.g. https://hooks.slack.com/services/…")
	}
	if t == ChannelEmail {
		if u.Scheme != "smtp" && u.Scheme != "smtps" {
			return FieldErrorf("url", "an email channel's URL is smtp://user:password@host:587?from=sitemetrics@corp.example&to=sre@corp.example (smtps:// for TLS from the start, port 465)")
		}
		_, err := ParseSMTPURL(raw)
		return err
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return FieldErrorf("url", "the URL must start with https:// (or http://)")
	}
	return nil
}

// SMTPTarget is an email channel's URL taken apart.
type SMTPTarget struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS is smtps://: TLS from the first byte. Otherwise STARTTLS is required,
	// unless TLS is "opportunistic" or "none" (for a relay on localhost).
	ImplicitTLS bool
	TLS         string
	From        string
	To          []string
}

// ParseSMTPURL reads smtp[s]://user:pass@host:port?from=…&to=a,b[&tls=mandatory|opportunistic|none].
func ParseSMTPURL(raw string) (SMTPTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPTarget{}, FieldErrorf("url", "the SMTP URL does not parse")
	}
	t := SMTPTarget{Host: u.Hostname(), ImplicitTLS: u.Scheme == "smtps", TLS: "mandatory", Port: 587}
	if t.ImplicitTLS {
		t.Port = 465
	}
	if p := u.Port(); p != "" {
		if _, err := fmt.Sscan(p, &t.Port); err != nil {
			return t, FieldErrorf("url", "the SMTP port %q is not a number", p)
		}
	}
	if u.User != nil {
		t.Username = u.User.Username()
		t.Password, _ = u.User.Password()
	}
	q := u.Query()
	if v := q.Get("tls"); v != "" {
		if v != "mandatory" && v != "opportunistic" && v != "none" {
			return t, FieldErrorf("url", "tls=%q: use mandatory (the default), opportunistic or none", v)
		}
		t.TLS = v
	}
	from, err := mail.ParseAddress(q.Get("from"))
	if err != nil {
		return t, FieldErrorf("url", "the SMTP URL needs ?from=sitemetrics@corp.example (a valid address)")
	}
	t.From = from.Address
	for _, to := range SplitList(strings.Join(q["to"], ",")) {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return t, FieldErrorf("url", "recipient %q is not an email address", to)
		}
		t.To = append(t.To, a.Address)
	}
	if len(t.To) == 0 {
		return t, FieldErrorf("url", "the SMTP URL needs &to=sre@corp.example (several separated by commas)")
	}
	return t, nil
}

// ChannelURLHint shows where a channel sends without its credentials: scheme, host and
// the last four characters of the path (an email channel shows its recipients).
func ChannelURLHint(t ChannelType, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "…"
	}
	if t == ChannelEmail {
		if st, err := ParseSMTPURL(raw); err == nil {
			return fmt.Sprintf("%s://%s:%d → %s", u.Scheme, st.Host, st.Port, strings.Join(st.To, ", "))
		}
	}
	rest := u.EscapedPath()
	if u.RawQuery != "" {
		rest += "?" + u.RawQuery
	}
	hint := u.Scheme + "://" + u.Host
	if len(rest) > 8 {
		hint += "/…" + rest[len(rest)-4:]
	} else if rest != "" && rest != "/" {
		hint += "/…"
	}
	return hint
}

// SecretHint shows a secret's last four characters.
func SecretHint(s string) string {
	if s == "" {
		return ""
	}
	if len(s) < 12 {
		return "…"
	}
	return "…" + s[len(s)-4:]
}

// Silence mutes notifications for one SLO, every SLO of a service, or everything,
// until EndsAt. Maintenance windows silence the SLOs they cover in the same way.
type Silence struct {
	ID        int64     `gorm:"primaryKey" json:"id"`
	ServiceID *int64    `json:"service_id"`
	SLOID     *int64    `gorm:"column:slo_id" json:"slo_id"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedAt time.Time `json:"created_at"`
}

// Active reports whether the silence holds at t.
func (s Silence) Active(t time.Time) bool { return !t.Before(s.StartsAt) && t.Before(s.EndsAt) }

// Covers reports whether the silence applies to the SLO.
func (s Silence) Covers(sloID, serviceID int64) bool {
	switch {
	case s.SLOID != nil:
		return *s.SLOID == sloID
	case s.ServiceID != nil:
		return *s.ServiceID == serviceID
	}
	return true
}

// SilenceInput is what a person gives for a silence: a scope (none = everything), an
// expiry (EndsAt, or Duration such as "2h" from now) and a reason.
type SilenceInput struct {
	ServiceID *int64     `json:"service_id,omitempty"`
	SLOID     *int64     `json:"slo_id,omitempty"`
	EndsAt    *time.Time `json:"ends_at,omitempty"`
	Duration  string     `json:"duration,omitempty"`
	Reason    string     `json:"reason"`
}

// Validate names the field at fault and fixes EndsAt from Duration.
func (in *SilenceInput) Validate(now time.Time) error {
	in.Reason = strings.TrimSpace(in.Reason)
	if in.ServiceID != nil && in.SLOID != nil {
		return FieldErrorf("slo_id", "choose one SLO, one service, or neither (everything)")
	}
	if in.Duration != "" {
		d, err := parseSpan(in.Duration)
		if err != nil || d <= 0 {
			return FieldErrorf("duration", "duration %q: write it as 30m, 2h or 1d", in.Duration)
		}
		t := now.Add(d)
		in.EndsAt = &t
	}
	switch {
	case in.EndsAt == nil:
		return FieldErrorf("ends_at", "say when the silence ends (ends_at, or a duration such as 2h)")
	case !in.EndsAt.After(now):
		return FieldErrorf("ends_at", "the silence would end (%s) before now", in.EndsAt.UTC().Format(time.RFC3339))
	case in.EndsAt.Sub(now) > 31*24*time.Hour:
		return FieldErrorf("ends_at", "a silence lasts at most 31 days")
	case in.Reason == "":
		return FieldErrorf("reason", "say why, e.g. \"known issue, fix deploying\"")
	case len(in.Reason) > 500:
		return FieldErrorf("reason", "the reason is longer than 500 characters")
	}
	return nil
}

// parseSpan reads a duration as Go writes it (90m, 2h) or in days (1d).
func parseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscan(n, &days); err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// UnderMaintenance reports whether a maintenance window covering the SLO holds at t.
func UnderMaintenance(ms []Maintenance, sloID, serviceID int64, t time.Time) bool {
	for _, m := range ms {
		covers := (m.SLOID != nil && *m.SLOID == sloID) || (m.ServiceID != nil && *m.ServiceID == serviceID)
		if covers && !t.Before(m.StartsAt) && t.Before(m.EndsAt) {
			return true
		}
	}
	return false
}

// AlertState is an alert's (SLO, kind, tier) state as last notified. Firing is what
// receivers were told, not the condition: a tier that stops burning stays Firing until
// it has been quiet for its damping span in data time (ClearSince marks where the quiet
// began).
type AlertState struct {
	AlertKey   string    `gorm:"primaryKey"`
	SLOID      int64     `gorm:"column:slo_id"`
	Kind       AlertKind `gorm:"column:kind"`
	Tier       string
	Severity   Severity
	Firing     bool
	Episode    string // uid of the firing event that began it
	StartedAt  time.Time
	ClearSince *time.Time
	// Version is the data version of the last decision: a replica whose numbers are
	// older leaves the SLO alone.
	Version   int64
	UpdatedAt time.Time
}

// TableName keeps GORM on the migration's table.
func (AlertState) TableName() string { return "alert_state" }

// AlertEvent is one notification decided: an alert firing or resolved. Payload holds
// what receivers are told (EventDetail, JSON).
type AlertEvent struct {
	ID        int64       `gorm:"primaryKey" json:"-"`
	UID       string      `gorm:"column:uid" json:"id"`
	Episode   string      `json:"episode"`
	AlertKey  string      `json:"alert_key"`
	SLOID     int64       `gorm:"column:slo_id" json:"slo_id"`
	Kind      AlertKind   `json:"kind"`
	Tier      string      `json:"tier"`
	Severity  Severity    `json:"severity"`
	Status    AlertStatus `json:"status"`
	StartedAt time.Time   `json:"started_at"`
	DataTime  time.Time   `json:"data_time"`
	DecidedAt time.Time   `json:"decided_at"`
	Version   int64       `json:"version"`
	Payload   string      `json:"-"`
}

// TableName keeps GORM on the migration's table.
func (AlertEvent) TableName() string { return "alert_events" }

// Detail decodes the payload.
func (e AlertEvent) Detail() EventDetail {
	var d EventDetail
	_ = json.Unmarshal([]byte(e.Payload), &d) // written by us; a bad one reads as empty
	return d
}

// EventDetail is what an event says about its SLO at the moment it was decided.
type EventDetail struct {
	SLO             EventSLO   `json:"slo"`
	Tier            *EventTier `json:"tier"`
	Feed            *EventFeed `json:"feed"`
	BudgetRemaining *float64   `json:"budget_remaining"`
	SLI             *float64   `json:"sli"`
	Target          float64    `json:"target"`
	SLOStatus       SLOStatus  `json:"slo_status"`
	LastDataAt      *time.Time `json:"last_data_at"`
}

// EventSLO names the SLO of an event.
type EventSLO struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Service     string `json:"service"`
	Team        string `json:"team"`
}

// EventTier is the burn-rate tier of an event, with its rates when decided.
type EventTier struct {
	Name        string        `json:"name"`
	Factor      float64       `json:"factor"`
	LongWindow  time.Duration `json:"long_window"`
	ShortWindow time.Duration `json:"short_window"`
	LongRate    float64       `json:"long_rate"`
	ShortRate   float64       `json:"short_rate"`
}

// EventFeed is the feed of a stale-feed event.
type EventFeed struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// AlertDelivery is one event on its way to one channel.
type AlertDelivery struct {
	ID         int64 `gorm:"primaryKey"`
	EventID    int64
	ChannelID  int64
	State      string // pending, sent, failed, dropped
	Attempts   int
	NextAt     time.Time
	LeaseUntil *time.Time
	LastError  string
	SentAt     *time.Time
	CreatedAt  time.Time
}

// TableName keeps GORM on the migration's table.
func (AlertDelivery) TableName() string { return "alert_deliveries" }

// The states of a delivery.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
	DeliveryDropped = "dropped"
)

// Retry policy: the first retry within 30 s, doubling up to 10 minutes, for 24 hours.
const (
	RetryFirst  = 30 * time.Second
	RetryMax    = 10 * time.Minute
	RetryGiveUp = 24 * time.Hour
)

// RetryDelay is how long to wait after the n-th failed attempt (n ≥ 1): 30 s, 1 min, 2,
// 4, 8, then every 10 min. A receiver down for an hour gets 11 attempts, the last within
// 10 minutes of its return.
func RetryDelay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := RetryFirst
	for i := 1; i < n && d < RetryMax; i++ {
		d *= 2
	}
	return min(d, RetryMax)
}

// NewEventUID is a fresh, unguessable event id: "evt_" and 16 random bytes in hex.
func NewEventUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "evt_" + hex.EncodeToString(b)
}

// AlertKeyOf names an alert: SLO, kind and tier ("12/burn_rate/page quick").
func AlertKeyOf(sloID int64, kind AlertKind, tier string) string {
	return fmt.Sprintf("%d/%s/%s", sloID, kind, tier)
}

// condition is one alert an SLO can raise, and whether it holds in an evaluation.
type condition struct {
	kind     AlertKind
	tier     *TierState
	severity Severity
	holds    bool
	// damping is how long, in data time, the condition must stay false before
	// "resolved" is sent.
	damping time.Duration
}

// conditions lists every alert an SLO's evaluation can raise:
//   - burn_rate, one per tier, with the tier's severity; holds while the tier fires;
//     resolved after its own short window of quiet in data time (flap damping);
//   - stale_feed (ticket): the feed is late by more than 2× its interval (as Eval.Stale);
//     the feed's return resolves it at once, since the 2× rule has damped it already;
//   - budget_exhausted (ticket: the burn that spent it has paged already): remaining ≤ 0,
//     resolved after the shortest tier's short window with budget left.
func conditions(e Evaluation) []condition {
	var out []condition
	shortest := time.Duration(0)
	for i := range e.Tiers {
		t := &e.Tiers[i]
		out = append(out, condition{kind: KindBurnRate, tier: t, severity: t.Severity, holds: t.Firing, damping: t.Short})
		if shortest == 0 || t.Short < shortest {
			shortest = t.Short
		}
	}
	out = append(out,
		condition{kind: KindStaleFeed, severity: SeverityTicket, holds: e.Stale},
		condition{kind: KindBudgetExhausted, severity: SeverityTicket, holds: e.HasData && e.Remaining <= 0, damping: shortest})
	return out
}

// Holds reports whether an event's condition still holds in a fresh evaluation: the
// re-check made just before a firing event is sent.
func (e AlertEvent) Holds(r SLOReport) bool {
	if r.Eval.Status == StatusComputing {
		return true // no verdict either way: what was decided stands
	}
	for _, c := range conditions(r.Eval) {
		if c.kind == e.Kind && (c.tier == nil || c.tier.Name == e.Tier) {
			return c.holds
		}
	}
	return false
}

// DecideAlerts is the notification state machine for one SLO, pure: given its report,
// the states of its alerts (by key) and whether it is silenced, it returns the states
// that change and the events to send. One event per transition:
//   - not firing → firing when the condition holds (never while silenced: a silence
//     holds every state as it is, so an alert that still holds when it ends fires then);
//   - firing → resolved once the condition has not held for its damping span in data
//     time (Eval.End), so a flapping tier sends nothing until it is really quiet.
//
// An SLO whose numbers are older than the last decision (another replica is ahead), or
// that is being recomputed, is left alone.
func DecideAlerts(r SLOReport, states map[string]AlertState, silenced bool, now time.Time) (changed []AlertState, events []AlertEvent) {
	e := r.Eval
	if e.Status == StatusComputing || silenced {
		return nil, nil
	}
	for _, st := range states {
		if st.Version > r.Version {
			return nil, nil
		}
	}
	for _, c := range conditions(e) {
		tier := ""
		if c.tier != nil {
			tier = c.tier.Name
		}
		key := AlertKeyOf(r.ID, c.kind, tier)
		st, known := states[key]
		if !known {
			st = AlertState{AlertKey: key, SLOID: r.ID, Kind: c.kind, Tier: tier, Severity: c.severity}
		}
		before := st
		var status AlertStatus
		switch {
		case !st.Firing && c.holds:
			st.Firing, st.Episode, st.StartedAt, st.ClearSince = true, NewEventUID(), e.End, nil
			status = AlertFiring
		case st.Firing && c.holds:
			st.ClearSince = nil
		case st.Firing && !c.holds:
			if st.ClearSince == nil {
				end := e.End
				st.ClearSince = &end
			}
			if !e.End.Before(st.ClearSince.Add(c.damping)) {
				st.Firing, st.ClearSince = false, nil
				status = AlertResolved
			}
		default:
			st.ClearSince = nil
		}
		if status == "" && sameState(before, st) {
			continue
		}
		st.Severity, st.Version, st.UpdatedAt = c.severity, r.Version, now
		changed = append(changed, st)
		if status != "" {
			ev := AlertEvent{UID: NewEventUID(), Episode: st.Episode, AlertKey: key, SLOID: r.ID, Kind: c.kind, Tier: tier,
				Severity: c.severity, Status: status, StartedAt: st.StartedAt, DataTime: e.End, DecidedAt: now, Version: r.Version}
			if status == AlertFiring {
				ev.UID = st.Episode
			}
			ev.Payload = detailOf(r, c)
			events = append(events, ev)
		}
	}
	return changed, events
}

func sameState(a, b AlertState) bool {
	if a.Firing != b.Firing || a.Episode != b.Episode || (a.ClearSince == nil) != (b.ClearSince == nil) {
		return false
	}
	return a.ClearSince == nil || a.ClearSince.Equal(*b.ClearSince)
}

func detailOf(r SLOReport, c condition) string {
	e := r.Eval
	d := EventDetail{SLO: EventSLO{ID: r.ID, Name: r.Name, DisplayName: r.DisplayName, Service: r.Service.Name, Team: r.Service.Team},
		Target: e.Target, SLOStatus: e.Status}
	if e.HasData {
		rem, sli := e.Remaining, e.SLI
		d.BudgetRemaining, d.SLI = &rem, &sli
	}
	if !e.LastDataAt.IsZero() {
		t := e.LastDataAt
		d.LastDataAt = &t
	}
	if c.tier != nil {
		d.Tier = &EventTier{Name: c.tier.Name, Factor: c.tier.Factor, LongWindow: c.tier.Long, ShortWindow: c.tier.Short,
			LongRate: c.tier.LongRate, ShortRate: c.tier.ShortRate}
	}
	if c.kind == KindStaleFeed {
		d.Feed = &EventFeed{ID: r.Feed.ID, Name: r.Feed.Name}
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// TestEvent is the "send a test" event for a channel: no SLO behind it.
func TestEvent(ch Channel, now time.Time) AlertEvent {
	d := EventDetail{SLO: EventSLO{Name: "sitemetrics-test", DisplayName: "Sitemetrics test message", Service: "sitemetrics"}}
	b, _ := json.Marshal(d)
	uid := NewEventUID()
	return AlertEvent{UID: uid, Episode: uid, AlertKey: fmt.Sprintf("test/%d", ch.ID), Kind: KindTest, Severity: ch.MinSeverity,
		Status: AlertFiring, StartedAt: now, DataTime: now, DecidedAt: now, Payload: string(b)}
}

// Outbound is a delivery claimed for sending, with its event and channel (credentials
// included: it never leaves the sender).
type Outbound struct {
	Delivery AlertDelivery
	Event    AlertEvent
	Channel  Channel
}

// Outcome is what became of one attempt to send a delivery.
type Outcome struct {
	Sent bool
	// Err is the failure, safe to show (no credentials); Permanent says retrying cannot
	// help (the receiver refused the message itself).
	Err       string
	Permanent bool
}

// Attempt is one try at sending a delivery and what became of it.
type Attempt struct {
	Outbound
	Outcome Outcome
}

// FiringAlert is an alert receivers were told is firing, with the event that said so.
type FiringAlert struct {
	State AlertState
	Event AlertEvent
}

// EventSummary is an event with how its deliveries went.
type EventSummary struct {
	AlertEvent
	Pending, Sent, Failed, Dropped int
}

// ChannelDelivery is a delivery with its event, for a channel's page.
type ChannelDelivery struct {
	AlertDelivery
	Event AlertEvent
}
