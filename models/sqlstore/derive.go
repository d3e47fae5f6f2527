package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
	"gorm.io/gorm"
)

// derived is one SLO point computed from one ingested row.
type derived struct {
	rowHash    []byte
	sloID      int64
	generation int
	ts         time.Time
	good       float64
	total      float64
}

// bindingSet is the bindings that read a feed (active and pending
// generations), with the feed's bindings version they were read at.
type bindingSet struct {
	version  int64
	bindings []models.Binding
	bySeries map[string][]models.Binding // built by index
	numeric  []string                    // built by index
}

// index builds the lookups ingest uses for every row; call it before a set
// is shared (cached sets are read-only).
func (set *bindingSet) index() {
	set.bySeries = map[string][]models.Binding{}
	seen := map[string]bool{}
	set.numeric = nil
	for _, b := range set.bindings {
		set.bySeries[b.Series] = append(set.bySeries[b.Series], b)
		for _, f := range b.Fields() {
			if !seen[f] {
				seen[f] = true
				set.numeric = append(set.numeric, f)
			}
		}
	}
}

// forSeries are the bindings that read a series.
func (set *bindingSet) forSeries(series string) []models.Binding {
	if set.bySeries == nil {
		set.index()
	}
	return set.bySeries[series]
}

// bindingCache keeps each feed's bindings per replica; ingest checks the
// version in the same statement that writes, so a stale entry is noticed.
type bindingCache struct {
	mu sync.Mutex
	m  map[int64]bindingSet
}

func (c *bindingCache) get(feedID int64) (bindingSet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[feedID]
	return b, ok
}

func (c *bindingCache) put(feedID int64, b bindingSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]bindingSet{}
	}
	c.m[feedID] = b
}

func (c *bindingCache) drop(feedID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, feedID)
}

// loadBindings reads the bindings of a feed that ingest must derive points for.
func loadBindings(tx *gorm.DB, feedID int64) (bindingSet, error) {
	var set bindingSet
	if err := tx.Raw("SELECT bindings_version FROM feeds WHERE id = ?", feedID).Scan(&set.version).Error; err != nil {
		return set, fmt.Errorf("read bindings version: %w", err)
	}
	err := tx.Raw(`SELECT b.* FROM slo_bindings b JOIN slos s ON s.id = b.slo_id
		WHERE b.feed_id = ? AND (b.generation = s.generation OR b.generation = s.pending_generation)
		ORDER BY b.slo_id, b.generation`, feedID).Scan(&set.bindings).Error
	if err != nil {
		return set, fmt.Errorf("load bindings of feed %d: %w", feedID, err)
	}
	set.index()
	return set, nil
}

// feedBindings returns the feed's bindings from this replica's cache, loading them once.
func (s *Store) feedBindings(ctx context.Context, feedID int64) (bindingSet, error) {
	if s.dialect == migrations.SQLite {
		return loadBindings(s.db.WithContext(ctx), feedID) // in-process: as cheap as the cache, never stale
	}
	if set, ok := s.bindings.get(feedID); ok {
		return set, nil
	}
	set, err := loadBindings(s.db.WithContext(ctx), feedID)
	if err != nil {
		return set, err
	}
	s.bindings.put(feedID, set)
	return set, nil
}

// numericFields are the fields bindings read, each once: a row sending one
// as text is rejected rather than silently not counted.
func (set *bindingSet) numericFields() []string {
	if set.bySeries == nil {
		set.index()
	}
	return set.numeric
}

// checkRows moves rows whose numbers contradict a binding (more good than
// total events) to the rejections, with the SLO's reason.
func (set *bindingSet) checkRows(parsed *splunk.Body) {
	kept := parsed.Rows[:0]
	for _, r := range parsed.Rows {
		var bad error
		for _, b := range set.forSeries(r.Series) {
			if b.FeedID != 0 {
				if err := b.Check(r.Fields); err != nil {
					bad = err
					break
				}
			}
		}
		if bad != nil {
			parsed.Rejected = append(parsed.Rejected, models.Rejection{Row: r.Index, Reason: bad.Error()})
			continue
		}
		kept = append(kept, r)
	}
	parsed.Rows = kept
	sort.Slice(parsed.Rejected, func(i, j int) bool { return parsed.Rejected[i].Row < parsed.Rejected[j].Row })
}

// derive computes the points of rows for every binding of their series.
func (set *bindingSet) derive(rows []splunk.Row) []derived {
	var out []derived
	for _, r := range rows {
		for _, b := range set.forSeries(r.Series) {
			if good, total, ok := b.Derive(r.Fields); ok {
				out = append(out, derived{rowHash: r.Hash, sloID: b.SLOID, generation: b.Generation, ts: r.Time, good: good, total: total})
			}
		}
	}
	return out
}

