package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// ingestPostgres stores a delivery and its rows with one statement, so a
// delivery costs one round trip and one commit, as a plain INSERT does: the
// delivery id comes from its sequence, the samples are inserted skipping
// known rows, and the delivery row records how many were new.
func (s *Store) ingestPostgres(ctx context.Context, d *Delivery, rows []Row) error {
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
			ON CONFLICT (feed_id, row_hash) DO NOTHING RETURNING row_hash)`, feed, sid)
	} else {
		q.WriteString(", s AS (SELECT NULL::bytea AS row_hash WHERE false)")
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
		SELECT d.id, n.accepted FROM d, n`,
		arg(d.FeedID), arg(tokenID), arg(d.ReceivedAt), arg(d.Status), outcome, arg(d.Shape), arg(d.ContentType), arg(d.SID),
		arg(d.SearchName), arg(d.ResultsLink), arg(d.Body), arg(d.BodyBytes), arg(d.BodyTruncated), arg(d.RowsTotal),
		arg(valid), arg(d.Rejected), arg(d.Error), arg(d.Rejections))
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.QueryRowContext(ctx, q.String(), args...).Scan(&d.ID, &d.Accepted); err != nil {
		return fmt.Errorf("ingest delivery: %w", err)
	}
	d.Duplicates = valid - d.Accepted
	d.settle()
	return nil
}
