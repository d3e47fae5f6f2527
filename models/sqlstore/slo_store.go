package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Services lists every service by name.
func (s *Store) Services(ctx context.Context) ([]models.Service, error) {
	var out []models.Service
	if err := s.db.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return out, nil
}

// Service loads one service.
func (s *Store) Service(ctx context.Context, id int64) (models.Service, error) {
	var out models.Service
	if err := s.db.WithContext(ctx).First(&out, id).Error; err != nil {
		return models.Service{}, notFound(err, "service %d not found", id)
	}
	return out, nil
}

// CreateService stores a new service.
func (s *Store) CreateService(ctx context.Context, actor string, in models.ServiceInput) (models.Service, error) {
	if err := in.Validate(); err != nil {
		return models.Service{}, err
	}
	now := s.now()
	svc := models.Service{Name: in.Name, Description: in.Description, Team: in.Team, Tier: in.Tier, CreatedAt: now, UpdatedAt: now}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&svc).Error; err != nil {
			if isUnique(err) {
				return &models.Error{Code: models.ECONFLICT, Field: "name", Message: fmt.Sprintf("a service named %q already exists", in.Name)}
			}
			return fmt.Errorf("create service: %w", err)
		}
		return s.audit(tx, actor, "create", "service", svc.ID, "service "+svc.Name, nil, svc)
	})
	return svc, err
}

// UpdateService changes a service.
func (s *Store) UpdateService(ctx context.Context, actor string, id int64, in models.ServiceInput) (models.Service, error) {
	if err := in.Validate(); err != nil {
		return models.Service{}, err
	}
	var before, after models.Service
	var slos []int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&before, id).Error; err != nil {
			return notFound(err, "service %d not found", id)
		}
		after = before
		after.Name, after.Description, after.Team, after.Tier, after.UpdatedAt = in.Name, in.Description, in.Team, in.Tier, s.now()
		if err := tx.Save(&after).Error; err != nil {
			if isUnique(err) {
				return &models.Error{Code: models.ECONFLICT, Field: "name", Message: fmt.Sprintf("a service named %q already exists", in.Name)}
			}
			return fmt.Errorf("update service: %w", err)
		}
		if err := tx.Model(&models.SLO{}).Where("service_id = ?", id).Pluck("id", &slos).Error; err != nil {
			return fmt.Errorf("list SLOs of service %d: %w", id, err)
		}
		if err := s.bumpState(tx, slos...); err != nil {
			return fmt.Errorf("mark SLOs of service %d changed: %w", id, err)
		}
		return s.audit(tx, actor, "update", "service", id, "service "+after.Name, before, after)
	})
	if err == nil {
		s.touched(slos)
	}
	return after, err
}

// DeleteService removes a service that has no SLOs left.
func (s *Store) DeleteService(ctx context.Context, actor string, id int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var svc models.Service
		if err := tx.First(&svc, id).Error; err != nil {
			return notFound(err, "service %d not found", id)
		}
		var n int64
		if err := tx.Model(&models.SLO{}).Where("service_id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.ECONFLICT, "service %s still has %d SLO(s): delete or move them first", svc.Name, n)
		}
		if err := tx.Delete(&models.Service{}, id).Error; err != nil {
			return fmt.Errorf("delete service: %w", err)
		}
		return s.audit(tx, actor, "delete", "service", id, "service "+svc.Name, svc, nil)
	})
}

// sloSnapshot is what the audit log keeps of an SLO: its settings and target.
type sloSnapshot struct {
	models.SLOInput
	TargetFraction float64 `json:"target_fraction"`
}

// resolve finds the service and feed an input names.
func (s *Store) resolve(tx *gorm.DB, in models.SLOInput) (models.Service, models.Feed, error) {
	var fe models.FieldErrors
	var svc models.Service
	if err := tx.Where("name = ?", in.Service).First(&svc).Error; err != nil {
		fe.Add("service", "service %q does not exist: create it first", in.Service)
	}
	var feed models.Feed
	if err := tx.Where("name = ?", in.Feed).First(&feed).Error; err != nil {
		fe.Add("feed", "feed %q does not exist: create it first (sitemetrics feed create)", in.Feed)
	}
	return svc, feed, fe.Err()
}

