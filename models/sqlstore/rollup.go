package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
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

// sumsRequest is one SLO's ranges to sum, leaving out what falls in maintenance.
type sumsRequest struct {
	ref    sloRef
	ranges []models.Range
	maint  []models.Span
}

// sumsOf returns an SLO's sums over each range, leaving out what falls in maintenance.
func (s *Store) sumsOf(ctx context.Context, ref sloRef, ranges []models.Range, maint []models.Span) ([]models.Sums, error) {
	out, err := s.sumsOfMany(ctx, []sumsRequest{{ref, ranges, maint}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// sumsOfMany answers several SLOs' requests, reading each level once, with one
// statement, whatever the number of SLOs and ranges.
func (s *Store) sumsOfMany(ctx context.Context, reqs []sumsRequest) ([][]models.Sums, error) {
	refs, reads := make([]sloRef, len(reqs)), make([]levelReads, len(reqs))
	minus := make([][][]span, len(reqs))
	for k, q := range reqs {
		refs[k] = q.ref
		minus[k] = make([][]span, len(q.ranges))
		for i, r := range q.ranges {
			from, to := r.From.Unix(), r.To.Unix()
			decompose(from, to, &reads[k])
			for _, m := range q.maint {
				a, b := max(from, m.Start.Unix()), min(to, m.End.Unix())
				if a < b {
					decompose(a, b, &reads[k])
					minus[k][i] = append(minus[k][i], span{a, b})
				}
			}
		}
	}
	data, err := s.readLevels(ctx, refs, reads)
	if err != nil {
		return nil, err
	}
	out := make([][]models.Sums, len(reqs))
	for k, q := range reqs {
		out[k] = make([]models.Sums, len(q.ranges))
		for i, r := range q.ranges {
			sum := data[k].sum(r.From.Unix(), r.To.Unix())
			// Overlapping maintenance windows are joined, so nothing is taken out twice.
			for _, p := range merged(minus[k][i]) {
				sum = sum.Sub(data[k].sum(p.from, p.to))
			}
			out[k][i] = sum
		}
	}
	return out, nil
}

// readLevels reads the spans of each level for several SLOs, one statement per level.
func (s *Store) readLevels(ctx context.Context, refs []sloRef, reads []levelReads) ([]levelData, error) {
	hourSpans, daySpans, bucketSpans := make([][]span, len(refs)), make([][]span, len(refs)), make([][]span, len(refs))
	for i, r := range reads {
		hourSpans[i], daySpans[i], bucketSpans[i] = merged(r.hours), merged(r.days), merged(r.buckets)
	}
	hours, err := s.readRollups(ctx, "slo_hours", "hour", refs, hourSpans)
	if err != nil {
		return nil, err
	}
	days, err := s.readRollups(ctx, "slo_days", "day", refs, daySpans)
	if err != nil {
		return nil, err
	}
	pts, err := s.bucketPoints(ctx, refs, bucketSpans)
	if err != nil {
		return nil, err
	}
	out := make([]levelData, len(refs))
	for i := range refs {
		out[i].hours, out[i].days = hours[i], days[i]
		for _, p := range pts[i] {
			out[i].buckets.at = append(out[i].buckets.at, p.At.Unix())
			out[i].buckets.s = append(out[i].buckets.s, models.Sums{Bad: p.Total - p.Good, Total: p.Total, Excluded: p.Excluded})
		}
	}
	return out, nil
}

// spanRowsPerStatement bounds the spans one statement reads (SQLite takes at most
// 32,766 parameters).
const spanRowsPerStatement = 1000

// spanReads reads cols from table for each span of each reader i, one statement per
// spanRowsPerStatement spans: where names the rows of one span in terms of w (i, k1,
// k2, f, t), a row per span with its reader's keys. Rows come ordered by reader, then
// by cols' first column. Each span is read by an index range scan: a lateral subquery
// on PostgreSQL, whose planner might otherwise hash the whole table (the OFFSET keeps it
// from being flattened into a join); SQLite joins by nested loops. scan reads one
// result row: the reader's i, then cols.
func (s *Store) spanReads(ctx context.Context, table, cols, where string, spans [][]span, keys func(i int) (int64, int64), scan func(*sql.Rows) error) error {
	var all []spanRow
	for i, list := range spans {
		k1, k2 := keys(i)
		for _, sp := range list {
			all = append(all, spanRow{i, k1, k2, sp})
		}
	}
	for start := 0; start < len(all); start += spanRowsPerStatement {
		rows, err := s.spanQuery(ctx, table, cols, where, all[start:min(start+spanRowsPerStatement, len(all))])
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// spanRow is a row of w: reader i's keys and one of its spans.
type spanRow struct {
	i      int
	k1, k2 int64
	sp     span
}

// spanQuery runs one statement of spanReads over the rows of w. On PostgreSQL w is
// unnested from arrays, so the statement's text is the same for any n and its plan is
// prepared once per connection.
func (s *Store) spanQuery(ctx context.Context, table, cols, where string, w []spanRow) (*sql.Rows, error) {
	n := len(w)
	if s.dialect == migrations.Postgres {
		is, k1, k2, f, t := make([]int32, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for j, r := range w {
			is[j], k1[j], k2[j], f[j], t[j] = int32(r.i), r.k1, r.k2, r.sp.from, r.sp.to
		}
		db, err := s.reads(ctx).DB()
		if err != nil {
			return nil, err
		}
		return db.QueryContext(ctx, fmt.Sprintf(`SELECT w.i, x.* FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS w (i, k1, k2, f, t)
			CROSS JOIN LATERAL (SELECT %s FROM %s r WHERE %s OFFSET 0) x ORDER BY 1, 2`, cols, table, where), is, k1, k2, f, t)
	}
	values := make([]string, n)
	args := make([]any, 0, 5*n)
	for j, r := range w {
		values[j] = "(?, ?, ?, ?, ?)"
		args = append(args, r.i, r.k1, r.k2, r.sp.from, r.sp.to)
	}
	return s.reads(ctx).Raw(fmt.Sprintf("WITH w (i, k1, k2, f, t) AS (VALUES %s) SELECT w.i, %s FROM w JOIN %s r ON %s ORDER BY 1, 2",
		strings.Join(values, ", "), cols, table, where), args...).Rows()
}

// readRollups reads several SLOs' roll-ups in their spans, each in time order.
func (s *Store) readRollups(ctx context.Context, table, col string, refs []sloRef, spans [][]span) ([]timedSums, error) {
	out := make([]timedSums, len(refs))
	cols := fmt.Sprintf("r.%s, r.bad, r.total, r.excluded", col)
	where := fmt.Sprintf("r.slo_id = w.k1 AND r.generation = w.k2 AND r.%[1]s >= w.f AND r.%[1]s < w.t", col)
	err := s.spanReads(ctx, table, cols, where, spans, func(i int) (int64, int64) { return refs[i].slo, int64(refs[i].gen) },
		func(rows *sql.Rows) error {
			var i int
			var at int64
			var v models.Sums
			if err := rows.Scan(&i, &at, &v.Bad, &v.Total, &v.Excluded); err != nil {
				return err
			}
			out[i].at, out[i].s = append(out[i].at, at), append(out[i].s, v)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read %s of %d SLOs: %w", table, len(refs), err)
	}
	return out, nil
}

// bucketPoints reads several SLOs' samples in their spans and derives their points,
// one per bucket that has the binding's fields, in time order.
func (s *Store) bucketPoints(ctx context.Context, refs []sloRef, spans [][]span) ([][]models.Point, error) {
	out := make([][]models.Point, len(refs))
	read := make([][]span, len(refs))
	for i, r := range refs {
		if r.series != 0 { // 0: nothing ever received
			read[i] = spans[i]
		}
	}
	err := s.spanReads(ctx, "samples", "r.bucket, r.fields", "r.series_id = w.k1 AND r.bucket >= w.f AND r.bucket < w.t", read, func(i int) (int64, int64) { return refs[i].series, 0 },
		func(rows *sql.Rows) error {
			var i int
			var bucket int64
			var raw string
			if err := rows.Scan(&i, &bucket, &raw); err != nil {
				return err
			}
			f, err := s.decodeFields(ctx, raw)
			if err != nil {
				return fmt.Errorf("sample %d@%d of SLO %d: %w", refs[i].series, bucket, refs[i].slo, err)
			}
			if p := pointOf(refs[i].binding, f); p != (models.Sums{}) {
				out[i] = append(out[i], models.Point{At: time.Unix(bucket, 0).UTC(), Good: p.Total - p.Bad, Total: p.Total, Excluded: p.Excluded})
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read samples: %w", err)
	}
	return out, nil
}

// hourPoints are an SLO's hour roll-ups in [from, to) as points at each hour's start,
// with what fell in maintenance taken out bucket by bucket: what charts and monthly
// reports read instead of every sample.
func (s *Store) hourPoints(ctx context.Context, ref sloRef, from, to int64, maint []models.Span) ([]models.Point, error) {
	read, err := s.readRollups(ctx, "slo_hours", "hour", []sloRef{ref}, [][]span{{{floorTo(from, hourSeconds), to}}})
	if err != nil {
		return nil, err
	}
	hours := read[0]
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
	excluded, err := s.bucketPoints(ctx, []sloRef{ref}, [][]span{merged(in)})
	if err != nil {
		return nil, err
	}
	for _, p := range excluded[0] {
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
