package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Maintenance is a window excluded from an SLO's budget: for one SLO, or
// every SLO of a service.
type Maintenance struct {
	ID        int64     `gorm:"primaryKey" json:"id"`
	ServiceID *int64    `json:"service_id"`
	SLOID     *int64    `gorm:"column:slo_id" json:"slo_id"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps GORM on the migration's table.
func (Maintenance) TableName() string { return "maintenance_windows" }

// MaintenanceInput is what a person gives for a maintenance window.
type MaintenanceInput struct {
	ServiceID *int64    `json:"service_id"`
	SLOID     *int64    `json:"slo_id"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Reason    string    `json:"reason"`
}

// Validate names the field at fault.
func (in *MaintenanceInput) Validate() error {
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case (in.ServiceID == nil) == (in.SLOID == nil):
		return FieldErrorf("slo_id", "choose either one SLO or a whole service")
	case in.StartsAt.IsZero():
		return FieldErrorf("starts_at", "the start is required")
	case in.EndsAt.IsZero():
		return FieldErrorf("ends_at", "the end is required")
	case !in.EndsAt.After(in.StartsAt):
		return FieldErrorf("ends_at", "the window ends (%s) before it starts (%s): swap them", in.EndsAt.UTC().Format(time.RFC3339), in.StartsAt.UTC().Format(time.RFC3339))
	case in.EndsAt.Sub(in.StartsAt) > 31*24*time.Hour:
		return FieldErrorf("ends_at", "a maintenance window is at most 31 days long")
	case in.Reason == "":
		return FieldErrorf("reason", "say why, e.g. \"database upgrade\": the reason is shown on charts")
	case len(in.Reason) > 500:
		return FieldErrorf("reason", "the reason is longer than 500 characters")
	}
	return nil
}

// Maintenances lists maintenance windows, newest first.
func (s *Store) Maintenances(ctx context.Context) ([]Maintenance, error) {
	var out []Maintenance
	if err := s.db.WithContext(ctx).Order("starts_at DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list maintenance windows: %w", err)
	}
	return out, nil
}

// maintenanceFor lists the windows that apply to an SLO.
func (s *Store) maintenanceFor(ctx context.Context, d SLODetail) ([]Maintenance, error) {
	var out []Maintenance
	if err := s.db.WithContext(ctx).Where("slo_id = ? OR service_id = ?", d.ID, d.ServiceID).Order("starts_at").Find(&out).Error; err != nil {
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
	err := tx.Model(&SLO{}).Where("service_id = ?", *serviceID).Pluck("id", &ids).Error
	return ids, err
}

// CreateMaintenance stores a window; the SLOs it covers are re-evaluated.
func (s *Store) CreateMaintenance(ctx context.Context, actor string, in MaintenanceInput) (Maintenance, error) {
	if err := in.Validate(); err != nil {
		return Maintenance{}, err
	}
	m := Maintenance{ServiceID: in.ServiceID, SLOID: in.SLOID, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(),
		Reason: in.Reason, CreatedBy: actor, CreatedAt: s.now()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.checkTarget(tx, in.ServiceID, in.SLOID); err != nil {
			return err
		}
		if err := tx.Create(&m).Error; err != nil {
			return fmt.Errorf("create maintenance window: %w", err)
		}
		ids, err := affectedSLOs(tx, in.ServiceID, in.SLOID)
		if err != nil {
			return err
		}
		if err := bumpState(tx, ids...); err != nil {
			return err
		}
		return s.audit(tx, actor, "create", "maintenance", m.ID, "maintenance: "+m.Reason, nil, m)
	})
	return m, err
}

// DeleteMaintenance removes a window; the SLOs it covered count that time again.
func (s *Store) DeleteMaintenance(ctx context.Context, actor string, id int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m Maintenance
		if err := tx.First(&m, id).Error; err != nil {
			return notFound(err, "maintenance window %d not found", id)
		}
		if err := tx.Delete(&Maintenance{}, id).Error; err != nil {
			return err
		}
		ids, err := affectedSLOs(tx, m.ServiceID, m.SLOID)
		if err != nil {
			return err
		}
		if err := bumpState(tx, ids...); err != nil {
			return err
		}
		return s.audit(tx, actor, "delete", "maintenance", id, "maintenance: "+m.Reason, m, nil)
	})
}

// checkTarget makes sure the service or SLO referred to exists.
func (s *Store) checkTarget(tx *gorm.DB, serviceID, sloID *int64) error {
	if serviceID != nil {
		var n int64
		if err := tx.Model(&Service{}).Where("id = ?", *serviceID).Count(&n).Error; err != nil || n == 0 {
			return FieldErrorf("service_id", "service %d does not exist", *serviceID)
		}
	}
	if sloID != nil {
		var n int64
		if err := tx.Model(&SLO{}).Where("id = ?", *sloID).Count(&n).Error; err != nil || n == 0 {
			return FieldErrorf("slo_id", "SLO %d does not exist", *sloID)
		}
	}
	return nil
}
