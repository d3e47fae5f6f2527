package sqlstore_test

import (
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Samples arriving bucket by bucket, every series at once, leave the sample index's
// pages half full. The retention pass rebuilds a loose partition index (and drops the
// invalid copy a rebuild cut short leaves), and leaves a compact one alone; the rebuilt
// index is still the partition's primary key, so a row for a stored bucket replaces it.
func TestRetainRebuildsLooseIndexes(t *testing.T) {
	s := dbtest.Open(t, "postgres")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	r := sqlstore.Retention{Samples: 400 * 24 * time.Hour, Rollups: 800 * 24 * time.Hour, Deliveries: 30 * 24 * time.Hour}
	if err := s.Retain(ctx, r); err != nil {
		t.Fatal(err)
	}
	const index = "samples_p202611_pkey"
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix()
	db := s.DB()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO samples (series_id, bucket, fields, delivery_id)
		SELECT sr, ? + b * 300, '[1,997,2,1000]', b FROM generate_series(0, 599) b, generate_series(1, 200) sr ORDER BY b, sr`, month)
	// What a rebuild interrupted by a restart leaves: an invalid index every write keeps up.
	// (A unique index on a column with duplicates fails to build and stays, invalid.)
	if err := db.Exec("CREATE UNIQUE INDEX CONCURRENTLY " + index + "_ccnew ON samples_p202611 (series_id)").Error; err == nil {
		t.Fatal("a unique index on series_id alone was built")
	}
	exec("ANALYZE samples")
	size := func() (bytes int64, oid int64) {
		t.Helper()
		if err := db.Raw("SELECT pg_relation_size(?::regclass), ?::regclass::oid", index, index).Row().Scan(&bytes, &oid); err != nil {
			t.Fatal(err)
		}
		return bytes, oid
	}
	loose, before := size()
	if per := float64(loose) / 120_000; per < 40 {
		t.Fatalf("the index takes %.1f bytes an entry before the pass: the test's rows no longer make it loose", per)
	}
	if err := s.Retain(ctx, r); err != nil {
		t.Fatal(err)
	}
	built, after := size()
	if per := float64(built) / 120_000; per > 30 || after == before {
		t.Fatalf("after the pass the index takes %.1f bytes an entry (%d → %d bytes), rebuilt: %v", per, loose, built, after != before)
	}
	var left int64
	if err := db.Raw("SELECT count(*) FROM pg_class WHERE relname LIKE '%_ccnew%'").Scan(&left).Error; err != nil || left != 0 {
		t.Fatalf("%d rebuild leftovers remain (%v)", left, err)
	}
	var attached bool
	if err := db.Raw(`SELECT EXISTS (SELECT 1 FROM pg_inherits 
		WHERE inhparent = (SELECT indexrelid FROM pg_index WHERE indrelid = 'samples'::regclass AND indisprimary) AND inhrelid = ?::regclass)`, index).
		Scan(&attached).Error; err != nil || !attached {
		t.Fatalf("the rebuilt index is not the partition of the samples' primary key (%v)", err)
	}
	exec(`INSERT INTO samples (series_id, bucket, fields, delivery_id) VALUES (7, ?, '[1,1,2,1]', 0)
		ON CONFLICT (series_id, bucket) DO UPDATE SET fields = EXCLUDED.fields`, month+300)
	var n int64
	if err := db.Raw("SELECT count(*) FROM samples WHERE series_id = 7 AND bucket = ? AND fields = '[1,1,2,1]'", month+300).Scan(&n).Error; err != nil || n != 1 {
		t.Fatalf("%d samples for the bucket written again (%v)", n, err)
	}
	if err := s.Retain(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, again := size(); again != after {
		t.Fatal("a compact index was rebuilt again")
	}
}
