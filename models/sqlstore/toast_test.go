package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// A delivery's raw body is compressed with lz4, which costs PostgreSQL about a seventh
// of pglz's CPU (PostgreSQL 14 or newer built with lz4, as Debian's is), and reads back
// byte for byte; so does an SLO's summary once it is large enough to be compressed.
func TestLargeValuesCompressedWithLZ4(t *testing.T) {
	s := dbtest.Open(t, migrations.Postgres)
	now, f, slo := checkoutReady(t, s)
	var rows []string
	for i := range 300 {
		rows = append(rows, fmt.Sprintf(`{"service":"checkout","_time":"%d","total":"%d","good":"%d"}`,
			now.Add(-time.Duration(i)*5*time.Minute).Unix(), 1000+i, 990+i%7))
	}
	body := `{"results":[` + strings.Join(rows, ",") + `]}`
	res, err := s.IngestBody(ctx, f, 0, []byte(body), "application/json", now, models.IngestOptions{MaxRows: 1000})
	if err != nil || res.Accepted != 300 {
		t.Fatalf("%+v %v", res, err)
	}
	var method string
	if err := s.DB().Raw("SELECT coalesce(pg_column_compression(body), 'none') FROM deliveries WHERE id = ?", res.DeliveryID).Row().Scan(&method); err != nil {
		t.Fatal(err)
	}
	if method != "lz4" {
		t.Fatalf("the raw body of a %d-byte delivery is compressed with %s, not lz4", len(body), method)
	}
	d, err := s.Delivery(ctx, f.ID, res.DeliveryID)
	if err != nil || string(d.Body) != body {
		t.Fatalf("the body read back differs (%d bytes of %d), %v", len(d.Body), len(body), err)
	}
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	var size int
	if err := s.DB().Raw("SELECT length(summary), coalesce(pg_column_compression(summary), 'none') FROM slo_state WHERE slo_id = ?", slo.ID).Row().Scan(&size, &method); err != nil {
		t.Fatal(err)
	}
	if size > 2000 && method != "lz4" {
		t.Fatalf("a %d-byte summary is compressed with %s, not lz4", size, method)
	}
	t.Logf("summary: %d bytes, compression %s", size, method)
}
