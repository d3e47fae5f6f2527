package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sitemetrics/sitemetrics/models/openslo"
)

// slo runs "slo import [--dry-run] FILE" and "slo export".
func (e env) slo(ctx context.Context, sub string, args []string) error {
	dryRun := false
	cfg, fs, err := e.parse("slo "+sub, args, func(fs *flag.FlagSet) {
		if sub == "import" {
			fs.BoolVar(&dryRun, "dry-run", false, "print what the import would change (a diff per SLO) and change nothing")
		}
	})
	if err != nil {
		return err
	}
	store, err := e.openStore(ctx, cfg, e.logger(cfg))
	if err != nil {
		return err
	}
	defer store.Close()
	if sub == "export" {
		b, err := store.ExportOpenSLO(ctx)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(b)
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("slo import: give one OpenSLO v1 YAML file (or - for standard input)")
	}
	f := os.Stdin
	if name := fs.Arg(0); name != "-" {
		if f, err = os.Open(name); err != nil {
			return fmt.Errorf("slo import: %w", err)
		}
		defer f.Close()
	}
	plan, err := openslo.Parse(f)
	if err != nil {
		return fmt.Errorf("slo import: %w", err)
	}
	res, err := store.ImportOpenSLO(ctx, "cli", plan, dryRun)
	if err != nil {
		return fmt.Errorf("slo import: %w", err)
	}
	printImport(e.stdout, res)
	return nil
}

// printImport writes what an import did, or would do: every change with its
// diff, then the notices (what was read but is not applied), then one summary line.
func printImport(w io.Writer, res openslo.Result) {
	if res.DryRun {
		fmt.Fprintln(w, "Dry run: nothing was changed.")
	}
	for _, c := range append(append([]openslo.Change{}, res.Services...), res.SLOs...) {
		if c.Action == openslo.ActionNone {
			continue
		}
		verb := c.Action
		if res.DryRun {
			verb = "would be " + verb
		}
		fmt.Fprintf(w, "%s %s: %s\n", c.Kind, c.Name, verb)
		for _, d := range c.Diff {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	for _, n := range res.Notices {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	fmt.Fprintln(w, res.Summary())
	if !res.DryRun && res.Count("SLO", openslo.ActionCreate)+res.Count("SLO", openslo.ActionUpdate) > 0 {
		fmt.Fprintln(w, "History is derived in the background by the running app.")
	}
}
