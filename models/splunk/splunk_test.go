package splunk

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

var received = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "splunk", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSplunkFixtures(t *testing.T) {
	type want struct {
		shape   string
		rows    int
		series  []string
		times   []string // RFC 3339, per row
		source  string   // time source of the first row
		fields  map[string]float64
		notKept []string // fields that must not be stored as numbers
	}
	tests := []struct {
		name, file, series, ctype string
		want                      want
	}{
		// Splunk 10's documented example: an 8-digit epoch in the sid is read as it is,
		// 1970-06-14 (the ingest layer counts such a row as outside every window).
		{"Splunk 10 docs example: search_name null, 8-digit epoch in the sid", "native_doc_example.json", "", "application/json",
			want{shape: ShapeNative, rows: 1, series: []string{""}, times: []string{"1970-06-14T17:25:56Z"}, source: TimeFromSID,
				fields: map[string]float64{"count": 8}, notKept: []string{"sourcetype"}}},
		{"Splunk 6.3 docs example sid: dated 2015-04-02", "native_doc_example_6_3.json", "", "application/json",
			want{shape: ShapeNative, rows: 1, series: []string{""}, times: []string{"2015-04-02T02:44:00Z"}, source: TimeFromSID,
				fields: map[string]float64{"count": 8}}},
		{"REST export stream: BOM, preview lines left out, rows under result", "rest_export_stream.json", "service", "application/json",
			want{shape: ShapeExport, rows: 3, series: []string{"checkout", "search", "checkout"}, source: TimeFromField,
				times:  []string{"2026-11-02T10:00:00Z", "2026-11-02T10:00:00Z", "2026-11-02T10:05:00Z"},
				fields: map[string]float64{"total": 1204, "good": 1201}}},
		{"REST export stream sent as NDJSON", "rest_export_stream.json", "service", "application/x-ndjson",
			want{shape: ShapeExport, rows: 3, series: []string{"checkout", "search", "checkout"}, source: TimeFromField,
				times: []string{"2026-11-02T10:00:00Z", "2026-11-02T10:00:00Z", "2026-11-02T10:05:00Z"}}},
		{"scheduled alert on raw events: _time wins over the sid, internals skipped", "native_scheduled_event.json", "", "application/json",
			want{shape: ShapeNative, rows: 1, series: []string{""}, times: []string{"2020-02-12T14:32:15Z"}, source: TimeFromField,
				fields: map[string]float64{"http_status_code": 200, "linecount": 1}, notKept: []string{"_indextime", "date_hour", "date_zone", "host", "_si"}}},
		{"per-result mode, fractional _time", "per_result_1.json", "service", "application/json",
			want{shape: ShapeNative, rows: 1, series: []string{"checkout"}, times: []string{"2022-08-05T13:24:19.827088Z"}, source: TimeFromField,
				fields: map[string]float64{"total": 612, "good": 610, "p95_ms": 201.5}, notKept: []string{"host"}}},
		{"SLO report, one row per run", "native_slo_report.json", "service", "application/json",
			want{shape: ShapeNative, rows: 1, series: []string{"checkout"}, times: []string{"2023-11-14T22:15:00Z"}, source: TimeFromSID,
				fields: map[string]float64{"total": 1234, "good_latency": 1229, "good_avail": 1233, "p99_ms": 480.25, "window_start": 1700000100}}},
		{"packed stats list() arrays, scalar broadcast", "packed_stats_list.json", "service", "text/plain",
			want{shape: ShapePacked, rows: 3, series: []string{"search", "search", "search"},
				times: []string{"2023-11-14T22:13:20Z", "2023-11-14T22:14:20Z", "2023-11-14T22:15:20Z"}, source: TimeFromField,
				fields: map[string]float64{"total": 100, "good": 100}}},
		{"results batch with RFC 3339 times and JSON numbers", "batch_results.json", "service", "application/json",
			want{shape: ShapeBatch, rows: 3, series: []string{"checkout", "search", "login"}, source: TimeFromField,
				times:  []string{"2023-11-14T22:20:00Z", "2023-11-14T22:20:00Z", "2023-11-14T22:20:00Z"},
				fields: map[string]float64{"total": 1234, "good": 1229, "p95_ms": 212}}},
		{"results as a header row then value rows", "batch_csv_rows.json", "service", "application/json",
			want{shape: ShapeBatch, rows: 2, series: []string{"checkout", "search"}, source: TimeFromField,
				times: []string{"2023-11-14T22:25:00Z", "2023-11-14T22:25:00Z"}, fields: map[string]float64{"total": 1300, "good": 1290}}},
		{"NDJSON with a blank line", "rows.ndjson", "service", "application/x-ndjson",
			want{shape: ShapeNDJSON, rows: 3, series: []string{"checkout", "search", "checkout"}, source: TimeFromField,
				times:  []string{"2023-11-14T22:30:00Z", "2023-11-14T22:30:00Z", "2023-11-14T22:35:00.25Z"},
				fields: map[string]float64{"total": 1000, "good": 998}}},
		{"NDJSON sent as application/json is detected by shape", "rows.ndjson", "service", "application/json",
			want{shape: ShapeNDJSON, rows: 3, series: []string{"checkout", "search", "checkout"}, source: TimeFromField,
				times: []string{"2023-11-14T22:30:00Z", "2023-11-14T22:30:00Z", "2023-11-14T22:35:00.25Z"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(fixture(t, tc.file), tc.ctype, Options{SeriesField: tc.series, ReceivedAt: received})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(got.Rejected) != 0 {
				t.Fatalf("rejected rows: %+v", got.Rejected)
			}
			if got.Shape != tc.want.shape || len(got.Rows) != tc.want.rows {
				t.Fatalf("shape %q with %d rows, want %q with %d", got.Shape, len(got.Rows), tc.want.shape, tc.want.rows)
			}
			for i, r := range got.Rows {
				if r.Series != tc.want.series[i] {
					t.Errorf("row %d series %q, want %q", i, r.Series, tc.want.series[i])
				}
				if ts := r.Time.Format(time.RFC3339Nano); ts != tc.want.times[i] {
					t.Errorf("row %d time %s, want %s", i, ts, tc.want.times[i])
				}
				if len(r.Hash()) != 32 {
					t.Errorf("row %d hash has %d bytes", i, len(r.Hash()))
				}
			}
			first := got.Rows[0]
			if first.TimeSource != tc.want.source {
				t.Errorf("time source %q, want %q", first.TimeSource, tc.want.source)
			}
			for k, v := range tc.want.fields {
				if got, _ := first.Fields.Get(k); got != v {
					t.Errorf("field %s = %v, want %v (fields %v)", k, got, v, first.Fields)
				}
			}
			for _, k := range tc.want.notKept {
				if _, ok := first.Fields.Get(k); ok {
					t.Errorf("field %s was stored as a number", k)
				}
			}
		})
	}
}

func TestParseSplunkPerResultRowsDiffer(t *testing.T) {
	a, _ := Parse(fixture(t, "per_result_1.json"), "", Options{SeriesField: "service", ReceivedAt: received})
	b, _ := Parse(fixture(t, "per_result_2.json"), "", Options{SeriesField: "service", ReceivedAt: received})
	again, _ := Parse(fixture(t, "per_result_1.json"), "", Options{SeriesField: "service", ReceivedAt: received.Add(time.Hour)})
	if bytes.Equal(a.Rows[0].Hash(), b.Rows[0].Hash()) {
		t.Error("two rows of one sid share a hash: per-result deliveries would be lost as duplicates")
	}
	if !bytes.Equal(a.Rows[0].Hash(), again.Rows[0].Hash()) {
		t.Error("a redelivered row has a new hash: redelivery would be stored twice")
	}
}

func TestParseSplunkBodyErrors(t *testing.T) {
	tests := []struct {
		name, body, ctype, code, msg string
	}{
		{"empty", "  \n", "application/json", models.EINVALID, "empty body"},
		{"malformed JSON", `{"result": {"count": "8"`, "application/json", models.EINVALID, "malformed JSON"},
		{"not an object", `[{"count": "8"}]`, "application/json", models.EINVALID, "JSON array, not an object"},
		{"a string", `"hello"`, "application/json", models.EINVALID, "JSON string, not an object"},
		{"unknown shape", `{"sid": "x", "data": {"count": "8"}}`, "application/json", models.EINVALID, `unrecognised body`},
		{"result null", `{"sid": "x", "result": null}`, "application/json", models.EINVALID, `"result" is null`},
		{"result empty", `{"result": {}}`, "application/json", models.EINVALID, `"result" is empty`},
		{"results not an array", `{"results": {"a": "1"}}`, "application/json", models.EINVALID, `"results" is object`},
		{"results empty", `{"results": []}`, "application/json", models.EINVALID, `"results" is empty`},
		{"packed lengths differ", `{"result": {"_time": ["1700000000","1700000060"], "good": ["1"]}}`, "", models.EINVALID, "different lengths"},
		{"invalid UTF-8", "{\"result\": {\"count\": \"8\xff\"}}", "application/json", models.EINVALID, "not valid UTF-8"},
		{"too many rows", `{"results": [` + strings.Repeat(`{"a":"1"},`, 10000) + `{"a":"1"}]}`, "", models.ETOOLARGE, "too many rows: 10001"},
		{"an export stream of previews only", "{\"preview\":true,\"offset\":0,\"result\":{\"total\":\"1\"}}\n{\"preview\":true,\"offset\":0,\"result\":{\"total\":\"2\"}}",
			"", models.EINVALID, "holds no final results (2 preview line(s)"},
		{"one export line, a preview", `{"preview":true,"offset":0,"result":{"total":"1"}}`, "application/json", models.EINVALID, "holds no final results"},
		{"only a byte-order mark", "\ufeff \n", "application/json", models.EINVALID, "empty body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body), tc.ctype, Options{ReceivedAt: received})
			if err == nil {
				t.Fatal("no error")
			}
			if models.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %s %q, want %s containing %q", models.ErrorCode(err), err, tc.code, tc.msg)
			}
		})
	}
}

