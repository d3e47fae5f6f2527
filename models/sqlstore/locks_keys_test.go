package sqlstore

import (
	"fmt"
	"reflect"
	"testing"
)

// A batch locks the stripe of each of its series once, in key order (feed, then
// stripe), so never more than lockStripes per feed however many series it writes. A
// stripe depends on the feed and the series key alone.
func TestBatchLocks(t *testing.T) {
	a, b := seriesLock(7, "a"), seriesLock(7, "b")
	if a == b || seriesLock(7, "a") != a || seriesLock(8, "a") == a {
		t.Fatalf("stripes of a and b in feed 7: %d %d; of a in feed 8: %d", a, b, seriesLock(8, "a"))
	}
	want := []int64{seriesLock(3, "x"), min(a, b), max(a, b)}
	if got := batchLocks([]seriesKey{{7, "b"}, {7, "a"}, {3, "x"}, {7, "a"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	var many []seriesKey
	for i := range 10000 {
		many = append(many, seriesKey{5, fmt.Sprint("svc-", i)})
	}
	if got := batchLocks(many); len(got) != lockStripes {
		t.Fatalf("10,000 series of a feed take %d locks, want %d", len(got), lockStripes)
	}
}
