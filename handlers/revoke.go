package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// Revoking a token asks first, on a page that says what stops working: GET
// .../revoke shows it, and its form's POST (with confirm=yes) revokes. A POST
// without the confirmation (an old page's button) is sent to ask.

// confirmed reports whether a revoke POST came from its confirmation page;
// if not, it sends the browser there.
func confirmed(c *gin.Context) bool {
	if c.PostForm("confirm") == "yes" {
		return true
	}
	c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
	return false
}

// lastUsed says when a token was last presented, for the confirmation.
func lastUsed(t *time.Time, now time.Time, loc *time.Location) string {
	if t == nil {
		return "It has never been used."
	}
	return "It was last used " + views.DateTime(*t, now, loc) + " (" + ago(now, *t) + ")."
}

// confirmRevokeFeedToken: what a feed's webhook token does, and who stops
// reaching the feed without it.
func (h *Handler) confirmRevokeFeedToken(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	tid, ok := h.idParam(c, "token")
	if !ok {
		return
	}
	feeds, err := h.store.Feeds(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	feed := findFeed(feeds, id)
	var tok *models.FeedToken
	active := 0
	if feed != nil {
		for i, t := range feed.Tokens {
			if t.RevokedAt == nil {
				active++
				if t.ID == tid {
					tok = &feed.Tokens[i]
				}
			}
		}
	}
	if tok == nil {
		h.fail(c, models.Errorf(models.ENOTFOUND, "Feed %d has no active token %d: it was revoked already, or never existed.", id, tid))
		return
	}
	slos, err := h.store.SLOs(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	var reading []string
	for _, d := range slos {
		if d.Feed.ID == id {
			reading = append(reading, d.Title())
		}
	}
	now, loc := h.now(), h.location(c)
	v := views.ConfirmView{
		Heading: fmt.Sprintf("Revoke webhook token %s of feed %s?", tok.Hint, feed.Name),
		Message: fmt.Sprintf("Splunk's report posting with %s will get 404 and its deliveries will be lost: Splunk never retries a webhook.", tok.Hint),
		Action:  fmt.Sprintf("/feeds/%d/tokens/%d/revoke", id, tid), Cancel: fmt.Sprintf("/feeds/%d", id), Button: "Revoke token " + tok.Hint,
	}
	v.Consequences = append(v.Consequences, lastUsed(tok.LastUsedAt, now, loc))
	if active == 1 {
		v.Consequences = append(v.Consequences, "This is the feed's only active token: nothing can post to "+feed.Name+
			" until you create a new token and put its URL into Splunk. To rotate, create the new token first, update Splunk, then revoke this one.")
	} else {
		v.Consequences = append(v.Consequences, fmt.Sprintf("The feed keeps %d other active token(s); only a report still using %s stops reaching it.", active-1, tok.Hint))
	}
	if len(reading) > 0 {
		v.Consequences = append(v.Consequences, "SLOs that read "+feed.Name+" go stale if its data stops: "+strings.Join(reading, ", ")+".")
	}
	h.render(c, http.StatusOK, views.ConfirmPage(h.page(c, "Revoke token", "feeds"), v))
}

func (h *Handler) revokeFeedToken(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	tid, ok := h.idParam(c, "token")
	if !ok || !confirmed(c) {
		return
	}
	if err := h.store.RevokeFeedToken(c.Request.Context(), id, tid); err != nil {
		h.fail(c, err)
		return
	}
	h.tokens.forget()
	h.log.InfoContext(c.Request.Context(), "feed token revoked", "feed_id", id, "token_id", tid, "by", actor(c))
	h.redirect(c, fmt.Sprintf("/feeds/%d", id), flash{Text: "Token revoked: posts with it now get 404."}, "")
}

// confirmRevokeToken: who uses an API token, and what they get once it is revoked.
func (h *Handler) confirmRevokeToken(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	list, err := h.store.APITokens(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	var tok *models.APIToken
	for i := range list {
		if list[i].ID == id && list[i].RevokedAt == nil {
			tok = &list[i]
		}
	}
	if tok == nil {
		h.fail(c, models.Errorf(models.ENOTFOUND, "There is no active API token %d: it was revoked already, or never existed.", id))
		return
	}
	v := views.ConfirmView{
		Heading: fmt.Sprintf("Revoke API token %s (%s)?", tok.Name, tok.Hint),
		Message: fmt.Sprintf("Scripts and CI jobs sending %s get 401 Unauthorized from their next request: deploy annotations and SLO changes they make stop.", tok.Hint),
		Action:  fmt.Sprintf("/admin/tokens/%d/revoke", id), Cancel: "/admin/tokens", Button: "Revoke token " + tok.Name,
		Consequences: []string{"Its role is " + string(tok.Role) + "; it was created by " + tok.CreatedBy + ".", lastUsed(tok.LastUsedAt, h.now(), h.location(c))},
	}
	h.render(c, http.StatusOK, views.ConfirmPage(h.page(c, "Revoke API token", "admin"), v))
}

func (h *Handler) revokeToken(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok || (!isAPI(c) && !confirmed(c)) {
		return
	}
	if err := h.store.RevokeAPIToken(c.Request.Context(), id); err != nil {
		h.fail(c, err)
		return
	}
	h.log.InfoContext(c.Request.Context(), "api token revoked", "token_id", id, "by", actor(c))
	if isAPI(c) {
		c.Status(http.StatusNoContent)
		return
	}
	h.redirect(c, "/admin/tokens", flash{Text: "API token revoked: requests with it now get 401."}, "")
}

// confirmRevokeKiosk: which wall screen goes dark, and when.
func (h *Handler) confirmRevokeKiosk(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	list, err := h.store.KioskLinks(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	var k *models.KioskLink
	for i := range list {
		if list[i].ID == id && list[i].RevokedAt == nil {
			k = &list[i]
		}
	}
	if k == nil {
		h.fail(c, models.Errorf(models.ENOTFOUND, "There is no active kiosk link %d: it was revoked already, or never existed.", id))
		return
	}
	v := views.ConfirmView{
		Heading: fmt.Sprintf("Revoke the kiosk link of %s (%s)?", k.Name, k.Hint),
		Message: fmt.Sprintf("The screen showing %s loses the TV view at its next refresh, within a minute, and says its link was revoked. It needs a new link to show SLOs again.", k.Name),
		Action:  fmt.Sprintf("/admin/kiosk/%d/revoke", id), Cancel: "/admin/kiosk", Button: "Revoke link " + k.Name,
		Consequences: []string{lastUsed(k.LastUsedAt, h.now(), h.location(c))},
	}
	h.render(c, http.StatusOK, views.ConfirmPage(h.page(c, "Revoke kiosk link", "admin"), v))
}

func (h *Handler) revokeKiosk(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok || !confirmed(c) {
		return
	}
	if err := h.store.RevokeKioskLink(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/admin/kiosk", flash{Text: "Kiosk link revoked: its screen stops at its next refresh."}, "")
}
