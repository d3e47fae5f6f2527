package handlers

import (
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"strings"

	"github.com/gin-gonic/gin"
)

// showPprof serves Go's profiler to admins only (profiles show internals and
// cost CPU): /debug/pprof/,
// /debug/pprof/profile?seconds=30, /debug/pprof/heap, …
func (h *Handler) showPprof(c *gin.Context) {
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'") // pprof's own pages
	switch name := strings.TrimPrefix(c.Param("name"), "/"); name {
	case "":
		pprof.Index(c.Writer, c.Request)
	case "cmdline":
		// pprof.Cmdline would print os.Args as they are, bind password included.
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(http.StatusOK, strings.Join(redactArgs(os.Args), "\x00"))
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

// redactArgs returns args with the values of secret flags (any flag whose
// name says password, secret or token) and the passwords in URLs replaced
// by "REDACTED", so that an admin reading the profiler's cmdline does not
// read the directory's bind password or the database's.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	secretNext := false
	for i, a := range args {
		switch {
		case secretNext:
			out[i], secretNext = "REDACTED", false
			continue
		case strings.HasPrefix(a, "-") && secretFlag(a):
			if name, _, ok := strings.Cut(a, "="); ok {
				out[i] = name + "=REDACTED"
			} else {
				out[i], secretNext = a, true
			}
			continue
		}
		out[i] = redactURL(a)
	}
	return out
}

func secretFlag(arg string) bool {
	name, _, _ := strings.Cut(strings.ToLower(strings.TrimLeft(arg, "-")), "=")
	for _, s := range []string{"password", "secret", "token"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// redactURL hides the password of a URL inside arg (postgres://u:p@h/db, or
// --database-url=postgres://…).
func redactURL(arg string) string {
	prefix, raw := "", arg
	if strings.HasPrefix(arg, "-") {
		if name, v, ok := strings.Cut(arg, "="); ok {
			prefix, raw = name+"=", v
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return arg
	}
	if _, has := u.User.Password(); !has {
		return arg
	}
	u.User = url.UserPassword(u.User.Username(), "REDACTED")
	return prefix + u.String()
}
