package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Store is the one door to the database.
type Store struct {
	db      *gorm.DB
	dialect string
	url     string
	log     *slog.Logger
	// Now is the clock; tests replace it.
	Now      func() time.Time
	bindings bindingCache
	wake     chan struct{}
	evals    evalCache
	monthly  reportCache
	dirty    dirtySet
	commits  *groupCommit[*pendingDelivery] // PostgreSQL ingest
	// throttlePruned is when this replica last pruned the login throttle (Unix seconds).
	throttlePruned atomic.Int64
}

// DatabaseTarget describes where the data lives, for logs and the README's promise
// that a first run needs nothing installed.
func DatabaseTarget(databaseURL, dataDir string) (dialect, dsn string, err error) {
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return migrations.Postgres, databaseURL, nil
	case strings.HasPrefix(databaseURL, "sqlite://"):
		path := strings.TrimPrefix(databaseURL, "sqlite://")
		if path == "" {
			return "", "", models.Errorf(models.EINVALID, "sqlite:// needs a file path, e.g. sqlite:///var/lib/sitemetrics/sitemetrics.db")
		}
		return migrations.SQLite, path, nil
	case databaseURL == "":
		return migrations.SQLite, filepath.Join(dataDir, "sitemetrics.db"), nil
	default:
		return "", "", models.Errorf(models.EINVALID, "must start with postgres:// or sqlite://")
	}
}

// Open connects to PostgreSQL or opens (creating it if needed) the SQLite file.
func Open(ctx context.Context, databaseURL, dataDir string, log *slog.Logger) (*Store, error) {
	dialect, dsn, err := DatabaseTarget(databaseURL, dataDir)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		TranslateError: true,
		Logger: logger.NewSlogLogger(log.With("component", "gorm"), logger.Config{
			SlowThreshold:             500 * time.Millisecond,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
		}),
		NowFunc: func() time.Time { return time.Now().UTC() },
	}
	var db *gorm.DB
	if dialect == migrations.Postgres {
		db, err = gorm.Open(postgres.Open(dsn), cfg)
	} else {
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create data directory: %w", err)
			}
		}
		db, err = gorm.Open(sqlite.Open(sqliteDSN(dsn)), cfg)
	}
	if err != nil {
		if IsUnavailable(err) {
			return nil, models.Wrap(models.EUNAVAILABLE, err, "cannot reach the database")
		}
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if dialect == migrations.Postgres {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		sqlDB.SetMaxOpenConns(8)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		if cerr := sqlDB.Close(); cerr != nil {
			log.Warn("close the database pool after a failed ping", "err", cerr)
		}
		return nil, models.Wrap(models.EUNAVAILABLE, err, "cannot reach the database")
	}
	s := &Store{db: db, dialect: dialect, url: databaseURL, log: log, Now: func() time.Time { return time.Now().UTC() }, wake: make(chan struct{}, 1)}
	s.commits = newIngestCommitter(s)
	return s, nil
}

// sqliteDSN turns a path into a DSN with the pragmas the app relies on:
// WAL for concurrent readers, FULL sync so a 2xx survives a power cut,
// immediate transactions so writers queue instead of failing.
func sqliteDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	// Times are written in SQLite's own format by default ("2006-01-02
	// 15:04:05.999999999-07:00"). Setting _time_format would make the driver
	// ignore _txlock (glebarez/go-sqlite v1.21 returns early), so it is not set.
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// URL is the database URL the store was opened with.
func (s *Store) URL() string { return s.url }

// Dialect is migrations.Postgres or migrations.SQLite.
func (s *Store) Dialect() string { return s.dialect }

// DB exposes the GORM handle to tests and benchmarks.
func (s *Store) DB() *gorm.DB { return s.db }

// Migrate applies pending migrations and returns how many it applied.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return 0, err
	}
	return migrations.Up(ctx, sqlDB, s.dialect, s.log)
}

// Ready reports whether the database answers and the schema is current.
func (s *Store) Ready(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return models.Wrap(models.EUNAVAILABLE, err, "database unreachable")
	}
	pending, err := migrations.Pending(ctx, sqlDB, s.dialect, s.log)
	if err != nil {
		return models.Wrap(models.EUNAVAILABLE, err, "cannot read the schema version")
	}
	if pending {
		return models.Errorf(models.EUNAVAILABLE, "database migrations pending")
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

func (s *Store) now() time.Time { return s.Now().UTC() }

// notFound maps GORM's not-found to our code, leaving other errors wrapped.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Errorf(models.ENOTFOUND, format, args...)
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// isUnique reports a unique-constraint violation.
func isUnique(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }
