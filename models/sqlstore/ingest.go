package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
	"gorm.io/gorm"
)

// NewDelivery fills a delivery record from a parsed body; the caller sets
// the feed, token, receipt time and raw body.
func NewDelivery(b splunk.Body) models.Delivery {
	rej, _ := json.Marshal(b.Rejected)
	if b.Rejected == nil {
		rej = []byte("[]")
	}
	return models.Delivery{
		Shape: b.Shape, SID: b.SID, SearchName: b.SearchName, ResultsLink: b.ResultsLink,
		RowsTotal: len(b.Rows) + len(b.Rejected), Rejected: len(b.Rejected), Rejections: string(rej),
	}
}

const insertChunk = 400

// ingest stores a delivery, its accepted rows and the SLO points they make,
// atomically, skipping rows stored before (same sid and content). It returns
// only after commit.
func (s *Store) ingest(ctx context.Context, d *models.Delivery, rows []splunk.Row, set bindingSet) (models.IngestResult, error) {
	rows = uniqueRows(rows)
	var err error
	if s.dialect == migrations.Postgres {
		err = s.ingestPostgres(ctx, d, rows, set)
	} else {
		err = s.ingestTx(ctx, d, rows)
	}
	if err != nil {
		return models.IngestResult{}, err
	}
	return models.IngestResult{DeliveryID: d.ID, Accepted: d.Accepted, Duplicates: d.Duplicates,
		Rejected: d.RejectionList(), Outcome: d.Outcome}, nil
}

// uniqueRows drops rows repeated within one delivery; they count as duplicates.
func uniqueRows(rows []splunk.Row) []splunk.Row {
	seen := make(map[string]bool, len(rows))
	out := rows[:0:0]
	for _, r := range rows {
		if !seen[string(r.Hash)] {
			seen[string(r.Hash)] = true
			out = append(out, r)
		}
	}
	return out
}

// ingestTx is the portable path: one transaction, a few statements. The
// bindings are read inside it, so they cannot be stale.
func (s *Store) ingestTx(ctx context.Context, d *models.Delivery, rows []splunk.Row) error {
	valid := d.RowsTotal - d.Rejected
	var latest map[int64]time.Time
	defer func() { s.touched(ctx, latest) }()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		d.Accepted, d.Duplicates = 0, 0
		d.Settle() // provisional; rewritten below once duplicates are known
		if err := tx.Omit("id").Create(d).Error; err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
		inserted, err := s.insertSamples(tx, d, rows)
		if err != nil {
			return err
		}
		set, err := loadBindings(tx, d.FeedID)
		if err != nil {
			return err
		}
		if latest, err = insertPoints(tx, set.derive(rows), inserted); err != nil {
			return err
		}
		d.Accepted, d.Duplicates = len(inserted), valid-len(inserted)
		d.Settle()
		if err := tx.Model(&models.Delivery{}).Where("id = ?", d.ID).Updates(map[string]any{
			"accepted": d.Accepted, "duplicates": d.Duplicates, "outcome": d.Outcome,
		}).Error; err != nil {
			return fmt.Errorf("settle delivery: %w", err)
		}
		return nil
	})
}

// insertSamples inserts rows not seen before and returns the ids of those it
// inserted, by row hash.
func (s *Store) insertSamples(tx *gorm.DB, d *models.Delivery, rows []splunk.Row) (map[string]int64, error) {
	inserted := map[string]int64{}
	for start := 0; start < len(rows); start += insertChunk {
		chunk := rows[start:min(start+insertChunk, len(rows))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO samples (feed_id, series, ts, fields, delivery_id, sid, row_hash) VALUES ")
		args := make([]any, 0, len(chunk)*7)
		for i, r := range chunk {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?)")
			args = append(args, d.FeedID, r.Series, r.Time, fieldsJSON(r.Fields), d.ID, d.SID, r.Hash)
		}
		sb.WriteString(" ON CONFLICT (feed_id, row_hash) DO NOTHING RETURNING id, row_hash")
		var fresh []struct {
			ID      int64
			RowHash []byte
		}
		if err := tx.Raw(sb.String(), args...).Scan(&fresh).Error; err != nil {
			return nil, fmt.Errorf("insert samples: %w", err)
		}
		for _, f := range fresh {
			inserted[string(f.RowHash)] = f.ID
		}
	}
	return inserted, nil
}

