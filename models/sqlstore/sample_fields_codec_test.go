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
	for _, fields := range []map[string]float64{
		{},
		{"good": 997, "total": 1000},
		{"good": -0.5, "total": 1e-7, "p99": math.MaxFloat64},
		{"p99": 123.456789012345678},
	} {
		raw, err := c.encode(models.FieldsOf(fields))
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := c.decode(raw)
		if err != nil || !ok || !reflect.DeepEqual(got.Map(), fields) {
			t.Fatalf("%v written as %q read back as %v (%v, %v)", fields, raw, got, ok, err)
		}
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
