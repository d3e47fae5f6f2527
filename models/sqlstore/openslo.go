package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/openslo"
	"gorm.io/gorm"
)

// openSLODocument is an AlertPolicy, AlertCondition or AlertNotificationTarget kept as given.
type openSLODocument struct {
	Kind string `gorm:"primaryKey"`
	Name string `gorm:"primaryKey"`
	Body string
}

func (openSLODocument) TableName() string { return "openslo_documents" }

var errDryRun = errors.New("dry run: roll back")

// inTx is a view of the store whose every query runs in tx: the store's own
// methods, called on it, run their transactions as part of tx, so one import commits
// or rolls back as a whole. They take no savepoints: an error ends the import anyway,
// and on PostgreSQL each savepoint that writes holds a lock to the end of tx, so an
// import of thousands of SLOs ran out of the server's lock table.
func (s *Store) inTx(tx *gorm.DB) *Store {
	c := *s
	c.db = tx.Session(&gorm.Session{DisableNestedTransaction: true})
	return &c
}

// ImportOpenSLO applies a plan in one transaction: services and SLOs created,
// updated or, when nothing differs, left alone without an audit entry. With
// dryRun it does the same and rolls back, so the result says exactly what an
// import would do.
func (s *Store) ImportOpenSLO(ctx context.Context, actor string, plan openslo.Plan, dryRun bool) (openslo.Result, error) {
	var res openslo.Result
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res = openslo.Result{DryRun: dryRun, Notices: append([]string(nil), plan.Notices...)}
		st := s.inTx(tx)
		st.imports = &importBatch{bumps: map[int64]bool{}}
		if err := st.importPlan(ctx, actor, plan, &res); err != nil {
			return err
		}
		feeds := slices.Sorted(maps.Keys(st.imports.bumps))
		st.imports = nil
		if err := st.bumpBindings(tx, feeds...); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return res, nil
	}
	if err != nil {
		return openslo.Result{}, err
	}
	s.wakeDeriver()
	return res, nil
}

func (s *Store) importPlan(ctx context.Context, actor string, plan openslo.Plan, res *openslo.Result) error {
	services, err := s.Services(ctx)
	if err != nil {
		return err
	}
	var feeds []models.Feed
	if err := s.db.WithContext(ctx).Find(&feeds).Error; err != nil {
		return fmt.Errorf("load feeds: %w", err)
	}
	existing, err := s.SLOs(ctx)
	if err != nil {
		return err
	}
	var stored []openSLODocument
	if err := s.db.WithContext(ctx).Find(&stored).Error; err != nil {
		return fmt.Errorf("load OpenSLO documents: %w", err)
	}
	if err := checkReferences(plan, services, feeds, stored); err != nil {
		return err
	}
	if err := s.importServices(ctx, actor, plan.Services, services, res); err != nil {
		return err
	}
	byName := map[string]models.SLODetail{}
	for _, d := range existing {
		byName[d.Name] = d
	}
	if err := s.lockGorm(s.db.WithContext(ctx), planLocks(plan, feeds, byName)); err != nil {
		return err
	}
	inPlan := map[string]bool{}
	groups := map[string]bool{}
	for _, x := range plan.SLOs {
		inPlan[x.Input.Name] = true
		if x.ObjectiveOf != "" {
			groups[x.ObjectiveOf] = true
		} else {
			groups[x.Input.Name] = true
		}
	}
	for _, x := range plan.SLOs {
		c, err := s.importSLO(ctx, actor, x, byName)
		if err != nil {
			return err
		}
		res.SLOs = append(res.SLOs, c)
	}
	// An objective dropped from its SLO in the file is kept, as an SLO of its own.
	for _, d := range existing {
		if d.ObjectiveOf == "" || inPlan[d.Name] || !groups[d.ObjectiveOf] {
			continue
		}
		if err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&models.SLO{}).Where("id = ?", d.ID).Updates(map[string]any{"objective_of": "", "objective_index": 0}).Error; err != nil {
				return fmt.Errorf("detach objective %s: %w", d.Name, err)
			}
			return s.audit(tx, actor, "update", "slo", d.ID, "SLO "+d.Name+": no longer an objective of "+d.ObjectiveOf+" in the OpenSLO file",
				map[string]any{"objective_of": d.ObjectiveOf, "objective_index": d.ObjectiveIndex}, map[string]any{"objective_of": "", "objective_index": 0})
		}); err != nil {
			return err
		}
		res.SLOs = append(res.SLOs, openslo.Change{Kind: "SLO", Name: d.Name, Action: openslo.ActionUpdate,
			Diff: []string{fmt.Sprintf("objective of: %q → \"\" (the file's SLO %s no longer has this objective; it is kept as an SLO of its own: delete it if it is gone)", d.ObjectiveOf, d.ObjectiveOf)}})
	}
	return s.importDocuments(ctx, actor, plan.Alerting, stored)
}

