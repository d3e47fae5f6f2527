package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// sqliteDialect writes with multi-row VALUES statements. SQLite has one writer at a
// time (transactions begin IMMEDIATE), so it needs no locks of its own.
type sqliteDialect struct{}

// sqliteMaxParams stays under SQLite's limit of 32,766 bound parameters.
const sqliteMaxParams = 30000

// execValues runs head + VALUES (…),(…) + tail for rows, in chunks that fit the
// parameter limit, calling each with the chunk's result rows when scan is set.
func execValues(ctx context.Context, tx *sql.Tx, head string, rows [][]any, tail string, scan func(*sql.Rows) error) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	per := max(1, sqliteMaxParams/width)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var sb strings.Builder
		sb.WriteString(head)
		sb.WriteString(" VALUES ")
		args := make([]any, 0, len(chunk)*width)
		for i, r := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(tuple)
			args = append(args, r...)
		}
		sb.WriteString(" ")
		sb.WriteString(tail)
		if scan == nil {
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return err
			}
			continue
		}
		res, err := tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return err
		}
		for res.Next() {
			if err := scan(res); err != nil {
				res.Close()
				return err
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (sqliteDialect) seriesIDs(ctx context.Context, tx *sql.Tx, keys []seriesKey) (map[seriesKey]int64, error) {
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.feed, k.key}
	}
	if err := execValues(ctx, tx, "INSERT INTO series (feed_id, key)", rows, "ON CONFLICT DO NOTHING", nil); err != nil {
		return nil, fmt.Errorf("create series: %w", err)
	}
	out := make(map[seriesKey]int64, len(keys))
	err := execValues(ctx, tx, "WITH k (feed_id, key) AS (", rows, ") SELECT s.id, s.feed_id, s.key FROM series s JOIN k ON s.feed_id = k.feed_id AND s.key = k.key",
		func(r *sql.Rows) error {
			var id int64
			var k seriesKey
			if err := r.Scan(&id, &k.feed, &k.key); err != nil {
				return err
			}
			out[k] = id
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read series: %w", err)
	}
	return out, nil
}

func (sqliteDialect) lock(ctx context.Context, tx *sql.Tx, _ []int64, _ bool, feeds []int64) (map[int64]feedState, error) {
	q := "SELECT id, bindings_version, sample_policy FROM feeds WHERE id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(feeds)), ",") + ")"
	args := make([]any, len(feeds))
	for i, f := range feeds {
		args[i] = f
	}
	return readFeedStates(ctx, tx, q, args...)
}

func (sqliteDialect) read(ctx context.Context, tx *sql.Tx, ids []identity, parts []partKey) (map[identity]string, map[partKey]bool, error) {
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = []any{id.series, id.bucket}
	}
	samples := map[identity]string{}
	err := execValues(ctx, tx, "WITH w (series_id, bucket) AS (", rows,
		") SELECT s.series_id, s.bucket, s.fields FROM samples s JOIN w ON s.series_id = w.series_id AND s.bucket = w.bucket",
		func(r *sql.Rows) error {
			var id identity
			var f string
			if err := r.Scan(&id.series, &id.bucket, &f); err != nil {
				return err
			}
			samples[id] = f
			return nil
		})
	if err != nil {
		return nil, nil, fmt.Errorf("read samples: %w", err)
	}
	prow := make([][]any, len(parts))
	for i, p := range parts {
		prow[i] = []any{p.series, p.bucket, []byte(p.hash)}
	}
	have := map[partKey]bool{}
	err = execValues(ctx, tx, "WITH w (series_id, bucket, row_hash) AS (", prow,
		") SELECT p.series_id, p.bucket, p.row_hash FROM sample_parts p JOIN w ON p.series_id = w.series_id AND p.bucket = w.bucket AND p.row_hash = w.row_hash",
		func(r *sql.Rows) error {
			var k partKey
			var h []byte
			if err := r.Scan(&k.series, &k.bucket, &h); err != nil {
				return err
			}
			k.hash = string(h)
			have[k] = true
			return nil
		})
	if err != nil {
		return nil, nil, fmt.Errorf("read sample parts: %w", err)
	}
	return samples, have, nil
}

