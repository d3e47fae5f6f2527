package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite", to open a file read-only
	"gorm.io/gorm"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// classifyCase is one real failure produced by a real database, and whether
// it means "the database cannot serve us" (spool, answer 503) rather than
// "the database refused this statement".
type classifyCase struct {
	name        string
	unavailable bool
	produce     func(t *testing.T) error
}

// TestIsUnavailableOnRealPostgres provokes each failure on the PostgreSQL
// server of the run: nothing here is a hand-made error or string.
func TestIsUnavailableOnRealPostgres(t *testing.T) {
	s := dbtest.Open(t, "postgres")
	base := os.Getenv("SITEMETRICS_TEST_DATABASE_URL")
	sqlDB, err := s.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	cases := []classifyCase{
		{"connection refused on a closed port", true, func(t *testing.T) error {
			u, _ := url.Parse(base)
			u.Host = closedPort(t)
			_, err := sqlstore.Open(ctx, u.String(), "", dbtest.Logger(t))
			if models.ErrorCode(err) != models.EUNAVAILABLE {
				t.Errorf("Open on a closed port: code %q, want unavailable (%v)", models.ErrorCode(err), err)
			}
			assertSafeMessage(t, err, u)
			return err
		}},
		{"backend killed by pg_terminate_backend", true, func(t *testing.T) error {
			conn, err := sqlDB.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var pid int
			if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				t.Fatal(err)
			}
			var ok bool
			if err := s.DB().Raw("SELECT pg_terminate_backend(?)", pid).Scan(&ok).Error; err != nil || !ok {
				t.Fatalf("terminate backend %d: %v %v", pid, ok, err)
			}
			time.Sleep(50 * time.Millisecond)
			_, err = conn.ExecContext(ctx, "SELECT 1")
			return err
		}},
		{"statement_timeout cancels a hung statement", true, func(t *testing.T) error {
			return s.DB().Transaction(func(tx *gorm.DB) error {
				if err := tx.Exec("SET LOCAL statement_timeout = '50ms'").Error; err != nil {
					t.Fatal(err)
				}
				return tx.Exec("SELECT pg_sleep(2)").Error
			})
		}},
		{"the caller's deadline passes during a statement", true, func(t *testing.T) error {
			ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			return s.DB().WithContext(ctx).Exec("SELECT pg_sleep(2)").Error
		}},
		{"the caller cancels", false, func(t *testing.T) error {
			ctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(50*time.Millisecond, cancel)
			return s.DB().WithContext(ctx).Exec("SELECT pg_sleep(2)").Error
		}},
		{"unique violation", false, func(t *testing.T) error {
			if _, err := s.CreateFeed(ctx, models.FeedInput{Name: "dup"}); err != nil {
				t.Fatal(err)
			}
			return s.DB().Exec("INSERT INTO feeds (name, interval_seconds, series_field, time_field, created_at, updated_at) SELECT name, interval_seconds, series_field, time_field, created_at, updated_at FROM feeds WHERE name = 'dup'").Error
		}},
		{"syntax error", false, func(t *testing.T) error { return s.DB().Exec("SELEC 1").Error }},
		{"NUL byte in text", false, func(t *testing.T) error { return s.DB().Exec("SELECT ?::text", "a\x00b").Error }},
		{"no such row", false, func(t *testing.T) error {
			_, err := s.Feed(ctx, 987654)
			return err
		}},
	}
	runClassify(t, cases)
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("the store did not recover from the killed backend: %v", err)
	}
}

// TestIsUnavailableOnRealSQLite does the same with SQLite's storage failures.
func TestIsUnavailableOnRealSQLite(t *testing.T) {
	s := dbtest.Open(t, "sqlite")
	path := strings.TrimPrefix(s.URL(), "sqlite://")
	cases := []classifyCase{
		{"write to a database opened read-only", true, func(t *testing.T) error {
			db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, err = db.Exec("INSERT INTO feeds (name, interval_seconds, series_field, time_field, created_at, updated_at) VALUES ('ro', 300, '', '_time', '2026-01-01', '2026-01-01')")
			return err
		}},
		{"disk full", true, func(t *testing.T) error {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "full.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1) // the page limit is per connection
			for _, q := range []string{"CREATE TABLE t (b BLOB)", "PRAGMA max_page_count = 8"} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			for range 100 {
				if _, err := db.Exec("INSERT INTO t VALUES (zeroblob(4096))"); err != nil {
					return err
				}
			}
			t.Fatal("100 pages fitted in a database of 8")
			return nil
		}},
		{"cannot open the file", true, func(t *testing.T) error {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "missing", "dir", "x.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			return db.Ping()
		}},
		{"unique violation", false, func(t *testing.T) error {
			if _, err := s.CreateFeed(ctx, models.FeedInput{Name: "dup"}); err != nil {
				t.Fatal(err)
			}
			return s.DB().Exec("INSERT INTO feeds (name, interval_seconds, series_field, time_field, created_at, updated_at) SELECT name, interval_seconds, series_field, time_field, created_at, updated_at FROM feeds WHERE name = 'dup'").Error
		}},
		{"syntax error", false, func(t *testing.T) error { return s.DB().Exec("SELEC 1").Error }},
	}
	runClassify(t, cases)
}

func runClassify(t *testing.T, cases []classifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.produce(t)
			if err == nil {
				t.Fatal("the database did not fail")
			}
			if got := sqlstore.IsUnavailable(err); got != tc.unavailable {
				t.Fatalf("IsUnavailable(%T %q) = %v, want %v", err, err, got, tc.unavailable)
			}
			// Wrapped once more, as a caller would, the answer holds.
			if got := sqlstore.IsUnavailable(errors.Join(errors.New("load slo 1"), err)); got != tc.unavailable {
				t.Fatalf("wrapped: IsUnavailable = %v, want %v", got, tc.unavailable)
			}
		})
	}
}

// assertSafeMessage checks that what a client may see of err names none of
// the connection's details.
func assertSafeMessage(t *testing.T, err error, u *url.URL) {
	t.Helper()
	msg := models.ErrorMessage(err)
	host, port, _ := net.SplitHostPort(u.Host)
	for _, secret := range []string{u.User.Username(), host, port, strings.TrimPrefix(u.Path, "/"), "SQLSTATE", "dial"} {
		if secret != "" && strings.Contains(msg, secret) {
			t.Errorf("the safe message %q contains %q", msg, secret)
		}
	}
	if !strings.Contains(err.Error(), port) {
		t.Errorf("the cause is lost: the log would say %q", err.Error())
	}
}

// closedPort returns 127.0.0.1:PORT where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
