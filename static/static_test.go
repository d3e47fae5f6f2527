package static

import (
	"io/fs"
	"regexp"
	"testing"
)

func TestURLAndLookup(t *testing.T) {
	app := URL("css/app.css")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{10}\.css$`).MatchString(app) {
		t.Fatalf("URL(css/app.css) = %q, want /static/css/app.<10 hex digits>.css", app)
	}
	hashed := app[len("/static/"):]
	for _, c := range []struct {
		name, path, want string
		current, ok      bool
	}{
		{"the current hash", hashed, "css/app.css", true, true},
		{"with a leading slash", "/" + hashed, "css/app.css", true, true},
		{"the plain name", "css/app.css", "css/app.css", false, true},
		{"another release's hash", "css/app.0123456789.css", "css/app.css", false, true},
		{"an image", URL("img/favicon.svg")[len("/static/"):], "img/favicon.svg", true, true},
		{"a hash of the wrong length", "css/app.0123.css", "", false, false},
		{"not hex", "css/app.012345678z.css", "", false, false},
		{"upper-case hex", "css/app.012345678A.css", "", false, false},
		{"no such file", "css/nope.0123456789.css", "", false, false},
		{"a folder", "css", "", false, false},
		{"outside", "../static.go", "", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			name, current, ok := Lookup(c.path)
			if name != c.want || current != c.current || ok != c.ok {
				t.Errorf("Lookup(%q) = %q, %v, %v; want %q, %v, %v", c.path, name, current, ok, c.want, c.current, c.ok)
			}
		})
	}
}

// Every embedded file has a hashed name, and two files never share one.
func TestEveryFileHashed(t *testing.T) {
	seen := map[string]string{}
	err := fs.WalkDir(FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		u := URL(name)
		if u == "/static/"+name {
			t.Errorf("%s has no hashed URL", name)
		}
		if other, dup := seen[u]; dup {
			t.Errorf("%s and %s share %s", name, other, u)
		}
		seen[u] = name
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 4 {
		t.Errorf("only %d embedded files", len(seen))
	}
}
