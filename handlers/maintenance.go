package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

const localInput = "2006-01-02T15:04"

// scopeOptions lists SLOs and services for "for" selects: "slo:ID", "service:ID".
func (h *Handler) scopeOptions(c *gin.Context) ([]views.Option, map[int64]string, map[int64]string, error) {
	ctx := c.Request.Context()
	services, err := h.store.Services(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	slos, err := h.store.SLOs(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	var opts []views.Option
	svcName, sloName := map[int64]string{}, map[int64]string{}
	for _, s := range services {
		svcName[s.ID] = s.Name
		opts = append(opts, views.Option{Value: "service:" + itoa(s.ID), Label: "Service " + s.Name + " (all its SLOs)"})
	}
	for _, d := range slos {
		sloName[d.ID] = d.Title()
		opts = append(opts, views.Option{Value: "slo:" + itoa(d.ID), Label: "SLO " + d.Title()})
	}
	return opts, svcName, sloName, nil
}

func parseScope(v string) (serviceID, sloID *int64) {
	kind, id, ok := strings.Cut(v, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil {
		return nil, nil
	}
	if kind == "service" {
		return &n, nil
	}
	return nil, &n
}

func scopeText(serviceID, sloID *int64, svc, slo map[int64]string) string {
	switch {
	case sloID != nil:
		return "SLO " + slo[*sloID]
	case serviceID != nil:
		return "service " + svc[*serviceID]
	}
	return "every chart"
}

func (h *Handler) listMaintenance(c *gin.Context) {
	h.maintenancePage(c, http.StatusOK, views.MaintenanceForm{}, nil)
}

func (h *Handler) maintenancePage(c *gin.Context, status int, form views.MaintenanceForm, errs map[string]string) {
	opts, svc, slo, err := h.scopeOptions(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	list, err := h.store.Maintenances(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	v := views.MaintenanceView{Targets: opts, Form: form, Errors: errs, Zone: loc.String()}
	for _, m := range list {
		v.Rows = append(v.Rows, views.MaintenanceRow{ID: m.ID, Scope: scopeText(m.ServiceID, m.SLOID, svc, slo),
			Starts: when(&m.StartsAt, now, loc), Ends: when(&m.EndsAt, now, loc), Reason: m.Reason, By: m.CreatedBy,
			Current: !now.Before(m.StartsAt) && now.Before(m.EndsAt)})
	}
	h.render(c, status, views.MaintenancePage(h.page(c, "Maintenance", "slos"), v))
}

func (h *Handler) createMaintenance(c *gin.Context) {
	loc := h.location(c)
	form := views.MaintenanceForm{Target: c.PostForm("target"), Starts: c.PostForm("starts_at"), Ends: c.PostForm("ends_at"), Reason: c.PostForm("reason")}
	in := models.MaintenanceInput{Reason: form.Reason}
	in.ServiceID, in.SLOID = parseScope(form.Target)
	var fe models.FieldErrors
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"starts_at", &in.StartsAt}, {"ends_at", &in.EndsAt}} {
		if t, ok := parseLocal(&fe, f.name, c.PostForm(f.name), loc); ok {
			*f.dst = t
		}
	}
	var err error
	if len(fe) > 0 {
		fe.AddErr(in.Validate()) // the other fields' errors too, all at once
		err = fe
	} else {
		_, err = h.store.CreateMaintenance(c.Request.Context(), actor(c), in)
	}
	if errs, ok := formErrors(err); ok {
		h.maintenancePage(c, http.StatusBadRequest, form, errs)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/maintenance", flash{Text: "Maintenance window added."}, "")
}

// parseLocal reads a datetime-local value in the viewer's zone; "" is the zero
// time (the model says whether the field is required).
func parseLocal(fe *models.FieldErrors, field, raw string, loc *time.Location) (time.Time, bool) {
	if raw == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation(localInput, raw, loc)
	if err != nil {
		fe.Add(field, "%q is not a date and time such as 2026-11-22T02:00", raw)
		return time.Time{}, false
	}
	return t, true
}

func (h *Handler) deleteMaintenance(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.DeleteMaintenance(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	if isAPI(c) {
		c.Status(http.StatusNoContent)
		return
	}
	h.redirect(c, "/maintenance", flash{Text: "Maintenance window removed."}, "")
}

func (h *Handler) listAnnotations(c *gin.Context) {
	h.annotationsPage(c, http.StatusOK, views.AnnotationForm{Kind: "deploy"}, nil)
}

func (h *Handler) annotationsPage(c *gin.Context, status int, form views.AnnotationForm, errs map[string]string) {
	opts, svc, slo, err := h.scopeOptions(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	list, err := h.store.Annotations(c.Request.Context(), 200)
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	v := views.AnnotationsView{Targets: opts, Form: form, Errors: errs, Zone: loc.String()}
	for _, a := range list {
		v.Rows = append(v.Rows, views.AnnotationRow{ID: a.ID, Kind: a.Kind, Title: a.Title, Scope: scopeText(a.ServiceID, a.SLOID, svc, slo),
			At: when(&a.At, now, loc), By: a.CreatedBy, Link: a.Link})
	}
	h.render(c, status, views.AnnotationsPage(h.page(c, "Annotations", "slos"), v))
}

func (h *Handler) createAnnotation(c *gin.Context) {
	ctx := c.Request.Context()
	form := views.AnnotationForm{Kind: c.PostForm("kind"), Title: c.PostForm("title"), Target: c.PostForm("target"), At: c.PostForm("at"), Link: c.PostForm("link")}
	in := models.AnnotationInput{Kind: form.Kind, Title: form.Title, Link: form.Link}
	svcID, sloID := parseScope(form.Target)
	var fe models.FieldErrors
	// A target that cannot be looked up must not turn the annotation into a
	// global one: a vanished target is the form's error, a failed lookup the
	// request's.
	if svcID != nil {
		s, err := h.store.Service(ctx, *svcID)
		switch {
		case err == nil:
			in.Service = s.Name
		case models.ErrorCode(err) == models.ENOTFOUND:
			fe.Add("slo", "That service no longer exists; pick another target.")
		default:
			h.fail(c, fmt.Errorf("look up service %d for an annotation: %w", *svcID, err))
			return
		}
	}
	if sloID != nil {
		d, err := h.store.SLO(ctx, *sloID)
		switch {
		case err == nil:
			in.SLO = d.Name
		case models.ErrorCode(err) == models.ENOTFOUND:
			fe.Add("slo", "That SLO no longer exists; pick another target.")
		default:
			h.fail(c, fmt.Errorf("look up SLO %d for an annotation: %w", *sloID, err))
			return
		}
	}
	if t, ok := parseLocal(&fe, "at", form.At, h.location(c)); ok && form.At != "" {
		in.At = &t
	}
	var err error
	if len(fe) > 0 {
		fe.AddErr(in.Validate()) // the other fields' errors too, all at once
		err = fe
	} else {
		_, err = h.store.CreateAnnotation(ctx, actor(c), in)
	}
	if errs, ok := formErrors(err); ok {
		h.annotationsPage(c, http.StatusBadRequest, form, errs)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/annotations", flash{Text: "Annotation added."}, "")
}

func (h *Handler) deleteAnnotation(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.DeleteAnnotation(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	if isAPI(c) {
		c.Status(http.StatusNoContent)
		return
	}
	h.redirect(c, "/annotations", flash{Text: "Annotation removed."}, "")
}

func (h *Handler) showAudit(c *gin.Context) {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	list, err := h.store.Audit(c.Request.Context(), models.AuditQuery{BeforeID: before, Limit: 100})
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	rows := make([]views.AuditRow, len(list))
	for i, e := range list {
		rows[i] = views.AuditRow{At: when(&e.At, now, loc), Actor: e.Actor, Action: e.Action, Entity: e.Entity, Summary: e.Summary,
			Before: indentJSON(e.Before), After: indentJSON(e.After)}
	}
	more := ""
	if len(list) == 100 {
		more = "/audit?before=" + itoa(list[99].ID)
	}
	h.render(c, http.StatusOK, views.AuditPage(h.page(c, "Audit log", "slos"), rows, more))
}

func indentJSON(s string) string {
	if s == "" {
		return ""
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