func TestParseSplunkRowRejections(t *testing.T) {
	tests := []struct {
		name, row, reason string
		numeric           []string
	}{
		{"NaN", `{"good": "NaN"}`, `"NaN" is not a finite number`, nil},
		{"Infinity", `{"good": "-Infinity"}`, "not a finite number", nil},
		{"out of range", `{"good": "1e400"}`, "out of range", nil},
		{"JSON number out of range", `{"good": 1e400}`, "out of range", nil},
		{"negative count", `{"total": "-3"}`, "negative", nil},
		{"unparseable time", `{"_time": "yesterday", "total": "1"}`, `"yesterday" does not parse`, nil},
		{"milliseconds", `{"_time": "1700000000000", "total": "1"}`, "out of range for epoch seconds", nil},
		{"future", `{"_time": "2030-01-01T00:00:00Z", "total": "1"}`, "in the future", nil},
		{"before 2000", `{"_time": "12", "total": "1"}`, "before 2000", nil},
		{"multivalue time", `{"_time": {"a": 1}, "total": "1"}`, "expected epoch seconds", nil},
		{"no numbers", `{"host": "web01"}`, "no numeric fields", nil},
		{"control character in a name", `{"to\u0007tal": "1"}`, "control character", nil},
		{"empty field name", `{"": "1", "total": "2"}`, "is empty", nil},
		{"bound field is text", `{"total": "lots"}`, `field "total" is "lots", not a number`, []string{"total"}},
		{"bound field is multivalue", `{"total": ["1", "2"], "good": "1"}`, "multivalue", []string{"total"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"results": [` + tc.row + `, {"total": "5"}]}`
			got, err := Parse([]byte(body), "", Options{ReceivedAt: received, NumericFields: tc.numeric})
			if err != nil {
				t.Fatalf("body refused: %v", err)
			}
			if len(got.Rejected) != 1 || got.Rejected[0].Row != 0 || !strings.Contains(got.Rejected[0].Reason, tc.reason) {
				t.Fatalf("rejected %+v, want row 0 with %q", got.Rejected, tc.reason)
			}
			if len(got.Rows) != 1 || got.Rows[0].Fields.Map()["total"] != 5 {
				t.Fatalf("the good row was not kept: %+v", got.Rows)
			}
		})
	}
}

func TestParseSplunkSeries(t *testing.T) {
	opt := Options{SeriesField: "service", ReceivedAt: received}
	got, err := Parse([]byte(`{"results": [{"total": "1"}, {"service": ["a","b"], "total": "1"}, {"service": 42, "total": "1"}]}`), "", opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rejected) != 2 || !strings.Contains(got.Rejected[0].Reason, `series field "service" is missing`) ||
		!strings.Contains(got.Rejected[1].Reason, "not a single value") {
		t.Fatalf("rejections %+v", got.Rejected)
	}
	if len(got.Rows) != 1 || got.Rows[0].Series != "42" {
		t.Fatalf("rows %+v", got.Rows)
	}
}

// A BOM before the body, and before each line of concatenated exports, is not content.
func TestParseSplunkByteOrderMarks(t *testing.T) {
	tests := []struct{ name, body, shape string }{
		{"native webhook", "\ufeff" + `{"result": {"_time": "1700000000", "total": "5"}}`, ShapeNative},
		{"after white space", " \n\ufeff" + `{"results": [{"_time": "1700000000", "total": "5"}]}`, ShapeBatch},
		{"two exports concatenated", "\ufeff" + `{"preview":false,"offset":0,"result":{"_time":"1700000000","total":"5"}}` + "\n\ufeff" +
			`{"preview":false,"offset":0,"lastrow":true,"result":{"_time":"1700000300","total":"6"}}`, ShapeExport},
	}
	for _, tc := range tests {
		got, err := Parse([]byte(tc.body), "application/json", Options{ReceivedAt: received})
		if err != nil || got.Shape != tc.shape || len(got.Rows) == 0 || len(got.Rejected) != 0 {
			t.Errorf("%s: %+v %v", tc.name, got, err)
		}
	}
}

// Rows that had to take the receipt time are counted, for the answer's time_from_receipt.
func TestParseSplunkTimeFromReceipt(t *testing.T) {
	body := `{"results": [{"_time": "1700000000", "total": "1"}, {"total": "2"}, {"total": "3"}]}`
	got, err := Parse([]byte(body), "", Options{ReceivedAt: received})
	if err != nil {
		t.Fatal(err)
	}
	if got.TimeFromReceipt() != 2 || got.Rows[1].TimeSource != TimeFromReceived || !got.Rows[1].Time.Equal(received) || got.Rows[0].TimeSource != TimeFromField {
		t.Fatalf("time from receipt %d, rows %+v", got.TimeFromReceipt(), got.Rows)
	}
	withSID := `{"sid": "scheduler__admin__search__W2_at_1700000100_3", "results": [{"total": "2"}]}`
	if got, _ := Parse([]byte(withSID), "", Options{ReceivedAt: received}); got.TimeFromReceipt() != 0 || got.Rows[0].TimeSource != TimeFromSID {
		t.Fatalf("a sid's time counted as receipt: %+v", got.Rows)
	}
}

func TestSIDTime(t *testing.T) {
	tests := []struct {
		sid  string
		want string
	}{
		{"scheduler__nobody_c3BsdW5rX2FyY2hpdmVy__RMD5473cbac83d6c9db7_at_1469503020_53", "2016-07-26T03:17:00Z"},
		{"rt_scheduler__admin__search__RMD51cfb077d0798f99a_at_1469464020_37.0", "2016-07-25T16:27:00Z"},
		{"scheduler__abc0001__search__RMD5267e440bddd8ef1f_at_1581522000_11805", "2020-02-12T15:40:00Z"},
		{"1346978195.13", ""},
		{"admin__admin__search__count_1347454406.2", ""},
		{"scheduler_admin_search_W2_at_14232356_132", "1970-06-14T17:25:56Z"},      // Splunk 10's docs: 8 digits
		{"scheduler__admin__search__W2_at_1427942640_178", "2015-04-02T02:44:00Z"}, // Splunk 6.3's docs
		{"scheduler__admin__search__W2_at_99999999999999_1", ""},                   // beyond any epoch: not a time
		{"", ""},
	}
	for _, tc := range tests {
		got, ok := SIDTime(tc.sid)
		if (tc.want == "") == ok || (ok && got.Format(time.RFC3339) != tc.want) {
			t.Errorf("SIDTime(%q) = %v, %v; want %q", tc.sid, got, ok, tc.want)
		}
	}
}

// FuzzParse: whatever the body, the parser must not panic, and every
// row it accepts must be finite, non-negative and timed.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "splunk", "*"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b, "application/json")
		f.Add(b, "application/x-ndjson")
	}
	f.Add([]byte(`{"result":{"_time":["1","2"],"a":["1","2"]}}`), "")
	f.Add([]byte("\ufeff{\"preview\":true,\"offset\":0,\"result\":{\"a\":\"1\"}}\n{\"preview\":false,\"offset\":0,\"lastrow\":true}"), "")
	f.Add([]byte("{\"preview\":false,\"offset\":0,\"result\":{\"a\":\"1\"}}\n{\"a\":\"2\"}\n\ufeff{\"preview\":false,\"result\":\"x\"}"), "application/x-ndjson")
	f.Add([]byte(`{"sid":"scheduler_admin_search_W2_at_14232356_132","result":{"count":"8"}}`), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		got, err := Parse(body, ctype, Options{SeriesField: "service", ReceivedAt: received, MaxRows: 100})
		if err != nil {
			if models.ErrorCode(err) != models.EINVALID && models.ErrorCode(err) != models.ETOOLARGE {
				t.Fatalf("unexpected error code %s: %v", models.ErrorCode(err), err)
			}
			return
		}
		if len(got.Rows)+len(got.Rejected) == 0 {
			t.Fatal("accepted a body with no rows and no rejections")
		}
		for _, r := range got.Rows {
			if r.Time.IsZero() || len(r.Fields) == 0 || len(r.Hash()) != 32 {
				t.Fatalf("incomplete row %+v", r)
			}
			for _, f := range r.Fields {
				if v := f.Value; v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("field %s = %v", f.Name, v)
				}
			}
		}
	})
}

// A NUL, which PostgreSQL cannot store in text, rejects a row when it is in the
// series, and is replaced where it does not matter, so a delivery never fails to be
// recorded because of it.
func TestParseNUL(t *testing.T) {
	body := []byte(`{"sid":"a\u0000b","search_name":"x\u0000","results":[{"service":"check\u0000out","total":"1"},{"service":"ok","total":"2"}]}`)
	b, err := Parse(body, "", Options{SeriesField: "service", ReceivedAt: time.Unix(1700000000, 0)})
	if err != nil || len(b.Rows) != 1 || len(b.Rejected) != 1 || !strings.Contains(b.Rejected[0].Reason, "NUL") ||
		strings.ContainsRune(b.SID, 0) || strings.ContainsRune(b.SearchName, 0) {
		t.Fatalf("%+v %v", b, err)
	}
}