// CreateSLO stores an SLO and schedules the derivation of its history from
// the samples already stored. Warnings name fields its feed has never sent.
func (s *Store) CreateSLO(ctx context.Context, actor string, in models.SLOInput) (models.SLODetail, []string, error) {
	v, err := in.Validate()
	if err != nil {
		return models.SLODetail{}, nil, err
	}
	var id int64
	var warnings []string
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		svc, feed, err := s.resolve(tx, in)
		if err != nil {
			return err
		}
		now := s.now()
		pending := 1
		slo := v.SLO
		slo.ServiceID, slo.Generation, slo.PendingGeneration, slo.CreatedAt, slo.UpdatedAt = svc.ID, 0, &pending, now, now
		if err := tx.Create(&slo).Error; err != nil {
			if isUnique(err) {
				return &models.Error{Code: models.ECONFLICT, Field: "name", Message: fmt.Sprintf("an SLO named %q already exists", in.Name)}
			}
			return fmt.Errorf("create slo: %w", err)
		}
		id = slo.ID
		b := v.Binding
		b.SLOID, b.Generation, b.FeedID = slo.ID, 1, feed.ID
		if err := tx.Create(&b).Error; err != nil {
			return fmt.Errorf("create binding: %w", err)
		}
		// The first target holds from the beginning of time: history is judged by it.
		t := models.SLOTarget{SLOID: slo.ID, Target: v.Target, EffectiveFrom: time.Unix(0, 0).UTC(), CreatedBy: actor, CreatedAt: now}
		if err := tx.Create(&t).Error; err != nil {
			return fmt.Errorf("create target: %w", err)
		}
		if err := s.lockBindingsGorm(tx, b); err != nil {
			return err
		}
		if err := tx.Exec("INSERT INTO slo_state (slo_id, version) VALUES (?, 0)", slo.ID).Error; err != nil {
			return fmt.Errorf("create slo state: %w", err)
		}
		if err := s.bumpState(tx, slo.ID); err != nil {
			return err
		}
		if err := s.countRederive(tx, slo.ID, b); err != nil {
			return err
		}
		if err := s.bumpBindings(tx, feed.ID); err != nil {
			return err
		}
		if s.imports == nil {
			if warnings, err = s.unseenFields(tx, feed, b, in.LatencyFields); err != nil {
				return err
			}
		}
		return s.audit(tx, actor, "create", "slo", slo.ID, "SLO "+slo.Name, nil, sloSnapshot{in, v.Target})
	})
	if err != nil {
		return models.SLODetail{}, nil, err
	}
	s.wakeDeriver()
	s.touched([]int64{id})
	d, err := s.SLO(ctx, id)
	return d, warnings, err
}

// UpdateSLO changes an SLO. A new target takes effect now (the past keeps the
// old one); a new binding re-derives the history in the background while the
// old numbers stay visible.
func (s *Store) UpdateSLO(ctx context.Context, actor string, id int64, in models.SLOInput) (models.SLODetail, []string, error) {
	v, err := in.Validate()
	if err != nil {
		return models.SLODetail{}, nil, err
	}
	var warnings []string
	rederive := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.loadSLO(tx, id, true)
		if err != nil {
			return err
		}
		svc, feed, err := s.resolve(tx, in)
		if err != nil {
			return err
		}
		now := s.now()
		slo := before.SLO
		slo.ServiceID, slo.Name, slo.DisplayName, slo.Description = svc.ID, v.SLO.Name, v.SLO.DisplayName, v.SLO.Description
		slo.WindowSpec, slo.TimeZone, slo.LatencyFields, slo.UpdatedAt = v.SLO.WindowSpec, v.SLO.TimeZone, v.SLO.LatencyFields, now
		b := v.Binding
		b.SLOID, b.FeedID = id, feed.ID
		current := before.Binding
		if slo.PendingGeneration != nil {
			if err := tx.Where("slo_id = ? AND generation = ?", id, *slo.PendingGeneration).First(&current).Error; err != nil {
				return fmt.Errorf("load pending binding: %w", err)
			}
		}
		if !b.SameSource(current) {
			if err := s.lockBindingsGorm(tx, b, current); err != nil {
				return err
			}
			next := max(slo.Generation, derefInt(slo.PendingGeneration)) + 1
			if slo.PendingGeneration != nil {
				// A newer change supersedes a re-derivation in progress.
				if err := dropGeneration(tx, id, *slo.PendingGeneration); err != nil {
					return err
				}
			}
			b.Generation = next
			if err := tx.Create(&b).Error; err != nil {
				return fmt.Errorf("create binding: %w", err)
			}
			slo.PendingGeneration = &next
			if err := s.countRederive(tx, id, b); err != nil {
				return err
			}
			slo.RederiveDone = 0
			if err := s.bumpBindings(tx, feed.ID, current.FeedID); err != nil {
				return err
			}
			rederive = true
		}
		if err := tx.Model(&models.SLO{}).Where("id = ?", id).Select("service_id", "name", "display_name", "description", "window_spec",
			"time_zone", "latency_fields", "pending_generation", "rederive_done", "updated_at").Updates(&slo).Error; err != nil {
			if isUnique(err) {
				return &models.Error{Code: models.ECONFLICT, Field: "name", Message: fmt.Sprintf("an SLO named %q already exists", in.Name)}
			}
			return fmt.Errorf("update slo: %w", err)
		}
		if old := before.Target(now); old != v.Target {
			t := models.SLOTarget{SLOID: id, Target: v.Target, EffectiveFrom: now, CreatedBy: actor, CreatedAt: now}
			if err := tx.Create(&t).Error; err != nil {
				return fmt.Errorf("create target: %w", err)
			}
		}
		if err := s.bumpState(tx, id); err != nil {
			return err
		}
		if s.imports == nil {
			if warnings, err = s.unseenFields(tx, feed, b, in.LatencyFields); err != nil {
				return err
			}
		}
		summary := "SLO " + slo.Name
		if rederive {
			summary += " (binding changed: history re-derived)"
		}
		return s.audit(tx, actor, "update", "slo", id, summary, sloSnapshot{before.Input(), before.Target(now)}, sloSnapshot{in, v.Target})
	})
	if err != nil {
		return models.SLODetail{}, nil, err
	}
	if rederive {
		s.wakeDeriver()
	}
	s.touched([]int64{id})
	d, err := s.SLO(ctx, id)
	return d, warnings, err
}