func fieldsJSON(f map[string]float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// RecordDelivery stores a delivery that stored no rows (refused, or spooled).
func (s *Store) RecordDelivery(ctx context.Context, d *models.Delivery) error {
	if d.Rejections == "" {
		d.Rejections = "[]"
	}
	if err := s.db.WithContext(ctx).Omit("id").Create(d).Error; err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// Deliveries lists a feed's deliveries, newest first, bodies included.
func (s *Store) Deliveries(ctx context.Context, feedID int64, q models.DeliveryQuery) ([]models.Delivery, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	db := s.db.WithContext(ctx).Where("feed_id = ?", feedID)
	if q.BeforeID > 0 {
		db = db.Where("id < ?", q.BeforeID)
	}
	if q.Outcome != "" {
		db = db.Where("outcome = ?", q.Outcome)
	}
	var out []models.Delivery
	if err := db.Order("id DESC").Limit(q.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list deliveries of feed %d: %w", feedID, err)
	}
	return out, nil
}

// Samples lists a feed's samples in time order.
func (s *Store) Samples(ctx context.Context, feedID int64, q models.SampleQuery) ([]models.Sample, error) {
	if q.Limit <= 0 || q.Limit > 5000 {
		q.Limit = 1000
	}
	db := s.db.WithContext(ctx).Table("samples AS s").
		Select("s.id, s.ts, s.series, s.fields, s.sid, s.delivery_id, COALESCE(d.results_link, '') AS results_link").
		Joins("LEFT JOIN deliveries d ON d.id = s.delivery_id").
		Where("s.feed_id = ?", feedID)
	if q.Series != nil {
		db = db.Where("s.series = ?", *q.Series)
	}
	if !q.From.IsZero() {
		db = db.Where("s.ts >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		db = db.Where("s.ts < ?", q.To.UTC())
	}
	if q.AfterID > 0 {
		var after struct{ TS time.Time }
		if err := s.db.WithContext(ctx).Raw("SELECT ts FROM samples WHERE id = ? AND feed_id = ?", q.AfterID, feedID).Scan(&after).Error; err != nil {
			return nil, fmt.Errorf("read cursor: %w", err)
		}
		db = db.Where("(s.ts > ? OR (s.ts = ? AND s.id > ?))", after.TS, after.TS, q.AfterID)
	}
	var rows []struct {
		ID          int64
		TS          time.Time
		Series      string
		Fields      string
		SID         string `gorm:"column:sid"`
		DeliveryID  *int64
		ResultsLink string
	}
	order := "s.ts, s.id"
	if q.Newest {
		order = "s.ts DESC, s.id DESC"
	}
	if err := db.Order(order).Limit(q.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list samples of feed %d: %w", feedID, err)
	}
	out := make([]models.Sample, len(rows))
	for i, r := range rows {
		out[i] = models.Sample{ID: r.ID, Time: r.TS.UTC(), Series: r.Series, SID: r.SID, ResultsLink: r.ResultsLink, DeliveryID: r.DeliveryID}
		_ = json.Unmarshal([]byte(r.Fields), &out[i].Fields)
	}
	return out, nil
}

// IngestBody parses a webhook body for a feed and stores it: the rows it can,
// and the delivery record whatever happens. A body-level refusal is stored
// and returned as an *Error (EINVALID or ETOOLARGE).
func (s *Store) IngestBody(ctx context.Context, feed models.Feed, tokenID int64, body []byte, contentType string,
	receivedAt time.Time, opt models.IngestOptions) (models.IngestResult, error) {
	set, err := s.feedBindings(ctx, feed.ID)
	if err != nil {
		return models.IngestResult{}, err
	}
	parsed, perr := splunk.Parse(body, contentType, splunk.Options{
		TimeField: feed.TimeField, SeriesField: feed.SeriesField, NumericFields: set.numericFields(),
		ReceivedAt: receivedAt, MaxRows: opt.MaxRows,
	})
	if perr == nil {
		set.checkRows(&parsed)
	}
	d := NewDelivery(parsed)
	d.FeedID, d.ReceivedAt, d.ContentType = feed.ID, receivedAt.UTC(), models.Truncate(contentType, 100)
	if tokenID != 0 {
		d.TokenID = &tokenID
	}
	d.Body, d.BodyBytes = body, len(body)
	if perr != nil {
		d.Outcome, d.Code, d.Error = models.OutcomeRefused, models.ErrorCode(perr), models.ErrorMessage(perr)
		d.KeepAtMost(opt.MaxRawBytes)
		if err := s.RecordDelivery(ctx, &d); err != nil {
			// The refusal is still the answer; losing its log entry is the lesser harm.
			s.log.ErrorContext(ctx, "could not record a refused delivery", "feed_id", feed.ID, "err", err)
		}
		return models.IngestResult{DeliveryID: d.ID, Rejected: []models.Rejection{}, Outcome: d.Outcome}, perr
	}
	return s.ingest(ctx, &d, parsed.Rows, set)
}

// RecordRefusal keeps a delivery refused before its body could be read (over the size limit).
func (s *Store) RecordRefusal(ctx context.Context, feed models.Feed, tokenID int64, head []byte, size int, contentType string,
	receivedAt time.Time, refusal error, maxRaw int) error {
	d := models.Delivery{FeedID: feed.ID, ReceivedAt: receivedAt.UTC(), ContentType: models.Truncate(contentType, 100),
		Body: head, BodyBytes: size, Outcome: models.OutcomeRefused, Code: models.ErrorCode(refusal), Error: models.ErrorMessage(refusal)}
	if tokenID != 0 {
		d.TokenID = &tokenID
	}
	d.KeepAtMost(maxRaw)
	d.BodyTruncated = d.BodyTruncated || len(head) < size
	return s.RecordDelivery(ctx, &d)
}

// PruneDeliveries deletes delivery records received before the cut-off; the
// samples they brought stay.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("received_at < ?", before.UTC()).Delete(&models.Delivery{})
	if res.Error != nil {
		return 0, fmt.Errorf("prune deliveries: %w", res.Error)
	}
	return res.RowsAffected, nil
}
