package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// MirrorTable creates target with source's columns, defaults, constraints and
// indexes and, when source is partitioned, the same partition key and the same
// partitions (read from the catalog, so it follows whatever the migrations and
// the store have created by then). Benchmarks COPY into it to compare the app's
// ingest with what PostgreSQL does with the same rows and the same indexes.
func MirrorTable(ctx context.Context, db *sql.DB, source, target string) error {
	var key sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT pg_get_partkeydef(to_regclass($1))`, source).Scan(&key); err != nil {
		return fmt.Errorf("partition key of %s: %w", source, err)
	}
	ddl := fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING ALL)", target, source)
	if key.Valid && key.String != "" {
		ddl += " PARTITION BY " + key.String
	}
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create %s: %w", target, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass($1) ORDER BY c.relname`, source)
	if err != nil {
		return fmt.Errorf("partitions of %s: %w", source, err)
	}
	var parts [][2]string
	for rows.Next() {
		var name, bound string
		if err := rows.Scan(&name, &bound); err != nil {
			rows.Close()
			return err
		}
		parts = append(parts, [2]string{name, bound})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range parts {
		name := target + strings.TrimPrefix(p[0], source)
		if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s PARTITION OF %s %s", name, target, p[1])); err != nil {
			return fmt.Errorf("create partition %s: %w", name, err)
		}
	}
	return nil
}

// RelationBytes is the size on disk of a table (with its TOAST) and of its
// indexes, over all its partitions when it is partitioned (the sizes of a
// partitioned table alone are zero).
func RelationBytes(ctx context.Context, db *sql.DB, table string) (heap, indexes int64, err error) {
	var h, i sql.NullInt64
	// pg_partition_tree lists nothing for a table that is not partitioned.
	err = db.QueryRowContext(ctx, `SELECT sum(pg_table_size(relid)), sum(pg_indexes_size(relid)) FROM (
		SELECT to_regclass($1) AS relid UNION SELECT relid FROM pg_partition_tree(to_regclass($1))) r`, table).Scan(&h, &i)
	if err != nil {
		return 0, 0, fmt.Errorf("size of %s: %w", table, err)
	}
	return h.Int64, i.Int64, nil
}
