package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/static"
)

// serveStatic serves the embedded CSS and images. Pages link them by content
// hash (static.URL), and a hashed name never changes content, so browsers
// keep those for a year without asking again. A plain name, or another
// release's hash (a page from another replica during a rolling upgrade), gets
// the current file, but browsers must check again before reusing it.
func (h *Handler) serveStatic(c *gin.Context) {
	name, current, ok := static.Lookup(c.Param("path"))
	if !ok {
		h.notFound(c)
		return
	}
	if current {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	http.ServeFileFS(c.Writer, c.Request, static.FS, name)
}
