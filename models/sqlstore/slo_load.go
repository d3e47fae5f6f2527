package sqlstore

import (
	"context"
	"fmt"
	"sort"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SLO loads one SLO with its service, feed, active binding and targets.
func (s *Store) SLO(ctx context.Context, id int64) (models.SLODetail, error) {
	return s.loadSLO(s.db.WithContext(ctx), id, false)
}

func (s *Store) loadSLO(tx *gorm.DB, id int64, lock bool) (models.SLODetail, error) {
	q := tx
	if lock && s.dialect == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var slo models.SLO
	if err := q.First(&slo, id).Error; err != nil {
		return models.SLODetail{}, notFound(err, "SLO %d not found", id)
	}
	list, err := s.details(tx, []models.SLO{slo})
	if err != nil {
		return models.SLODetail{}, err
	}
	return list[0], nil
}

// SLOs lists every SLO with its service, feed, binding and targets, by name.
func (s *Store) SLOs(ctx context.Context) ([]models.SLODetail, error) {
	var slos []models.SLO
	if err := s.db.WithContext(ctx).Order("name").Find(&slos).Error; err != nil {
		return nil, fmt.Errorf("list slos: %w", err)
	}
	return s.details(s.db.WithContext(ctx), slos)
}

// slosByID loads the SLOs with these ids (those that still exist).
func (s *Store) slosByID(ctx context.Context, ids []int64) ([]models.SLODetail, error) {
	var slos []models.SLO
	for start := 0; start < len(ids); start += 5000 {
		var part []models.SLO
		if err := s.db.WithContext(ctx).Where("id IN ?", ids[start:min(start+5000, len(ids))]).Find(&part).Error; err != nil {
			return nil, fmt.Errorf("load slos: %w", err)
		}
		slos = append(slos, part...)
	}
	return s.details(s.db.WithContext(ctx), slos)
}

// SLOByName loads an SLO by its name.
func (s *Store) SLOByName(ctx context.Context, name string) (models.SLODetail, error) {
	var slo models.SLO
	if err := s.db.WithContext(ctx).Where("name = ?", name).First(&slo).Error; err != nil {
		return models.SLODetail{}, notFound(err, "SLO %q not found", name)
	}
	list, err := s.details(s.db.WithContext(ctx), []models.SLO{slo})
	if err != nil {
		return models.SLODetail{}, err
	}
	return list[0], nil
}

// details fills in what each SLO refers to, with one query per table.
func (s *Store) details(tx *gorm.DB, slos []models.SLO) ([]models.SLODetail, error) {
	out := make([]models.SLODetail, len(slos))
	if len(slos) == 0 {
		return out, nil
	}
	ids := make([]int64, len(slos))
	for i, x := range slos {
		ids[i] = x.ID
	}
	var services []models.Service
	var feeds []models.Feed
	var bindings []models.Binding
	var targets []models.SLOTarget
	if err := tx.Where("id IN (SELECT service_id FROM slos WHERE id IN ?)", ids).Find(&services).Error; err != nil {
		return nil, fmt.Errorf("load services: %w", err)
	}
	if err := tx.Where("id IN (SELECT feed_id FROM slo_bindings WHERE slo_id IN ?)", ids).Find(&feeds).Error; err != nil {
		return nil, fmt.Errorf("load feeds: %w", err)
	}
	if err := tx.Where("slo_id IN ?", ids).Find(&bindings).Error; err != nil {
		return nil, fmt.Errorf("load bindings: %w", err)
	}
	if err := tx.Where("slo_id IN ?", ids).Order("effective_from, id").Find(&targets).Error; err != nil {
		return nil, fmt.Errorf("load targets: %w", err)
	}
	svcByID, feedByID := map[int64]models.Service{}, map[int64]models.Feed{}
	for _, x := range services {
		svcByID[x.ID] = x
	}
	for _, x := range feeds {
		feedByID[x.ID] = x
	}
	type key struct {
		slo int64
		gen int
	}
	bind := map[key]models.Binding{}
	for _, b := range bindings {
		bind[key{b.SLOID, b.Generation}] = b
	}
	targetsBy := map[int64][]models.SLOTarget{}
	for _, t := range targets {
		targetsBy[t.SLOID] = append(targetsBy[t.SLOID], t)
	}
	for i, x := range slos {
		d := models.SLODetail{SLO: x, Service: svcByID[x.ServiceID], Targets: targetsBy[x.ID]}
		b, ok := bind[key{x.ID, x.Generation}]
		if !ok && x.PendingGeneration != nil {
			// Nothing derived yet (a new SLO): show the binding being derived.
			b = bind[key{x.ID, *x.PendingGeneration}]
		}
		d.Binding = b
		d.Feed = feedByID[b.FeedID]
		if x.PendingGeneration != nil {
			d.Rederiving = &models.Progress{Done: x.RederiveDone, Total: x.RederiveTotal}
		}
		sort.Slice(d.Targets, func(i, j int) bool { return d.Targets[i].EffectiveFrom.Before(d.Targets[j].EffectiveFrom) })
		out[i] = d
	}
	return out, nil
}
