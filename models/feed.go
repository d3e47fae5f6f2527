package models

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Feed is one Splunk report (or a family of them) pushing rows by webhook.
type Feed struct {
	ID              int64     `gorm:"primaryKey" json:"id"`
	Name            string    `json:"name"`
	IntervalSeconds int       `json:"interval_seconds"`
	TimeField       string    `json:"time_field"`
	SeriesField     string    `json:"series_field"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Interval is how often the feed is expected to deliver.
func (f Feed) Interval() time.Duration { return time.Duration(f.IntervalSeconds) * time.Second }

// FeedToken is one of a feed's webhook secrets; only its hash is stored.
type FeedToken struct {
	ID        int64      `gorm:"primaryKey" json:"id"`
	FeedID    int64      `json:"feed_id"`
	Hash      []byte     `json:"-"`
	Hint      string     `json:"hint"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// LastUsedAt is when the token was last presented, to the minute.
	LastUsedAt *time.Time `json:"last_used_at"`
}

// FeedInput is what a person or the CLI gives to create or change a feed.
type FeedInput struct {
	Name        string
	Interval    string // Go duration, e.g. "5m"
	TimeField   string
	SeriesField string
}

var feedNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate normalises the input and names the first field at fault.
func (in *FeedInput) Validate() (Feed, error) {
	in.Name = strings.TrimSpace(in.Name)
	if !feedNameRE.MatchString(in.Name) {
		return Feed{}, FieldErrorf("name", "name %q: use 1–63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", in.Name)
	}
	interval := 5 * time.Minute
	if s := strings.TrimSpace(in.Interval); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return Feed{}, FieldErrorf("interval", "interval %q is not a duration: write e.g. 1m, 5m or 1h", s)
		}
		if d < 10*time.Second || d > 24*time.Hour || d%time.Second != 0 {
			return Feed{}, FieldErrorf("interval", "interval %s is out of range: use whole seconds between 10s and 24h", d)
		}
		interval = d
	}
	timeField := strings.TrimSpace(in.TimeField)
	if timeField == "" {
		timeField = "_time"
	}
	series := strings.TrimSpace(in.SeriesField)
	for field, v := range map[string]string{"time_field": timeField, "series_field": series} {
		if err := checkFieldName(v); v != "" && err != nil {
			return Feed{}, FieldErrorf(field, "%s: %v", field, err)
		}
	}
	return Feed{Name: in.Name, IntervalSeconds: int(interval / time.Second), TimeField: timeField, SeriesField: series}, nil
}

// CreateFeed stores a new feed. It has no token yet: see CreateFeedToken.
func (s *Store) CreateFeed(ctx context.Context, in FeedInput) (Feed, error) {
	f, err := in.Validate()
	if err != nil {
		return Feed{}, err
	}
	now := s.now()
	f.CreatedAt, f.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(&f).Error; err != nil {
		if isUnique(err) {
			return Feed{}, &Error{Code: ECONFLICT, Field: "name", Message: fmt.Sprintf("a feed named %q already exists", f.Name)}
		}
		return Feed{}, fmt.Errorf("create feed: %w", err)
	}
	return f, nil
}

// UpdateFeed changes a feed's settings (not its tokens).
func (s *Store) UpdateFeed(ctx context.Context, id int64, in FeedInput) (Feed, error) {
	f, err := in.Validate()
	if err != nil {
		return Feed{}, err
	}
	res := s.db.WithContext(ctx).Model(&Feed{}).Where("id = ?", id).Updates(map[string]any{
		"name": f.Name, "interval_seconds": f.IntervalSeconds, "time_field": f.TimeField,
		"series_field": f.SeriesField, "updated_at": s.now(),
	})
	if res.Error != nil {
		if isUnique(res.Error) {
			return Feed{}, &Error{Code: ECONFLICT, Field: "name", Message: fmt.Sprintf("a feed named %q already exists", f.Name)}
		}
		return Feed{}, fmt.Errorf("update feed %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return Feed{}, Errorf(ENOTFOUND, "feed %d not found", id)
	}
	// The feed's interval and fields are part of its SLOs' numbers.
	if err := s.db.WithContext(ctx).Exec(`UPDATE slo_state SET version = version + 1
		WHERE slo_id IN (SELECT slo_id FROM slo_bindings WHERE feed_id = ?)`, id).Error; err != nil {
		return Feed{}, fmt.Errorf("mark SLOs of feed %d changed: %w", id, err)
	}
	return s.Feed(ctx, id)
}

// DeleteFeed removes a feed with its tokens, deliveries and samples.
func (s *Store) DeleteFeed(ctx context.Context, id int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Samples have no foreign key to cascade on PostgreSQL (migration 5).
		if err := tx.Exec("DELETE FROM samples WHERE feed_id = ?", id).Error; err != nil {
			return fmt.Errorf("delete samples of feed %d: %w", id, err)
		}
		res := tx.Delete(&Feed{}, id)
		if res.Error != nil {
			return fmt.Errorf("delete feed %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(ENOTFOUND, "feed %d not found", id)
		}
		return nil
	})
}

// Feed loads one feed.
func (s *Store) Feed(ctx context.Context, id int64) (Feed, error) {
	var f Feed
	if err := s.db.WithContext(ctx).First(&f, id).Error; err != nil {
		return Feed{}, notFound(err, "feed %d not found", id)
	}
	return f, nil
}

