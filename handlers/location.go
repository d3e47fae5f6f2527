package handlers

import (
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

// zoneKey holds a page's own zone: the TV opened with a kiosk link shows the
// wall screen's, not anyone's account's.
const zoneKey = "zone"

// location is the viewer's time zone: the wall screen's for a kiosk link,
// else the signed-in person's (chosen on /account or at /api/v1/me), else
// the installation's (the time_zone setting).
func (h *Handler) location(c *gin.Context) *time.Location {
	if v, ok := c.Get(zoneKey); ok {
		if loc, ok := v.(*time.Location); ok {
			return loc
		}
	}
	if p, ok := currentPrincipal(c); ok && p.TimeZone != "" {
		if loc := h.zones.load(p.TimeZone); loc != nil {
			return loc
		}
	}
	return h.defaultZone()
}

// defaultZone is the installation's display zone.
func (h *Handler) defaultZone() *time.Location {
	if h.cfg.Location != nil {
		return h.cfg.Location
	}
	return time.UTC
}

// zoneCache keeps loaded zones by name: loading one reads and parses a zone
// file, on every page otherwise. Only names that load are kept, and there are
// a few hundred of them.
type zoneCache struct{ m sync.Map }

// load returns the zone of an IANA name, or nil when there is none.
func (z *zoneCache) load(name string) *time.Location {
	if v, ok := z.m.Load(name); ok {
		return v.(*time.Location)
	}
	loc, err := models.LoadZone(name)
	if err != nil {
		return nil
	}
	z.m.Store(name, loc)
	return loc
}
