package splunk

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// streamAgrees checks that a body parseStream reads gives exactly what the tree gives:
// the same rows in the same order, with the same times, series, fields and identities,
// and the same rejections in the same words. It reports whether the stream read it.
func streamAgrees(t *testing.T, body []byte, opt Options) bool {
	t.Helper()
	if opt.TimeField == "" {
		opt.TimeField = "_time"
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = defaultMaxRows
	}
	body = trimBOM(body)
	got, ok := parseStream(body, opt)
	if !ok {
		return false
	}
	want, err := parseTree(body, false, opt)
	if err != nil {
		t.Fatalf("the stream read a body the tree refuses (%v):\n%s", err, body)
	}
	if got.Shape != want.Shape || got.SID != want.SID || got.SearchName != want.SearchName || got.ResultsLink != want.ResultsLink {
		t.Fatalf("body: stream %q %q %q %q, tree %q %q %q %q\n%s", got.Shape, got.SID, got.SearchName, got.ResultsLink,
			want.Shape, want.SID, want.SearchName, want.ResultsLink, body)
	}
	if !reflect.DeepEqual(got.Rejected, want.Rejected) {
		t.Fatalf("rejections: stream %v, tree %v\n%s", got.Rejected, want.Rejected, body)
	}
	if len(got.Rows) != len(want.Rows) {
		t.Fatalf("stream %d rows, tree %d\n%s", len(got.Rows), len(want.Rows), body)
	}
	for i, g := range got.Rows {
		w := want.Rows[i]
		if g.Index != w.Index || !g.Time.Equal(w.Time) || g.TimeSource != w.TimeSource || g.Series != w.Series ||
			len(g.Fields.Map()) != len(g.Fields) || !maps.EqualFunc(g.Fields.Map(), w.Fields.Map(), sameBits) || !bytes.Equal(g.Hash(), w.Hash()) {
			t.Fatalf("row %d: stream %+v, tree %+v\n%s", i, g, w, body)
		}
	}
	return true
}

// sameBits tells -0 from 0, which are stored as different text.
func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// TestStreamMatchesTree reads thousands of generated batches, plain and odd, both ways.
func TestStreamMatchesTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 2026))
	read := 0
	const bodies = 4000
	for range bodies {
		body, opt := randomBatch(rng)
		if streamAgrees(t, body, opt) {
			read++
		}
	}
	// Most generated bodies are batches the stream reads; the rest go to the tree.
	if read < bodies/3 || read == bodies {
		t.Fatalf("the stream read %d of %d bodies: the generator no longer covers both paths", read, bodies)
	}
	t.Logf("the stream read %d of %d bodies", read, bodies)
}

// TestStreamReadsBenchBatch: the shape make bench-scale posts is read by the stream,
// every row plainly.
func TestStreamReadsBenchBatch(t *testing.T) {
	body := []byte(`{"sid":"scheduler__admin__search__RMD5_at_1763805600_7","results":[` +
		`{"service":"s00001","_time":"1763805300","total":"1000","good":"990"},` +
		`{"service":"s00002","_time":"1763805300","total":"1001","good":"991","_raw":"x","date_hour":"10"}]}`)
	opt := Options{SeriesField: "service", ReceivedAt: received, TimeField: "_time", MaxRows: defaultMaxRows}
	out, ok := parseStream(body, opt)
	if !ok || len(out.Rows) != 2 || len(out.Rejected) != 0 {
		t.Fatalf("stream: %v, %+v", ok, out)
	}
	for _, r := range out.Rows {
		if r.hash.raw != nil || r.hash.json == nil {
			t.Fatalf("row %d was read through its map", r.Index)
		}
	}
	if !streamAgrees(t, body, opt) {
		t.Fatal("not read by the stream")
	}
}

func FuzzParseStream(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		body, _ := randomBatch(rng)
		f.Add(body, true, false)
	}
	f.Add([]byte(`{"results":[{"_time":"1763805300","total":"1","total":"2"}]}`), false, true)
	f.Fuzz(func(t *testing.T, body []byte, series, numeric bool) {
		opt := Options{ReceivedAt: received}
		if series {
			opt.SeriesField = "service"
		}
		if numeric {
			opt.NumericFields = []string{"total", "good"}
		}
		streamAgrees(t, body, opt)
	})
}

