package ldapauth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// attempt is what one directory login found out.
type attempt struct {
	outcome Outcome
	reason  string
	err     error
	url     string
	// canonical is the directory's user name, once the search found the
	// entry; it names the cached credential to purge on a definitive no.
	canonical string
	identity  Identity
	stamp     string // the account's ChangedAttribute, for the background check
}

// conn is a directory connection whose socket is closed when the login's
// context ends, which also interrupts a StartTLS handshake that go-ldap
// would otherwise wait on forever.
type conn struct {
	*ldap.Conn
	stop func() bool
}

func (c *conn) close() {
	c.stop()
	_ = c.Conn.Close()
}

// connect dials one server, with TLS when configured, under the dial
// timeout, and arms the per-request timeout.
func (a *Authenticator) connect(ctx context.Context, s server) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, a.cfg.DialTimeout)
	defer cancel()
	raw, err := a.dialer.DialContext(dctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	nc := raw
	if s.ldaps {
		tc := tls.Client(raw, s.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			stop()
			_ = raw.Close()
			if dctx.Err() != nil {
				// No answer in time is a slow or hung server, not a TLS problem.
				return nil, fmt.Errorf("TLS handshake: %w", dctx.Err())
			}
			return nil, tlsError{err}
		}
		nc = tc
	}
	lc := ldap.NewConn(nc, s.ldaps)
	lc.Start()
	lc.SetTimeout(a.cfg.RequestTimeout)
	c := &conn{Conn: lc, stop: stop}
	if a.cfg.StartTLS {
		if err := lc.StartTLS(s.tls); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// directoryLogin tries each server in order, moving on only when one is
// unreachable, all within LoginTimeout.
func (a *Authenticator) directoryLogin(ctx context.Context, username, password string) attempt {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.LoginTimeout)
	defer cancel()
	var last attempt
	for _, s := range a.servers {
		last = a.loginAt(ctx, s, username, password)
		last.url = s.url
		if last.outcome != Unreachable || ctx.Err() != nil {
			break
		}
	}
	return last
}

// loginAt is search-then-bind against one server: bind as the service
// account, find exactly one entry by the escaped name, read its groups,
// bind as the entry's DN with the password, map groups to a role.
func (a *Authenticator) loginAt(ctx context.Context, s server, username, password string) attempt {
	fail := func(st stage, err error) attempt {
		o, r := classify(ctx, st, err)
		return attempt{outcome: o, reason: r, err: err}
	}
	c, err := a.connect(ctx, s)
	if err != nil {
		return fail(stageConnect, err)
	}
	defer c.close()
	if err := a.serviceBind(c); err != nil {
		return fail(stageServiceBind, err)
	}

	filter := strings.ReplaceAll(a.cfg.UserFilter, "{username}", ldap.EscapeFilter(username))
	res, err := c.Search(a.searchRequest(a.cfg.UserBase, filter, 2, a.userAttributes()))
	if err != nil {
		return fail(stageSearch, err)
	}
	switch len(res.Entries) {
	case 0:
		return attempt{outcome: Rejected, reason: ReasonUnknownUser, canonical: canonicalName(username)}
	case 1:
	default:
		return attempt{outcome: Rejected, reason: ReasonAmbiguousUser}
	}
	entry := res.Entries[0]
	canonical := pickUsername(entry.GetEqualFoldAttributeValues(a.cfg.UsernameAttribute), username)
	if canonical == "" {
		return attempt{outcome: Rejected, reason: ReasonDirectoryError,
			err: fmt.Errorf("entry %s has no %s", entry.DN, a.cfg.UsernameAttribute)}
	}
	groups, err := a.groups(c, entry, canonical)
	if err != nil {
		at := fail(stageSearch, err)
		at.canonical = canonical
		return at
	}

	// Bind as the user last, on the same connection: nothing more is read with
	// the user's rights.
	if err := c.Bind(entry.DN, password); err != nil {
		at := fail(stageUserBind, err)
		at.canonical = canonical
		return at
	}
	id := Identity{
		Username:    strings.ToLower(canonical),
		DisplayName: entry.GetEqualFoldAttributeValue(a.cfg.DisplayNameAttr),
		DN:          entry.DN,
		Groups:      groups,
		Source:      SourceLDAP,
	}
	id.Role = a.roleFor(groups)
	if id.Role.Rank() == 0 {
		return attempt{outcome: Rejected, reason: ReasonNoRole, canonical: canonical, identity: id}
	}
	return attempt{outcome: Accepted, reason: ReasonOK, canonical: canonical, identity: id, stamp: a.stampOf(entry)}
}

// userAttributes are the attributes a user search asks for.
func (a *Authenticator) userAttributes() []string {
	attrs := []string{a.cfg.UsernameAttribute, a.cfg.DisplayNameAttr}
	if a.cfg.GroupAttribute != "" {
		attrs = append(attrs, a.cfg.GroupAttribute)
	}
	if a.cfg.ChangedAttribute != "" {
		attrs = append(attrs, a.cfg.ChangedAttribute)
	}
	return attrs
}

// stampOf is the entry's ChangedAttribute, or "" when not configured.
func (a *Authenticator) stampOf(e *ldap.Entry) string {
	if a.cfg.ChangedAttribute == "" {
		return ""
	}
	return e.GetEqualFoldAttributeValue(a.cfg.ChangedAttribute)
}

func (a *Authenticator) serviceBind(c *conn) error {
	if a.cfg.BindDN == "" {
		return nil // anonymous search, when the directory allows it
	}
	return c.Bind(a.cfg.BindDN, a.cfg.BindPassword)
}

func (a *Authenticator) searchRequest(base, filter string, sizeLimit int, attrs []string) *ldap.SearchRequest {
	seconds := int(a.cfg.RequestTimeout.Seconds())
	if seconds < 1 {
		seconds = 1
	}
	return ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, sizeLimit, seconds, false, filter, attrs, nil)
}

