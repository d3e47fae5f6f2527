package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"golang.org/x/sync/singleflight"
)

// evalFresh is how long a computed report is served before the clock is
// applied again; data changes invalidate it at once (slo_state.version).
const evalFresh = 15 * time.Second

// evalCache keeps, per replica and per SLO, the loaded points and the last
// report, so page views do not read raw points: they are read again only
// when the SLO's state version says they changed.
type evalCache struct {
	mu       sync.Mutex
	entries  map[int64]*evalEntry
	flight   singleflight.Group
	slos     []models.SLODetail // every SLO's configuration, as of versions
	versions map[int64]int64    // slo_state.version each configuration was read at
	latency  map[int64]latencySeries
}

type latencySeries struct {
	key    stateKey
	from   time.Time
	points []models.LatencyPoint
}

type evalEntry struct {
	key    stateKey
	from   time.Time // points are loaded from here to the newest
	points []models.Point
	maint  []models.Maintenance
	report models.SLOReport
	at     time.Time // when report was computed
}

// stateKey identifies the inputs of an SLO's numbers.
type stateKey struct {
	version    int64
	updated    time.Time
	generation int
}

func (c *evalCache) get(id int64) *evalEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[id]
}

// forget drops SLOs' cached numbers and latency after they got new points.
func (c *evalCache) forget(ids map[int64]time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range ids {
		delete(c.entries, id)
		delete(c.latency, id)
	}
}

func (c *evalCache) put(id int64, e *evalEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[int64]*evalEntry{}
	}
	c.entries[id] = e
}

type sloState struct {
	SLOID       int64
	Version     int64
	LastPointAt *time.Time
}

// Reports evaluates every SLO at now. A page view costs one query when
// nothing changed: every change to an SLO's configuration or data bumps its
// state version, which the cached configuration and numbers are checked against.
func (s *Store) Reports(ctx context.Context, now time.Time) ([]models.SLOReport, error) {
	states, err := s.states(ctx)
	if err != nil {
		return nil, err
	}
	slos, ok := s.evals.configs(states)
	if !ok {
		if slos, err = s.SLOs(ctx); err != nil {
			return nil, err
		}
		s.evals.keepConfigs(slos, states)
	}
	return s.reportsFor(ctx, slos, states, now)
}

func (s *Store) states(ctx context.Context) (map[int64]sloState, error) {
	var states []sloState
	if err := s.db.WithContext(ctx).Raw("SELECT slo_id, version, last_point_at FROM slo_state").Scan(&states).Error; err != nil {
		return nil, fmt.Errorf("read slo state: %w", err)
	}
	byID := make(map[int64]sloState, len(states))
	for _, st := range states {
		byID[st.SLOID] = st
	}
	return byID, nil
}

// configs returns the cached SLO configurations if they are those of states.
func (c *evalCache) configs(states map[int64]sloState) ([]models.SLODetail, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slos == nil || len(c.slos) != len(states) {
		return nil, false
	}
	for _, d := range c.slos {
		if st, ok := states[d.ID]; !ok || st.Version != c.versions[d.ID] {
			return nil, false
		}
	}
	return c.slos, true
}

func (c *evalCache) keepConfigs(slos []models.SLODetail, states map[int64]sloState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slos, c.versions = slos, make(map[int64]int64, len(slos))
	for _, d := range slos {
		c.versions[d.ID] = states[d.ID].Version
	}
}

// Report evaluates one SLO at now.
func (s *Store) Report(ctx context.Context, id int64, now time.Time) (models.SLOReport, error) {
	d, err := s.SLO(ctx, id)
	if err != nil {
		return models.SLOReport{}, err
	}
	list, err := s.reports(ctx, []models.SLODetail{d}, now)
	if err != nil {
		return models.SLOReport{}, err
	}
	return list[0], nil
}

func (s *Store) reports(ctx context.Context, slos []models.SLODetail, now time.Time) ([]models.SLOReport, error) {
	states, err := s.states(ctx)
	if err != nil {
		return nil, err
	}
	return s.reportsFor(ctx, slos, states, now)
}

func (s *Store) reportsFor(ctx context.Context, slos []models.SLODetail, byID map[int64]sloState, now time.Time) ([]models.SLOReport, error) {
	out := make([]models.SLOReport, len(slos))
	for i, d := range slos {
		e, err := s.entry(ctx, d, byID[d.ID], now)
		if err != nil {
			return nil, err
		}
		out[i] = e.report
	}
	return out, nil
}

