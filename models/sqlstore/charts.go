package sqlstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// fineRange is the longest chart range drawn bucket by bucket; longer ones are drawn
// hour by hour from the roll-ups.
const fineRange = 48 * time.Hour

// Charts reads what an SLO's detail charts draw over [from, to), to being at most its
// data time: the budget and SLI as Evaluate would give them at each step, maintenance,
// and latency.
func (s *Store) Charts(ctx context.Context, r models.SLOReport, from, to time.Time) (models.ChartData, error) {
	var out models.ChartData
	d := r.SLODetail
	if to.After(r.Eval.End) {
		to = r.Eval.End
	}
	if !to.After(from) {
		return out, nil
	}
	obj := d.Objective(r.Eval.End)
	ref, _, err := s.refOf(ctx, d)
	if err != nil {
		return out, err
	}
	if out.Maintenance, err = s.maintenanceFor(ctx, d); err != nil {
		return out, err
	}
	spans := spansOf(out.Maintenance)
	var pts []models.Point
	step := max(obj.Interval, to.Sub(from)/480)
	if to.Sub(from) > fineRange {
		step = max(time.Hour, step).Truncate(time.Hour)
		from = from.Truncate(time.Hour)
		start, _ := obj.Period(from)
		if pts, err = s.hourPoints(ctx, ref, floorTo(start.Unix(), hourSeconds), to.Unix(), spans); err != nil {
			return out, err
		}
	} else {
		step = step.Truncate(obj.Interval)
		if pts, err = s.finePoints(ctx, ref, obj, from, to, spans); err != nil {
			return out, err
		}
	}
	out.Budget = models.BudgetSeries(obj, pts, nil, from, to, step)
	if n := len(out.Budget); n > 0 && to.Equal(r.Eval.End) {
		// The chart ends on the SLO's own numbers, read exactly.
		e := r.Eval
		out.Budget[n-1] = models.BudgetPoint{At: to, Remaining: e.Remaining, SLI: e.SLI, HasData: e.HasData}
	}
	if fields := d.Latency(); len(fields) > 0 {
		if out.Latency, out.LatencyStats, err = s.latency(ctx, ref, d, fields, from, to); err != nil {
			return out, err
		}
	}
	return out, nil
}

// finePoints are the points BudgetSeries needs for a short range: buckets where the
// window's ends move ([start(from), start(to)) and [from, to)), hour roll-ups for the
// stretch every window holds, buckets at that stretch's partial hours. Maintenance is
// already left out.
func (s *Store) finePoints(ctx context.Context, ref sloRef, obj models.Objective, from, to time.Time, maint []models.Span) ([]models.Point, error) {
	a, _ := obj.Period(from)
	b, _ := obj.Period(to)
	fine := []span{{a.Unix(), b.Unix()}, {from.Unix(), to.Unix()}}
	var mid []models.Point
	if lo, hi := b.Unix(), from.Unix(); lo < hi {
		h0, h1 := ceilTo(lo, hourSeconds), floorTo(hi, hourSeconds)
		if h0 < h1 {
			fine = append(fine, span{lo, h0}, span{h1, hi})
			var err error
			if mid, err = s.hourPoints(ctx, ref, h0, h1, maint); err != nil {
				return nil, err
			}
		} else {
			fine = append(fine, span{lo, hi})
		}
	}
	buckets, err := s.bucketPoints(ctx, []sloRef{ref}, [][]span{merged(fine)})
	if err != nil {
		return nil, err
	}
	out := mid
	for _, p := range buckets[0] {
		if !inSpans(p.At, maint) {
			out = append(out, p)
		}
	}
	return out, nil
}

func inSpans(t time.Time, spans []models.Span) bool {
	for _, m := range spans {
		if !t.Before(m.Start) && t.Before(m.End) {
			return true
		}
	}
	return false
}

// latencyKeep is how many latency samples per field a chart may get: the charts draw
// at most ~500, so more is wasted work on every page view.
const latencyKeep = 1200

// latency reads the latency fields of an SLO's samples in [from, to): thinned for
// drawing, counted in full.
func (s *Store) latency(ctx context.Context, ref sloRef, d models.SLODetail, fields []string, from, to time.Time) ([]models.LatencyPoint, []models.LatencyStat, error) {
	if ref.series == 0 {
		return nil, nil, nil
	}
	rows, err := s.reads(ctx).Raw("SELECT bucket, fields FROM samples WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket",
		ref.series, from.Unix(), to.Unix()).Rows()
	if err != nil {
		return nil, nil, fmt.Errorf("load latency of SLO %d: %w", d.ID, err)
	}
	defer rows.Close()
	stats := make([]models.LatencyStat, len(fields))
	for i, f := range fields {
		stats[i].Field = f
	}
	b := d.Binding
	var out []models.LatencyPoint
	for rows.Next() {
		var bucket int64
		var raw string
		if err := rows.Scan(&bucket, &raw); err != nil {
			return nil, nil, err
		}
		f, err := s.decodeFields(ctx, raw)
		if err != nil {
			return nil, nil, fmt.Errorf("sample %d@%d: %w", ref.series, bucket, err)
		}
		at := time.Unix(bucket, 0).UTC()
		lp := models.LatencyPoint{At: at, Values: make([]float64, len(fields)), Has: make([]bool, len(fields))}
		hasAny := false
		for i, name := range fields {
			v, ok := f.Get(name)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lp.Values[i], lp.Has[i], hasAny = v, true, true
			st := &stats[i]
			st.Samples++
			st.Latest, st.LatestAt = v, at
			if b.Indicator == models.IndicatorThreshold && name == b.ValueField {
				if good, err := models.ThresholdGood(b.Op, v, b.Threshold); err == nil && !good {
					st.Over++
				}
			}
		}
		if hasAny {
			out = append(out, lp)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return thinLatency(out, latencyKeep/2), stats, nil
}

// thinLatency keeps, per stretch of samples, the ones holding each field's highest and
// lowest value, so that at most 2 × buckets points remain and no spike disappears.
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
