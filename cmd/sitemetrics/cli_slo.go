package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sitemetrics/sitemetrics/models/openslo"
)

// slo runs "slo import FILE" and "slo export".
func (e env) slo(ctx context.Context, sub string, args []string) error {
	cfg, fs, err := e.parse("slo "+sub, args, nil)
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
	created, updated, err := store.ImportOpenSLO(ctx, "cli", plan)
	if err != nil {
		return fmt.Errorf("slo import: %w", err)
	}
	fmt.Fprintf(e.stdout, "%d service(s) applied; %d SLO(s) created, %d updated. History is derived in the background by the running app.\n",
		len(plan.Services), created, updated)
	return nil
}
