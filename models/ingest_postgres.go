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
	valid := d.RowsTotal - d.Rejected
	d.Accepted, d.Duplicates = valid, 0
	d.settle() // the outcome if every row is new; a duplicate-only delivery is told apart in SQL
	var q strings.Builder
	args := make([]any, 0, 32)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// Rows and points travel as arrays, so the statement's text is the same
	// for every delivery (prepared once per connection) whatever its size.
	series, times, fields, hashes := make([]string, len(rows)), make([]time.Time, len(rows)), make([]string, len(rows)), make([][]byte, len(rows))
	for i, r := range rows {
		series[i], times[i], fields[i], hashes[i] = r.Series, r.Time, fieldsJSON(r.Fields), r.Hash
	}
	pHash, pSLO, pGen, pTS, pGood, pTotal := make([][]byte, len(points)), make([]int64, len(points)), make([]int32, len(points)),
		make([]time.Time, len(points)), make([]float64, len(points)), make([]float64, len(points))
	for i, p := range points {
		pHash[i], pSLO[i], pGen[i], pTS[i], pGood[i], pTotal[i] = p.rowHash, p.sloID, int32(p.generation), p.ts, p.good, p.total
	}
	fmt.Fprintf(&q, `WITH d AS (SELECT nextval(pg_get_serial_sequence('deliveries', 'id')) AS id),
		v AS (SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::text[], %s::bytea[]) AS v (series, ts, fields, row_hash)),
		s AS (INSERT INTO samples (feed_id, series, ts, fields, delivery_id, sid, row_hash)
			SELECT %s, v.series, v.ts, v.fields, d.id, %s, v.row_hash FROM v, d
			ON CONFLICT (feed_id, row_hash) DO NOTHING RETURNING id, row_hash),
		pv AS (SELECT * FROM unnest(%s::bytea[], %s::bigint[], %s::int[], %s::timestamptz[], %s::float8[], %s::float8[])
			AS pv (row_hash, slo_id, generation, ts, good, total)),
		p AS (INSERT INTO slo_points (slo_id, generation, sample_id, ts, good, total)
			SELECT pv.slo_id, pv.generation, s.id, pv.ts, pv.good, pv.total FROM pv JOIN s ON s.row_hash = pv.row_hash
			WHERE (SELECT bindings_version FROM feeds WHERE id = %s) = %s
			ON CONFLICT DO NOTHING)`,
		arg(series), arg(times), arg(fields), arg(hashes), arg(d.FeedID), arg(d.SID),
		arg(pHash), arg(pSLO), arg(pGen), arg(pTS), arg(pGood), arg(pTotal), arg(d.FeedID), arg(set.version))
	// The outcome when every row is new; a delivery of duplicates only is told apart here.
	outcome := "CASE WHEN n.accepted = 0 AND " + arg(d.Outcome) + "::text = '" + OutcomeAccepted + "' THEN '" + OutcomeDuplicate +
		"' ELSE " + arg(d.Outcome) + "::text END"
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
	if d.Accepted > 0 {
		s.touched(ctx, latestOf(points))
	}
	if version != set.version {
		s.bindings.drop(d.FeedID)
	}
	return nil
}

// deriveStale derives the points of a delivery's samples with freshly loaded
// bindings, after ingest found this replica's copy out of date.
func (s *Store) deriveStale(ctx context.Context, d *Delivery) error {
	var latest map[int64]time.Time
	defer func() { s.touched(ctx, latest) }()
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
		latest, err = insertPoints(tx, set.derive(rows), ids)
		return err
	})
}
