package handlers

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/views"
)

// A flash is what a form's POST has to say on the page it redirects to (303,
// so that a refresh never sends the form again): "Saved.", a warning, or a
// secret shown once (a new token's URL). It travels in a cookie that lives
// two minutes and is read once, by the page it names.
//
// The cookie is sealed (AES-GCM) with a key derived from the session token:
// only this server, for this session, can have written it, so a cookie set
// by anyone else (a sibling subdomain on plain HTTP) cannot make a page say
// something, nor show a webhook URL of their choosing; and a secret in it is
// unreadable to anyone without the session, which every replica has.
type flash struct {
	Path   string   `json:"p"`           // the page that shows it
	Kind   string   `json:"k"`           // ok, info, warn, error
	Text   string   `json:"t"`           // the message
	Secret string   `json:"s,omitempty"` // a token or URL, shown once
	Label  string   `json:"l,omitempty"` // what the secret is (a token's name)
	Notes  []string `json:"n,omitempty"` // warnings that go with it
}

const flashKey = "flash"

func (h *Handler) flashCookie() string {
	if h.secure() {
		return "__Host-sitemetrics_flash"
	}
	return "sitemetrics_flash"
}

func flashAEAD(session string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("sitemetrics flash\x00" + session))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// redirect answers a form's POST with 303 to path and the flash for it.
// session is the token the next request will carry: the current one, or the
// one a sign-in or a password change just issued ("" for the current one).
func (h *Handler) redirect(c *gin.Context, path string, f flash, session string) {
	if session == "" {
		session = h.sessionToken(c)
	}
	f.Path = path
	if i := strings.IndexByte(path, '?'); i >= 0 {
		f.Path = path[:i]
	}
	if f.Kind == "" {
		f.Kind = "ok"
	}
	if len(f.Notes) > 5 {
		f.Notes = f.Notes[:5]
	}
	for i, n := range f.Notes {
		if len(n) > 400 {
			f.Notes[i] = n[:400] + "…"
		}
	}
	if session != "" {
		if sealed, err := sealFlash(session, f); err == nil {
			http.SetCookie(c.Writer, &http.Cookie{Name: h.flashCookie(), Value: sealed, Path: "/", MaxAge: 120,
				HttpOnly: true, Secure: h.secure(), SameSite: http.SameSiteLaxMode})
		} else {
			h.log.ErrorContext(c.Request.Context(), "flash not sealed; the next page will not say it", "err", err)
		}
	}
	c.Redirect(http.StatusSeeOther, path)
}

func sealFlash(session string, f flash) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	aead, err := flashAEAD(session)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, nil)), nil
}

func openFlash(session, sealed string) (flash, bool) {
	var f flash
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || session == "" {
		return f, false
	}
	aead, err := flashAEAD(session)
	if err != nil || len(raw) < aead.NonceSize() {
		return f, false
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil || json.Unmarshal(plain, &f) != nil {
		return flash{}, false
	}
	return f, true
}

// takeFlash returns the flash meant for this page, once: the cookie is
// cleared as it is read. A flash for another page is left for it.
func (h *Handler) takeFlash(c *gin.Context) (flash, bool) {
	if v, ok := c.Get(flashKey); ok {
		f, ok := v.(flash)
		return f, ok
	}
	raw, err := c.Cookie(h.flashCookie())
	if err != nil || raw == "" {
		return flash{}, false
	}
	f, ok := openFlash(h.sessionToken(c), raw)
	if ok && f.Path != c.Request.URL.Path {
		return flash{}, false
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: h.flashCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure(), SameSite: http.SameSiteLaxMode})
	if !ok {
		return flash{}, false
	}
	c.Set(flashKey, f)
	return f, true
}

// pageFlash is the banner a flash puts at the top of a page.
func pageFlash(f flash) *views.Flash {
	if f.Text == "" {
		return nil
	}
	return &views.Flash{Kind: f.Kind, Text: f.Text, Notes: f.Notes}
}