// entry returns an SLO's cache entry with a report for now, computing what is
// missing; concurrent requests for one SLO share the work.
func (s *Store) entry(ctx context.Context, d models.SLODetail, st sloState, now time.Time) (*evalEntry, error) {
	key := stateKey{st.Version, d.UpdatedAt, d.Generation}
	if e := s.evals.get(d.ID); e != nil && e.key == key && now.Sub(e.at).Abs() < evalFresh {
		return e, nil
	}
	v, err, _ := s.evals.flight.Do(strconv.FormatInt(d.ID, 10), func() (any, error) {
		prev := s.evals.get(d.ID)
		from := pointsFrom(d, now)
		e := &evalEntry{key: key, from: from}
		if prev != nil && prev.key == key && now.Sub(prev.at).Abs() < evalFresh {
			return prev, nil // computed by the request we waited for
		}
		if prev != nil && prev.key == key && !prev.from.After(from) {
			e.points, e.maint = prev.points, prev.maint
		} else {
			var err error
			if e.points, err = s.loadPoints(ctx, d, from, now); err != nil {
				return nil, err
			}
			if e.maint, err = s.maintenanceFor(ctx, d); err != nil {
				return nil, err
			}
		}
		e.report = evaluateReport(d, e.points, e.maint, st.LastPointAt, now)
		e.at = now
		s.evals.put(d.ID, e)
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*evalEntry), nil
}

// pointsFrom is how far back an SLO's numbers and charts need points: its
// period (twice the window for rolling windows, whose burn-down at each
// moment looks one window back), the longest burn-rate lookback, and a week.
func pointsFrom(d models.SLODetail, now time.Time) time.Time {
	w := d.Window()
	start, _ := w.Period(now)
	from := start
	if !w.Calendar() {
		from = now.Add(-2 * w.Length(now))
	}
	tiers := models.Tiers(w.Nominal(), d.Feed.Interval())
	for _, t := range tiers {
		if x := now.Add(-t.Long); x.Before(from) {
			from = x
		}
	}
	if x := now.Add(-7 * 24 * time.Hour); w.Calendar() && x.Before(from) {
		from = x
	}
	return from.Truncate(time.Hour)
}

func evaluateReport(d models.SLODetail, points []models.Point, maint []models.Maintenance, last *time.Time, now time.Time) models.SLOReport {
	obj := d.Objective(now)
	spans := spansOf(maint)
	var lastAt time.Time
	if last != nil {
		lastAt = *last
	}
	r := models.SLOReport{SLODetail: d, Maintenance: maint, LastDataAt: last, At: now}
	r.Eval = models.Evaluate(obj, points, spans, now, lastAt)
	// The sparkline: remaining budget over the last week (or the period so
	// far, for calendar windows), about 84 points.
	from := now.Add(-7 * 24 * time.Hour)
	if obj.Window.Calendar() {
		from = r.Eval.PeriodStart
	}
	step := max(time.Hour, now.Sub(from)/84).Truncate(time.Minute)
	r.Sparkline = models.BudgetSeries(obj, points, spans, from, now, step)
	return r
}

// loadPoints reads the active generation's points of an SLO in [from, to].
func (s *Store) loadPoints(ctx context.Context, d models.SLODetail, from, to time.Time) ([]models.Point, error) {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT ts, good, total FROM slo_points
		WHERE slo_id = ? AND generation = ? AND ts >= ? AND ts <= ? ORDER BY ts`, d.ID, d.Generation, from.UTC(), to.UTC()).Rows()
	if err != nil {
		return nil, fmt.Errorf("load points of SLO %d: %w", d.ID, err)
	}
	defer rows.Close()
	var out []models.Point
	for rows.Next() {
		var p models.Point
		if err := rows.Scan(&p.At, &p.Good, &p.Total); err != nil {
			return nil, fmt.Errorf("read point: %w", err)
		}
		p.At = p.At.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// Points returns the points an SLO's report was computed from (cached).
func (s *Store) Points(ctx context.Context, d models.SLODetail, now time.Time) ([]models.Point, []models.Maintenance, error) {
	var st sloState
	if err := s.db.WithContext(ctx).Raw("SELECT slo_id, version, last_point_at FROM slo_state WHERE slo_id = ?", d.ID).Scan(&st).Error; err != nil {
		return nil, nil, err
	}
	e, err := s.entry(ctx, d, st, now)
	if err != nil {
		return nil, nil, err
	}
	return e.points, e.maint, nil
}

// latencyKeep is how many latency samples per field a chart may get: the
// charts draw at most ~500, so more is wasted work on every page view.
const latencyKeep = 1200

// Latency returns the latency fields of an SLO's samples since from, thinned
// to latencyKeep per field keeping each stretch's highest and lowest values
// (peaks matter), and cached until the SLO's data changes.
func (s *Store) Latency(ctx context.Context, d models.SLODetail, from, now time.Time) ([]models.LatencyPoint, error) {
	fields := d.Latency()
	if len(fields) == 0 {
		return nil, nil
	}
	var st sloState
	if err := s.db.WithContext(ctx).Raw("SELECT slo_id, version, last_point_at FROM slo_state WHERE slo_id = ?", d.ID).Scan(&st).Error; err != nil {
		return nil, err
	}
	key := stateKey{st.Version, d.UpdatedAt, d.Generation}
	s.evals.mu.Lock()
	cached, ok := s.evals.latency[d.ID]
	s.evals.mu.Unlock()
	if ok && cached.key == key && !cached.from.After(from) {
		return cached.points, nil
	}
	// Load from the start of the hour, so that requests a moment apart share it.
	from = from.Truncate(time.Hour)
	rows, err := s.db.WithContext(ctx).Raw(`SELECT ts, fields FROM samples WHERE feed_id = ? AND series = ? AND ts >= ? AND ts <= ? ORDER BY ts`,
		d.Binding.FeedID, d.Binding.Series, from.UTC(), now.UTC()).Rows()
	if err != nil {
		return nil, fmt.Errorf("load latency of SLO %d: %w", d.ID, err)
	}
	defer rows.Close()
	var out []models.LatencyPoint
	for rows.Next() {
		var ts time.Time
		var raw string
		if err := rows.Scan(&ts, &raw); err != nil {
			return nil, err
		}
		var f map[string]float64
		if json.Unmarshal([]byte(raw), &f) != nil {
			continue
		}
		lp := models.LatencyPoint{At: ts.UTC(), Values: make([]float64, len(fields)), Has: make([]bool, len(fields))}
		hasAny := false
		for i, name := range fields {
			lp.Values[i], lp.Has[i] = f[name]
			hasAny = hasAny || lp.Has[i]
		}
		if hasAny {
			out = append(out, lp)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out = thinLatency(out, latencyKeep/2)
	s.evals.mu.Lock()
	if s.evals.latency == nil {
		s.evals.latency = map[int64]latencySeries{}
	}
	s.evals.latency[d.ID] = latencySeries{key: key, from: from, points: out}
	s.evals.mu.Unlock()
	return out, nil
}

// thinLatency keeps, per stretch of samples, the ones holding each field's
// highest and lowest value, so that at most 2 × buckets points remain and
// no spike disappears.
func thinLatency(pts []models.LatencyPoint, buckets int) []models.LatencyPoint {
	if len(pts) <= 2*buckets {
		return pts
	}
	out := make([]models.LatencyPoint, 0, 2*buckets*2)
	size := float64(len(pts)) / float64(buckets)
	for b := 0; b < buckets; b++ {
		lo, hi := int(float64(b)*size), int(float64(b+1)*size)
		keep := map[int]bool{}
		for f := range pts[lo].Values {
			minI, maxI := -1, -1
			for i := lo; i < hi; i++ {
				if !pts[i].Has[f] {
					continue
				}
				if minI < 0 || pts[i].Values[f] < pts[minI].Values[f] {
					minI = i
				}
				if maxI < 0 || pts[i].Values[f] > pts[maxI].Values[f] {
					maxI = i
				}
			}
			if minI >= 0 {
				keep[minI], keep[maxI] = true, true
			}
		}
		for i := lo; i < hi; i++ {
			if keep[i] {
				out = append(out, pts[i])
			}
		}
	}
	return out
}

func spansOf(m []models.Maintenance) []models.Span {
	out := make([]models.Span, len(m))
	for i, x := range m {
		out[i] = models.Span{Start: x.StartsAt, End: x.EndsAt}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}
