package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
)

// A delivery of more than aloneRows rows to PostgreSQL is written alone: its transaction
// stores its samples and queues what they change in roll-ups (one rollup_queue row: the
// rollupChange), and it is answered once that commits; a fold begins soon after
// (folder). A fold applies every change queued so far in one transaction, one fold at a time
// across replicas (foldLock). Big deliveries into the same hours, which used to queue on
// each other's roll-up rows and SLO versions while holding their series locks, now share
// those locks only while their samples are written, and each roll-up row, series and
// version is written once per fold, not once per delivery. Every other batch (small
// deliveries committed together, a replay chunk, SQLite's) folds in its own
// transaction: its change and whatever is queued, one commit. Changes are differences,
// so they fold in any order. A derivation step, which sets roll-ups from the samples,
// folds the queue first, in its transaction and under its series lock (inSeriesTx), so
// nothing it read is added again on top; deleting an SLO holds folds off (holdFolds)
// until its roll-ups are gone. What a replica that stopped left queued is folded by the
// next fold of any replica: each folds once a second. Locks are taken in one order:
// series, then the fold lock, then roll-up rows.
const foldLock = 0x5349_544d_464f_4c44 // "SITMFOLD"

// foldTimeout bounds one fold.
const foldTimeout = 10 * time.Second

// queues says whether a batch's roll-up change is queued for a fold after its commit
// rather than folded in its transaction: a lone delivery of more than aloneRows rows to
// PostgreSQL.
func (s *Store) queues(batch []*pendingDelivery) bool {
	return s.dialect == migrations.Postgres && len(batch) == 1 && len(batch[0].rows) > aloneRows
}

// queueChange stores a batch's roll-up change in its transaction, for the next fold.
func (s *Store) queueChange(ctx context.Context, tx *sql.Tx, c *rollupChange) error {
	if len(c.slos) == 0 && len(c.last) == 0 {
		return nil
	}
	raw := queuedOf(c).encode()
	if _, err := tx.ExecContext(ctx, "INSERT INTO rollup_queue (changes) VALUES ($1)", raw); err != nil {
		return fmt.Errorf("queue roll-up change: %w", err)
	}
	return nil
}

// foldQueued folds every queued change in, in a transaction of its own, and queues
// the SLOs it gave new versions for computing here.
func (s *Store) foldQueued(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin fold: %w", err)
	}
	changes, err := s.foldIn(ctx, tx, nil)
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit fold: %w", err)
	}
	s.touchedBy(changes)
	return nil
}

// foldIn applies, inside tx, own (the transaction's own change, or nil) and on
// PostgreSQL every change committed before it took the fold lock, and returns the SLOs
// whose versions it moved, each with how many of the changes were its. Queued changes
// of SLOs deleted since are dropped (own's SLOs were checked under their series locks).
func (s *Store) foldIn(ctx context.Context, tx *sql.Tx, own *rollupChange) (map[int64]int, error) {
	sum := newRollupSum()
	queued := false
	if s.dialect == migrations.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(foldLock)); err != nil {
			return nil, fmt.Errorf("fold: %w", err)
		}
		var err error
		if queued, err = s.readQueue(ctx, tx, sum); err != nil {
			return nil, err
		}
	}
	if queued {
		live, err := liveSLOs(ctx, tx, slices.Sorted(maps.Keys(sum.slos)))
		if err != nil {
			return nil, err
		}
		sum.keepOnly(live)
	}
	if own != nil {
		sum.add(own)
	}
	if len(sum.slos) == 0 && len(sum.last) == 0 {
		return nil, nil
	}
	c := sum.change()
	if err := s.sql.apply(ctx, tx, &c); err != nil {
		return nil, err
	}
	return sum.slos, nil
}

