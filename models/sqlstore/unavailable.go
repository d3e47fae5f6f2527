package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sitemetrics/sitemetrics/models"
)

// SQLite's primary result codes (the low byte of an extended code) that
// mean the storage, not the statement, failed: the disk is full, the file
// or its directory turned read-only, an I/O error, the file cannot be opened.
const (
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
)

// IsUnavailable reports whether err means the database could not be reached
// or could not store anything (down, restarting, hung past a deadline, out
// of disk or connections), as opposed to the database refusing the
// statement. It decides by the type of the errors in err's chain, never by
// their text.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var me *models.Error
	if errors.As(err, &me) && me.Code == models.EUNAVAILABLE {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pgUnavailable(pg.Code)
	}
	var lite *gosqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff {
		case sqliteReadOnly, sqliteIOErr, sqliteFull, sqliteCantOpen:
			return true
		}
		return false
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connect), errors.As(err, &netErr), pgconn.Timeout(err):
		return true
	}
	for _, target := range []error{context.DeadlineExceeded, syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE,
		io.ErrUnexpectedEOF, driver.ErrBadConn, pgconn.ErrConnClosed} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Unavailable is IsUnavailable, for those who hold the store behind an interface.
func (s *Store) Unavailable(err error) bool { return IsUnavailable(err) }

// pgUnavailable reports whether a SQLSTATE says the server cannot serve us
// now, whatever we send: the connection is gone (class 08), the server is
// shutting down, crashed or starting (57P01–57P03), it is out of disk,
// memory or connections (class 53), the statement ran past its deadline
// (57014, statement_timeout: a hung database is a down one), a disk I/O
// error (58030), or it is a read-only standby after a failover (25006).
func pgUnavailable(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"):
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "57014", "58030", "25006":
		return true
	}
	return false
}
