// Package handlers is Sitemetrics' HTTP edge: routes, middleware, and one file
// per resource or action. Handlers build view models and render views; all
// storage goes through the Store interface.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/spool"
)

// Config is what the HTTP layer needs from the app's configuration.
type Config struct {
	BaseURL        string // public URL, for printed webhook URLs and cookie Secure
	IngestMaxBytes int64  // webhook body limit
	IngestMaxRows  int    // rows per delivery
	DeliveryKeep   int    // bytes of a refused body kept in the delivery log
	TrustedProxies []string
	Version        string
	Location       *time.Location // default display time zone
}

// Deps are the handlers' dependencies, passed in by run.
type Deps struct {
	Store Store
	Spool *spool.Spool // nil: no spool (the database's failure is the sender's)
	// Tokens remembers on local disk the feed tokens seen, to spool for them while
	// the database is out of reach, even after a restart; nil: only in memory.
	Tokens  *spool.Tokens
	Log     *slog.Logger
	Metrics *Metrics
	Config  Config
	Now     func() time.Time
	// Auth signs people in against the directory; nil means no directory:
	// local accounts only.
	Auth         Authenticator
	RoleMappings []ldapauth.RoleMapping // shown on the admin page
	Passwords    PasswordHasher
	Policy       AuthPolicy
}

// Handler serves every route.
type Handler struct {
	store        Store
	spool        *spool.Spool
	known        *spool.Tokens
	log          *slog.Logger
	metrics      *Metrics
	cfg          Config
	now          func() time.Time
	tokens       *tokenCache
	auth         Authenticator
	roleMappings []ldapauth.RoleMapping
	passwords    PasswordHasher
	policy       AuthPolicy
	dummyMu      sync.Mutex
	dummyHash    string // see dummy
	recent       recentAuth
	sparklines   sparklineCache
	sloList      encodedList
	overviews    overviewCache
	rows         rowCache
	chartCache   chartCache
	zones        zoneCache
	ready        readiness
}

// Authenticator is the directory sign-in with its cached-credential fallback.
type Authenticator interface {
	Authenticate(ctx context.Context, username, password string) (ldapauth.Identity, ldapauth.Outcome, error)
	Status() ldapauth.Status
}

// PasswordHasher hashes and checks local-account passwords.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (bool, error)
}

// New builds the handler set.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = func() time.Time { return time.Now().UTC() }
	}
	if d.Config.IngestMaxBytes <= 0 {
		d.Config.IngestMaxBytes = 1 << 20
	}
	if d.Passwords == nil {
		d.Passwords = ldapauth.NewPasswords(0)
	}
	h := &Handler{store: d.Store, spool: d.Spool, known: d.Tokens, log: d.Log, metrics: d.Metrics, cfg: d.Config,
		now: d.Now, tokens: newTokenCache(), auth: d.Auth, roleMappings: d.RoleMappings, passwords: d.Passwords, policy: d.Policy}
	h.policy.defaults()
	if d.Metrics != nil && d.Store != nil {
		// Per-SLO gauges, read at scrape time. A registry takes one such collector:
		// a second handler set on the same registry (tests) shares the first's.
		are := prometheus.AlreadyRegisteredError{}
		if err := d.Metrics.Registry.Register(sloCollector{reports: d.Store.Reports, now: d.Now}); err != nil && !errors.As(err, &are) {
			h.log.Error("cannot export the per-SLO gauges on /metrics", "err", err)
		}
	}
	if _, err := h.dummy(context.Background()); err != nil {
		// Sign-ins that need it retry, and fail while it cannot be made.
		h.log.Error("cannot make the dummy password hash that keeps failed sign-ins constant-time", "err", err)
	}
	return h
}

// dummy returns a hash of a password nobody knows, checked when there is no
// account to check, so that a wrong name costs as much time as a wrong
// password. Without it a sign-in fails (an error, not a quicker answer).
func (h *Handler) dummy(ctx context.Context) (string, error) {
	h.dummyMu.Lock()
	defer h.dummyMu.Unlock()
	if h.dummyHash != "" {
		return h.dummyHash, nil
	}
	secret, _, _ := models.NewSecret("")
	hash, err := h.passwords.Hash(ctx, secret)
	if err != nil {
		return "", fmt.Errorf("make the dummy password hash: %w", err)
	}
	h.dummyHash = hash
	return hash, nil
}
