package models

import (
	"testing"
	"time"
)

// Which changes mark a period as adjusted, worked by hand on a November
// report: [Nov 1, Dec 1).
func TestAdjustmentAffects(t *testing.T) {
	day := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	until := func(t time.Time) *time.Time { return &t }
	start, end := day(1, 0, 0), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		a    Adjustment
		want bool
	}{
		{"a target in force from the 12th", Adjustment{Kind: AdjustTarget, At: day(12, 10, 0), Made: day(12, 10, 0)}, true},
		{"a target from December", Adjustment{Kind: AdjustTarget, At: end, Made: end}, false},
		// Added two days after the outage it covers began: the 10th's numbers changed on the 12th.
		{"maintenance added two days late", Adjustment{Kind: AdjustMaintenanceAdded, At: day(10, 9, 0), Until: until(day(10, 11, 0)), Made: day(12, 8, 0)}, true},
		{"maintenance planned ahead", Adjustment{Kind: AdjustMaintenanceAdded, At: day(10, 9, 0), Until: until(day(10, 11, 0)), Made: day(9, 8, 0)}, false},
		// Typed at 09:00 and saved at 09:03: "now", not a change to the past.
		{"maintenance added as it starts", Adjustment{Kind: AdjustMaintenanceAdded, At: day(10, 9, 0), Until: until(day(10, 11, 0)), Made: day(10, 9, 3)}, false},
		{"maintenance added 6 minutes in", Adjustment{Kind: AdjustMaintenanceAdded, At: day(10, 9, 0), Until: until(day(10, 11, 0)), Made: day(10, 9, 6)}, true},
		{"maintenance removed after it ran", Adjustment{Kind: AdjustMaintenanceRemoved, At: day(10, 9, 0), Until: until(day(10, 11, 0)), Made: day(20, 0, 0)}, true},
		{"maintenance removed before it began", Adjustment{Kind: AdjustMaintenanceRemoved, At: day(10, 9, 0), Until: until(day(10, 11, 0)), Made: day(9, 0, 0)}, false},
		// From Oct 31 22:00 to Nov 1 02:00, added at 01:00 on the 1st: November's first hour changed.
		{"a window across the month start, added during November", Adjustment{Kind: AdjustMaintenanceAdded,
			At: time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC), Until: until(day(1, 2, 0)), Made: day(1, 1, 0)}, true},
		// Added at 23:30 on Oct 31, before November began: November was never shown otherwise.
		{"a window across the month start, added in October", Adjustment{Kind: AdjustMaintenanceAdded,
			At: time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC), Until: until(day(1, 2, 0)), Made: time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC)}, false},
		{"a window in October", Adjustment{Kind: AdjustMaintenanceAdded, At: time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC),
			Until: until(time.Date(2026, 10, 3, 2, 0, 0, 0, time.UTC)), Made: end}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Affects(start, end); got != tc.want {
				t.Errorf("Affects = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTargetAdjustments(t *testing.T) {
	at := time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC)
	got := TargetAdjustments([]SLOTarget{
		{Target: 0.995, EffectiveFrom: at, CreatedBy: "alice", CreatedAt: at},
		{Target: 0.999, EffectiveFrom: time.Unix(0, 0).UTC(), CreatedBy: "sam"},
	})
	if len(got) != 1 || got[0].Why != "target 99.9% → 99.5%" || got[0].By != "alice" || !got[0].At.Equal(at) || got[0].Kind != AdjustTarget {
		t.Fatalf("%+v", got)
	}
}
