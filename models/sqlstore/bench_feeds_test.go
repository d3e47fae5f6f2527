package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// BenchmarkFeeds (`make bench-feeds`): 5 feeds, 950,000 deliveries received
// evenly over the last 30 days and 950,400 samples (110 series × 30 days of
// 5-minute buckets), on PostgreSQL.
//
//	list         the feeds list (the /feeds page and GET /api/v1/feeds): every
//	             feed with its tokens, last delivery, last sample and the last
//	             day's deliveries and rejections
//	retain-none  the hourly retention pass when nothing is past the retention
//	             (30 days of deliveries)
//	retain-day   the pass when a day of deliveries has aged out: its partition
//	             is dropped whole
func BenchmarkFeeds(b *testing.B) {
	s := dbtest.Open(b, "postgres")
	now := time.Now().UTC().Truncate(time.Second)
	const feeds, series, deliveries = 5, 110, 950_000
	for f := range feeds {
		feed, err := s.CreateFeed(ctx, models.FeedInput{Name: fmt.Sprintf("feed%d", f), Interval: "5m", SeriesField: "service"})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.CreateFeedToken(ctx, feed.ID); err != nil {
			b.Fatal(err)
		}
	}
	db := s.DB().WithContext(ctx)
	span := 30 * 24 * time.Hour
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO series (feed_id, key, last_bucket)
			SELECT f.id, 'svc' || k, ? FROM feeds f CROSS JOIN generate_series(0, ? - 1) AS k`, []any{now.Unix() / 300 * 300, series / feeds}},
		{`INSERT INTO samples (series_id, bucket, fields, delivery_id)
			SELECT sr.id, ? - b * 300, '{"good":999,"total":1000}', b FROM series sr CROSS JOIN generate_series(0, 30 * 288 - 1) AS b`,
			[]any{now.Unix() / 300 * 300}},
		{`INSERT INTO deliveries (feed_id, received_at, outcome, code, shape, body, body_bytes, rows_total, accepted, rejected)
			SELECT (SELECT min(id) FROM feeds) + d % ?, ?::timestamptz - (d::bigint * ?::bigint / ?::bigint) * interval '1 microsecond',
				CASE WHEN d % 50 = 0 THEN 'partial' ELSE 'accepted' END, '', 'batch', convert_to(repeat('x', 200), 'UTF8'), 200, 10, 10 - (d % 50 = 0)::int, (d % 50 = 0)::int
			FROM generate_series(0, ? - 1) AS d`, []any{feeds, now, span.Microseconds(), deliveries, deliveries}},
		{`VACUUM ANALYZE`, nil}, // as autovacuum would have, over 30 days
	} {
		if err := db.Exec(q.sql, q.args...).Error; err != nil {
			b.Fatal(err)
		}
	}
	b.Run("list", func(b *testing.B) {
		for range b.N {
			list, err := s.Feeds(ctx)
			if err != nil || len(list) != feeds {
				b.Fatalf("%d feeds, %v", len(list), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	})
	// The hourly retention pass: first as serve's first pass would, attaching a
	// partition per day and moving the rows out of the default partition (untimed).
	keep := sqlstore.Retention{Samples: 400 * 24 * time.Hour, Rollups: 800 * 24 * time.Hour, Deliveries: span}
	if err := s.Retain(ctx, keep); err != nil {
		b.Fatal(err)
	}
	b.Run("retain-none", func(b *testing.B) {
		for range b.N {
			if err := s.Retain(ctx, keep); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	})
	// A day passes between passes: each drops a day of deliveries (about 31,700) whole.
	day := 0
	b.Run("retain-day", func(b *testing.B) {
		for range b.N {
			day++
			s.Now = func() time.Time { return now.AddDate(0, 0, day) }
			if err := s.Retain(ctx, keep); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	})
}
