package sqlstore

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
)

// Retention says how long data is kept.
type Retention struct {
	// Samples is how long buckets are kept (a feed may keep its own for less). SLO
	// windows read samples at their edges, so keep them longer than the longest window.
	Samples time.Duration
	// Rollups is how long hour and day roll-ups are kept: monthly reports read them.
	Rollups time.Duration
	// Deliveries is how long the raw delivery log is kept.
	Deliveries time.Duration
}

// rollupRetainChunk is how many SLOs' roll-ups one statement of the retention pass
// looks through: few statements at 10,000 SLOs (one per SLO made 20,000 at each
// pass), and well within SQLite's limit on parameters.
const rollupRetainChunk = 1000

// partitionLock is the advisory lock one replica holds while it changes partitions.
const partitionLock = 0x5349544d50415254 // "SITMPART"

// Retain attaches the partitions the coming data needs and drops what is past its
// retention: on PostgreSQL whole months of samples and whole days of deliveries go
// in O(1), only the default partitions and shorter per-feed retentions are deleted
// row by row (by index); on SQLite everything is deleted by index. On PostgreSQL it
// then rebuilds indexes grown loose (compact.go). Replicas take turns: one that finds
// another at it does nothing.
func (s *Store) Retain(ctx context.Context, r Retention) error {
	now := s.now()
	if s.dialect == migrations.Postgres {
		sqlDB, err := s.db.DB()
		if err != nil {
			return err
		}
		conn, err := sqlDB.Conn(ctx) // a session lock lives on one connection
		if err != nil {
			return err
		}
		defer conn.Close()
		var got bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", int64(partitionLock)).Scan(&got); err != nil {
			return fmt.Errorf("lock partitions: %w", err)
		}
		if !got {
			return nil
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(partitionLock))
		if err := s.samplePartitions(ctx, now, r.Samples); err != nil {
			return err
		}
		if err := s.deliveryPartitions(ctx, now, r.Deliveries); err != nil {
			return err
		}
	}
	db := s.db.WithContext(ctx)
	// On PostgreSQL samples go a month at a time with their partitions; SQLite deletes.
	if s.dialect != migrations.Postgres {
		if err := db.Exec("DELETE FROM samples WHERE bucket < ?", now.Add(-r.Samples).Unix()).Error; err != nil {
			return fmt.Errorf("delete samples past retention: %w", err)
		}
	} else if err := db.Exec("DELETE FROM samples_default WHERE bucket < ?", now.Add(-r.Samples).Unix()).Error; err != nil {
		return fmt.Errorf("delete samples past retention: %w", err)
	}
	// Shorter per-feed retentions, series by series through the primary key.
	var feeds []struct {
		ID            int64
		RetentionDays int
	}
	if err := db.Raw("SELECT id, retention_days FROM feeds WHERE retention_days IS NOT NULL").Scan(&feeds).Error; err != nil {
		return fmt.Errorf("read feed retentions: %w", err)
	}
	for _, f := range feeds {
		cut := now.AddDate(0, 0, -f.RetentionDays).Unix()
		for _, table := range []string{"samples", "sample_parts"} {
			if err := db.Exec("DELETE FROM "+table+" WHERE series_id IN (SELECT id FROM series WHERE feed_id = ?) AND bucket < ?", f.ID, cut).Error; err != nil {
				return fmt.Errorf("delete %s past feed %d's retention: %w", table, f.ID, err)
			}
		}
	}
	if err := db.Exec("DELETE FROM sample_parts WHERE bucket < ?", now.Add(-r.Samples).Unix()).Error; err != nil {
		return fmt.Errorf("delete row parts past retention: %w", err)
	}
	// Roll-ups through their primary key, rollupRetainChunk SLOs a statement.
	var slos []int64
	if err := db.Raw("SELECT id FROM slos ORDER BY id").Scan(&slos).Error; err != nil {
		return fmt.Errorf("list SLOs: %w", err)
	}
	for chunk := range slices.Chunk(slos, rollupRetainChunk) {
		for _, q := range []string{"DELETE FROM slo_hours WHERE slo_id IN ? AND hour < ?", "DELETE FROM slo_days WHERE slo_id IN ? AND day < ?"} {
			if err := db.Exec(q, chunk, now.Add(-r.Rollups).Unix()).Error; err != nil {
				return fmt.Errorf("delete roll-ups of SLOs %d–%d past retention: %w", chunk[0], chunk[len(chunk)-1], err)
			}
		}
	}
	table := "deliveries"
	if s.dialect == migrations.Postgres {
		table = "deliveries_default" // the days before went with their partitions
	}
	if err := db.Exec("DELETE FROM "+table+" WHERE received_at < ?", now.Add(-r.Deliveries)).Error; err != nil {
		return fmt.Errorf("delete deliveries past retention: %w", err)
	}
	if s.dialect == migrations.Postgres {
		return s.compactIndexes(ctx)
	}
	return nil
}

