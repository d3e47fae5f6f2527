package handlers

import (
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// actor is the name that goes in the audit log.
func actor(c *gin.Context) string {
	p, _ := currentPrincipal(c)
	return p.Name
}

func (h *Handler) listSLOConfig(c *gin.Context) {
	ctx := c.Request.Context()
	services, err := h.store.Services(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	slos, err := h.store.SLOs(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.SLOListView{}
	idx := map[int64]int{}
	for _, s := range services {
		idx[s.ID] = len(v.Services)
		v.Services = append(v.Services, views.ServiceRow{ID: s.ID, Name: s.Name, Team: s.Team, Tier: s.Tier, About: s.Description})
	}
	now := h.now()
	for _, d := range slos {
		row := views.SLOConfigRow{ID: d.ID, Name: d.Name, Title: d.Title(), Binding: bindingText(d), Target: targetPct(d.Target(now)), Win: d.Window().String()}
		if d.Rederiving != nil {
			row.Rederiving = "recomputing history " + views.Percent(float64(d.Rederiving.Percent())/100, 0)
		}
		if i, ok := idx[d.ServiceID]; ok {
			v.Services[i].SLOs = append(v.Services[i].SLOs, row)
		}
	}
	h.render(c, http.StatusOK, views.SLOListPage(h.page(c, "SLOs", "slos"), v))
}

// bindingText says in a line what an SLO reads.
func bindingText(d models.SLODetail) string {
	b := d.Binding
	src := d.Feed.Name
	if b.Series != "" {
		src += " / " + b.Series
	}
	if b.Indicator == models.IndicatorThreshold {
		return src + ": " + b.ValueField + " " + opWord(b.Op) + " " + views.Value(b.Threshold)
	}
	if b.GoodField != "" {
		return src + ": " + b.GoodField + " / " + b.TotalField
	}
	return src + ": (" + b.TotalField + " − " + b.BadField + ") / " + b.TotalField
}

func (h *Handler) sloForm(c *gin.Context, status int, v views.SLOFormView) {
	ctx := c.Request.Context()
	services, err := h.store.Services(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	feeds, err := h.store.Feeds(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	for _, s := range services {
		v.Services = append(v.Services, s.Name)
	}
	if v.In.Feed == "" && len(feeds) == 1 {
		v.In.Feed = feeds[0].Name // the only feed there is
	}
	// Suggestions come from the chosen feed only: without JavaScript the page
	// cannot follow the select, so "Show this feed's series and fields"
	// reloads the form (a GET, keeping what was typed) for the feed chosen.
	for _, f := range feeds {
		v.Feeds = append(v.Feeds, f.Name)
		if f.Name == v.In.Feed {
			shape, err := h.store.FeedShape(ctx, f.ID)
			if err != nil {
				h.fail(c, err)
				return
			}
			v.SuggestFeed, v.Series, v.Fields = f.Name, shape.Series, shape.Fields
		}
	}
	v.SuggestURL = "/slos/new"
	if v.ID != 0 {
		v.SuggestURL = "/slos/" + itoa(v.ID) + "/edit"
	}
	v.Windows = []string{"7d", "28d", "30d", "90d", "month", "quarter"}
	v.TimeZones = commonZones
	h.render(c, status, views.SLOFormPage(h.page(c, "SLO", "slos"), v))
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (h *Handler) newSLO(c *gin.Context) {
	if c.Query("suggest") != "" {
		h.sloForm(c, http.StatusOK, views.SLOFormView{In: formInput(readSLOInput(c.Query))})
		return
	}
	h.sloForm(c, http.StatusOK, views.SLOFormView{In: views.SLOFormInput{Service: c.Query("service"), Indicator: "ratio",
		Target: "99.9", Window: "28d", TimeZone: "UTC"}})
}

func (h *Handler) editSLO(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	d, err := h.store.SLO(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	in := d.Input()
	if c.Query("suggest") != "" {
		in = readSLOInput(c.Query) // what was typed, back with the chosen feed's suggestions
	}
	h.sloForm(c, http.StatusOK, views.SLOFormView{ID: id, In: formInput(in)})
}

// readSLOInput reads the SLO form's fields (from the POST, or from the GET
// that asks for a feed's suggestions).
func readSLOInput(get func(string) string) models.SLOInput {
	in := models.SLOInput{}
	for name, dst := range map[string]*string{"service": &in.Service, "name": &in.Name, "display_name": &in.DisplayName,
		"description": &in.Description, "indicator": &in.Indicator, "target": &in.Target, "window": &in.Window,
		"time_zone": &in.TimeZone, "feed": &in.Feed, "series": &in.Series, "good_field": &in.GoodField,
		"bad_field": &in.BadField, "total_field": &in.TotalField, "value_field": &in.ValueField, "op": &in.Op,
		"threshold": &in.Threshold, "latency_fields": &in.LatencyFields,
		"budgeting_method": &in.Budgeting, "time_slice_target": &in.SliceTarget} {
		*dst = get(name)
	}
	return in
}

// saveSLO creates (no id) or updates an SLO from the form.
func (h *Handler) saveSLO(c *gin.Context) {
	ctx := c.Request.Context()
	in := readSLOInput(c.PostForm)
	// The form shows both indicators' fields; only the chosen one's count.
	if in.Indicator == string(models.IndicatorThreshold) {
		in.GoodField, in.BadField, in.TotalField = "", "", ""
	} else {
		in.ValueField, in.Threshold = "", ""
	}
	var id int64
	if c.Param("id") != "" {
		var ok bool
		if id, ok = h.idParam(c, "id"); !ok {
			return
		}
	}
	var d models.SLODetail
	var warnings []string
	var err error
	if id == 0 {
		d, warnings, err = h.store.CreateSLO(ctx, actor(c), in)
	} else {
		d, warnings, err = h.store.UpdateSLO(ctx, actor(c), id, in)
	}
	if errs, ok := formErrors(err); ok {
		h.sloForm(c, http.StatusBadRequest, views.SLOFormView{ID: id, In: formInput(in), Errors: errs})
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	f := flash{Text: "SLO " + d.Title() + " saved."}
	if len(warnings) > 0 {
		f.Kind, f.Text, f.Notes = "warn", "SLO "+d.Title()+" saved, but check:", warnings
	}
	h.redirect(c, "/slos/"+itoa(d.ID), f, "")
}

func formInput(in models.SLOInput) views.SLOFormInput {
	return views.SLOFormInput{Service: in.Service, Name: in.Name, DisplayName: in.DisplayName, Description: in.Description,
		Indicator: in.Indicator, Target: in.Target, Window: in.Window, TimeZone: in.TimeZone, Feed: in.Feed, Series: in.Series,
		GoodField: in.GoodField, BadField: in.BadField, TotalField: in.TotalField, ValueField: in.ValueField, Op: in.Op,
		Threshold: in.Threshold, LatencyFields: in.LatencyFields, Budgeting: in.Budgeting, SliceTarget: in.SliceTarget}
}

func (h *Handler) confirmDeleteSLO(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	d, err := h.store.SLO(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.ConfirmPage(h.page(c, "Delete SLO", "slos"), views.ConfirmView{
		Heading: "Delete " + d.Title() + "?",
		Message: "Its derived history, targets, maintenance windows and annotations go with it. The feed and its rows stay; you can define the SLO again and its history will be recomputed.",
		Action:  "/slos/" + itoa(id) + "/delete", Cancel: "/slos/" + itoa(id), Button: "Delete SLO"}))
}

func (h *Handler) deleteSLO(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.DeleteSLO(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/slos", flash{Text: "SLO deleted."}, "")
}

func itoa[T int | int64](n T) string { return views.Itoa(int64(n)) }
