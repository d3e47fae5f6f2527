package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

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
	// that made it before computing it itself: longer than that replica may put off an
	// SLO whose data streams in (streamGap), so replicas do not both compute it. A read
	// does not wait for it: it computes what is out of date.
	othersFirst = streamGap + pollEvery
	// staleRefresh is how often the numbers of a late feed's SLOs, whose windows end at
	// now, are computed again.
	staleRefresh = time.Minute
	// computeTimeout bounds one summary's computation.
	computeTimeout = 20 * time.Second
	// drainWorkers is how many batches of summaries a replica computes at once.
	drainWorkers = 4
	// computeBatch is how many SLOs' summaries one statement per step computes.
	computeBatch = 50
	// computeGap is the least time between two computations of one SLO's summary. Not
	// longer: the notifier decides from the numbers it sees (HeldReports), and a resolved
	// tier is sent once it has been seen quiet for its short window of data time; at 2 s
	// it missed the quiet numbers between two deliveries 1.5 s apart and held "resolved"
	// back until more data came (notify's TestTwoReplicas).
	computeGap = time.Second
	// streamGap is that least time for an SLO whose data streams in: streamChanges or more
	// changes of its data folded in here since its numbers were last computed (a backfill
	// of history, many deliveries a second). Between two looks of the notifier such an SLO
	// moves by many buckets at a time anyway, and computing it every second cost a fifth
	// of what ingest costs the machine (`make bench-scale N=1000 DAYS=3`: README,
	// Benchmarks). Pages and the API are not held to it: a read computes what is out of
	// date before it answers, so numbers stay fresh within SPEC's 5 s.
	streamGap     = 3 * time.Second
	streamChanges = 8
)

// summary is an SLO's numbers for one data version.
type summary struct {
	Version   int64                `json:"version"`
	At        time.Time            `json:"at"`
	Eval      models.Evaluation    `json:"eval"`
	Sparkline []models.BudgetPoint `json:"sparkline"`
	// Rederiving is the derivation in progress when the numbers were computed: until they
	// are computed again, they are not the derived history's, whatever the settings say.
	Rederiving *models.Progress `json:"rederiving,omitempty"`
}

// readModel is this replica's copy of every SLO's settings and summary.
type readModel struct {
	pollMu     sync.Mutex // one poll at a time
	mu         sync.Mutex
	seq        uint64           // counts config loads
	gen        uint64           // counts changes of configs and summaries
	dueMoves   uint64           // counts what can make an SLO's numbers due (a change here, a newer version seen)
	nothingDue uint64           // dueMoves+1 when a look at every SLO found none due
	list       *reportList      // the last list of reports, while gen is its
	loadedAt   map[int64]uint64 // seq when each config was loaded
	loaded     bool
	pollErr    error            // the last poll's failure, nil once one succeeds
	pending    map[int64]uint64 // SLOs changed here whose numbers are being computed, by touch count
	touches    uint64
	changes    uint64 // counts changes made here
	polled     uint64 // changes seen by the last complete poll
	lastPoll   time.Time
	configs    map[int64]models.SLODetail
	configAt   map[int64]int64 // a version at which each config is the SLO's settings (read before it was loaded, or checked since)
	versions   map[int64]int64 // the newest slo_state.version seen
	summaries  map[int64]*summary
	waiting    map[int64]time.Time // since when a version newer than the summary is known
	computedAt map[int64]time.Time // when each summary was last computed here
	churn      map[int64]int       // changes of each SLO made here since it was last computed (streamGap)
	queue      map[int64]bool      // to compute
	local      map[int64]bool      // made here: compute without waiting
	wake       chan struct{}
	flight     singleflight.Group
	inflight   map[int64]chan struct{} // SLOs being computed, each closed when done
}

func newReadModel() *readModel {
	return &readModel{configs: map[int64]models.SLODetail{}, configAt: map[int64]int64{}, versions: map[int64]int64{}, summaries: map[int64]*summary{}, loadedAt: map[int64]uint64{},
		waiting: map[int64]time.Time{}, computedAt: map[int64]time.Time{}, churn: map[int64]int{}, queue: map[int64]bool{}, pending: map[int64]uint64{}, local: map[int64]bool{}, inflight: map[int64]chan struct{}{}, wake: make(chan struct{}, 1)}
}

