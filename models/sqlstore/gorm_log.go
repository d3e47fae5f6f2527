package sqlstore

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slowStatement is how long a statement runs before it is logged as a warning.
const slowStatement = 500 * time.Millisecond

// gormLog logs the statements that fail or are slow, and only those. GORM's slog
// logger renders every statement with its values before it decides whether to log it
// (logger.ExplainSQL: 1.6 % of the app's CPU while history is ingested, most of it for
// statements nobody sees); this one renders a statement only when it will be logged.
type gormLog struct {
	logger.Interface
	level logger.LogLevel
}

func newGormLog(log *slog.Logger) logger.Interface {
	return gormLog{logger.NewSlogLogger(log, logger.Config{
		SlowThreshold:             slowStatement,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
	}), logger.Warn}
}

// LogMode keeps the wrapper around what GORM's logger returns (db.Debug() asks for Info:
// then every statement is logged, as GORM would).
func (l gormLog) LogMode(level logger.LogLevel) logger.Interface {
	return gormLog{l.Interface.LogMode(level), level}
}

// Trace passes on a statement that failed (not-found aside) or ran longer than
// slowStatement, or every statement at Info; GORM's logger then renders and logs it.
func (l gormLog) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	failed := err != nil && !errors.Is(err, gorm.ErrRecordNotFound)
	if !failed && l.level < logger.Info && time.Since(begin) <= slowStatement {
		return
	}
	l.Interface.Trace(ctx, begin, fc, err)
}
