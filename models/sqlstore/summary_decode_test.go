package sqlstore

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/sitemetrics/sitemetrics/models"
)

// storedSummaries are summaries as slo_state keeps them: testdata/summary.json is one
// stored by bench-scale's seed (30 days of a 99.9 % SLO, every tier), and the same with
// a derivation in progress and with no data.
func storedSummaries(t testing.TB) [][]byte {
	raw, err := os.ReadFile("testdata/summary.json")
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	s.Rederiving = &models.Progress{Done: 3, Total: 7}
	rederiving, _ := json.Marshal(s)
	empty, _ := json.Marshal(summary{Version: 1})
	return [][]byte{raw, rederiving, empty}
}

// readSummaries decodes with encoding/json's semantics on json v2's decoder: it must
// read what encoding/json writes exactly as encoding/json reads it.
func TestSummaryDecodeMatchesEncodingJSON(t *testing.T) {
	for i, raw := range storedSummaries(t) {
		var want, got summary
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if err := jsonv1.Unmarshal(raw, &got); err != nil {
			t.Fatalf("summary %d: %v", i, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("summary %d decoded differently:\nencoding/json %+v\njson/v1       %+v", i, want, got)
		}
		again, _ := json.Marshal(got)
		if string(again) != string(raw) {
			t.Errorf("summary %d does not encode back to what was stored:\n%s\n%s", i, raw, again)
		}
	}
}

// go test -run '^$' -bench SummaryDecode -benchmem ./models/sqlstore
func BenchmarkSummaryDecode(b *testing.B) {
	raw := storedSummaries(b)[0]
	for _, d := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{{"encoding-json", json.Unmarshal}, {"json-v1-on-v2", jsonv1.Unmarshal}} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var s summary
				if err := d.unmarshal(raw, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
