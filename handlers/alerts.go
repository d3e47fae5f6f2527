package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

const alertPage = 100

// alertsData is what /alerts and /api/v1/alerts show: what fires, what is silenced,
// and the history before an event id.
func (h *Handler) alertsData(c *gin.Context) ([]models.FiringAlert, []models.EventSummary, []models.Silence, []models.Maintenance, error) {
	ctx := c.Request.Context()
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	firing, err := h.store.FiringAlerts(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	hist, err := h.store.AlertHistory(ctx, before, alertPage)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	sil, err := h.store.Silences(ctx, 200)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	maint, err := h.store.Maintenances(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return firing, hist, sil, maint, nil
}

func (h *Handler) showAlerts(c *gin.Context) {
	firing, hist, sil, maint, err := h.alertsData(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	_, svc, slo, err := h.scopeOptions(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	p := h.page(c, "Alerts", "alerts")
	v := views.AlertsView{CanEdit: p.User != nil && p.User.CanEdit}
	for _, f := range firing {
		d := f.Event.Detail()
		since := f.State.StartedAt
		v.Firing = append(v.Firing, views.AlertRow{SLO: titleOf(d), SLOHref: sloAtLink(f.State.SLOID, since, now), Service: d.SLO.Service,
			What: eventText(f.Event), Severity: string(f.State.Severity), Since: when(&since, now, loc)})
	}
	for _, s := range sil {
		if s.Active(now) {
			v.Silenced = append(v.Silenced, views.SilencedRow{Scope: silenceScope(s.ServiceID, s.SLOID, svc, slo), Until: when(&s.EndsAt, now, loc), Why: s.Reason})
		}
	}
	for _, m := range maint {
		if !now.Before(m.StartsAt) && now.Before(m.EndsAt) {
			v.Silenced = append(v.Silenced, views.SilencedRow{Scope: scopeText(m.ServiceID, m.SLOID, svc, slo), Until: when(&m.EndsAt, now, loc), Why: "maintenance: " + m.Reason})
		}
	}
	for _, e := range hist {
		d := e.Detail()
		at := e.DataTime
		v.History = append(v.History, views.AlertRow{SLO: titleOf(d), SLOHref: sloAtLink(e.SLOID, at, now), Service: d.SLO.Service,
			What: eventText(e.AlertEvent), Severity: string(e.Severity), Status: string(e.Status), At: when(&at, now, loc),
			When: "the chart shows " + when(&at, now, loc), Delivered: deliveredText(e), Resolved: e.Status == models.AlertResolved})
	}
	if len(hist) == alertPage {
		v.More = "/alerts?before=" + itoa(hist[len(hist)-1].ID)
	}
	h.render(c, http.StatusOK, views.AlertsPage(p, v))
}

func titleOf(d models.EventDetail) string {
	if d.SLO.DisplayName != "" {
		return d.SLO.DisplayName
	}
	return d.SLO.Name
}

func silenceScope(serviceID, sloID *int64, svc, slo map[int64]string) string {
	if serviceID == nil && sloID == nil {
		return "every SLO"
	}
	return scopeText(serviceID, sloID, svc, slo)
}

func deliveredText(e models.EventSummary) string {
	total := e.Sent + e.Pending + e.Failed + e.Dropped
	switch {
	case total == 0:
		return "no channel takes it"
	case e.Dropped == total:
		return "dropped: no longer held when checked before sending"
	}
	out := itoa(e.Sent) + " of " + itoa(total) + " channels"
	if e.Pending > 0 {
		out += ", " + itoa(e.Pending) + " retrying"
	}
	if e.Failed > 0 {
		out += ", " + itoa(e.Failed) + " failed"
	}
	return out
}

// alertJSON is an event as the API shows it.
type alertJSON struct {
	ID         string             `json:"id"`
	Episode    string             `json:"episode"`
	Status     models.AlertStatus `json:"status"`
	Kind       models.AlertKind   `json:"kind"`
	Severity   models.Severity    `json:"severity"`
	Tier       string             `json:"tier,omitempty"`
	SLOID      int64              `json:"slo_id"`
	SLOURL     string             `json:"slo_url"`
	StartedAt  time.Time          `json:"started_at"`
	DataTime   time.Time          `json:"data_time"`
	DecidedAt  time.Time          `json:"decided_at"`
	Detail     models.EventDetail `json:"detail"`
	Deliveries *deliveriesJSON    `json:"deliveries,omitempty"`
}

type deliveriesJSON struct {
	Sent, Pending, Failed, Dropped int
}

func toAlertJSON(e models.AlertEvent, base string) alertJSON {
	return alertJSON{ID: e.UID, Episode: e.Episode, Status: e.Status, Kind: e.Kind, Severity: e.Severity, Tier: e.Tier, SLOID: e.SLOID,
		SLOURL: base + sloAtLink(e.SLOID, e.DataTime, e.DataTime), StartedAt: e.StartedAt, DataTime: e.DataTime, DecidedAt: e.DecidedAt, Detail: e.Detail()}
}

func (h *Handler) listAlertsAPI(c *gin.Context) {
	firing, hist, _, _, err := h.alertsData(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := gin.H{"firing": []alertJSON{}, "events": []alertJSON{}}
	var f, ev []alertJSON
	for _, a := range firing {
		f = append(f, toAlertJSON(a.Event, h.cfg.BaseURL))
	}
	for _, e := range hist {
		j := toAlertJSON(e.AlertEvent, h.cfg.BaseURL)
		j.Deliveries = &deliveriesJSON{Sent: e.Sent, Pending: e.Pending, Failed: e.Failed, Dropped: e.Dropped}
		ev = append(ev, j)
	}
	if f != nil {
		out["firing"] = f
	}
	if ev != nil {
		out["events"] = ev
	}
	if len(hist) == alertPage {
		out["next"] = "/api/v1/alerts?before=" + itoa(hist[len(hist)-1].ID)
	}
	c.JSON(http.StatusOK, out)
}
