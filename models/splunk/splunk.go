package splunk

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sitemetrics/sitemetrics/models"
)

// Body shapes a Splunk delivery can take, detected by shape whatever the
// Content-Type says.
const (
	ShapeNative = "native" // Splunk's webhook action: one row in "result" (per-result mode looks the same)
	ShapePacked = "packed" // one "result" whose fields are arrays (stats list(x)), one row per index
	ShapeBatch  = "batch"  // {"results": [ {...}, ... ]}
	ShapeNDJSON = "ndjson" // one row object per line
	// ShapeExport is Splunk's REST export stream (search/jobs/export?output_mode=json):
	// one {"preview", "offset", "result", "lastrow"?} object per line. Preview lines
	// are partial results of a search still running: only final ones are rows.
	ShapeExport = "export"
)

// Where a row's time came from: its time field, the scheduled time in the
// delivery's sid, or, failing both, the time the delivery was received.
const (
	TimeFromField    = "field"
	TimeFromSID      = "sid"
	TimeFromReceived = "received"
)

// Row is one accepted Splunk result row, ready to be stored as a sample.
type Row struct {
	Index      int
	Time       time.Time
	TimeSource string
	Series     string
	Fields     models.Fields
	hash       *rowIdentity
}

// rowIdentity is what a row's Hash is worked out from, once, when first asked.
type rowIdentity struct {
	sid  string
	raw  map[string]any
	json []byte // the row's JSON object, when it was read without its map (stream.go)
	once sync.Once
	sum  []byte
}

// Hash identifies the row for idempotency: the sid and the row's content. Only feeds
// that add rows up need it, so it is worked out when first asked, not for every row.
func (r Row) Hash() []byte {
	if r.hash == nil {
		return nil
	}
	r.hash.once.Do(func() {
		raw := r.hash.raw
		if raw == nil {
			raw = rowMap(r.hash.json)
		}
		r.hash.sum = rowHash(r.hash.sid, raw)
	})
	return r.hash.sum
}

// Body is a parsed delivery.
type Body struct {
	Shape       string
	SID         string
	SearchName  string
	ResultsLink string
	Rows        []Row
	Rejected    []models.Rejection
	// Previews counts the export stream's preview lines, read and left out.
	Previews int
}

// TimeFromReceipt counts the rows whose time fell back to the receipt time: they
// had no time field and the delivery no sid with a scheduled time. The answer
// reports it as time_from_receipt, since such rows land where they arrived.
func (b Body) TimeFromReceipt() int {
	n := 0
	for _, r := range b.Rows {
		if r.TimeSource == TimeFromReceived {
			n++
		}
	}
	return n
}

// Options carry what the feed says about its rows.
type Options struct {
	TimeField   string // default "_time"
	SeriesField string // "" = every row is the same series ""
	// NumericFields must be numbers when present: the fields SLOs read.
	NumericFields []string
	ReceivedAt    time.Time
	MaxRows       int // default 5000
}

// Limits on what one row may carry.
const (
	maxFieldsInRow = 500
	maxSeriesLen   = 200
	defaultMaxRows = 5000
)

