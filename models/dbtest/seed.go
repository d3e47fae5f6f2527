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
	type step struct {
		sql  string
		args []any
	}
	steps := []step{
		{`INSERT INTO series (feed_id, key) SELECT ?, 'svc' || lpad(sv::text, 3, '0') FROM generate_series(0, ? - 1) AS sv
			ON CONFLICT DO NOTHING`, []any{feed.ID, n}},
		{`INSERT INTO samples (series_id, bucket, fields)
			SELECT sr.id, ? - sl * 300,
				json_build_object('total', 1000, 'good', 1000 - CASE WHEN (sl + sv * 37) % 500 < 3 THEN 40 ELSE (sl % 3) END,
					'p50_ms', 80 + sv % 20, 'p95_ms', 200 + (sl * 7 + sv) % 150, 'p99_ms', 400 + (sl * 13 + sv) % 300)::text
			FROM series sr CROSS JOIN LATERAL (SELECT substr(sr.key, 4)::int AS sv) k, generate_series(0, ? - 1) AS sl
			WHERE sr.feed_id = ?`, []any{end.Unix(), slots, feed.ID}},
		{`UPDATE series SET last_bucket = ? WHERE feed_id = ?`, []any{end.Unix(), feed.ID}},
	}
	for _, r := range []struct{ table, col, unit string }{{"slo_hours", "hour", "3600"}, {"slo_days", "day", "86400"}} {
		steps = append(steps, step{`INSERT INTO ` + r.table + ` (slo_id, generation, ` + r.col + `, bad, total, excluded)
			SELECT b.slo_id, 1, floor(s.bucket / ` + r.unit + `.0)::bigint * ` + r.unit + `,
				sum((s.fields::json ->> 'total')::float8 - (s.fields::json ->> 'good')::float8), sum((s.fields::json ->> 'total')::float8), 0
			FROM samples s JOIN series sr ON sr.id = s.series_id JOIN slo_bindings b ON b.feed_id = sr.feed_id AND b.series = sr.key
			WHERE sr.feed_id = ? GROUP BY 1, 3`, []any{feed.ID}})
	}
	steps = append(steps, step{`UPDATE slo_bindings SET generation = 1`, nil},
		step{`UPDATE slos SET generation = 1, pending_generation = NULL`, nil},
		step{`UPDATE slo_state SET version = nextval('slo_version_seq')`, nil})
	for _, st := range steps {
		if err := db.Exec(st.sql, st.args...).Error; err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.Exec(`ANALYZE`).Error; err != nil {
		tb.Fatal(err)
	}
	return ids
}
