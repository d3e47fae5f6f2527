package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
)

// AdmitLogin decides whether a sign-in attempt for username from clientIP
// may ask for the password to be checked, and if so counts it as a failure
// until LoginSucceeded takes it back. Counting at admission, not after the
// directory answers, is what makes it race-free: the counters are locked
// and updated in one transaction (row locks on PostgreSQL, so replicas
// agree; one writer at a time on SQLite), so of any number of parallel
// attempts exactly as many are admitted as the policy allows.
func (s *Store) AdmitLogin(ctx context.Context, username, clientIP string, p models.LoginThrottle) (models.Admission, error) {
	name := models.Truncate(models.NormalizeUsername(username), 200)
	ip := models.Truncate(clientIP, 64)
	var adm models.Admission
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		pair, addr, err := lockCounters(tx, s.dialect, name, ip, s.now())
		if err != nil {
			return err
		}
		// The attempt happens once its counters are locked, not before: one that waited
		// for another's lock comes after it, and on a replica whose clock is behind the
		// last attempt's it happens at that attempt's time, never before it (else that
		// attempt's next_at would lie in its future and refuse it).
		now := s.now()
		for _, last := range []time.Time{pair.LastAt, addr.LastAt} {
			if now.Before(last) {
				now = last
			}
		}
		adm = admit(&pair, &addr, p, now)
		if !adm.Allowed {
			return nil
		}
		for _, c := range []models.LoginCounter{addr, pair} {
			if err := tx.Model(&models.LoginCounter{}).Where("username = ? AND client_ip = ?", c.Username, c.ClientIP).
				Updates(map[string]any{"failures": c.Failures, "last_at": c.LastAt, "next_at": c.NextAt}).Error; err != nil {
				return fmt.Errorf("count the attempt: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return models.Admission{}, fmt.Errorf("admit login: %w", err)
	}
	s.pruneLoginThrottle(ctx, p)
	return adm, nil
}

// pruneLoginThrottle deletes, at most every ten minutes per replica,
// counters so old that the policy has forgotten them, so that attempts
// from ever new addresses cannot grow the table without bound.
func (s *Store) pruneLoginThrottle(ctx context.Context, p models.LoginThrottle) {
	now := s.now()
	last := s.throttlePruned.Load()
	if now.Unix()-last < 600 || !s.throttlePruned.CompareAndSwap(last, now.Unix()) {
		return
	}
	before := now.Add(-p.Window - p.MaxDelay)
	if err := s.db.WithContext(ctx).Where("last_at < ? AND next_at < ?", before, before).Delete(&models.LoginCounter{}).Error; err != nil {
		s.log.WarnContext(ctx, "prune the login throttle", "err", err)
	}
}

// lockCounters makes sure the pair's and the address's rows exist, then
// locks and reads them, always the address's row (”) first, so that two
// transactions never wait on each other in a cycle.
func lockCounters(tx *gorm.DB, dialect, name, ip string, now time.Time) (pair, addr models.LoginCounter, err error) {
	fresh := []models.LoginCounter{{Username: "", ClientIP: ip, LastAt: now, NextAt: now}, {Username: name, ClientIP: ip, LastAt: now, NextAt: now}}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh).Error; err != nil {
		return pair, addr, fmt.Errorf("create throttle counters: %w", err)
	}
	lock := ""
	if dialect == migrations.Postgres {
		lock = " FOR UPDATE"
	}
	var rows []models.LoginCounter
	if err := tx.Raw("SELECT * FROM login_throttle WHERE client_ip = ? AND username IN (?, '') ORDER BY username"+lock, ip, name).
		Scan(&rows).Error; err != nil {
		return pair, addr, fmt.Errorf("lock throttle counters: %w", err)
	}
	for _, r := range rows {
		if r.Username == "" {
			addr = r
		}
		if r.Username == name {
			pair = r
		}
	}
	if pair.ClientIP == "" || addr.ClientIP == "" {
		return pair, addr, fmt.Errorf("throttle counters for %q missing after insert", ip)
	}
	return pair, addr, nil
}

// admit applies the policy to the locked counters, updating them when the
// attempt goes ahead.
func admit(pair, addr *models.LoginCounter, p models.LoginThrottle, now time.Time) models.Admission {
	if now.Sub(addr.LastAt) > p.Window {
		addr.Failures = 0
	}
	if now.Sub(pair.NextAt) > p.Window {
		pair.Failures = 0
	}
	if p.MaxPerAddress > 0 && addr.Failures >= p.MaxPerAddress {
		return models.Admission{RetryAfter: addr.LastAt.Add(p.Window).Sub(now), Why: "address"}
	}
	if now.Before(pair.NextAt) {
		return models.Admission{RetryAfter: pair.NextAt.Sub(now), Why: "user_address"}
	}
	addr.Failures++
	addr.LastAt = now
	pair.Failures++
	pair.LastAt = now
	pair.NextAt = now.Add(p.Backoff(pair.Failures))
	return models.Admission{Allowed: true}
}

// LoginSucceeded takes back the failure AdmitLogin counted: the pair starts
// over and the address's count drops by one. Failures of the same user
// from other addresses stay: they are someone else's.
func (s *Store) LoginSucceeded(ctx context.Context, username, clientIP string) error {
	name := models.Truncate(models.NormalizeUsername(username), 200)
	ip := models.Truncate(clientIP, 64)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("username = ? AND client_ip = ?", name, ip).Delete(&models.LoginCounter{}).Error; err != nil {
			return err
		}
		return tx.Model(&models.LoginCounter{}).Where("username = '' AND client_ip = ? AND failures > 0", ip).
			Update("failures", gorm.Expr("failures - 1")).Error
	})
	if err != nil {
		return fmt.Errorf("forget the failures of %q from %s: %w", name, ip, err)
	}
	return nil
}
