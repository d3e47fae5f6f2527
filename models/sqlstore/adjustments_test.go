package sqlstore_test

import (
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// The changes made after the fact that moved an SLO's numbers come back with
// who, when and why: a target change, maintenance added late (for the SLO or
// its service), maintenance removed after it ran; planned maintenance and
// other services' windows do not.
func TestAdjustments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		mustFeed(t, s, "web", "service")
		for _, name := range []string{"checkout", "search"} {
			if _, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: name}); err != nil {
				t.Fatal(err)
			}
		}
		in := models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio", Target: "99.9", Window: "month",
			Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"}
		d, _, err := s.CreateSLO(ctx, "sam", in)
		if err != nil {
			t.Fatal(err)
		}
		checkout, search := d.ServiceID, d.ServiceID+1
		window := func(svc *int64, slo *int64, from time.Duration, reason string) models.Maintenance {
			m, err := s.CreateMaintenance(ctx, "bob", models.MaintenanceInput{ServiceID: svc, SLOID: slo, StartsAt: now.Add(from),
				EndsAt: now.Add(from + 90*time.Minute), Reason: reason})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		window(&checkout, nil, -52*time.Hour, "outage forgiven")   // added two days late
		window(nil, &d.ID, 24*time.Hour, "planned upgrade")        // ahead of time
		window(&search, nil, -30*time.Hour, "another service's")   // not this SLO's
		gone := window(nil, &d.ID, -10*time.Hour, "removed later") // added late too, then removed
		now = now.Add(time.Hour)
		if err := s.DeleteMaintenance(ctx, "carol", gone.ID); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		in.Target = "99.5"
		if _, _, err := s.UpdateSLO(ctx, "alice", d.ID, in); err != nil {
			t.Fatal(err)
		}
		d, err = s.SLO(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		all, err := s.Adjustments(ctx, []models.SLODetail{d}, start, start.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		type row struct{ kind, by, why string }
		var got []row
		for _, a := range all[d.ID] {
			got = append(got, row{a.Kind, a.By, a.Why})
		}
		want := []row{
			{models.AdjustMaintenanceAdded, "bob", "outage forgiven"},
			{models.AdjustMaintenanceRemoved, "carol", "removed later"},
			{models.AdjustTarget, "alice", "target 99.9% → 99.5%"},
		}
		if len(got) != len(want) {
			t.Fatalf("adjustments %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("adjustment %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		if a := all[d.ID][1]; !a.Made.Equal(time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)) || a.Until == nil {
			t.Errorf("the removal's when: %+v", a)
		}
		// October knew none of it.
		oct, err := s.Adjustments(ctx, []models.SLODetail{d}, start.AddDate(0, -1, 0), start)
		if err != nil || len(oct[d.ID]) != 0 {
			t.Fatalf("October: %+v %v", oct[d.ID], err)
		}
	})
}