var (
	// Any number of digits: Splunk's own documentation shows an 8-digit epoch
	// ("scheduler_admin_search_W2_at_14232356_132", 1970), and a date far from every
	// window is for the ingest layer to count, not for the parser to guess away.
	sidTimeRE = regexp.MustCompile(`_at_(\d{1,12})_\d+(?:\.\d+)?$`)
	// Earliest and latest plausible row times, to catch wrong units (milliseconds).
	minRowTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Parse reads a webhook body in any of the five shapes. A body-level
// problem (not JSON, no rows, too many rows) is an *Error; row-level problems
// become Rejections and the other rows are still returned.
func Parse(body []byte, contentType string, opt Options) (Body, error) {
	b, err := parse(body, contentType, opt)
	// PostgreSQL cannot store a NUL in text: where it does not matter it becomes U+FFFD.
	b.SID, b.SearchName, b.ResultsLink = noNUL(b.SID), noNUL(b.SearchName), noNUL(b.ResultsLink)
	return b, err
}

func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

func parse(body []byte, contentType string, opt Options) (Body, error) {
	if opt.TimeField == "" {
		opt.TimeField = "_time"
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = defaultMaxRows
	}
	if opt.ReceivedAt.IsZero() {
		opt.ReceivedAt = time.Now().UTC()
	}
	trimmed := trimBOM(body)
	if len(trimmed) == 0 {
		return Body{}, models.Errorf(models.EINVALID, "empty body: expected Splunk's webhook JSON, a {\"results\": [...]} batch or NDJSON rows")
	}
	if !utf8.Valid(body) {
		return Body{}, models.Errorf(models.EINVALID, "body is not valid UTF-8 (first bad byte at offset %d)", firstInvalidUTF8(body))
	}
	ndjson := strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/x-ndjson") ||
		strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/jsonl")
	if !ndjson {
		if out, ok := parseStream(trimmed, opt); ok {
			return out, nil
		}
	}
	return parseTree(trimmed, ndjson, opt)
}

// parseTree reads a body through its tree of maps: every shape, and every error.
func parseTree(trimmed []byte, ndjson bool, opt Options) (Body, error) {
	first, rest, err := decodeFirst(trimmed)
	switch {
	case err != nil && !ndjson:
		return Body{}, models.Errorf(models.EINVALID, "malformed JSON: %v", err)
	case err != nil || len(rest) > 0 || ndjson:
		return parseNDJSON(trimmed, opt)
	}
	obj, ok := first.(map[string]any)
	if !ok {
		return Body{}, models.Errorf(models.EINVALID, "body is a JSON %s, not an object: expected Splunk's webhook JSON, a {\"results\": [...]} batch or NDJSON rows", jsonKind(first))
	}
	if isExportLine(obj) {
		return parseNDJSON(trimmed, opt)
	}
	out := Body{SID: str(obj["sid"]), SearchName: str(obj["search_name"]), ResultsLink: str(obj["results_link"])}
	p := rowParser{opt: opt, sid: out.SID}
	switch {
	case hasKey(obj, "result"):
		res, ok := obj["result"].(map[string]any)
		if !ok {
			return Body{}, models.Errorf(models.EINVALID, "\"result\" is %s, not an object of fields: no rows to read", jsonKind(obj["result"]))
		}
		if len(res) == 0 {
			return Body{}, models.Errorf(models.EINVALID, "\"result\" is empty: no rows to read")
		}
		rows, packed, err := unpack(res, opt.TimeField)
		if err != nil {
			return Body{}, err
		}
		out.Shape = ShapeNative
		if packed {
			out.Shape = ShapePacked
		}
		if len(rows) > opt.MaxRows {
			return Body{}, tooManyRows(len(rows), opt.MaxRows)
		}
		for i, r := range rows {
			p.add(&out, i, r)
		}
	case hasKey(obj, "results"):
		list, ok := obj["results"].([]any)
		if !ok {
			return Body{}, models.Errorf(models.EINVALID, "\"results\" is %s, not an array of rows", jsonKind(obj["results"]))
		}
		rows, err := batchRows(list)
		if err != nil {
			return Body{}, err
		}
		if len(rows) == 0 {
			return Body{}, models.Errorf(models.EINVALID, "\"results\" is empty: no rows to read")
		}
		if len(rows) > opt.MaxRows {
			return Body{}, tooManyRows(len(rows), opt.MaxRows)
		}
		out.Shape = ShapeBatch
		for i, r := range rows {
			if r == nil {
				out.Rejected = append(out.Rejected, models.Rejection{Row: i, Reason: "row is not a JSON object"})
				continue
			}
			p.add(&out, i, r)
		}
	default:
		return Body{}, models.Errorf(models.EINVALID, "unrecognised body: an object without \"result\" or \"results\" (keys: %s); "+
			"send Splunk's webhook JSON, a {\"results\": [...]} batch, or NDJSON rows with Content-Type application/x-ndjson", keyList(obj, 8))
	}
	return out, nil
}

func tooManyRows(n, max int) error {
	return models.Errorf(models.ETOOLARGE, "too many rows: %d in one delivery, the limit is %d; split the report or raise SITEMETRICS_INGEST_MAX_ROWS", n, max)
}

func describeJSONError(err error, offset int64) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("%v (at byte %d)", syn, syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("unexpected end of input at byte %d", offset)
	}
	return err
}

// trimBOM drops white space and UTF-8 byte-order marks before the first value (a
// file saved on Windows, or several exports concatenated) and white space after it.
func trimBOM(b []byte) []byte {
	for {
		t := bytes.TrimLeft(b, " \t\r\n")
		t = bytes.TrimPrefix(t, utf8BOM)
		if len(t) == len(b) {
			return bytes.TrimSpace(t)
		}
		b = t
	}
}

