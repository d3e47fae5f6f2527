package sqlstore

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/sitemetrics/sitemetrics/models"
)

// touchFlushAfter is how long a session's new last-seen time waits in memory before it
// is written with the others that came meanwhile.
const touchFlushAfter = time.Second

// sessionTouches are last-seen times not written yet. A page view writes nothing: the
// times are written together, one transaction for all, a second after the first of them
// (a thousand people opening the overview at once were a thousand commits). This
// replica judges idleness with them at once; other replicas see them once written, a
// second later, against idle timeouts of minutes. A crash loses at most that second's
// times: a session then looks idle since its previous touch, a minute earlier at most.
type sessionTouches struct {
	mu        sync.Mutex
	pending   map[int64]time.Time
	writing   map[int64]time.Time // the times being written, until they are
	scheduled bool                // a write is due or under way: one at a time
	closed    bool                // the store is closed: what comes now is not written
}

// lastSeen is the later of the stored last-seen time and one not written yet.
func (t *sessionTouches) lastSeen(id int64, stored time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range []map[int64]time.Time{t.pending, t.writing} {
		if p, ok := m[id]; ok && p.After(stored) {
			stored = p
		}
	}
	return stored
}

// touch records a session's last-seen time, to be written within touchFlushAfter.
func (s *Store) touch(id int64, at time.Time) {
	t := s.touches
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = map[int64]time.Time{}
	}
	t.pending[id] = at
	if !t.scheduled && !t.closed {
		t.scheduled = true
		time.AfterFunc(touchFlushAfter, func() { s.flushTouches(context.Background()) })
	}
}

// flushTouches writes the pending last-seen times in one transaction, in session id
// order (another replica's writes of the same sessions take their row locks in the same
// order, so neither waits on the other in a cycle). Times it could not write stay
// pending (unless newer ones came) and are tried again a second later; times that came
// while it wrote are written a second after it.
func (s *Store) flushTouches(ctx context.Context) {
	t := s.touches
	t.mu.Lock()
	batch := t.pending
	t.pending, t.writing = nil, batch
	t.mu.Unlock()
	err := s.writeTouches(ctx, batch)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.writing = nil
	if err != nil && !t.closed {
		s.log.Warn("session last-seen times not written; trying again", "sessions", len(batch), "err", err)
		if t.pending == nil {
			t.pending = map[int64]time.Time{}
		}
		for id, at := range batch {
			if p, ok := t.pending[id]; !ok || p.Before(at) {
				t.pending[id] = at
			}
		}
	}
	t.scheduled = len(t.pending) > 0 && !t.closed
	if t.scheduled {
		time.AfterFunc(touchFlushAfter, func() { s.flushTouches(context.Background()) })
	}
}

func (s *Store) writeTouches(ctx context.Context, batch map[int64]time.Time) error {
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, id := range slices.Sorted(maps.Keys(batch)) {
			at := batch[id]
			if err := tx.Model(&models.Session{}).Where("id = ? AND last_seen_at < ?", id, at).Update("last_seen_at", at).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// closeTouches writes what is pending, then stops writing.
func (s *Store) closeTouches() {
	t := s.touches
	t.mu.Lock()
	batch := t.pending
	t.pending, t.closed = nil, true
	t.mu.Unlock()
	if err := s.writeTouches(context.Background(), batch); err != nil {
		s.log.Warn("session last-seen times not written at close", "sessions", len(batch), "err", err)
	}
}
