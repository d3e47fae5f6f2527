package splunk

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecodeFirst holds decodeFirst to encoding/json's answer for any input: the same
// value (numbers as json.Number, the last of a repeated name), the same rest, and an
// error exactly when encoding/json has one. Row hashes and every shape's reading rest
// on that tree.
// go test -run '^$' -fuzz FuzzDecodeFirst -fuzztime 1m ./models/splunk
func FuzzDecodeFirst(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "splunk", "*"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
		if i := bytes.IndexByte(b, '\n'); i > 0 {
			f.Add(b[:i])
		}
	}
	for _, s := range []string{
		`{"a":"1","a":"2"}`, `{"a":1e400,"b":-0.0,"c":[]}`, `"\ud800x"`, `"\udc00\ud800"`, "\"\xff\"", `{"a":"\u0000"}`,
		`{"a":1} {"b":2}`, `[1,2,]`, `{"a" 1}`, `01`, `1.`, `-`, `tru`, `nul`, `{"a":{"b":[{"c":null}]}}`, `  `, `{`,
		`{"results":[{"x":"1"},["y"]]}`, `"\/\b\f\n\r\t\"\\"`, `{"é":"ü"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, rest, err := decodeFirst(b)
		wantV, wantRest, wantErr := decodeFirstStd(b)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, encoding/json's %v", b, err, wantErr)
		}
		if err != nil {
			if err.Error() != wantErr.Error() {
				t.Fatalf("%q: error %q, encoding/json's %q", b, err, wantErr)
			}
			return
		}
		if !reflect.DeepEqual(v, wantV) || !bytes.Equal(rest, wantRest) {
			t.Fatalf("%q: %#v then %q, encoding/json's %#v then %q", b, v, rest, wantV, wantRest)
		}
	})
}
