package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sitemetrics/sitemetrics/handlers"
	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/spool"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
	"github.com/sitemetrics/sitemetrics/notify"
	"golang.org/x/sync/errgroup"
)

func (e env) serve(ctx context.Context, args []string) error {
	var demo bool
	cfg, _, err := e.parse("serve", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&demo, "demo", false, "seed demo services, SLOs and a feed, and simulate Splunk posting to it")
	})
	if err != nil {
		return err
	}
	log := e.logger(cfg)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// A database out of reach at start does not stop serve: it spools deliveries
	// for the feed tokens it has seen (kept on local disk) and migrates once the
	// database answers.
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil && (store == nil || models.ErrorCode(err) != models.EUNAVAILABLE || demo) {
		return err
	}
	defer store.Close()
	degraded := err != nil
	if cfg.DatabaseReadURL != "" {
		if err := store.UseReplica(ctx, cfg.DatabaseReadURL); err != nil {
			return fmt.Errorf("configuration: database_read_url: %w", err)
		}
		log.Info("pages and the API read from a replica", "replica", redactURL(cfg.DatabaseReadURL))
	}
	if degraded {
		log.Warn("database unreachable at start: serving, spooling deliveries for known feed tokens until it answers", "err", err)
	} else if err := migrateNow(ctx, store, log); err != nil {
		return err
	}
	known, err := spool.OpenTokens(filepath.Join(cfg.DataDir, "known-feed-tokens.json"))
	if err != nil {
		return err
	}
	spooled, err := spool.Open(filepath.Join(cfg.DataDir, "spool"))
	if err != nil {
		return err
	}
	metrics := handlers.NewMetrics()
	passwords := ldapauth.NewPasswords(0)
	deps := handlers.Deps{
		Store: store, Spool: spooled, Tokens: known, Log: log, Metrics: metrics, Passwords: passwords,
		Config: handlers.Config{
			BaseURL: cfg.BaseURL, IngestMaxBytes: cfg.IngestMaxBytes, IngestMaxRows: cfg.IngestMaxRows,
			DeliveryKeep: int(cfg.IngestMaxBytes), TrustedProxies: cfg.TrustedProxies, Version: appVersion(),
			Location: cfg.TimeZone,
		},
		Policy: handlers.AuthPolicy{
			SessionLifetime: cfg.Auth.SessionLifetime, SessionIdle: cfg.Auth.SessionIdle,
			CacheSessionLifetime: cfg.Auth.CacheSessionLifetime, MaxFailuresPerUser: cfg.Auth.MaxFailuresPerUser,
			MaxFailuresPerIP: cfg.Auth.MaxFailuresPerIP, FailureWindow: cfg.Auth.FailureWindow,
			CacheMaxAgeText: humanDuration(cfg.Auth.CacheMaxAge),
		},
	}
	// Background work runs under its own context, cancelled only after the HTTP server
	// has finished the requests in flight, and is waited for before the store closes.
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	var bg errgroup.Group
	if len(cfg.LDAP.URLs) > 0 {
		auth, err := ldapauth.New(cfg.ldapauthConfig(), store, log)
		if err != nil {
			return fmt.Errorf("configuration: LDAP: %w", err)
		}
		bg.Go(func() error { auth.Run(runCtx); return nil })
		deps.Auth = auth
		deps.RoleMappings = cfg.ldapauthConfig().RoleMappings
		log.Info("signing in against the directory", "urls", cfg.LDAP.URLs, "cache_max_age", cfg.Auth.CacheMaxAge)
	} else if !degraded {
		if err := e.bootstrapAdmin(ctx, cfg, store, passwords, demo, log); err != nil {
			return err
		}
	}
	if degraded {
		bg.Go(func() error {
			awaitDatabase(runCtx, store, log, func(ctx context.Context) error {
				if len(cfg.LDAP.URLs) > 0 {
					return nil
				}
				return e.bootstrapAdmin(ctx, cfg, store, passwords, demo, log)
			})
			return nil
		})
	}
	var sim *demoRun
	if demo {
		if sim, err = seedDemo(ctx, store, cfg.BaseURL, log); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	h := handlers.New(deps)

	srv, ln, err := newServer(cfg, http.NewCrossOriginProtection().Handler(h.Routes()), metrics.Registry, log)
	if err != nil {
		return err
	}
	opt := models.IngestOptions{MaxRows: cfg.IngestMaxRows, MaxRawBytes: int(cfg.IngestMaxBytes)}
	bg.Go(func() error { replaySpool(runCtx, store, spooled, opt, log); return nil })
	keep := sqlstore.Retention{Samples: cfg.SampleRetention, Rollups: cfg.RollupRetention, Deliveries: cfg.Retention}
	bg.Go(func() error { retain(runCtx, store, keep, log); return nil })
	bg.Go(func() error { store.RunDeriver(runCtx); return nil })
	bg.Go(func() error { store.RunReadModel(runCtx); return nil })
	notifier := notify.New(store, notify.Options{BaseURL: cfg.BaseURL, Log: log})
	bg.Go(func() error { notifier.Run(runCtx); return nil })

	log.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "database", store.Dialect(), "version", appVersion())
	fmt.Fprintf(e.stdout, "Sitemetrics %s is running: open %s\n", appVersion(), cfg.BaseURL)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }() // ends with Shutdown, which shutdown waits for
	if sim != nil {
		bg.Go(func() error { sim.simulate(runCtx); return nil })
		fmt.Fprintf(e.stdout, "\nDemo: a simulated Splunk posts to the feed web-slo every minute; checkout has an incident in progress.\n"+
			"Open %s and sign in as admin with the password printed above at first start (lost it? sitemetrics admin reset-password).\n", cfg.BaseURL)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	return shutdown(srv, cancelRun, &bg, log)
}

