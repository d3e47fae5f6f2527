package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// loginFailed is the one message every failed sign-in gets; the reason goes to the log.
const loginFailed = "Invalid user name or password."

func (h *Handler) showLogin(c *gin.Context) {
	if p, ok := currentPrincipal(c); ok && p.Source != "token" {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	f := views.LoginForm{Next: safeNext(c.Query("next")), Directory: h.auth != nil}
	if c.Query("signed_out") != "" {
		f.Notice = "You have signed out."
	}
	if c.Query("expired") != "" {
		f.Notice = "Your session ended. Sign in again."
	}
	h.render(c, http.StatusOK, views.LoginPage(f))
}

// signIn is the result of checking a user name and password.
type signIn struct {
	userID      int64
	username    string
	displayName string
	role        models.Role
	source      string // ldap, cache, local
	reason      string // why not, for the log and metrics
	mustChange  bool
}

func (h *Handler) login(c *gin.Context) {
	ctx := c.Request.Context()
	username, password := c.PostForm("username"), c.PostForm("password")
	next := safeNext(c.PostForm("next"))
	name := models.NormalizeUsername(username)
	ip := c.ClientIP()
	form := views.LoginForm{Username: username, Next: next, Directory: h.auth != nil}

	// Throttle before anything asks the directory, so a guessing script cannot
	// lock people out of the directory nor slow it down.
	pol := h.policy
	byUser, byIP, oldest, err := h.store.LoginFailures(ctx, name, ip, h.now().Add(-pol.FailureWindow))
	if err != nil {
		h.fail(c, err)
		return
	}
	if (pol.MaxFailuresPerUser > 0 && byUser >= pol.MaxFailuresPerUser) || (pol.MaxFailuresPerIP > 0 && byIP >= pol.MaxFailuresPerIP) {
		wait := math.Ceil(oldest.Add(pol.FailureWindow).Sub(h.now()).Minutes())
		h.metrics.Logins.WithLabelValues("throttled", "none").Inc()
		h.log.WarnContext(ctx, "login throttled", "username", name, "client_ip", ip, "failures_user", byUser, "failures_ip", byIP)
		form.Error = fmt.Sprintf("Too many failed sign-ins. Wait %d minute(s) and try again.", int(max(wait, 1)))
		h.render(c, http.StatusTooManyRequests, views.LoginPage(form))
		return
	}

	in, err := h.checkPassword(ctx, name, password)
	if err != nil {
		h.metrics.Logins.WithLabelValues("error", in.source).Inc()
		h.fail(c, err)
		return
	}
	if in.reason != ldapauth.ReasonOK {
		if err := h.store.RecordLoginFailure(ctx, name, ip); err != nil {
			h.log.ErrorContext(ctx, "record login failure", "err", err)
		}
		h.metrics.Logins.WithLabelValues("rejected", in.source).Inc()
		h.log.InfoContext(ctx, "login refused", "username", name, "client_ip", ip, "source", in.source, "reason", in.reason)
		form.Error = loginFailed
		h.render(c, http.StatusUnauthorized, views.LoginPage(form))
		return
	}

	if err := h.store.ClearLoginFailures(ctx, name); err != nil {
		h.log.WarnContext(ctx, "clear login failures", "err", err)
	}
	lifetime := pol.SessionLifetime
	if in.source == models.SourceCache {
		lifetime = pol.CacheSessionLifetime
	}
	token, sess, err := h.store.CreateSession(ctx, models.SessionInput{
		UserID: in.userID, Role: in.role, Source: in.source, Lifetime: lifetime, Idle: pol.SessionIdle,
		ClientIP: ip, UserAgent: c.Request.UserAgent(), Replaces: h.sessionToken(c),
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.setSessionCookie(c, token, sess.ExpiresAt)
	h.metrics.Logins.WithLabelValues("accepted", in.source).Inc()
	h.log.InfoContext(ctx, "login", "username", in.username, "client_ip", ip, "source", in.source, "role", in.role)
	if in.mustChange {
		next = "/account/password?next=" + url.QueryEscape(next)
	}
	c.Redirect(http.StatusSeeOther, next)
}

// checkPassword asks the directory (with its cached-credential fallback) or,
// without a directory, the local accounts. A refusal is a reason, not an error;
// an error means we could not decide (the database is down).
func (h *Handler) checkPassword(ctx context.Context, name, password string) (signIn, error) {
	if h.auth == nil {
		return h.checkLocal(ctx, name, password)
	}
	id, outcome, err := h.auth.Authenticate(ctx, name, password)
	if outcome == ldapauth.Accepted && err == nil {
		return signIn{userID: id.UserID, username: id.Username, displayName: id.DisplayName, role: id.Role, source: id.Source, reason: ldapauth.ReasonOK}, nil
	}
	var f *ldapauth.Failure
	if !errors.As(err, &f) {
		return signIn{source: "none"}, fmt.Errorf("sign-in: %w", err)
	}
	if f.Reason == ldapauth.ReasonStoreError {
		return signIn{source: f.Source}, models.Errorf(models.EUNAVAILABLE, "the database did not answer")
	}
	return signIn{source: f.Source, reason: f.Reason}, nil
}

func (h *Handler) checkLocal(ctx context.Context, name, password string) (signIn, error) {
	in := signIn{source: models.SourceLocal, reason: "bad_password"}
	u, err := h.store.UserByName(ctx, name)
	if err != nil && models.ErrorCode(err) != models.ENOTFOUND {
		return in, err
	}
	hash := u.PasswordHash
	if err != nil || u.Source != models.SourceLocal || hash == "" || password == "" {
		in.reason = "unknown_user"
		hash = h.dummyHash // the same work whether or not the account exists
	}
	ok, verr := h.passwords.Verify(ctx, hash, password)
	if verr != nil {
		return in, fmt.Errorf("verify password: %w", verr)
	}
	if !ok || in.reason == "unknown_user" {
		return in, nil
	}
	if err := h.store.RecordLocalLogin(ctx, u.ID); err != nil {
		return in, err
	}
	return signIn{userID: u.ID, username: u.Username, displayName: u.DisplayName, role: u.Role,
		source: models.SourceLocal, reason: ldapauth.ReasonOK, mustChange: u.MustChangePassword}, nil
}

func (h *Handler) logout(c *gin.Context) {
	if token := h.sessionToken(c); token != "" {
		if err := h.store.EndSession(c.Request.Context(), token); err != nil {
			h.fail(c, err)
			return
		}
	}
	h.clearSessionCookie(c)
	c.Redirect(http.StatusSeeOther, "/login?signed_out=1")
}

// AuthPolicy is sign-in policy: session lifetimes and throttling.
type AuthPolicy struct {
	SessionLifetime      time.Duration
	SessionIdle          time.Duration
	CacheSessionLifetime time.Duration
	MaxFailuresPerUser   int
	MaxFailuresPerIP     int
	FailureWindow        time.Duration
	CacheMaxAgeText      string // "7 days", for the admin page
}

func (p *AuthPolicy) defaults() {
	if p.SessionLifetime <= 0 {
		p.SessionLifetime = 12 * time.Hour
	}
	if p.CacheSessionLifetime <= 0 {
		p.CacheSessionLifetime = time.Hour
	}
	if p.FailureWindow <= 0 {
		p.FailureWindow = 5 * time.Minute
	}
}