// insertPoints writes points for samples (by id), skipping ones that exist,
// and returns each SLO's newest point time, for touched.
func insertPoints(tx *gorm.DB, points []derived, sampleIDs map[string]int64) (map[int64]time.Time, error) {
	type row struct {
		slo  int64
		gen  int
		id   int64
		ts   time.Time
		g, t float64
	}
	var rows []row
	latest := map[int64]time.Time{}
	for _, p := range points {
		id, ok := sampleIDs[string(p.rowHash)]
		if !ok {
			continue
		}
		rows = append(rows, row{p.sloID, p.generation, id, p.ts, p.good, p.total})
		if p.ts.After(latest[p.sloID]) {
			latest[p.sloID] = p.ts
		}
	}
	for start := 0; start < len(rows); start += insertChunk {
		chunk := rows[start:min(start+insertChunk, len(rows))]
		q := "INSERT INTO slo_points (slo_id, generation, sample_id, ts, good, total) VALUES "
		args := make([]any, 0, len(chunk)*6)
		for i, r := range chunk {
			if i > 0 {
				q += ","
			}
			q += "(?,?,?,?,?,?)"
			args = append(args, r.slo, r.gen, r.id, r.ts, r.g, r.t)
		}
		if err := tx.Exec(q+" ON CONFLICT DO NOTHING", args...).Error; err != nil {
			return nil, fmt.Errorf("insert slo points: %w", err)
		}
	}
	return latest, nil
}

// latestOf is each SLO's newest derived point time.
func latestOf(points []derived) map[int64]time.Time {
	latest := map[int64]time.Time{}
	for _, p := range points {
		if p.ts.After(latest[p.sloID]) {
			latest[p.sloID] = p.ts
		}
	}
	return latest
}

// dirtySet collects SLOs that received points since the last flush, with
// their newest point time.
type dirtySet struct {
	mu sync.Mutex
	m  map[int64]time.Time
}

// add merges newest point times into the set.
func (d *dirtySet) add(latest map[int64]time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[int64]time.Time{}
	}
	for id, ts := range latest {
		if ts.After(d.m[id]) {
			d.m[id] = ts
		}
	}
}

// touched records that SLOs got new points (after the commit): this
// replica's cached numbers for them are dropped at once, and their state
// version, which tells the other replicas, is bumped by FlushState — right
// away on SQLite, within stateFlushEvery on PostgreSQL, where a row update
// per delivery would make concurrent deliveries wait on each other.
func (s *Store) touched(ctx context.Context, latest map[int64]time.Time) {
	if len(latest) == 0 {
		return
	}
	s.evals.forget(latest)
	s.dirty.add(latest)
	if s.dialect == migrations.SQLite {
		if err := s.FlushState(ctx); err != nil {
			s.log.Warn("flush SLO state", "err", err)
		}
	}
}

// stateFlushEvery bounds how long other replicas may show numbers without a
// delivery this replica received.
const stateFlushEvery = 500 * time.Millisecond

// FlushState bumps the state version and newest point time of the SLOs
// touched since the last flush. On failure they stay queued.
func (s *Store) FlushState(ctx context.Context) error {
	s.dirty.mu.Lock()
	batch := s.dirty.m
	s.dirty.m = nil
	s.dirty.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] }) // one lock order for every replica
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, id := range ids {
			ts := batch[id]
			if err := tx.Exec(`UPDATE slo_state SET version = version + 1,
				last_point_at = CASE WHEN last_point_at IS NULL OR last_point_at < ? THEN ? ELSE last_point_at END
				WHERE slo_id = ?`, ts, ts, id).Error; err != nil {
				return fmt.Errorf("update slo state: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		s.dirty.add(batch) // try again at the next flush
	}
	return err
}

// RunStateFlusher flushes touched SLOs until ctx ends. At start it marks
// every SLO changed, in case a replica stopped before its last flush.
func (s *Store) RunStateFlusher(ctx context.Context) {
	if err := s.db.WithContext(ctx).Exec("UPDATE slo_state SET version = version + 1").Error; err != nil {
		s.log.Warn("mark SLO state changed at start", "err", err)
	}
	t := time.NewTicker(stateFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = s.FlushState(context.Background())
			return
		case <-t.C:
			if err := s.FlushState(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("flush SLO state", "err", err)
			}
		}
	}
}