var utf8BOM = []byte("\xef\xbb\xbf")

// isExportLine reports a line of Splunk's REST export stream: {"preview": bool,
// "offset": n, "result": {…}, "lastrow": true}, or one of its lines without a row.
func isExportLine(obj map[string]any) bool {
	_, preview := obj["preview"].(bool)
	if !preview {
		return false
	}
	for k := range obj {
		switch k {
		case "preview", "offset", "init_offset", "result", "lastrow", "messages", "fields", "highlighted":
		default:
			return false
		}
	}
	return true
}

func parseNDJSON(b []byte, opt Options) (Body, error) {
	out := Body{Shape: ShapeNDJSON}
	p := rowParser{opt: opt}
	lines := bytes.Split(b, []byte("\n"))
	n := 0
	for _, l := range lines {
		if len(trimBOM(l)) > 0 {
			n++
		}
	}
	if n > opt.MaxRows {
		return Body{}, tooManyRows(n, opt.MaxRows)
	}
	idx, export := 0, false
	for lineNo, l := range lines {
		l = trimBOM(l)
		if len(l) == 0 {
			continue
		}
		v, rest, err := decodeFirst(l)
		obj, isObj := v.(map[string]any)
		switch {
		case err != nil:
			out.Rejected = append(out.Rejected, models.Rejection{Row: idx, Reason: fmt.Sprintf("line %d: malformed JSON: %v", lineNo+1, err)})
		case len(rest) > 0:
			out.Rejected = append(out.Rejected, models.Rejection{Row: idx, Reason: fmt.Sprintf("line %d: more than one JSON value on the line", lineNo+1)})
		case !isObj:
			out.Rejected = append(out.Rejected, models.Rejection{Row: idx, Reason: fmt.Sprintf("line %d: a JSON %s, not a row object", lineNo+1, jsonKind(v))})
		case isExportLine(obj):
			export = true
			res, hasResult := obj["result"]
			switch row, isRow := res.(map[string]any); {
			case obj["preview"] == true:
				out.Previews++ // partial results of a running search: the final ones follow
			case !hasResult:
				// a line of messages or field names, or an empty lastrow: no row
			case !isRow:
				out.Rejected = append(out.Rejected, models.Rejection{Row: idx, Reason: fmt.Sprintf("line %d: \"result\" is %s, not an object of fields", lineNo+1, jsonKind(res))})
			default:
				p.add(&out, idx, row)
			}
		default:
			p.add(&out, idx, obj)
		}
		idx++
	}
	if export {
		out.Shape = ShapeExport
		if len(out.Rows)+len(out.Rejected) == 0 {
			return Body{}, models.Errorf(models.EINVALID, "the export stream holds no final results (%d preview line(s), which are partial results of a running search): "+
				"export a finished search, e.g. search/jobs/export?output_mode=json with preview=false", out.Previews)
		}
	}
	return out, nil
}

// batchRows reads "results": either row objects, or Splunk's CSV-like form
// where the first element is the header (an array of names) and each next one a row.
func batchRows(list []any) ([]map[string]any, error) {
	if len(list) == 0 {
		return nil, nil
	}
	if header, ok := list[0].([]any); ok {
		names := make([]string, len(header))
		for i, h := range header {
			s, ok := h.(string)
			if !ok {
				return nil, models.Errorf(models.EINVALID, "\"results\" starts with an array that is not a header of field names (element %d is %s)", i, jsonKind(h))
			}
			names[i] = s
		}
		rows := make([]map[string]any, 0, len(list)-1)
		for _, item := range list[1:] {
			vals, ok := item.([]any)
			if !ok || len(vals) != len(names) {
				rows = append(rows, nil)
				continue
			}
			r := make(map[string]any, len(names))
			for i, n := range names {
				r[n] = vals[i]
			}
			rows = append(rows, r)
		}
		return rows, nil
	}
	rows := make([]map[string]any, len(list))
	for i, item := range list {
		rows[i], _ = item.(map[string]any)
	}
	return rows, nil
}

