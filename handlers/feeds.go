package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

func (h *Handler) listFeeds(c *gin.Context) {
	feeds, err := h.store.Feeds(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	now := h.now()
	rows := make([]views.FeedRow, len(feeds))
	for i, f := range feeds {
		r := views.FeedRow{ID: f.ID, Name: f.Name, Interval: span(f.Interval()), SeriesField: f.SeriesField, TimeField: f.TimeField,
			LastDelivery: "never", Never: f.LastDeliveryAt == nil, Late: f.Late(now), Deliveries24h: f.Deliveries24h, Rejected24h: f.Rejected24h}
		if f.LastDeliveryAt != nil {
			r.LastDelivery = ago(now, *f.LastDeliveryAt)
		}
		for _, t := range f.Tokens {
			if t.RevokedAt == nil {
				r.ActiveTokens++
			}
		}
		rows[i] = r
	}
	h.render(c, http.StatusOK, views.FeedsPage(h.page(c, "Feeds", "feeds"), rows))
}

func (h *Handler) newFeed(c *gin.Context) {
	h.render(c, http.StatusOK, views.FeedNewPage(h.page(c, "New feed", "feeds"), views.FeedFormView{Interval: "5m", TimeField: "_time"}))
}

func feedInput(c *gin.Context) models.FeedInput {
	return models.FeedInput{Name: c.PostForm("name"), Interval: c.PostForm("interval"), SeriesField: c.PostForm("series_field"),
		TimeField: c.PostForm("time_field"), SamplePolicy: c.PostForm("sample_policy"), RetentionDays: c.PostForm("retention_days")}
}

// formErrors is what a form marks when its input is refused: every field at
// fault (an error without a field goes on name), or false for other errors.
func formErrors(err error) (map[string]string, bool) {
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		out := map[string]string{}
		for _, e := range fe {
			addFormError(out, e)
		}
		return out, true
	}
	var me *models.Error
	if errors.As(err, &me) && (me.Code == models.EINVALID || me.Code == models.ECONFLICT) {
		out := map[string]string{}
		addFormError(out, me)
		return out, true
	}
	return nil, false
}

func addFormError(out map[string]string, e *models.Error) {
	field := e.Field
	if field == "" {
		field = "name"
	}
	if out[field] == "" {
		out[field] = e.Message
	}
}