// DeleteSLO removes an SLO with its points, targets and history.
func (s *Store) DeleteSLO(ctx context.Context, actor string, id int64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.holdFolds(tx); err != nil {
			return err
		}
		before, err := s.loadSLO(tx, id, true)
		if err != nil {
			return err
		}
		var feeds []int64
		if err := tx.Model(&models.Binding{}).Where("slo_id = ?", id).Distinct().Pluck("feed_id", &feeds).Error; err != nil {
			return err
		}
		for _, table := range []string{"slo_hours", "slo_days", "slo_bindings", "slo_targets", "slo_state", "maintenance_windows", "annotations"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE slo_id = ?", id).Error; err != nil {
				return fmt.Errorf("delete slo %d from %s: %w", id, table, err)
			}
		}
		if err := tx.Delete(&models.SLO{}, id).Error; err != nil {
			return fmt.Errorf("delete slo: %w", err)
		}
		if err := s.bumpBindings(tx, feeds...); err != nil {
			return err
		}
		return s.audit(tx, actor, "delete", "slo", id, "SLO "+before.Name, sloSnapshot{before.Input(), before.Target(s.now())}, nil)
	})
	if err == nil {
		s.forget(id)
	}
	return err
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// bumpBindings tells every replica that cached bindings of these feeds are stale.
func (s *Store) bumpBindings(tx *gorm.DB, feedIDs ...int64) error {
	if s.imports != nil { // once per feed, at the import's end
		for _, id := range feedIDs {
			s.imports.bumps[id] = true
		}
		return nil
	}
	if len(feedIDs) == 0 {
		return nil
	}
	if err := tx.Exec("UPDATE feeds SET bindings_version = bindings_version + 1 WHERE id IN ?", feedIDs).Error; err != nil {
		return fmt.Errorf("bump bindings version: %w", err)
	}
	return nil
}

// bumpState gives SLOs a new version from the one sequence, as a change of settings
// (settings_version moves with it), so every replica's read model reloads their
// settings and computes their numbers again. A delivery moves version alone.
func (s *Store) bumpState(tx *gorm.DB, sloIDs ...int64) error {
	if len(sloIDs) == 0 {
		return nil
	}
	q := "UPDATE slo_state SET version = nextval('slo_version_seq') WHERE slo_id IN ?"
	if s.dialect != migrations.Postgres {
		q = "UPDATE slo_state SET version = (SELECT COALESCE(MAX(version), 0) + 1 FROM slo_state) WHERE slo_id IN ?"
	}
	if err := tx.Exec(q, sloIDs).Error; err != nil {
		return fmt.Errorf("bump slo state: %w", err)
	}
	if err := tx.Exec(settingsBumped+" IN ?", sloIDs).Error; err != nil {
		return fmt.Errorf("bump slo state: %w", err)
	}
	return nil
}