// unpack returns the rows of a "result": itself, or one per index when its
// fields are packed arrays (stats list(x)). Internal fields (leading "_",
// other than the time field) are multivalue metadata such as _si, never packing.
func unpack(res map[string]any, timeField string) ([]map[string]any, bool, error) {
	var arrays []string
	for k, v := range res {
		if _, ok := v.([]any); ok && (!strings.HasPrefix(k, "_") || k == timeField) {
			arrays = append(arrays, k)
		}
	}
	sort.Strings(arrays)
	_, timePacked := res[timeField].([]any)
	if !timePacked && len(arrays) < 2 {
		return []map[string]any{res}, false, nil
	}
	n := len(res[arrays[0]].([]any))
	for _, k := range arrays[1:] {
		if m := len(res[k].([]any)); m != n {
			return nil, false, models.Errorf(models.EINVALID, "packed fields have different lengths: %q has %d values, %q has %d", arrays[0], n, k, m)
		}
	}
	if n == 0 {
		return nil, false, models.Errorf(models.EINVALID, "packed fields are empty: no rows to read")
	}
	rows := make([]map[string]any, n)
	for i := range rows {
		r := make(map[string]any, len(res))
		for k, v := range res {
			r[k] = v
		}
		for _, k := range arrays {
			r[k] = res[k].([]any)[i]
		}
		rows[i] = r
	}
	return rows, true, nil
}

type rowParser struct {
	opt Options
	sid string
}

func (p rowParser) add(out *Body, idx int, raw map[string]any) {
	row, err := p.row(idx, raw)
	if err != nil {
		out.Rejected = append(out.Rejected, models.Rejection{Row: idx, Reason: err.Error()})
		return
	}
	out.Rows = append(out.Rows, row)
}

func (p rowParser) row(idx int, raw map[string]any) (Row, error) {
	if len(raw) > maxFieldsInRow {
		return Row{}, fmt.Errorf("%d fields, the limit is %d", len(raw), maxFieldsInRow)
	}
	names := slices.Sorted(maps.Keys(raw))
	for _, k := range names { // in order, so that a row with two bad names is refused in the same words each time
		if err := models.CheckFieldName(k); err != nil {
			return Row{}, fmt.Errorf("field name %q: %v", models.Truncate(k, 40), err)
		}
	}
	row := Row{Index: idx, Fields: make(models.Fields, 0, len(raw))}
	// Time: the feed's field, else the sid's scheduled time, else receipt.
	if v, ok := raw[p.opt.TimeField]; ok && !isBlank(v) {
		t, err := parseRowTime(v)
		if err != nil {
			return Row{}, fmt.Errorf("time field %q: %v", p.opt.TimeField, err)
		}
		row.Time, row.TimeSource = t, TimeFromField
	} else if t, ok := SIDTime(p.sid); ok {
		row.Time, row.TimeSource = t, TimeFromSID
	} else {
		row.Time, row.TimeSource = p.opt.ReceivedAt.UTC().Truncate(time.Microsecond), TimeFromReceived
	}
	// Before 2000 means milliseconds or another unit in a time field; a sid's epoch is
	// Splunk's own scheduled time in seconds, kept even when it is far in the past.
	if row.Time.Before(minRowTime) && row.TimeSource == TimeFromField {
		return Row{}, fmt.Errorf("time %s is before 2000: epoch seconds expected", row.Time.Format(time.RFC3339))
	}
	if row.Time.After(p.opt.ReceivedAt.Add(time.Hour)) {
		return Row{}, fmt.Errorf("time %s is more than an hour in the future (epoch seconds expected, not milliseconds)", row.Time.Format(time.RFC3339))
	}
	if f := p.opt.SeriesField; f != "" {
		v, ok := raw[f]
		if !ok || isBlank(v) {
			return Row{}, fmt.Errorf("series field %q is missing", f)
		}
		s, ok := scalarText(v)
		if !ok {
			return Row{}, fmt.Errorf("series field %q is %s, not a single value", f, jsonKind(v))
		}
		if len(s) > maxSeriesLen {
			return Row{}, fmt.Errorf("series field %q is %d bytes long, the limit is %d", f, len(s), maxSeriesLen)
		}
		if strings.ContainsRune(s, 0) {
			return Row{}, fmt.Errorf("series field %q contains a NUL character, which no series name can hold", f)
		}
		row.Series = s
	}
	for _, k := range names {
		if k == p.opt.TimeField || k == p.opt.SeriesField || strings.HasPrefix(k, "_") || strings.HasPrefix(k, "date_") {
			continue
		}
		x, isNum, err := parseNumber(raw[k])
		if err != nil {
			return Row{}, fmt.Errorf("field %q: %v", k, err)
		}
		if !isNum {
			if contains(p.opt.NumericFields, k) && !isBlank(raw[k]) {
				return Row{}, fmt.Errorf("field %q is %s, not a number", k, describeValue(raw[k]))
			}
			continue
		}
		if x < 0 {
			return Row{}, fmt.Errorf("field %q is negative (%v): counts, durations and ratios are never below zero", k, x)
		}
		row.Fields = append(row.Fields, models.Field{Name: k, Value: x})
	}
	if len(row.Fields) == 0 {
		return Row{}, fmt.Errorf("no numeric fields (fields seen: %s)", strings.Join(limitList(names, 8), ", "))
	}
	row.hash = &rowIdentity{sid: p.sid, raw: raw}
	return row, nil
}