// touched queues SLOs whose data or settings this replica just changed.
func (s *Store) touched(slos []int64) {
	changes := make(map[int64]int, len(slos))
	for _, id := range slos {
		changes[id]++
	}
	s.touchedBy(changes)
}

// touchedBy queues SLOs whose data this replica just changed, with how many changes of
// each it folded in (a fold takes in every delivery queued since the last).
func (s *Store) touchedBy(changes map[int64]int) {
	if len(changes) == 0 {
		return
	}
	rm := s.rm
	rm.mu.Lock()
	rm.changes++
	rm.dueMoves++
	for id, n := range changes {
		rm.touches++
		rm.queue[id], rm.local[id], rm.pending[id] = true, true, rm.touches
		rm.churn[id] += n
	}
	rm.mu.Unlock()
	select {
	case rm.wake <- struct{}{}:
	default:
	}
}

// gapOf is the least time between two computations of an SLO's numbers, for a reader
// that allows gap: streamGap while its data streams in. rm.mu is held.
func (rm *readModel) gapOf(id int64, gap time.Duration) time.Duration {
	if gap > 0 && rm.churn[id] >= streamChanges {
		return max(gap, streamGap)
	}
	return gap
}

// Reports is every SLO with its numbers, by name, in a slice shared with other readers
// (not to be changed). It reads memory, after a fold of what deliveries here queued
// (foldOwn) and a poll of the versions when a change made here is not seen yet; SLOs
// never computed are computed now.
// While the database is unreachable it returns the last numbers it has together with an
// EUNAVAILABLE error, so pages can show them under a warning.
func (s *Store) Reports(ctx context.Context, now time.Time) ([]models.SLOReport, error) {
	return s.readReports(ctx, now, 0)
}

// HeldReports is Reports but for SLOs whose numbers were computed in the last
// computeGap (streamGap while their data streams in): those it takes as they are, out
// of date or not, and the loop of the read model computes them again within a poll; nor
// does it fold what deliveries here queued (folds come within foldEvery anyway). The
// notifier's view: it looks twice a second, and while history arrives every SLO changes
// several times a second, which computing at each of its looks would only repeat. A
// change after a quiet spell is computed at once.
func (s *Store) HeldReports(ctx context.Context, now time.Time) ([]models.SLOReport, error) {
	return s.readReports(ctx, now, computeGap)
}

func (s *Store) readReports(ctx context.Context, now time.Time, gap time.Duration) ([]models.SLOReport, error) {
	if gap == 0 {
		s.foldOwn(ctx)
	}
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
		return s.fromMemory(now), unavailable(down)
	}
	s.awaitFresh(ctx, ids, gap)
	return s.listReports(ctx, now)
}

// reportList is the last list of reports built: what the read model held at its gen,
// judged in one second.
type reportList struct {
	gen     uint64
	second  int64
	reports []models.SLOReport
}

// listReports is every SLO's report, by name, judged at now. The list is built once for
// each state of the read model and second, and shared: at 1,000 SLOs building it costs
// milliseconds, which a thousand viewers arriving at once would otherwise each pay.
// Readers in the same second get the numbers judged at its first reader's instant, in
// the same slice: a reader must not change it (the TV sorts a copy).
func (s *Store) listReports(ctx context.Context, now time.Time) ([]models.SLOReport, error) {
	rm := s.rm
	rm.mu.Lock()
	if l := rm.list; l != nil && l.gen == rm.gen && l.second == now.Unix() {
		rm.mu.Unlock()
		return l.reports, nil
	}
	gen := rm.gen
	rm.mu.Unlock()
	// Readers that find the list out of date at the same time build it once.
	v, err, _ := rm.flight.Do(fmt.Sprintf("list/%d/%d", gen, now.Unix()), func() (any, error) {
		rm.mu.Lock()
		ids := byName(rm.configs)
		rm.mu.Unlock()
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
		rm.mu.Lock()
		if rm.gen == gen {
			rm.list = &reportList{gen: gen, second: now.Unix(), reports: out}
		}
		rm.mu.Unlock()
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]models.SLOReport), nil
}

