package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
	"gorm.io/gorm"
)

// pendingDelivery is a delivery waiting for its share of a group commit.
type pendingDelivery struct {
	ctx     context.Context
	d       *models.Delivery
	rows    []splunk.Row
	set     bindingSet
	points  []derived
	version int64 // the feed's bindings version when the delivery committed
	err     error
}

// errNotWritten is what a delivery reports if its batch ended without word.
var errNotWritten = errors.New("ingest delivery: the batch write ended without a result")

// Small deliveries arriving together share a statement and a commit, one
// statement in flight at a time: measured on two cores, one writer gathering
// what arrives meanwhile beats two writers with half the batch. Deliveries
// of more than aloneRows rows already amortise their commit; they are written
// at once, on their own, so they never hold small ones up.
const (
	commitWriters = 1
	commitRows    = 1000
	aloneRows     = 100
	commitTimeout = 30 * time.Second
)

func newIngestCommitter(s *Store) *groupCommit[*pendingDelivery] {
	return newGroupCommit(commitWriters, commitRows,
		func(p *pendingDelivery) int { return len(p.rows) },
		func(batch []*pendingDelivery) { s.writeDeliveries(batch) })
}

// ingestPostgres stores a delivery, its new samples and their SLO points.
// Small deliveries posted at the same time are written together (see
// groupCommit); each returns only after the commit that stored it.
func (s *Store) ingestPostgres(ctx context.Context, d *models.Delivery, rows []splunk.Row, set bindingSet) error {
	p := &pendingDelivery{ctx: ctx, d: d, rows: rows, set: set, points: set.derive(rows), err: errNotWritten}
	if len(rows) > aloneRows {
		s.writeDeliveries([]*pendingDelivery{p})
	} else {
		s.commits.do(p)
	}
	if p.err != nil {
		return p.err
	}
	if p.version != set.version && d.Accepted > 0 {
		return s.deriveStale(ctx, d)
	}
	if d.Accepted > 0 {
		s.touched(ctx, latestOf(p.points))
	}
	if p.version != set.version {
		s.bindings.drop(d.FeedID)
	}
	return nil
}

// writeDeliveries writes a batch in one statement. If that fails for a
// reason other than the database being out of reach, each delivery is
// tried alone, so one delivery's error is not another's.
func (s *Store) writeDeliveries(batch []*pendingDelivery) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), commitTimeout)
	defer cancel()
	err := s.insertDeliveries(ctx, batch)
	if err == nil {
		return
	}
	if len(batch) == 1 || IsUnavailable(err) {
		for _, p := range batch {
			p.err = err
		}
		return
	}
	for _, p := range batch {
		p.err = s.insertDeliveries(ctx, []*pendingDelivery{p})
	}
}

