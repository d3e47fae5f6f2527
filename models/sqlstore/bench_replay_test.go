package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/spool"
)

// BenchmarkSpoolReplay: how fast a spool filled during an outage drains into
// PostgreSQL once it is back: b.N single-row deliveries (one per bucket, as a
// 5-minute report sends them), each its own spool file, replayed 500 to a
// transaction through the ingest writer with an SLO reading the series.
// Reported as deliveries/s; the spool's fsyncs on Put are not timed.
//
//	make bench-replay
func BenchmarkSpoolReplay(b *testing.B) {
	s := dbtest.Open(b, migrations.Postgres)
	f, err := s.CreateFeed(ctx, models.FeedInput{Name: "web", Interval: "5m", SeriesField: "service"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateService(ctx, "bench", models.ServiceInput{Name: "checkout"}); err != nil {
		b.Fatal(err)
	}
	if _, _, err := s.CreateSLO(ctx, "bench", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
		Target: "99.9", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"}); err != nil {
		b.Fatal(err)
	}
	if err := s.DeriveAll(ctx); err != nil {
		b.Fatal(err)
	}
	sp, err := spool.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Duration(b.N) * 5 * time.Minute).Truncate(5 * time.Minute)
	for i := 0; i < b.N; i++ {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		body := fmt.Sprintf(`{"sid":"scheduler__a__s__RMD5x_at_%d_1","result":{"service":"checkout","_time":"%d","total":"1000","good":"999"}}`, at.Unix(), at.Unix())
		if err := sp.Put(spool.Delivery{FeedID: f.ID, ReceivedAt: at.Add(time.Minute), ContentType: "application/json", Body: []byte(body)}); err != nil {
			b.Fatal(err)
		}
	}
	opt := models.IngestOptions{MaxRows: 1000, MaxRawBytes: 1 << 20}
	put := func(c context.Context, ds []spool.Delivery) []error { return s.StoreSpooled(c, ds, opt) }
	b.ResetTimer()
	n, err := sp.Replay(ctx, 500, put, func(name, reason string) { b.Errorf("%s set aside: %s", name, reason) })
	b.StopTimer()
	if err != nil || n != b.N {
		b.Fatalf("replayed %d of %d: %v", n, b.N, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
