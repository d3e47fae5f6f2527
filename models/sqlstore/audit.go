package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// audit writes an entry inside the caller's transaction, so a change and its
// record commit together.
func (s *Store) audit(tx *gorm.DB, actor, action, entity string, id int64, summary string, before, after any) error {
	e := models.AuditEntry{At: s.now(), Actor: actor, Action: action, Entity: entity, Summary: summary,
		Before: auditJSON(before), After: auditJSON(after)}
	if id != 0 {
		e.EntityID = &id
	}
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func auditJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// Audit lists audit entries, newest first.
func (s *Store) Audit(ctx context.Context, q models.AuditQuery) ([]models.AuditEntry, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	db := s.db.WithContext(ctx)
	if q.Entity != "" {
		db = db.Where("entity = ?", q.Entity)
	}
	if q.EntityID != 0 {
		db = db.Where("entity_id = ?", q.EntityID)
	}
	if q.BeforeID > 0 {
		db = db.Where("id < ?", q.BeforeID)
	}
	var out []models.AuditEntry
	if err := db.Order("id DESC").Limit(q.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
