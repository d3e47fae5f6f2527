package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
)

// dialect is what differs between PostgreSQL and SQLite in the write path: how series
// are numbered and locked, how stored samples are read back and how a plan is written.
// writeBatch runs them in one transaction; the decisions in between (planBatch) are the
// same Go code for both. The ingest tests run on both databases and are its conformance
// suite.
type dialect interface {
	// seriesIDs returns the ids of the series keys, creating those that are new.
	seriesIDs(ctx context.Context, tx *sql.Tx, keys []seriesKey) (map[seriesKey]int64, error)
	// lock holds off other writers of these series, and changes to their bindings, until
	// the transaction ends (shared: but for other shared holders), taking the keys in
	// order (locks.go); then it reads the feeds' bindings versions and policies.
	lock(ctx context.Context, tx *sql.Tx, keys []int64, shared bool, feeds []int64) (map[int64]feedState, error)
	// read returns the stored fields of samples, and which row parts exist.
	read(ctx context.Context, tx *sql.Tx, ids []identity, parts []partKey) (map[identity]string, map[partKey]bool, error)
	// write stores a plan's deliveries (setting their ids), samples and row parts; conn
	// is the connection tx runs on.
	write(ctx context.Context, tx *sql.Tx, conn *sql.Conn, p *plan) error
	// apply adds a change's roll-up differences, moves its series' data times and gives
	// its SLOs new versions.
	apply(ctx context.Context, tx *sql.Tx, c *rollupChange) error
	// setRollups replaces an SLO generation's roll-ups for the hours and days given.
	setRollups(ctx context.Context, tx *sql.Tx, hours, days map[rollupKey]rollupRow) error
}

// rollupRow is the value of one roll-up row.
type rollupRow struct {
	bad, total float64
	excluded   int
}

// errGuessedWrong means a batch guessed to hold new samples only (tryBatch) did not:
// one was stored already. The transaction is rolled back and the batch written again
// after reading what is stored.
var errGuessedWrong = errors.New("a batch guessed to hold new samples only did not")

// errStaleBindings means a delivery was parsed with bindings that changed since: it is
// parsed again with the new ones and written in a later batch.
var errStaleBindings = errors.New("the feed's SLO bindings changed while the delivery was written")

// seriesCache remembers series ids, which never change once given, and the newest
// bucket this replica stored for each series.
type seriesCache struct {
	mu     sync.Mutex
	m      map[seriesKey]int64
	newest map[int64]int64
}

// allNew says whether every sample is later than the newest this replica stored for its
// series: then they are most likely new (another replica, or an older delivery carrying
// later buckets, may have stored some; the write checks).
func (c *seriesCache) allNew(ids []identity) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if b, ok := c.newest[id.series]; !ok || id.bucket <= b {
			return false
		}
	}
	return len(ids) > 0
}

// stored notes the samples a committed batch wrote.
func (c *seriesCache) stored(samples []sampleWrite) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.newest == nil {
		c.newest = map[int64]int64{}
	}
	for _, w := range samples {
		if b, ok := c.newest[w.series]; !ok || w.bucket > b {
			c.newest[w.series] = w.bucket
		}
	}
}

// resolve sets each row's series id from the cache (pendingDelivery.ids: 0 for a
// series not cached) and returns the series not cached, each once.
func (c *seriesCache) resolve(batch []*pendingDelivery) (missing []seriesKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var seen map[seriesKey]bool
	for _, p := range batch {
		p.ids = slices.Grow(p.ids[:0], len(p.rows))[:len(p.rows)]
		for j, r := range p.rows {
			k := seriesKey{p.feed.ID, r.Series}
			id, ok := c.m[k]
			if p.ids[j] = id; ok || seen[k] {
				continue
			}
			if seen == nil {
				seen = map[seriesKey]bool{}
			}
			seen[k] = true
			missing = append(missing, k)
		}
	}
	return missing
}

func (c *seriesCache) add(m map[seriesKey]int64) {
	if len(m) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[seriesKey]int64{}
	}
	maps.Copy(c.m, m)
}

// forget drops a feed's series (the feed was deleted).
func (c *seriesCache) forget(feedID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, id := range c.m {
		if k.feed == feedID {
			delete(c.m, k)
			delete(c.newest, id)
		}
	}
}

