package handlers

import (
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

// The JSON API for feeds, maintenance windows, annotations, the audit log
// and API tokens: what the SRE and admin pages do, for scripts.

func (h *Handler) saveFeedAPI(c *gin.Context) {
	var in struct {
		Name        string `json:"name"`
		Interval    string `json:"interval"`
		SeriesField string `json:"series_field"`
		TimeField   string `json:"time_field"`
		// SamplePolicy is "replace" (default) or "add".
		SamplePolicy string `json:"sample_policy"`
		// RetentionDays keeps the feed's samples fewer days than the installation.
		RetentionDays *int `json:"retention_days"`
	}
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	fin := models.FeedInput{Name: in.Name, Interval: in.Interval, SeriesField: in.SeriesField, TimeField: in.TimeField, SamplePolicy: in.SamplePolicy}
	if in.RetentionDays != nil {
		fin.RetentionDays = strconv.Itoa(*in.RetentionDays)
	}
	ctx := c.Request.Context()
	if c.Param("id") != "" {
		id, ok := h.idParam(c, "id")
		if !ok {
			return
		}
		f, err := h.store.UpdateFeed(ctx, id, fin)
		if err != nil {
			h.fail(c, err)
			return
		}
		h.tokens.forget()
		c.JSON(http.StatusOK, f)
		return
	}
	f, err := h.store.CreateFeed(ctx, fin)
	if err != nil {
		h.fail(c, err)
		return
	}
	plain, t, err := h.store.CreateFeedToken(ctx, f.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"feed": f, "token": t, "webhook_url": h.cfg.BaseURL + "/hooks/splunk/" + plain})
}

func (h *Handler) deleteFeedAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.DeleteFeed(c.Request.Context(), id); err != nil {
		h.fail(c, err)
		return
	}
	h.tokens.forget()
	c.Status(http.StatusNoContent)
}

func (h *Handler) createFeedTokenAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	plain, t, err := h.store.CreateFeedToken(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": t, "webhook_url": h.cfg.BaseURL + "/hooks/splunk/" + plain})
}

func (h *Handler) revokeFeedTokenAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	tid, ok := h.idParam(c, "token")
	if !ok {
		return
	}
	if err := h.store.RevokeFeedToken(c.Request.Context(), id, tid); err != nil {
		h.fail(c, err)
		return
	}
	h.tokens.forget()
	c.Status(http.StatusNoContent)
}

// previewFeedAPI answers what a body would become, storing nothing.
func (h *Handler) previewFeedAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	f, err := h.store.Feed(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.cfg.IngestMaxBytes))
	if err != nil {
		h.fail(c, models.Errorf(models.ETOOLARGE, "body is over the %d-byte limit", h.cfg.IngestMaxBytes))
		return
	}
	p, err := h.store.PreviewBody(c.Request.Context(), f, body, c.GetHeader("Content-Type"), h.now(), h.cfg.IngestMaxRows)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (h *Handler) listMaintenanceAPI(c *gin.Context) {
	list, err := h.store.Maintenances(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"maintenance": list})
}

func (h *Handler) createMaintenanceAPI(c *gin.Context) {
	var in models.MaintenanceInput
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	m, err := h.store.CreateMaintenance(c.Request.Context(), actor(c), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

func (h *Handler) listAnnotationsAPI(c *gin.Context) {
	limit, err := intQuery(c, "limit", 100)
	if err != nil {
		h.fail(c, err)
		return
	}
	list, err := h.store.Annotations(c.Request.Context(), limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"annotations": list})
}

// createAnnotationAPI is what CI pipelines call on deploy.
func (h *Handler) createAnnotationAPI(c *gin.Context) {
	var in models.AnnotationInput
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	a, err := h.store.CreateAnnotation(c.Request.Context(), actor(c), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, a)
}

func (h *Handler) listAuditAPI(c *gin.Context) {
	q := models.AuditQuery{Entity: c.Query("entity")}
	before, err := intQuery(c, "before", 0)
	if err != nil {
		h.fail(c, err)
		return
	}
	q.BeforeID = int64(before)
	if q.Limit, err = intQuery(c, "limit", 100); err != nil {
		h.fail(c, err)
		return
	}
	if id := c.Query("entity_id"); id != "" {
		q.EntityID, _ = strconv.ParseInt(id, 10, 64)
	}
	list, err := h.store.Audit(c.Request.Context(), q)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"audit": list})
}
