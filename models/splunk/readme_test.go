package splunk

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	payloadRE = regexp.MustCompile("<!-- payload: ([a-z_]+\\.json) -->\\s*```spl\\n((?s:.*?))```")
	aliasRE   = regexp.MustCompile(`\bAS ([A-Za-z_][A-Za-z0-9_]*)`)
)

// Every SPL search the README recommends has the payload Splunk posts for it in
// testdata/splunk: each field the search names with AS is in the payload, and the
// payload parses into a row timed by its _time, with numbers for the counts.
func TestREADMESearchPayloads(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := payloadRE.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) != 3 {
		t.Fatalf("the README has %d SPL searches with a payload, want 3 (access_combined, mstats, tstats)", len(blocks))
	}
	for _, b := range blocks {
		file, spl := b[1], b[2]
		t.Run(file, func(t *testing.T) {
			body := fixture(t, file)
			var raw struct {
				Result map[string]any `json:"result"`
			}
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			// The fields of the last stats (or mstats, tstats) and any rename after it are the output.
			final := spl[max(0, strings.LastIndex(spl, "stats ")):]
			for _, m := range aliasRE.FindAllStringSubmatch(final, -1) {
				if _, ok := raw.Result[m[1]]; !ok {
					t.Errorf("the search names %q, the payload has %v", m[1], raw.Result)
				}
			}
			got, err := Parse(body, "application/json", Options{SeriesField: "service", ReceivedAt: time.Date(2026, 11, 2, 10, 1, 0, 0, time.UTC)})
			if err != nil || len(got.Rows) != 1 || len(got.Rejected) != 0 {
				t.Fatalf("%+v %v", got, err)
			}
			r := got.Rows[0]
			if r.TimeSource != TimeFromField || r.Time.Format(time.RFC3339) != "2026-11-02T09:50:00Z" || r.Fields.Map()["total"] <= 0 || r.Series == "" {
				t.Fatalf("row %+v", r)
			}
		})
	}
}
