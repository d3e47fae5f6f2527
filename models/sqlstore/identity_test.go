package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Sample identity: a bucket counts once whatever way it is sent again — under another
// sid (a re-run search), with numbers instead of strings, once by webhook and once in a
// batch, or corrected again and again (total 100 → 200 → 300 → 400: the SLO counts 400,
// not 1,000). Under 'add' partial counts add up and a resent part is a duplicate.
func TestSampleIdentity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		f, _ := mustFeed(t, s, "web", "service")
		if _, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout"}); err != nil {
			t.Fatal(err)
		}
		slo, _, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
			Target: "99", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		at := now.Add(-time.Hour).Unix()
		send := func(body string) models.IngestResult {
			t.Helper()
			res, err := s.IngestBody(ctx, f, 0, []byte(body), "application/json", now, models.IngestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		native := func(sid, total, good string) string {
			return fmt.Sprintf(`{"sid":%q,"result":{"service":"checkout","_time":"%d","total":%s,"good":%s}}`, sid, at, total, good)
		}
		steps := []struct {
			name                          string
			body                          string
			accepted, replaced, duplicate int
		}{
			{"first", native("scheduler__a__s__RMD5a_at_1_1", `"100"`, `"99"`), 1, 0, 0},
			{"a re-run search: another sid", native("scheduler__a__s__RMD5b_at_2_1", `"100"`, `"99"`), 0, 0, 1},
			{"numbers instead of strings", native("scheduler__a__s__RMD5c_at_3_1", `100`, `99`), 0, 0, 1},
			{"in a batch", fmt.Sprintf(`{"results":[{"service":"checkout","_time":"%d","total":"100","good":"99"}]}`, at), 0, 0, 1},
			{"corrected to 200", native("x", `"200"`, `"190"`), 0, 1, 0},
			{"corrected to 300", native("y", `"300"`, `"290"`), 0, 1, 0},
			{"corrected to 400", native("z", `"400"`, `"390"`), 0, 1, 0},
		}
		for _, st := range steps {
			res := send(st.body)
			if res.Accepted != st.accepted || res.Replaced != st.replaced || res.Duplicates != st.duplicate {
				t.Fatalf("%s: accepted %d replaced %d duplicates %d, want %d %d %d", st.name, res.Accepted, res.Replaced, res.Duplicates,
					st.accepted, st.replaced, st.duplicate)
			}
		}
		settle(t, s)
		r, err := s.Report(ctx, slo.ID, now)
		if err != nil || r.Eval.Total != 400 || r.Eval.Bad != 10 {
			t.Fatalf("the SLO counts total %v bad %v, want the last correction (400, 10): %v", r.Eval.Total, r.Eval.Bad, err)
		}

		// 'add': partial counts for one bucket add up; a resent part is a duplicate.
		parts, err := s.CreateFeed(ctx, models.FeedInput{Name: "parts", Interval: "5m", SeriesField: "service", SamplePolicy: models.PolicyAdd})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct{ accepted, duplicate int }{{1, 0}, {1, 0}, {0, 1}} {
			host := []string{"web01", "web02", "web02"}[i]
			body := fmt.Sprintf(`{"sid":"s","result":{"service":"checkout","host":%q,"_time":"%d","total":"10","good":"9"}}`, host, at)
			res, err := s.IngestBody(ctx, parts, 0, []byte(body), "", now, models.IngestOptions{})
			if err != nil || res.Accepted != want.accepted || res.Duplicates != want.duplicate {
				t.Fatalf("part %d: %+v %v", i, res, err)
			}
		}
		got, err := s.Samples(ctx, parts.ID, models.SampleQuery{})
		if err != nil || len(got) != 1 || got[0].Fields["total"] != 20 || got[0].Fields["good"] != 18 {
			t.Fatalf("the added bucket: %+v %v", got, err)
		}
		// The same in a {"results": [...]} batch, which is read from its JSON tokens: each
		// row's identity is its own JSON, so resending the batch adds nothing.
		batch := fmt.Sprintf(`{"sid":"s","results":[{"service":"checkout","host":"web03","_time":"%[1]d","total":"10","good":"9"},`+
			`{"service":"checkout","host":"web04","_time":"%[1]d","total":"10","good":"9"}]}`, at)
		for i, want := range []struct{ accepted, duplicate int }{{2, 0}, {0, 2}} {
			res, err := s.IngestBody(ctx, parts, 0, []byte(batch), "application/json", now, models.IngestOptions{})
			if err != nil || res.Accepted != want.accepted || res.Duplicates != want.duplicate {
				t.Fatalf("batch %d: %+v %v", i, res, err)
			}
		}
		got, err = s.Samples(ctx, parts.ID, models.SampleQuery{})
		if err != nil || len(got) != 1 || got[0].Fields["total"] != 40 || got[0].Fields["good"] != 36 {
			t.Fatalf("the added bucket after the batch: %+v %v", got, err)
		}

		// Rows of more than 16 fields are summed and compared through a map
		// (models.Fields), with the same outcomes as narrow rows.
		wide := func(host string, v float64) string {
			var b strings.Builder
			fmt.Fprintf(&b, `{"sid":"w","result":{"service":"wide","host":%q,"_time":"%d"`, host, at)
			for i := range 20 {
				fmt.Fprintf(&b, `,"f%02d":"%g"`, i, v+float64(i))
			}
			b.WriteString("}}")
			return b.String()
		}
		for i, want := range []struct{ accepted, duplicate int }{{1, 0}, {1, 0}, {0, 1}} {
			host := []string{"web01", "web02", "web02"}[i]
			res, err := s.IngestBody(ctx, parts, 0, []byte(wide(host, 5)), "", now, models.IngestOptions{})
			if err != nil || res.Accepted != want.accepted || res.Duplicates != want.duplicate {
				t.Fatalf("wide part %d: %+v %v", i, res, err)
			}
		}
		wideSeries := "wide"
		got, err = s.Samples(ctx, parts.ID, models.SampleQuery{Series: &wideSeries})
		if err != nil || len(got) != 1 || len(got[0].Fields) != 20 || got[0].Fields["f00"] != 10 || got[0].Fields["f19"] != 48 {
			t.Fatalf("the added wide bucket: %+v %v", got, err)
		}
		for _, st := range []struct {
			name                          string
			v                             float64
			accepted, replaced, duplicate int
		}{{"a wide row", 1, 1, 0, 0}, {"the same again", 1, 0, 0, 1}, {"its numbers changed", 2, 0, 1, 0}} {
			res := send(wide("web01", st.v))
			if res.Accepted != st.accepted || res.Replaced != st.replaced || res.Duplicates != st.duplicate {
				t.Fatalf("%s: accepted %d replaced %d duplicates %d, want %d %d %d", st.name, res.Accepted, res.Replaced, res.Duplicates,
					st.accepted, st.replaced, st.duplicate)
			}
		}
	})
}

