package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

func (h *Handler) listTokens(c *gin.Context) {
	v := views.AdminTokensView{}
	if f, ok := h.takeFlash(c); ok {
		v.NewToken, v.NewName = f.Secret, f.Label // shown once
	}
	h.tokensPage(c, http.StatusOK, v)
}

func (h *Handler) tokensPage(c *gin.Context, status int, v views.AdminTokensView) {
	list, err := h.store.APITokens(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	for _, t := range list {
		row := views.TokenRow{ID: t.ID, Name: t.Name, Role: string(t.Role), Hint: t.Hint, Created: when(&t.CreatedAt, now, loc), LastUsed: when(t.LastUsedAt, now, loc)}
		if t.RevokedAt != nil {
			row.Revoked = when(t.RevokedAt, now, loc)
		}
		v.Rows = append(v.Rows, row)
	}
	h.render(c, status, views.AdminTokensPage(h.page(c, "API tokens", "admin"), v))
}

func (h *Handler) createToken(c *gin.Context) {
	plain, t, err := h.store.CreateAPIToken(c.Request.Context(), c.PostForm("name"), models.Role(c.PostForm("role")), actor(c))
	if err == nil {
		h.redirect(c, "/admin/tokens", flash{Text: "API token " + t.Name + " created.", Secret: plain, Label: t.Name}, "")
		return
	}
	if errs, ok := formErrors(err); ok {
		h.tokensPage(c, http.StatusBadRequest, views.AdminTokensView{Errors: errs, Form: views.TokenForm{Name: c.PostForm("name"), Role: c.PostForm("role")}})
		return
	}
	h.fail(c, err)
}

func (h *Handler) listTokensAPI(c *gin.Context) {
	list, err := h.store.APITokens(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": list})
}

func (h *Handler) createTokenAPI(c *gin.Context) {
	var in struct {
		Name string      `json:"name"`
		Role models.Role `json:"role"`
	}
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	plain, t, err := h.store.CreateAPIToken(c.Request.Context(), in.Name, in.Role, actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": t, "secret": plain})
}

func (h *Handler) listKiosk(c *gin.Context) {
	v := views.AdminKioskView{Form: views.KioskForm{Days: "90"}}
	if f, ok := h.takeFlash(c); ok {
		v.NewURL = f.Secret // shown once
	}
	h.kioskPage(c, http.StatusOK, v)
}

func (h *Handler) kioskPage(c *gin.Context, status int, v views.AdminKioskView) {
	list, err := h.store.KioskLinks(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	for _, k := range list {
		row := views.KioskRow{ID: k.ID, Name: k.Name, Hint: k.Hint, Created: when(&k.CreatedAt, now, loc), Expires: when(&k.ExpiresAt, now, loc),
			LastUsed: when(k.LastUsedAt, now, loc), By: k.CreatedBy, Expired: !now.Before(k.ExpiresAt), Zone: k.TimeZone}
		if row.Zone == "" {
			row.Zone = h.defaultZone().String() + " (default)"
		}
		if k.RevokedAt != nil {
			row.Revoked = when(k.RevokedAt, now, loc)
		}
		v.Rows = append(v.Rows, row)
	}
	v.Zones, v.Default = commonZones, h.defaultZone().String()
	h.render(c, status, views.AdminKioskPage(h.page(c, "Kiosk links", "admin"), v))
}

func (h *Handler) createKiosk(c *gin.Context) {
	days, _ := strconv.Atoi(c.PostForm("days")) // not a number: 0, refused with the other fields' errors
	plain, link, err := h.store.CreateKioskLink(c.Request.Context(), actor(c), c.PostForm("name"), time.Duration(days)*24*time.Hour, c.PostForm("time_zone"))
	if errs, ok := formErrors(err); ok {
		h.kioskPage(c, http.StatusBadRequest, views.AdminKioskView{Errors: errs,
			Form: views.KioskForm{Name: c.PostForm("name"), Days: c.PostForm("days"), TimeZone: c.PostForm("time_zone")}})
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.redirect(c, "/admin/kiosk", flash{Text: "Kiosk link for " + link.Name + " created.", Secret: kioskURL(h.cfg.BaseURL, plain, link.TimeZone)}, "")
}

// kioskURL is what a wall screen opens: the token, and the screen's zone.
func kioskURL(base, token, tz string) string {
	u := base + "/tv?k=" + url.QueryEscape(token)
	if tz != "" {
		u += "&tz=" + strings.ReplaceAll(url.QueryEscape(tz), "%2F", "/") // a slash is fine in a query
	}
	return u
}
