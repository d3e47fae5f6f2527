package handlers

import (
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// render writes a page, buffered: nothing is sent if rendering fails. It
// renders with the request's context, never the *gin.Context.
func (h *Handler) render(c *gin.Context, status int, page templ.Component) {
	c.Header("Cache-Control", "no-store")
	templ.Handler(page, templ.WithStatus(status), templ.WithErrorHandler(func(r *http.Request, err error) http.Handler {
		h.log.ErrorContext(r.Context(), "render failed", "route", route(c), "err", err)
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Internal error. Request id "+RequestID(r.Context()), http.StatusInternalServerError)
		})
	})).ServeHTTP(c.Writer, c.Request)
}

// page is the shell every signed-in page shares.
func (h *Handler) page(c *gin.Context, title, active string) views.Page {
	p := views.Page{Title: title, Active: active, Version: h.cfg.Version}
	if pr, ok := currentPrincipal(c); ok && pr.Source != "token" {
		p.User = &views.User{
			Name: pr.Display(), Role: string(pr.Role), Source: pr.Source,
			CanEdit: pr.Role.AtLeast(models.RoleSRE), IsAdmin: pr.Role.AtLeast(models.RoleAdmin),
			IsLocal: pr.Source == models.SourceLocal, FromSave: pr.Source == models.SourceCache,
		}
	}
	if f, ok := h.takeFlash(c); ok {
		p.Flash = pageFlash(f)
	}
	return p
}

// isAPI tells JSON callers from browsers.
func isAPI(c *gin.Context) bool {
	p := c.Request.URL.Path
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/") || p == "/healthz" || p == "/readyz"
}

// failPage renders an error as a page: code → status → a message that says what to do.
func (h *Handler) failPage(c *gin.Context, status int, err error) {
	e := views.ErrorInfo{Status: status, Message: models.ErrorMessage(err), RequestID: RequestID(c.Request.Context())}
	switch status {
	case http.StatusNotFound:
		e.Heading = "Not found"
	case http.StatusForbidden:
		e.Heading = "Not allowed"
	case http.StatusServiceUnavailable:
		e.Heading = "Temporarily unavailable"
		e.Message = "A service Sitemetrics depends on is unavailable: " + e.Message + " Try again in a minute."
	case http.StatusBadRequest:
		e.Heading = "That did not work"
	case http.StatusTooManyRequests:
		e.Heading = "Too many attempts"
	default:
		e.Heading = "Something went wrong"
		if status >= 500 {
			e.Message = "An internal error occurred. It has been logged."
		}
	}
	h.render(c, status, views.ErrorPage(h.page(c, e.Heading, ""), e))
	c.Abort()
}
