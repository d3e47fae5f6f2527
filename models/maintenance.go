package models

import (
	"strings"
	"time"
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
