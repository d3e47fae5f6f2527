package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
)

// The read model: every SLO's numbers, computed once per data version by whichever
// replica gets there first, kept in slo_state.summary and held in memory by every
// replica. A delivery or a change bumps the SLO's version in the transaction that makes
// it; the replica that made it computes the summary at once, the others pick it up when
// they next poll the versions (each second). Pages and the API read memory only, so
// what they cost does not grow with history, and every page, report and replica shows
// the same numbers for the same data.
const (
	pollEvery = time.Second
	// othersFirst is how long a replica leaves a version it did not make to the replica
	// that made it before computing it itself.
	othersFirst = 2 * time.Second
	// staleRefresh is how often the numbers of a late feed's SLOs, whose windows end at
	// now, are computed again.
	staleRefresh = time.Minute
	// computeTimeout bounds one summary's computation.
	computeTimeout = 20 * time.Second
	// drainWorkers is how many summaries a replica computes at once.
	drainWorkers = 4
	// computeGap is the least time between two computations of one SLO's summary.
	computeGap = time.Second
)

// summary is an SLO's numbers for one data version.
type summary struct {
	Version   int64                `json:"version"`
	At        time.Time            `json:"at"`
	Eval      models.Evaluation    `json:"eval"`
	Sparkline []models.BudgetPoint `json:"sparkline"`
}

// readModel is this replica's copy of every SLO's settings and summary.
type readModel struct {
	pollMu     sync.Mutex // one poll at a time
	mu         sync.Mutex
	seq        uint64           // counts config loads
	loadedAt   map[int64]uint64 // seq when each config was loaded
	loaded     bool
	pollErr    error            // the last poll's failure, nil once one succeeds
	pending    map[int64]uint64 // SLOs changed here whose numbers are being computed, by touch count
	touches    uint64
	changes    uint64 // counts changes made here
	polled     uint64 // changes seen by the last complete poll
	lastPoll   time.Time
	configs    map[int64]models.SLODetail
	versions   map[int64]int64 // slo_state.version the config was loaded at
	summaries  map[int64]*summary
	waiting    map[int64]time.Time // since when a version newer than the summary is known
	computedAt map[int64]time.Time // when each summary was last computed here
	queue      map[int64]bool      // to compute
	local      map[int64]bool      // made here: compute without waiting
	wake       chan struct{}
	flight     singleflight.Group
}

func newReadModel() *readModel {
	return &readModel{configs: map[int64]models.SLODetail{}, versions: map[int64]int64{}, summaries: map[int64]*summary{}, loadedAt: map[int64]uint64{},
		waiting: map[int64]time.Time{}, computedAt: map[int64]time.Time{}, queue: map[int64]bool{}, pending: map[int64]uint64{}, local: map[int64]bool{}, wake: make(chan struct{}, 1)}
}

// touched queues SLOs whose data or settings this replica just changed.
func (s *Store) touched(slos []int64) {
	if len(slos) == 0 {
		return
	}
	rm := s.rm
	rm.mu.Lock()
	rm.changes++
	for _, id := range slos {
		rm.touches++
		rm.queue[id], rm.local[id], rm.pending[id] = true, true, rm.touches
	}
	rm.mu.Unlock()
	select {
	case rm.wake <- struct{}{}:
	default:
	}
}