// planLocks are the locks of the series whose bindings a plan may change: those its
// SLOs name, and those the SLOs it updates are bound to now; at most lockStripes per
// feed. The import takes them all at its start, in the order writers lock (locks.go),
// rather than one by one as its SLOs come, which could wait on a writer that waits on
// it.
func planLocks(plan openslo.Plan, feeds []models.Feed, byName map[string]models.SLODetail) []int64 {
	feedID := make(map[string]int64, len(feeds))
	for _, f := range feeds {
		feedID[f.Name] = f.ID
	}
	keys := map[int64]bool{}
	for _, x := range plan.SLOs {
		if id, ok := feedID[x.Input.Feed]; ok {
			keys[seriesLock(id, x.Input.Series)] = true
		}
		if d, ok := byName[x.Input.Name]; ok {
			keys[seriesLock(d.Binding.FeedID, d.Binding.Series)] = true
		}
	}
	return slices.Sorted(maps.Keys(keys))
}

// checkReferences refuses a plan that names a service, feed or alert policy that
// is neither stored nor in the file, or a time slice other than the feed's interval.
func checkReferences(plan openslo.Plan, services []models.Service, feeds []models.Feed, stored []openSLODocument) error {
	haveService, feedByName, havePolicy := map[string]bool{}, map[string]models.Feed{}, map[string]bool{}
	for _, x := range services {
		haveService[x.Name] = true
	}
	for _, x := range plan.Services {
		haveService[x.Input.Name] = true
	}
	for _, f := range feeds {
		feedByName[f.Name] = f
	}
	for _, d := range stored {
		havePolicy[d.Kind+"/"+d.Name] = true
	}
	for _, d := range plan.Alerting {
		havePolicy[d.Kind+"/"+d.Name] = true
	}
	for _, x := range plan.SLOs {
		if !haveService[x.Input.Service] {
			return &models.Error{Code: models.EINVALID, Field: "service", Message: fmt.Sprintf("%s, spec.service: service %q is neither in the file nor defined: add a Service document or create it first", x.Where, x.Input.Service)}
		}
		feed, ok := feedByName[x.Input.Feed]
		if !ok {
			return &models.Error{Code: models.EINVALID, Field: "feed", Message: fmt.Sprintf("%s, spec.indicator: feed %q does not exist: create it first (sitemetrics feed create --name %s)", x.Where, x.Input.Feed, x.Input.Feed)}
		}
		if x.SliceWindow != 0 && x.SliceWindow != feed.Interval() {
			return &models.Error{Code: models.EINVALID, Field: "time_slice_window", Message: fmt.Sprintf("%s, timeSliceWindow: a slice of %s has no meaning here: one slice is one sample of feed %s, every %s (write timeSliceWindow: %s)",
				x.Where, openslo.FormatSliceWindow(x.SliceWindow), feed.Name, feed.Interval(), openslo.FormatSliceWindow(feed.Interval()))}
		}
		for _, ref := range x.AlertPolicyRefs {
			if !havePolicy["AlertPolicy/"+ref] {
				return &models.Error{Code: models.EINVALID, Field: "alert_policies", Message: fmt.Sprintf("%s, spec.alertPolicies: alertPolicyRef %q names no AlertPolicy in the file or imported before", x.Where, ref)}
			}
		}
	}
	return nil
}