// randomBatch makes a {"results": [...]} body from plain and odd parts.
func randomBatch(rng *rand.Rand) ([]byte, Options) {
	opt := Options{ReceivedAt: received}
	if rng.IntN(4) > 0 {
		opt.SeriesField = "service"
	}
	if rng.IntN(3) == 0 {
		opt.NumericFields = []string{"total", "good"}
	}
	if rng.IntN(20) == 0 {
		opt.MaxRows = 1 + rng.IntN(3)
	}
	now := received.Unix()
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	value := func() string {
		if rng.IntN(3) > 0 {
			return fmt.Sprintf(`"%d"`, rng.IntN(5000))
		}
		return pick(`12`, `-3`, `1.5e3`, `" 7 "`, `"-5"`, `"1e400"`, `1e400`, `"NaN"`, `"-inf"`, `"abc"`, `""`, `"  "`,
			`null`, `true`, `false`, `[1,2]`, `{"a":1}`, `"1\u0032"`, `"\ud800"`, `"0x10"`, `"+4"`, `"1_000"`, `-0`, `"-0"`,
			`"9007199254740993"`, `18014398509481985`, `"12345678901234567890"`, `"0007"`, `"1.0"`, `"1e3"`)
	}
	timeValue := func() string {
		if rng.IntN(4) > 0 {
			return fmt.Sprintf(`"%d"`, now-int64(rng.IntN(86400)))
		}
		return pick(fmt.Sprintf("%d.25", now-600), `"2026-11-22T09:00:00Z"`, `"2026-11-22 09:00:00+00:00"`, `"946000000"`,
			fmt.Sprintf(`"%d"`, now+7200), `"garbage"`, `""`, `null`, `true`, `[1]`, `"1763805300000"`, `" 1763805300 "`,
			`"0001763805300"`, `"+1763805300"`, `"1763805300.000001"`, `99999999999`, `"-1763805300"`)
	}
	seriesValue := func() string {
		if rng.IntN(4) > 0 {
			return fmt.Sprintf(`"svc%d"`, rng.IntN(50))
		}
		return pick(`7`, `true`, `""`, `null`, `" padded "`, `"a\u0000b"`, `["a","b"]`, `"`+strings.Repeat("x", 201)+`"`, `"é\u00e9"`)
	}
	row := func() string {
		var fs []string
		if rng.IntN(12) > 0 {
			fs = append(fs, `"_time":`+timeValue())
		}
		if rng.IntN(12) > 0 {
			fs = append(fs, `"service":`+seriesValue())
		}
		fs = append(fs, `"total":`+value())
		if rng.IntN(4) > 0 {
			fs = append(fs, `"good":`+value())
		}
		for range rng.IntN(3) {
			fs = append(fs, pick(`"_raw":"x=1"`, `"date_hour":"10"`, `"host":"web1"`, `"_si":["a","b"]`, `"p95":`+value(),
				`"tot\u0061l":"9"`, `"":"1"`, `"x\u0001":"1"`, `"total":"77"`, `"extra":{"n":[1,{"m":2}]}`))
		}
		if rng.IntN(40) == 0 {
			for i := range 40 {
				fs = append(fs, fmt.Sprintf(`"f%d":"%d"`, i, i))
			}
		}
		rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
		return "{" + strings.Join(fs, pick(",", ", ", ",\n  ")) + "}"
	}
	var rows []string
	for range 1 + rng.IntN(6) {
		switch rng.IntN(60) {
		case 0:
			rows = append(rows, `null`)
		case 1:
			rows = append(rows, `["service","_time","total"]`)
		default:
			rows = append(rows, row())
		}
	}
	parts := []string{`"results":[` + strings.Join(rows, ",") + `]`}
	if rng.IntN(2) == 0 {
		parts = append(parts, pick(`"sid":"scheduler__admin__search__RMD5_at_1763805600_7"`, `"sid":"adhoc_1"`, `"sid":7`, `"sid":"a\u0000b"`))
	}
	if rng.IntN(3) == 0 {
		parts = append(parts, pick(`"search_name":"SLO report"`, `"results_link":"http://splunk/x"`, `"owner":"admin"`, `"app":{"a":[1]}`))
	}
	if rng.IntN(30) == 0 {
		parts = append(parts, pick(`"result":{"total":"1"}`, `"results":[]`, `"preview":false`, `"res\u0075lts":[]`))
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	body := "{" + strings.Join(parts, ",") + "}"
	switch rng.IntN(40) {
	case 0:
		body = body[:len(body)-1-rng.IntN(5)]
	case 1:
		body += "\n" + body
	case 2:
		body = "\xef\xbb\xbf \n" + body + "\n"
	}
	return []byte(body), opt
}