// insertDeliveries stores deliveries with one statement, so a batch costs
// one round trip and one commit. Deliveries, rows and points travel as
// arrays, so the statement's text is the same whatever the batch (prepared
// once per connection). Each delivery takes an id from the sequence; samples
// are inserted skipping known rows; points are written only if the feed's
// bindings are still the version they were derived from; and each delivery
// row records how many of its rows were new.
func (s *Store) insertDeliveries(ctx context.Context, batch []*pendingDelivery) error {
	var dv deliveryArrays
	var rv rowArrays
	var pv pointArrays
	for k, p := range batch {
		dv.add(p)
		rv.add(k+1, p.rows)
		pv.add(k+1, p.points)
	}
	args := append(append(dv.args(), rv.args()...), pv.args()...)
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	res, err := sqlDB.QueryContext(ctx, insertDeliveriesSQL, args...)
	if err != nil {
		return fmt.Errorf("ingest delivery: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var k int
		var id int64
		var accepted int
		var version int64
		if err := res.Scan(&k, &id, &accepted, &version); err != nil {
			return fmt.Errorf("ingest delivery: %w", err)
		}
		p := batch[k-1]
		valid := p.d.RowsTotal - p.d.Rejected
		p.d.ID, p.d.Accepted, p.d.Duplicates, p.version, p.err = id, accepted, valid-accepted, version, nil
		p.d.Settle()
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("ingest delivery: %w", err)
	}
	return nil
}

// insertDeliveriesSQL: $1–$19 deliveries, $20–$24 rows, $25–$31 points; k is
// a delivery's place in the batch, from 1.
const insertDeliveriesSQL = `WITH dv AS MATERIALIZED (
	SELECT dv.*, nextval('deliveries_id_seq') AS id
	FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::text[], $11::bytea[], $12::int[], $13::bool[], $14::int[], $15::int[], $16::int[], $17::text[],
		$18::text[], $19::bigint[])
	WITH ORDINALITY AS dv (feed_id, token_id, received_at, code, outcome, shape, content_type, sid, search_name,
		results_link, body, body_bytes, body_truncated, rows_total, valid, rejected, error, rejections, bindings_version, k)),
rv AS (SELECT * FROM unnest($20::int[], $21::text[], $22::timestamptz[], $23::text[], $24::bytea[]) AS rv (k, series, ts, fields, row_hash)),
s AS (INSERT INTO samples (feed_id, series, ts, fields, delivery_id, sid, row_hash)
	SELECT dv.feed_id, rv.series, rv.ts, rv.fields, dv.id, dv.sid, rv.row_hash FROM rv JOIN dv ON dv.k = rv.k
	ON CONFLICT (feed_id, row_hash) DO NOTHING RETURNING id, delivery_id, row_hash),
pv AS (SELECT * FROM unnest($25::int[], $26::bytea[], $27::bigint[], $28::int[], $29::timestamptz[], $30::float8[], $31::float8[])
	AS pv (k, row_hash, slo_id, generation, ts, good, total)),
p AS (INSERT INTO slo_points (slo_id, generation, sample_id, ts, good, total)
	SELECT pv.slo_id, pv.generation, s.id, pv.ts, pv.good, pv.total
	FROM pv JOIN dv ON dv.k = pv.k JOIN s ON s.delivery_id = dv.id AND s.row_hash = pv.row_hash
		JOIN feeds f ON f.id = dv.feed_id AND f.bindings_version = dv.bindings_version
	ON CONFLICT DO NOTHING),
n AS (SELECT dv.k, count(s.id)::int AS accepted FROM dv LEFT JOIN s ON s.delivery_id = dv.id GROUP BY dv.k),
ins AS (INSERT INTO deliveries (id, feed_id, token_id, received_at, code, outcome, shape, content_type, sid,
		search_name, results_link, body, body_bytes, body_truncated, rows_total, accepted, duplicates, rejected, error, rejections)
	SELECT dv.id, dv.feed_id, dv.token_id, dv.received_at, dv.code,
		CASE WHEN n.accepted = 0 AND dv.valid > 0 AND dv.outcome = '` + models.OutcomeAccepted + `' THEN '` + models.OutcomeDuplicate + `' ELSE dv.outcome END,
		dv.shape, dv.content_type, dv.sid, dv.search_name, dv.results_link, dv.body, dv.body_bytes, dv.body_truncated,
		dv.rows_total, n.accepted, dv.valid - n.accepted, dv.rejected, dv.error, dv.rejections
	FROM dv JOIN n ON n.k = dv.k)
SELECT dv.k, dv.id, n.accepted, f.bindings_version FROM dv JOIN n ON n.k = dv.k JOIN feeds f ON f.id = dv.feed_id`

// deliveryArrays are a batch's deliveries, a column each. The outcome and
// code are those if every row is new; a delivery of duplicates only is
// told apart in SQL.
type deliveryArrays struct {
	feed, bindings                                                                      []int64
	token                                                                               []*int64
	received                                                                            []time.Time
	bodyBytes, rowsTotal, valid, rejected                                               []int32
	code, outcome, shape, contentType, sid, searchName, resultsLink, errText, rejection []string
	body                                                                                [][]byte
	truncated                                                                           []bool
}

func (a *deliveryArrays) add(p *pendingDelivery) {
	d := p.d
	d.Accepted, d.Duplicates = d.RowsTotal-d.Rejected, 0
	d.Settle()
	a.feed = append(a.feed, d.FeedID)
	a.token = append(a.token, d.TokenID)
	a.received = append(a.received, d.ReceivedAt)
	a.code = append(a.code, d.Code)
	a.outcome = append(a.outcome, d.Outcome)
	a.shape = append(a.shape, d.Shape)
	a.contentType = append(a.contentType, d.ContentType)
	a.sid = append(a.sid, d.SID)
	a.searchName = append(a.searchName, d.SearchName)
	a.resultsLink = append(a.resultsLink, d.ResultsLink)
	body := d.Body
	if body == nil {
		body = []byte{} // the column is NOT NULL
	}
	a.body = append(a.body, body)
	a.bodyBytes = append(a.bodyBytes, int32(d.BodyBytes))
	a.truncated = append(a.truncated, d.BodyTruncated)
	a.rowsTotal = append(a.rowsTotal, int32(d.RowsTotal))
	a.valid = append(a.valid, int32(d.RowsTotal-d.Rejected))
	a.rejected = append(a.rejected, int32(d.Rejected))
	a.errText = append(a.errText, d.Error)
	a.rejection = append(a.rejection, d.Rejections)
	a.bindings = append(a.bindings, p.set.version)
}

func (a *deliveryArrays) args() []any {
	return []any{a.feed, a.token, a.received, a.code, a.outcome, a.shape, a.contentType, a.sid, a.searchName,
		a.resultsLink, a.body, a.bodyBytes, a.truncated, a.rowsTotal, a.valid, a.rejected, a.errText, a.rejection, a.bindings}
}

// rowArrays are a batch's rows, with the place of their delivery.
type rowArrays struct {
	k              []int32
	series, fields []string
	ts             []time.Time
	hash           [][]byte
}

func (a *rowArrays) add(k int, rows []splunk.Row) {
	for _, r := range rows {
		a.k = append(a.k, int32(k))
		a.series = append(a.series, r.Series)
		a.ts = append(a.ts, r.Time)
		a.fields = append(a.fields, fieldsJSON(r.Fields))
		a.hash = append(a.hash, r.Hash)
	}
}

func (a *rowArrays) args() []any { return []any{a.k, a.series, a.ts, a.fields, a.hash} }

// pointArrays are a batch's SLO points, with the place of their delivery.
type pointArrays struct {
	k, gen      []int32
	hash        [][]byte
	slo         []int64
	ts          []time.Time
	good, total []float64
}

func (a *pointArrays) add(k int, points []derived) {
	for _, p := range points {
		a.k = append(a.k, int32(k))
		a.hash = append(a.hash, p.rowHash)
		a.slo = append(a.slo, p.sloID)
		a.gen = append(a.gen, int32(p.generation))
		a.ts = append(a.ts, p.ts)
		a.good = append(a.good, p.good)
		a.total = append(a.total, p.total)
	}
}

func (a *pointArrays) args() []any {
	return []any{a.k, a.hash, a.slo, a.gen, a.ts, a.good, a.total}
}

// deriveStale derives the points of a delivery's samples with freshly loaded
// bindings, after ingest found this replica's copy out of date.
func (s *Store) deriveStale(ctx context.Context, d *models.Delivery) error {
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
		rows := make([]splunk.Row, 0, len(samples))
		ids := make(map[string]int64, len(samples))
		for _, smp := range samples {
			r := splunk.Row{Series: smp.Series, Time: smp.TS.UTC(), Hash: smp.RowHash}
			if json.Unmarshal([]byte(smp.Fields), &r.Fields) == nil {
				rows = append(rows, r)
				ids[string(smp.RowHash)] = smp.ID
			}
		}
		latest, err = insertPoints(tx, set.derive(rows), ids)
		return err
	})
}
