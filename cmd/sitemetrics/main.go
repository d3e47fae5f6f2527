// Command sitemetrics turns Splunk scheduled reports into SLO dashboards.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	_ "time/tzdata" // calendar windows and viewers' zones work on hosts without zone files
)

// gcPercent is the Go garbage collector's target unless GOGC is set: the heap may grow
// to 2.5 × what is live before a collection, not 2 ×. While history streams in, the
// collector spends less of the two cores that ingest and PostgreSQL share; the peak RSS
// of `make bench-scale N=1000 DAYS=3` rose from about 115 to 160 MiB (README,
// Benchmarks).
const gcPercent = 150

func main() {
	if os.Getenv("GOGC") == "" { // the runtime read it at start; set, it is the operator's
		debug.SetGCPercent(gcPercent)
	}
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sitemetrics:", err)
		os.Exit(1)
	}
}