// A row an SLO cannot use, stored before the SLO existed (good > total: nothing read
// the series then, so ingest could not refuse it), is left out when the SLO's history
// is derived, and counted as excluded — never an SLI above 1 or a negative bad count.
func TestDerivationExcludesRowsIngestWouldRefuse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		f, _ := mustFeed(t, s, "web", "service")
		for i, row := range []string{`"total":"100","good":"148"`, `"total":"100","good":"99"`} {
			body := fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d",%s}}`, now.Add(time.Duration(i-2)*time.Hour).Unix(), row)
			if res, err := s.IngestBody(ctx, f, 0, []byte(body), "", now, models.IngestOptions{}); err != nil || res.Accepted != 1 {
				t.Fatalf("row %d: %+v %v", i, res, err)
			}
		}
		if _, err := s.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout"}); err != nil {
			t.Fatal(err)
		}
		slo, _, err := s.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
			Target: "99", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeriveAll(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, s)
		r, err := s.Report(ctx, slo.ID, now)
		if err != nil || r.Eval.Total != 100 || r.Eval.Bad != 1 || r.Eval.Excluded != 1 || r.Eval.SLI > 1 {
			t.Fatalf("total %v bad %v excluded %d SLI %v: %v", r.Eval.Total, r.Eval.Bad, r.Eval.Excluded, r.Eval.SLI, err)
		}
	})
}

// The first delivery after a binding change is checked against the new bindings, on
// every replica: this store's copy of the feed's bindings is stale (loaded before the
// SLO existed), yet a row with a non-numeric total for the new SLO is rejected.
func TestFirstDeliveryAfterABindingChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		f, _ := mustFeed(t, s, "web", "service")
		row := func(i int, total string) string {
			return fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":%q,"good":"1"}}`, now.Add(time.Duration(i-10)*5*time.Minute).Unix(), total)
		}
		if res, err := s.IngestBody(ctx, f, 0, []byte(row(0, "1")), "", now, models.IngestOptions{}); err != nil || res.Accepted != 1 {
			t.Fatalf("before the SLO: %+v %v", res, err)
		}
		other := dbtest.Reopen(t, s) // another replica makes the change
		if _, err := other.CreateService(ctx, "sam", models.ServiceInput{Name: "checkout"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := other.CreateSLO(ctx, "sam", models.SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio",
			Target: "99", Window: "30d", Feed: "web", Series: "checkout", GoodField: "good", TotalField: "total"}); err != nil {
			t.Fatal(err)
		}
		res, err := s.IngestBody(ctx, f, 0, []byte(row(1, "abc")), "", now, models.IngestOptions{})
		if err != nil || res.Accepted != 0 || len(res.Rejected) != 1 {
			t.Fatalf("a non-numeric total for a new SLO: %+v %v", res, err)
		}
	})
}
