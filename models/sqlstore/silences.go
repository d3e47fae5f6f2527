package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// Silences lists silences that end after the given limit of past ones, newest first.
func (s *Store) Silences(ctx context.Context, limit int) ([]models.Silence, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	var out []models.Silence
	if err := s.db.WithContext(ctx).Order("ends_at DESC, id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	return out, nil
}

// CreateSilence mutes notifications for an SLO, a service or everything until it ends.
func (s *Store) CreateSilence(ctx context.Context, actor string, in models.SilenceInput) (models.Silence, error) {
	now := s.now()
	if err := in.Validate(now); err != nil {
		return models.Silence{}, err
	}
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	m := models.Silence{ServiceID: in.ServiceID, SLOID: in.SLOID, Reason: in.Reason, CreatedBy: actor, StartsAt: now,
		EndsAt: in.EndsAt.UTC(), CreatedAt: now}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.checkTarget(tx, in.ServiceID, in.SLOID); err != nil {
			return err
		}
		if err := tx.Create(&m).Error; err != nil {
			return fmt.Errorf("create silence: %w", err)
		}
		return s.audit(tx, actor, "create", "silence", m.ID, "silence: "+m.Reason, nil, m)
	})
	return m, err
}

// ExpireSilence ends a silence now (it stays in the list, ended).
func (s *Store) ExpireSilence(ctx context.Context, actor string, id int64) error {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m models.Silence
		if err := tx.First(&m, id).Error; err != nil {
			return notFound(err, "silence %d not found", id)
		}
		before := m
		now := s.now()
		if m.EndsAt.After(now) {
			m.EndsAt = now
			if m.StartsAt.After(now) {
				m.StartsAt = now
			}
			if err := tx.Save(&m).Error; err != nil {
				return fmt.Errorf("expire silence %d: %w", id, err)
			}
		}
		return s.audit(tx, actor, "expire", "silence", id, "silence: "+m.Reason, before, m)
	})
}

// silencedNow reports, per SLO id, whether a silence or a maintenance window holds at
// now; slos maps each SLO to its service.
func silencedNow(tx *gorm.DB, slos map[int64]int64, now time.Time) (map[int64]bool, error) {
	var sil []models.Silence
	if err := tx.Where("ends_at > ? AND starts_at <= ?", now, now).Find(&sil).Error; err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	var maint []models.Maintenance
	if err := tx.Where("ends_at > ? AND starts_at <= ?", now, now).Find(&maint).Error; err != nil {
		return nil, fmt.Errorf("read maintenance windows: %w", err)
	}
	out := map[int64]bool{}
	for slo, svc := range slos {
		if models.UnderMaintenance(maint, slo, svc, now) {
			out[slo] = true
			continue
		}
		for _, x := range sil {
			if x.Covers(slo, svc) {
				out[slo] = true
				break
			}
		}
	}
	return out, nil
}

// Silenced reports whether an SLO is silenced now (by a silence or maintenance window).
func (s *Store) Silenced(ctx context.Context, sloID, serviceID int64) (bool, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	m, err := silencedNow(s.db.WithContext(ctx), map[int64]int64{sloID: serviceID}, s.now())
	return m[sloID], err
}
