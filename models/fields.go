package models

import (
	"maps"
	"slices"
)

// Field is one named number of a row.
type Field struct {
	Name  string
	Value float64
}

// Fields are a row's or a stored sample's numbers, each name once, in no set order. A row
// has a few, so a name is found by a scan: an ingested row costs no map to build or hash.
// What compares or sums every field of two rows uses a map past scanLimit fields, so a
// row of hundreds of fields costs no more than it did as a map.
type Fields []Field

const scanLimit = 16

// Get is the named field's value, and whether the row has it.
func (f Fields) Get(name string) (float64, bool) {
	if i := f.index(name); i >= 0 {
		return f[i].Value, true
	}
	return 0, false
}

// index is where the named field is, or -1.
func (f Fields) index(name string) int {
	for i := range f {
		if f[i].Name == name {
			return i
		}
	}
	return -1
}

// Plus is f with o's values added, field by field, each in its place; a name f lacks
// counts from zero and comes after f's.
func (f Fields) Plus(o Fields) Fields {
	out := slices.Clone(f)
	var at map[string]int // where each name is in out, past scanLimit fields
	if len(f) > scanLimit || len(o) > scanLimit {
		at = make(map[string]int, len(f)+len(o))
		for i, x := range f {
			at[x.Name] = i
		}
	}
	for _, x := range o {
		i, ok := at[x.Name]
		if at == nil {
			i = out.index(x.Name)
			ok = i >= 0
		}
		if ok {
			out[i].Value += x.Value
			continue
		}
		if at != nil {
			at[x.Name] = len(out)
		}
		out = append(out, x)
	}
	return out
}

// FieldsOf is the fields of a map, in name order.
func FieldsOf(m map[string]float64) Fields {
	f := make(Fields, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		f = append(f, Field{Name: name, Value: m[name]})
	}
	return f
}

// Map is the fields by name.
func (f Fields) Map() map[string]float64 {
	m := make(map[string]float64, len(f))
	for _, x := range f {
		m[x.Name] = x.Value
	}
	return m
}

// Equal reports whether o holds the same names with equal values, in any order.
func (f Fields) Equal(o Fields) bool {
	if len(f) != len(o) {
		return false
	}
	if len(f) > scanLimit {
		return maps.Equal(f.Map(), o.Map())
	}
	for _, x := range f {
		if v, ok := o.Get(x.Name); !ok || v != x.Value {
			return false
		}
	}
	return true
}

// SameNames reports whether o names the same fields as f, in the same order: the rows of
// a delivery mostly do, so what was looked up for one row's names holds for the next.
func (f Fields) SameNames(o Fields) bool {
	if len(f) != len(o) {
		return false
	}
	for i := range f {
		if f[i].Name != o[i].Name {
			return false
		}
	}
	return true
}
