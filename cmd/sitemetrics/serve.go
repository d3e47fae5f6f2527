package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
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

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (SITEMETRICS_ADDR): %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           http.NewCrossOriginProtection().Handler(h.Routes()),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	opt := models.IngestOptions{MaxRows: cfg.IngestMaxRows, MaxRawBytes: int(cfg.IngestMaxBytes)}
	bg.Go(func() error { replaySpool(runCtx, store, spool, opt, log); return nil })
	bg.Go(func() error { pruneDeliveries(runCtx, store, cfg.Retention, log); return nil })
	bg.Go(func() error { store.RunDeriver(runCtx); return nil })
	bg.Go(func() error { store.RunReadModel(runCtx); return nil })

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
