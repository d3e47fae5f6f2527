package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
)

// RunReadModel keeps this replica's read model current until ctx ends: it folds queued
// roll-up changes in, polls the versions each second and computes what is queued, one
// SLO at a time per worker.
func (s *Store) RunReadModel(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		s.foldAfter(ctx) // what a replica that stopped left queued, within a poll
		if err := s.poll(ctx); err == nil {
			s.markUp()
		} else if ctx.Err() == nil && !IsUnavailable(err) {
			s.log.Warn("read model poll failed", "err", err) // an outage is logged once, by markDown
		}
		s.drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.rm.wake:
		}
	}
}

// drain computes every queued SLO, drainWorkers at a time on PostgreSQL: a summary's
// cost is mostly waiting on the database, so a burst of changed SLOs is computed in
// parallel. SQLite has one writer, which ingest needs more: one at a time there.
func (s *Store) drain(ctx context.Context) {
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
				id, ok := s.next()
				if !ok {
					return
				}
				if _, err := s.computeShared(ctx, id); err != nil && ctx.Err() == nil {
					s.log.Warn("SLO numbers not computed", "slo_id", id, "err", err)
				}
			}
		}()
	}
	wg.Wait()
}

// next takes an SLO off the queue, one not computed in the last computeGap: an SLO
// that receives data many times a second (a backfill) is computed once a computeGap,
// well within the freshness bound, and leaves the database to ingest. SLOs left
// queued are taken at the next pass, within a poll.
func (s *Store) next() (int64, bool) {
	rm := s.rm
	rm.mu.Lock()
	defer rm.mu.Unlock()
	now := time.Now()
	for id := range rm.queue {
		if now.Sub(rm.computedAt[id]) < computeGap {
			continue
		}
		delete(rm.queue, id)
		delete(rm.local, id)
		return id, true
	}
	return 0, false
}

// compute works out an SLO's summary from the roll-ups, stores it for every replica
// (unless one for this version or a newer one is there already) and keeps it.
func (s *Store) compute(ctx context.Context, id int64) (*summary, error) {
	s.rm.mu.Lock()
	touch, wasPending := s.rm.pending[id]
	s.rm.computedAt[id] = time.Now()
	s.rm.mu.Unlock()
	if wasPending {
		defer func() {
			s.rm.mu.Lock()
			if s.rm.pending[id] == touch {
				delete(s.rm.pending, id)
			}
			s.rm.mu.Unlock()
		}()
	}
	sum, d, loaded, err := s.evaluate(ctx, id)
	if err != nil || sum == nil {
		return nil, err
	}
	raw, err := json.Marshal(sum)
	if err != nil {
		return nil, err
	}
	if err := s.storeSummary(ctx, id, sum, raw); err != nil {
		return nil, err
	}
	rm := s.rm
	rm.mu.Lock()
	if cur := rm.summaries[id]; cur == nil || cur.Version <= sum.Version {
		rm.summaries[id] = sum
	}
	rm.gen++
	if loaded {
		rm.setConfig(d, sum.Version)
	} else if rm.configAt[id] < sum.Version {
		rm.configAt[id] = sum.Version // the settings held are still those at this version
	}
	rm.versions[id] = max(rm.versions[id], sum.Version)
	rm.mu.Unlock()
	return sum, nil
}

// storeSummary keeps a summary for every replica, unless a newer one is there. A
// summary can always be computed again, so on PostgreSQL its commit does not wait for
// the disk: a crash loses at most the last few, never data. The statement turns that
// off for its own transaction (set_config's is_local), in the one round trip.
func (s *Store) storeSummary(ctx context.Context, id int64, sum *summary, raw []byte) error {
	update := "UPDATE slo_state SET summary = ?, summary_version = ?, summary_at = ? WHERE slo_id = ? AND summary_version <= ?"
	if s.dialect == migrations.Postgres {
		update = `UPDATE slo_state SET summary = ?, summary_version = ?, summary_at = ?
			FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async WHERE slo_id = ? AND summary_version <= ?`
	}
	if err := s.db.WithContext(ctx).Exec(update, string(raw), sum.Version, sum.At, id, sum.Version).Error; err != nil {
		return fmt.Errorf("store summary of SLO %d: %w", id, err)
	}
	return nil
}

