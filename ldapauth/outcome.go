package ldapauth

import (
	"errors"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// Outcome is the decision of one login; only Accepted lets someone in.
// The zero value is not a decision, so a forgotten assignment fails closed.
type Outcome string

// The outcomes. Unreachable and DirectoryUnusable are final only when the
// cached-credential fallback could not decide (it is disabled, or the
// database failed); otherwise the fallback turns them into Accepted or Rejected.
const (
	Accepted          Outcome = "accepted"           // the password is right and a role mapped
	Rejected          Outcome = "rejected"           // a definitive no; never retried from the cache
	Unreachable       Outcome = "unreachable"        // the directory did not answer (down, slow, busy, TLS broken, circuit open)
	DirectoryUnusable Outcome = "directory_unusable" // the directory answered but refused our service account
)

// Sources of a decision, for the session flag and the login metric.
const (
	SourceLDAP  = "ldap"  // the directory decided
	SourceCache = "cache" // the cached credential decided, because the directory could not
)

// Reasons say why, for logs and metrics; users always see one message.
const (
	ReasonOK                    = "ok"                      // accepted
	ReasonEmptyUsername         = "empty_username"          // refused before any I/O
	ReasonEmptyPassword         = "empty_password"          // refused before any I/O: an empty simple bind is an anonymous bind
	ReasonInvalidInput          = "invalid_input"           // over-long name or password, refused before any I/O
	ReasonBadPassword           = "bad_password"            // user bind answered 49
	ReasonUnknownUser           = "unknown_user"            // the search found nobody
	ReasonAmbiguousUser         = "ambiguous_user"          // the search found more than one entry
	ReasonNoRole                = "no_role"                 // no group of the user is in the role mappings
	ReasonDirectoryError        = "directory_error"         // the directory answered with an error we do not trust as "down"
	ReasonLocalAccount          = "local_account_conflict"  // a local account owns the name
	ReasonDirectoryDown         = "directory_down"          // refused, reset, closed, DNS, server down
	ReasonTimeout               = "timeout"                 // dial, request or whole-login timeout
	ReasonBusy                  = "busy"                    // the directory said busy or unavailable
	ReasonTLSError              = "tls_error"               // the TLS handshake or certificate check failed
	ReasonServiceAccountRefused = "service_account_refused" // the directory refused our bind DN
	ReasonBreakerOpen           = "breaker_open"            // the directory is known down: not asked
	ReasonCanceled              = "canceled"                // the caller gave up
	ReasonNoCachedCredentials   = "no_cached_credentials"   // never signed in online, or purged
	ReasonCacheExpired          = "cache_expired"           // last online login older than CacheMaxAge
	ReasonCacheLocked           = "cache_locked"            // too many offline failures
	ReasonCacheBadPassword      = "cache_bad_password"      // the cached hash does not match
	ReasonStoreError            = "store_error"             // the database failed
)

// Identity is who signed in. Groups and Role are the directory's at this
// login, or the snapshot of the last online login when Source is cache.
type Identity struct {
	UserID       int64  // users.id
	Username     string // canonical: the directory's username attribute, lowercased
	DisplayName  string
	DN           string // empty when Source is cache
	Groups       []string
	Role         models.Role
	Source       string    // SourceLDAP or SourceCache
	LastOnlineAt time.Time // the last directory login; for a cache login, how old the snapshot is
	// DirectoryReason is, for a cache login, why the directory did not
	// decide (ReasonBreakerOpen, ReasonTimeout, …); empty otherwise.
	DirectoryReason string
}

// Failure is the error of every login that is not Accepted. Its message
// never contains the password.
type Failure struct {
	Outcome Outcome
	Source  string // who decided: SourceLDAP or SourceCache
	Reason  string
	// DirectoryReason is why the cache decided (breaker_open, timeout, …);
	// empty when the directory decided.
	DirectoryReason string
	Err             error // the underlying error, if any
}

// Error says who refused and why; it never contains the password.
func (f *Failure) Error() string {
	msg := fmt.Sprintf("login %s by %s: %s", f.Outcome, f.Source, f.Reason)
	if f.DirectoryReason != "" {
		msg += " (directory: " + f.DirectoryReason + ")"
	}
	if f.Err != nil {
		msg += ": " + f.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (f *Failure) Unwrap() error { return f.Err }

// Reason returns the reason of a login error, ReasonOK for nil, or "" when
// err is not from Authenticate.
func Reason(err error) string {
	if err == nil {
		return ReasonOK
	}
	var f *Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}
