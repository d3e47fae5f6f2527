package sqlstore_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// post sends one native Splunk row per 5 minutes for a series, from start, n times.
func post(t *testing.T, s *sqlstore.Store, f models.Feed, series string, start time.Time, n int, row func(i int) string) {
	t.Helper()
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		body := fmt.Sprintf(`{"sid":"scheduler__a__s__RMD5x_at_%d_1","result":{"service":%q,"_time":"%d",%s}}`, at.Unix(), series, at.Unix(), row(i))
		res, err := s.IngestBody(ctx, f, 0, []byte(body), "application/json", at.Add(time.Minute), models.IngestOptions{})
		if err != nil || res.Accepted != 1 {
			t.Fatalf("post %d: %+v %v", i, res, err)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// settle brings the store's read model up to date, as its background loop would.
func settle(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSLOLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		f, _ := mustFeed(t, s, "web", "service")
		start := now.Add(-24 * time.Hour)
		// History before the SLO exists: 288 rows, 1000 events each, 1 bad.
		post(t, s, f, "checkout", start, 288, func(i int) string { return `"total":"1000","good":"999","p95_ms":"200"` })

		if _, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout", Team: "payments", Tier: "1"}); err != nil {
			t.Fatal(err)
		}
		in := models.SLOInput{Service: "checkout", Name: "checkout-availability", DisplayName: "Checkout availability",
			Indicator: "ratio", Target: "99.9", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total",
			LatencyFields: "p95_ms"}
		d, warnings, err := s.CreateSLO(ctx, "sam", in)
		if err != nil || len(warnings) != 0 {
			t.Fatalf("create: %v %v", err, warnings)
		}
		if d.Rederiving == nil || d.Rederiving.Total != 288 {
			t.Fatalf("history derivation not scheduled: %+v", d.Rederiving)
		}
		settle(t, s)
		r, err := s.Report(ctx, d.ID, now)
		if err != nil || r.Eval.Status != models.StatusComputing {
			t.Fatalf("before derivation: %v %+v", err, r.Eval.Status)
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, s)
		r, err = s.Report(ctx, d.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		// 288 000 events, 288 bad; allowed = 0.001 × 288 000 = 288: exactly spent.
		if r.Eval.Total != 288000 || r.Eval.Bad != 288 || !near(r.Eval.Remaining, 0) {
			t.Fatalf("derived: total %v bad %v remaining %v", r.Eval.Total, r.Eval.Bad, r.Eval.Remaining)
		}

		// New rows reach the SLO at ingest, and the cached report sees them at once.
		post(t, s, f, "checkout", now, 1, func(int) string { return `"total":"100000","good":"100000"` })
		settle(t, s)
		r, err = s.Report(ctx, d.ID, now.Add(time.Second))
		// 288 bad of 388 000 allowed 388: 25.8% left; the day's rate, 287 bad of 387 000,
		// is 0.74×, which would spend it in 0.258 × 30 d / 0.74 = 10.4 days, within the
		// window: at risk, and the page says when.
		if err != nil || r.Eval.Total != 388000 || r.Eval.Status != models.StatusAtRisk || r.Eval.ExhaustsAt == nil {
			t.Fatalf("after ingest: %v total %v status %v", err, r.Eval.Total, r.Eval.Status)
		}
		// A row with more good than total events for this SLO is rejected with a reason.
		body := fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"10","good":"12"}}`, now.Add(5*time.Minute).Unix())
		res, err := s.IngestBody(ctx, f, 0, []byte(body), "", now.Add(6*time.Minute), models.IngestOptions{})
		if err != nil || len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0].Reason, "good (12) is more than total (10)") {
			t.Fatalf("good > total: %+v %v", res, err)
		}

		// A target change applies to the current period; the old one stays in the history.
		in.Target = "99"
		d, _, err = s.UpdateSLO(ctx, "sam", d.ID, in)
		if err != nil || len(d.Targets) != 2 || d.Target(now) != 0.99 || d.Target(now.Add(-time.Hour)) != 0.999 {
			t.Fatalf("target change: %v %+v", err, d.Targets)
		}
		if d.Rederiving != nil {
			t.Fatal("a target change re-derives history")
		}

		// A binding change re-derives in the background: the SLO says "computing" (with the
		// old numbers) until then.
		in.GoodField, in.BadField = "", "bad"
		in.Indicator, in.ValueField, in.Op, in.Threshold, in.TotalField = "threshold", "p95_ms", "lte", "150", ""
		d, warnings, err = s.UpdateSLO(ctx, "sam", d.ID, in)
		if err != nil || d.Rederiving == nil {
			t.Fatalf("binding change: %v %+v", err, d)
		}
		if len(warnings) != 0 {
			t.Fatalf("warnings: %v", warnings)
		}
		settle(t, s)
		r, _ = s.Report(ctx, d.ID, now.Add(2*time.Second))
		if r.Eval.Total != 388000 || r.Eval.Status != models.StatusComputing {
			t.Fatalf("during re-derivation: total %v status %s", r.Eval.Total, r.Eval.Status)
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, s)
		r, _ = s.Report(ctx, d.ID, now.Add(3*time.Second))
		// 288 slices, all with p95 200 > 150: all bad (the last row has no p95: no slice).
		if r.Eval.Total != 288 || r.Eval.Bad != 288 || r.Eval.Status != models.StatusBreached {
			t.Fatalf("re-derived threshold SLO: total %v bad %v %v", r.Eval.Total, r.Eval.Bad, r.Eval.Status)
		}

		// Maintenance over the whole day excludes it.
		id := d.ID
		if _, err := s.CreateMaintenance(ctx, "sam", models.MaintenanceInput{SLOID: &id, StartsAt: start.Add(-time.Minute), EndsAt: now, Reason: "upgrade"}); err != nil {
			t.Fatal(err)
		}
		settle(t, s)
		r, _ = s.Report(ctx, d.ID, now.Add(4*time.Second))
		if r.Eval.Total != 0 || r.Eval.Status == models.StatusBreached {
			t.Fatalf("maintenance not excluded: total %v %v", r.Eval.Total, r.Eval.Status)
		}
		if _, err := s.CreateMaintenance(ctx, "sam", models.MaintenanceInput{SLOID: &id, StartsAt: now, EndsAt: now.Add(-time.Hour), Reason: "x"}); models.ErrorCode(err) != models.EINVALID ||
			!strings.Contains(err.Error(), "before it starts") {
			t.Fatalf("maintenance ending before it starts: %v", err)
		}

		// Bad input is named and changes nothing.
		bad := []struct {
			mut   func(*models.SLOInput)
			field string
		}{
			{func(i *models.SLOInput) { i.Target = "0" }, "target"},
			{func(i *models.SLOInput) { i.Target = "100" }, "target"},
			{func(i *models.SLOInput) { i.Target = "100.5" }, "target"},
			{func(i *models.SLOInput) { i.Target = "abc" }, "target"},
			{func(i *models.SLOInput) { i.Window = "0d" }, "window"},
			{func(i *models.SLOInput) { i.Window = "13mo" }, "window"},
			{func(i *models.SLOInput) { i.Window = "month"; i.TimeZone = "Mars/Olympus" }, "time_zone"},
			{func(i *models.SLOInput) { i.ValueField = "" }, "value_field"},
			{func(i *models.SLOInput) { i.Feed = "nope" }, "feed"},
			{func(i *models.SLOInput) { i.Service = "nope" }, "service"},
		}
		for _, b := range bad {
			x := in
			x.Name = "another"
			b.mut(&x)
			_, _, err := s.CreateSLO(ctx, "sam", x)
			var me *models.Error
			if models.ErrorCode(err) != models.EINVALID || !asErr(err, &me) || me.Field != b.field {
				t.Errorf("%+v: %v (field %q), want invalid %s", x, err, fieldOf(err), b.field)
			}
		}
		// A field the feed has never sent is allowed, with a warning.
		x := in
		x.Name, x.ValueField = "latency-p99", "p99_ms"
		_, warnings, err = s.CreateSLO(ctx, "sam", x)
		if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], `"p99_ms" has not been seen`) {
			t.Fatalf("unseen field: %v %v", err, warnings)
		}
		list, err := s.SLOs(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("SLOs: %d %v", len(list), err)
		}

		audit, err := s.Audit(ctx, models.AuditQuery{Entity: "slo", EntityID: d.ID})
		if err != nil || len(audit) != 3 || audit[0].Actor != "sam" || !strings.Contains(audit[0].Before, `"indicator":"ratio"`) ||
			!strings.Contains(audit[0].After, `"indicator":"threshold"`) {
			t.Fatalf("audit: %v %+v", err, audit)
		}
		if err := s.DeleteService(ctx, "sam", d.ServiceID); models.ErrorCode(err) != models.ECONFLICT {
			t.Fatalf("deleting a service with SLOs: %v", err)
		}
		if err := s.DeleteSLO(ctx, "sam", d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SLO(ctx, d.ID); models.ErrorCode(err) != models.ENOTFOUND {
			t.Fatalf("deleted SLO: %v", err)
		}
	})
}

func asErr(err error, target **models.Error) bool { return errors.As(err, target) }

func fieldOf(err error) string {
	var e *models.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
