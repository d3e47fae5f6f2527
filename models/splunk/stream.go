package splunk

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sitemetrics/sitemetrics/models"
)

// parseStream reads a {"results": [{…}, …]} batch, the shape rows arrive in by the
// thousand, row by row from the JSON's tokens: no tree of maps is built, and a row's
// numbers go straight into its fields (BenchmarkParseBatch). A row it does not read
// plainly (a repeated or escaped name, a nested value where a number may be, no time
// field so that the sid's time applies, any row it would refuse) is kept as its JSON
// and read by rowParser from its map once the sid is known, so every row is accepted or
// refused in the same words as through the tree. ok is false for every other body,
// which parse reads as a tree: another shape, "result", "preview" or "results" twice,
// a header row, a row that is not an object, too many rows, malformed JSON.
func parseStream(body []byte, opt Options) (out Body, ok bool) {
	if opt.TimeField == opt.SeriesField {
		return Body{}, false
	}
	r := streamReader{
		dec:  jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true)),
		body: body, opt: opt, names: map[string]string{},
	}
	if r.dec.PeekKind() != '{' {
		return Body{}, false
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return Body{}, false
	}
	var rows []Row
	for r.dec.PeekKind() != '}' {
		name, err := r.dec.ReadValue()
		if err != nil || bytes.IndexByte(name, '\\') >= 0 {
			return Body{}, false
		}
		ok = true
		switch string(name[1 : len(name)-1]) {
		case "result", "preview":
			return Body{}, false
		case "results":
			if rows != nil {
				return Body{}, false
			}
			rows, ok = r.rows()
		case "sid":
			out.SID, ok = r.text()
		case "search_name":
			out.SearchName, ok = r.text()
		case "results_link":
			out.ResultsLink, ok = r.text()
		default:
			ok = r.dec.SkipValue() == nil
		}
		if !ok {
			return Body{}, false
		}
	}
	if _, err := r.dec.ReadToken(); err != nil || rows == nil || len(bytes.TrimSpace(body[r.dec.InputOffset():])) > 0 {
		return Body{}, false
	}
	out.Shape = ShapeBatch
	// The rows are kept where the stream put them: row i goes to out.Rows[k], k ≤ i,
	// and a row not read plainly (no fields yet) is read from its map there, or refused.
	out.Rows = rows[:0]
	p := rowParser{opt: opt, sid: out.SID}
	for i, row := range rows {
		if row.Fields == nil {
			p.add(&out, i, rowMap(row.hash.json))
			continue
		}
		row.hash.sid = out.SID
		out.Rows = append(out.Rows, row)
	}
	return out, true
}

// maxStreamFields is the most names a row read plainly has; rows with more are read
// through their maps, where the limit of maxFieldsInRow is checked.
const maxStreamFields = 32

type streamReader struct {
	dec   *jsontext.Decoder
	body  []byte
	opt   Options
	names map[string]string // a name's text, once it passed models.CheckFieldName
	buf   []byte
	ids   []rowIdentity // where identity takes the next row's from
	// fields holds the rows' fields one after another: each row's are a piece of it,
	// not a map or a slice of its own.
	fields []models.Field
}

// identity is a row's identity, taken from a block of them: one allocation for many
// rows, not one a row.
func (r *streamReader) identity(json []byte) *rowIdentity {
	if len(r.ids) == cap(r.ids) {
		r.ids = make([]rowIdentity, 0, 256)
	}
	r.ids = append(r.ids, rowIdentity{json: json})
	return &r.ids[len(r.ids)-1]
}

// text reads a top-level string; any other value reads as "", as in the tree.
func (r *streamReader) text() (string, bool) {
	if r.dec.PeekKind() != '"' {
		return "", r.dec.SkipValue() == nil
	}
	raw, err := r.dec.ReadValue()
	if err != nil {
		return "", false
	}
	s, err := unquote(raw)
	return s, err == nil
}

// rows reads the "results" array: at least one row and at most MaxRows, each an object.
// A row not read plainly has no fields.
func (r *streamReader) rows() ([]Row, bool) {
	if r.dec.PeekKind() != '[' {
		return nil, false
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return nil, false
	}
	rows := make([]Row, 0, min(r.opt.MaxRows, len(r.body)/64+1)) // a row of a few fields is 60 bytes or more
	r.fields = make([]models.Field, 0, 2*cap(rows))
	for r.dec.PeekKind() != ']' {
		if len(rows) == r.opt.MaxRows || r.dec.PeekKind() != '{' {
			return nil, false
		}
		row, ok := r.row(len(rows))
		if !ok {
			return nil, false
		}
		rows = append(rows, row)
	}
	if _, err := r.dec.ReadToken(); err != nil || len(rows) == 0 {
		return nil, false
	}
	return rows, true
}