// FeedByName loads one feed by its name.
func (s *Store) FeedByName(ctx context.Context, name string) (Feed, error) {
	var f Feed
	if err := s.db.WithContext(ctx).Where("name = ?", name).First(&f).Error; err != nil {
		return Feed{}, notFound(err, "feed %q not found", name)
	}
	return f, nil
}

// FeedSummary is a feed with what its list page and API show.
type FeedSummary struct {
	Feed
	Tokens         []FeedToken `json:"tokens"`
	LastDeliveryAt *time.Time  `json:"last_delivery_at"`
	LastSampleAt   *time.Time  `json:"last_sample_at"`
	Deliveries24h  int         `json:"deliveries_24h"`
	Rejected24h    int         `json:"rejected_rows_24h"`
}

// Late reports whether the feed has sent nothing for more than twice its interval.
func (f FeedSummary) Late(now time.Time) bool {
	if f.LastDeliveryAt == nil {
		return false
	}
	return now.Sub(*f.LastDeliveryAt) > 2*f.Interval()
}

// Feeds lists every feed with its tokens and recent activity, by name.
func (s *Store) Feeds(ctx context.Context) ([]FeedSummary, error) {
	db := s.db.WithContext(ctx)
	var feeds []Feed
	if err := db.Order("name").Find(&feeds).Error; err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	var tokens []FeedToken
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
	out := make([]FeedSummary, len(feeds))
	byID := map[int64]*FeedSummary{}
	for i, f := range feeds {
		last, err := lastSampleAt(db, f.ID)
		if err != nil {
			return nil, err
		}
		out[i] = FeedSummary{Feed: f, Tokens: []FeedToken{}, LastSampleAt: last}
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

// lastSampleAt is the time of a feed's newest sample. The samples index is
// by feed, series and time, so it skips from series to series (two index
// probes each) rather than reading every sample of the feed.
func lastSampleAt(db *gorm.DB, feedID int64) (*time.Time, error) {
	var last *string
	err := db.Raw(`WITH RECURSIVE sr (series) AS (
			SELECT (SELECT MIN(series) FROM samples WHERE feed_id = ?)
			UNION ALL
			SELECT (SELECT MIN(series) FROM samples WHERE feed_id = ? AND series > sr.series) FROM sr WHERE sr.series IS NOT NULL)
		SELECT CAST(MAX((SELECT MAX(ts) FROM samples WHERE feed_id = ? AND series = sr.series)) AS TEXT) FROM sr WHERE sr.series IS NOT NULL`,
		feedID, feedID, feedID).Row().Scan(&last)
	if err != nil {
		return nil, fmt.Errorf("last sample of feed %d: %w", feedID, err)
	}
	return parseDBTime(last), nil
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
func (s *Store) CreateFeedToken(ctx context.Context, feedID int64) (string, FeedToken, error) {
	if _, err := s.Feed(ctx, feedID); err != nil {
		return "", FeedToken{}, err
	}
	plain, hash, hint := NewSecret(FeedTokenPrefix)
	t := FeedToken{FeedID: feedID, Hash: hash, Hint: hint, CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		return "", FeedToken{}, fmt.Errorf("create feed token: %w", err)
	}
	return plain, t, nil
}

// RevokeFeedToken stops a token from being accepted; it stays listed.
func (s *Store) RevokeFeedToken(ctx context.Context, feedID, tokenID int64) error {
	res := s.db.WithContext(ctx).Model(&FeedToken{}).
		Where("id = ? AND feed_id = ? AND revoked_at IS NULL", tokenID, feedID).
		Update("revoked_at", s.now())
	if res.Error != nil {
		return fmt.Errorf("revoke feed token %d: %w", tokenID, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ENOTFOUND, "active token %d of feed %d not found", tokenID, feedID)
	}
	return nil
}

// FeedByToken finds the feed a webhook token belongs to, and the token's id.
// Unknown and revoked tokens get the same ENOTFOUND answer.
func (s *Store) FeedByToken(ctx context.Context, plain string) (Feed, int64, error) {
	if !strings.HasPrefix(plain, FeedTokenPrefix) || len(plain) > 128 {
		return Feed{}, 0, Errorf(ENOTFOUND, "unknown or revoked token")
	}
	hash := HashSecret(plain)
	var row struct {
		Feed
		TokenID   int64
		TokenHash []byte
		TokenUsed *time.Time
	}
	err := s.db.WithContext(ctx).Raw(`SELECT f.*, t.id AS token_id, t.hash AS token_hash, t.last_used_at AS token_used
		FROM feed_tokens t JOIN feeds f ON f.id = t.feed_id
		WHERE t.hash = ? AND t.revoked_at IS NULL`, hash).Scan(&row).Error
	if err != nil {
		return Feed{}, 0, fmt.Errorf("look up feed token: %w", err)
	}
	if row.ID == 0 || !SameHash(row.TokenHash, hash) {
		return Feed{}, 0, Errorf(ENOTFOUND, "unknown or revoked token")
	}
	// Record use at most once a minute (lookups are cached too): the feeds
	// page shows it, and ingest does not pay a write per delivery.
	now := s.now()
	if row.TokenUsed == nil || now.Sub(*row.TokenUsed) > time.Minute {
		_ = s.db.WithContext(ctx).Model(&FeedToken{}).Where("id = ?", row.TokenID).Update("last_used_at", now).Error
	}
	return row.Feed, row.TokenID, nil
}
