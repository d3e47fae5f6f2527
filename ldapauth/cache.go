package ldapauth

import (
	"context"

	"github.com/sitemetrics/sitemetrics/models"
)

// cacheLogin checks a login against the cached credential, because the
// directory could not decide (at says why). The order is SSSD's: no
// credential, expired, locked out, and only then the hash; every refusal
// before the hash still pays a dummy hash, so timing tells nothing. It
// never creates a user (only people who signed in online have a credential)
// and never extends the expiry (counted from the last online login).
func (a *Authenticator) cacheLogin(ctx context.Context, username, password string, at attempt) (Identity, Outcome, error) {
	name := canonicalName(username)
	fail := func(o Outcome, reason string, err error) (Identity, Outcome, error) {
		return a.refuse(username, &Failure{Outcome: o, Source: SourceCache, Reason: reason, DirectoryReason: at.reason, Err: err})
	}
	cred, ok, err := a.store.LoadCredential(ctx, name)
	if err != nil {
		return fail(at.outcome, ReasonStoreError, err)
	}
	now := a.now()
	refusal := ""
	switch {
	case !ok:
		refusal = ReasonNoCachedCredentials
	case now.Sub(cred.LastOnlineAt) > a.cfg.CacheMaxAge:
		refusal = ReasonCacheExpired
	case cred.LockedUntil != nil && now.Before(*cred.LockedUntil):
		refusal = ReasonCacheLocked
	case cred.Role.Rank() == 0:
		refusal = ReasonNoRole
	}
	if refusal != "" {
		if _, err := a.hasher.verify(ctx, a.dummy, password); err != nil && ctx.Err() != nil {
			return fail(Unreachable, ReasonCanceled, err)
		}
		return fail(Rejected, refusal, nil)
	}

	match, err := a.hasher.verify(ctx, cred.PasswordHash, password)
	switch {
	case err != nil && ctx.Err() != nil:
		return fail(Unreachable, ReasonCanceled, err)
	case err != nil:
		return fail(Rejected, ReasonStoreError, err) // a corrupt hash cannot vouch for anyone
	case !match:
		lockUntil := lockedForever
		if a.cfg.OfflineLockout > 0 {
			lockUntil = now.Add(a.cfg.OfflineLockout)
		}
		if err := a.store.RecordOfflineFailure(ctx, name, now, a.cfg.OfflineMaxFailures, lockUntil); err != nil {
			a.log.Error("cannot count an offline failure", "user", name, "err", err)
		}
		return fail(Rejected, ReasonCacheBadPassword, nil)
	}

	if err := a.store.RecordOfflineSuccess(ctx, name, now); err != nil {
		a.log.Error("cannot record an offline login", "user", name, "err", err)
	}
	id := Identity{
		UserID: cred.UserID, Username: cred.Username, DisplayName: cred.DisplayName,
		Groups: cred.Groups, Role: cred.Role, Source: SourceCache, LastOnlineAt: cred.LastOnlineAt, DirectoryReason: at.reason,
	}
	// The snapshot vouches for the role only so long: someone demoted or
	// removed while the directory is down keeps at most viewer after it.
	if a.cfg.CacheFullRoleFor > 0 && now.Sub(cred.LastOnlineAt) > a.cfg.CacheFullRoleFor && id.Role.Rank() > models.RoleViewer.Rank() {
		a.log.Info("cached role capped at viewer: the last directory login is too old to vouch for more", "user", id.Username,
			"cached_role", id.Role, "last_online_at", cred.LastOnlineAt, "full_role_for", a.cfg.CacheFullRoleFor)
		id.Role = models.RoleViewer
	}
	a.log.Info("login", "user", id.Username, "outcome", Accepted, "source", SourceCache, "reason", ReasonOK,
		"directory", at.reason, "role", id.Role, "last_online_at", cred.LastOnlineAt)
	return id, Accepted, nil
}