func (sqliteDialect) write(ctx context.Context, tx *sql.Tx, _ *sql.Conn, p *plan) error {
	for _, pd := range p.batch {
		d := pd.d
		rej := d.Rejections
		if rej == "" {
			rej = "[]"
		}
		body := d.Body
		if body == nil {
			body = []byte{}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (feed_id, token_id, received_at, code, outcome, shape,
			content_type, sid, search_name, results_link, body, body_bytes, body_truncated, rows_total, accepted, replaced,
			duplicates, rejected, from_receipt, outside_window, error, rejections)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
			d.FeedID, d.TokenID, d.ReceivedAt, d.Code, d.Outcome, d.Shape, d.ContentType, d.SID, d.SearchName, d.ResultsLink,
			body, d.BodyBytes, d.BodyTruncated, d.RowsTotal, d.Accepted, d.Replaced, d.Duplicates, d.Rejected,
			d.FromReceipt, d.OutsideWindow, d.Error, rej).Scan(&d.ID); err != nil {
			return fmt.Errorf("store delivery: %w", err)
		}
	}
	samples := make([][]any, len(p.samples))
	for i, w := range p.samples {
		samples[i] = []any{w.series, w.bucket, w.fields, p.batch[w.k].d.ID}
	}
	if err := execValues(ctx, tx, "INSERT INTO samples (series_id, bucket, fields, delivery_id)", samples,
		"ON CONFLICT (series_id, bucket) DO UPDATE SET fields = excluded.fields, delivery_id = excluded.delivery_id", nil); err != nil {
		return fmt.Errorf("store samples: %w", err)
	}
	parts := make([][]any, len(p.parts))
	for i, k := range p.parts {
		parts[i] = []any{k.series, k.bucket, []byte(k.hash)}
	}
	if err := execValues(ctx, tx, "INSERT INTO sample_parts (series_id, bucket, row_hash)", parts, "ON CONFLICT DO NOTHING", nil); err != nil {
		return fmt.Errorf("store sample parts: %w", err)
	}
	return nil
}

func (sqliteDialect) apply(ctx context.Context, tx *sql.Tx, p *rollupChange) error {
	for _, r := range []struct {
		table, col string
		deltas     []rollupDelta
	}{{"slo_hours", "hour", p.hours}, {"slo_days", "day", p.days()}} {
		rows := make([][]any, 0, len(r.deltas))
		for _, d := range r.deltas {
			rows = append(rows, []any{d.slo, d.gen, d.at, d.Bad, d.Total, d.Excluded})
		}
		tail := fmt.Sprintf("ON CONFLICT (slo_id, generation, %[2]s) DO UPDATE SET bad = %[1]s.bad + excluded.bad, total = %[1]s.total + excluded.total, excluded = %[1]s.excluded + excluded.excluded", r.table, r.col)
		if err := execValues(ctx, tx, fmt.Sprintf("INSERT INTO %s (slo_id, generation, %s, bad, total, excluded)", r.table, r.col), rows, tail, nil); err != nil {
			return fmt.Errorf("update %s: %w", r.table, err)
		}
	}
	for _, l := range p.last {
		if _, err := tx.ExecContext(ctx, "UPDATE series SET last_bucket = ? WHERE id = ? AND (last_bucket IS NULL OR last_bucket < ?)", l.bucket, l.series, l.bucket); err != nil {
			return fmt.Errorf("advance series: %w", err)
		}
	}
	return bumpSQLite(ctx, tx, p.slos)
}

// bumpSQLite gives SLOs a new version: one more than any version so far.
func bumpSQLite(ctx context.Context, tx *sql.Tx, slos []int64) error {
	if len(slos) == 0 {
		return nil
	}
	args := []any{}
	for _, id := range slos {
		args = append(args, id)
	}
	q := "UPDATE slo_state SET version = (SELECT COALESCE(MAX(version), 0) + 1 FROM slo_state) WHERE slo_id IN (" +
		strings.TrimSuffix(strings.Repeat("?,", len(slos)), ",") + ")"
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("bump SLO versions: %w", err)
	}
	return nil
}

func (sqliteDialect) setRollups(ctx context.Context, tx *sql.Tx, hours, days map[rollupKey]rollupRow) error {
	for _, r := range []struct {
		table, col string
		rows       map[rollupKey]rollupRow
	}{{"slo_hours", "hour", hours}, {"slo_days", "day", days}} {
		rows := make([][]any, 0, len(r.rows))
		for k, v := range r.rows {
			rows = append(rows, []any{k.slo, k.gen, k.at, v.bad, v.total, v.excluded})
		}
		tail := fmt.Sprintf("ON CONFLICT (slo_id, generation, %s) DO UPDATE SET bad = excluded.bad, total = excluded.total, excluded = excluded.excluded", r.col)
		if err := execValues(ctx, tx, fmt.Sprintf("INSERT INTO %s (slo_id, generation, %s, bad, total, excluded)", r.table, r.col), rows, tail, nil); err != nil {
			return fmt.Errorf("set %s: %w", r.table, err)
		}
	}
	return nil
}
