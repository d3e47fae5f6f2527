package sqlstore_test

import (
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// BenchmarkStatus100SLOs: status and budget of 100 SLOs over 30 days of
// 5-minute samples (864,000 points) on PostgreSQL (`make bench-status`).
//
//	cold: every SLO's points are read and evaluated (after a restart, or
//	      when every SLO got new data)
//	warm: what a page view costs: the cached evaluations, checked against
//	      each SLO's state version
//	clock: the clock moved past the cache's freshness: numbers recomputed
//	      from the cached points, without reading the database
func BenchmarkStatus100SLOs(b *testing.B) {
	s := dbtest.Open(b, "postgres")
	now := time.Now().UTC()
	dbtest.SeedSLOs(b, s, 100, 30, now)
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			fresh := dbtest.Reopen(b, s)
			b.StartTimer()
			reports, err := fresh.Reports(ctx, now)
			if err != nil || len(reports) != 100 || reports[0].Eval.Total == 0 {
				b.Fatalf("%d reports, %v", len(reports), err)
			}
		}
	})
	b.Run("warm", func(b *testing.B) {
		if _, err := s.Reports(ctx, now); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			reports, err := s.Reports(ctx, now.Add(time.Duration(i)*time.Millisecond))
			if err != nil || len(reports) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("clock", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			reports, err := s.Reports(ctx, now.Add(time.Duration(i+1)*20*time.Second))
			if err != nil || len(reports) != 100 {
				b.Fatal(err)
			}
		}
	})
}