// groups returns the entry's group DNs: from GroupAttribute, plus a group
// search when GroupBase is set.
func (a *Authenticator) groups(c *conn, entry *ldap.Entry, canonical string) ([]string, error) {
	var out []string
	if a.cfg.GroupAttribute != "" {
		out = append(out, entry.GetEqualFoldAttributeValues(a.cfg.GroupAttribute)...)
	}
	if a.cfg.GroupBase != "" {
		filter := strings.NewReplacer("{dn}", ldap.EscapeFilter(entry.DN), "{username}", ldap.EscapeFilter(canonical)).Replace(a.cfg.GroupFilter)
		res, err := c.Search(a.searchRequest(a.cfg.GroupBase, filter, 1000, []string{"1.1"}))
		if err != nil {
			return nil, fmt.Errorf("group search: %w", err)
		}
		for _, g := range res.Entries {
			out = append(out, g.DN)
		}
	}
	return out, nil
}

// probe binds as the service account on the first server that answers; nil
// means the directory is usable again.
func (a *Authenticator) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.LoginTimeout)
	defer cancel()
	var errs []error
	for _, s := range a.servers {
		c, err := a.connect(ctx, s)
		if err == nil {
			err = a.serviceBind(c)
			if err == nil && a.cfg.BindDN == "" {
				// Anonymous: a bind proves nothing, a root DSE read proves the server answers.
				_, err = c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 1, false, "(objectClass=*)", []string{"1.1"}, nil))
			}
			c.close()
		}
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.url, err))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// pickUsername returns the value of the username attribute the person typed
// (an entry may hold several), else the first.
func pickUsername(values []string, typed string) string {
	for _, v := range values {
		if strings.EqualFold(strings.TrimSpace(v), typed) {
			return strings.TrimSpace(v)
		}
	}
	if len(values) > 0 {
		return strings.TrimSpace(values[0])
	}
	return ""
}

func canonicalName(typed string) string { return strings.ToLower(strings.TrimSpace(typed)) }
