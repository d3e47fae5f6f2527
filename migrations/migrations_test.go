package migrations_test

import (
	"context"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

func versions(t *testing.T, dialect string) []string {
	t.Helper()
	dir, err := migrations.FS(dialect)
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(dir, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// The two dialects must carry the same migrations, version for version.
func TestDialectsInStep(t *testing.T) {
	pg, lite := versions(t, migrations.Postgres), versions(t, migrations.SQLite)
	if strings.Join(pg, ",") != strings.Join(lite, ",") {
		t.Fatalf("postgres has %v\nsqlite has   %v", pg, lite)
	}
	if len(pg) == 0 {
		t.Fatal("no migrations")
	}
}

// Every GORM model must match the migrated schema: GORM only detects drift, it never migrates.
func TestModelsMatchSchema(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		m := s.DB().Migrator()
		for _, model := range models.Schema() {
			stmt := s.DB().Model(model).Statement
			if err := stmt.Parse(model); err != nil {
				t.Fatal(err)
			}
			table := stmt.Schema.Table
			if !m.HasTable(table) {
				t.Errorf("table %s missing", table)
				continue
			}
			for _, f := range stmt.Schema.Fields {
				if f.DBName != "" && !m.HasColumn(table, f.DBName) {
					t.Errorf("%s.%s is in the model but not in the schema", table, f.DBName)
				}
			}
		}
	})
}

// Migrating twice is a no-op, and a database ahead of the binary is refused.
func TestMigrateIdempotentAndAhead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		if n, err := s.Migrate(context.Background()); err != nil || n != 0 {
			t.Fatalf("second migrate: %d %v", n, err)
		}
		if err := s.Ready(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)").Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(context.Background()); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
			t.Fatalf("ahead database: %v", err)
		}
	})
}