// row reads one row object, with its JSON for its identity; a row it does not read
// plainly has no fields. ok is false only when the JSON cannot be read.
func (r *streamReader) row(idx int) (row Row, ok bool) {
	start := r.dec.InputOffset()
	if _, err := r.dec.ReadToken(); err != nil {
		return Row{}, false
	}
	row = Row{Index: idx}
	first := len(r.fields) // the row's fields are r.fields[first:] as they are read
	var seen [maxStreamFields]string
	n := 0
	plain, hasTime, hasSeries := true, false, false
	for r.dec.PeekKind() != '}' {
		raw, err := r.dec.ReadValue()
		if err != nil {
			return Row{}, false
		}
		name, valid := r.name(raw)
		if !plain || !valid || n == len(seen) || slices.Contains(seen[:n], name) {
			plain = false
			if r.dec.SkipValue() != nil {
				return Row{}, false
			}
			continue
		}
		seen[n] = name
		n++
		if plain, err = r.field(&row, name, &hasTime, &hasSeries); err != nil {
			return Row{}, false
		}
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return Row{}, false
	}
	row.hash = r.identity(bytes.TrimLeft(r.body[start:r.dec.InputOffset()], " \t\r\n,"))
	if !plain || !hasTime || (r.opt.SeriesField != "" && !hasSeries) || len(r.fields) == first {
		r.fields = r.fields[:first]
		return Row{Index: idx, hash: row.hash}, true
	}
	row.Fields = r.fields[first:len(r.fields):len(r.fields)]
	return row, true
}

// name is a field name's text, the same string each time it repeats; valid is false
// for a name with an escape or one that models.CheckFieldName refuses.
func (r *streamReader) name(raw []byte) (string, bool) {
	if s, ok := r.names[string(raw)]; ok {
		return s, true
	}
	if bytes.IndexByte(raw, '\\') >= 0 {
		return "", false
	}
	s := string(raw[1 : len(raw)-1])
	if models.CheckFieldName(s) != nil {
		return "", false
	}
	if len(r.names) < maxFieldsInRow {
		r.names[string(raw)] = s
	}
	return s, true
}

// field reads one field's value into the row as rowParser.row would, and says whether
// the row is still plain: false where rowParser would refuse it or read it otherwise.
func (r *streamReader) field(row *Row, name string, hasTime, hasSeries *bool) (bool, error) {
	kind := r.dec.PeekKind()
	if kind == '{' || kind == '[' {
		if err := r.dec.SkipValue(); err != nil {
			return false, err
		}
		// An array or object is no time, series or number: only a field never read may be one.
		return name != r.opt.TimeField && name != r.opt.SeriesField && (ignored(name) || !contains(r.opt.NumericFields, name)), nil
	}
	raw, err := r.dec.ReadValue()
	if err != nil {
		return false, err
	}
	var text []byte // a string's text, trimmed, or a number's
	switch kind {
	case '"':
		if text, err = r.unquote(raw); err != nil {
			return false, nil
		}
		text = bytes.TrimSpace(text)
	case '0':
		text = raw
	}
	blank := kind == 'n' || (kind == '"' && len(text) == 0)
	switch {
	case name == r.opt.TimeField:
		if blank || text == nil {
			return false, nil // the sid's time, or an error: through the map
		}
		t, err := streamTime(text)
		if err != nil || t.Before(minRowTime) || t.After(r.opt.ReceivedAt.Add(time.Hour)) {
			return false, nil
		}
		row.Time, row.TimeSource, *hasTime = t, TimeFromField, true
	case name == r.opt.SeriesField:
		switch {
		case blank:
			return false, nil
		case text == nil:
			text = strconv.AppendBool(nil, kind == 't')
		}
		if len(text) > maxSeriesLen || bytes.IndexByte(text, 0) >= 0 {
			return false, nil
		}
		row.Series, *hasSeries = string(text), true
	case ignored(name):
	case text == nil:
		// null or a boolean: no number, which only a numeric field must be.
		return blank || !contains(r.opt.NumericFields, name), nil
	default:
		x, err := streamNumber(text)
		if err != nil {
			return false, nil
		}
		if math.IsNaN(x) {
			return blank || !contains(r.opt.NumericFields, name), nil
		}
		if x < 0 {
			return false, nil
		}
		r.fields = append(r.fields, models.Field{Name: name, Value: x})
	}
	return true, nil
}

// streamTime reads a time field's text as rowTime does; epoch seconds in digits, what
// Splunk sends, are read as an integer, without a string or a float.
func streamTime(text []byte) (time.Time, error) {
	if len(text) > 0 && text[0] >= '0' && text[0] <= '9' {
		if sec, err := strconv.ParseInt(string(text), 10, 64); err == nil && sec <= 1e11 {
			return time.Unix(sec, 0).UTC(), nil
		}
	}
	return rowTime(string(text))
}

// streamNumber reads a number's text as number does, without allocating for a plain
// decimal (digits alone are read as an integer); NaN stands for text that is not a number.
func streamNumber(text []byte) (float64, error) {
	if len(text) > 0 && text[0] >= '0' && text[0] <= '9' {
		if n, err := strconv.ParseInt(string(text), 10, 64); err == nil {
			return float64(n), nil
		}
	}
	if f, ok, err := parseDecimal(string(text)); ok && err == nil && !math.IsInf(f, 0) {
		return f, nil
	}
	f, isNum, err := number(string(text))
	if !isNum && err == nil {
		return math.NaN(), nil
	}
	return f, err
}

// unquote is a JSON string's text, in a buffer reused from string to string.
func (r *streamReader) unquote(raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var err error
	r.buf, err = jsontext.AppendUnquote(r.buf[:0], raw)
	return r.buf, err
}

// ignored are the fields a row never stores: Splunk's internal ones and its date_ parts.
func ignored(name string) bool {
	return strings.HasPrefix(name, "_") || strings.HasPrefix(name, "date_")
}

// rowMap decodes a row object read by the stream into the map rowParser reads.
func rowMap(b []byte) map[string]any {
	v, _, _ := decodeFirst(b)
	m, _ := v.(map[string]any)
	return m
}
