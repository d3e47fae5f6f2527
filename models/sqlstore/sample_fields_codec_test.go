package sqlstore

import (
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/sitemetrics/sitemetrics/models"
)

// Fields read back exactly as encode wrote them; what encode cannot have written is an
// error, and an id this replica has not seen asks for the names again.
func TestSampleFieldsCodec(t *testing.T) {
	c := &fieldNames{ids: map[string]int64{"good": 3, "total": 1, "p99": 12}, names: map[int64]string{3: "good", 1: "total", 12: "p99"}}
	e := c.encoder() // one batch's: a row naming the fields of the row before reuses their numbers
	for _, x := range []struct {
		fields models.Fields
		raw    string
	}{
		{models.Fields{}, `[]`},
		{models.Fields{{Name: "good", Value: 997}, {Name: "total", Value: 1000}}, `[1,1000,3,997]`},
		{models.Fields{{Name: "good", Value: 998}, {Name: "total", Value: 1000}}, `[1,1000,3,998]`},
		{models.Fields{{Name: "total", Value: 5}, {Name: "good", Value: 4}}, `[1,5,3,4]`},
		{models.Fields{{Name: "good", Value: 4}, {Name: "p99", Value: 5}}, `[3,4,12,5]`},
		{models.Fields{{Name: "good", Value: -0.5}, {Name: "total", Value: 1e-7}, {Name: "p99", Value: math.MaxFloat64}}, `[1,1e-07,3,-0.5,12,1.7976931348623157e+308]`},
		{models.Fields{{Name: "p99", Value: 123.456789012345678}}, `[12,123.45678901234568]`},
	} {
		raw, err := e.encode(x.fields)
		if err != nil || raw != x.raw {
			t.Fatalf("%v written as %q (%v); want %q", x.fields, raw, err, x.raw)
		}
		got, ok, err := c.decode(raw)
		if err != nil || !ok || !reflect.DeepEqual(got.Map(), x.fields.Map()) {
			t.Fatalf("%v written as %q read back as %v (%v, %v)", x.fields, raw, got, ok, err)
		}
	}
	if raw, err := e.encode(models.Fields{{Name: "p99", Value: 1}, {Name: "nope", Value: 2}}); err == nil {
		t.Fatalf("a field without a number written as %q", raw)
	}
	if raw, err := e.encode(models.Fields{{Name: "p99", Value: 1}, {Name: "good", Value: 2}}); err != nil || raw != `[3,2,12,1]` {
		t.Fatalf("after an unnumbered field, written as %q (%v)", raw, err)
	}
	for raw, want := range map[string]map[string]float64{
		`[1, 1000, 3, 997]`:         {"total": 1000, "good": 997},
		`{"good":997,"total":1000}`: {"good": 997, "total": 1000}, // stored as an object before
	} {
		if got, ok, err := c.decode(raw); err != nil || !ok || !reflect.DeepEqual(got.Map(), want) {
			t.Fatalf("%q read as %v (%v, %v)", raw, got, ok, err)
		}
	}
	for _, raw := range []string{`[1]`, `[1,2,]`, `[1,2`, `[,]`, `[1,x]`, `[1.5,2]`, `[1,NaN]`, `[1,1e999]`, `[1,2,3]`, `{"good":`} {
		if got, _, err := c.decode(raw); err == nil {
			t.Fatalf("%q read as %v", raw, got)
		}
	}
	if got, ok, err := c.decode(`[1,1000,99,5]`); ok || err != nil || got != nil {
		t.Fatalf("an unknown id: %v, %v, %v; want the names read again", got, ok, err)
	}
}

// appendValue writes what strconv's shortest 'g' form writes, integers included.
func TestAppendValueIsShortestG(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 1, 7, 997, 1000, 999999, 1e6, 1234567, 0.5, 999999.5, -3, 1e21, 1e-7,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 4503599627370496.5, 123456.000001}
	for i := range 3000 {
		values = append(values, float64(i*337), float64(i)/8)
	}
	for _, v := range values {
		if got, want := string(appendValue(nil, v)), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Fatalf("%v written %q, strconv writes %q", v, got, want)
		}
	}
}