// writeBatch stores deliveries in one transaction: numbers their series, locks them,
// checks every delivery was parsed with its feed's current bindings, reads the samples
// its rows touch, plans and writes. Deliveries parsed with stale bindings get
// errStaleBindings and the rest is written without them. Nothing is half-stored: on
// any other error every delivery of the batch gets it.
func (s *Store) writeBatch(ctx context.Context, batch []*pendingDelivery) error {
	if err := s.knowFieldNames(ctx, batch); err != nil {
		return err
	}
	guess := true
	for attempt := 0; ; attempt++ {
		stale, err := s.tryBatch(ctx, batch, guess)
		if errors.Is(err, errGuessedWrong) && guess {
			guess, attempt = false, attempt-1 // the guess was wrong: read what is stored, and write again
			continue
		}
		if err != nil {
			return err
		}
		if len(stale) == 0 || attempt > 0 {
			for _, p := range stale {
				p.err = errStaleBindings
			}
			return nil
		}
		fresh := batch[:0:0]
		for _, p := range batch {
			if !slices.Contains(stale, p) {
				fresh = append(fresh, p)
			}
		}
		for _, p := range stale {
			p.err = errStaleBindings
		}
		if len(fresh) == 0 {
			return nil
		}
		batch = fresh
	}
}

// tryBatch writes the batch unless some deliveries carry stale bindings, which it
// returns without writing anything. With guess, on PostgreSQL, a batch whose samples
// all look new (seriesCache.allNew) is written without reading back what is stored
// first, as new samples only (under 'add' too: a bucket never stored has no row
// parts), and shares its series' locks with other such batches (each still excludes
// batches that read, derivations and binding changes); if one sample was stored after
// all, nothing is written and errGuessedWrong is returned, for the caller to try again
// without guessing. A stream of history, each delivery later
// than the last, so skips a read of every row, and deliveries of it are written side
// by side. Two of them inserting the same bucket meet at its primary key: the second
// waits for the first to end, finds its row, and tries again.
func (s *Store) tryBatch(ctx context.Context, batch []*pendingDelivery, guess bool) (stale []*pendingDelivery, err error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin ingest: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin ingest: %w", err)
	}
	defer func() {
		if err != nil || len(stale) > 0 {
			_ = tx.Rollback()
		}
	}()
	keys, feedSet := make([]seriesKey, 0, rowsOf(batch)), map[int64]bool{}
	for _, p := range batch {
		feedSet[p.feed.ID] = true
		for _, r := range p.rows {
			keys = append(keys, seriesKey{p.feed.ID, r.Series}) // batchLocks takes each lock once
		}
	}
	var created map[seriesKey]int64
	if missing := s.series.resolve(batch); len(missing) > 0 {
		if created, err = s.sql.seriesIDs(ctx, tx, missing); err != nil {
			return nil, err
		}
		for _, p := range batch {
			for j, r := range p.rows {
				if p.ids[j] != 0 {
					continue
				}
				id, ok := created[seriesKey{p.feed.ID, r.Series}]
				if !ok {
					return nil, fmt.Errorf("create series: %q of feed %d has no id", r.Series, p.feed.ID)
				}
				p.ids[j] = id
			}
		}
	}
	want := identities(batch) // row parts follow the policies read under the locks
	allNew := guess && s.dialect == migrations.Postgres && s.series.allNew(want)
	feeds, err := s.sql.lock(ctx, tx, batchLocks(keys), allNew, slices.Sorted(maps.Keys(feedSet)))
	if err != nil {
		return nil, err
	}
	for _, p := range batch {
		if st, ok := feeds[p.feed.ID]; !ok || st.version != p.set.version {
			stale = append(stale, p)
		}
	}
	if len(stale) > 0 {
		return stale, nil
	}
	snap := snapshot{feeds: feeds, samples: map[identity]models.Fields{}, encode: s.fields.encoder().encode}
	var stored map[identity]string
	if !allNew {
		if stored, snap.parts, err = s.sql.read(ctx, tx, want, rowParts(batch, feeds)); err != nil {
			return nil, err
		}
	}
	for id, raw := range stored {
		if snap.samples[id], err = s.decodeFields(ctx, raw); err != nil {
			return nil, fmt.Errorf("stored sample %d@%d: %w", id.series, id.bucket, err)
		}
	}
	p, err := planBatch(batch, want, snap)
	if err != nil {
		return nil, err
	}
	p.onlyNew = allNew
	if err := s.sql.write(ctx, tx, conn, p); err != nil {
		return nil, err
	}
	var changes map[int64]int
	if s.queues(batch) {
		err = s.queueChange(ctx, tx, &p.rollupChange)
	} else {
		changes, err = s.foldIn(ctx, tx, &p.rollupChange)
	}
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit ingest: %w", err)
	}
	s.series.add(created) // the series looked up are cached already
	s.series.stored(p.samples)
	s.touchedBy(changes)
	return nil, nil
}