// RunDeriver re-derives SLO histories after a binding changes (or an SLO is
// created), until ctx ends. Every replica may run it: the work is idempotent.
func (s *Store) RunDeriver(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if err := s.DeriveAll(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("re-derivation paused", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Store) wakeDeriver() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// DeriveAll finishes every pending re-derivation.
func (s *Store) DeriveAll(ctx context.Context) error {
	var pending []models.SLO
	if err := s.db.WithContext(ctx).Where("pending_generation IS NOT NULL").Find(&pending).Error; err != nil {
		return fmt.Errorf("find pending derivations: %w", err)
	}
	for _, slo := range pending {
		if err := s.rederive(ctx, slo.ID, *slo.PendingGeneration); err != nil {
			return fmt.Errorf("re-derive SLO %d: %w", slo.ID, err)
		}
	}
	return nil
}

const deriveChunk = 2000

// rederive computes a generation of points from stored samples, then makes
// it the active one: until then the SLO keeps showing the old numbers.
func (s *Store) rederive(ctx context.Context, sloID int64, gen int) error {
	db := s.db.WithContext(ctx)
	var b models.Binding
	if err := db.Where("slo_id = ? AND generation = ?", sloID, gen).First(&b).Error; err != nil {
		return notFound(err, "binding %d/%d", sloID, gen)
	}
	set := bindingSet{bindings: []models.Binding{b}}
	start := time.Now()
	done, lastID := 0, int64(0)
	for {
		n, last, err := s.deriveSamples(db, set, b, lastID, false)
		if err != nil {
			return err
		}
		done, lastID = done+n, last
		res := db.Exec("UPDATE slos SET rederive_done = ? WHERE id = ? AND pending_generation = ?", done, sloID, gen)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // superseded by a newer change, or deleted
		}
		if err := bumpState(db, sloID); err != nil { // the progress shows
			return err
		}
		if n < deriveChunk {
			break
		}
	}
	swapped := false
	err := db.Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE slos SET generation = ?, pending_generation = NULL, rederive_done = rederive_total WHERE id = ? AND pending_generation = ?", gen, sloID, gen)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		swapped = true
		if err := tx.Exec("DELETE FROM slo_points WHERE slo_id = ? AND generation < ?", sloID, gen).Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM slo_bindings WHERE slo_id = ? AND generation < ?", sloID, gen).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE slo_state SET version = version + 1,
			last_point_at = (SELECT MAX(ts) FROM slo_points WHERE slo_id = ? AND generation = ?) WHERE slo_id = ?`, sloID, gen, sloID).Error; err != nil {
			return err
		}
		return bumpBindings(tx, b.FeedID)
	})
	if err != nil || !swapped {
		return err
	}
	// Rows committed while we read may have slipped past both us and ingest's
	// stale bindings: one more pass over samples without a point closes the gap.
	if _, _, err := s.deriveSamples(db, set, b, 0, true); err != nil {
		return err
	}
	s.log.Info("SLO history derived", "slo_id", sloID, "generation", gen, "samples", done, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// deriveSamples derives points for up to deriveChunk samples of the binding's
// series after afterID (or, with missingOnly, for every sample lacking one).
func (s *Store) deriveSamples(db *gorm.DB, set bindingSet, b models.Binding, afterID int64, missingOnly bool) (int, int64, error) {
	q := db.Table("samples AS s").Select("s.id, s.ts, s.fields, s.row_hash").
		Where("s.feed_id = ? AND s.series = ? AND s.id > ?", b.FeedID, b.Series, afterID).Order("s.id")
	if missingOnly {
		q = q.Where("NOT EXISTS (SELECT 1 FROM slo_points p WHERE p.slo_id = ? AND p.generation = ? AND p.sample_id = s.id)", b.SLOID, b.Generation)
	} else {
		q = q.Limit(deriveChunk)
	}
	var samples []struct {
		ID      int64
		TS      time.Time
		Fields  string
		RowHash []byte
	}
	if err := q.Scan(&samples).Error; err != nil {
		return 0, 0, fmt.Errorf("read samples: %w", err)
	}
	rows := make([]splunk.Row, 0, len(samples))
	ids := make(map[string]int64, len(samples))
	last := afterID
	for _, smp := range samples {
		r := splunk.Row{Time: smp.TS.UTC(), Series: b.Series, Hash: smp.RowHash}
		if err := json.Unmarshal([]byte(smp.Fields), &r.Fields); err != nil {
			continue
		}
		rows = append(rows, r)
		ids[string(smp.RowHash)] = smp.ID
		last = smp.ID
	}
	var latest map[int64]time.Time
	if err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		latest, err = insertPoints(tx, set.derive(rows), ids)
		return err
	}); err != nil {
		return 0, 0, err
	}
	s.touched(db.Statement.Context, latest)
	return len(samples), last, nil
}

// dropGeneration removes a re-derivation that a newer change superseded.
func dropGeneration(tx *gorm.DB, sloID int64, gen int) error {
	if err := tx.Exec("DELETE FROM slo_points WHERE slo_id = ? AND generation = ?", sloID, gen).Error; err != nil {
		return err
	}
	return tx.Exec("DELETE FROM slo_bindings WHERE slo_id = ? AND generation = ?", sloID, gen).Error
}
