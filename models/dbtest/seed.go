package dbtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// SeedSLOs fills a PostgreSQL store for benchmarks: n services, each with an
// availability SLO (99.9%, 30 days) on feed "bench", and days of 5-minute
// samples per series ending at now, written with set-based SQL in seconds
// rather than through the webhook. It returns the SLO ids.
func SeedSLOs(tb testing.TB, s *sqlstore.Store, n, days int, now time.Time) []int64 {
	tb.Helper()
	if s.Dialect() != migrations.Postgres {
		tb.Fatal("SeedSLOs needs PostgreSQL")
	}
	ctx := context.Background()
	feed, err := s.CreateFeed(ctx, models.FeedInput{Name: "bench", Interval: "5m", SeriesField: "service"})
	if err != nil {
		tb.Fatal(err)
	}
	var ids []int64
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc%03d", i)
		if _, err := s.CreateService(ctx, "bench", models.ServiceInput{Name: name, Team: fmt.Sprintf("team%d", i%8)}); err != nil {
			tb.Fatal(err)
		}
		d, _, err := s.CreateSLO(ctx, "bench", models.SLOInput{Service: name, Name: name + "-availability", Indicator: "ratio",
			Target: "99.9", Window: "30d", Feed: "bench", Series: name, GoodField: "good", TotalField: "total", LatencyFields: "p50_ms,p95_ms,p99_ms"})
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	slots := days * 288
	end := now.Truncate(5 * time.Minute)
	db := s.DB().WithContext(ctx)
	// A day-shaped load with a few bad patches, different per service.
	err = db.Exec(`INSERT INTO samples (feed_id, series, ts, fields, sid, row_hash)
		SELECT ?, 'svc' || lpad(sv::text, 3, '0'), ?::timestamptz - (sl * interval '5 minutes'),
			json_build_object('total', 1000, 'good', 1000 - CASE WHEN (sl + sv * 37) % 500 < 3 THEN 40 ELSE (sl % 3) END,
				'p50_ms', 80 + sv % 20, 'p95_ms', 200 + (sl * 7 + sv) % 150, 'p99_ms', 400 + (sl * 13 + sv) % 300)::text,
			'', decode(md5(sv::text || '/' || sl::text), 'hex')
		FROM generate_series(0, ? - 1) AS sv, generate_series(0, ? - 1) AS sl`, feed.ID, end, n, slots).Error
	if err != nil {
		tb.Fatal(err)
	}
	err = db.Exec(`INSERT INTO slo_points (slo_id, generation, sample_id, ts, good, total)
		SELECT b.slo_id, 1, s.id, s.ts, (s.fields::json ->> 'good')::float8, (s.fields::json ->> 'total')::float8
		FROM samples s JOIN slo_bindings b ON b.feed_id = s.feed_id AND b.series = s.series WHERE s.feed_id = ?`, feed.ID).Error
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Exec(`UPDATE slos SET generation = 1, pending_generation = NULL`).Error; err != nil {
		tb.Fatal(err)
	}
	if err := db.Exec(`UPDATE slo_state SET version = version + 1, last_point_at = ?`, end).Error; err != nil {
		tb.Fatal(err)
	}
	if err := db.Exec(`ANALYZE`).Error; err != nil {
		tb.Fatal(err)
	}
	return ids
}
