package sqlstore

import (
	"context"
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
	scheduled bool
	closed    bool // the store is closed: what comes now is not written
}

// lastSeen is the later of the stored last-seen time and one not written yet.
func (t *sessionTouches) lastSeen(id int64, stored time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.pending[id]; ok && p.After(stored) {
		return p
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

// flushTouches writes the pending last-seen times in one transaction. Times it could
// not write stay pending (unless newer ones came) and are tried again a second later.
func (s *Store) flushTouches(ctx context.Context) {
	t := s.touches
	t.mu.Lock()
	batch := t.pending
	t.pending, t.scheduled = nil, false
	t.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for id, at := range batch {
			if err := tx.Model(&models.Session{}).Where("id = ? AND last_seen_at < ?", id, at).Update("last_seen_at", at).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	s.log.Warn("session last-seen times not written; trying again", "sessions", len(batch), "err", err)
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return
	}
	for id, at := range batch {
		if t.lastSeen(id, time.Time{}).Before(at) {
			s.touch(id, at)
		}
	}
}

// closeTouches writes what is pending, then stops writing.
func (s *Store) closeTouches() {
	s.flushTouches(context.Background())
	s.touches.mu.Lock()
	s.touches.closed = true
	s.touches.mu.Unlock()
}
