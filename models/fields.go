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
	for _, x := range f {
		if x.Name == name {
			return x.Value, true
		}
	}
	return 0, false
}

// Set gives the named field a value, in its place when the row has it already.
func (f Fields) Set(name string, v float64) Fields {
	for i := range f {
		if f[i].Name == name {
			f[i].Value = v
			return f
		}
	}
	return append(f, Field{Name: name, Value: v})
}

// Plus is f with o's values added, field by field; a name f lacks counts from zero.
func (f Fields) Plus(o Fields) Fields {
	out := slices.Clone(f)
	if len(f) <= scanLimit && len(o) <= scanLimit {
		for _, x := range o {
			v, _ := out.Get(x.Name)
			out = out.Set(x.Name, v+x.Value)
		}
		return out
	}
	at := make(map[string]int, len(out)+len(o))
	for i, x := range out {
		at[x.Name] = i
	}
	for _, x := range o {
		if i, ok := at[x.Name]; ok {
			out[i].Value += x.Value
			continue
		}
		at[x.Name] = len(out)
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
