package sqlstore_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Samples store their fields as [name id, value, ...]: the numbers read back the same
// through any replica (one that has not seen a name yet reads the names again), a row
// equal to a sample stored as a JSON object before is a duplicate, and migrating down
// turns them back into objects.
func TestSampleFieldsCompact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		other := dbtest.Reopen(t, s)
		f, _ := mustFeed(t, s, "web", "service")
		start := now.Add(-time.Hour)
		post(t, s, f, "checkout", start, 3, func(i int) string { return fmt.Sprintf(`"total":"1000","good":"%d"`, 997+i) })
		series := "checkout"
		newest := func(st *sqlstore.Store) models.Sample {
			t.Helper()
			got, err := st.Samples(ctx, f.ID, models.SampleQuery{Series: &series, Newest: true, Limit: 1})
			if err != nil || len(got) != 1 {
				t.Fatalf("newest sample: %v %v", got, err)
			}
			return got[0]
		}
		if got := newest(other).Fields; !reflect.DeepEqual(got, map[string]float64{"good": 999, "total": 1000}) {
			t.Fatalf("the other replica reads %v", got)
		}
		// A name the other replica has not seen: it reads the names again.
		post(t, s, f, "checkout", start.Add(15*time.Minute), 1, func(int) string { return `"total":"1000","good":"990","p99_ms":"0.25"` })
		want := map[string]float64{"good": 990, "total": 1000, "p99_ms": 0.25}
		if got := newest(other).Fields; !reflect.DeepEqual(got, want) {
			t.Fatalf("after a new field the other replica reads %v, want %v", got, want)
		}
		var stored []string
		if err := s.DB().Raw("SELECT fields FROM samples ORDER BY bucket").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 4 || !strings.HasPrefix(stored[0], "[") || len(stored[0]) > len(`[1,1000,2,997]`) {
			t.Fatalf("stored fields %q: want [id,value,...] arrays", stored)
		}

		// A sample stored as an object before the change: the same row again is a duplicate.
		bucket := start.Add(5 * time.Minute).Unix()
		if err := s.DB().Exec(`UPDATE samples SET fields = '{"good":998,"total":1000}' WHERE bucket = ?`, bucket).Error; err != nil {
			t.Fatal(err)
		}
		body := func(good int) []byte {
			return fmt.Appendf(nil, `{"result":{"service":"checkout","_time":"%d","total":"1000","good":"%d"}}`, bucket, good)
		}
		res, err := s.IngestBody(ctx, f, 0, body(998), "application/json", now, models.IngestOptions{})
		if err != nil || res.Duplicates != 1 {
			t.Fatalf("resending a sample stored as an object: %+v %v; want a duplicate", res, err)
		}
		res, err = s.IngestBody(ctx, f, 0, body(900), "application/json", now, models.IngestOptions{})
		if err != nil || res.Replaced != 1 {
			t.Fatalf("correcting a sample stored as an object: %+v %v; want it replaced", res, err)
		}

		// Down to the version before: every sample a JSON object with the same numbers.
		sqlDB, err := s.DB().DB()
		if err != nil {
			t.Fatal(err)
		}
		dir, err := migrations.FS(s.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		d := goose.DialectSQLite3
		if s.Dialect() == migrations.Postgres {
			d = goose.DialectPostgres
		}
		p, err := goose.NewProvider(d, sqlDB, dir)
		if err != nil {
			t.Fatal(err)
		}
		before, err := s.Samples(ctx, f.ID, models.SampleQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 16); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().Raw("SELECT fields FROM samples ORDER BY bucket").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		for _, raw := range stored {
			if !strings.HasPrefix(raw, "{") {
				t.Fatalf("after migrating down, stored fields %q", stored)
			}
		}
		after, err := dbtest.Reopen(t, s).Samples(ctx, f.ID, models.SampleQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(before) != 4 || !reflect.DeepEqual(before, after) {
			t.Fatalf("samples before migrating down %+v, after %+v", before, after)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A delivery may name more fields than a statement takes parameters (SQLite's limit is
// 32,766): 80 rows of 450 fields each, every name new, is stored whole.
func TestManyFieldNames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		// Not what this tests: under the race detector the first delivery naming 36,000
		// fields takes longer than the default deadline.
		s.IngestDeadline = time.Minute
		f, _ := mustFeed(t, s, "web", "service")
		var rows []string
		for r := range 80 {
			var fields strings.Builder
			for i := range 450 {
				fmt.Fprintf(&fields, `,"f%05d":"%d"`, r*450+i, i)
			}
			rows = append(rows, fmt.Sprintf(`{"service":"checkout","_time":"%d"%s}`, now.Add(-time.Duration(r)*5*time.Minute).Unix(), fields.String()))
		}
		res, err := s.IngestBody(ctx, f, 0, []byte(`{"results":[`+strings.Join(rows, ",")+`]}`), "application/json", now, models.IngestOptions{})
		if err != nil || res.Accepted != 80 {
			t.Fatalf("80 rows naming 36,000 fields: %+v %v", res, err)
		}
		series := "checkout"
		got, err := dbtest.Reopen(t, s).Samples(ctx, f.ID, models.SampleQuery{Series: &series, Newest: true, Limit: 1})
		if err != nil || len(got) != 1 || len(got[0].Fields) != 450 || got[0].Fields["f00449"] != 449 {
			t.Fatalf("newest sample: %d fields, f00449 = %v (%v)", len(got[0].Fields), got[0].Fields["f00449"], err)
		}
	})
}
