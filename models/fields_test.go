package models

import (
	"math"
	"slices"
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
	f = f.Plus(Fields{{"good", 1}, {"bad", 9}})
	if len(f) != 3 || f[1] != (Field{"good", 991}) || f[2] != (Field{"bad", 9}) {
		t.Fatalf("after Plus: %v; want good summed in its place and bad added", f)
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
	// Sums by scans and, past scanLimit fields, through a map: the same either way.
	for _, n := range []int{3, scanLimit + 5} {
		var a, b Fields
		for i := range n {
			a = append(a, Field{string(rune('a' + i)), float64(i)})
			b = append(b, Field{string(rune('a' + n - 1 - i)), 10})
		}
		b = append(b, Field{"new", 1})
		sum := a.Plus(b)
		if len(sum) != n+1 || len(a) != n || a[1].Value != 1 {
			t.Fatalf("%d fields: Plus gave %v and left %v", n, sum, a)
		}
		for i, x := range sum[:n] {
			if x != (Field{string(rune('a' + i)), float64(i) + 10}) {
				t.Fatalf("%d fields: Plus gave %v at %d", n, x, i)
			}
		}
		if sum[n] != (Field{"new", 1}) || !sum.Equal(slices.Clone(sum)) || sum.Equal(a.Plus(a)) {
			t.Fatalf("%d fields: Plus gave %v", n, sum)
		}
		rev := slices.Clone(sum)
		slices.Reverse(rev)
		if !sum.Equal(rev) {
			t.Fatalf("%d fields: %v not Equal to itself reversed", n, sum)
		}
	}
	m := map[string]float64{"z": 1, "a": 2}
	if got := FieldsOf(m); len(got) != 2 || got[0] != (Field{"a", 2}) || got[1] != (Field{"z", 1}) || len(got.Map()) != 2 || got.Map()["z"] != 1 {
		t.Fatalf("FieldsOf(%v) = %v, Map %v", m, got, got.Map())
	}
	ab, ba := Fields{{"a", 1}, {"b", 2}}, Fields{{"b", 3}, {"a", 4}}
	if !ab.SameNames(Fields{{"a", 5}, {"b", 6}}) || ab.SameNames(ba) || ab.SameNames(ab[:1]) || !Fields(nil).SameNames(Fields{}) {
		t.Fatal("SameNames: the same names in the same order, values aside")
	}
}
