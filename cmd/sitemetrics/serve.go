package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
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

	store, err := e.openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	spool, err := spool.Open(filepath.Join(cfg.DataDir, "spool"))
	if err != nil {
		return err
	}
	metrics := handlers.NewMetrics()
	passwords := ldapauth.NewPasswords(0)
	deps := handlers.Deps{
		Store: store, Spool: spool, Log: log, Metrics: metrics, Passwords: passwords,
		Config: handlers.Config{
			BaseURL: cfg.BaseURL, IngestMaxBytes: cfg.IngestMaxBytes, IngestMaxRows: cfg.IngestMaxRows,
			DeliveryKeep: int(cfg.IngestMaxBytes), TrustedProxies: cfg.TrustedProxies, Version: appVersion(),
		},
		Policy: handlers.AuthPolicy{
			SessionLifetime: cfg.Auth.SessionLifetime, SessionIdle: cfg.Auth.SessionIdle,
			CacheSessionLifetime: cfg.Auth.CacheSessionLifetime, MaxFailuresPerUser: cfg.Auth.MaxFailuresPerUser,
			MaxFailuresPerIP: cfg.Auth.MaxFailuresPerIP, FailureWindow: cfg.Auth.FailureWindow,
			CacheMaxAgeText: humanDuration(cfg.Auth.CacheMaxAge),
		},
	}
	if len(cfg.LDAP.URLs) > 0 {
		auth, err := ldapauth.New(cfg.ldapauthConfig(), store, log)
		if err != nil {
			return fmt.Errorf("configuration: LDAP: %w", err)
		}
		go auth.Run(ctx)
		deps.Auth = auth
		deps.RoleMappings = cfg.ldapauthConfig().RoleMappings
		log.Info("signing in against the directory", "urls", cfg.LDAP.URLs, "cache_max_age", cfg.Auth.CacheMaxAge)
	} else if err := e.bootstrapAdmin(ctx, cfg, store, passwords, demo, log); err != nil {
		return err
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
	go replaySpool(ctx, store, spool, opt, log)
	go pruneDeliveries(ctx, store, cfg.Retention, log)
	go store.RunDeriver(ctx)
	go store.RunStateFlusher(ctx)

	log.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "database", store.Dialect(), "version", appVersion())
	fmt.Fprintf(e.stdout, "Sitemetrics %s is running: open %s\n", appVersion(), cfg.BaseURL)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if sim != nil {
		go sim.simulate(ctx)
		fmt.Fprintf(e.stdout, "\nDemo: a simulated Splunk posts to the feed web-slo every minute; checkout has an incident in progress.\n"+
			"Open %s and sign in as admin (the password is printed above at first start, or set SITEMETRICS_ADMIN_PASSWORD).\n", cfg.BaseURL)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// replaySpool moves deliveries spooled during a database outage into the
// database, in arrival order, as soon as it answers again.
func replaySpool(ctx context.Context, store *sqlstore.Store, sp *spool.Spool, opt models.IngestOptions, log *slog.Logger) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	put := func(ctx context.Context, d spool.Delivery) error { return store.StoreSpooled(ctx, d, opt) }
	unreadable := func(name string, err error) {
		log.Error("spooled delivery unreadable, moved aside", "file", name, "err", err)
	}
	for {
		if sp.Len() > 0 {
			n, err := sp.Replay(ctx, put, unreadable)
			if n > 0 {
				log.Info("spooled deliveries replayed", "count", n, "waiting", sp.Len())
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("spool replay paused: database still unavailable", "waiting", sp.Len(), "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func pruneDeliveries(ctx context.Context, store *sqlstore.Store, keep time.Duration, log *slog.Logger) {
	if keep <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := store.PruneDeliveries(ctx, store.Now().Add(-keep)); err != nil {
			log.Warn("prune deliveries", "err", err)
		} else if n > 0 {
			log.Info("old deliveries pruned", "count", n)
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
