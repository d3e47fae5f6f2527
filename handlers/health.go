package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// healthz: the process is alive. It touches nothing else.
func (h *Handler) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz: the database answers, its schema is current, it can be written to, and
// the spool could take a delivery. Anyone may ask, so the answer names what is
// wrong in general words only; the details go to the log.
func (h *Handler) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	reason := ""
	if err := h.store.Ready(ctx); err != nil {
		reason = "database unreachable or not migrated"
		h.log.DebugContext(ctx, "not ready", "err", err)
	} else if h.spool != nil {
		if err := h.spool.Writable(); err != nil {
			reason = "the spool's disk cannot take deliveries"
			h.log.WarnContext(ctx, "not ready", "err", err)
		}
	}
	if reason == "" {
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
		return
	}
	body := gin.H{"status": "unavailable", "reason": reason}
	if h.spool != nil {
		body["spooled_deliveries"] = h.spool.Len()
	}
	c.JSON(http.StatusServiceUnavailable, body)
}
