package handlers

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// formulasHTML renders the formula text once. goldmark escapes any raw HTML
// in it (the default), though the text is our own constant.
var formulasHTML = sync.OnceValue(func() string {
	var buf bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.Table)).Convert([]byte(models.FormulaHelp), &buf); err != nil {
		return "<p>The formulas could not be rendered.</p>"
	}
	return buf.String()
})

func (h *Handler) showHelp(c *gin.Context) {
	h.render(c, http.StatusOK, views.HelpPage(h.page(c, "How the numbers are computed", "help"),
		views.HelpView{FormulasHTML: formulasHTML(), BaseURL: h.cfg.BaseURL}))
}
