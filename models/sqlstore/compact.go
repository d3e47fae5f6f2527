package sqlstore

import (
	"context"
	"fmt"
)

// looseIndex is how much larger than freshly built an index may grow before the
// retention pass rebuilds it.
const looseIndex = 1.2

// compactMinRows: the index of a smaller table is a few hundred kilobytes at most, not
// worth rebuilding.
const compactMinRows = 10_000

// compactIndexes rebuilds the primary-key indexes of sample partitions and roll-up
// tables that have grown loose (PostgreSQL only). Each series, and each SLO, appends
// at its own place in its index, so pages split in the middle and most are left half
// full for good: about 43 bytes an entry where a built index needs 28, a third of a
// sample's bytes on disk. REINDEX CONCURRENTLY rebuilds one, pages filled whole,
// without holding back ingest or reads. An index is rebuilt when it is 20 % larger
// than a built one, so a month's partition is rebuilt about ten times as it fills, at
// sizes about 1.4 times apart: about three builds of the whole month in all. A rebuild
// cut short leaves an invalid copy behind, which every write would keep up to date:
// those are dropped first.
func (s *Store) compactIndexes(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	// The tables and the width of one index entry: the entry's header and key aligned to
	// 8 bytes, and its line pointer (pages' own headers and the upper levels add about 1 %).
	const tables = `(VALUES ('samples'::regclass, 28), ('slo_hours'::regclass, 36), ('slo_days'::regclass, 36)) AS t (rel, entry)`
	var invalid []string
	if err := db.Raw(`SELECT i.indexrelid::regclass::text FROM pg_index i
		WHERE NOT i.indisvalid AND i.indexrelid::regclass::text ~ '_cc(new|old)[0-9]*$'
			AND (i.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'samples'::regclass)
			OR i.indrelid IN ('slo_hours'::regclass, 'slo_days'::regclass))`).Scan(&invalid).Error; err != nil {
		return fmt.Errorf("look for indexes left by a rebuild: %w", err)
	}
	for _, name := range invalid {
		if err := db.Exec("DROP INDEX CONCURRENTLY IF EXISTS " + name).Error; err != nil {
			return fmt.Errorf("drop %s, left by a rebuild: %w", name, err)
		}
	}
	var loose []struct {
		Index string
		Rows  float64
		Bytes int64
	}
	if err := db.Raw(`SELECT i.indexrelid::regclass::text AS index, c.reltuples AS rows, pg_relation_size(i.indexrelid) AS bytes
		FROM `+tables+`
		JOIN pg_class c ON c.oid = t.rel OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = t.rel)
		JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
		WHERE c.relkind = 'r' AND c.reltuples >= ? AND pg_relation_size(i.indexrelid) > ? * c.reltuples * t.entry
		ORDER BY 1`, compactMinRows, looseIndex).Scan(&loose).Error; err != nil {
		return fmt.Errorf("look for loose indexes: %w", err)
	}
	for _, ix := range loose {
		// Pages filled whole: the entries of a series (or SLO) arrive in key order, so a
		// full page that takes one more splits after it, leaving the full page as it is.
		if err := db.Exec("ALTER INDEX " + ix.Index + " SET (fillfactor = 100)").Error; err != nil {
			return fmt.Errorf("set %s's fill factor: %w", ix.Index, err)
		}
		if err := db.Exec("REINDEX INDEX CONCURRENTLY " + ix.Index).Error; err != nil {
			return fmt.Errorf("rebuild %s: %w", ix.Index, err)
		}
		var after int64
		if err := db.Raw("SELECT pg_relation_size(?::regclass)", ix.Index).Scan(&after).Error; err != nil {
			return err
		}
		s.log.Info("loose index rebuilt", "index", ix.Index, "rows", int64(ix.Rows), "bytes_before", ix.Bytes, "bytes_after", after)
	}
	return nil
}
