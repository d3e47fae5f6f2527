package handlers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/views"
)

func (h *Handler) listUsers(c *gin.Context) {
	ctx := c.Request.Context()
	users, err := h.store.Users(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	loc, now := h.location(c), h.now()
	v := views.AdminUsersView{Location: loc}
	for _, u := range users {
		row := views.UserRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Source: u.Source, Role: string(u.Role),
			LastOnlineLogin: when(u.LastOnlineLoginAt, now, loc), LastCachedLogin: when(u.LastCachedLoginAt, now, loc), ActiveSessions: u.Sessions}
		if u.Sessions > 0 {
			sessions, err := h.store.UserSessions(ctx, u.ID)
			if err != nil {
				h.fail(c, err)
				return
			}
			for _, s := range sessions {
				row.Sessions = append(row.Sessions, views.SessionRow{Started: when(&s.CreatedAt, now, loc), LastSeen: when(&s.LastSeenAt, now, loc),
					Expires: when(&s.ExpiresAt, now, loc), Source: s.Source, ClientIP: s.ClientIP, UserAgent: s.UserAgent})
			}
		}
		v.Users = append(v.Users, row)
	}
	if h.auth != nil {
		st := h.auth.Status()
		v.DirectoryUp = st.DirectoryUp
		v.Directory = "Directory reachable: people sign in against it."
		if !st.DirectoryUp {
			v.Directory = fmt.Sprintf("Directory unreachable since %s (%s): people who signed in during the last %s sign in from saved credentials.",
				when(&st.Since, now, loc), st.Reason, h.policy.CacheMaxAgeText)
		}
		for _, m := range h.roleMappings {
			v.RoleMappings = append(v.RoleMappings, views.RoleMappingRow{GroupDN: m.GroupDN, Role: string(m.Role)})
		}
	}
	h.render(c, http.StatusOK, views.AdminUsersPage(h.page(c, "Users and sessions", "admin"), v))
}

func (h *Handler) endUserSessions(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	n, err := h.store.EndUserSessions(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	p, _ := currentPrincipal(c)
	h.log.InfoContext(c.Request.Context(), "sessions ended by an admin", "user_id", id, "sessions", n, "by", p.Name)
	if isAPI(c) {
		c.JSON(http.StatusOK, gin.H{"ended": n})
		return
	}
	h.redirect(c, "/admin/users", flash{Text: "Every session of that user has ended."}, "")
}

func (h *Handler) listUsersAPI(c *gin.Context) {
	users, err := h.store.Users(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": users})
}

func (h *Handler) listUserSessionsAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	sessions, err := h.store.UserSessions(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"sessions": sessions})
}

// when formats an instant for a table, in the viewer's zone and naming it,
// with the year when it is not this year's; nil is "never".
func when(t *time.Time, now time.Time, loc *time.Location) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return views.DateTime(*t, now, loc)
}
