package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
)

// backfillFeed runs "feed backfill --feed NAME FILE": past results exported from
// Splunk, posted through the normal ingest path in chunks, so that an SLO starts
// with history and the usual sample identity applies (a row for a bucket already
// stored replaces it or is a duplicate; running the backfill twice is harmless).
func (e env) backfillFeed(ctx context.Context, args []string) error {
	var feedName string
	var chunk int
	cfg, fs, err := e.parse("feed backfill", args, func(fs *flag.FlagSet) {
		fs.StringVar(&feedName, "feed", "", "the feed the rows belong to (required)")
		fs.IntVar(&chunk, "chunk", 1000, "rows per delivery")
	})
	if err != nil {
		return err
	}
	if feedName == "" || fs.NArg() != 1 {
		return errors.New("feed backfill: give --feed NAME and one Splunk export file (JSON, NDJSON or CSV; - for standard input)")
	}
	if chunk < 1 {
		return fmt.Errorf("feed backfill: --chunk %d: give at least 1 row per delivery", chunk)
	}
	in := io.Reader(os.Stdin)
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("feed backfill: %w", err)
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("feed backfill: read the file: %w", err)
	}
	rows, format, err := splunk.ReadExport(data)
	if err != nil {
		return fmt.Errorf("feed backfill: %w", err)
	}
	store, err := e.openStore(ctx, cfg, e.logger(cfg))
	if err != nil {
		return err
	}
	defer store.Close()
	feed, err := store.FeedByName(ctx, feedName)
	if err != nil {
		return fmt.Errorf("feed backfill: %w", err)
	}
	// Without its own time a row would be dated now, which is no history at all.
	for i, r := range rows {
		if v, ok := r[feed.TimeField]; !ok || v == nil || strings.TrimSpace(fmt.Sprint(v)) == "" {
			return fmt.Errorf("feed backfill: row %d has no %q: a backfill needs each row's own time (feed %s reads its time from %q); nothing was posted",
				i, feed.TimeField, feed.Name, feed.TimeField)
		}
	}
	chunk = min(chunk, cfg.IngestMaxRows)
	deliveries := (len(rows) + chunk - 1) / chunk
	fmt.Fprintf(e.stdout, "Backfilling %d rows (%s) into feed %s: %d deliveries of up to %d rows.\n", len(rows), format, feed.Name, deliveries, chunk)
	var accepted, duplicates, rejected int
	for start := 0; start < len(rows); start += chunk {
		end := min(start+chunk, len(rows))
		body, err := splunk.BatchBody(rows[start:end])
		if err != nil {
			return err
		}
		res, err := store.IngestBody(ctx, feed, 0, body, "application/json", time.Now().UTC(),
			models.IngestOptions{MaxRows: cfg.IngestMaxRows, MaxRawBytes: int(cfg.IngestMaxBytes)})
		if err != nil {
			return fmt.Errorf("feed backfill: rows %d–%d: %w (rows before %d are stored; running the backfill again is safe: stored rows count as duplicates)",
				start, end-1, err, start)
		}
		accepted, duplicates, rejected = accepted+res.Accepted, duplicates+res.Duplicates, rejected+len(res.Rejected)
		fmt.Fprintf(e.stdout, "rows %d–%d of %d: %d accepted, %d duplicates, %d rejected\n", start, end-1, len(rows), res.Accepted, res.Duplicates, len(res.Rejected))
		for i, r := range res.Rejected {
			if i == 5 {
				fmt.Fprintf(e.stdout, "  … %d more rejected rows in this delivery (see the feed's delivery log)\n", len(res.Rejected)-i)
				break
			}
			fmt.Fprintf(e.stdout, "  row %d: %s\n", start+r.Row, r.Reason)
		}
	}
	fmt.Fprintf(e.stdout, "Done: %d accepted, %d duplicates, %d rejected. SLOs on feed %s derive their points as the rows arrive.\n",
		accepted, duplicates, rejected, feed.Name)
	return nil
}