func (h *Handler) createFeed(c *gin.Context) {
	ctx := c.Request.Context()
	in := feedInput(c)
	f, err := h.store.CreateFeed(ctx, in)
	if errs, ok := formErrors(err); ok {
		h.render(c, http.StatusBadRequest, views.FeedNewPage(h.page(c, "New feed", "feeds"),
			views.FeedFormView{Name: in.Name, Interval: in.Interval, SeriesField: in.SeriesField, TimeField: in.TimeField, SamplePolicy: in.SamplePolicy,
				RetentionDays: in.RetentionDays, Errors: errs}))
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.log.InfoContext(ctx, "feed created", "feed", f.Name, "by", actor(c))
	h.addToken(c, f.ID, "Feed "+f.Name+" created.")
}

// addToken creates a webhook token and answers with the feed's page, which
// shows its URL once.
func (h *Handler) addToken(c *gin.Context, feedID int64, text string) {
	plain, _, err := h.store.CreateFeedToken(c.Request.Context(), feedID)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/feeds/"+itoa(feedID), flash{Text: text, Secret: h.cfg.BaseURL + "/hooks/splunk/" + plain}, "")
}

func (h *Handler) createFeedToken(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	h.addToken(c, id, "New webhook token created.")
}

func (h *Handler) updateFeed(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	in := feedInput(c)
	_, err := h.store.UpdateFeed(c.Request.Context(), id, in)
	if errs, ok := formErrors(err); ok {
		c.Set("feedFormErrors", errs)
		h.showFeedWith(c, id)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.tokens.forget()
	h.redirect(c, fmt.Sprintf("/feeds/%d", id), flash{Text: "Feed settings saved."}, "")
}

func (h *Handler) showFeed(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	h.showFeedWith(c, id)
}

func (h *Handler) showFeedWith(c *gin.Context, id int64) {
	ctx := c.Request.Context()
	feeds, err := h.store.Feeds(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	f := findFeed(feeds, id)
	if f == nil {
		h.fail(c, models.Errorf(models.ENOTFOUND, "Feed %d does not exist.", id))
		return
	}
	loc, now := h.location(c), h.now()
	v := views.FeedView{Outcome: c.Query("outcome"),
		Form: views.FeedFormView{ID: f.ID, Name: f.Name, Interval: shortDuration(f.Interval()), SeriesField: f.SeriesField, TimeField: f.TimeField,
			SamplePolicy: f.SamplePolicy, RetentionDays: retentionText(f.RetentionDays)}}
	if f, ok := h.takeFlash(c); ok {
		v.NewURL = f.Secret // a token just created, shown once
	}
	if errs, ok := c.Get("feedFormErrors"); ok {
		v.Form.Errors = errs.(map[string]string)
		v.Form.Name, v.Form.Interval, v.Form.SeriesField, v.Form.TimeField = c.PostForm("name"), c.PostForm("interval"), c.PostForm("series_field"), c.PostForm("time_field")
		v.Form.SamplePolicy, v.Form.RetentionDays = c.PostForm("sample_policy"), c.PostForm("retention_days")
	}
	if f.Late(now) {
		v.Late = true
		v.LateText = fmt.Sprintf("Late: the last delivery was %s, and the report runs every %s. Check that the Splunk report is enabled and its webhook action points here; Splunk logs failed webhooks in index=_internal sendmodalert.",
			ago(now, *f.LastDeliveryAt), span(f.Interval()))
	}
	sort.SliceStable(f.Tokens, func(i, j int) bool { return f.Tokens[i].ID > f.Tokens[j].ID })
	for _, t := range f.Tokens {
		row := views.TokenRow{ID: t.ID, Hint: t.Hint, Created: when(&t.CreatedAt, now, loc), LastUsed: when(t.LastUsedAt, now, loc)}
		if t.RevokedAt != nil {
			row.Revoked = when(t.RevokedAt, now, loc)
		}
		v.Tokens = append(v.Tokens, row)
	}
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	ds, err := h.store.Deliveries(ctx, id, models.DeliveryQuery{Limit: 30, BeforeID: before, Outcome: v.Outcome})
	if err != nil {
		h.fail(c, err)
		return
	}
	for _, d := range ds {
		row := views.DeliveryRow{ID: d.ID, At: when(&d.ReceivedAt, now, loc), Outcome: d.Outcome, OutcomeClass: outcomeClass(d.Outcome),
			Shape: d.Shape, SID: d.SID, Status: deliveryStatus(d.Outcome, d.Code), Rows: d.RowsTotal, Accepted: d.Accepted, Duplicates: d.Duplicates,
			Rejected: d.Rejected, Replaced: d.Replaced, Error: d.Error, Truncated: d.BodyTruncated, BodyBytes: d.BodyBytes,
			BodyHref: fmt.Sprintf("/feeds/%d/deliveries/%d", id, d.ID), Quarantined: d.Outcome == models.OutcomeQuarantined}
		for i, r := range d.RejectionList() {
			if i == 5 {
				row.Rejections = append(row.Rejections, fmt.Sprintf("… and %d more", len(d.RejectionList())-5))
				break
			}
			row.Rejections = append(row.Rejections, fmt.Sprintf("row %d: %s", r.Row, r.Reason))
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	if len(ds) == 30 {
		v.MoreHref = fmt.Sprintf("/feeds/%d?before=%d&outcome=%s", id, ds[len(ds)-1].ID, v.Outcome)
	}
	h.render(c, http.StatusOK, views.FeedPage(h.page(c, f.Name, "feeds"), v))
}

// findFeed picks a feed out of the list, or nil.
func findFeed(feeds []models.FeedSummary, id int64) *models.FeedSummary {
	for i := range feeds {
		if feeds[i].ID == id {
			return &feeds[i]
		}
	}
	return nil
}

func outcomeClass(o string) string {
	switch o {
	case models.OutcomeRejected, models.OutcomeRefused:
		return "bad"
	case models.OutcomePartial, models.OutcomeSpooled, models.OutcomeQuarantined:
		return "warn"
	}
	return ""
}

func (h *Handler) previewFeed(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	f, err := h.store.Feed(ctx, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.PreviewView{FeedID: f.ID, FeedName: f.Name, CType: c.PostForm("ctype"), Body: c.PostForm("body")}
	status := http.StatusOK
	if c.Request.Method == http.MethodPost {
		p, err := h.store.PreviewBody(ctx, f, []byte(v.Body), v.CType, h.now(), h.cfg.IngestMaxRows)
		if err != nil && models.ErrorCode(err) != models.EINVALID && models.ErrorCode(err) != models.ETOOLARGE {
			h.fail(c, err)
			return
		}
		if err != nil {
			v.Error, status = models.ErrorMessage(err), http.StatusBadRequest
		} else {
			fillPreview(&v, p, h.now(), h.location(c))
		}
	}
	h.render(c, status, views.PreviewPage(h.page(c, "Try a payload", "feeds"), v))
}

func fillPreview(v *views.PreviewView, p models.Preview, now time.Time, loc *time.Location) {
	v.Shown, v.Shape, v.SID = true, p.Shape, p.SID
	fields := map[string]bool{}
	for _, r := range p.Rows {
		for k := range r.Fields {
			fields[k] = true
		}
	}
	v.Fields = keys(fields)
	for _, r := range p.Rows {
		row := views.PreviewRowView{Index: r.Index, Time: views.RowTime(r.Time, now, loc), Source: r.TimeSource, Series: r.Series}
		for _, f := range v.Fields {
			if x, ok := r.Fields[f]; ok {
				row.Values = append(row.Values, views.Value(x))
			} else {
				row.Values = append(row.Values, "")
			}
		}
		v.Rows = append(v.Rows, row)
	}
	for _, r := range p.Rejected {
		v.Rejected = append(v.Rejected, fmt.Sprintf("row %d: %s", r.Row, r.Reason))
	}
	for _, x := range p.Points {
		v.Points = append(v.Points, fmt.Sprintf("row %d → %s: %s good of %s", x.Row, x.SLO, views.Count(x.Good), views.Count(x.Total)))
	}
}

// shortDuration writes a duration as people type it: 5m, 1h30m, 45s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// showDeliveryBody is one delivery's raw body as Splunk sent it, as plain text:
// bodies are shown one at a time, never listed.
func (h *Handler) showDeliveryBody(c *gin.Context) {
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
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="delivery-%d.txt"`, d.ID))
	c.Data(http.StatusOK, "text/plain; charset=utf-8", d.Body)
}

// replayDelivery stores a quarantined delivery again and goes back to the feed.
func (h *Handler) replayDelivery(c *gin.Context) {
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
	text := fmt.Sprintf("Delivery %d replayed: %s new, %s replaced, %s duplicate, %s rejected rows.", id,
		views.Count(res.Accepted), views.Count(res.Replaced), views.Count(res.Duplicates), views.Count(len(res.Rejected)))
	h.redirect(c, fmt.Sprintf("/feeds/%d?outcome=%s", feed, models.OutcomeReplayed), flash{Text: text}, "")
}

func retentionText(days *int) string {
	if days == nil {
		return ""
	}
	return strconv.Itoa(*days)
}
