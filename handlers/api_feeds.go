package handlers

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

func (h *Handler) listFeedsAPI(c *gin.Context) {
	feeds, err := h.store.Feeds(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"feeds": feeds})
}

func (h *Handler) showFeedAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	feeds, err := h.store.Feeds(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	for _, f := range feeds {
		if f.ID == id {
			c.JSON(http.StatusOK, f)
			return
		}
	}
	h.fail(c, models.Errorf(models.ENOTFOUND, "feed %d not found", id))
}

// deliveryJSON is a delivery as the API shows it. Listings leave the raw body
// out (body_url reads it, one at a time); alone, it is text, or base64 when it
// is not valid UTF-8.
type deliveryJSON struct {
	models.Delivery
	// Status is the HTTP status the sender was answered with.
	Status     int                `json:"status"`
	Body       string             `json:"body,omitempty"`
	BodyBase64 string             `json:"body_base64,omitempty"`
	BodyURL    string             `json:"body_url"`
	Rejections []models.Rejection `json:"rejections"`
}

func (h *Handler) listDeliveriesAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if _, err := h.store.Feed(c.Request.Context(), id); err != nil {
		h.fail(c, err)
		return
	}
	q := models.DeliveryQuery{Outcome: c.Query("outcome")}
	var err error
	if q.Limit, err = intQuery(c, "limit", 50); err != nil {
		h.fail(c, err)
		return
	}
	before, err := intQuery(c, "before", 0)
	if err != nil {
		h.fail(c, err)
		return
	}
	q.BeforeID = int64(before)
	list, err := h.store.Deliveries(c.Request.Context(), id, q)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]deliveryJSON, len(list))
	for i, d := range list {
		out[i] = toDeliveryJSON(d)
	}
	resp := gin.H{"deliveries": out}
	if len(list) == q.Limit && len(list) > 0 {
		resp["next"] = "?before=" + strconv.FormatInt(list[len(list)-1].ID, 10) + "&limit=" + strconv.Itoa(q.Limit)
	}
	c.JSON(http.StatusOK, resp)
}

func (h *Handler) listSamplesAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if _, err := h.store.Feed(c.Request.Context(), id); err != nil {
		h.fail(c, err)
		return
	}
	var q models.SampleQuery
	if s, ok := c.GetQuery("series"); ok {
		q.Series = &s
	}
	var err error
	if q.From, err = timeQuery(c, "from"); err != nil {
		h.fail(c, err)
		return
	}
	if q.To, err = timeQuery(c, "to"); err != nil {
		h.fail(c, err)
		return
	}
	if q.Limit, err = intQuery(c, "limit", 1000); err != nil {
		h.fail(c, err)
		return
	}
	if raw := c.Query("after"); raw != "" {
		var sec, series int64
		if _, err := fmt.Sscanf(raw, "%d.%d", &sec, &series); err != nil {
			h.fail(c, models.FieldErrorf("after", "after %q is not a cursor: pass the next_after of the previous page", raw))
			return
		}
		q.After = &models.SampleCursor{Time: time.Unix(sec, 0).UTC(), SeriesID: series}
	}
	list, err := h.store.Samples(c.Request.Context(), id, q)
	if err != nil {
		h.fail(c, err)
		return
	}
	resp := gin.H{"samples": list}
	if len(list) == q.Limit && len(list) > 0 {
		last := list[len(list)-1]
		resp["next_after"] = fmt.Sprintf("%d.%d", last.Time.Unix(), last.SeriesID)
	}
	c.JSON(http.StatusOK, resp)
}

// idParam reads a positive integer path parameter, answering 404 if it is not one.
func (h *Handler) idParam(c *gin.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		h.fail(c, models.Errorf(models.ENOTFOUND, "%s %q not found", name, c.Param(name)))
		return 0, false
	}
	return id, true
}

func intQuery(c *gin.Context, name string, def int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, models.FieldErrorf(name, "%s=%q is not a whole number ≥ 0", name, s)
	}
	return n, nil
}

// timeQuery reads RFC 3339 or epoch seconds.
func timeQuery(c *gin.Context, name string) (time.Time, error) {
	s := c.Query(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMicro(int64(f * 1e6)).UTC(), nil
	}
	return time.Time{}, models.FieldErrorf(name, "%s=%q: use RFC 3339 (2026-01-02T15:04:05Z) or epoch seconds", name, s)
}

func toDeliveryJSON(d models.Delivery) deliveryJSON {
	return deliveryJSON{Delivery: d, Status: deliveryStatus(d.Outcome, d.Code), Rejections: d.RejectionList(),
		BodyURL: fmt.Sprintf("/api/v1/feeds/%d/deliveries/%d", d.FeedID, d.ID)}
}

// showDeliveryAPI is one delivery with its raw body (SREs).
func (h *Handler) showDeliveryAPI(c *gin.Context) {
	feed, okF := h.idParam(c, "id")
	id, okD := h.idParam(c, "delivery")
	if !okF || !okD {
		return
	}
	d, err := h.store.Delivery(c.Request.Context(), feed, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := toDeliveryJSON(d)
	if utf8.Valid(d.Body) {
		out.Body = string(d.Body)
	} else {
		out.BodyBase64 = base64.StdEncoding.EncodeToString(d.Body)
	}
	c.JSON(http.StatusOK, out)
}

// replayDeliveryAPI stores a quarantined delivery again (SREs).
func (h *Handler) replayDeliveryAPI(c *gin.Context) {
	feed, okF := h.idParam(c, "id")
	id, okD := h.idParam(c, "delivery")
	if !okF || !okD {
		return
	}
	res, err := h.store.ReplayQuarantined(c.Request.Context(), feed, id, h.ingestOptions())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ingestAnswer{Accepted: res.Accepted, Replaced: res.Replaced, Duplicates: res.Duplicates,
		Rejected: res.Rejected, TimeFromReceipt: res.FromReceipt, OutsideWindow: res.OutsideWindow, DeliveryID: res.DeliveryID})
}
