package sqlstore

import (
	"encoding/hex"
	"math"
	"reflect"
	"testing"

	"github.com/sitemetrics/sitemetrics/models"
)

func sampleChange() rollupChange {
	return rollupChange{
		hours: []rollupDelta{
			{rollupKey{7, 2, 1_767_225_600}, models.Sums{Bad: 3, Total: 1000}},
			{rollupKey{7, 2, 1_767_229_200}, models.Sums{Bad: 0.5, Total: 12.25, Excluded: 1}},
			{rollupKey{9, 0, 1_767_225_600}, models.Sums{Bad: -4, Total: -1000}}, // a replaced row's difference
		},
		last: []seriesBucket{{5, 1_767_225_900}, {31, 1_767_229_500}},
		slos: []int64{7, 9},
	}
}

// A queued change reads back as it was written and sums into hours in key order, each
// once, and their days; no part of it cut short, nothing added after it, no other
// format and no non-finite number is taken for a change.
func TestQueuedChangeEncoding(t *testing.T) {
	c := sampleChange()
	// A plan's hours come in its order, a key again for a second binding of a series.
	c.hours = append([]rollupDelta{{rollupKey{9, 0, 1_767_225_600}, models.Sums{Bad: 1, Total: 10}}}, c.hours...)
	raw := queuedOf(&c).encode()
	q, err := decodeQueued(raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := queuedOf(&c); !reflect.DeepEqual(q, want) {
		t.Fatalf("read back %+v; want %+v", q, want)
	}
	sum := newRollupSum()
	sum.addQueued(q)
	got := sum.change()
	want := rollupChange{
		hours: []rollupDelta{
			{rollupKey{7, 2, 1_767_225_600}, models.Sums{Bad: 3, Total: 1000}},
			{rollupKey{7, 2, 1_767_229_200}, models.Sums{Bad: 0.5, Total: 12.25, Excluded: 1}},
			{rollupKey{9, 0, 1_767_225_600}, models.Sums{Bad: -3, Total: -990}},
		},
		last: c.last, slos: c.slos,
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(sum.slos, map[int64]int{7: 1, 9: 1}) {
		t.Fatalf("summed %+v, %v; want %+v", got, sum.slos, want)
	}
	wantDays := []rollupDelta{
		{rollupKey{7, 2, 1_767_225_600}, models.Sums{Bad: 3.5, Total: 1012.25, Excluded: 1}},
		{rollupKey{9, 0, 1_767_225_600}, models.Sums{Bad: -3, Total: -990}},
	}
	if days := got.days(); !reflect.DeepEqual(days, wantDays) {
		t.Fatalf("days %+v; want %+v", days, wantDays)
	}
	// A fold reads change after change into one queuedChange: a shorter one after a
	// longer one keeps nothing of it.
	var reused queuedChange
	short := sampleChange()
	for _, b := range [][]byte{raw, queuedOf(&short).encode()} {
		want, _ := decodeQueued(b)
		if err := reused.read(b); err != nil || !reflect.DeepEqual(reused, want) {
			t.Fatalf("read again into the same room as %+v (%v); want %+v", reused, err, want)
		}
	}
	for n := range len(raw) {
		if _, err := decodeQueued(raw[:n]); err == nil {
			t.Fatalf("the first %d of %d bytes were read as a change", n, len(raw))
		}
	}
	for _, bad := range [][]byte{append(raw[:len(raw):len(raw)], 0), []byte(`{"slo":[1],"gen":[]}`)} {
		if _, err := decodeQueued(bad); err == nil {
			t.Fatalf("%q was read as a change", bad)
		}
	}
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		poisoned := queuedOf(&c)
		poisoned.Total[1] = x
		if _, err := decodeQueued(poisoned.encode()); err == nil {
			t.Fatalf("a change with a total of %v was read", x)
		}
	}
	uneven := queuedOf(&c)
	uneven.Gen = uneven.Gen[:1]
	if _, err := decodeQueued(uneven.encode()); err == nil {
		t.Fatal("columns of different lengths were read as a change")
	}
}

// A change queued in format 1 (by a replica not yet upgraded: these bytes are what
// 1a239c8 wrote for sampleChange) folds in as it was; format 2 writes it in far fewer.
func TestQueuedChangeFormat1(t *testing.T) {
	v1, err := hex.DecodeString("01030e0e12030404000380e4ad950da09cae950d80e4ad950d030000000000000840000000000000e03f00000000000010c0" +
		"030000000000408f4000000000008028400000000000408fc003000200020a3e02d8e8ad950df8a0ae950d020e12")
	if err != nil {
		t.Fatal(err)
	}
	c := sampleChange()
	q, err := decodeQueued(v1)
	if err != nil {
		t.Fatal(err)
	}
	if want := queuedOf(&c); !reflect.DeepEqual(q, want) {
		t.Fatalf("format 1 read as %+v; want %+v", q, want)
	}
	if v2 := queuedOf(&c).encode(); v2[0] != queuedFormat || len(v2) >= len(v1)*2/3 {
		t.Fatalf("format %d, %d bytes where format 1 took %d", v2[0], len(v2), len(v1))
	}
}

// The change a delivery of 1,000 SLOs' newest bucket queues (an hour row and a series
// data time per SLO, counts as whole numbers) is small: format 1 wrote it in 33,893 bytes,
// which PostgreSQL stored out of line and logged whole.
func TestQueuedChangeSize(t *testing.T) {
	var c rollupChange
	hour := int64(1_767_225_600)
	for slo := int64(1); slo <= 1000; slo++ {
		c.hours = append(c.hours, rollupDelta{rollupKey{slo, 1, hour}, models.Sums{Bad: float64(slo % 7), Total: 1000}})
		c.last = append(c.last, seriesBucket{slo + 500, hour + 1500})
		c.slos = append(c.slos, slo)
	}
	raw := queuedOf(&c).encode()
	t.Logf("a change of 1,000 SLOs' newest bucket: %d bytes", len(raw))
	if len(raw) > 12_000 {
		t.Fatalf("%d bytes", len(raw))
	}
}

// Whatever bytes a queue row holds, reading them returns a change or an error.
func FuzzDecodeQueued(f *testing.F) {
	c := sampleChange()
	f.Add(queuedOf(&c).encode())
	f.Add([]byte{queuedFormat, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, raw []byte) {
		q, err := decodeQueued(raw)
		if err != nil {
			return
		}
		if again, err := decodeQueued(q.encode()); err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("%q read as %+v, written again and read as %+v (%v)", raw, q, again, err)
		}
	})
}

// decodeQueued is read into a queuedChange of its own.
func decodeQueued(raw []byte) (queuedChange, error) {
	var q queuedChange
	if err := q.read(raw); err != nil {
		return queuedChange{}, err
	}
	return q, nil
}