func (s *Store) importServices(ctx context.Context, actor string, list []openslo.Service, services []models.Service, res *openslo.Result) error {
	byName := map[string]models.Service{}
	for _, x := range services {
		byName[x.Name] = x
	}
	for _, x := range list {
		c := openslo.Change{Kind: "service", Name: x.Input.Name, Action: openslo.ActionNone}
		before, ok := byName[x.Input.Name]
		id := before.ID
		if !ok {
			svc, err := s.CreateService(ctx, actor, x.Input)
			if err != nil {
				return fmt.Errorf("%s: %w", x.Where, err)
			}
			id, c.Action = svc.ID, openslo.ActionCreate
		} else if c.Diff = openslo.CompareService(before, x); len(c.Diff) > 0 {
			c.Action = openslo.ActionUpdate
			in := models.ServiceInput{Name: before.Name, Description: before.Description, Team: before.Team, Tier: before.Tier}
			if in != x.Input {
				if _, err := s.UpdateService(ctx, actor, id, x.Input); err != nil {
					return fmt.Errorf("%s: %w", x.Where, err)
				}
			}
		}
		meta := map[string]any{"display_name": x.DisplayName, "labels": x.Labels, "annotations": x.Annotations}
		was := map[string]any{"display_name": before.DisplayName, "labels": before.Labels, "annotations": before.Annotations}
		if c.Action == openslo.ActionCreate || fmt.Sprint(meta) != fmt.Sprint(was) {
			err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if err := tx.Model(&models.Service{}).Where("id = ?", id).Updates(meta).Error; err != nil {
					return fmt.Errorf("service %s: store OpenSLO metadata: %w", x.Input.Name, err)
				}
				if c.Action == openslo.ActionCreate {
					return nil // the create entry is the record
				}
				return s.audit(tx, actor, "update", "service", id, "service "+x.Input.Name+": OpenSLO metadata", was, meta)
			})
			if err != nil {
				return err
			}
		}
		res.Services = append(res.Services, c)
	}
	return nil
}

// importSLO creates or updates one SLO (one objective of an OpenSLO SLO).
func (s *Store) importSLO(ctx context.Context, actor string, x openslo.SLO, byName map[string]models.SLODetail) (openslo.Change, error) {
	c := openslo.Change{Kind: "SLO", Name: x.Input.Name, Action: openslo.ActionNone}
	v, err := x.Input.Validate()
	if err != nil {
		return c, fmt.Errorf("%s: %w", x.Where, err)
	}
	now := s.now()
	meta := map[string]any{"labels": x.Labels, "annotations": x.Annotations, "objective_name": x.ObjectiveName,
		"objective_of": x.ObjectiveOf, "objective_index": x.ObjectiveIndex, "openslo": x.Extras}
	d, ok := byName[x.Input.Name]
	if !ok {
		c.Action = openslo.ActionCreate
		in := x.Input
		history := x.History
		if len(history) > 0 {
			if _, err := openslo.MergeHistory(nil, history, now, x.Where); err != nil {
				return c, err
			}
			in.Target = models.FormatPercent(history[0].Target)
		}
		created, _, err := s.CreateSLO(ctx, actor, in)
		if err != nil {
			return c, fmt.Errorf("%s: %w", x.Where, err)
		}
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&models.SLO{}).Where("id = ?", created.ID).Updates(meta).Error; err != nil {
				return fmt.Errorf("SLO %s: store OpenSLO metadata: %w", x.Input.Name, err)
			}
			if len(history) == 0 {
				return nil
			}
			if last := history[len(history)-1]; last.Target != v.Target {
				history = append(history, models.TargetChange{From: now, Target: v.Target})
			}
			if err := tx.Exec("DELETE FROM slo_targets WHERE slo_id = ?", created.ID).Error; err != nil {
				return fmt.Errorf("SLO %s: replace first target: %w", x.Input.Name, err)
			}
			return s.addTargets(tx, actor, created.ID, history, now)
		})
		return c, err
	}

	inputDiff, metaDiff := openslo.CompareSLO(d, x, v)
	stored := openslo.History(d)
	add, err := openslo.MergeHistory(stored, x.History, now, x.Where)
	if err != nil {
		return c, err
	}
	current := d.Target(now)
	if len(add) > 0 {
		current = add[len(add)-1].Target
		c.Diff = append(c.Diff, "target history: + "+openslo.DescribeHistory(add))
	}
	targetChanges := current != v.Target
	if targetChanges {
		c.Diff = append(c.Diff, fmt.Sprintf("target: %s%% → %s%% (from now on; the past keeps its targets)", models.FormatPercent(current), models.FormatPercent(v.Target)))
	}
	c.Diff = append(c.Diff, inputDiff...)
	c.Diff = append(c.Diff, metaDiff...)
	if len(c.Diff) == 0 {
		return c, nil
	}
	c.Action = openslo.ActionUpdate
	if len(add) > 0 {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := s.addTargets(tx, actor, d.ID, add, now); err != nil {
				return err
			}
			if err := s.bumpState(tx, d.ID); err != nil {
				return err
			}
			return s.audit(tx, actor, "update", "slo", d.ID, "SLO "+d.Name+": target history from the OpenSLO file",
				openslo.DescribeHistory(stored), openslo.DescribeHistory(append(stored, add...)))
		})
		if err != nil {
			return c, err
		}
	}
	if len(inputDiff) > 0 || targetChanges {
		if _, _, err := s.UpdateSLO(ctx, actor, d.ID, x.Input); err != nil {
			return c, fmt.Errorf("%s: %w", x.Where, err)
		}
	}
	if len(metaDiff) > 0 {
		was := map[string]any{"labels": d.Labels, "annotations": d.Annotations, "objective_name": d.ObjectiveName,
			"objective_of": d.ObjectiveOf, "objective_index": d.ObjectiveIndex, "openslo": d.OpenSLO}
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&models.SLO{}).Where("id = ?", d.ID).Updates(meta).Error; err != nil {
				return fmt.Errorf("SLO %s: store OpenSLO metadata: %w", d.Name, err)
			}
			if err := s.bumpState(tx, d.ID); err != nil {
				return err
			}
			return s.audit(tx, actor, "update", "slo", d.ID, "SLO "+d.Name+": OpenSLO metadata ("+strings.Join(metaDiff, "; ")+")", was, meta)
		})
		if err != nil {
			return c, err
		}
	}
	s.touched([]int64{d.ID})
	return c, nil
}

