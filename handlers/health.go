package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

// healthz: the process is alive. It touches nothing else.
func (h *Handler) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz: the database answers, its schema is current, it can be written to, and
// the spool could take a delivery. Anyone may ask, so the answer carries safe words
// only, never the driver's text with user, host, port or database name; the cause
// goes to the log, once per change of state.
func (h *Handler) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	err := h.store.Ready(ctx)
	if err == nil && h.spool != nil {
		if serr := h.spool.Writable(); serr != nil {
			err = models.Wrap(models.EUNAVAILABLE, serr, "the spool's disk cannot take deliveries")
		}
	}
	h.ready.observe(c.Request.Context(), h, err)
	if err != nil {
		body := gin.H{"status": "unavailable", "reason": readyReason(err)}
		if h.spool != nil {
			body["spooled_deliveries"] = h.spool.Len()
		}
		c.JSON(http.StatusServiceUnavailable, body)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// readyReason is the text /readyz may show for err.
func readyReason(err error) string {
	if models.ErrorCode(err) == models.EINTERNAL {
		return "internal error"
	}
	return models.ErrorMessage(err)
}

// readiness remembers the last answer of /readyz, so that a load balancer
// polling it every second during an outage writes two log lines, not one
// per poll.
type readiness struct {
	mu     sync.Mutex
	reason string // "" while ready
}

func (r *readiness) observe(ctx context.Context, h *Handler, err error) {
	reason := ""
	if err != nil {
		reason = readyReason(err)
	}
	r.mu.Lock()
	changed := reason != r.reason
	r.reason = reason
	r.mu.Unlock()
	switch {
	case !changed:
	case err != nil:
		h.log.WarnContext(ctx, "not ready", "reason", reason, "err", err)
	default:
		h.log.InfoContext(ctx, "ready again")
	}
}
