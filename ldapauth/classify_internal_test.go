package ldapauth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Table 2.6 of the reference, with the error shapes go-ldap and the net
// package produce (see the fault and slapd tests for the same errors
// produced for real).
func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	dialTimeout := &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
	cases := []struct {
		name    string
		stage   stage
		err     error
		outcome Outcome
		reason  string
	}{
		{"connection refused", stageConnect, refused, Unreachable, ReasonDirectoryDown},
		{"dial timeout", stageConnect, dialTimeout, Unreachable, ReasonTimeout},
		{"DNS failure", stageConnect, &net.DNSError{Err: "no such host", Name: "ldap.invalid", IsNotFound: true}, Unreachable, ReasonDirectoryDown},
		{"request timed out (200)", stageServiceBind, ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection timed out")), Unreachable, ReasonTimeout},
		{"connection closed (200)", stageSearch, ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection closed")), Unreachable, ReasonDirectoryDown},
		{"busy (51)", stageSearch, ldapErr(ldap.LDAPResultBusy), Unreachable, ReasonBusy},
		{"unavailable (52)", stageUserBind, ldapErr(ldap.LDAPResultUnavailable), Unreachable, ReasonBusy},
		{"time limit exceeded (3)", stageSearch, ldapErr(ldap.LDAPResultTimeLimitExceeded), Unreachable, ReasonTimeout},
		{"other (80)", stageSearch, ldapErr(ldap.LDAPResultOther), Unreachable, ReasonDirectoryDown},
		{"server down (81)", stageServiceBind, ldapErr(ldap.LDAPResultServerDown), Unreachable, ReasonDirectoryDown},
		{"connect error (91)", stageConnect, ldapErr(ldap.LDAPResultConnectError), Unreachable, ReasonDirectoryDown},
		{"certificate from an unknown CA", stageConnect, tlsError{x509.UnknownAuthorityError{}}, Unreachable, ReasonTLSError},
		{"StartTLS handshake failed", stageConnect, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("TLS handshake failed (%v)", x509.UnknownAuthorityError{})), Unreachable, ReasonTLSError},
		{"StartTLS refused (53)", stageConnect, ldapErr(ldap.LDAPResultUnwillingToPerform), DirectoryUnusable, ReasonTLSError},
		{"service bind 49", stageServiceBind, ldapErr(ldap.LDAPResultInvalidCredentials), DirectoryUnusable, ReasonServiceAccountRefused},
		{"service bind 50", stageServiceBind, ldapErr(ldap.LDAPResultInsufficientAccessRights), DirectoryUnusable, ReasonServiceAccountRefused},
		{"search base missing (32)", stageSearch, ldapErr(ldap.LDAPResultNoSuchObject), DirectoryUnusable, ReasonServiceAccountRefused},
		{"more entries than the size limit (4)", stageSearch, ldapErr(ldap.LDAPResultSizeLimitExceeded), Rejected, ReasonAmbiguousUser},
		{"user bind 49", stageUserBind, ldapErr(ldap.LDAPResultInvalidCredentials), Rejected, ReasonBadPassword},
		{"user bind: empty password (206)", stageUserBind, ldapErr(ldap.ErrorEmptyPassword), Rejected, ReasonDirectoryError},
		{"user bind: unwilling (53), e.g. account disabled", stageUserBind, ldapErr(ldap.LDAPResultUnwillingToPerform), Rejected, ReasonDirectoryError},
		{"search: unknown code fails closed", stageSearch, ldapErr(ldap.LDAPResultProtocolError), Rejected, ReasonDirectoryError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, r := classify(context.Background(), tc.stage, tc.err)
			if o != tc.outcome || r != tc.reason {
				t.Fatalf("classify(%v) = %s/%s, want %s/%s", tc.err, o, r, tc.outcome, tc.reason)
			}
		})
	}

	// Once the login's own deadline has passed, any error is a timeout:
	// closing the connection is how the deadline is enforced.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if o, r := classify(ctx, stageUserBind, ldapErr(ldap.LDAPResultInvalidCredentials)); o != Unreachable || r != ReasonTimeout {
		t.Fatalf("after the deadline: %s/%s", o, r)
	}
}

// ldapErr is an error as go-ldap returns a server's result code.
func ldapErr(code uint16) error { return ldap.NewError(code, errors.New("diagnostic message")) }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestBreaker(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &breaker{threshold: 3, probeGap: time.Minute}
	steps := []struct {
		name     string
		do       func() bool // reports a state change
		changed  bool
		allowNow bool
	}{
		{"first failure", func() bool { return b.unreachable(t0, ReasonTimeout) }, false, true},
		{"second failure", func() bool { return b.unreachable(t0, ReasonTimeout) }, false, true},
		{"an answer resets the count", func() bool { return b.answered(t0) }, false, true},
		{"failure 1 again", func() bool { return b.unreachable(t0, ReasonTimeout) }, false, true},
		{"failure 2", func() bool { return b.unreachable(t0, ReasonTimeout) }, false, true},
		{"failure 3 opens", func() bool { return b.unreachable(t0, ReasonTimeout) }, true, false},
		{"more failures change nothing", func() bool { return b.unreachable(t0, ReasonTimeout) }, false, false},
		{"an answer closes", func() bool { return b.answered(t0) }, true, true},
	}
	for _, st := range steps {
		if got := st.do(); got != st.changed {
			t.Fatalf("%s: changed = %v, want %v", st.name, got, st.changed)
		}
		if got := b.allow(t0); got != st.allowNow {
			t.Fatalf("%s: allow = %v, want %v", st.name, got, st.allowNow)
		}
	}

	never := &breaker{threshold: 0, probeGap: time.Minute}
	for i := 0; i < 100; i++ {
		never.unreachable(t0, ReasonTimeout)
	}
	if !never.allow(t0) {
		t.Fatal("threshold 0 opened the breaker")
	}
}
