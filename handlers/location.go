package handlers

import (
	"time"

	"github.com/gin-gonic/gin"
)

// location is the viewer's time zone: their own choice (a cookie set on the
// account page), else the installation's display zone.
func (h *Handler) location(c *gin.Context) *time.Location {
	if tz, err := c.Cookie("sitemetrics_tz"); err == nil && tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc
		}
	}
	if h.cfg.Location != nil {
		return h.cfg.Location
	}
	return time.UTC
}
