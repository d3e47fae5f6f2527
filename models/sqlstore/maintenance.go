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
	m, err := s.maintenanceOf(ctx, []models.SLODetail{d})
	return m[d.ID], err
}

// maintenanceOf lists the windows covering each SLO, by SLO id, in one statement.
func (s *Store) maintenanceOf(ctx context.Context, ds []models.SLODetail) (map[int64][]models.Maintenance, error) {
	out := make(map[int64][]models.Maintenance, len(ds))
	if len(ds) == 0 {
		return out, nil
	}
	slos, services := make([]int64, len(ds)), make([]int64, len(ds))
	for i, d := range ds {
		slos[i], services[i] = d.ID, d.ServiceID
	}
	var list []models.Maintenance
	if err := s.reads(ctx).Where("slo_id IN ? OR service_id IN ?", slos, services).Order("starts_at, id").Find(&list).Error; err != nil {
		return nil, fmt.Errorf("list maintenance of %d SLOs: %w", len(ds), err)
	}
	for _, d := range ds {
		for _, m := range list {
			if (m.SLOID != nil && *m.SLOID == d.ID) || (m.ServiceID != nil && *m.ServiceID == d.ServiceID) {
				out[d.ID] = append(out[d.ID], m)
			}
		}
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
