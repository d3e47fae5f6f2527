package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// sloRef is what reading an SLO's numbers needs: which generation of roll-ups, and
// the series and binding that turn samples into points.
type sloRef struct {
	slo      int64
	gen      int
	series   int64 // 0: nothing ever received
	binding  models.Binding
	interval int64
}

// span is [from, to) in epoch seconds.
type span struct{ from, to int64 }

// levelReads are the spans a computation needs at each level: samples (bucket by
// bucket, derived through the binding), hour roll-ups and day roll-ups.
type levelReads struct{ buckets, hours, days []span }

// decompose splits [from, to) into whole days read from day roll-ups, whole hours at
// its ends from hour roll-ups, and partial hours at its very ends from samples: a
// 30-day window costs about 30 + 48 rows and two hours of samples, whatever the feed's
// interval. Bucket times are starts, so a bucket belongs to the span its start is in.
func decompose(from, to int64, into *levelReads) {
	if to <= from {
		return
	}
	h0, h1 := ceilTo(from, hourSeconds), floorTo(to, hourSeconds)
	if h0 >= h1 {
		into.buckets = append(into.buckets, span{from, to})
		return
	}
	if from < h0 {
		into.buckets = append(into.buckets, span{from, h0})
	}
	if h1 < to {
		into.buckets = append(into.buckets, span{h1, to})
	}
	d0, d1 := ceilTo(h0, daySeconds), floorTo(h1, daySeconds)
	if d0 >= d1 {
		into.hours = append(into.hours, span{h0, h1})
		return
	}
	if h0 < d0 {
		into.hours = append(into.hours, span{h0, d0})
	}
	if d1 < h1 {
		into.hours = append(into.hours, span{d1, h1})
	}
	into.days = append(into.days, span{d0, d1})
}

func ceilTo(sec, step int64) int64 { return -floorTo(-sec, step) }

