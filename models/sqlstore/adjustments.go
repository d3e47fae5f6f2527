package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// Adjustments lists, for each SLO, the changes made after the fact that moved
// its numbers over [from, to), oldest first: target changes in force from a
// time in it (from the SLO's targets), and maintenance windows covering part
// of it that were added, or removed (from the audit log), after that part had
// begun. Callers narrow each SLO's list to its own period with
// models.AdjustmentsIn.
func (s *Store) Adjustments(ctx context.Context, slos []models.SLODetail, from, to time.Time) (map[int64][]models.Adjustment, error) {
	out := map[int64][]models.Adjustment{}
	if len(slos) == 0 {
		return out, nil
	}
	sloIDs, svcIDs := make([]int64, 0, len(slos)), make([]int64, 0, len(slos))
	for _, d := range slos {
		sloIDs, svcIDs = append(sloIDs, d.ID), append(svcIDs, d.ServiceID)
		out[d.ID] = append(out[d.ID], models.TargetAdjustments(d.Targets)...)
	}
	var windows []models.Maintenance
	if err := s.db.WithContext(ctx).Where("(slo_id IN ? OR service_id IN ?) AND ends_at > ? AND starts_at < ? AND created_at > starts_at",
		sloIDs, svcIDs, from.UTC(), to.UTC()).Find(&windows).Error; err != nil {
		return nil, fmt.Errorf("read maintenance added after it began: %w", err)
	}
	var removed []models.AuditEntry
	if err := s.db.WithContext(ctx).Where("entity = ? AND action = ? AND at > ?", "maintenance", "delete", from.UTC()).
		Order("id").Find(&removed).Error; err != nil {
		return nil, fmt.Errorf("read maintenance removed: %w", err)
	}
	type change struct {
		m       models.Maintenance
		kind, b string
		made    time.Time
	}
	changes := make([]change, 0, len(windows)+len(removed))
	for _, m := range windows {
		changes = append(changes, change{m, models.AdjustMaintenanceAdded, m.CreatedBy, m.CreatedAt})
	}
	for _, e := range removed {
		var m models.Maintenance
		if err := json.Unmarshal([]byte(e.Before), &m); err != nil {
			s.log.Warn("audit entry of a removed maintenance window unreadable; not marked as an adjustment", "audit_id", e.ID, "err", err)
			continue
		}
		changes = append(changes, change{m, models.AdjustMaintenanceRemoved, e.Actor, e.At})
	}
	for _, d := range slos {
		for _, c := range changes {
			if (c.m.SLOID == nil || *c.m.SLOID != d.ID) && (c.m.ServiceID == nil || *c.m.ServiceID != d.ServiceID) {
				continue
			}
			ends := c.m.EndsAt
			out[d.ID] = append(out[d.ID], models.Adjustment{Kind: c.kind, At: c.m.StartsAt, Until: &ends, By: c.b, Made: c.made, Why: c.m.Reason})
		}
		out[d.ID] = models.AdjustmentsIn(out[d.ID], from, to)
	}
	return out, nil
}
