// Package migrations holds the versioned SQL schema, one folder per dialect,
// embedded in the binary and applied with goose.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialects are the folder names, and the values models.Store.Dialect returns.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// FS returns the migration files of one dialect.
func FS(dialect string) (fs.FS, error) {
	if dialect != Postgres && dialect != SQLite {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	return fs.Sub(files, dialect)
}

func provider(db *sql.DB, dialect string, log *slog.Logger) (*goose.Provider, error) {
	dir, err := FS(dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithSlog(log)}
	d := goose.DialectSQLite3
	if dialect == Postgres {
		// A session-level advisory lock: replicas starting together migrate one at a time.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		d = goose.DialectPostgres
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(d, db, dir, opts...)
}

// Up applies every pending migration and returns how many it applied.
func Up(ctx context.Context, db *sql.DB, dialect string, log *slog.Logger) (int, error) {
	p, err := provider(db, dialect, log)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	if _, err := checkNotAhead(ctx, p); err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrations: %w", err)
	}
	return len(res), nil
}

// Pending reports whether the database lacks migrations this binary has.
// A database ahead of the binary (a newer version ran) is an error.
func Pending(ctx context.Context, db *sql.DB, dialect string, log *slog.Logger) (bool, error) {
	p, err := provider(db, dialect, log)
	if err != nil {
		return false, err
	}
	return checkNotAhead(ctx, p)
}

// checkNotAhead refuses a database migrated by a newer binary, and reports
// whether migrations are pending.
func checkNotAhead(ctx context.Context, p *goose.Provider) (bool, error) {
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("migrations: read schema version: %w", err)
	}
	sources := p.ListSources()
	latest := int64(0)
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	if current > latest {
		return false, fmt.Errorf("migrations: database schema version %d is newer than this binary's %d: run the newer sitemetrics", current, latest)
	}
	return current < latest, nil
}
