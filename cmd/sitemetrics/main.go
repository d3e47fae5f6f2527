// Command sitemetrics turns Splunk scheduled reports into SLO dashboards.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sitemetrics:", err)
		os.Exit(1)
	}
}
