// Command sitemetrics turns Splunk scheduled reports into SLO dashboards.
package main

import (
	"context"
	"fmt"
	"os"
	_ "time/tzdata" // calendar windows and viewers' zones work on hosts without zone files
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sitemetrics:", err)
		os.Exit(1)
	}
}