// readQueue takes every queued change (deleting it) and sums it into sum; false when
// there was none. A change that cannot be read is logged and dropped rather than left
// to stop every fold after it (and with them small deliveries): the samples it came
// with are stored, and changing the SLO's binding derives its roll-ups from them again.
func (s *Store) readQueue(ctx context.Context, tx *sql.Tx, sum *rollupSum) (bool, error) {
	rows, err := tx.QueryContext(ctx, "DELETE FROM rollup_queue RETURNING changes")
	if err != nil {
		return false, fmt.Errorf("fold: %w", err)
	}
	defer rows.Close()
	found := false
	var q queuedChange // its columns' room serves every change
	for rows.Next() {
		var raw sql.RawBytes // the driver's bytes, read before the next row
		if err := rows.Scan(&raw); err != nil {
			return false, fmt.Errorf("fold: %w", err)
		}
		if err := q.read(raw); err != nil {
			s.log.Error("unreadable roll-up change dropped", "err", err, "bytes", len(raw))
			continue
		}
		sum.addQueued(q)
		found = true
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("fold: %w", err)
	}
	return found, nil
}

// rollupSum adds changes up for a fold, any number of them in any order: each hour,
// each series' data time, and each SLO with how many of the changes were its.
type rollupSum struct {
	hours map[rollupKey]models.Sums
	last  map[int64]int64
	slos  map[int64]int
}

func newRollupSum() *rollupSum {
	return &rollupSum{hours: map[rollupKey]models.Sums{}, last: map[int64]int64{}, slos: map[int64]int{}}
}

func (s *rollupSum) addHour(k rollupKey, d models.Sums) {
	s.hours[k] = s.hours[k].Add(d)
}

func (s *rollupSum) addLast(series, bucket int64) {
	s.last[series] = max(s.last[series], bucket)
}

// count counts a change for each of its SLOs.
func (s *rollupSum) count(slos []int64) {
	for _, id := range slos {
		s.slos[id]++
	}
}

// add sums a batch's own change in.
func (s *rollupSum) add(c *rollupChange) {
	for _, d := range c.hours {
		s.addHour(d.rollupKey, d.Sums)
	}
	for _, l := range c.last {
		s.addLast(l.series, l.bucket)
	}
	s.count(c.slos)
}

// keepOnly drops the hours and SLOs of SLOs not in live (sorted): deleted since their
// changes were queued.
func (s *rollupSum) keepOnly(live []int64) {
	gone := func(id int64) bool { _, ok := slices.BinarySearch(live, id); return !ok }
	maps.DeleteFunc(s.hours, func(k rollupKey, _ models.Sums) bool { return gone(k.slo) })
	maps.DeleteFunc(s.slos, func(id int64, _ int) bool { return gone(id) })
}

// change is the sum as one change: hours in key order, each once, as apply takes them.
func (s *rollupSum) change() rollupChange {
	c := rollupChange{hours: sortedRollups(s.hours), last: make([]seriesBucket, 0, len(s.last)), slos: slices.Sorted(maps.Keys(s.slos))}
	for _, id := range slices.Sorted(maps.Keys(s.last)) {
		c.last = append(c.last, seriesBucket{id, s.last[id]})
	}
	return c
}

