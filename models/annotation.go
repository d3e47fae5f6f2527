package models

import (
	"time"
)

// Annotation marks a deploy, an incident or a note on the charts.
type Annotation struct {
	ID          int64      `gorm:"primaryKey" json:"id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Link        string     `json:"link"`
	ServiceID   *int64     `json:"service_id"`
	SLOID       *int64     `gorm:"column:slo_id" json:"slo_id"`
	At          time.Time  `json:"at"`
	EndsAt      *time.Time `json:"ends_at"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
}

// AnnotationInput is what a person or a CI pipeline gives.
type AnnotationInput struct {
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Link        string     `json:"link"`
	Service     string     `json:"service"` // a service name, or
	SLO         string     `json:"slo"`     // an SLO name, or neither: every chart
	At          *time.Time `json:"at"`      // default: now
	EndsAt      *time.Time `json:"ends_at"`
}
