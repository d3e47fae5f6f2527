package sqlstore

import (
	"context"
	"fmt"
	"slices"
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

// idsPerStatement is how many ids one statement lists: PostgreSQL takes at most 65,535
// parameters in a statement and SQLite 32,766, and a replica reads every SLO's settings
// and numbers.
const idsPerStatement = 5000

// findIn runs find for ids, idsPerStatement at a time, and gathers what it finds.
func findIn[T any](ids []int64, find func(part []int64, out *[]T) error) ([]T, error) {
	var all []T
	for part := range slices.Chunk(ids, idsPerStatement) {
		var found []T
		if err := find(part, &found); err != nil {
			return nil, err
		}
		all = append(all, found...)
	}
	return all, nil
}

// slosByID loads the SLOs with these ids (those that still exist).
func (s *Store) slosByID(ctx context.Context, ids []int64) ([]models.SLODetail, error) {
	slos, err := findIn(ids, func(part []int64, out *[]models.SLO) error {
		return s.db.WithContext(ctx).Where("id IN ?", part).Find(out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("load slos: %w", err)
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
	services, err := findIn(ids, func(part []int64, out *[]models.Service) error {
		return tx.Where("id IN (SELECT service_id FROM slos WHERE id IN ?)", part).Find(out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("load services: %w", err)
	}
	feeds, err := findIn(ids, func(part []int64, out *[]models.Feed) error {
		return tx.Where("id IN (SELECT feed_id FROM slo_bindings WHERE slo_id IN ?)", part).Find(out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("load feeds: %w", err)
	}
	bindings, err := findIn(ids, func(part []int64, out *[]models.Binding) error {
		return tx.Where("slo_id IN ?", part).Find(out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("load bindings: %w", err)
	}
	targets, err := findIn(ids, func(part []int64, out *[]models.SLOTarget) error {
		return tx.Where("slo_id IN ?", part).Order("effective_from, id").Find(out).Error
	})
	if err != nil {
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
