package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// postgresDialect writes with one statement per table, rows travelling as arrays, so a
// statement's text is the same whatever the batch and is prepared once per connection.
type postgresDialect struct{}

func (postgresDialect) seriesIDs(ctx context.Context, tx *sql.Tx, keys []seriesKey) (map[seriesKey]int64, error) {
	feeds, names := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		feeds[i], names[i] = k.feed, k.key
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO series (feed_id, key) SELECT * FROM unnest($1::bigint[], $2::text[])
		ORDER BY 1, 2 ON CONFLICT DO NOTHING`, feeds, names); err != nil {
		return nil, fmt.Errorf("create series: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.feed_id, s.key FROM series s
		JOIN unnest($1::bigint[], $2::text[]) AS k (feed_id, key) ON s.feed_id = k.feed_id AND s.key = k.key`, feeds, names)
	if err != nil {
		return nil, fmt.Errorf("read series: %w", err)
	}
	defer rows.Close()
	out := make(map[seriesKey]int64, len(keys))
	for rows.Next() {
		var id int64
		var k seriesKey
		if err := rows.Scan(&id, &k.feed, &k.key); err != nil {
			return nil, fmt.Errorf("read series: %w", err)
		}
		out[k] = id
	}
	return out, rows.Err()
}

// lock takes the advisory locks in key order (locks.go), in one statement. The feeds
// are read in the next statement, whose snapshot is taken after the locks were granted,
// so a binding change that committed while this writer waited is seen.
//
// The same statement turns parallel plans off for the transaction: reading back a
// batch's samples probes the primary key once per row, and a parallel plan, which the
// planner picks for large batches, only adds its workers' start-up.
func (postgresDialect) lock(ctx context.Context, tx *sql.Tx, keys []int64, shared bool, feeds []int64) (map[int64]feedState, error) {
	fn := "pg_advisory_xact_lock"
	if shared {
		fn = "pg_advisory_xact_lock_shared"
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('max_parallel_workers_per_gather', '0', true),
		`+fn+`(k) FROM unnest($1::bigint[]) AS k ORDER BY k`, keys); err != nil {
		return nil, fmt.Errorf("lock series: %w", err)
	}
	if len(feeds) == 0 {
		return nil, nil
	}
	return readFeedStates(ctx, tx, `SELECT id, bindings_version, sample_policy FROM feeds WHERE id = ANY($1)`, feeds)
}

func readFeedStates(ctx context.Context, tx *sql.Tx, query string, args ...any) (map[int64]feedState, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read feeds: %w", err)
	}
	defer rows.Close()
	out := map[int64]feedState{}
	for rows.Next() {
		var id int64
		var st feedState
		if err := rows.Scan(&id, &st.version, &st.policy); err != nil {
			return nil, fmt.Errorf("read feeds: %w", err)
		}
		out[id] = st
	}
	return out, rows.Err()
}

func (postgresDialect) read(ctx context.Context, tx *sql.Tx, ids []identity, parts []partKey) (map[identity]string, map[partKey]bool, error) {
	series, buckets := make([]int64, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		series[i], buckets[i] = id.series, id.bucket
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.series_id, s.bucket, s.fields FROM samples s
		JOIN unnest($1::bigint[], $2::bigint[]) AS w (series_id, bucket) ON s.series_id = w.series_id AND s.bucket = w.bucket`, series, buckets)
	if err != nil {
		return nil, nil, fmt.Errorf("read samples: %w", err)
	}
	defer rows.Close()
	samples := map[identity]string{}
	for rows.Next() {
		var id identity
		var f string
		if err := rows.Scan(&id.series, &id.bucket, &f); err != nil {
			return nil, nil, fmt.Errorf("read samples: %w", err)
		}
		samples[id] = f
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read samples: %w", err)
	}
	have, err := readPartsPostgres(ctx, tx, parts)
	return samples, have, err
}

func readPartsPostgres(ctx context.Context, tx *sql.Tx, parts []partKey) (map[partKey]bool, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	series, buckets, hashes := make([]int64, len(parts)), make([]int64, len(parts)), make([][]byte, len(parts))
	for i, p := range parts {
		series[i], buckets[i], hashes[i] = p.series, p.bucket, []byte(p.hash)
	}
	rows, err := tx.QueryContext(ctx, `SELECT p.series_id, p.bucket, p.row_hash FROM sample_parts p
		JOIN unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS w (series_id, bucket, row_hash)
		ON p.series_id = w.series_id AND p.bucket = w.bucket AND p.row_hash = w.row_hash`, series, buckets, hashes)
	if err != nil {
		return nil, fmt.Errorf("read sample parts: %w", err)
	}
	defer rows.Close()
	out := map[partKey]bool{}
	for rows.Next() {
		var k partKey
		var h []byte
		if err := rows.Scan(&k.series, &k.bucket, &h); err != nil {
			return nil, fmt.Errorf("read sample parts: %w", err)
		}
		k.hash = string(h)
		out[k] = true
	}
	return out, rows.Err()
}