// Reports is every SLO with its numbers, by name. It reads memory, after a poll of the
// versions when a change made here is not seen yet; SLOs never computed are computed now.
// While the database is unreachable it returns the last numbers it has together with an
// EUNAVAILABLE error, so pages can show them under a warning.
func (s *Store) Reports(ctx context.Context, now time.Time) ([]models.SLOReport, error) {
	down := s.refresh(ctx)
	rm := s.rm
	rm.mu.Lock()
	ids := slices.Collect(maps.Keys(rm.configs))
	if down == nil && rm.pollErr != nil {
		down = rm.pollErr
	}
	rm.mu.Unlock()
	if down != nil {
		if len(ids) == 0 {
			return nil, unavailable(down)
		}
		return s.fromMemory(ids, now), unavailable(down)
	}
	s.awaitFresh(ctx, ids)
	out := make([]models.SLOReport, 0, len(ids))
	for _, id := range ids {
		r, ok, err := s.reportOf(ctx, id, now)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Report is one SLO with its numbers.
func (s *Store) Report(ctx context.Context, id int64, now time.Time) (models.SLOReport, error) {
	if err := s.refresh(ctx); err != nil {
		return models.SLOReport{}, err
	}
	s.awaitFresh(ctx, []int64{id})
	r, ok, err := s.reportOf(ctx, id, now)
	if err != nil {
		return models.SLOReport{}, err
	}
	if !ok {
		return models.SLOReport{}, models.Errorf(models.ENOTFOUND, "SLO %d not found", id)
	}
	return r, nil
}

// reportOf builds an SLO's report from memory; an SLO without any summary yet is
// computed now (shared by concurrent readers, never tied to one reader's request).
func (s *Store) reportOf(ctx context.Context, id int64, now time.Time) (models.SLOReport, bool, error) {
	rm := s.rm
	rm.mu.Lock()
	d, ok := rm.configs[id]
	sum := rm.summaries[id]
	rm.mu.Unlock()
	if !ok {
		return models.SLOReport{}, false, nil
	}
	if sum == nil {
		var err error
		if sum, err = s.computeShared(ctx, id); err != nil {
			return models.SLOReport{}, false, err
		}
		if sum == nil {
			return models.SLOReport{}, false, nil // deleted meanwhile
		}
	}
	r := reportFrom(d, sum, now)
	if r.Eval.Stale && !sum.Eval.Stale {
		s.queue(id) // the feed went late since: windows now end at now
	}
	return r, true, nil
}

// reportFrom is an SLO's report from its settings and summary, judged at now.
func reportFrom(d models.SLODetail, sum *summary, now time.Time) models.SLOReport {
	r := models.SLOReport{SLODetail: d, Eval: sum.Eval, Sparkline: sum.Sparkline, At: sum.At, Version: sum.Version}
	r.Eval.Tiers = slices.Clone(sum.Eval.Tiers)
	r.Eval.Rejudge(now, d.Feed.Interval())
	if !r.Eval.LastDataAt.IsZero() {
		t := r.Eval.LastDataAt
		r.LastDataAt = &t
	}
	if d.PendingGeneration != nil {
		r.Eval.Status = models.StatusComputing
	}
	return r
}

// localWait bounds how long a read waits for the numbers of SLOs changed on this
// replica: long enough that a page shown after a delivery or a change reflects it, short
// enough that a burst of deliveries never holds pages up.
const localWait = 250 * time.Millisecond

// awaitFresh computes, or waits for, the numbers of those SLOs that a change left out of
// date (a change made here, or a version newer than the summary), a few at a time and for
// at most localWait in all; what is not done by then is served as it is and computed in
// the background.
func (s *Store) awaitFresh(ctx context.Context, ids []int64) {
	rm := s.rm
	rm.mu.Lock()
	var due []int64
	for _, id := range ids {
		_, local := rm.pending[id]
		sum := rm.summaries[id]
		if local || (sum != nil && sum.Version < rm.versions[id]) {
			due = append(due, id)
		}
	}
	rm.mu.Unlock()
	if len(due) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, localWait)
	defer cancel()
	next := make(chan int64)
	var wg sync.WaitGroup
	for range min(len(due), 4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				_, _ = s.computeShared(wctx, id) // errors are the worker's to report
			}
		}()
	}
	for _, id := range due {
		select {
		case next <- id:
			continue
		case <-wctx.Done():
		}
		break
	}
	close(next)
	wg.Wait()
}