// SIDTime is the scheduled time Splunk encodes in a sid: "…_at_<epoch>_<serial>".
func SIDTime(sid string) (time.Time, bool) {
	m := sidTimeRE.FindStringSubmatch(sid)
	if m == nil {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0).UTC(), true
}

func parseRowTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case json.Number:
		return rowTime(string(x))
	case string:
		return rowTime(strings.TrimSpace(x))
	}
	return time.Time{}, fmt.Errorf("is %s, expected epoch seconds or RFC 3339", jsonKind(v))
}

// rowTime reads a time field's text: epoch seconds or RFC 3339.
func rowTime(s string) (time.Time, error) {
	if f, ok, err := parseDecimal(s); ok {
		if err != nil || math.IsInf(f, 0) || f > 1e11 {
			return time.Time{}, fmt.Errorf("%q is out of range for epoch seconds", models.Truncate(s, 40))
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
	}
	// Splunk Web's CSV export writes _time as 2026-11-02T10:00:00.000+0000.
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q does not parse: expected epoch seconds (e.g. 1700000000.5) or RFC 3339 (e.g. 2026-01-02T15:04:05Z)", models.Truncate(s, 40))
}

// parseDecimal reads s as a decimal number: an optional sign, digits with an optional
// point, an optional exponent. That is what strconv.ParseFloat reads once its other forms
// (hexadecimal, underscores, infinities, NaN) are ruled out by the characters allowed.
// ok is false when s is not such a number; err is set when it is one too large (or too
// small) for a float64.
func parseDecimal(s string) (f float64, ok bool, err error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
			return 0, false, nil
		}
	}
	f, err = strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false, nil
	}
	return f, true, err
}

// parseNumber reads a JSON number or a numeric string. Non-finite and
// out-of-range values are errors; other text is simply not a number.
func parseNumber(v any) (float64, bool, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, false, nil
	}
	return number(s)
}

// number reads a number's text, as parseNumber does.
func number(s string) (float64, bool, error) {
	unsigned := s
	for len(unsigned) > 0 && (unsigned[0] == '+' || unsigned[0] == '-') {
		unsigned = unsigned[1:]
	}
	if strings.EqualFold(unsigned, "nan") || strings.EqualFold(unsigned, "inf") || strings.EqualFold(unsigned, "infinity") {
		return 0, false, fmt.Errorf("%q is not a finite number", s)
	}
	f, ok, err := parseDecimal(s)
	if !ok {
		return 0, false, nil
	}
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false, fmt.Errorf("%q is out of range", models.Truncate(s, 40))
	}
	return f, true, nil
}

// rowHash is the idempotency key: the sid plus the row's canonical JSON
// (encoding/json sorts map keys).
func rowHash(sid string, raw map[string]any) []byte {
	b, _ := json.Marshal(raw)
	h := sha256.New()
	h.Write([]byte(sid))
	h.Write([]byte{0})
	h.Write(b)
	return h.Sum(nil)
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func str(v any) string {
	s, _ := v.(string)
	return s
}

func isBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func describeValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(models.Truncate(s, 40))
	}
	if _, ok := v.([]any); ok {
		return "multivalue (an array)"
	}
	return "a " + jsonKind(v)
}

func keyList(m map[string]any, max int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, strconv.Quote(models.Truncate(k, 30)))
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(limitList(keys, max), ", ")
}

func limitList(s []string, max int) []string {
	if len(s) <= max {
		return s
	}
	return append(append([]string{}, s[:max]...), fmt.Sprintf("… %d more", len(s)-max))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
