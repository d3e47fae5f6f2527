package models

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Feed is one Splunk report (or a family of them) pushing rows by webhook.
type Feed struct {
	ID              int64  `gorm:"primaryKey" json:"id"`
	Name            string `json:"name"`
	IntervalSeconds int    `json:"interval_seconds"`
	TimeField       string `json:"time_field"`
	SeriesField     string `json:"series_field"`
	// SamplePolicy is what a row for a bucket already stored does: PolicyReplace (the
	// default) or PolicyAdd.
	SamplePolicy string `json:"sample_policy"`
	// RetentionDays keeps this feed's samples a shorter time than the installation
	// does; nil: the installation's retention.
	RetentionDays *int      `json:"retention_days"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Sample policies: what a row does to a bucket that is already stored.
const (
	// PolicyReplace: the later row replaces the stored one, whatever its sid, so a
	// re-run search, a corrected resend or a backfill never counts a bucket twice.
	PolicyReplace = "replace"
	// PolicyAdd: the row's numbers are added to the stored ones, for searches that emit
	// partial counts within a bucket. A row already added (same sid and content) is a
	// duplicate.
	PolicyAdd = "add"
)

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
	// SamplePolicy is PolicyReplace (the default when empty) or PolicyAdd.
	SamplePolicy string
	// RetentionDays, a number of days (at least 7), or empty for the installation's.
	RetentionDays string
}

var feedNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate normalises the input and names every field at fault (FieldErrors).
func (in *FeedInput) Validate() (Feed, error) {
	var fe FieldErrors
	in.Name = strings.TrimSpace(in.Name)
	if !feedNameRE.MatchString(in.Name) {
		fe.Add("name", "name %q: use 1–63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", in.Name)
	}
	interval := 5 * time.Minute
	if s := strings.TrimSpace(in.Interval); s != "" {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			fe.Add("interval", "interval %q is not a duration: write e.g. 1m, 5m or 1h", s)
		case d < 10*time.Second || d > 24*time.Hour || d%time.Second != 0:
			fe.Add("interval", "interval %s is out of range: use whole seconds between 10s and 24h", d)
		default:
			interval = d
		}
	}
	timeField := strings.TrimSpace(in.TimeField)
	if timeField == "" {
		timeField = "_time"
	}
	series := strings.TrimSpace(in.SeriesField)
	for _, f := range [][2]string{{"series_field", series}, {"time_field", timeField}} {
		if err := CheckFieldName(f[1]); f[1] != "" && err != nil {
			fe.Add(f[0], "%s: %v", f[0], err)
		}
	}
	policy := strings.TrimSpace(in.SamplePolicy)
	switch policy {
	case "":
		policy = PolicyReplace
	case PolicyReplace, PolicyAdd:
	default:
		fe.Add("sample_policy", "sample policy %q: use replace (a later row for a bucket replaces the stored one) or add (rows for a bucket are summed)", policy)
	}
	var retention *int
	if r := strings.TrimSuffix(strings.TrimSpace(in.RetentionDays), "d"); r != "" {
		days, err := strconv.Atoi(r)
		if err != nil || days < 7 || days > 3660 {
			fe.Add("retention_days", "retention %q: write a number of days from 7 to 3660, or leave it empty for the installation's", in.RetentionDays)
		} else {
			retention = &days
		}
	}
	if err := fe.Err(); err != nil {
		return Feed{}, err
	}
	return Feed{Name: in.Name, IntervalSeconds: int(interval / time.Second), TimeField: timeField, SeriesField: series,
		SamplePolicy: policy, RetentionDays: retention}, nil
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