// shutdown stops in order: the HTTP server finishes the requests in flight (so every
// delivery it acknowledged is committed), then background work is told to stop and
// waited for, bounded, before the caller closes the store.
func shutdown(srv *http.Server, cancelRun context.CancelFunc, bg *errgroup.Group, log *slog.Logger) error {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	cancelRun()
	done := make(chan struct{})
	go func() { _ = bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		log.Error("background work did not stop within 10 s; closing the database under it")
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// replaySpool moves deliveries spooled during a database outage into the
// database, in arrival order, as soon as it answers again. It says so in the
// log when replay pauses and when it resumes, not on every attempt.
func replaySpool(ctx context.Context, store *sqlstore.Store, sp *spool.Spool, opt models.IngestOptions, log *slog.Logger) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	put := func(ctx context.Context, ds []spool.Delivery) []error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // a hung database must not hold replay forever
		defer cancel()
		return store.StoreSpooled(ctx, ds, opt)
	}
	aside := func(name, reason string) {
		log.Error("spooled delivery moved to the spool's quarantine folder", "file", name, "reason", reason)
	}
	paused := false
	for {
		if sp.Len() > 0 && (!store.Down() || store.Probe(ctx) == nil) {
			start := time.Now()
			n, err := sp.Replay(ctx, 500, put, aside)
			if n > 0 {
				log.Info("spooled deliveries replayed", "count", n, "waiting", sp.Len(), "took", time.Since(start).Round(time.Millisecond))
			}
			switch {
			case err != nil && ctx.Err() == nil && !paused:
				paused = true
				log.Warn("spool replay paused: database unavailable", "waiting", sp.Len(), "err", err)
			case err == nil && paused:
				paused = false
				log.Info("spool replay resumed: database back")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// retain keeps partitions ahead of the data and drops what is past retention, at
// start and every hour.
func retain(ctx context.Context, store *sqlstore.Store, r sqlstore.Retention, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if !store.Down() {
			start := time.Now()
			if err := store.Retain(ctx, r); err != nil && ctx.Err() == nil {
				log.Warn("retention", "err", err)
			} else if took := time.Since(start); took > 10*time.Second {
				log.Info("retention done", "took", took.Round(time.Millisecond))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func appVersion() string {
	v, _ := buildVersion()
	return v
}

// migrateNow applies pending migrations, saying how many.
func migrateNow(ctx context.Context, store *sqlstore.Store, log *slog.Logger) error {
	n, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("database migrated", "dialect", store.Dialect(), "applied", n)
	}
	return nil
}

// awaitDatabase waits for a database that was out of reach at start, then migrates
// it and runs then (the bootstrap of the local admin), retrying every two seconds.
func awaitDatabase(ctx context.Context, store *sqlstore.Store, log *slog.Logger, then func(context.Context) error) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if store.Probe(ctx) == nil {
			err := migrateNow(ctx, store, log)
			if err == nil {
				err = then(ctx)
			}
			if err == nil {
				log.Info("database reachable: started in full")
				return
			}
			log.Warn("database answers but start-up work failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// redactURL keeps a database URL's host and name, not its password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}