// addTargets stores target changes, each from its own time.
func (s *Store) addTargets(tx *gorm.DB, actor string, sloID int64, changes []models.TargetChange, now time.Time) error {
	for _, h := range changes {
		t := models.SLOTarget{SLOID: sloID, Target: h.Target, EffectiveFrom: h.From.UTC(), CreatedBy: actor, CreatedAt: now}
		if err := tx.Create(&t).Error; err != nil {
			return fmt.Errorf("store target of SLO %d: %w", sloID, err)
		}
	}
	return nil
}

// importDocuments stores alerting documents that are new or changed.
func (s *Store) importDocuments(ctx context.Context, actor string, docs []openslo.Document, stored []openSLODocument) error {
	have := map[string]string{}
	for _, d := range stored {
		have[d.Kind+"/"+d.Name] = d.Body
	}
	for _, d := range docs {
		before, ok := have[d.Kind+"/"+d.Name]
		if ok && before == d.Body {
			continue
		}
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Save(&openSLODocument{Kind: d.Kind, Name: d.Name, Body: d.Body}).Error; err != nil {
				return fmt.Errorf("store %s %s: %w", d.Kind, d.Name, err)
			}
			action := map[bool]string{true: "update", false: "create"}[ok]
			return s.audit(tx, actor, action, "openslo_document", 0, d.Kind+" "+d.Name+" (kept, not applied)", rawJSON(before), rawJSON(d.Body))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// rawJSON is stored JSON as itself in an audit entry; nil for "".
func rawJSON(s string) any {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// ExportOpenSLO writes every service, SLO and kept alerting document as OpenSLO v1.
func (s *Store) ExportOpenSLO(ctx context.Context) ([]byte, error) {
	services, err := s.Services(ctx)
	if err != nil {
		return nil, err
	}
	slos, err := s.SLOs(ctx)
	if err != nil {
		return nil, err
	}
	var stored []openSLODocument
	if err := s.db.WithContext(ctx).Find(&stored).Error; err != nil {
		return nil, fmt.Errorf("load OpenSLO documents: %w", err)
	}
	docs := make([]openslo.Document, len(stored))
	for i, d := range stored {
		docs[i] = openslo.Document{Kind: d.Kind, Name: d.Name, Body: d.Body}
	}
	sort.Slice(slos, func(i, j int) bool { return slos[i].Name < slos[j].Name })
	return openslo.Export(services, slos, docs)
}
