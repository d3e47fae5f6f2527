package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// TestGormLogRendersOnlyWhatItLogs: a quick statement that succeeds is neither rendered
// nor logged; a failed or slow one is logged with its SQL, and at Info every one is.
func TestGormLogRendersOnlyWhatItLogs(t *testing.T) {
	var out bytes.Buffer
	l := newGormLog(slog.New(slog.NewTextHandler(&out, nil)))
	ctx := context.Background()
	rendered := 0
	stmt := func(sql string) func() (string, int64) {
		return func() (string, int64) { rendered++; return sql, 1 }
	}

	l.Trace(ctx, time.Now(), stmt("SELECT quick"), nil)
	l.Trace(ctx, time.Now(), stmt("SELECT missing"), gorm.ErrRecordNotFound)
	if rendered != 0 || out.Len() != 0 {
		t.Fatalf("quick statements: rendered %d, logged %q; want neither", rendered, out.String())
	}

	l.Trace(ctx, time.Now(), stmt("SELECT broken"), errors.New("syntax error"))
	l.Trace(ctx, time.Now().Add(-2*slowStatement), stmt("SELECT slow"), nil)
	for _, want := range []string{"level=ERROR", "SELECT broken", "syntax error", "level=WARN", "SELECT slow"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	l.LogMode(logger.Info).Trace(ctx, time.Now(), stmt("SELECT debug"), nil)
	if !strings.Contains(out.String(), "SELECT debug") {
		t.Errorf("at Info a quick statement is logged; got %q", out.String())
	}
}
