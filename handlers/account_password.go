package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

const minPasswordLen = models.MinPasswordLength

// passwordPath is the change-password page, where a generated first password
// sends its owner until they choose their own.
const passwordPath = "/account/password"

func (h *Handler) showPassword(c *gin.Context) {
	p, _ := currentPrincipal(c)
	if p.Source != models.SourceLocal {
		h.fail(c, models.Errorf(models.ENOTFOUND, "Directory accounts change their password in the directory, not here."))
		return
	}
	u, err := h.store.UserByID(c.Request.Context(), p.UserID)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.PasswordPage(h.page(c, "Change password", ""),
		views.PasswordForm{Next: safeNext(c.Query("next")), Forced: u.MustChangePassword}))
}

// changePassword sets a local account's password and ends its other sessions
// (someone who knew the old password is signed out).
func (h *Handler) changePassword(c *gin.Context) {
	ctx := c.Request.Context()
	p, _ := currentPrincipal(c)
	if p.Source != models.SourceLocal {
		h.fail(c, models.Errorf(models.ENOTFOUND, "Directory accounts change their password in the directory, not here."))
		return
	}
	u, err := h.store.UserByID(ctx, p.UserID)
	if err != nil {
		h.fail(c, err)
		return
	}
	cur, next, confirm := c.PostForm("current"), c.PostForm("new"), c.PostForm("confirm")
	f := views.PasswordForm{Next: safeNext(c.PostForm("next")), Errors: map[string]string{}, Forced: u.MustChangePassword}
	if ok, err := h.passwords.Verify(ctx, u.PasswordHash, cur); err != nil {
		h.fail(c, err)
		return
	} else if !ok {
		f.Errors["current"] = "That is not your current password."
	}
	switch {
	case len([]rune(next)) < minPasswordLen:
		f.Errors["new"] = "Use at least 12 characters."
	case next == cur:
		f.Errors["new"] = "Choose a password different from the current one."
	case confirm != next:
		f.Errors["confirm"] = "The two new passwords differ."
	}
	if len(f.Errors) > 0 {
		h.render(c, http.StatusBadRequest, views.PasswordPage(h.page(c, "Change password", ""), f))
		return
	}
	hash, err := h.passwords.Hash(ctx, next)
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.store.SetLocalPassword(ctx, u.ID, hash); err != nil {
		h.fail(c, err)
		return
	}
	if _, err := h.store.EndUserSessions(ctx, u.ID); err != nil {
		h.fail(c, err)
		return
	}
	token, sess, err := h.store.CreateSession(ctx, models.SessionInput{UserID: u.ID, Role: u.Role, Source: models.SourceLocal,
		Lifetime: h.policy.SessionLifetime, Idle: h.policy.SessionIdle, ClientIP: c.ClientIP(), UserAgent: c.Request.UserAgent()})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.setSessionCookie(c, token, sess.ExpiresAt)
	h.log.InfoContext(ctx, "password changed", "username", u.Username)
	h.redirect(c, f.Next, flash{Text: "Password changed."}, token)
}
