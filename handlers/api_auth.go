package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

// principal is who is asking: a person with a session or a script with a token.
type principal struct {
	Name        string // user name, or "token:<name>"
	DisplayName string
	Role        models.Role
	Source      string // "token", or the session's source: ldap, cache, local
	UserID      int64
	SessionID   int64
	TimeZone    string // the person's display zone; "" is the installation's
	MustChange  bool   // still on a generated password: every page sends them to change it
}

// Display is the name shown in the top bar.
func (p principal) Display() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Name
}

const principalKey = "principal"

func currentPrincipal(c *gin.Context) (principal, bool) {
	v, ok := c.Get(principalKey)
	if !ok {
		return principal{}, false
	}
	p, ok := v.(principal)
	return p, ok
}

// apiAuth accepts an API token in "Authorization: Bearer …"; without one,
// the session (loaded by loadSession) speaks for the caller.
func (h *Handler) apiAuth(c *gin.Context) {
	if plain := bearer(c); plain != "" {
		t, err := h.store.APITokenBySecret(c.Request.Context(), plain)
		if err != nil {
			h.fail(c, err)
			return
		}
		c.Set(principalKey, principal{Name: "token:" + t.Name, Role: t.Role, Source: "token"})
	}
	c.Next()
}

// requireRole refuses requests without a principal of at least min.
func (h *Handler) requireRole(min models.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := currentPrincipal(c)
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="sitemetrics"`)
			h.failJSON(c, http.StatusUnauthorized, models.Errorf(models.EUNAUTHORIZED,
				"sign in, or send an API token in Authorization: Bearer (create one with `sitemetrics token create`)"))
			return
		}
		if !p.Role.AtLeast(min) {
			h.failJSON(c, http.StatusForbidden, models.Errorf(models.EFORBIDDEN,
				"this needs the %s role; you have %s", min, p.Role))
			return
		}
		if p.MustChange {
			h.failJSON(c, http.StatusForbidden, models.Errorf(models.EFORBIDDEN,
				"this account still has its generated password: change it at %s first", passwordPath))
			return
		}
		c.Next()
	}
}
