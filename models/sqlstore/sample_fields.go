package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sitemetrics/sitemetrics/models"
)

// fieldNames numbers field names once (the field_names table), so that a sample
// stores its fields as a JSON array of name ids and values, [1,997,2,1000], not as
// an object naming each field, {"good":997,"total":1000}: 11 bytes instead of 26 for
// two fields, which brings a sample's row from 84 to 68 bytes on PostgreSQL. Names
// are only ever added, so what a replica remembers stays true; a sample naming an
// id it has not seen yet (another replica added it) makes it read the table again.
// Samples stored as objects before stay so and are read as such.
type fieldNames struct {
	mu    sync.RWMutex
	ids   map[string]int64
	names map[int64]string
}

// fieldEncoder writes one batch's samples as [id, value, ...] in id order. Every name
// must be known: writers call knowFieldNames first. A sample is encoded for every row
// ingested, and a delivery's rows mostly name the same fields in the same order, so the
// names' numbers are looked up again only for a row whose names differ from the one
// before's (the numbers of a name never change).
type fieldEncoder struct {
	c    *fieldNames
	prev models.Fields // the row whose names ids holds the numbers of, in order
	ids  []int64
}

func (c *fieldNames) encoder() *fieldEncoder { return &fieldEncoder{c: c} }

func (e *fieldEncoder) encode(fields models.Fields) (string, error) {
	if !fields.SameNames(e.prev) {
		if err := e.number(fields); err != nil {
			return "", err
		}
	}
	type field struct {
		id int64
		v  float64
	}
	var few [8]field // most samples have a few fields: no allocation for them
	list := few[:0]
	for i, f := range fields {
		if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			return "", fmt.Errorf("encode sample fields: %s is %v", f.Name, f.Value)
		}
		list = append(list, field{e.ids[i], f.Value})
	}
	slices.SortFunc(list, func(a, b field) int { return cmp.Compare(a.id, b.id) })
	var out strings.Builder // its String does not copy what was written
	out.Grow(2 + len(list)*16)
	var num [32]byte
	out.WriteByte('[')
	for i, f := range list {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(strconv.AppendInt(num[:0], f.id, 10))
		out.WriteByte(',')
		out.Write(appendValue(num[:0], f.v))
	}
	out.WriteByte(']')
	return out.String(), nil
}

// number looks up the numbers of fields' names.
func (e *fieldEncoder) number(fields models.Fields) error {
	e.prev, e.ids = nil, e.ids[:0]
	e.c.mu.RLock()
	defer e.c.mu.RUnlock()
	for _, f := range fields {
		id, ok := e.c.ids[f.Name]
		if !ok {
			return fmt.Errorf("encode sample fields: field %q has no number", f.Name)
		}
		e.ids = append(e.ids, id)
	}
	e.prev = fields
	return nil
}

// appendValue writes v as strconv's shortest 'g' form does. A whole number below a
// million, what counts mostly are, is written as an integer, which is the same text
// found several times faster.
func appendValue(b []byte, v float64) []byte {
	if v >= 0 && v < 1e6 && v == math.Trunc(v) && !math.Signbit(v) {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// decode reads fields stored either way (the array as encode writes it, with strconv:
// a sample is decoded each time a summary reads it); ok is false when the array names
// an id this replica does not know.
func (c *fieldNames) decode(raw string) (fields models.Fields, ok bool, err error) {
	if len(raw) == 0 || raw[0] != '[' {
		var m map[string]float64
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, true, fmt.Errorf("decode sample fields: %w", err)
		}
		return models.FieldsOf(m), true, nil
	}
	body, closed := strings.CutSuffix(raw[1:], "]")
	if !closed {
		return nil, true, fmt.Errorf("decode sample fields %q: not [id, value, ...]", raw)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	fields = make(models.Fields, 0, strings.Count(body, ",")/2+1)
	for body != "" {
		var idText, valueText string
		var more bool
		idText, body, _ = strings.Cut(body, ",")
		valueText, body, more = strings.Cut(body, ",")
		id, err1 := strconv.ParseInt(strings.TrimSpace(idText), 10, 64)
		v, err2 := strconv.ParseFloat(strings.TrimSpace(valueText), 64)
		if err1 != nil || err2 != nil || math.IsInf(v, 0) || math.IsNaN(v) || (more && body == "") {
			return nil, true, fmt.Errorf("decode sample fields %q: not [id, value, ...]", raw)
		}
		name, known := c.names[id]
		if !known {
			return nil, false, nil
		}
		fields = append(fields, models.Field{Name: name, Value: v}) // each id once, as encode writes them
	}
	return fields, true, nil
}

// loadFieldNames reads every numbered name.
func (s *Store) loadFieldNames(ctx context.Context) error {
	rows, err := s.db.WithContext(ctx).Raw("SELECT id, name FROM field_names").Rows()
	if err != nil {
		return fmt.Errorf("read field names: %w", err)
	}
	defer rows.Close()
	ids, names := map[string]int64{}, map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		ids[name], names[id] = id, name
	}
	if err := rows.Err(); err != nil {
		return err
	}
	c := s.fields
	c.mu.Lock()
	c.ids, c.names = ids, names
	c.mu.Unlock()
	return nil
}

// knowFieldNames numbers the names a batch's rows carry that are not numbered yet. It
// runs before the ingest transaction, in statements of its own, so it holds no lock
// that transaction's series locks could wait behind; a name numbered for a delivery
// that then fails only stays unused.
func (s *Store) knowFieldNames(ctx context.Context, batch []*pendingDelivery) error {
	c := s.fields
	c.mu.RLock()
	seen := map[string]bool{}
	var missing []string
	var prev models.Fields
	for _, p := range batch {
		for _, r := range p.rows {
			if r.Fields.SameNames(prev) {
				continue // the row before's names, looked at already
			}
			prev = r.Fields
			for _, f := range r.Fields {
				if _, ok := c.ids[f.Name]; !ok && !seen[f.Name] {
					seen[f.Name] = true
					missing = append(missing, f.Name)
				}
			}
		}
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	// A delivery may name tens of thousands of fields (500 a row): a statement numbers
	// at most fieldNamesChunk, within every database's limit on parameters.
	for chunk := range slices.Chunk(missing, fieldNamesChunk) {
		q := "INSERT INTO field_names (name) VALUES (?)" + strings.Repeat(", (?)", len(chunk)-1) + " ON CONFLICT (name) DO NOTHING"
		values := make([]any, len(chunk))
		for i, name := range chunk {
			values[i] = name
		}
		if err := s.db.WithContext(ctx).Exec(q, values...).Error; err != nil {
			return fmt.Errorf("number field names: %w", err)
		}
	}
	return s.loadFieldNames(ctx)
}

// decodeFields reads a sample's stored fields, reading the names again once if it
// names one this replica has not seen.
func (s *Store) decodeFields(ctx context.Context, raw string) (models.Fields, error) {
	f, ok, err := s.fields.decode(raw)
	if ok || err != nil {
		return f, err
	}
	if err := s.loadFieldNames(ctx); err != nil {
		return nil, err
	}
	if f, ok, err = s.fields.decode(raw); !ok && err == nil {
		err = fmt.Errorf("decode sample fields %q: a field number that field_names does not have", raw)
	}
	return f, err
}

// fieldNamesChunk is how many names one statement numbers.
const fieldNamesChunk = 1000
