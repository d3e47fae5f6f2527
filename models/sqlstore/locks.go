package sqlstore

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// On PostgreSQL, writers of samples, derivations and changes of bindings keep out of
// each other's way with transaction-level advisory locks on series: exclusive, or
// shared by batches of new samples only. A feed's series share lockStripes locks (a
// series takes its key's stripe), so a transaction holds at most lockStripes locks per
// feed however many series it touches: PostgreSQL's lock table holds
// max_locks_per_transaction (64 by default) locks per connection, and a delivery of
// thousands of series locked one by one, or an import of thousands of SLOs, ran out of
// it ("out of shared memory") and failed. Two writers of different series of a feed
// that share a stripe wait for each other as if they wrote the same series. A stripe is
// found from the series key, so a change of bindings locks a series without creating
// it: a writer creating that series waits for the change, never the other way round.
// Locks are taken in key order, so no two transactions wait on each other in a cycle.
// SQLite has one writer at a time and takes none.
const lockStripes = 64

// seriesLocks is where series locks live among advisory lock keys: "SERI", the feed,
// the stripe.
const seriesLocks = 0x5345_5249 << 32

// seriesLock is the advisory lock key of a feed's series: its stripe is the series key's
// FNV-1a hash, the same on every replica and release.
func seriesLock(feed int64, key string) int64 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return seriesLocks + feed*lockStripes + int64(h.Sum32()%lockStripes)
}

// batchLocks are the keys a batch of these series locks, each once, in key order.
func batchLocks(series []seriesKey) []int64 {
	keys := make([]int64, len(series))
	for i, k := range series {
		keys[i] = seriesLock(k.feed, k.key)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// lockGorm takes keys exclusive, in key order, inside a GORM transaction.
func (s *Store) lockGorm(tx *gorm.DB, keys []int64) error {
	if s.dialect != migrations.Postgres || len(keys) == 0 {
		return nil // one writer at a time
	}
	list := make([]string, len(keys)) // numbers made here: GORM would send a slice as a row
	for i, k := range keys {
		list[i] = strconv.FormatInt(k, 10)
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(k) FROM unnest('{" + strings.Join(list, ",") + "}'::bigint[]) AS k ORDER BY k").Error; err != nil {
		return fmt.Errorf("lock series: %w", err)
	}
	return nil
}

// lockBindingsGorm takes the locks of the bindings' series inside a GORM transaction,
// for a change of those bindings: it waits for the writers of the series, and the
// writers after it see it.
func (s *Store) lockBindingsGorm(tx *gorm.DB, bs ...models.Binding) error {
	keys := make([]int64, len(bs))
	for i, b := range bs {
		keys[i] = seriesLock(b.FeedID, b.Series)
	}
	return s.lockGorm(tx, keys) // in key order, by its statement
}
