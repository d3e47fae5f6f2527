package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

// cookieName is __Host- prefixed behind TLS (the browser then insists on
// Secure, Path=/ and no Domain); plain HTTP cannot use the prefix.
func (h *Handler) cookieName() string {
	if h.secure() {
		return "__Host-sitemetrics"
	}
	return "sitemetrics_session"
}

func (h *Handler) setSessionCookie(c *gin.Context, token string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{Name: h.cookieName(), Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: h.secure(), SameSite: http.SameSiteLaxMode})
}

func (h *Handler) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: h.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure(), SameSite: http.SameSiteLaxMode})
}

func (h *Handler) sessionToken(c *gin.Context) string {
	v, err := c.Cookie(h.cookieName())
	if err != nil {
		return ""
	}
	return v
}

// loadSession puts the signed-in person, if any, in the request.
func (h *Handler) loadSession(c *gin.Context) {
	token := h.sessionToken(c)
	if token == "" {
		c.Next()
		return
	}
	su, err := h.store.SessionByToken(c.Request.Context(), token)
	switch {
	case err == nil:
		p := principal{Name: su.Username, DisplayName: su.DisplayName, Role: su.Role, Source: su.Source, UserID: su.UserID, SessionID: su.ID,
			TimeZone: su.TimeZone, MustChange: su.MustChangePassword}
		c.Set(principalKey, p)
		h.recent.put("s:"+token, p)
	case models.ErrorCode(err) == models.EUNAUTHORIZED:
		h.clearSessionCookie(c)
	case h.store.Unavailable(err) && c.FullPath() == "/tv":
		// The wall screen keeps showing the last numbers through a database
		// outage, for sessions this replica saw recently.
		if p, ok := h.recent.get("s:" + token); ok {
			c.Set(principalKey, p)
		}
	default:
		h.fail(c, err)
		return
	}
	c.Next()
}

// recentAuth remembers, per replica, who a session or kiosk token was in the
// last half hour; read only while the database is unreachable.
type recentAuth struct {
	mu sync.Mutex
	m  map[string]recentEntry
}

type recentEntry struct {
	p  principal
	at time.Time
}

const recentFor = 30 * time.Minute

func (r *recentAuth) put(key string, p principal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) > 10000 {
		r.m = map[string]recentEntry{}
	}
	r.m[string(models.HashSecret(key))] = recentEntry{p, time.Now()}
}

func (r *recentAuth) get(key string) (principal, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[string(models.HashSecret(key))]
	if !ok || time.Since(e.at) > recentFor {
		return principal{}, false
	}
	return e.p, true
}

// requirePage sends people without a session to the sign-in page (coming
// back here afterwards), and refuses those whose role is too low.
func (h *Handler) requirePage(min models.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := currentPrincipal(c)
		if !ok || p.Source == "token" {
			c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
			c.Abort()
			return
		}
		if !p.Role.AtLeast(min) {
			h.fail(c, models.Errorf(models.EFORBIDDEN, "This page needs the %s role; you are signed in as %s with the %s role.", min, p.Name, p.Role))
			return
		}
		if p.MustChange && c.FullPath() != passwordPath {
			// The generated first password: nothing else until it is changed.
			c.Redirect(http.StatusSeeOther, passwordPath+"?next="+url.QueryEscape(c.Request.URL.RequestURI()))
			c.Abort()
			return
		}
		c.Header("Cache-Control", "no-store")
		c.Next()
	}
}

// safeNext keeps a post-login redirect on this site: a local absolute path,
// never "//host" or a scheme.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") || strings.HasPrefix(next, "/login") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}
