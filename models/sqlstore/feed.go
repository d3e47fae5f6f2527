package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// CreateFeed stores a new feed. It has no token yet: see CreateFeedToken.
func (s *Store) CreateFeed(ctx context.Context, in models.FeedInput) (models.Feed, error) {
	f, err := in.Validate()
	if err != nil {
		return models.Feed{}, err
	}
	now := s.now()
	f.CreatedAt, f.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(&f).Error; err != nil {
		if isUnique(err) {
			return models.Feed{}, &models.Error{Code: models.ECONFLICT, Field: "name", Message: fmt.Sprintf("a feed named %q already exists", f.Name)}
		}
		return models.Feed{}, fmt.Errorf("create feed: %w", err)
	}
	return f, nil
}

// UpdateFeed changes a feed's settings (not its tokens).
func (s *Store) UpdateFeed(ctx context.Context, id int64, in models.FeedInput) (models.Feed, error) {
	f, err := in.Validate()
	if err != nil {
		return models.Feed{}, err
	}
	var slos []int64
	rederive := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var before models.Feed
		if err := tx.First(&before, id).Error; err != nil {
			return notFound(err, "feed %d not found", id)
		}
		if err := tx.Model(&models.Feed{}).Where("id = ?", id).Updates(map[string]any{
			"name": f.Name, "interval_seconds": f.IntervalSeconds, "time_field": f.TimeField,
			"series_field": f.SeriesField, "sample_policy": f.SamplePolicy, "retention_days": f.RetentionDays, "updated_at": s.now(),
		}).Error; err != nil {
			if isUnique(err) {
				return &models.Error{Code: models.ECONFLICT, Field: "name", Message: fmt.Sprintf("a feed named %q already exists", f.Name)}
			}
			return fmt.Errorf("update feed %d: %w", id, err)
		}
		if err := tx.Raw("SELECT DISTINCT slo_id FROM slo_bindings WHERE feed_id = ?", id).Scan(&slos).Error; err != nil {
			return fmt.Errorf("list SLOs of feed %d: %w", id, err)
		}
		// A new interval buckets the history differently, a new policy sums it
		// differently from now on: the SLOs' histories are derived again, explicitly.
		if before.IntervalSeconds != f.IntervalSeconds || before.SamplePolicy != f.SamplePolicy {
			rederive = true
			for _, slo := range slos {
				if err := s.rederiveLater(tx, slo); err != nil {
					return err
				}
			}
			if err := s.bumpBindings(tx, id); err != nil {
				return err
			}
		}
		// The feed's interval and fields are part of its SLOs' numbers.
		return s.bumpState(tx, slos...)
	})
	if err != nil {
		return models.Feed{}, err
	}
	if rederive {
		s.bindings.drop(id)
		s.wakeDeriver()
	}
	s.touched(slos)
	return s.Feed(ctx, id)
}

// DeleteFeed removes a feed with its tokens, deliveries and samples.
func (s *Store) DeleteFeed(ctx context.Context, id int64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Samples have no foreign key to cascade on (it would cost every insert).
		for _, q := range []string{
			"DELETE FROM samples WHERE series_id IN (SELECT id FROM series WHERE feed_id = ?)",
			"DELETE FROM sample_parts WHERE series_id IN (SELECT id FROM series WHERE feed_id = ?)",
		} {
			if err := tx.Exec(q, id).Error; err != nil {
				return fmt.Errorf("delete samples of feed %d: %w", id, err)
			}
		}
		res := tx.Delete(&models.Feed{}, id)
		if res.Error != nil {
			return fmt.Errorf("delete feed %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.ENOTFOUND, "feed %d not found", id)
		}
		return nil
	})
	if err == nil {
		s.series.forget(id)
		s.bindings.drop(id)
	}
	return err
}

// Feed loads one feed.
func (s *Store) Feed(ctx context.Context, id int64) (models.Feed, error) {
	var f models.Feed
	if err := s.db.WithContext(ctx).First(&f, id).Error; err != nil {
		return models.Feed{}, notFound(err, "feed %d not found", id)
	}
	return f, nil
}

// FeedByName loads one feed by its name.
func (s *Store) FeedByName(ctx context.Context, name string) (models.Feed, error) {
	var f models.Feed
	if err := s.db.WithContext(ctx).Where("name = ?", name).First(&f).Error; err != nil {
		return models.Feed{}, notFound(err, "feed %q not found", name)
	}
	return f, nil
}

