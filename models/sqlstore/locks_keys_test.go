package sqlstore

import (
	"fmt"
	"reflect"
	"testing"
)

// Feeds are locked before series, each in id order, whatever the order of the batch;
// a feed with more series than seriesLocksMax is locked whole and exclusive, its series
// not one by one; series locks are shared only for batches of new samples.
func TestBatchLocks(t *testing.T) {
	ids := map[seriesKey]int64{{feed: 7, key: "b"}: 12, {feed: 7, key: "a"}: 11, {feed: 3, key: "x"}: 40}
	for i := range seriesLocksMax + 1 {
		ids[seriesKey{feed: 5, key: fmt.Sprint(i)}] = int64(100 + i)
	}
	for _, shared := range []bool{false, true} {
		keys, exclusive := batchLocks(ids, shared).keys()
		wantKeys := []int64{feedLocks + 3, feedLocks + 5, feedLocks + 7, -11, -12, -40}
		wantExclusive := []bool{false, true, false, !shared, !shared, !shared}
		if !reflect.DeepEqual(keys, wantKeys) || !reflect.DeepEqual(exclusive, wantExclusive) {
			t.Fatalf("shared %v: keys %v exclusive %v; want %v %v", shared, keys, exclusive, wantKeys, wantExclusive)
		}
	}
	if keys, _ := (lockSet{part: []int64{1}, series: []int64{9, 9, 2}}).keys(); !reflect.DeepEqual(keys, []int64{feedLocks + 1, -2, -9}) {
		t.Fatalf("series locked %v, want each once in id order after the feed", keys)
	}
}
