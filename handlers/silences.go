package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

func (h *Handler) listSilences(c *gin.Context) {
	h.silencesPage(c, http.StatusOK, views.SilenceForm{Duration: "2h"}, nil)
}

func (h *Handler) silencesPage(c *gin.Context, status int, form views.SilenceForm, errs map[string]string) {
	opts, svc, slo, err := h.scopeOptions(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	list, err := h.store.Silences(c.Request.Context(), 200)
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	v := views.SilencesView{Targets: opts, Form: form, Errors: errs, Zone: loc.String()}
	for _, s := range list {
		v.Rows = append(v.Rows, views.SilenceRow{ID: s.ID, Scope: silenceScope(s.ServiceID, s.SLOID, svc, slo), Until: when(&s.EndsAt, now, loc),
			Reason: s.Reason, By: s.CreatedBy, Active: s.Active(now)})
	}
	h.render(c, status, views.SilencesPage(h.page(c, "Silences", "alerts"), v))
}

func (h *Handler) createSilence(c *gin.Context) {
	form := views.SilenceForm{Target: c.PostForm("target"), Duration: c.PostForm("duration"), Reason: c.PostForm("reason")}
	in := models.SilenceInput{Duration: form.Duration, Reason: form.Reason}
	if form.Target != "" {
		in.ServiceID, in.SLOID = parseScope(form.Target)
	}
	if in.Duration == "" {
		h.silencesPage(c, http.StatusBadRequest, form, map[string]string{"duration": "say how long, e.g. 2h: a silence always ends"})
		return
	}
	_, err := h.store.CreateSilence(c.Request.Context(), actor(c), in)
	if errs, ok := formErrors(err); ok {
		h.silencesPage(c, http.StatusBadRequest, form, errs)
		return
	} else if err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/silences", flash{Text: "Saved."}, "")
}

func (h *Handler) expireSilence(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.ExpireSilence(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	if isAPI(c) {
		c.Status(http.StatusNoContent)
		return
	}
	h.redirect(c, "/silences", flash{Text: "Saved."}, "")
}

func (h *Handler) listSilencesAPI(c *gin.Context) {
	list, err := h.store.Silences(c.Request.Context(), 500)
	if err != nil {
		h.fail(c, err)
		return
	}
	if list == nil {
		list = []models.Silence{}
	}
	c.JSON(http.StatusOK, gin.H{"silences": list})
}

func (h *Handler) createSilenceAPI(c *gin.Context) {
	var in models.SilenceInput
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	s, err := h.store.CreateSilence(c.Request.Context(), actor(c), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, s)
}
