package sqlstore

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// A batch locks the stripe of each of its series once, in key order (feed, then
// stripe), so never more than lockStripes per feed however many series it writes; a
// change of a feed's bindings in an import locks every stripe of it.
func TestBatchLocks(t *testing.T) {
	ids := map[seriesKey]int64{{feed: 7, key: "b"}: 12, {feed: 7, key: "a"}: 11, {feed: 7, key: "c"}: 11 + lockStripes, {feed: 3, key: "x"}: 40}
	want := []int64{seriesLock(3, 40), seriesLock(7, 11), seriesLock(7, 12)}
	if got := batchLocks(ids); !reflect.DeepEqual(got, want) || !slices.IsSorted(want) {
		t.Fatalf("keys %v, want %v in order", got, want)
	}
	many := map[seriesKey]int64{}
	for i := range 10000 {
		many[seriesKey{feed: 5, key: fmt.Sprint(i)}] = int64(i + 1)
	}
	if got := batchLocks(many); len(got) != lockStripes {
		t.Fatalf("10,000 series of a feed take %d locks, want %d", len(got), lockStripes)
	}
	all := feedLocks(7, 3, 7)
	if len(all) != 2*lockStripes || !slices.IsSorted(all) || all[0] != seriesLock(3, 0) || !slices.Contains(all, seriesLock(7, 11+lockStripes)) {
		t.Fatalf("every stripe of feeds 3 and 7 once, in order: %v", all)
	}
	if seriesLock(3, lockStripes-1) >= seriesLock(4, 0) {
		t.Fatal("a feed's stripes overlap the next feed's")
	}
}
