package models

import (
	"net/url"
	"strings"
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

// Validate normalises the input and names every field at fault (FieldErrors).
// Whether the service or SLO it names exists is the store's to say.
func (in *AnnotationInput) Validate() error {
	in.Kind = strings.ToLower(strings.TrimSpace(in.Kind))
	in.Title, in.Link, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(in.Link), strings.TrimSpace(in.Description)
	var fe FieldErrors
	if in.Kind != "deploy" && in.Kind != "incident" && in.Kind != "note" {
		fe.Add("kind", "kind %q is not one of deploy, incident, note", in.Kind)
	}
	switch {
	case in.Title == "":
		fe.Add("title", "a title is required, e.g. \"checkout v2.4.1\"")
	case len(in.Title) > 200:
		fe.Add("title", "the title is longer than 200 characters")
	}
	if len(in.Description) > 2000 {
		fe.Add("description", "the description is longer than 2000 characters")
	}
	if in.Link != "" {
		if u, err := url.Parse(in.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fe.Add("link", "link %q is not an http(s) URL", in.Link)
		}
	}
	if in.Service != "" && in.SLO != "" {
		fe.Add("slo", "give a service or an SLO, not both")
	}
	if in.EndsAt != nil && in.At != nil && !in.EndsAt.After(*in.At) {
		fe.Add("ends_at", "it ends before it starts")
	}
	return fe.Err()
}