// Feeds lists every feed with its tokens and recent activity, by name.
func (s *Store) Feeds(ctx context.Context) ([]models.FeedSummary, error) {
	db := s.db.WithContext(ctx)
	var feeds []models.Feed
	if err := db.Order("name").Find(&feeds).Error; err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	var tokens []models.FeedToken
	if err := db.Order("id").Find(&tokens).Error; err != nil {
		return nil, fmt.Errorf("list feed tokens: %w", err)
	}
	// Per feed, each answered from an index, so the page stays fast however
	// long the delivery log and the sample history grow.
	var acts []struct {
		FeedID     int64
		Last       *string
		Deliveries int
		Rejected   int
	}
	since := s.now().Add(-24 * time.Hour)
	if err := db.Raw(`SELECT f.id AS feed_id,
			CAST((SELECT MAX(received_at) FROM deliveries l WHERE l.feed_id = f.id) AS TEXT) AS last,
			COUNT(d.id) AS deliveries, COALESCE(SUM(d.rejected), 0) AS rejected
		FROM feeds f LEFT JOIN deliveries d ON d.feed_id = f.id AND d.received_at >= ?
		GROUP BY f.id`, since).Scan(&acts).Error; err != nil {
		return nil, fmt.Errorf("feed activity: %w", err)
	}
	out := make([]models.FeedSummary, len(feeds))
	byID := map[int64]*models.FeedSummary{}
	for i, f := range feeds {
		last, err := lastSampleAt(db, f.ID)
		if err != nil {
			return nil, err
		}
		out[i] = models.FeedSummary{Feed: f, Tokens: []models.FeedToken{}, LastSampleAt: last}
		byID[f.ID] = &out[i]
	}
	for _, t := range tokens {
		if fs := byID[t.FeedID]; fs != nil {
			fs.Tokens = append(fs.Tokens, t)
		}
	}
	for _, a := range acts {
		if fs := byID[a.FeedID]; fs != nil {
			fs.LastDeliveryAt = parseDBTime(a.Last)
			fs.Deliveries24h, fs.Rejected24h = a.Deliveries, a.Rejected
		}
	}
	return out, nil
}

// lastSampleAt is the start of a feed's newest bucket, from its series' data times.
func lastSampleAt(db *gorm.DB, feedID int64) (*time.Time, error) {
	var last *int64
	if err := db.Raw("SELECT MAX(last_bucket) FROM series WHERE feed_id = ?", feedID).Row().Scan(&last); err != nil {
		return nil, fmt.Errorf("last sample of feed %d: %w", feedID, err)
	}
	if last == nil {
		return nil, nil
	}
	t := time.Unix(*last, 0).UTC()
	return &t, nil
}

// parseDBTime reads an aggregate timestamp that came back as text; the two
// dialects print them differently.
func parseDBTime(s *string) *time.Time {
	if s == nil || *s == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999-07", "2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano} {
		if t, err := time.Parse(layout, *s); err == nil {
			t = t.UTC()
			return &t
		}
	}
	return nil
}

// CreateFeedToken adds a webhook token to a feed and returns it in plain text, once.
func (s *Store) CreateFeedToken(ctx context.Context, feedID int64) (string, models.FeedToken, error) {
	if _, err := s.Feed(ctx, feedID); err != nil {
		return "", models.FeedToken{}, err
	}
	plain, hash, hint := models.NewSecret(models.FeedTokenPrefix)
	t := models.FeedToken{FeedID: feedID, Hash: hash, Hint: hint, CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		return "", models.FeedToken{}, fmt.Errorf("create feed token: %w", err)
	}
	return plain, t, nil
}

// RevokeFeedToken stops a token from being accepted; it stays listed.
func (s *Store) RevokeFeedToken(ctx context.Context, feedID, tokenID int64) error {
	res := s.db.WithContext(ctx).Model(&models.FeedToken{}).
		Where("id = ? AND feed_id = ? AND revoked_at IS NULL", tokenID, feedID).
		Update("revoked_at", s.now())
	if res.Error != nil {
		return fmt.Errorf("revoke feed token %d: %w", tokenID, res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.ENOTFOUND, "active token %d of feed %d not found", tokenID, feedID)
	}
	return nil
}

// FeedByToken finds the feed a webhook token belongs to, and the token's id.
// Unknown and revoked tokens get the same ENOTFOUND answer.
func (s *Store) FeedByToken(ctx context.Context, plain string) (models.Feed, int64, error) {
	if !strings.HasPrefix(plain, models.FeedTokenPrefix) || len(plain) > 128 {
		return models.Feed{}, 0, models.Errorf(models.ENOTFOUND, "unknown or revoked token")
	}
	hash := models.HashSecret(plain)
	var row struct {
		models.Feed
		TokenID   int64
		TokenHash []byte
		TokenUsed *time.Time
	}
	err := s.db.WithContext(ctx).Raw(`SELECT f.*, t.id AS token_id, t.hash AS token_hash, t.last_used_at AS token_used
		FROM feed_tokens t JOIN feeds f ON f.id = t.feed_id
		WHERE t.hash = ? AND t.revoked_at IS NULL`, hash).Scan(&row).Error
	if err != nil {
		return models.Feed{}, 0, fmt.Errorf("look up feed token: %w", err)
	}
	if row.ID == 0 || !models.SameHash(row.TokenHash, hash) {
		return models.Feed{}, 0, models.Errorf(models.ENOTFOUND, "unknown or revoked token")
	}
	// Record use at most once a minute (lookups are cached too): the feeds
	// page shows it, and ingest does not pay a write per delivery.
	now := s.now()
	if row.TokenUsed == nil || now.Sub(*row.TokenUsed) > time.Minute {
		if err := s.db.WithContext(ctx).Model(&models.FeedToken{}).Where("id = ?", row.TokenID).Update("last_used_at", now).Error; err != nil {
			s.log.WarnContext(ctx, "record a feed token's use", "feed", row.Name, "err", err)
		}
	}
	return row.Feed, row.TokenID, nil
}
