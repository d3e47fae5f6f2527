package splunk

import (
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

func TestReadExport(t *testing.T) {
	tests := []struct {
		file, format string
		rows         int
		times        []string // of the first rows, after the webhook parser has read them
	}{
		{"backfill_outputcsv.csv", ExportCSV, 3, []string{"2026-11-02T10:00:00Z", "2026-11-02T10:00:00Z", "2026-11-02T10:05:00Z"}},
		{"backfill_web_export.csv", ExportCSV, 2, []string{"2026-11-02T10:00:00Z", "2026-11-02T10:05:00Z"}},
		{"backfill_results.json", ExportJSON, 3, []string{"2026-11-02T10:00:00Z", "2026-11-02T10:00:00Z", "2026-11-02T10:05:00Z"}},
		{"rest_export_stream.json", ExportStream, 3, []string{"2026-11-02T10:00:00Z", "2026-11-02T10:00:00Z", "2026-11-02T10:05:00Z"}},
		{"rows.ndjson", ExportNDJSON, 3, []string{"2023-11-14T22:30:00Z", "2023-11-14T22:30:00Z", "2023-11-14T22:35:00.25Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rows, format, err := ReadExport(fixture(t, tc.file))
			if err != nil || format != tc.format || len(rows) != tc.rows {
				t.Fatalf("%d rows as %q, %v; want %d as %q", len(rows), format, err, tc.rows, tc.format)
			}
			body, err := BatchBody(rows)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(body, "application/json", Options{SeriesField: "service", ReceivedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil || len(got.Rejected) != 0 || len(got.Rows) != tc.rows {
				t.Fatalf("as a delivery: %+v %v", got, err)
			}
			for i, want := range tc.times {
				if ts := got.Rows[i].Time.Format(time.RFC3339Nano); ts != want || got.Rows[i].TimeSource != TimeFromField {
					t.Errorf("row %d at %s from %s, want %s from the field", i, ts, got.Rows[i].TimeSource, want)
				}
			}
		})
	}
	rows, _, _ := ReadExport(fixture(t, "backfill_outputcsv.csv"))
	if h, ok := rows[0]["host"].([]any); !ok || len(h) != 2 || rows[0]["__mv_host"] != nil || rows[0]["p95_ms"] != "212.5" {
		t.Errorf("multivalue CSV cell: %#v", rows[0])
	}
}

func TestReadExportRefuses(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"empty", "\ufeff\n", "the file is empty"},
		{"broken JSON", `{"results": [`, "does not parse"},
		{"a row that is not an object", `{"results": [1]}`, `"results": element 0 is number`},
		{"previews only", `{"preview":true,"offset":0,"result":{"total":"1"}}` + "\n", "holds no rows"},
		{"a line that is not JSON", "{\"a\":\"1\"}\nnope\n", "line 2 is not one JSON object"},
		{"ragged CSV", "a,b\n1,2,3\n", "CSV row 1"},
		{"CSV header only", "_time,total\n", "a header and no rows"},
		{"CSV column without a name", "_time,,total\n1,2,3\n", "column 2 has no name"},
	}
	for _, tc := range tests {
		_, _, err := ReadExport([]byte(tc.data))
		if err == nil || models.ErrorCode(err) != models.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
