package sqlstore_test

import (
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// BenchmarkStatus100SLOs: status and budget of 100 SLOs over 30 days of
// 5-minute samples (864,000 samples) on PostgreSQL (`make bench-status`).
//
//	cold:    a fresh store (read model empty) and no stored summary: every
//	         SLO's numbers are computed from the roll-ups
//	restart: a fresh store whose summaries are stored: what a restarted
//	         replica's first page costs
//	warm:    what a page view costs: the numbers in memory
//	clock:   the clock moved on: the numbers judged again at the new time
func BenchmarkStatus100SLOs(b *testing.B) {
	s := dbtest.Open(b, "postgres")
	now := time.Now().UTC()
	dbtest.SeedSLOs(b, s, 100, 30, now)
	for _, stored := range []bool{false, true} {
		name := "cold"
		if stored {
			name = "restart"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if !stored {
					if err := s.DB().Exec("UPDATE slo_state SET summary = '', summary_version = -1").Error; err != nil {
						b.Fatal(err)
					}
				}
				fresh := dbtest.Reopen(b, s)
				b.StartTimer()
				reports, err := fresh.Reports(ctx, now)
				if err != nil || len(reports) != 100 || reports[0].Eval.Total == 0 {
					b.Fatalf("%d reports, %v", len(reports), err)
				}
				b.StopTimer()
				_ = fresh.Close()
				b.StartTimer()
			}
		})
	}
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
