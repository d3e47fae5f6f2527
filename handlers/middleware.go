package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

type ctxKey int

const requestIDKey ctxKey = iota

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// LogHandler wraps a slog handler so that every record logged with a request's
// context carries its request_id.
func LogHandler(next slog.Handler) slog.Handler { return requestIDHandler{next} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// requestID takes a sane X-Request-Id from the client or makes one, and puts
// it in the request's context and the response.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !requestIDRE.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), requestIDKey, id))
	c.Header("X-Request-Id", id)
	c.Next()
}

// route is the matched pattern (never the raw path, which may hold a token).
func route(c *gin.Context) string {
	if p := c.FullPath(); p != "" {
		return p
	}
	return "unmatched"
}

// observe logs one line per request and records its duration.
func (h *Handler) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	d := time.Since(start)
	status := c.Writer.Status()
	r := route(c)
	h.metrics.RequestDuration.WithLabelValues(r, c.Request.Method, strconv.Itoa(status)).Observe(d.Seconds())
	if r == "/healthz" || r == "/readyz" || r == "/metrics" || r == "/static/*path" {
		return
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	h.log.Log(c.Request.Context(), level, "request", "method", c.Request.Method, "route", r, "status", status,
		"duration_ms", float64(d.Microseconds())/1000, "bytes", c.Writer.Size(), "client_ip", c.ClientIP())
}

// recovery turns a panic into a logged 500 with the request id.
func (h *Handler) recovery(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(c.Request.Context(), "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			h.fail(c, fmt.Errorf("panic: %v", v))
			c.Abort()
		}
	}()
	c.Next()
}

// securityHeaders are set on every response (SPEC §8).
func (h *Handler) securityHeaders(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if h.secure() {
		hd.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	c.Next()
}
