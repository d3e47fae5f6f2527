// Package ldapauth signs people in against the LDAP directory
// (search-then-bind with a read-only service account) and, only when the
// directory cannot answer, against a cached argon2id hash of their last
// successful directory login. A circuit breaker sends logins straight to the
// cache while the directory is down; a background probe closes it.
//
// The rules it follows (SSSD's and pam_ccreds'): fall back only when the
// directory is unreachable or refuses our service account, never on a
// definitive "no"; never create users offline; overwrite the cached hash
// and role at every online login; expiry counted from the last online
// login, never extended by a cache login; offline lockout checked before
// the hash; a definitive "no" purges a cached hash it matches; every
// refusal costs one hash and the same time; a TLS failure falls back but is
// logged loudly; never log the password. README's "Sign-in" section says
// the same for operators.
package ldapauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// CredentialStore keeps users and their cached credentials; the SQL store
// implements it. Names are canonical (lowercased).
type CredentialStore interface {
	// LoadCredential returns the cached credential, or false when there is none.
	LoadCredential(ctx context.Context, username string) (models.CachedCredential, bool, error)
	// SaveOnlineLogin upserts the user and overwrites the cached credential; it returns the user id.
	SaveOnlineLogin(ctx context.Context, login models.OnlineLogin) (int64, error)
	// RecordOfflineFailure counts a failed cache login; reaching lockAfter locks until lockUntil.
	RecordOfflineFailure(ctx context.Context, username string, at time.Time, lockAfter int, lockUntil time.Time) error
	// RecordOfflineSuccess resets the failure count and notes the cache login.
	RecordOfflineSuccess(ctx context.Context, username string, at time.Time) error
	// DeleteCredential purges the cached credential.
	DeleteCredential(ctx context.Context, username string) error
	// DirectoryUsersToCheck lists directory users with live sessions last checked before a time.
	DirectoryUsersToCheck(ctx context.Context, before time.Time, limit int) ([]models.DirectoryCheck, error)
	// RecordDirectoryCheck stores a check's verdict, ending sessions when it says so; it returns how many ended.
	RecordDirectoryCheck(ctx context.Context, userID int64, at time.Time, v models.CheckVerdict) (int64, error)
}

// Authenticator is the one door to sign-in against the directory. It is
// safe for concurrent use.
type Authenticator struct {
	cfg      Config
	servers  []server
	mappings []mapping
	store    CredentialStore
	log      *slog.Logger
	dialer   Dialer
	now      func() time.Time
	hasher   *hasher
	breaker  *breaker
	// dummy is the hash of a random password, checked when there is no real
	// hash to check, so that a cache login costs the same either way.
	dummy string
}

// Status is the directory's health as the breaker sees it, for a status page.
type Status struct {
	DirectoryUp bool      // false while logins go straight to the cache
	Since       time.Time // when the breaker last opened or closed; zero if never
	Reason      string    // why it opened, e.g. directory_down or timeout
}

// lockedForever stands for "locked until the next online login" when
// OfflineLockout is 0 (SSSD's offline_failed_login_delay = 0).
var lockedForever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// New checks cfg (reading the CA file) and returns an Authenticator. Call
// Run in a goroutine so the breaker can close again.
func New(cfg Config, store CredentialStore, log *slog.Logger, opts ...Option) (*Authenticator, error) {
	if store == nil {
		return nil, errors.New("ldapauth: a CredentialStore is required")
	}
	if log == nil {
		log = slog.Default()
	}
	servers, mappings, err := cfg.prepare()
	if err != nil {
		return nil, err
	}
	a := &Authenticator{
		cfg: cfg, servers: servers, mappings: mappings, store: store,
		log:    log.With("component", "ldapauth"),
		dialer: &net.Dialer{Timeout: cfg.DialTimeout},
		now:    time.Now, hasher: newHasher(defaultHashConcurrency),
	}
	for _, o := range opts {
		o(a)
	}
	a.breaker = &breaker{threshold: cfg.BreakerFailures, probeGap: cfg.ProbeInterval}
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return nil, err
	}
	if a.dummy, err = a.hasher.hash(context.Background(), hex.EncodeToString(random)); err != nil {
		return nil, err
	}
	if clear := cfg.plaintext(servers); len(clear) > 0 {
		a.log.Warn("passwords will cross the network in clear: use ldaps:// or StartTLS", "urls", clear)
	}
	return a, nil
}

// Authenticate checks a login. Accepted comes with a nil error and the
// Identity; every other outcome comes with a *Failure saying who decided and
// why (see Reason). Every decision is logged here, without the password.
//
// The directory gets at most LoginTimeout of it; give it a ctx that lasts
// longer (plus one hash), or a slow directory ends in ReasonCanceled instead
// of the cache. Unreachable and DirectoryUnusable are returned only when the
// cache cannot decide: the fallback is off (CacheMaxAge 0) or the database failed.
func (a *Authenticator) Authenticate(ctx context.Context, username, password string) (Identity, Outcome, error) {
	start := time.Now() // wall time, whatever clock decides expiry
	id, outcome, err := a.authenticate(ctx, username, password)
	if outcome != Accepted {
		a.padFailure(ctx, start)
	}
	return id, outcome, err
}

