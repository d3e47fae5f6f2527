package sqlstore

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
)

// WriteTogether parses each body for its feed and writes them all as one
// group-commit batch on PostgreSQL, as deliveries arriving at once are, then
// returns each delivery (with its id and counts) and its error.
func WriteTogether(s *Store, feeds []models.Feed, bodies []string) ([]models.Delivery, []error) {
	ctx := context.Background()
	batch := make([]*pendingDelivery, len(bodies))
	for i, body := range bodies {
		set, _ := loadBindings(s.db.WithContext(ctx), feeds[i].ID)
		parsed, err := splunk.Parse([]byte(body), "application/json", splunk.Options{TimeField: feeds[i].TimeField,
			SeriesField: feeds[i].SeriesField, ReceivedAt: time.Now(), MaxRows: 1000})
		if err != nil {
			panic(err)
		}
		d := NewDelivery(parsed)
		d.FeedID, d.ReceivedAt, d.Body, d.BodyBytes = feeds[i].ID, time.Now().UTC(), []byte(body), len(body)
		batch[i] = &pendingDelivery{ctx: ctx, d: &d, rows: parsed.Rows, feed: feeds[i], set: set}
	}
	s.writeDeliveries(batch)
	ds, errs := make([]models.Delivery, len(batch)), make([]error, len(batch))
	for i, p := range batch {
		ds[i], errs[i] = *p.d, p.err
	}
	return ds, errs
}

// Attach creates and attaches one partition, as the retention pass does.
func Attach(ctx context.Context, s *Store, parent, def, name, col string, lo, hi any) error {
	return s.attach(ctx, parent, def, name, col, lo, hi)
}

// QueueRaw puts raw bytes in the roll-up queue, as a change no fold can read.
func QueueRaw(s *Store, raw []byte) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	_, err = sqlDB.Exec(s.rebind("INSERT INTO rollup_queue (changes) VALUES (?)"), raw) // GORM would send bytes as a row
	return err
}

// EvaluateTogether computes SLOs' numbers as one batch, as the read model does, and
// returns each SLO's evaluation and sparkline by id (the SLOs that exist).
func EvaluateTogether(s *Store, ids []int64) (map[int64]models.Evaluation, map[int64][]models.BudgetPoint, error) {
	evs, err := s.evaluate(context.Background(), ids)
	if err != nil {
		return nil, nil, err
	}
	evals, sparks := map[int64]models.Evaluation{}, map[int64][]models.BudgetPoint{}
	for id, ev := range evs {
		evals[id], sparks[id] = ev.sum.Eval, ev.sum.Sparkline
	}
	return evals, sparks, nil
}

// CachedSeries is the keys of a feed's series this replica's series cache holds, sorted.
func CachedSeries(s *Store, feedID int64) []string {
	s.series.mu.Lock()
	defer s.series.mu.Unlock()
	var out []string
	for k := range s.series.m {
		if k.feed == feedID {
			out = append(out, k.key)
		}
	}
	slices.Sort(out)
	return out
}

// DetailsOf fills in what SLOs refer to, as a poll does, whether they exist or not.
func DetailsOf(s *Store, slos []models.SLO) ([]models.SLODetail, error) {
	return s.details(s.db, slos)
}

// SummariesOf returns the ids of the SLOs, among ids, whose numbers are stored.
func SummariesOf(s *Store, ids []int64) ([]int64, error) {
	sums, err := s.readSummaries(context.Background(), ids)
	return slices.Sorted(maps.Keys(sums)), err
}

// FoldOwn folds what deliveries to this replica queued, as a read here does first.
func FoldOwn(s *Store) { s.foldOwn(context.Background()) }

// ComputeGap, StreamGap and StreamChanges are the read model's pacing of computations.
const ComputeGap, StreamGap, StreamChanges = computeGap, streamGap, streamChanges