func (d postgresDialect) write(ctx context.Context, tx *sql.Tx, conn *sql.Conn, p *plan) error {
	if err := insertDeliveriesPostgres(ctx, tx, p.batch); err != nil {
		return err
	}
	switch {
	case len(p.samples) == 0:
	case p.onlyNew:
		if err := copyNewSamples(ctx, conn, p); err != nil {
			return err
		}
	default:
		series, buckets, fields, deliveries := make([]int64, len(p.samples)), make([]int64, len(p.samples)), make([]string, len(p.samples)), make([]int64, len(p.samples))
		for i, w := range p.samples {
			series[i], buckets[i], fields[i], deliveries[i] = w.series, w.bucket, w.fields, p.batch[w.k].d.ID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO samples (series_id, bucket, fields, delivery_id)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[])
			ON CONFLICT (series_id, bucket) DO UPDATE SET fields = EXCLUDED.fields, delivery_id = EXCLUDED.delivery_id`,
			series, buckets, fields, deliveries); err != nil {
			return fmt.Errorf("store samples: %w", err)
		}
	}
	if len(p.parts) > 0 {
		series, buckets, hashes := make([]int64, len(p.parts)), make([]int64, len(p.parts)), make([][]byte, len(p.parts))
		for i, k := range p.parts {
			series[i], buckets[i], hashes[i] = k.series, k.bucket, []byte(k.hash)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sample_parts (series_id, bucket, row_hash)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING`, series, buckets, hashes); err != nil {
			return fmt.Errorf("store sample parts: %w", err)
		}
	}
	return nil
}

// uniqueViolation is PostgreSQL's SQLSTATE for a row that breaks a unique index.
const uniqueViolation = "23505"

