package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// RunReadModel keeps this replica's read model current until ctx ends: it folds queued
// roll-up changes in, polls the versions each second and computes what is queued, in
// batches.
func (s *Store) RunReadModel(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for tick := true; ; {
		if tick {
			s.foldAfter(ctx) // what a replica that stopped left queued, within a poll
		}
		if err := s.poll(ctx); err == nil {
			s.markUp()
		} else if ctx.Err() == nil && !IsUnavailable(err) {
			s.log.Warn("read model poll failed", "err", err) // an outage is logged once, by markDown
		}
		s.drain(ctx, computeGap)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tick = true
		case <-s.rm.wake: // a change here, folded already
			tick = false
		}
	}
}

// drain computes every queued SLO not computed in the last gap, computeBatch at a time and drainWorkers batches at
// once on PostgreSQL: a summary's cost is mostly waiting on the database, so a burst of
// changed SLOs is computed in parallel, each batch with one statement per step. SQLite
// has one writer, which ingest needs more: one batch at a time there.
func (s *Store) drain(ctx context.Context, gap time.Duration) {
	workers := 1
	if s.dialect == migrations.Postgres {
		workers = drainWorkers
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				ids := s.next(computeBatch, gap)
				if len(ids) == 0 {
					return
				}
				if err := s.computeShared(ctx, ids); err != nil && ctx.Err() == nil {
					s.log.Warn("SLO numbers not computed", "slo_ids", ids, "err", err)
				}
			}
		}()
	}
	wg.Wait()
}

// next takes up to n SLOs off the queue, those not computed in the last gap: with
// computeGap, an SLO that receives data many times a second (a backfill) is computed
// once a computeGap, well within the freshness bound, and leaves the database to
// ingest. SLOs left queued are taken at the next pass, within a poll.
func (s *Store) next(n int, gap time.Duration) []int64 {
	rm := s.rm
	rm.mu.Lock()
	defer rm.mu.Unlock()
	now := time.Now()
	var out []int64
	for id := range rm.queue {
		if len(out) == n {
			break
		}
		if now.Sub(rm.computedAt[id]) < rm.gapOf(id, gap) {
			continue
		}
		delete(rm.queue, id)
		delete(rm.local, id)
		out = append(out, id)
	}
	return out
}