// fromMemory builds reports from what this replica holds, without the database.
func (s *Store) fromMemory(ids []int64, now time.Time) []models.SLOReport {
	out := make([]models.SLOReport, 0, len(ids))
	for _, id := range ids {
		s.rm.mu.Lock()
		d, ok := s.rm.configs[id]
		sum := s.rm.summaries[id]
		s.rm.mu.Unlock()
		if ok && sum != nil {
			out = append(out, reportFrom(d, sum, now))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// unavailable says the database is out of reach, without its driver's words.
func unavailable(cause error) error {
	return models.Errorf(models.EUNAVAILABLE, "the database is unreachable: showing the last numbers known")
}

func (s *Store) queue(id int64) {
	s.rm.mu.Lock()
	s.rm.queue[id] = true
	s.rm.mu.Unlock()
	select {
	case s.rm.wake <- struct{}{}:
	default:
	}
}

// computeShared computes an SLO's summary once for all who ask at the same time.
func (s *Store) computeShared(ctx context.Context, id int64) (*summary, error) {
	ch := s.rm.flight.DoChan(fmt.Sprint(id), func() (any, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), computeTimeout)
		defer cancel()
		return s.compute(cctx, id)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*summary), nil
	}
}

// refresh polls the versions when nothing is loaded yet, or a change made here has not
// been seen; otherwise the background poll keeps memory within pollEvery of the database.
// A reader waiting for another's poll checks again once it is done: a poll that started
// before this replica's change does not count.
func (s *Store) refresh(ctx context.Context) error {
	rm := s.rm
	need := func() bool {
		rm.mu.Lock()
		defer rm.mu.Unlock()
		return !rm.loaded || rm.polled < rm.changes
	}
	if !need() {
		return nil
	}
	rm.pollMu.Lock()
	defer rm.pollMu.Unlock()
	if !need() {
		return nil
	}
	return s.pollLocked(context.WithoutCancel(ctx))
}

type stateRow struct {
	SLOID          int64
	Version        int64
	SummaryVersion int64
}

// poll reads every SLO's versions (a few bytes each), reloads the settings and
// summaries that changed, forgets deleted SLOs and queues what needs computing.
func (s *Store) poll(ctx context.Context) error {
	s.rm.pollMu.Lock()
	defer s.rm.pollMu.Unlock()
	return s.pollLocked(ctx)
}

func (s *Store) pollLocked(ctx context.Context) error {
	rm := s.rm
	rm.mu.Lock()
	start := rm.seq       // configs loaded after this are newer than the versions read below
	changes := rm.changes // the changes made here that this poll will see
	rm.mu.Unlock()
	var states []stateRow
	if err := s.db.WithContext(ctx).Raw("SELECT slo_id, version, summary_version FROM slo_state").Scan(&states).Error; err != nil {
		rm.mu.Lock()
		rm.pollErr = err
		rm.mu.Unlock()
		if IsUnavailable(err) {
			s.markDown(err)
		}
		return fmt.Errorf("read SLO versions: %w", err)
	}
	rm.mu.Lock()
	var configs, sums []int64
	present := make(map[int64]bool, len(states))
	for _, st := range states {
		present[st.SLOID] = true
		if _, ok := rm.configs[st.SLOID]; !ok || rm.versions[st.SLOID] != st.Version {
			configs = append(configs, st.SLOID)
		}
		if cur := rm.summaries[st.SLOID]; st.SummaryVersion >= 0 && (cur == nil || cur.Version < st.SummaryVersion) {
			sums = append(sums, st.SLOID)
		}
	}
	for id := range rm.configs {
		if !present[id] && rm.loadedAt[id] <= start {
			delete(rm.configs, id)
			delete(rm.summaries, id)
			delete(rm.versions, id)
			delete(rm.loadedAt, id)
			delete(rm.waiting, id)
		}
	}
	rm.mu.Unlock()

	if len(configs) > 0 {
		list, err := s.slosByID(ctx, configs)
		if err != nil {
			return err
		}
		rm.mu.Lock()
		for _, d := range list {
			rm.seq++
			rm.configs[d.ID], rm.loadedAt[d.ID] = d, rm.seq
		}
		rm.mu.Unlock()
	}
	if len(sums) > 0 {
		loaded, err := s.readSummaries(ctx, sums)
		if err != nil {
			return err
		}
		rm.mu.Lock()
		for id, sum := range loaded {
			if cur := rm.summaries[id]; cur == nil || cur.Version < sum.Version {
				rm.summaries[id] = sum
			}
		}
		rm.mu.Unlock()
	}

	now := time.Now()
	rm.mu.Lock()
	for _, st := range states {
		rm.versions[st.SLOID] = st.Version
		sum := rm.summaries[st.SLOID]
		if sum != nil && sum.Version >= st.Version {
			delete(rm.waiting, st.SLOID)
			continue
		}
		since, ok := rm.waiting[st.SLOID]
		if !ok {
			rm.waiting[st.SLOID] = now
			since = now
		}
		if rm.local[st.SLOID] || sum == nil || now.Sub(since) >= othersFirst {
			rm.queue[st.SLOID] = true
		}
	}
	for id, sum := range rm.summaries {
		d, ok := rm.configs[id]
		if !ok {
			continue
		}
		e := sum.Eval
		if (e.Rejudge(now, d.Feed.Interval()) || (e.Stale && now.Sub(sum.At) >= staleRefresh)) && now.Sub(sum.At) >= pollEvery {
			rm.queue[id] = true
		}
	}
	rm.loaded, rm.lastPoll, rm.polled, rm.pollErr = true, now, max(rm.polled, changes), nil
	rm.mu.Unlock()
	return nil
}

func (s *Store) readSummaries(ctx context.Context, ids []int64) (map[int64]*summary, error) {
	var rows []struct {
		SLOID   int64
		Summary string
	}
	if err := s.db.WithContext(ctx).Raw("SELECT slo_id, summary FROM slo_state WHERE slo_id IN ? AND summary <> ''", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read SLO summaries: %w", err)
	}
	out := make(map[int64]*summary, len(rows))
	for _, r := range rows {
		var sum summary
		if err := json.Unmarshal([]byte(r.Summary), &sum); err != nil {
			// Computed again below, not shown wrong.
			s.log.Warn("unreadable SLO summary ignored", "slo_id", r.SLOID, "err", err)
			continue
		}
		out[r.SLOID] = &sum
	}
	return out, nil
}

// RunReadModel keeps this replica's read model current until ctx ends: it polls the
// versions each second and computes what is queued, one SLO at a time per worker.
func (s *Store) RunReadModel(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
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
	sum, d, err := s.evaluate(ctx, id)
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
	rm.seq++
	rm.configs[id], rm.versions[id], rm.loadedAt[id] = d, sum.Version, rm.seq
	rm.mu.Unlock()
	return sum, nil
}

// storeSummary keeps a summary for every replica, unless a newer one is there. A
// summary can always be computed again, so on PostgreSQL its commit does not wait for
// the disk: a crash loses at most the last few, never data.
func (s *Store) storeSummary(ctx context.Context, id int64, sum *summary, raw []byte) error {
	const update = "UPDATE slo_state SET summary = ?, summary_version = ?, summary_at = ? WHERE slo_id = ? AND summary_version <= ?"
	var err error
	if s.dialect == migrations.Postgres {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL synchronous_commit TO OFF").Error; err != nil {
				return err
			}
			return tx.Exec(update, string(raw), sum.Version, sum.At, id, sum.Version).Error
		})
	} else {
		err = s.db.WithContext(ctx).Exec(update, string(raw), sum.Version, sum.At, id, sum.Version).Error
	}
	if err != nil {
		return fmt.Errorf("store summary of SLO %d: %w", id, err)
	}
	return nil
}

