package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// feed backfill posts an export through the normal ingest path, in chunks, with
// progress; a second run stores nothing twice.
func TestFeedBackfillCLI(t *testing.T) {
	for _, dialect := range dbtest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			env := testEnv(t, dialect)
			newFeed(t, env, "--name", "web", "--series-field", "service")
			file := filepath.Join("..", "..", "testdata", "splunk", "backfill_outputcsv.csv")
			out := runCmd(t, env, "feed", "backfill", "--feed", "web", "--chunk", "2", file)
			for _, want := range []string{"Backfilling 3 rows (csv) into feed web: 2 deliveries of up to 2 rows.",
				"rows 0–1 of 3: 2 accepted, 0 duplicates, 0 rejected", "rows 2–2 of 3: 1 accepted, 0 duplicates, 0 rejected",
				"Done: 3 accepted, 0 duplicates, 0 rejected. SLOs on feed web derive their points as the rows arrive."} {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			again := runCmd(t, env, "feed", "backfill", "--feed", "web", file)
			if !strings.Contains(again, "Done: 0 accepted, 3 duplicates, 0 rejected.") {
				t.Errorf("second run:\n%s", again)
			}
			store, err := sqlstore.Open(context.Background(), env["SITEMETRICS_DATABASE_URL"], "", dbtest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			feed, _ := store.FeedByName(context.Background(), "web")
			series := "checkout"
			samples, err := store.Samples(context.Background(), feed.ID, models.SampleQuery{Series: &series, Limit: 10})
			if err != nil || len(samples) != 2 || samples[0].Time.Format("2006-01-02T15:04Z") != "2026-11-02T10:00Z" || samples[0].Fields["good"] != 1201 {
				t.Fatalf("samples %+v %v", samples, err)
			}
			deliveries, _ := store.Deliveries(context.Background(), feed.ID, models.DeliveryQuery{Limit: 10})
			if len(deliveries) != 3 {
				t.Fatalf("%d deliveries in the feed's log, want 3 (2 chunks, then 1)", len(deliveries))
			}
		})
	}
}

func TestFeedBackfillRefuses(t *testing.T) {
	env := testEnv(t, "sqlite")
	newFeed(t, env, "--name", "web", "--series-field", "service")
	tests := []struct {
		name string
		args []string
		file string
		want string
	}{
		{"a row without its time", []string{"--feed", "web"}, "_time,service,total\n1793613600,checkout,5\n,checkout,6\n", `row 1 has no "_time"`},
		{"an unknown feed", []string{"--feed", "mobile"}, "_time,total\n1793613600,5\n", `feed "mobile"`},
		{"no feed", nil, "_time,total\n1793613600,5\n", "give --feed NAME"},
		{"not an export", []string{"--feed", "web"}, "{\"results\": 3", "does not parse"},
	}
	for _, tc := range tests {
		path := writeFile(t, "export.csv", tc.file)
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(append([]string{"sitemetrics", "feed", "backfill"}, tc.args...), path), getenvFrom(env), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if strings.Contains(out.String(), "accepted") {
			t.Errorf("%s: something was posted:\n%s", tc.name, out.String())
		}
	}
}
