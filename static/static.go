// Package static holds the CSS and images, embedded in the binary, and names
// each file by its content (css/app.3f9a2c1b07.css), so that browsers may
// keep a file for good and still get the new one the moment a release
// changes it.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

// FS is served under /static/.
//
//go:embed css img
var FS embed.FS

// hashLen is how many hex digits of a file's SHA-256 go into its name.
const hashLen = 10

// names maps each embedded file (css/app.css) to its content-hashed name
// (css/app.3f9a2c1b07.css). It is computed once from the embedded files and
// never changes: the binary is the only source of them.
var names = hashNames(FS)

func hashNames(fsys fs.FS) map[string]string {
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		out[name] = strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:])[:hashLen] + ext
		return nil
	})
	if err != nil {
		panic("static: " + err.Error()) // an embedded FS cannot fail to read
	}
	return out
}

// URL is the address pages link an embedded file by, with its content hash:
// URL("css/app.css") = "/static/css/app.3f9a2c1b07.css". A name that is not
// embedded keeps its plain URL (and the tests that open every page see it
// fail to load).
func URL(name string) string {
	if hashed, ok := names[name]; ok {
		return "/static/" + hashed
	}
	return "/static/" + name
}

// Lookup finds the embedded file a path under /static/ names, and whether
// the path is that file's current hashed name (which may be cached for good).
// A plain name (css/app.css) or another release's hash (css/app.0123456789.css,
// asked of this replica during a rolling upgrade) finds the file too, but not
// as current: it must not be cached as if it could never change.
func Lookup(p string) (name string, current bool, ok bool) {
	p = strings.TrimPrefix(p, "/")
	if _, ok := names[p]; ok {
		return p, false, true
	}
	ext := path.Ext(p)
	stem := strings.TrimSuffix(p, ext)
	dot := strings.LastIndexByte(stem, '.')
	if dot < 0 || len(stem)-dot-1 != hashLen || !isHex(stem[dot+1:]) {
		return "", false, false
	}
	name = stem[:dot] + ext
	hashed, ok := names[name]
	if !ok {
		return "", false, false
	}
	return name, hashed == p, true
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
