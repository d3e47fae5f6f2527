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

// Validate names every field at fault (FieldErrors).
func (in *MaintenanceInput) Validate() error {
	in.Reason = strings.TrimSpace(in.Reason)
	var fe FieldErrors
	if (in.ServiceID == nil) == (in.SLOID == nil) {
		fe.Add("slo_id", "choose either one SLO or a whole service")
	}
	if in.StartsAt.IsZero() {
		fe.Add("starts_at", "the start is required")
	}
	switch {
	case in.EndsAt.IsZero():
		fe.Add("ends_at", "the end is required")
	case in.StartsAt.IsZero():
	case !in.EndsAt.After(in.StartsAt):
		fe.Add("ends_at", "the window ends (%s) before it starts (%s): swap them", in.EndsAt.UTC().Format(time.RFC3339), in.StartsAt.UTC().Format(time.RFC3339))
	case in.EndsAt.Sub(in.StartsAt) > 31*24*time.Hour:
		fe.Add("ends_at", "a maintenance window is at most 31 days long")
	}
	switch {
	case in.Reason == "":
		fe.Add("reason", "say why, e.g. \"database upgrade\": the reason is shown on charts")
	case len(in.Reason) > 500:
		fe.Add("reason", "the reason is longer than 500 characters")
	}
	return fe.Err()
}
