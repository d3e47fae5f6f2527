package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// RecordLoginFailure counts a failed sign-in.
func (s *Store) RecordLoginFailure(ctx context.Context, username, clientIP string) error {
	f := models.LoginFailure{Username: models.Truncate(models.NormalizeUsername(username), 200), ClientIP: clientIP, At: s.now()}
	if err := s.db.WithContext(ctx).Create(&f).Error; err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// LoginFailures counts failed sign-ins since a time, for a user name and for an IP.
func (s *Store) LoginFailures(ctx context.Context, username, clientIP string, since time.Time) (byUser, byIP int, oldest time.Time, err error) {
	var r struct {
		ByUser, ByIP int
		Oldest       *string
	}
	err = s.db.WithContext(ctx).Raw(`SELECT
			SUM(CASE WHEN username = ? THEN 1 ELSE 0 END) AS by_user,
			SUM(CASE WHEN client_ip = ? THEN 1 ELSE 0 END) AS by_ip,
			CAST(MIN(at) AS TEXT) AS oldest
		FROM login_failures WHERE at >= ? AND (username = ? OR client_ip = ?)`,
		models.NormalizeUsername(username), clientIP, since.UTC(), models.NormalizeUsername(username), clientIP).Scan(&r).Error
	if err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("count login failures: %w", err)
	}
	if t := parseDBTime(r.Oldest); t != nil {
		oldest = *t
	}
	return r.ByUser, r.ByIP, oldest, nil
}

// ClearLoginFailures forgets a user's failures after a successful sign-in.
func (s *Store) ClearLoginFailures(ctx context.Context, username string) error {
	return s.db.WithContext(ctx).Where("username = ?", models.NormalizeUsername(username)).Delete(&models.LoginFailure{}).Error
}

// PruneLoginFailures deletes failures older than the throttling window.
func (s *Store) PruneLoginFailures(ctx context.Context, before time.Time) error {
	return s.db.WithContext(ctx).Where("at < ?", before.UTC()).Delete(&models.LoginFailure{}).Error
}