// byName is the ids of configs in the order of their names (ids apart equal names).
func byName(configs map[int64]models.SLODetail) []int64 {
	type named struct {
		name string
		id   int64
	}
	list := make([]named, 0, len(configs))
	for id, d := range configs {
		list = append(list, named{d.Name, id})
	}
	slices.SortFunc(list, func(a, b named) int { return cmp.Or(strings.Compare(a.name, b.name), cmp.Compare(a.id, b.id)) })
	ids := make([]int64, len(list))
	for i, x := range list {
		ids[i] = x.id
	}
	return ids
}

// Report is one SLO with its numbers.
func (s *Store) Report(ctx context.Context, id int64, now time.Time) (models.SLOReport, error) {
	s.foldOwn(ctx)
	if err := s.refresh(ctx); err != nil {
		return models.SLOReport{}, err
	}
	s.awaitFresh(ctx, []int64{id}, 0)
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
	loaded := rm.loadedAt[id]
	rm.mu.Unlock()
	if !ok {
		return models.SLOReport{}, false, nil
	}
	if sum == nil {
		err := s.computeShared(ctx, []int64{id})
		rm.mu.Lock()
		sum = rm.summaries[id]
		_, ok = rm.configs[id]
		rm.mu.Unlock()
		switch {
		case sum != nil:
		case err != nil:
			return models.SLOReport{}, false, err
		case !ok:
			return models.SLOReport{}, false, nil // deleted meanwhile
		default:
			return models.SLOReport{}, false, fmt.Errorf("the numbers of SLO %d could not be computed", id)
		}
	}
	r := reportFrom(d, sum, now)
	r.Loaded = loaded
	if r.Eval.Stale && !sum.Eval.Stale {
		s.queue(id) // the feed went late since: windows now end at now
	}
	return r, true, nil
}

// reportFrom is an SLO's report from its settings and summary, judged at now.
func reportFrom(d models.SLODetail, sum *summary, now time.Time) models.SLOReport {
	r := models.SLOReport{SLODetail: d, Eval: sum.Eval, Sparkline: sum.Sparkline, At: sum.At, Version: sum.Version}
	if r.Rederiving == nil && sum.Rederiving != nil {
		// The history is derived but these numbers were computed before it was: the
		// derivation shows as done, the numbers as still computing.
		r.Rederiving = &models.Progress{Done: sum.Rederiving.Total, Total: sum.Rederiving.Total}
	}
	r.Eval.Tiers = slices.Clone(sum.Eval.Tiers)
	r.Eval.Rejudge(now, d.Feed.Interval())
	if !r.Eval.LastDataAt.IsZero() {
		t := r.Eval.LastDataAt
		r.LastDataAt = &t
	}
	if r.Rederiving != nil {
		r.Eval.Status = models.StatusComputing
	}
	return r
}

// localWait bounds how long a read waits for the numbers of SLOs changed on this
// replica: long enough that a page shown after a delivery or a change reflects it, short
// enough that a burst of deliveries never holds pages up.
const localWait = 250 * time.Millisecond

// awaitFresh computes, or waits for, the numbers of those SLOs that a change left out of
// date (a change made here, or a version newer than the summary), in batches and for
// at most localWait in all; what is not done by then is served as it is and computed in
// the background. SLOs computed in the last gap are left to the background too.
func (s *Store) awaitFresh(ctx context.Context, ids []int64, gap time.Duration) {
	rm := s.rm
	rm.mu.Lock()
	if rm.nothingDue == rm.dueMoves+1 {
		rm.mu.Unlock()
		return // nothing was due at the last look, and nothing became due since
	}
	var due []int64
	recent, now := 0, time.Now()
	for _, id := range ids {
		_, local := rm.pending[id]
		sum := rm.summaries[id]
		if !local && (sum == nil || sum.Version >= rm.versions[id]) {
			continue
		}
		if now.Sub(rm.computedAt[id]) < rm.gapOf(id, gap) {
			recent++
			continue
		}
		due = append(due, id)
	}
	if len(due) == 0 && recent == 0 && len(ids) == len(rm.configs) {
		rm.nothingDue = rm.dueMoves + 1
	}
	rm.mu.Unlock()
	if len(due) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, localWait)
	defer cancel()
	next := make(chan []int64)
	var wg sync.WaitGroup
	for range min((len(due)+computeBatch-1)/computeBatch, drainWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range next {
				_ = s.computeShared(wctx, batch) // errors are the worker's to report
			}
		}()
	}
	for batch := range slices.Chunk(due, computeBatch) {
		select {
		case next <- batch:
			continue
		case <-wctx.Done():
		}
		break
	}
	close(next)
	wg.Wait()
}

