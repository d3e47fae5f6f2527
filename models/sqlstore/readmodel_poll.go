package sqlstore

import (
	"context"
	"fmt"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"
	"golang.org/x/sync/errgroup"

	"github.com/sitemetrics/sitemetrics/models"
)

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
	SLOID           int64
	Version         int64
	SettingsVersion int64
	SummaryVersion  int64
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
	if err := s.db.WithContext(ctx).Raw("SELECT slo_id, version, settings_version, summary_version FROM slo_state").Scan(&states).Error; err != nil {
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
		if !rm.configCurrent(st.SLOID, st.Version, st.SettingsVersion) {
			configs = append(configs, st.SLOID)
		}
		if cur := rm.summaries[st.SLOID]; st.SummaryVersion >= 0 && (cur == nil || cur.Version < st.SummaryVersion) {
			sums = append(sums, st.SLOID)
		}
	}
	for id := range rm.configs {
		if !present[id] && rm.loadedAt[id] <= start {
			rm.gen++
			delete(rm.configs, id)
			delete(rm.configAt, id)
			delete(rm.summaries, id)
			delete(rm.versions, id)
			delete(rm.loadedAt, id)
			delete(rm.waiting, id)
			delete(rm.churn, id)
		}
	}
	rm.mu.Unlock()

	// Settings and summaries are read side by side: after a restart, each is every SLO's,
	// and decoding one overlaps the other's statements.
	var list []models.SLODetail
	var loaded map[int64]*summary
	g, gctx := errgroup.WithContext(ctx)
	if len(configs) > 0 {
		g.Go(func() (err error) { list, err = s.slosByID(gctx, configs); return err })
	}
	if len(sums) > 0 {
		g.Go(func() (err error) { loaded, err = s.readSummaries(gctx, sums); return err })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if len(configs) > 0 {
		version := make(map[int64]int64, len(states))
		for _, st := range states {
			version[st.SLOID] = st.Version
		}
		rm.mu.Lock()
		for _, d := range list {
			rm.setConfig(d, version[d.ID])
		}
		rm.mu.Unlock()
	}
	if len(loaded) > 0 {
		rm.mu.Lock()
		for id, sum := range loaded {
			if cur := rm.summaries[id]; cur == nil || cur.Version < sum.Version {
				rm.summaries[id] = sum
				rm.gen++
			}
		}
		rm.mu.Unlock()
	}

	now := time.Now()
	rm.mu.Lock()
	for _, st := range states {
		if rm.versions[st.SLOID] < st.Version {
			rm.dueMoves++
		}
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
	type stored struct {
		SLOID   int64
		Summary string
	}
	rows, err := findIn(ids, func(part []int64, out *[]stored) error {
		return s.db.WithContext(ctx).Raw("SELECT slo_id, summary FROM slo_state WHERE slo_id IN ? AND summary <> ''", part).Scan(out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("read SLO summaries: %w", err)
	}
	out := make(map[int64]*summary, len(rows))
	for _, r := range rows {
		var sum summary
		// encoding/json's semantics on json v2's decoder, which reads a stored summary in
		// about 60 % of the time (21–28 µs against 36–47, 8 allocations against 25: `go test
		// -run '^$' -bench SummaryDecode -benchmem ./models/sqlstore`): a restarted replica
		// reads every SLO's, and each replica those the others compute.
		if err := jsonv1.Unmarshal([]byte(r.Summary), &sum); err != nil {
			// Computed again below, not shown wrong.
			s.log.Warn("unreadable SLO summary ignored", "slo_id", r.SLOID, "err", err)
			continue
		}
		out[r.SLOID] = &sum
	}
	return out, nil
}
