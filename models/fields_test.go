package models

import (
	"math"
	"testing"
)

func TestFields(t *testing.T) {
	f := Fields{{"total", 1000}, {"good", 990}}
	if v, ok := f.Get("good"); !ok || v != 990 {
		t.Fatalf("Get(good) = %v, %v", v, ok)
	}
	if _, ok := f.Get("bad"); ok {
		t.Fatal("Get(bad) found a field the row does not have")
	}
	f = f.Set("good", 991).Set("bad", 9)
	if len(f) != 3 || f[1] != (Field{"good", 991}) || f[2] != (Field{"bad", 9}) {
		t.Fatalf("after Set: %v; want good replaced in its place and bad added", f)
	}
	for _, tc := range []struct {
		a, b Fields
		want bool
	}{
		{Fields{{"a", 1}, {"b", 2}}, Fields{{"b", 2}, {"a", 1}}, true}, // any order
		{Fields{{"a", 1}, {"b", 2}}, Fields{{"a", 1}}, false},
		{Fields{{"a", 1}}, Fields{{"b", 1}}, false},
		{Fields{{"a", 1}}, Fields{{"a", 2}}, false},
		{Fields{{"a", 0}}, Fields{{"a", math.Copysign(0, -1)}}, true}, // as == compares, like maps.Equal
		{Fields{{"a", math.NaN()}}, Fields{{"a", math.NaN()}}, false},
		{nil, Fields{}, true},
	} {
		if got := tc.a.Equal(tc.b); got != tc.want || tc.b.Equal(tc.a) != tc.want {
			t.Errorf("%v.Equal(%v) = %v, want %v both ways", tc.a, tc.b, got, tc.want)
		}
	}
	m := map[string]float64{"z": 1, "a": 2}
	if got := FieldsOf(m); len(got) != 2 || got[0] != (Field{"a", 2}) || got[1] != (Field{"z", 1}) || len(got.Map()) != 2 || got.Map()["z"] != 1 {
		t.Fatalf("FieldsOf(%v) = %v, Map %v", m, got, got.Map())
	}
}