// computeAlone computes SLOs together and, should that fail, each alone again, so that
// one SLO whose numbers cannot be computed holds none of the others back.
func (s *Store) computeAlone(ctx context.Context, ids []int64) error {
	err := s.compute(ctx, ids)
	if err == nil || len(ids) == 1 || ctx.Err() != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := s.compute(ctx, []int64{id}); err != nil {
			errs = append(errs, fmt.Errorf("SLO %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// compute works out SLOs' summaries from the roll-ups, stores them for every replica
// (each unless one for its version or a newer one is there already) and keeps them.
// SLOs that are gone are left out.
func (s *Store) compute(ctx context.Context, ids []int64) error {
	rm := s.rm
	rm.mu.Lock()
	touches := map[int64]uint64{}
	for _, id := range ids {
		if t, ok := rm.pending[id]; ok {
			touches[id] = t
		}
		rm.computedAt[id] = time.Now()
		delete(rm.churn, id)
	}
	rm.mu.Unlock()
	defer func() {
		rm.mu.Lock()
		for id, t := range touches {
			if rm.pending[id] == t {
				delete(rm.pending, id)
			}
		}
		rm.mu.Unlock()
	}()
	evs, err := s.evaluate(ctx, ids)
	if err != nil || len(evs) == 0 {
		return err
	}
	if err := s.storeSummaries(ctx, evs); err != nil {
		return err
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for id, ev := range evs {
		sum := ev.sum
		if cur := rm.summaries[id]; cur == nil || cur.Version <= sum.Version {
			rm.summaries[id] = sum
		}
		if ev.loaded {
			rm.setConfig(ev.d, sum.Version)
		} else if rm.configAt[id] < sum.Version {
			rm.configAt[id] = sum.Version // the settings held are still those at this version
		}
		rm.versions[id] = max(rm.versions[id], sum.Version)
	}
	rm.gen++
	return nil
}

// storeSummaries keeps summaries for every replica, each unless a newer one is there. A
// summary can always be computed again, so on PostgreSQL their commit does not wait for
// the disk: a crash loses at most the last few, never data. The statement turns that
// off for its own transaction (set_config's is_local), in the one round trip. It skips
// the SLOs whose rows another transaction holds: that is one giving them new versions
// (data, settings) or storing summaries of its own, so waiting would only keep a summary
// that is out of date or stored already, and holding some rows of the batch while it
// waited for others could close a cycle of waits with the holder.
func (s *Store) storeSummaries(ctx context.Context, evs map[int64]evaluation) error {
	ids, versions := make([]int64, 0, len(evs)), make([]int64, 0, len(evs))
	raws, ats := make([]string, 0, len(evs)), make([]time.Time, 0, len(evs))
	for id, ev := range evs {
		raw, err := json.Marshal(ev.sum)
		if err != nil {
			return fmt.Errorf("encode summary of SLO %d: %w", id, err)
		}
		ids, versions, raws, ats = append(ids, id), append(versions, ev.sum.Version), append(raws, string(raw)), append(ats, ev.sum.At)
	}
	if s.dialect == migrations.Postgres {
		sqlDB, err := s.db.DB()
		if err != nil {
			return err
		}
		if _, err := sqlDB.ExecContext(ctx, `WITH free AS (SELECT slo_id FROM slo_state WHERE slo_id = ANY($1) FOR UPDATE SKIP LOCKED)
			UPDATE slo_state s SET summary = v.summary, summary_version = v.version, summary_at = v.at
			FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async, free,
				unnest($1::bigint[], $2::text[], $3::bigint[], $4::timestamptz[]) AS v (id, summary, version, at)
			WHERE s.slo_id = free.slo_id AND s.slo_id = v.id AND s.summary_version <= v.version`, ids, raws, versions, ats); err != nil {
			return fmt.Errorf("store summaries of %d SLOs: %w", len(ids), err)
		}
		return nil
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i, id := range ids {
			if err := tx.Exec("UPDATE slo_state SET summary = ?, summary_version = ?, summary_at = ? WHERE slo_id = ? AND summary_version <= ?",
				raws[i], versions[i], ats[i], id, versions[i]).Error; err != nil {
				return fmt.Errorf("store summary of SLO %d: %w", id, err)
			}
		}
		return nil
	})
}

// EvaluateNow computes an SLO's report from the database, bypassing every cache: what
// a notification checks again just before it is sent.
func (s *Store) EvaluateNow(ctx context.Context, id int64) (models.SLOReport, error) {
	evs, err := s.evaluate(context.WithValue(ctx, primaryOnly{}, true), []int64{id})
	if err != nil {
		return models.SLOReport{}, err
	}
	ev, ok := evs[id]
	if !ok {
		return models.SLOReport{}, models.Errorf(models.ENOTFOUND, "SLO %d not found", id)
	}
	return reportFrom(ev.d, ev.sum, ev.sum.At), nil
}

// evaluation is an SLO's summary and the settings it was computed with.
type evaluation struct {
	sum    *summary
	d      models.SLODetail
	loaded bool // the settings were read from the database, not held
}

// evaluate works out SLOs' summaries from the roll-ups, each for the version it reads
// first (so what it reads is at least that version's data), with one statement per
// step whatever the number of SLOs. SLOs that are gone are left out.
func (s *Store) evaluate(ctx context.Context, ids []int64) (map[int64]evaluation, error) {
	var states []struct{ SLOID, Version, SettingsVersion int64 }
	if err := s.reads(ctx).Raw("SELECT slo_id, version, settings_version FROM slo_state WHERE slo_id IN ?", ids).Scan(&states).Error; err != nil {
		return nil, fmt.Errorf("read versions of %d SLOs: %w", len(ids), err)
	}
	evs := make(map[int64]evaluation, len(states))
	version := make(map[int64]int64, len(states))
	var load []int64
	for _, st := range states {
		version[st.SLOID] = st.Version
		d, held := s.rm.configOf(st.SLOID, st.Version, st.SettingsVersion)
		if held && ctx.Value(primaryOnly{}) == nil { // a check before a notification reads all from the database
			evs[st.SLOID] = evaluation{d: d}
		} else {
			load = append(load, st.SLOID)
		}
	}
	if len(load) > 0 {
		list, err := s.slosByID(ctx, load)
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			evs[d.ID] = evaluation{d: d, loaded: true}
		}
	}
	ds := make([]models.SLODetail, 0, len(evs))
	for _, ev := range evs {
		ds = append(ds, ev.d)
	}
	refs, lasts, err := s.refsOf(ctx, ds)
	if err != nil {
		return nil, err
	}
	maint, err := s.maintenanceOf(ctx, ds)
	if err != nil {
		return nil, err
	}
	now := s.now()
	type plan struct {
		obj   models.Objective
		dt    models.DataTime
		spark []time.Time
	}
	plans := make([]plan, len(ds))
	reqs := make([]sumsRequest, len(ds))
	for k, d := range ds {
		dt := models.DataTimeOf(lasts[k], d.Feed.Interval(), now)
		obj := d.Objective(dt.End)
		ranges := obj.Ranges(dt.End)
		spark := sparkEnds(obj, dt.End)
		for _, t := range spark {
			start, _ := obj.Period(t)
			ranges = append(ranges, models.Range{From: start, To: t})
		}
		plans[k] = plan{obj, dt, spark}
		reqs[k] = sumsRequest{refs[k], ranges, spansOf(maint[d.ID])}
	}
	sums, err := s.sumsOfMany(ctx, reqs)
	if err != nil {
		return nil, err
	}
	for k, d := range ds {
		p, got := plans[k], sums[k]
		n := len(got) - len(p.spark)
		sum := &summary{Version: version[d.ID], At: now, Eval: models.EvaluateSums(p.obj, got[:n], p.dt, now), Rederiving: d.Rederiving}
		for i, t := range p.spark {
			sum.Sparkline = append(sum.Sparkline, p.obj.BudgetAt(t, got[n+i]))
		}
		sum.Sparkline = append(sum.Sparkline, p.obj.BudgetAt(p.dt.End, got[0]))
		ev := evs[d.ID]
		ev.sum = sum
		evs[d.ID] = ev
	}
	return evs, nil
}

// sparkEnds are where the overview's sparkline samples the budget: each UTC midnight of
// the last week before end (within the current period, for calendar windows), oldest
// first. Midnights need day roll-ups only.
func sparkEnds(obj models.Objective, end time.Time) []time.Time {
	var out []time.Time
	start, _ := obj.Period(end)
	last := end.Truncate(24 * time.Hour)
	for k := 6; k >= 0; k-- {
		t := last.AddDate(0, 0, -k)
		if !t.Before(end) || (obj.Window.Calendar() && !t.After(start)) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// refOf finds what reading an SLO's numbers needs, and the start of its newest bucket.
func (s *Store) refOf(ctx context.Context, d models.SLODetail) (sloRef, time.Time, error) {
	refs, lasts, err := s.refsOf(ctx, []models.SLODetail{d})
	if err != nil {
		return sloRef{}, time.Time{}, err
	}
	return refs[0], lasts[0], nil
}

// refsOf finds what reading each SLO's numbers needs, and the start of its newest
// bucket (zero while nothing was received), in one statement.
func (s *Store) refsOf(ctx context.Context, ds []models.SLODetail) ([]sloRef, []time.Time, error) {
	refs, lasts := make([]sloRef, len(ds)), make([]time.Time, len(ds))
	if len(ds) == 0 {
		return refs, lasts, nil
	}
	feeds, keys := make([]int64, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		feeds[i], keys[i] = d.Binding.FeedID, d.Binding.Series
	}
	var rows []struct {
		ID, FeedID int64
		Key        string
		LastBucket *int64
	}
	if err := s.reads(ctx).Raw("SELECT id, feed_id, key, last_bucket FROM series WHERE feed_id IN ? AND key IN ?",
		slices.Compact(slices.Sorted(slices.Values(feeds))), slices.Compact(slices.Sorted(slices.Values(keys)))).Scan(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("read series of %d SLOs: %w", len(ds), err)
	}
	type found struct {
		id   int64
		last *int64
	}
	byKey := make(map[seriesKey]found, len(rows))
	for _, r := range rows {
		byKey[seriesKey{r.FeedID, r.Key}] = found{r.ID, r.LastBucket}
	}
	for i, d := range ds {
		f := byKey[seriesKey{d.Binding.FeedID, d.Binding.Series}]
		refs[i] = sloRef{slo: d.ID, gen: d.Generation, binding: d.Binding, interval: int64(d.Feed.IntervalSeconds), series: f.id}
		if f.last != nil {
			lasts[i] = time.Unix(*f.last, 0).UTC()
		}
	}
	return refs, lasts, nil
}

func spansOf(m []models.Maintenance) []models.Span {
	out := make([]models.Span, len(m))
	for i, x := range m {
		out[i] = models.Span{Start: x.StartsAt, End: x.EndsAt}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}
