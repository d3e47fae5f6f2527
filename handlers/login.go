package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
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
	// key is the name the throttle counts under: a name that cannot be stored
	// (a NUL, invalid UTF-8) is counted under its storable form.
	key := models.LoginKey(username)
	ip := c.ClientIP()
	form := views.LoginForm{Username: username, Next: next, Directory: h.auth != nil}
	if !models.ValidLoginName(username) {
		form.Username = key
	}

	// Throttle before anything asks the directory, so a guessing script cannot
	// lock people out of the directory nor slow it down. The attempt counts as
	// a failure from here until the password proves right.
	pol := h.policy
	adm, err := h.store.AdmitLogin(ctx, key, ip, pol.throttle())
	if err != nil {
		h.fail(c, err)
		return
	}
	if !adm.Allowed {
		wait := max(int(math.Ceil(adm.RetryAfter.Seconds())), 1)
		h.metrics.Logins.WithLabelValues("throttled", "none").Inc()
		h.log.WarnContext(ctx, "login throttled", "username", name, "client_ip", ip, "counter", adm.Why, "retry_after_s", wait)
		c.Header("Retry-After", strconv.Itoa(wait))
		form.Error = "Too many failed sign-ins from your address. Wait " + waitText(wait) + " and try again."
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
		h.metrics.Logins.WithLabelValues("rejected", in.source).Inc()
		h.log.InfoContext(ctx, "login refused", "username", name, "client_ip", ip, "source", in.source, "reason", in.reason)
		form.Error = loginFailed
		h.render(c, http.StatusUnauthorized, views.LoginPage(form))
		return
	}

	if err := h.store.LoginSucceeded(ctx, key, ip); err != nil {
		// The person is in; the cost is that this address's counter still
		// holds one failure, forgotten after the failure window.
		h.log.WarnContext(ctx, "forget the failures of a successful sign-in", "username", name, "client_ip", ip, "err", err)
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
	if h.auth == nil && !models.ValidLoginName(name) {
		// Nobody has this name; it costs the same as a wrong password. (The
		// directory's Authenticate refuses it the same way.)
		dummy, err := h.dummy(ctx)
		if err != nil {
			return signIn{source: "none"}, err
		}
		if _, err := h.passwords.Verify(ctx, dummy, password); err != nil {
			return signIn{source: "none"}, fmt.Errorf("verify the dummy hash: %w", err)
		}
		return signIn{source: "none", reason: ldapauth.ReasonInvalidInput}, nil
	}
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
		return signIn{source: f.Source}, models.Wrap(models.EUNAVAILABLE, f, "the database did not answer")
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
		// The same work whether or not the account exists.
		if hash, err = h.dummy(ctx); err != nil {
			return in, err
		}
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
	// MaxFailuresPerUser is the failures one address may make for one user
	// name before each further attempt from it waits (see models.LoginThrottle).
	MaxFailuresPerUser int
	// MaxFailuresPerIP is the failures one address may make, over every user
	// name, within FailureWindow.
	MaxFailuresPerIP int
	FailureWindow    time.Duration
	CacheMaxAgeText  string // "7 days", for the admin page
}

// The back-off of one user name from one address: 15 s after the last free
// failure, doubling per failure, at most 15 minutes. The first wait is long
// enough that a burst of parallel guesses is over before it ends: they all
// meet the same wait instead of trickling through one a second.
const (
	loginBaseDelay = 15 * time.Second
	loginMaxDelay  = 15 * time.Minute
)

func (p AuthPolicy) throttle() models.LoginThrottle {
	return models.LoginThrottle{FreeFailures: p.MaxFailuresPerUser, BaseDelay: loginBaseDelay, MaxDelay: loginMaxDelay,
		MaxPerAddress: p.MaxFailuresPerIP, Window: p.FailureWindow}
}

// waitText says 42 seconds as "42 seconds" and 300 as "5 minutes".
func waitText(seconds int) string {
	switch {
	case seconds == 1:
		return "1 second"
	case seconds < 120:
		return strconv.Itoa(seconds) + " seconds"
	}
	return strconv.Itoa((seconds+59)/60) + " minutes"
}

func (p *AuthPolicy) defaults() {
	if p.SessionLifetime <= 0 {
		p.SessionLifetime = 12 * time.Hour
	}
	if p.CacheSessionLifetime <= 0 {
		p.CacheSessionLifetime = time.Hour
	}
	if p.FailureWindow <= 0 {
		p.FailureWindow = 15 * time.Minute
	}
}
