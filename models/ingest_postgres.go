package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ingestPostgres stores a delivery and its rows with one statement, so a
// delivery costs one round trip and one commit, as a plain INSERT does: the
// delivery id comes from its sequence, the samples are inserted skipping
// known rows, and the delivery row records how many were new.
func (s *Store) ingestPostgres(ctx context.Context, d *Delivery, rows []Row, set bindingSet) error {
	points := set.derive(rows)
	if 4*len(rows)+6*len(points) > 60000 {
		return s.ingestTx(ctx, d, rows) // PostgreSQL takes at most 65,535 parameters per statement
	}
	valid := d.RowsTotal - d.Rejected
	d.Accepted, d.Duplicates = valid, 0
	d.settle() // the outcome if every row is new; a duplicate-only delivery is told apart in SQL
	var q strings.Builder
	args := make([]any, 0, 20+len(rows)*4)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	q.WriteString("WITH d AS (SELECT nextval(pg_get_serial_sequence('deliveries', 'id')) AS id)")
	if len(rows) > 0 {
		q.WriteString(", v (series, ts, fields, row_hash) AS (VALUES ")
		for i, r := range rows {
			if i > 0 {
				q.WriteString(",")
			}
			fmt.Fprintf(&q, "(%s::text, %s::timestamptz, %s::text, %s::bytea)", arg(r.Series), arg(r.Time), arg(fieldsJSON(r.Fields)), arg(r.Hash))
		}
		feed, sid := arg(d.FeedID), arg(d.SID)
		fmt.Fprintf(&q, `), s AS (
			INSERT INTO samples (feed_id, series, ts, fields, delivery_id, sid, row_hash)
			SELECT %s, v.series, v.ts, v.fields, d.id, %s, v.row_hash FROM v, d
			ON CONFLICT (feed_id, row_hash) DO NOTHING RETURNING id, row_hash)`, feed, sid)
	} else {
		q.WriteString(", s AS (SELECT NULL::bigint AS id, NULL::bytea AS row_hash WHERE false)")
	}
	if len(points) > 0 {
		// Points only if this replica's bindings are current; else they are
		// derived below with fresh ones.
		q.WriteString(", pv (row_hash, slo_id, generation, ts, good, total) AS (VALUES ")
		for i, p := range points {
			if i > 0 {
				q.WriteString(",")
			}
			fmt.Fprintf(&q, "(%s::bytea, %s::bigint, %s::int, %s::timestamptz, %s::float8, %s::float8)",
				arg(p.rowHash), arg(p.sloID), arg(p.generation), arg(p.ts), arg(p.good), arg(p.total))
		}
		fmt.Fprintf(&q, `), p AS (
			INSERT INTO slo_points (slo_id, generation, sample_id, ts, good, total)
			SELECT pv.slo_id, pv.generation, s.id, pv.ts, pv.good, pv.total FROM pv JOIN s ON s.row_hash = pv.row_hash
			WHERE (SELECT bindings_version FROM feeds WHERE id = %s) = %s
			ON CONFLICT DO NOTHING RETURNING slo_id, ts),
		st AS (UPDATE slo_state SET version = slo_state.version + 1, last_point_at = GREATEST(slo_state.last_point_at, m.ts)
			FROM (SELECT slo_id, max(ts) AS ts FROM p GROUP BY slo_id) m WHERE slo_state.slo_id = m.slo_id)`,
			arg(d.FeedID), arg(set.version))
	}
	outcome := arg(d.Outcome)
	if d.Outcome == OutcomeAccepted {
		outcome = "CASE WHEN n.accepted = 0 THEN '" + OutcomeDuplicate + "' ELSE " + outcome + " END"
	}
	var tokenID any
	if d.TokenID != nil {
		tokenID = *d.TokenID
	}
	fmt.Fprintf(&q, `, n AS (SELECT count(*)::int AS accepted FROM s),
		ins AS (INSERT INTO deliveries (id, feed_id, token_id, received_at, status, outcome, shape, content_type, sid,
			search_name, results_link, body, body_bytes, body_truncated, rows_total, accepted, duplicates, rejected, error, rejections)
			SELECT d.id, %s, %s::bigint, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, n.accepted, %s - n.accepted, %s, %s, %s FROM d, n)
		SELECT d.id, n.accepted, (SELECT bindings_version FROM feeds WHERE id = %s) FROM d, n`,
		arg(d.FeedID), arg(tokenID), arg(d.ReceivedAt), arg(d.Status), outcome, arg(d.Shape), arg(d.ContentType), arg(d.SID),
		arg(d.SearchName), arg(d.ResultsLink), arg(d.Body), arg(d.BodyBytes), arg(d.BodyTruncated), arg(d.RowsTotal),
		arg(valid), arg(d.Rejected), arg(d.Error), arg(d.Rejections), arg(d.FeedID))
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	var version int64
	if err := sqlDB.QueryRowContext(ctx, q.String(), args...).Scan(&d.ID, &d.Accepted, &version); err != nil {
		return fmt.Errorf("ingest delivery: %w", err)
	}
	d.Duplicates = valid - d.Accepted
	d.settle()
	if version != set.version && d.Accepted > 0 {
		return s.deriveStale(ctx, d)
	}
	if version != set.version {
		s.bindings.drop(d.FeedID)
	}
	return nil
}

// deriveStale derives the points of a delivery's samples with freshly loaded
// bindings, after ingest found this replica's copy out of date.
func (s *Store) deriveStale(ctx context.Context, d *Delivery) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		set, err := loadBindings(tx, d.FeedID)
		if err != nil {
			return err
		}
		s.bindings.put(d.FeedID, set)
		var samples []struct {
			ID      int64
			Series  string
			TS      time.Time
			Fields  string
			RowHash []byte
		}
		if err := tx.Raw("SELECT id, series, ts, fields, row_hash FROM samples WHERE delivery_id = ?", d.ID).Scan(&samples).Error; err != nil {
			return fmt.Errorf("read delivery samples: %w", err)
		}
		rows := make([]Row, 0, len(samples))
		ids := make(map[string]int64, len(samples))
		for _, smp := range samples {
			r := Row{Series: smp.Series, Time: smp.TS.UTC(), Hash: smp.RowHash}
			if json.Unmarshal([]byte(smp.Fields), &r.Fields) == nil {
				rows = append(rows, r)
				ids[string(smp.RowHash)] = smp.ID
			}
		}
		return insertPoints(tx, set.derive(rows), ids)
	})
}