var (
	samplePartRE   = regexp.MustCompile(`^samples_p(\d{4})(\d{2})$`)
	deliveryPartRE = regexp.MustCompile(`^deliveries_p(\d{4})(\d{2})(\d{2})$`)
)

// samplePartitions keeps a partition per UTC month of buckets from the retention's
// start to next month, and drops months wholly past it.
func (s *Store) samplePartitions(ctx context.Context, now time.Time, keep time.Duration) error {
	first := monthOf(now.Add(-keep))
	for m := first; !m.After(monthOf(now).AddDate(0, 1, 0)); m = m.AddDate(0, 1, 0) {
		name := fmt.Sprintf("samples_p%04d%02d", m.Year(), m.Month())
		if err := s.attach(ctx, "samples", "samples_default", name, "bucket", m.Unix(), m.AddDate(0, 1, 0).Unix()); err != nil {
			return err
		}
	}
	return s.dropBefore(ctx, "samples", samplePartRE, func(p []int) time.Time {
		return time.Date(p[0], time.Month(p[1]), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	}, first)
}

// deliveryPartitions keeps a partition per UTC day of receipt from the retention's
// start to the day after tomorrow, and drops days wholly past it.
func (s *Store) deliveryPartitions(ctx context.Context, now time.Time, keep time.Duration) error {
	first := now.Add(-keep).UTC().Truncate(24 * time.Hour)
	for d := first; !d.After(now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 2)); d = d.AddDate(0, 0, 1) {
		name := fmt.Sprintf("deliveries_p%04d%02d%02d", d.Year(), d.Month(), d.Day())
		if err := s.attach(ctx, "deliveries", "deliveries_default", name, "received_at", d, d.AddDate(0, 0, 1)); err != nil {
			return err
		}
	}
	return s.dropBefore(ctx, "deliveries", deliveryPartRE, func(p []int) time.Time {
		return time.Date(p[0], time.Month(p[1]), p[2], 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	}, first)
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// attach creates a partition for [lo, hi) unless it exists, moving into it whatever
// the default partition holds in that range, in one transaction. The CHECK that
// mirrors the bound lets PostgreSQL attach it without scanning it again.
//
// The parent is locked first, whole, against readers too: ATTACH alone lets a query
// plan without the new partition and run after the move, finding the moved rows
// nowhere; a row written into the default partition between the copy and the delete
// would be lost, and one written after the delete would fail the attach. A lock that
// let reads through deadlocks with ingest, which reads the default partition before it
// writes. A partition is attached ahead of its data, so the lock is short; if it cannot
// be had within a second (a long reader), the pass fails and the next tries again,
// rather than hold deliveries queued behind it past their deadline.
func (s *Store) attach(ctx context.Context, parent, def, name, col string, lo, hi any) error {
	var exists bool
	if err := s.db.WithContext(ctx).Raw("SELECT to_regclass(?) IS NOT NULL", name).Row().Scan(&exists); err != nil {
		return fmt.Errorf("look for partition %s: %w", name, err)
	}
	if exists {
		return nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// DDL takes no parameters: bounds are written as literals (numbers or UTC times we
	// made, never input).
	lit := func(v any) string {
		if t, ok := v.(time.Time); ok {
			return "'" + t.UTC().Format(time.RFC3339) + "'::timestamptz"
		}
		return fmt.Sprint(v)
	}
	within := fmt.Sprintf("%s >= %s AND %s < %s", col, lit(lo), col, lit(hi))
	for _, q := range []string{
		"SET LOCAL lock_timeout = '1s'",
		fmt.Sprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", parent),
		fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)", name, parent),
		fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s_bound CHECK (%s)", name, name, within),
		fmt.Sprintf("INSERT INTO %s SELECT * FROM %s WHERE %s", name, def, within),
		fmt.Sprintf("DELETE FROM %s WHERE %s", def, within),
		fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)", parent, name, lit(lo), lit(hi)),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create partition %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("attach partition %s: %w", name, err)
	}
	s.log.Info("partition attached", "partition", name)
	return nil
}

// dropBefore drops the partitions of parent, named by re, that end at or before cut.
func (s *Store) dropBefore(ctx context.Context, parent string, re *regexp.Regexp, end func([]int) time.Time, cut time.Time) error {
	var names []string
	if err := s.db.WithContext(ctx).Raw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass(?)`, parent).Scan(&names).Error; err != nil {
		return fmt.Errorf("list partitions of %s: %w", parent, err)
	}
	for _, n := range names {
		m := re.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		parts := make([]int, len(m)-1)
		for i, x := range m[1:] {
			parts[i], _ = strconv.Atoi(x)
		}
		if end(parts).After(cut) {
			continue
		}
		if err := s.db.WithContext(ctx).Exec("DROP TABLE " + n).Error; err != nil {
			return fmt.Errorf("drop partition %s: %w", n, err)
		}
		s.log.Info("partition dropped: past retention", "partition", n)
	}
	return nil
}
