package sqlstore

import (
	"context"
	"fmt"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// Maintenances lists maintenance windows, newest first.
func (s *Store) Maintenances(ctx context.Context) ([]models.Maintenance, error) {
	var out []models.Maintenance
	if err := s.db.WithContext(ctx).Order("starts_at DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list maintenance windows: %w", err)
	}
	return out, nil
}

// maintenanceFor lists the windows that apply to an SLO.
func (s *Store) maintenanceFor(ctx context.Context, d models.SLODetail) ([]models.Maintenance, error) {
	var out []models.Maintenance
	if err := s.reads(ctx).Where("slo_id = ? OR service_id = ?", d.ID, d.ServiceID).Order("starts_at").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list maintenance of SLO %d: %w", d.ID, err)
	}
	return out, nil
}

// affectedSLOs are the SLOs a maintenance window or annotation touches.
func affectedSLOs(tx *gorm.DB, serviceID, sloID *int64) ([]int64, error) {
	if sloID != nil {
		return []int64{*sloID}, nil
	}
	var ids []int64
	err := tx.Model(&models.SLO{}).Where("service_id = ?", *serviceID).Pluck("id", &ids).Error
	return ids, err
}

// CreateMaintenance stores a window; the SLOs it covers are re-evaluated.
func (s *Store) CreateMaintenance(ctx context.Context, actor string, in models.MaintenanceInput) (models.Maintenance, error) {
	if err := in.Validate(); err != nil {
		return models.Maintenance{}, err
	}
	m := models.Maintenance{ServiceID: in.ServiceID, SLOID: in.SLOID, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(),
		Reason: in.Reason, CreatedBy: actor, CreatedAt: s.now()}
	var ids []int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.checkTarget(tx, in.ServiceID, in.SLOID); err != nil {
			return err
		}
		if err := tx.Create(&m).Error; err != nil {
			return fmt.Errorf("create maintenance window: %w", err)
		}
		var err error
		if ids, err = affectedSLOs(tx, in.ServiceID, in.SLOID); err != nil {
			return err
		}
		if err := s.bumpState(tx, ids...); err != nil {
			return err
		}
		return s.audit(tx, actor, "create", "maintenance", m.ID, "maintenance: "+m.Reason, nil, m)
	})
	if err == nil {
		s.touched(ids)
	}
	return m, err
}

// DeleteMaintenance removes a window; the SLOs it covered count that time again.
func (s *Store) DeleteMaintenance(ctx context.Context, actor string, id int64) error {
	var ids []int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m models.Maintenance
		if err := tx.First(&m, id).Error; err != nil {
			return notFound(err, "maintenance window %d not found", id)
		}
		if err := tx.Delete(&models.Maintenance{}, id).Error; err != nil {
			return err
		}
		var err error
		if ids, err = affectedSLOs(tx, m.ServiceID, m.SLOID); err != nil {
			return err
		}
		if err := s.bumpState(tx, ids...); err != nil {
			return err
		}
		return s.audit(tx, actor, "delete", "maintenance", id, "maintenance: "+m.Reason, m, nil)
	})
	if err == nil {
		s.touched(ids)
	}
	return err
}

// checkTarget makes sure the service or SLO referred to exists.
func (s *Store) checkTarget(tx *gorm.DB, serviceID, sloID *int64) error {
	if serviceID != nil {
		var n int64
		if err := tx.Model(&models.Service{}).Where("id = ?", *serviceID).Count(&n).Error; err != nil || n == 0 {
			return models.FieldErrorf("service_id", "service %d does not exist", *serviceID)
		}
	}
	if sloID != nil {
		var n int64
		if err := tx.Model(&models.SLO{}).Where("id = ?", *sloID).Count(&n).Error; err != nil || n == 0 {
			return models.FieldErrorf("slo_id", "SLO %d does not exist", *sloID)
		}
	}
	return nil
}