func (postgresDialect) apply(ctx context.Context, tx *sql.Tx, p *rollupChange) error {
	for _, r := range []struct {
		table, col string
		deltas     []rollupDelta
	}{{"slo_hours", "hour", p.hours}, {"slo_days", "day", p.days()}} {
		if err := addRollupsPostgres(ctx, tx, r.table, r.col, r.deltas); err != nil {
			return err
		}
	}
	if len(p.last) > 0 {
		ids, buckets := make([]int64, len(p.last)), make([]int64, len(p.last))
		for i, l := range p.last {
			ids[i], buckets[i] = l.series, l.bucket
		}
		// Only series whose data time moves: a row replacing the newest bucket's counts
		// (or an older one's) leaves its series row as it is.
		if _, err := tx.ExecContext(ctx, `UPDATE series s SET last_bucket = v.b
			FROM unnest($1::bigint[], $2::bigint[]) AS v (id, b) WHERE s.id = v.id AND (s.last_bucket IS NULL OR s.last_bucket < v.b)`, ids, buckets); err != nil {
			return fmt.Errorf("advance series: %w", err)
		}
	}
	if len(p.slos) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE slo_state SET version = nextval('slo_version_seq') WHERE slo_id = ANY($1)`, p.slos); err != nil {
			return fmt.Errorf("bump SLO versions: %w", err)
		}
	}
	return nil
}

// insertDeliveriesPostgres numbers and stores a batch's deliveries in one statement.
// PostgreSQL evaluates a select list's nextval after its ORDER BY (SELECT's reference:
// "evaluate output expressions after sorting"), so ids rise in the batch's order, and
// the ids returned, sorted, are the deliveries' in turn, whatever order they come in.
func insertDeliveriesPostgres(ctx context.Context, tx *sql.Tx, batch []*pendingDelivery) error {
	var c deliveryColumns
	for _, p := range batch {
		c.add(p.d)
	}
	rows, err := tx.QueryContext(ctx, insertDeliveries, c.args()...)
	if err != nil {
		return fmt.Errorf("store deliveries: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, len(batch))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("store deliveries: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil || len(ids) != len(batch) {
		return fmt.Errorf("store deliveries: %d ids for %d deliveries: %v", len(ids), len(batch), err)
	}
	slices.Sort(ids)
	for k, p := range batch {
		p.d.ID = ids[k]
	}
	return nil
}

const deliveryColumnNames = `feed_id, token_id, received_at, code, outcome, shape, content_type, sid, search_name,
	results_link, body, body_bytes, body_truncated, rows_total, accepted, replaced, duplicates, rejected, from_receipt,
	outside_window, error, rejections`

const insertDeliveries = `INSERT INTO deliveries (id, ` + deliveryColumnNames + `)
	SELECT nextval('deliveries_id_seq'), ` + deliveryColumnNames + `
	FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::bytea[], $12::int[], $13::bool[], $14::int[], $15::int[], $16::int[],
		$17::int[], $18::int[], $19::int[], $20::int[], $21::text[], $22::text[])
		WITH ORDINALITY AS d (` + deliveryColumnNames + `, i)
	ORDER BY i RETURNING id`

// deliveryColumns are a batch's deliveries, a column each.
type deliveryColumns struct {
	feed                                                                          []int64
	token                                                                         []*int64
	received                                                                      []time.Time
	code, outcome, shape, contentType, sid, searchName, resultsLink, errText, rej []string
	body                                                                          [][]byte
	bodyBytes, rowsTotal, accepted, replaced, duplicates, rejected, fromReceipt   []int32
	outside                                                                       []int32
	truncated                                                                     []bool
}

func (c *deliveryColumns) add(d *models.Delivery) {
	body := d.Body
	if body == nil {
		body = []byte{} // the column is NOT NULL
	}
	c.feed, c.token = append(c.feed, d.FeedID), append(c.token, d.TokenID)
	c.received = append(c.received, d.ReceivedAt)
	c.code, c.outcome, c.shape = append(c.code, d.Code), append(c.outcome, d.Outcome), append(c.shape, d.Shape)
	c.contentType, c.sid, c.searchName = append(c.contentType, d.ContentType), append(c.sid, d.SID), append(c.searchName, d.SearchName)
	c.resultsLink, c.body = append(c.resultsLink, d.ResultsLink), append(c.body, body)
	c.bodyBytes, c.truncated = append(c.bodyBytes, int32(d.BodyBytes)), append(c.truncated, d.BodyTruncated)
	c.rowsTotal, c.accepted, c.replaced = append(c.rowsTotal, int32(d.RowsTotal)), append(c.accepted, int32(d.Accepted)), append(c.replaced, int32(d.Replaced))
	c.duplicates, c.rejected = append(c.duplicates, int32(d.Duplicates)), append(c.rejected, int32(d.Rejected))
	c.fromReceipt, c.outside = append(c.fromReceipt, int32(d.FromReceipt)), append(c.outside, int32(d.OutsideWindow))
	rej := d.Rejections
	if rej == "" {
		rej = "[]"
	}
	c.errText, c.rej = append(c.errText, d.Error), append(c.rej, rej)
}

func (c *deliveryColumns) args() []any {
	return []any{c.feed, c.token, c.received, c.code, c.outcome, c.shape, c.contentType, c.sid, c.searchName,
		c.resultsLink, c.body, c.bodyBytes, c.truncated, c.rowsTotal, c.accepted, c.replaced, c.duplicates, c.rejected,
		c.fromReceipt, c.outside, c.errText, c.rej}
}

// addRollupsPostgres adds deltas to roll-up rows, creating them at zero.
func addRollupsPostgres(ctx context.Context, tx *sql.Tx, table, col string, rows []rollupDelta) error {
	if len(rows) == 0 {
		return nil
	}
	slo, gen, at := make([]int64, len(rows)), make([]int32, len(rows)), make([]int64, len(rows))
	bad, total, excluded := make([]float64, len(rows)), make([]float64, len(rows)), make([]int32, len(rows))
	for i, d := range rows {
		slo[i], gen[i], at[i], bad[i], total[i], excluded[i] = d.slo, int32(d.gen), d.at, d.Bad, d.Total, int32(d.Excluded)
	}
	q := fmt.Sprintf(`INSERT INTO %[1]s (slo_id, generation, %[2]s, bad, total, excluded)
		SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::float8[], $5::float8[], $6::int[])
		ON CONFLICT (slo_id, generation, %[2]s) DO UPDATE SET bad = %[1]s.bad + EXCLUDED.bad,
			total = %[1]s.total + EXCLUDED.total, excluded = %[1]s.excluded + EXCLUDED.excluded`, table, col)
	if _, err := tx.ExecContext(ctx, q, slo, gen, at, bad, total, excluded); err != nil {
		return fmt.Errorf("update %s: %w", table, err)
	}
	return nil
}

func (postgresDialect) setRollups(ctx context.Context, tx *sql.Tx, hours, days map[rollupKey]rollupRow) error {
	for _, r := range []struct {
		table, col string
		rows       map[rollupKey]rollupRow
	}{{"slo_hours", "hour", hours}, {"slo_days", "day", days}} {
		if len(r.rows) == 0 {
			continue
		}
		var slo, at []int64
		var gen, excluded []int32
		var bad, total []float64
		for k, v := range r.rows {
			slo, gen, at = append(slo, k.slo), append(gen, int32(k.gen)), append(at, k.at)
			bad, total, excluded = append(bad, v.bad), append(total, v.total), append(excluded, int32(v.excluded))
		}
		q := fmt.Sprintf(`INSERT INTO %[1]s (slo_id, generation, %[2]s, bad, total, excluded)
			SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::float8[], $5::float8[], $6::int[])
			ON CONFLICT (slo_id, generation, %[2]s) DO UPDATE SET bad = EXCLUDED.bad, total = EXCLUDED.total, excluded = EXCLUDED.excluded`,
			r.table, r.col)
		if _, err := tx.ExecContext(ctx, q, slo, gen, at, bad, total, excluded); err != nil {
			return fmt.Errorf("set %s: %w", r.table, err)
		}
	}
	return nil
}