// fromMemory builds reports from what this replica holds, without the database.
func (s *Store) fromMemory(now time.Time) []models.SLOReport {
	rm := s.rm
	rm.mu.Lock()
	defer rm.mu.Unlock()
	var out []models.SLOReport
	for _, id := range byName(rm.configs) {
		if sum := rm.summaries[id]; sum != nil {
			out = append(out, reportFrom(rm.configs[id], sum, now))
		}
	}
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

// computeShared computes SLOs' summaries once for all who ask at the same time: those
// another caller is computing are waited for, the rest are computed here, together, and
// detached from ctx (computeTimeout bounds them), so a caller who stops waiting leaves
// them done for the next. It returns when all are done or ctx ends.
func (s *Store) computeShared(ctx context.Context, ids []int64) error {
	mine, others := s.rm.claim(ids)
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if len(mine) == 0 {
			return
		}
		defer s.rm.release(mine)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), computeTimeout)
		defer cancel()
		err = s.computeAlone(cctx, mine)
	}()
	for _, ch := range append(others, done) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
	return err
}

// claim marks the SLOs nobody computes as computed by the caller, who releases them
// when done, and returns them and the channels that close when the others are done.
func (rm *readModel) claim(ids []int64) (mine []int64, others []chan struct{}) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for _, id := range ids {
		if ch, ok := rm.inflight[id]; ok {
			others = append(others, ch)
			continue
		}
		rm.inflight[id] = make(chan struct{})
		mine = append(mine, id)
	}
	return mine, others
}

func (rm *readModel) release(ids []int64) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for _, id := range ids {
		close(rm.inflight[id])
		delete(rm.inflight, id)
	}
}

// forget drops a deleted SLO from this replica's read model at once.
func (s *Store) forget(id int64) {
	rm := s.rm
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.gen++
	delete(rm.configs, id)
	delete(rm.configAt, id)
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
	s.foldAfter(ctx)
	if err := s.poll(ctx); err != nil {
		return err
	}
	s.drain(ctx, 0) // all queued: what the loop computes within a second
	return nil
}

// setConfig keeps an SLO's settings, loaded after version was read, unless those held
// were loaded after a newer one.
func (rm *readModel) setConfig(d models.SLODetail, version int64) {
	if at, ok := rm.configAt[d.ID]; ok && at > version {
		return
	}
	rm.seq++
	rm.gen++
	rm.configs[d.ID], rm.configAt[d.ID], rm.loadedAt[d.ID] = d, version, rm.seq
}

// configOf is an SLO's settings at version, whose last change of settings was
// settingsVersion, when this replica holds them (see configCurrent).
func (rm *readModel) configOf(id, version, settingsVersion int64) (models.SLODetail, bool) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.configs[id], rm.configCurrent(id, version, settingsVersion)
}

// configCurrent says whether the settings held for an SLO are its settings at version:
// loaded after its last change of settings (every such change takes a new version and
// moves settings_version to it). While its history is derived they are loaded again at
// every version, for the derivation's progress, which moves without one.
func (rm *readModel) configCurrent(id, version, settingsVersion int64) bool {
	d, ok := rm.configs[id]
	if !ok {
		return false
	}
	at := rm.configAt[id]
	return at >= settingsVersion && (d.Rederiving == nil || at >= version)
}
