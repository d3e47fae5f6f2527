package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sitemetrics/sitemetrics/models"
)

func (e env) createFeed(ctx context.Context, args []string) error {
	var in models.FeedInput
	cfg, _, err := e.parse("feed create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&in.Name, "name", "", "feed name, e.g. web-slo (required)")
		fs.StringVar(&in.Interval, "interval", "5m", "how often the Splunk report runs")
		fs.StringVar(&in.SeriesField, "series-field", "", "field that tells series apart, e.g. service")
		fs.StringVar(&in.TimeField, "time-field", "_time", "field holding the row's time")
		fs.StringVar(&in.SamplePolicy, "sample-policy", "replace", "a row for a bucket already stored: replace it, or add to it (partial counts)")
	})
	if err != nil {
		return err
	}
	if in.Name == "" {
		return errors.New("feed create: --name is required")
	}
	store, err := e.openStore(ctx, cfg, e.logger(cfg))
	if err != nil {
		return err
	}
	defer store.Close()
	feed, err := store.CreateFeed(ctx, in)
	if err != nil {
		return fmt.Errorf("feed create: %w", err)
	}
	plain, _, err := store.CreateFeedToken(ctx, feed.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Feed %q created (id %d, every %s", feed.Name, feed.ID, feed.Interval())
	if feed.SeriesField != "" {
		fmt.Fprintf(e.stdout, ", series field %q", feed.SeriesField)
	}
	fmt.Fprintf(e.stdout, ").\n\nWebhook URL — shown once, store it in Splunk's webhook alert action now:\n\n  %s/hooks/splunk/%s\n\n", cfg.BaseURL, plain)
	fmt.Fprintln(e.stdout, "Splunk 9.0+ also needs this URL in the webhook allow list (see README, \"Setting up Splunk\").")
	return nil
}

func (e env) createToken(ctx context.Context, args []string) error {
	var name, role string
	cfg, _, err := e.parse("token create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "what the token is for, e.g. ci-deploys (required)")
		fs.StringVar(&role, "role", "", "viewer, sre or admin (required)")
	})
	if err != nil {
		return err
	}
	if name == "" || role == "" {
		return errors.New("token create: --name and --role are required")
	}
	r, err := models.ParseRole(role)
	if err != nil {
		return fmt.Errorf("token create: --role: %w", err)
	}
	store, err := e.openStore(ctx, cfg, e.logger(cfg))
	if err != nil {
		return err
	}
	defer store.Close()
	plain, t, err := store.CreateAPIToken(ctx, name, r, "cli")
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintf(e.stdout, "API token %q (role %s, id %d) — shown once:\n\n  %s\n\nUse it as: curl -H 'Authorization: Bearer %s' %s/api/v1/feeds\n",
		t.Name, t.Role, t.ID, plain, plain, cfg.BaseURL)
	return nil
}
