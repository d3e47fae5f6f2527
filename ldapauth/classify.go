package ldapauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// stage is the step of a directory login an error came from: the same
// result code means different things at different steps (49 on the service
// bind is our problem, on the user bind it is theirs).
type stage int

const (
	stageConnect     stage = iota // dial, LDAPS handshake, StartTLS
	stageServiceBind              // bind as BindDN
	stageSearch                   // user or group search
	stageUserBind                 // bind as the user's DN
)

// tlsError marks a failed TLS handshake or certificate check: the login
// falls back to the cache, and the log says so at ERROR.
type tlsError struct{ err error }

func (e tlsError) Error() string { return "TLS with the directory failed: " + e.err.Error() }
func (e tlsError) Unwrap() error { return e.err }

// classify maps an error of one directory step to an outcome and a reason,
// per the reference's table 2.6. What is not clearly "the directory did not
// answer" is Rejected: an unknown answer must not open the cache (fail closed).
func classify(ctx context.Context, st stage, err error) (Outcome, string) {
	if ctx.Err() != nil {
		// Our own deadline closed the connection; whatever the error says, it timed out.
		return Unreachable, ReasonTimeout
	}
	if isTLSFailure(err) {
		return Unreachable, ReasonTLSError
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return Unreachable, ReasonTimeout
	}
	var lerr *ldap.Error
	if !errors.As(err, &lerr) {
		// Not an LDAP result: the dial or the transport failed (refused, reset, DNS).
		return Unreachable, ReasonDirectoryDown
	}
	switch lerr.ResultCode {
	case ldap.ErrorNetwork:
		if lerr.Err != nil && strings.Contains(lerr.Err.Error(), "timed out") {
			return Unreachable, ReasonTimeout
		}
		return Unreachable, ReasonDirectoryDown
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable:
		return Unreachable, ReasonBusy
	case ldap.LDAPResultTimeLimitExceeded, ldap.LDAPResultTimeout:
		return Unreachable, ReasonTimeout
	case ldap.LDAPResultServerDown, ldap.LDAPResultConnectError, ldap.LDAPResultOther:
		return Unreachable, ReasonDirectoryDown
	}
	switch st {
	case stageConnect:
		// StartTLS refused by a server that answers: misconfigured, not down.
		return DirectoryUnusable, ReasonTLSError
	case stageServiceBind:
		// 49 wrong or expired service password, 50 not allowed, 48/53/13/8
		// the server wants another kind of bind: every login would fail.
		return DirectoryUnusable, ReasonServiceAccountRefused
	case stageSearch:
		switch lerr.ResultCode {
		case ldap.LDAPResultSizeLimitExceeded:
			return Rejected, ReasonAmbiguousUser
		case ldap.LDAPResultInsufficientAccessRights, ldap.LDAPResultNoSuchObject, ldap.LDAPResultInvalidCredentials:
			// The service account may not read the base, or the base is wrong.
			return DirectoryUnusable, ReasonServiceAccountRefused
		}
	case stageUserBind:
		if lerr.ResultCode == ldap.LDAPResultInvalidCredentials {
			return Rejected, ReasonBadPassword
		}
	}
	return Rejected, ReasonDirectoryError
}

// isTLSFailure recognises handshake and certificate errors, including
// go-ldap's StartTLS error, which keeps only the text of the cause.
func isTLSFailure(err error) bool {
	var (
		te      tlsError
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		record  tls.RecordHeaderError
		alert   tls.AlertError
	)
	switch {
	case errors.As(err, &te), errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &host),
		errors.As(err, &invalid), errors.As(err, &record), errors.As(err, &alert):
		return true
	}
	var lerr *ldap.Error
	return errors.As(err, &lerr) && lerr.ResultCode == ldap.ErrorNetwork && lerr.Err != nil &&
		strings.Contains(lerr.Err.Error(), "TLS handshake failed")
}