// settingsBumped marks the versions just given as changes of settings.
const settingsBumped = "UPDATE slo_state SET settings_version = version WHERE slo_id"

// countRederive records how many samples a re-derivation will read, for its progress bar.
func (s *Store) countRederive(tx *gorm.DB, sloID int64, b models.Binding) error {
	var n int64
	if err := tx.Raw("SELECT COUNT(*) FROM samples s JOIN series sr ON sr.id = s.series_id WHERE sr.feed_id = ? AND sr.key = ?", b.FeedID, b.Series).Scan(&n).Error; err != nil {
		return fmt.Errorf("count samples: %w", err)
	}
	return tx.Exec("UPDATE slos SET rederive_done = 0, rederive_total = ? WHERE id = ?", n, sloID).Error
}

// unseenFields warns about bound fields that the feed's recent samples of
// the series do not carry (allowed: the report may not have run yet).
func (s *Store) unseenFields(tx *gorm.DB, feed models.Feed, b models.Binding, latency string) ([]string, error) {
	var rows []string
	if err := tx.Raw(`SELECT s.fields FROM samples s JOIN series sr ON sr.id = s.series_id
		WHERE sr.feed_id = ? AND sr.key = ? ORDER BY s.bucket DESC LIMIT 50`, feed.ID, b.Series).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read recent samples: %w", err)
	}
	if len(rows) == 0 {
		// Series rows are made for SLOs before any row arrives (on PostgreSQL): a feed
		// has received rows when one of its series has a data time.
		var received int64
		if err := tx.Raw("SELECT COUNT(*) FROM series WHERE feed_id = ? AND last_bucket IS NOT NULL", feed.ID).Scan(&received).Error; err != nil {
			return nil, err
		}
		if received == 0 {
			return []string{fmt.Sprintf("Feed %s has not received any rows yet: the SLO will show no data until Splunk posts to it.", feed.Name)}, nil
		}
		return []string{fmt.Sprintf("Feed %s has never sent a row for series %q: check the series value (it must equal the feed's %q field).", feed.Name, b.Series, feed.SeriesField)}, nil
	}
	seen := map[string]bool{}
	for _, r := range rows {
		f, err := s.decodeFields(tx.Statement.Context, r)
		if err != nil {
			s.log.Warn("a stored sample's fields cannot be read", "feed", feed.Name, "err", err)
			continue
		}
		for _, x := range f {
			seen[x.Name] = true
		}
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	var warnings []string
	for _, f := range append(b.Fields(), models.SplitList(latency)...) {
		if !seen[f] {
			warnings = append(warnings, fmt.Sprintf("Field %q has not been seen in feed %s (series %q); its rows carry: %s.", f, feed.Name, b.Series, strings.Join(limitList(names, 12), ", ")))
		}
	}
	return warnings, nil
}

// limitList keeps the first max names and says how many more there were.
func limitList(s []string, max int) []string {
	if len(s) <= max {
		return s
	}
	return append(append([]string{}, s[:max]...), fmt.Sprintf("… %d more", len(s)-max))
}

// rederiveLater gives an SLO a new pending generation with the binding it has now (or
// is being derived with), so its history is derived again from the stored samples.
func (s *Store) rederiveLater(tx *gorm.DB, sloID int64) error {
	d, err := s.loadSLO(tx, sloID, true)
	if err != nil {
		return err
	}
	b := d.Binding
	if d.PendingGeneration != nil {
		if err := tx.Where("slo_id = ? AND generation = ?", sloID, *d.PendingGeneration).First(&b).Error; err != nil {
			return fmt.Errorf("load pending binding: %w", err)
		}
		if err := dropGeneration(tx, sloID, *d.PendingGeneration); err != nil {
			return err
		}
	}
	next := max(d.Generation, derefInt(d.PendingGeneration)) + 1
	b.Generation = next
	if err := tx.Create(&b).Error; err != nil {
		return fmt.Errorf("create binding: %w", err)
	}
	if err := tx.Exec("UPDATE slos SET pending_generation = ?, rederive_done = 0 WHERE id = ?", next, sloID).Error; err != nil {
		return err
	}
	return s.countRederive(tx, sloID, b)
}
