package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/spool"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// Store is the one door to the database.
type Store struct {
	db      *gorm.DB
	dialect string
	url     string
	log     *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// IngestDeadline is how long a delivery waits for the database before it is
	// refused as unavailable (and spooled by the webhook).
	IngestDeadline time.Duration
	bindings       *bindingCache
	series         *seriesCache
	fields         *fieldNames
	sql            dialect
	wake           chan struct{}
	rm             *readModel
	reports        *reportCache
	commits        *groupCommit[*pendingDelivery] // PostgreSQL ingest
	folds          *folder                        // PostgreSQL roll-up folds (fold.go)
	// down is set while ingest finds the database out of reach (refused, or hung past
	// its deadline): deliveries then go straight to the spool, without waiting on it.
	down *atomic.Bool
	file string // the SQLite database's path; empty on PostgreSQL
	// replica, when set, serves the reads behind pages and the API (see reads).
	replica *gorm.DB
	// throttlePruned is when this replica last pruned the login throttle (Unix seconds);
	// a pointer, as inTx views copy the store.
	throttlePruned *atomic.Int64
	touches        *sessionTouches // sessions' last-seen times not written yet
	// imports is set in an import's view of the store (openslo.go): what the import does
	// once, at its end, instead of at each SLO.
	imports *importBatch
}

// importBatch is what an import defers to its end. Feeds' bindings versions: moved at
// each SLO, the feed's row would gain a version per SLO in the one transaction, and
// every later statement touching it (each binding's foreign key) would walk them all;
// 10,000 SLOs did not import in 5 minutes. An import reports no warnings about unseen
// fields either, so they are not looked for.
type importBatch struct {
	bumps map[int64]bool
}

// primaryOnly marks a context whose reads must not go to the replica.
type primaryOnly struct{}

// reads is where the read model, charts and reports read: the replica when one is
// configured, else the primary. A context marked primaryOnly (checks that must be
// exact, such as a notification's re-check) always reads the primary. The versions
// that say what changed are always read from the primary, so a lagging replica
// delays numbers by its lag, never past the freshness bound.
func (s *Store) reads(ctx context.Context) *gorm.DB {
	if s.replica == nil || ctx.Value(primaryOnly{}) != nil {
		return s.db.WithContext(ctx)
	}
	return s.replica.WithContext(ctx)
}

// UseReplica sends reads to a read-only replica (a PostgreSQL streaming standby).
func (s *Store) UseReplica(ctx context.Context, url string) error {
	if s.dialect != migrations.Postgres || !strings.HasPrefix(url, "postgres") {
		return models.Errorf(models.EINVALID, "a read replica must be PostgreSQL, as database_url is")
	}
	db, err := gorm.Open(postgres.Open(url), &gorm.Config{Logger: s.db.Config.Logger, DisableAutomaticPing: true,
		NowFunc: func() time.Time { return time.Now().UTC() }})
	if err != nil {
		return fmt.Errorf("open the read replica: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	sqlDB.SetMaxOpenConns(16)
	sqlDB.SetMaxIdleConns(16)
	s.replica = db
	return nil
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
		Logger:         newGormLog(log.With("component", "gorm")),
		NowFunc:        func() time.Time { return time.Now().UTC() },
		// Open never waits on the database: serve must start while it is down.
		DisableAutomaticPing: true,
	}
	var db *gorm.DB
	if dialect == migrations.Postgres {
		db, err = gorm.Open(postgres.New(postgres.Config{DSN: dsn,
			OptionOpenDB: []stdlib.OptionOpenDB{stdlib.OptionAfterConnect(lz4Toast(log))}}), cfg)
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
	s := &Store{db: db, dialect: dialect, url: databaseURL, log: log, Now: func() time.Time { return time.Now().UTC() }, IngestDeadline: DefaultIngestDeadline,
		wake: make(chan struct{}, 1), rm: newReadModel(), sql: sqliteDialect{},
		bindings: &bindingCache{}, series: &seriesCache{}, fields: &fieldNames{}, reports: &reportCache{}, down: &atomic.Bool{}, throttlePruned: &atomic.Int64{},
		touches: &sessionTouches{}}
	if dialect == migrations.Postgres {
		s.sql = postgresDialect{}
	} else {
		s.file = dsn
	}
	s.commits, s.folds = newIngestCommitter(s), newFolder(s)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		// The store is returned anyway: serve starts while the database is down and
		// spools until it answers; one-shot commands give up.
		s.down.Store(true)
		return s, models.Wrap(models.EUNAVAILABLE, err, "cannot reach the database")
	}
	return s, nil
}

// lz4Toast has each new PostgreSQL connection compress large values (a delivery's raw
// body, an SLO's summary) with lz4 rather than pglz: about a seventh of pglz's CPU for a
// 71 KB delivery body, for 27 % more bytes (docs/benchmarks/toast-compression.sql;
// deliveries are kept 30 days and are not samples). PostgreSQL 13, or a server built
// without lz4, refuses the setting, and the connection keeps pglz (said once). A DSN
// with a timezone parameter keeps pglz too: gorm's driver hooks those connections with
// its own AfterConnect, which takes the place of this one.
func lz4Toast(log *slog.Logger) func(context.Context, *pgx.Conn) error {
	var once sync.Once
	return func(ctx context.Context, c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "SET default_toast_compression = 'lz4'"); err != nil {
			if c.IsClosed() {
				return err
			}
			once.Do(func() { log.Info("PostgreSQL compresses large values with pglz: it cannot use lz4", "err", err) })
		}
		return nil
	}
}

// Down reports whether ingest last found the database out of reach.
func (s *Store) Down() bool { return s.down.Load() }

// markDown notes that the database is out of reach, saying so once.
func (s *Store) markDown(err error) {
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("database unavailable: deliveries go to the local spool until it answers", "err", err)
	}
}

// markUp notes that the database answers again, saying so once.
func (s *Store) markUp() {
	if s.down.CompareAndSwap(true, false) {
		s.log.Info("database reachable again")
	}
}

// Probe asks the database whether it answers, within a second, and notes the answer.
func (s *Store) Probe(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		s.markDown(err)
		return models.Errorf(models.EUNAVAILABLE, "database unreachable")
	}
	s.markUp()
	return nil
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
	if s.dialect == migrations.SQLite {
		// The file lives on this machine's disk: read-only or full, nothing can be stored.
		if err := spool.WritableDir(filepath.Dir(s.file)); err != nil {
			return models.Wrap(models.EUNAVAILABLE, err, "the database's disk cannot be written")
		}
	}
	return nil
}

// Close closes the connection pools.
func (s *Store) Close() error {
	s.closeFolds()
	s.closeTouches()
	if s.replica != nil {
		if r, err := s.replica.DB(); err == nil {
			_ = r.Close()
		}
	}
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

// isNoRows reports a query that found nothing.
func isNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, gorm.ErrRecordNotFound)
}

// isUnique reports a unique-constraint violation.
func isUnique(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }
