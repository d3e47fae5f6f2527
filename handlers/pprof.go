package handlers

import (
	"net/http/pprof"
	"strings"

	"github.com/gin-gonic/gin"
)

// showPprof serves Go's profiler to admins only (SPEC §8): /debug/pprof/,
// /debug/pprof/profile?seconds=30, /debug/pprof/heap, …
func (h *Handler) showPprof(c *gin.Context) {
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'") // pprof's own pages
	switch name := strings.TrimPrefix(c.Param("name"), "/"); name {
	case "":
		pprof.Index(c.Writer, c.Request)
	case "cmdline":
		pprof.Cmdline(c.Writer, c.Request)
	case "profile":
		pprof.Profile(c.Writer, c.Request)
	case "symbol":
		pprof.Symbol(c.Writer, c.Request)
	case "trace":
		pprof.Trace(c.Writer, c.Request)
	default:
		pprof.Handler(name).ServeHTTP(c.Writer, c.Request)
	}
}
