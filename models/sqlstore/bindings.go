package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"gorm.io/gorm"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
)

// bindingSet is the bindings that read a feed (active and pending generations),
// with the feed's bindings version and sample policy they were read at.
type bindingSet struct {
	version  int64
	policy   string
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

// numericFields are the fields bindings read, each once: a row sending one
// as text is rejected rather than silently not counted.
func (set *bindingSet) numericFields() []string {
	if set.bySeries == nil {
		set.index()
	}
	return set.numeric
}

// checkRows moves rows whose numbers a binding of their series refuses (see
// models.Binding.Check) to the rejections, with the SLO's reason.
func (set *bindingSet) checkRows(parsed *splunk.Body) {
	kept := parsed.Rows[:0]
	for _, r := range parsed.Rows {
		var bad error
		for _, b := range set.forSeries(r.Series) {
			if err := b.Check(r.Fields); err != nil {
				bad = err
				break
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

// bindingCache keeps each feed's bindings per replica. Ingest reads the
// feed's version again under the series lock, so a stale entry is noticed
// before anything is written with it.
type bindingCache struct {
	mu sync.Mutex
	m  map[int64]bindingSet
	// stale is, per feed, a version known to be out of date: a set loaded before the
	// change that made it so is not kept.
	stale map[int64]int64
}

func (c *bindingCache) get(feedID int64) (bindingSet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[feedID]
	return b, ok
}

// put keeps b unless a newer set is there already: a reader that loaded before a
// change must not put back what another reader replaced.
func (c *bindingCache) put(feedID int64, b bindingSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]bindingSet{}
	}
	if cur, ok := c.m[feedID]; (ok && cur.version > b.version) || b.version <= c.stale[feedID] {
		return
	}
	c.m[feedID] = b
}

func (c *bindingCache) drop(feedID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, feedID)
}

// outdated drops the feed's set if it is version or older, and keeps any set that old
// from coming back.
func (c *bindingCache) outdated(feedID, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stale == nil {
		c.stale = map[int64]int64{}
	}
	c.stale[feedID] = max(c.stale[feedID], version)
	if cur, ok := c.m[feedID]; ok && cur.version <= version {
		delete(c.m, feedID)
	}
}

// loadBindings reads the bindings of a feed that ingest must keep roll-ups for.
func loadBindings(tx *gorm.DB, feedID int64) (bindingSet, error) {
	var set bindingSet
	var feed struct {
		BindingsVersion int64
		SamplePolicy    string
	}
	if err := tx.Raw("SELECT bindings_version, sample_policy FROM feeds WHERE id = ?", feedID).Scan(&feed).Error; err != nil {
		return set, fmt.Errorf("read bindings version of feed %d: %w", feedID, err)
	}
	set.version, set.policy = feed.BindingsVersion, feed.SamplePolicy
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

// CheckSpooled applies to a delivery being spooled the checks ingest would make with
// the feed's bindings, from this replica's copy (no database: it is out of reach), so
// a 202's counts say what replay will store. Without a copy it checks nothing.
func (s *Store) CheckSpooled(feedID int64, parsed *splunk.Body) {
	if set, ok := s.bindings.get(feedID); ok {
		set.checkRows(parsed)
	}
}
