package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// message is what every channel type says about one event, before its own format.
type message struct {
	// ID is stable per event and channel: receivers deduplicate by it.
	ID      string
	Event   models.AlertEvent
	Detail  models.EventDetail
	Title   string // one line: "FIRING page · Checkout availability: burning 15.2× (page quick)"
	Summary string // one or two sentences
	Facts   []fact
	// URL is the SLO's page showing the time of the event (empty for a test).
	URL    string
	SentAt time.Time
	Base   string
}

type fact struct{ Name, Value string }

func (n *Notifier) message(ob models.Outbound) message {
	ev, d := ob.Event, ob.Event.Detail()
	m := message{ID: ev.UID + "." + strconv.FormatInt(ob.Channel.ID, 10), Event: ev, Detail: d, SentAt: n.opt.Now().UTC(),
		Base: strings.TrimRight(n.opt.BaseURL, "/")}
	if ev.Kind != models.KindTest {
		m.URL = SLOLink(m.Base, d.SLO.ID, ev.DataTime)
	}
	title := d.SLO.DisplayName
	if title == "" {
		title = d.SLO.Name
	}
	state := "FIRING"
	if ev.Status == models.AlertResolved {
		state = "RESOLVED"
	}
	at := ev.DataTime.UTC().Format("2006-01-02 15:04 UTC")
	switch ev.Kind {
	case models.KindBurnRate:
		t := d.Tier
		if t == nil {
			t = &models.EventTier{Name: ev.Tier}
		}
		if ev.Status == models.AlertFiring {
			m.Title = fmt.Sprintf("%s %s · %s: error budget burning %s× (%s)", state, ev.Severity, title, rate(t.LongRate), t.Name)
			m.Summary = fmt.Sprintf("The error budget of %s is burning at %s× over %s and %s× over %s, above the %s tier's %s×, as of %s.",
				title, rate(t.LongRate), window(t.LongWindow), rate(t.ShortRate), window(t.ShortWindow), t.Name, rate(t.Factor), at)
		} else {
			m.Title = fmt.Sprintf("%s %s · %s: burn rate back under %s× (%s)", state, ev.Severity, title, rate(t.Factor), t.Name)
			m.Summary = fmt.Sprintf("The %s tier of %s has been quiet for %s of data (burning %s× over %s), as of %s.",
				t.Name, title, window(t.ShortWindow), rate(t.ShortRate), window(t.ShortWindow), at)
		}
		m.Facts = append(m.Facts, fact{"Tier", fmt.Sprintf("%s (%s× over %s and %s)", t.Name, rate(t.Factor), window(t.LongWindow), window(t.ShortWindow))},
			fact{"Burn rate", fmt.Sprintf("%s× over %s, %s× over %s", rate(t.LongRate), window(t.LongWindow), rate(t.ShortRate), window(t.ShortWindow))})
	case models.KindStaleFeed:
		feed := "its feed"
		if d.Feed != nil {
			feed = "feed " + d.Feed.Name
		}
		if ev.Status == models.AlertFiring {
			m.Title = fmt.Sprintf("%s %s · %s: %s is late", state, ev.Severity, title, feed)
			m.Summary = fmt.Sprintf("No data for %s from %s for more than twice its interval; its numbers are not current.", title, feed)
		} else {
			m.Title = fmt.Sprintf("%s %s · %s: %s delivers again", state, ev.Severity, title, feed)
			m.Summary = fmt.Sprintf("Data for %s arrives again from %s.", title, feed)
		}
	case models.KindBudgetExhausted:
		if ev.Status == models.AlertFiring {
			m.Title = fmt.Sprintf("%s %s · %s: error budget exhausted", state, ev.Severity, title)
			m.Summary = fmt.Sprintf("%s has spent its error budget for the window: the objective is breached.", title)
		} else {
			m.Title = fmt.Sprintf("%s %s · %s: error budget left again", state, ev.Severity, title)
			m.Summary = fmt.Sprintf("%s has error budget left again.", title)
		}
	case models.KindTest:
		m.Title = "TEST · Sitemetrics can reach this channel"
		m.Summary = "A test message sent from Sitemetrics' channel page. Alerts for your SLOs will look like this."
	}
	if ev.Kind != models.KindTest {
		m.Facts = append([]fact{{"SLO", title}, {"Service", d.SLO.Service}, {"Team", orDash(d.SLO.Team)}}, m.Facts...)
		if d.BudgetRemaining != nil {
			m.Facts = append(m.Facts, fact{"Budget remaining", fmt.Sprintf("%.1f%%", *d.BudgetRemaining*100)})
		}
		m.Facts = append(m.Facts, fact{"Started", ev.StartedAt.UTC().Format("2006-01-02 15:04 UTC")}, fact{"Data time", at})
	}
	return m
}

// SLOLink is the SLO's page with the charts of the last 24 hours, which show the
// moment of an event (the detail page draws ranges ending now; at says when).
func SLOLink(base string, id int64, at time.Time) string {
	return fmt.Sprintf("%s/slos/%d?range=24h&at=%s", base, id, at.UTC().Format(time.RFC3339))
}

func rate(r float64) string {
	if r >= 10 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

// window writes a lookback as Prometheus does: 5m, 1h, 3d.
func window(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