// EvaluateNow computes an SLO's report from the database, bypassing every cache: what
// a notification checks again just before it is sent.
func (s *Store) EvaluateNow(ctx context.Context, id int64) (models.SLOReport, error) {
	sum, d, err := s.evaluate(context.WithValue(ctx, primaryOnly{}, true), id)
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
func (s *Store) evaluate(ctx context.Context, id int64) (*summary, models.SLODetail, error) {
	var version int64
	if err := s.reads(ctx).Raw("SELECT version FROM slo_state WHERE slo_id = ?", id).Row().Scan(&version); err != nil {
		if isNoRows(err) {
			return nil, models.SLODetail{}, nil
		}
		return nil, models.SLODetail{}, fmt.Errorf("read version of SLO %d: %w", id, err)
	}
	list, err := s.slosByID(ctx, []int64{id})
	if err != nil {
		return nil, models.SLODetail{}, err
	}
	if len(list) == 0 {
		return nil, models.SLODetail{}, nil
	}
	d := list[0]
	now := s.now()
	ref, lastBucket, err := s.refOf(ctx, d)
	if err != nil {
		return nil, d, err
	}
	dt := models.DataTimeOf(lastBucket, d.Feed.Interval(), now)
	obj := d.Objective(dt.End)
	maint, err := s.maintenanceFor(ctx, d)
	if err != nil {
		return nil, d, err
	}
	ranges := obj.Ranges(dt.End)
	spark := sparkEnds(obj, dt.End)
	for _, t := range spark {
		start, _ := obj.Period(t)
		ranges = append(ranges, models.Range{From: start, To: t})
	}
	sums, err := s.sumsOf(ctx, ref, ranges, spansOf(maint))
	if err != nil {
		return nil, d, err
	}
	n := len(ranges) - len(spark)
	sum := &summary{Version: version, At: now, Eval: models.EvaluateSums(obj, sums[:n], dt, now)}
	for i, t := range spark {
		sum.Sparkline = append(sum.Sparkline, obj.BudgetAt(t, sums[n+i]))
	}
	sum.Sparkline = append(sum.Sparkline, obj.BudgetAt(dt.End, sums[0]))
	return sum, d, nil
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

// forget drops a deleted SLO from this replica's read model at once.
func (s *Store) forget(id int64) {
	rm := s.rm
	rm.mu.Lock()
	defer rm.mu.Unlock()
	delete(rm.configs, id)
	delete(rm.summaries, id)
	delete(rm.versions, id)
	delete(rm.waiting, id)
	delete(rm.queue, id)
	delete(rm.loadedAt, id)
	delete(rm.computedAt, id)
}

// Settle brings this replica's read model up to date now: it polls the versions and
// computes whatever is queued, as the background loop would within a second. Tests and
// one-shot commands use it to read their own writes at once.
func (s *Store) Settle(ctx context.Context) error {
	if err := s.poll(ctx); err != nil {
		return err
	}
	s.drain(ctx)
	return nil
}
