package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

func channelTypes() []views.Option {
	labels := map[models.ChannelType]string{models.ChannelWebhook: "Webhook (JSON, signed)", models.ChannelSlack: "Slack incoming webhook",
		models.ChannelTeams: "Microsoft Teams workflow webhook", models.ChannelEmail: "Email (SMTP)",
		models.ChannelPagerDuty: "PagerDuty Events API v2", models.ChannelAlertmanager: "Prometheus Alertmanager"}
	var out []views.Option
	for _, t := range models.ChannelTypes() {
		out = append(out, views.Option{Value: string(t), Label: labels[t]})
	}
	return out
}

func scopeOf(c models.Channel) string {
	var parts []string
	if s := c.ServiceList(); len(s) > 0 {
		parts = append(parts, "services "+strings.Join(s, ", "))
	}
	if t := c.TeamList(); len(t) > 0 {
		parts = append(parts, "teams "+strings.Join(t, ", "))
	}
	if len(parts) == 0 {
		return "every service"
	}
	return strings.Join(parts, " or ")
}

func severityText(s models.Severity) string {
	if s == models.SeverityPage {
		return "page only"
	}
	return "ticket and page"
}

func (h *Handler) listChannels(c *gin.Context) {
	h.channelsPage(c, http.StatusOK, views.ChannelForm{Type: string(models.ChannelWebhook), MinSeverity: "ticket"}, nil)
}

func (h *Handler) channelsPage(c *gin.Context, status int, form views.ChannelForm, errs map[string]string) {
	list, err := h.store.Channels(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	v := views.ChannelsView{Types: channelTypes(), Form: form, Errors: errs}
	for _, ch := range list {
		v.Rows = append(v.Rows, views.ChannelRow{ID: ch.ID, Name: ch.Name, Type: string(ch.Type), Where: ch.URLHint,
			MinSeverity: severityText(ch.MinSeverity), Scope: scopeOf(ch), LastSent: when(ch.LastSentAt, now, loc),
			LastError: ch.LastError, LastErrorAt: when(ch.LastErrorAt, now, loc)})
	}
	h.render(c, status, views.ChannelsPage(h.page(c, "Notification channels", "alerts"), v))
}

// channelForm reads the form; the URL and secret go into the input only (the page
// never shows them back).
func channelForm(c *gin.Context) (views.ChannelForm, models.ChannelInput) {
	f := views.ChannelForm{Name: c.PostForm("name"), Type: c.PostForm("type"), MinSeverity: c.PostForm("min_severity"),
		Services: c.PostForm("services"), Teams: c.PostForm("teams")}
	in := models.ChannelInput{Name: f.Name, Type: f.Type, URL: c.PostForm("url"), MinSeverity: f.MinSeverity,
		Services: []string{f.Services}, Teams: []string{f.Teams}}
	if s := c.PostForm("secret"); s != "" {
		in.Secret = &s
	}
	return f, in
}

func (h *Handler) createChannel(c *gin.Context) {
	form, in := channelForm(c)
	ch, err := h.store.CreateChannel(c.Request.Context(), actor(c), in)
	if errs, ok := formErrors(err); ok {
		h.channelsPage(c, http.StatusBadRequest, form, errs)
		return
	} else if err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/channels/"+itoa(ch.ID), flash{Text: "Saved."}, "")
}

func (h *Handler) showChannel(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	h.channelPage(c, id, http.StatusOK, nil, nil)
}

func (h *Handler) channelPage(c *gin.Context, id int64, status int, form *views.ChannelForm, errs map[string]string) {
	ctx := c.Request.Context()
	ch, err := h.store.Channel(ctx, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	ds, err := h.store.ChannelDeliveries(ctx, id, 50)
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	v := views.ChannelView{ID: ch.ID, Name: ch.Name, Type: string(ch.Type), Where: ch.URLHint, SecretHint: ch.SecretHint,
		MinSeverity: severityText(ch.MinSeverity), Scope: scopeOf(ch), LastSent: when(ch.LastSentAt, now, loc), LastError: ch.LastError,
		LastErrorAt: when(ch.LastErrorAt, now, loc), Types: channelTypes(), Errors: errs}
	if form != nil {
		v.Form = *form
	} else {
		v.Form = views.ChannelForm{Name: ch.Name, Type: string(ch.Type), MinSeverity: string(ch.MinSeverity),
			Services: strings.Join(ch.ServiceList(), ", "), Teams: strings.Join(ch.TeamList(), ", ")}
	}
	for _, d := range ds {
		decided := d.Event.DecidedAt
		row := views.ChannelDeliveryRow{At: when(&decided, now, loc), What: eventText(d.Event), State: d.State, Attempts: itoa(d.Attempts),
			Error: d.LastError, EventID: d.Event.UID, Failed: d.State == models.DeliveryFailed || (d.State == models.DeliveryPending && d.LastError != "")}
		if d.State == models.DeliveryPending && d.LastError != "" {
			row.State = "retrying"
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	h.render(c, status, views.ChannelPage(h.page(c, ch.Name, "alerts"), v))
}

func (h *Handler) updateChannel(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	form, in := channelForm(c)
	_, err := h.store.UpdateChannel(c.Request.Context(), actor(c), id, in)
	if errs, ok := formErrors(err); ok {
		h.channelPage(c, id, http.StatusBadRequest, &form, errs)
		return
	} else if err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/channels/"+itoa(id), flash{Text: "Saved."}, "")
}

func (h *Handler) testChannel(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	ev, err := h.store.QueueTest(c.Request.Context(), actor(c), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	if isAPI(c) {
		c.JSON(http.StatusAccepted, gin.H{"queued": true, "event_id": ev.UID,
			"message": "The test is queued; it is sent within seconds. Its outcome shows in the channel's deliveries."})
		return
	}
	h.redirect(c, "/channels/"+itoa(id), flash{Text: "Test queued: it goes out within seconds; its outcome shows under Recent messages."}, "")
}

func (h *Handler) deleteChannel(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.DeleteChannel(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	if isAPI(c) {
		c.Status(http.StatusNoContent)
		return
	}
	h.redirect(c, "/channels", flash{Text: "Deleted."}, "")
}

// eventText says in a few words what an event is about.
func eventText(e models.AlertEvent) string {
	switch e.Kind {
	case models.KindBurnRate:
		d := e.Detail()
		if d.Tier != nil {
			return "burn rate, " + e.Tier + " (" + burn(d.Tier.Factor) + " over " + span(d.Tier.LongWindow) + " and " + span(d.Tier.ShortWindow) + ")"
		}
		return "burn rate, " + e.Tier
	case models.KindStaleFeed:
		if d := e.Detail(); d.Feed != nil {
			return "feed " + d.Feed.Name + " late"
		}
		return "feed late"
	case models.KindBudgetExhausted:
		return "error budget exhausted"
	case models.KindTest:
		return "test message"
	}
	return string(e.Kind)
}

// sloAtLink is an SLO's page with the chart range that shows the moment at: the detail
// page draws ranges ending now, so the page names the moment beside the link.
func sloAtLink(id int64, at, now time.Time) string {
	r := "24h"
	switch age := now.Sub(at); {
	case age > 7*24*time.Hour:
		r = "window"
	case age > 24*time.Hour:
		r = "7d"
	}
	return "/slos/" + itoa(id) + "?range=" + r + "&at=" + at.UTC().Format(time.RFC3339)
}
