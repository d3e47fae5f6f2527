package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
)

// RunDeriver derives SLO histories after a binding changes (or an SLO is created),
// until ctx ends. Every replica may run it: the work is idempotent.
func (s *Store) RunDeriver(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if err := s.DeriveAll(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("re-derivation paused", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Store) wakeDeriver() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// DeriveAll finishes every pending derivation.
func (s *Store) DeriveAll(ctx context.Context) error {
	var pending []models.SLO
	if err := s.db.WithContext(ctx).Where("pending_generation IS NOT NULL").Find(&pending).Error; err != nil {
		return fmt.Errorf("find pending derivations: %w", err)
	}
	for _, slo := range pending {
		if err := s.rederive(ctx, slo.ID, *slo.PendingGeneration); err != nil {
			return fmt.Errorf("derive SLO %d: %w", slo.ID, err)
		}
	}
	return nil
}

// deriveSpan is how much history one derivation step reads: whole UTC days, so every
// hour and day roll-up it writes is complete.
const deriveSpan = 7 * daySeconds

// rederive computes a generation's roll-ups from the stored samples, a week at a time,
// then makes it the active one. Each step holds the series lock, as ingest does, so a
// delivery lands either before the step (and is read by it) or after (and adds its
// difference to what the step wrote). Samples the binding refuses are counted as
// excluded, as ingest would have rejected them.
func (s *Store) rederive(ctx context.Context, sloID int64, gen int) error {
	db := s.db.WithContext(ctx)
	var b models.Binding
	if err := db.Where("slo_id = ? AND generation = ?", sloID, gen).First(&b).Error; err != nil {
		return notFound(err, "binding %d/%d", sloID, gen)
	}
	start := time.Now()
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	seriesID, err := s.seriesOf(ctx, b.FeedID, b.Series)
	if err != nil {
		return err
	}
	done := 0
	next := int64(-1 << 62)
	for seriesID != 0 {
		var first sql.NullInt64
		if err := sqlDB.QueryRowContext(ctx, s.rebind("SELECT MIN(bucket) FROM samples WHERE series_id = ? AND bucket >= ?"), seriesID, next).Scan(&first); err != nil {
			return fmt.Errorf("find samples to derive: %w", err)
		}
		if !first.Valid {
			break
		}
		from := floorTo(first.Int64, daySeconds)
		to := from + deriveSpan
		n, err := s.deriveSpan(ctx, sqlDB, b, seriesID, from, to)
		if err != nil {
			return err
		}
		done += n
		next = to
		res := db.Exec("UPDATE slos SET rederive_done = ? WHERE id = ? AND pending_generation = ?", done, sloID, gen)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // superseded by a newer change, or deleted
		}
	}
	swapped := false
	err = s.inSeriesTx(ctx, sqlDB, b, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind("UPDATE slos SET generation = ?, pending_generation = NULL, rederive_done = rederive_total WHERE id = ? AND pending_generation = ?"), gen, sloID, gen)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		swapped = true
		for _, q := range []string{
			"DELETE FROM slo_hours WHERE slo_id = ? AND generation < ?",
			"DELETE FROM slo_days WHERE slo_id = ? AND generation < ?",
			"DELETE FROM slo_bindings WHERE slo_id = ? AND generation < ?",
		} {
			if _, err := tx.ExecContext(ctx, s.rebind(q), sloID, gen); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind("UPDATE feeds SET bindings_version = bindings_version + 1 WHERE id = ?"), b.FeedID); err != nil {
			return err
		}
		return s.bumpSettings(ctx, tx, []int64{sloID})
	})
	if err != nil || !swapped {
		return err
	}
	s.bindings.drop(b.FeedID)
	s.touched([]int64{sloID})
	s.log.Info("SLO history derived", "slo_id", sloID, "generation", gen, "samples", done, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// deriveSpan sets the roll-ups of buckets [from, to) of one generation from the samples.
func (s *Store) deriveSpan(ctx context.Context, sqlDB *sql.DB, b models.Binding, seriesID, from, to int64) (int, error) {
	n := 0
	err := s.inSeriesTx(ctx, sqlDB, b, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.rebind("SELECT bucket, fields FROM samples WHERE series_id = ? AND bucket >= ? AND bucket < ?"), seriesID, from, to)
		if err != nil {
			return fmt.Errorf("read samples: %w", err)
		}
		hours, days := map[rollupKey]rollupRow{}, map[rollupKey]rollupRow{}
		for rows.Next() {
			var bucket int64
			var raw string
			if err := rows.Scan(&bucket, &raw); err != nil {
				rows.Close()
				return err
			}
			f, err := s.decodeFields(ctx, raw)
			if err != nil {
				rows.Close()
				return fmt.Errorf("sample %d@%d: %w", seriesID, bucket, err)
			}
			n++
			p := pointOf(b, f)
			for _, k := range []struct {
				m   map[rollupKey]rollupRow
				key rollupKey
			}{{hours, rollupKey{b.SLOID, b.Generation, floorTo(bucket, hourSeconds)}}, {days, rollupKey{b.SLOID, b.Generation, floorTo(bucket, daySeconds)}}} {
				r := k.m[k.key]
				r.bad, r.total, r.excluded = r.bad+p.Bad, r.total+p.Total, r.excluded+p.Excluded
				k.m[k.key] = r
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Roll-up rows of the span that no sample fills any more are emptied.
		for _, q := range []string{
			"DELETE FROM slo_hours WHERE slo_id = ? AND generation = ? AND hour >= ? AND hour < ?",
			"DELETE FROM slo_days WHERE slo_id = ? AND generation = ? AND day >= ? AND day < ?",
		} {
			if _, err := tx.ExecContext(ctx, s.rebind(q), b.SLOID, b.Generation, from, to); err != nil {
				return err
			}
		}
		return s.sql.setRollups(ctx, tx, hours, days)
	})
	return n, err
}

// inSeriesTx runs f in a transaction that holds the lock of the binding's series as
// ingest takes it (locks.go), whether or not the series was ever received, after
// folding in the roll-up changes queued so far (fold.go): f may set roll-ups from the
// samples, which already count them.
func (s *Store) inSeriesTx(ctx context.Context, sqlDB *sql.DB, b models.Binding, f func(*sql.Tx) error) error {
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := s.sql.lock(ctx, tx, []int64{seriesLock(b.FeedID, b.Series)}, false, nil); err != nil {
		_ = tx.Rollback()
		return err
	}
	folded, err := s.foldIn(ctx, tx, nil)
	if err == nil {
		err = f(tx)
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.touchedBy(folded)
	return nil
}

// seriesOf is the id of a feed's series key, 0 when nothing was ever received for it.
func (s *Store) seriesOf(ctx context.Context, feedID int64, key string) (int64, error) {
	var id int64
	err := s.db.WithContext(ctx).Raw("SELECT id FROM series WHERE feed_id = ? AND key = ?", feedID, key).Row().Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find series %q of feed %d: %w", key, feedID, err)
	}
	return id, nil
}

// bumpSettings gives SLOs a new version as a change of settings (bumpState), inside tx.
func (s *Store) bumpSettings(ctx context.Context, tx *sql.Tx, slos []int64) error {
	if s.dialect == migrations.Postgres {
		if _, err := tx.ExecContext(ctx, "UPDATE slo_state SET version = nextval('slo_version_seq') WHERE slo_id = ANY($1)", slos); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, settingsBumped+" = ANY($1)", slos)
		return err
	}
	if err := bumpSQLite(ctx, tx, slos); err != nil {
		return err
	}
	for _, id := range slos {
		if _, err := tx.ExecContext(ctx, settingsBumped+" = ?", id); err != nil {
			return err
		}
	}
	return nil
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Store) rebind(q string) string {
	if s.dialect != migrations.Postgres {
		return q
	}
	out := make([]byte, 0, len(q)+8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// dropGeneration removes a derivation that a newer change superseded.
func dropGeneration(tx *gorm.DB, sloID int64, gen int) error {
	for _, q := range []string{
		"DELETE FROM slo_hours WHERE slo_id = ? AND generation = ?",
		"DELETE FROM slo_days WHERE slo_id = ? AND generation = ?",
		"DELETE FROM slo_bindings WHERE slo_id = ? AND generation = ?",
	} {
		if err := tx.Exec(q, sloID, gen).Error; err != nil {
			return err
		}
	}
	return nil
}