// padFailure waits until FailureTime has passed since start. Every refusal
// already pays one argon2id run, but the paths still differ by a directory
// round trip or a database write (a few ms, measurable over many tries);
// the floor hides them. A refusal slower than the floor (a directory that
// times out) says the directory is slow, nothing about the password.
func (a *Authenticator) padFailure(ctx context.Context, start time.Time) {
	wait := a.cfg.FailureTime - time.Since(start)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (a *Authenticator) authenticate(ctx context.Context, username, password string) (Identity, Outcome, error) {
	username = strings.TrimSpace(username)
	switch {
	case username == "":
		return a.refuse(username, &Failure{Outcome: Rejected, Source: SourceLDAP, Reason: ReasonEmptyUsername})
	case password == "":
		return a.refuse(username, &Failure{Outcome: Rejected, Source: SourceLDAP, Reason: ReasonEmptyPassword})
	case len(username) > 256 || len(password) > 1024 || !models.ValidLoginName(username):
		return a.refuse(username, &Failure{Outcome: Rejected, Source: SourceLDAP, Reason: ReasonInvalidInput})
	}

	at := attempt{outcome: Unreachable, reason: ReasonBreakerOpen}
	if a.breaker.allow(a.now()) {
		at = a.directoryLogin(ctx, username, password)
		if ctx.Err() != nil && at.outcome != Accepted && at.outcome != Rejected {
			// The caller gave up: that says nothing about the directory.
			return a.refuse(username, &Failure{Outcome: Unreachable, Source: SourceLDAP, Reason: ReasonCanceled, Err: ctx.Err()})
		}
		a.recordBreaker(at)
	}

	switch at.outcome {
	case Accepted:
		return a.acceptOnline(ctx, at, password)
	case Rejected:
		a.purge(ctx, at, password)
		return a.refuse(username, &Failure{Outcome: Rejected, Source: SourceLDAP, Reason: at.reason, Err: at.err})
	}
	a.logDirectoryTrouble(username, at)
	if a.cfg.CacheMaxAge == 0 {
		return a.refuse(username, &Failure{Outcome: at.outcome, Source: SourceLDAP, Reason: at.reason, Err: at.err})
	}
	return a.cacheLogin(ctx, username, password, at)
}

// acceptOnline overwrites the cached hash and role snapshot with this
// login's, so a password or group changed in the directory reaches the
// cache at the next login, and returns the identity.
func (a *Authenticator) acceptOnline(ctx context.Context, at attempt, password string) (Identity, Outcome, error) {
	id := at.identity
	now := a.now().UTC()
	hash := ""
	if a.cfg.CacheMaxAge > 0 {
		var err error
		if hash, err = a.hasher.hash(ctx, password); err != nil {
			// Saving no hash drops the old one: better no fallback than a stale password.
			a.log.Error("cannot hash the password for the cache", "user", id.Username, "err", err)
		}
	}
	uid, err := a.store.SaveOnlineLogin(ctx, models.OnlineLogin{
		Username: id.Username, DisplayName: id.DisplayName, Role: id.Role, Groups: id.Groups, PasswordHash: hash, At: now,
		DirectoryStamp: at.stamp,
	})
	if err != nil {
		if models.ErrorCode(err) == models.ECONFLICT {
			return a.refuse(id.Username, &Failure{Outcome: Rejected, Source: SourceLDAP, Reason: ReasonLocalAccount, Err: err})
		}
		return a.refuse(id.Username, &Failure{Outcome: Unreachable, Source: SourceLDAP, Reason: ReasonStoreError, Err: err})
	}
	id.UserID, id.LastOnlineAt = uid, now
	a.log.Info("login", "user", id.Username, "outcome", Accepted, "source", SourceLDAP, "reason", ReasonOK, "role", id.Role, "url", at.url)
	return id, Accepted, nil
}

// purge deletes the cached credential after a definitive rejection by the
// directory, following pam_ccreds: after a wrong password it goes only when
// the cache would have accepted that password (it is an old one), so a
// typo, or a stranger guessing, cannot wipe someone's fallback; unknown
// users and users without a role lose it outright.
//
// Every path pays exactly one argon2id run, the dummy hash when there is no
// cached one to check, so that a refusal costs the same whatever its reason:
// without it, a user without a role answered the right password in 3 ms and
// every other failure in 23 ms, which told a guesser the password was right.
func (a *Authenticator) purge(ctx context.Context, at attempt, password string) {
	name := canonicalName(at.canonical)
	hash := a.dummy
	switch at.reason {
	case ReasonBadPassword, ReasonUnknownUser, ReasonNoRole:
		if name == "" {
			break
		}
		cred, ok, err := a.store.LoadCredential(ctx, name)
		if err != nil {
			a.log.Error("cannot check the cached credential after a rejection", "user", name, "reason", at.reason, "err", err)
		} else if ok {
			hash = cred.PasswordHash
		}
	}
	match, err := a.hasher.verify(ctx, hash, password)
	if err != nil && hash != a.dummy {
		a.log.Error("the cached credential does not parse; it goes", "user", name, "err", err)
		match = true
	}
	if hash == a.dummy || (at.reason == ReasonBadPassword && !match) {
		return
	}
	if err := a.store.DeleteCredential(ctx, name); err != nil {
		a.log.Error("cannot purge the cached credential", "user", name, "reason", at.reason, "err", err)
		return
	}
	a.log.Info("cached credential purged", "user", name, "reason", at.reason)
}

// recordBreaker feeds a directory outcome to the breaker: any answer means
// the directory is up; no answer counts towards opening it.
func (a *Authenticator) recordBreaker(at attempt) {
	now := a.now()
	switch at.outcome {
	case Accepted, Rejected:
		if a.breaker.answered(now) {
			a.log.Info("directory answers again: circuit closed")
		}
	default:
		if a.breaker.unreachable(now, at.reason) {
			a.log.Warn("directory down: circuit open, logins go to cached credentials until a probe succeeds",
				"reason", at.reason, "failures", a.cfg.BreakerFailures)
		}
	}
}

// logDirectoryTrouble logs why the directory could not decide, loudly when
// a person must act: a refused service account, or a TLS failure (an
// expired directory certificate is a classic outage, but it may also be an
// attacker forcing cache mode, so it is logged at ERROR).
func (a *Authenticator) logDirectoryTrouble(username string, at attempt) {
	switch {
	case at.reason == ReasonBreakerOpen:
	case at.reason == ReasonTLSError:
		a.log.Error("SECURITY: TLS with the directory failed; logins fall back to cached credentials. Check the directory's certificate and ldap.ca_file",
			"url", at.url, "user", username, "err", at.err)
	case at.outcome == DirectoryUnusable:
		a.log.Error("the directory refused the service account; logins fall back to cached credentials. Check ldap.bind_dn and ldap.bind_password",
			"url", at.url, "user", username, "err", at.err)
	default:
		a.log.Warn("directory unreachable", "url", at.url, "user", username, "reason", at.reason, "err", at.err)
	}
}

// refuse logs a failed login and returns it.
func (a *Authenticator) refuse(username string, f *Failure) (Identity, Outcome, error) {
	attrs := []any{"user", username, "outcome", f.Outcome, "source", f.Source, "reason", f.Reason}
	if f.DirectoryReason != "" {
		attrs = append(attrs, "directory", f.DirectoryReason)
	}
	if f.Err != nil {
		attrs = append(attrs, "err", f.Err)
	}
	level := slog.LevelWarn
	if f.Reason == ReasonStoreError {
		level = slog.LevelError
	}
	a.log.Log(context.Background(), level, "login refused", attrs...)
	return Identity{}, f.Outcome, f
}

// Run probes the directory every ProbeInterval while the breaker is open,
// and closes it when the service account can bind again; while it is closed
// it checks the accounts of signed-in directory users (see Revalidate). It
// returns when ctx ends.
func (a *Authenticator) Run(ctx context.Context) {
	t := time.NewTicker(a.cfg.ProbeInterval)
	defer t.Stop()
	var recheck <-chan time.Time
	if a.cfg.RevalidateEvery > 0 {
		rt := time.NewTicker(a.revalidatePass())
		defer rt.Stop()
		recheck = rt.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-recheck:
			if a.DirectoryUp() {
				if _, err := a.Revalidate(ctx); err != nil && ctx.Err() == nil {
					a.log.Warn("checking signed-in users against the directory failed; next pass soon", "err", err)
				}
			}
			continue
		case <-t.C:
		}
		a.breaker.probed(a.now())
		if a.DirectoryUp() {
			continue
		}
		if err := a.probe(ctx); err != nil {
			a.log.Debug("directory probe failed", "err", err)
			continue
		}
		if a.breaker.answered(a.now()) {
			a.log.Info("directory probe succeeded: circuit closed")
		}
	}
}

// DirectoryUp is false while the breaker is open and logins go straight to
// the cached credentials.
func (a *Authenticator) DirectoryUp() bool {
	open, _, _ := a.breaker.state()
	return !open
}

// Status reports the breaker's state, for a health or admin page.
func (a *Authenticator) Status() Status {
	open, since, reason := a.breaker.state()
	return Status{DirectoryUp: !open, Since: since, Reason: reason}
}