// merged sorts spans and joins those that overlap or touch.
func merged(in []span) []span {
	sort.Slice(in, func(i, j int) bool { return in[i].from < in[j].from })
	var out []span
	for _, s := range in {
		if n := len(out); n > 0 && s.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// timedSums are sums at an instant (a bucket, hour or day start), sorted by at.
type timedSums struct {
	at []int64
	s  []models.Sums
}

// within sums the entries in [from, to).
func (t timedSums) within(from, to int64) models.Sums {
	i := sort.Search(len(t.at), func(i int) bool { return t.at[i] >= from })
	var out models.Sums
	for ; i < len(t.at) && t.at[i] < to; i++ {
		out = out.Add(t.s[i])
	}
	return out
}

// levelData is what was read at each level.
type levelData struct{ buckets, hours, days timedSums }

// sum is [from, to) through the same decomposition that chose what to read.
func (d levelData) sum(from, to int64) models.Sums {
	var r levelReads
	decompose(from, to, &r)
	var out models.Sums
	for _, s := range r.buckets {
		out = out.Add(d.buckets.within(s.from, s.to))
	}
	for _, s := range r.hours {
		out = out.Add(d.hours.within(s.from, s.to))
	}
	for _, s := range r.days {
		out = out.Add(d.days.within(s.from, s.to))
	}
	return out
}

// sumsOf returns an SLO's sums over each range, leaving out what falls in maintenance.
// It reads each level once, with one statement, whatever the number of ranges.
func (s *Store) sumsOf(ctx context.Context, ref sloRef, ranges []models.Range, maint []models.Span) ([]models.Sums, error) {
	var reads levelReads
	minus := make([][]span, len(ranges))
	for i, r := range ranges {
		from, to := r.From.Unix(), r.To.Unix()
		decompose(from, to, &reads)
		for _, m := range maint {
			a, b := max(from, m.Start.Unix()), min(to, m.End.Unix())
			if a < b {
				decompose(a, b, &reads)
				minus[i] = append(minus[i], span{a, b})
			}
		}
	}
	data, err := s.readLevels(ctx, ref, reads)
	if err != nil {
		return nil, err
	}
	out := make([]models.Sums, len(ranges))
	for i, r := range ranges {
		sum := data.sum(r.From.Unix(), r.To.Unix())
		// Overlapping maintenance windows are joined, so nothing is taken out twice.
		for _, p := range merged(minus[i]) {
			sum = sum.Sub(data.sum(p.from, p.to))
		}
		out[i] = sum
	}
	return out, nil
}

// readLevels reads the spans of each level.
func (s *Store) readLevels(ctx context.Context, ref sloRef, r levelReads) (levelData, error) {
	var d levelData
	var err error
	if d.hours, err = s.readRollups(ctx, "slo_hours", "hour", ref, merged(r.hours)); err != nil {
		return d, err
	}
	if d.days, err = s.readRollups(ctx, "slo_days", "day", ref, merged(r.days)); err != nil {
		return d, err
	}
	pts, err := s.bucketPoints(ctx, ref, merged(r.buckets))
	if err != nil {
		return d, err
	}
	for _, p := range pts {
		d.buckets.at = append(d.buckets.at, p.At.Unix())
		d.buckets.s = append(d.buckets.s, models.Sums{Bad: p.Total - p.Good, Total: p.Total, Excluded: p.Excluded})
	}
	return d, nil
}

// unionOf builds one statement reading several spans: a UNION ALL of index range
// scans, which both databases run as that many probes.
func unionOf(sel, col string, spans []span, fixed []any) (string, []any) {
	parts := make([]string, len(spans))
	var args []any
	for i, sp := range spans {
		parts[i] = sel + " AND " + col + " >= ? AND " + col + " < ?"
		args = append(append(args, fixed...), sp.from, sp.to)
	}
	return strings.Join(parts, " UNION ALL ") + " ORDER BY 1", args
}

func (s *Store) readRollups(ctx context.Context, table, col string, ref sloRef, spans []span) (timedSums, error) {
	var out timedSums
	if len(spans) == 0 {
		return out, nil
	}
	q, args := unionOf(fmt.Sprintf("SELECT %s, bad, total, excluded FROM %s WHERE slo_id = ? AND generation = ?", col, table), col, spans, []any{ref.slo, ref.gen})
	rows, err := s.reads(ctx).Raw(q, args...).Rows()
	if err != nil {
		return out, fmt.Errorf("read %s of SLO %d: %w", table, ref.slo, err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var v models.Sums
		if err := rows.Scan(&at, &v.Bad, &v.Total, &v.Excluded); err != nil {
			return out, err
		}
		out.at, out.s = append(out.at, at), append(out.s, v)
	}
	return out, rows.Err()
}

// bucketPoints reads an SLO's samples in the spans and derives its points, one per
// bucket that has the binding's fields, in time order.
func (s *Store) bucketPoints(ctx context.Context, ref sloRef, spans []span) ([]models.Point, error) {
	if len(spans) == 0 || ref.series == 0 {
		return nil, nil
	}
	q, args := unionOf("SELECT bucket, fields FROM samples WHERE series_id = ?", "bucket", spans, []any{ref.series})
	rows, err := s.reads(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read samples of SLO %d: %w", ref.slo, err)
	}
	defer rows.Close()
	var out []models.Point
	for rows.Next() {
		var bucket int64
		var raw string
		if err := rows.Scan(&bucket, &raw); err != nil {
			return nil, err
		}
		f, err := decodeFields(raw)
		if err != nil {
			return nil, fmt.Errorf("sample %d@%d: %w", ref.series, bucket, err)
		}
		p := pointOf(ref.binding, f)
		if p == (models.Sums{}) {
			continue
		}
		out = append(out, models.Point{At: time.Unix(bucket, 0).UTC(), Good: p.Total - p.Bad, Total: p.Total, Excluded: p.Excluded})
	}
	return out, rows.Err()
}

// hourPoints are an SLO's hour roll-ups in [from, to) as points at each hour's start,
// with what fell in maintenance taken out bucket by bucket: what charts and monthly
// reports read instead of every sample.
func (s *Store) hourPoints(ctx context.Context, ref sloRef, from, to int64, maint []models.Span) ([]models.Point, error) {
	hours, err := s.readRollups(ctx, "slo_hours", "hour", ref, []span{{floorTo(from, hourSeconds), to}})
	if err != nil {
		return nil, err
	}
	byHour := make(map[int64]int, len(hours.at))
	for i, at := range hours.at {
		byHour[at] = i
	}
	var in []span
	for _, m := range maint {
		if a, b := max(from, m.Start.Unix()), min(to, m.End.Unix()); a < b {
			in = append(in, span{a, b})
		}
	}
	excluded, err := s.bucketPoints(ctx, ref, merged(in))
	if err != nil {
		return nil, err
	}
	for _, p := range excluded {
		if i, ok := byHour[floorTo(p.At.Unix(), hourSeconds)]; ok {
			hours.s[i] = hours.s[i].Sub(models.Sums{Bad: p.Total - p.Good, Total: p.Total, Excluded: p.Excluded})
		}
	}
	out := make([]models.Point, 0, len(hours.at))
	for i, at := range hours.at {
		v := hours.s[i]
		if v == (models.Sums{}) {
			continue
		}
		out = append(out, models.Point{At: time.Unix(at, 0).UTC(), Good: v.Total - v.Bad, Total: v.Total, Excluded: v.Excluded})
	}
	return out, nil
}
