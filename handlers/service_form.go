package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

func (h *Handler) newService(c *gin.Context) {
	h.render(c, http.StatusOK, views.ServiceFormPage(h.page(c, "New service", "slos"), views.ServiceFormView{}))
}

func (h *Handler) editService(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	s, err := h.store.Service(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.ServiceFormPage(h.page(c, "Edit service", "slos"),
		views.ServiceFormView{ID: id, Name: s.Name, Team: s.Team, Tier: s.Tier, Description: s.Description, CanDelete: true}))
}

func (h *Handler) saveService(c *gin.Context) {
	in := models.ServiceInput{Name: c.PostForm("name"), Team: c.PostForm("team"), Tier: c.PostForm("tier"), Description: c.PostForm("description")}
	var id int64
	if c.Param("id") != "" {
		var ok bool
		if id, ok = h.idParam(c, "id"); !ok {
			return
		}
	}
	var svc models.Service
	var err error
	if id == 0 {
		svc, err = h.store.CreateService(c.Request.Context(), actor(c), in)
	} else {
		svc, err = h.store.UpdateService(c.Request.Context(), actor(c), id, in)
	}
	if errs, ok := formErrors(err); ok {
		h.render(c, http.StatusBadRequest, views.ServiceFormPage(h.page(c, "Service", "slos"), views.ServiceFormView{ID: id, Name: in.Name,
			Team: in.Team, Tier: in.Tier, Description: in.Description, Errors: errs, CanDelete: id != 0}))
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/slos", flash{Text: "Service " + svc.Name + " saved."}, "")
}

func (h *Handler) confirmDeleteService(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	s, err := h.store.Service(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.ConfirmPage(h.page(c, "Delete service", "slos"), views.ConfirmView{
		Heading: "Delete service " + s.Name + "?", Message: "Only a service without SLOs can be deleted.",
		Action: "/services/" + itoa(id) + "/delete", Cancel: "/slos", Button: "Delete service"}))
}

func (h *Handler) deleteService(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.DeleteService(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/slos", flash{Text: "Service deleted."}, "")
}
