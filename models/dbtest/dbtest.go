// Package dbtest gives tests real, throwaway databases: a fresh SQLite file
// and, when SITEMETRICS_TEST_DATABASE_URL points at a PostgreSQL server, a
// fresh schema in it. `make test` starts that server; with
// SITEMETRICS_TEST_REQUIRE=postgres a missing server fails the test
// instead of skipping it, so CI cannot go green without it. It also gives
// the servers tests start ports nothing else will take (FreeAddr).
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for schema set-up

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Require skips the test when a real component is missing, or fails it when
// SITEMETRICS_TEST_REQUIRE names that component.
func Require(t testing.TB, component string, available bool, how string) {
	t.Helper()
	if available {
		return
	}
	for _, c := range strings.Split(os.Getenv("SITEMETRICS_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(c) == component {
			t.Fatalf("%s is required (SITEMETRICS_TEST_REQUIRE) but not available: %s", component, how)
		}
	}
	t.Skipf("%s not available (%s); run `make test` to start it", component, how)
}

// Dialects are the databases every store test runs on.
func Dialects() []string { return []string{migrations.SQLite, migrations.Postgres} }

// URL returns a database URL for a fresh, empty database of the dialect.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == migrations.SQLite {
		return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
	}
	base := os.Getenv("SITEMETRICS_TEST_DATABASE_URL")
	Require(t, "postgres", base != "", "SITEMETRICS_TEST_DATABASE_URL is not set")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := neturl.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store on a fresh database of the dialect, closed at the end of the test.
func Open(t testing.TB, dialect string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), URL(t, dialect), "", Logger(t))
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return s
}

// Each runs f as a subtest on every dialect.
func Each(t *testing.T, f func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) { f(t, Open(t, d)) })
	}
}

// Logger writes to the test log when -v, and nowhere otherwise.
func Logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Reopen opens a second store on the same database, with empty caches, as a
// restarted replica would.
func Reopen(tb testing.TB, s *sqlstore.Store) *sqlstore.Store {
	tb.Helper()
	return OpenURL(tb, s.URL())
}

// OpenURL opens a store on an existing database (one a running app uses, for
// example), closed at the end of the test.
func OpenURL(tb testing.TB, databaseURL string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), databaseURL, "", Logger(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// ReplicaURL is url (a fresh test database on the PostgreSQL that `make test`
// starts) read through that server's streaming replica: the same database and
// schema, another host and port.
func ReplicaURL(t testing.TB, url string) string {
	t.Helper()
	rep := os.Getenv("SITEMETRICS_TEST_REPLICA_URL")
	Require(t, "replica", rep != "", "SITEMETRICS_TEST_REPLICA_URL is not set")
	r, err := neturl.Parse(rep)
	if err != nil {
		t.Fatal(err)
	}
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = r.Host
	return u.String()
}