// EvaluateNow computes an SLO's report from the database, bypassing every cache: what
// a notification checks again just before it is sent.
func (s *Store) EvaluateNow(ctx context.Context, id int64) (models.SLOReport, error) {
	sum, d, _, err := s.evaluate(context.WithValue(ctx, primaryOnly{}, true), id)
	if err != nil {
		return models.SLOReport{}, err
	}
	if sum == nil {
		return models.SLOReport{}, models.Errorf(models.ENOTFOUND, "SLO %d not found", id)
	}
	return reportFrom(d, sum, sum.At), nil
}

// evaluate works out an SLO's summary from the roll-ups, for the version it reads first
// (so what it reads is at least that version's data). nil when the SLO is gone.
func (s *Store) evaluate(ctx context.Context, id int64) (sum *summary, d models.SLODetail, loaded bool, err error) {
	var version, settingsVersion int64
	if err := s.reads(ctx).Raw("SELECT version, settings_version FROM slo_state WHERE slo_id = ?", id).Row().Scan(&version, &settingsVersion); err != nil {
		if isNoRows(err) {
			return nil, models.SLODetail{}, false, nil
		}
		return nil, models.SLODetail{}, false, fmt.Errorf("read version of SLO %d: %w", id, err)
	}
	d, held := s.rm.configOf(id, version, settingsVersion)
	if ctx.Value(primaryOnly{}) != nil {
		held = false // a check before a notification reads all from the database
	}
	if !held {
		list, err := s.slosByID(ctx, []int64{id})
		if err != nil {
			return nil, models.SLODetail{}, false, err
		}
		if len(list) == 0 {
			return nil, models.SLODetail{}, false, nil
		}
		d = list[0]
	}
	now := s.now()
	ref, lastBucket, err := s.refOf(ctx, d)
	if err != nil {
		return nil, d, false, err
	}
	dt := models.DataTimeOf(lastBucket, d.Feed.Interval(), now)
	obj := d.Objective(dt.End)
	maint, err := s.maintenanceFor(ctx, d)
	if err != nil {
		return nil, d, false, err
	}
	ranges := obj.Ranges(dt.End)
	spark := sparkEnds(obj, dt.End)
	for _, t := range spark {
		start, _ := obj.Period(t)
		ranges = append(ranges, models.Range{From: start, To: t})
	}
	sums, err := s.sumsOf(ctx, ref, ranges, spansOf(maint))
	if err != nil {
		return nil, d, false, err
	}
	n := len(ranges) - len(spark)
	sum = &summary{Version: version, At: now, Eval: models.EvaluateSums(obj, sums[:n], dt, now), Rederiving: d.Rederiving}
	for i, t := range spark {
		sum.Sparkline = append(sum.Sparkline, obj.BudgetAt(t, sums[n+i]))
	}
	sum.Sparkline = append(sum.Sparkline, obj.BudgetAt(dt.End, sums[0]))
	return sum, d, !held, nil
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
	ref := sloRef{slo: d.ID, gen: d.Generation, binding: d.Binding, interval: int64(d.Feed.IntervalSeconds)}
	var row struct {
		ID         int64
		LastBucket *int64
	}
	if err := s.reads(ctx).Raw("SELECT id, last_bucket FROM series WHERE feed_id = ? AND key = ?", d.Binding.FeedID, d.Binding.Series).Scan(&row).Error; err != nil {
		return ref, time.Time{}, fmt.Errorf("read series of SLO %d: %w", d.ID, err)
	}
	ref.series = row.ID
	var last time.Time
	if row.LastBucket != nil {
		last = time.Unix(*row.LastBucket, 0).UTC()
	}
	return ref, last, nil
}

func spansOf(m []models.Maintenance) []models.Span {
	out := make([]models.Span, len(m))
	for i, x := range m {
		out[i] = models.Span{Start: x.StartsAt, End: x.EndsAt}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}