// liveSLOs are those of ids (sorted) that still exist, sorted.
func liveSLOs(ctx context.Context, tx *sql.Tx, ids []int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT slo_id FROM slo_state WHERE slo_id = ANY($1) ORDER BY slo_id", ids)
	if err != nil {
		return nil, fmt.Errorf("fold: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("fold: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// folder runs a store's folds. Whoever finds no fold running folds everything queued,
// for all who are waiting (group). A delivery's answer does not wait for the fold of its
// change (foldSoon): a fold that would begin less than foldEvery after the last one
// began is put off until then, so while history streams in each fold takes in many
// deliveries, and each roll-up row, series and version is written once for all of them
// rather than once or twice a delivery. Readers here fold what this replica queued
// before they read (foldOwn), so a page or API answer after a 2xx on the same replica
// still shows the delivery; other replicas see it within foldEvery and a poll.
type folder struct {
	group *groupCommit[context.Context]
	// queued counts this replica's commits whose change was queued; folded is what
	// queued was when the last fold that succeeded began.
	queued, folded atomic.Uint64
	scheduled      atomic.Bool  // a fold is put off until foldEvery has passed
	lastStart      atomic.Int64 // when the last fold began, Unix nanoseconds
	closed         atomic.Bool
}

// foldEvery is the least time between the starts of two folds that answers to
// deliveries set off. A fold of 1,000 SLOs' roll-ups costs PostgreSQL about 100 ms,
// whether it takes in one delivery or forty: `make bench-scale N=1000 DAYS=3` ingested
// 15,130 rows/s waiting for a fold at each answer, 22,000–26,600 with folds 250 ms
// apart and 40,900 a second apart. It adds at most this much to the time numbers take
// to show on other replicas (SPEC's 5 s; the same replica folds before it reads), and
// nothing to a delivery after a quiet second.
const foldEvery = time.Second

func newFolder(s *Store) *folder {
	f := &folder{}
	f.group = newGroupCommit(1, 1<<30, func(context.Context) int { return 1 }, func(batch []context.Context) {
		if f.closed.Load() {
			return // a fold put off until after the store closed
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0]), foldTimeout)
		defer cancel()
		n := f.queued.Load()
		f.lastStart.Store(time.Now().UnixNano())
		if err := s.foldQueued(ctx); err != nil {
			if !IsUnavailable(err) {
				s.log.Warn("roll-up changes not folded in yet", "err", err)
			}
			return
		}
		f.folded.Store(n)
	})
	return f
}

// foldAfter returns once a fold that began after the caller's commit has ended, or
// when ctx ends (a delivery's deadline: the fold goes on without it). A fold that fails
// leaves the change queued for the next: what was committed is stored, and the answer
// does not wait for it.
func (s *Store) foldAfter(ctx context.Context) {
	if s.dialect != migrations.Postgres {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.folds.group.do(ctx)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// foldSoon sees that a fold begins after this replica's commit of a queued change,
// without waiting for it: at once when the last fold began foldEvery ago or more, else
// when it will have.
func (s *Store) foldSoon() {
	f := s.folds
	f.queued.Add(1)
	if !f.scheduled.CompareAndSwap(false, true) {
		return // a fold is put off already, and begins after this commit
	}
	go func() {
		if wait := time.Until(time.Unix(0, f.lastStart.Load()).Add(foldEvery)); wait > 0 {
			time.Sleep(wait)
		}
		f.scheduled.Store(false)
		if !f.closed.Load() {
			f.group.do(context.Background())
		}
	}()
}

// foldOwn folds, before a read, what this replica queued and no fold has taken yet. It
// waits at most foldWait, and not at all while the database is out of reach: a read
// then shows what it has (the fold goes on, and the numbers follow within a poll).
func (s *Store) foldOwn(ctx context.Context) {
	if f := s.folds; f.folded.Load() < f.queued.Load() && !s.Down() {
		ctx, cancel := context.WithTimeout(ctx, foldWait)
		defer cancel()
		s.foldAfter(ctx)
	}
}

// foldWait bounds how long a read waits for the fold of this replica's deliveries: a
// fold of 1,000 SLOs takes about 100 ms; a database that hangs must not hold pages up
// (they answer from memory).
const foldWait = 2 * time.Second

// closeFolds folds what this replica queued (so a store opened next reads it at
// once) and stops folds it put off.
func (s *Store) closeFolds() {
	s.foldOwn(context.Background()) // what it cannot fold waits in the queue for the next fold of any replica
	s.folds.closed.Store(true)
}

// holdFolds makes folds wait for tx (PostgreSQL): deleting an SLO takes it first, so
// no fold adds to roll-ups it is removing.
func (s *Store) holdFolds(tx *gorm.DB) error {
	if s.dialect != migrations.Postgres {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(foldLock)).Error
}
