package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// CreateAnnotation stores an annotation (a deploy from CI, an incident).
func (s *Store) CreateAnnotation(ctx context.Context, actor string, in models.AnnotationInput) (models.Annotation, error) {
	if err := in.Validate(); err != nil {
		return models.Annotation{}, err
	}
	a := models.Annotation{Kind: in.Kind, Title: in.Title, Description: in.Description, Link: in.Link,
		CreatedBy: actor, CreatedAt: s.now(), At: s.now()}
	if in.At != nil {
		a.At = in.At.UTC()
	}
	if in.EndsAt != nil {
		if !in.EndsAt.After(a.At) {
			return models.Annotation{}, models.FieldErrorf("ends_at", "it ends before it starts")
		}
		e := in.EndsAt.UTC()
		a.EndsAt = &e
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if in.Service != "" {
			var svc models.Service
			if err := tx.Where("name = ?", in.Service).First(&svc).Error; err != nil {
				return models.FieldErrorf("service", "service %q does not exist", in.Service)
			}
			a.ServiceID = &svc.ID
		}
		if in.SLO != "" {
			var slo models.SLO
			if err := tx.Where("name = ?", in.SLO).First(&slo).Error; err != nil {
				return models.FieldErrorf("slo", "SLO %q does not exist", in.SLO)
			}
			a.SLOID = &slo.ID
		}
		if err := tx.Create(&a).Error; err != nil {
			return fmt.Errorf("create annotation: %w", err)
		}
		return s.audit(tx, actor, "create", "annotation", a.ID, a.Kind+": "+a.Title, nil, a)
	})
	return a, err
}

// AnnotationsFor lists annotations shown on an SLO's charts in [from, to]:
// its own, its service's, and global ones.
func (s *Store) AnnotationsFor(ctx context.Context, d models.SLODetail, from, to time.Time) ([]models.Annotation, error) {
	var out []models.Annotation
	err := s.db.WithContext(ctx).Where("at >= ? AND at <= ? AND (slo_id = ? OR service_id = ? OR (slo_id IS NULL AND service_id IS NULL))",
		from.UTC(), to.UTC(), d.ID, d.ServiceID).Order("at").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list annotations: %w", err)
	}
	return out, nil
}

// Annotations lists recent annotations, newest first.
func (s *Store) Annotations(ctx context.Context, limit int) ([]models.Annotation, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []models.Annotation
	if err := s.db.WithContext(ctx).Order("at DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list annotations: %w", err)
	}
	return out, nil
}

// DeleteAnnotation removes an annotation.
func (s *Store) DeleteAnnotation(ctx context.Context, actor string, id int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a models.Annotation
		if err := tx.First(&a, id).Error; err != nil {
			return notFound(err, "annotation %d not found", id)
		}
		if err := tx.Delete(&models.Annotation{}, id).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, "delete", "annotation", id, a.Kind+": "+a.Title, a, nil)
	})
}
