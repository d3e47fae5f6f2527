package sqlstore

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/sitemetrics/sitemetrics/migrations"
	"gorm.io/gorm"
)

// On PostgreSQL, writers of samples, derivations and changes of bindings keep out of
// each other's way with transaction-level advisory locks at two levels: a feed, and a
// series of it. A transaction that locks some series of a feed holds the feed's lock
// shared and each series' lock (exclusive, or shared for batches of new samples only);
// one that needs a feed whole (a change of its bindings, or a batch with more of its
// series than seriesLocksMax) holds the feed's lock exclusive and no series lock of it.
// Feeds are locked first, in id order, then series, in id order, so no two
// transactions wait on each other in a cycle. SQLite has one writer at a time and
// takes none of them.

// seriesLocksMax is the most series of one feed a transaction locks one by one.
// PostgreSQL's lock table holds max_locks_per_transaction (64 by default) locks per
// connection: a delivery of thousands of series locked one by one, or an import of
// thousands of SLOs, ran out of it ("out of shared memory") and failed.
const seriesLocksMax = 64

// feedLocks is where feed locks live among advisory lock keys ("FEED" and the id);
// series locks are the negative keys (-id).
const feedLocks = 0x4645_4544 << 32

// lockSet is what a transaction locks.
type lockSet struct {
	whole  []int64 // feeds locked exclusively, every series of theirs with them
	part   []int64 // feeds locked shared, for their series' locks
	series []int64 // series of the part feeds
	shared bool    // the series locks are shared
}

// batchLocks is what a batch of these series locks: every series of a feed, or the
// feed whole when it has more than seriesLocksMax of them.
func batchLocks(ids map[seriesKey]int64, shared bool) lockSet {
	byFeed := map[int64][]int64{}
	for k, id := range ids {
		byFeed[k.feed] = append(byFeed[k.feed], id)
	}
	l := lockSet{shared: shared}
	for feed, series := range byFeed {
		if len(series) > seriesLocksMax {
			l.whole = append(l.whole, feed)
			continue
		}
		l.part = append(l.part, feed)
		l.series = append(l.series, series...)
	}
	return l
}

// keys are the advisory lock keys in the order they are taken, and whether each is
// taken exclusive.
func (l lockSet) keys() ([]int64, []bool) {
	type feedLock struct {
		id    int64
		whole bool
	}
	feeds := make([]feedLock, 0, len(l.whole)+len(l.part))
	for _, id := range l.whole {
		feeds = append(feeds, feedLock{id, true})
	}
	for _, id := range l.part {
		feeds = append(feeds, feedLock{id, false})
	}
	slices.SortFunc(feeds, func(a, b feedLock) int { return cmp.Compare(a.id, b.id) })
	keys, exclusive := make([]int64, 0, len(feeds)+len(l.series)), make([]bool, 0, len(feeds)+len(l.series))
	for _, f := range feeds {
		keys, exclusive = append(keys, feedLocks+f.id), append(exclusive, f.whole)
	}
	series := slices.Compact(slices.Sorted(slices.Values(l.series)))
	for _, id := range series {
		keys, exclusive = append(keys, -id), append(exclusive, !l.shared)
	}
	return keys, exclusive
}

// lockFeedsGorm takes feeds whole inside a GORM transaction: a change of their bindings
// waits for their writers, and the writers after it see it.
func (s *Store) lockFeedsGorm(tx *gorm.DB, feeds ...int64) error {
	if s.dialect != migrations.Postgres {
		return nil // one writer at a time
	}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(feeds))) {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", feedLocks+id).Error; err != nil {
			return fmt.Errorf("lock feed %d: %w", id, err)
		}
	}
	return nil
}
