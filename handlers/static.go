package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/static"
)

var staticFiles = http.FileServerFS(static.FS)

// serveStatic serves the embedded CSS and images. They change only with the
// binary, so browsers may keep them for a day.
func (h *Handler) serveStatic(c *gin.Context) {
	path := c.Param("path")
	if strings.HasSuffix(path, "/") {
		h.notFound(c)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Request.URL.Path = path
	staticFiles.ServeHTTP(c.Writer, c.Request)
}
