package ldapauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/sitemetrics/sitemetrics/models"
)

// revalidateBatch bounds one pass; the rest wait for the next.
const revalidateBatch = 200

// Checked says what one Revalidate pass did.
type Checked struct {
	Users    int // accounts looked up
	Ended    int // of those, whose sessions ended
	Sessions int // sessions ended
}

// Revalidate looks up, with the service account, every directory user
// with a live session whose account was not checked (nor signed in) within
// RevalidateEvery, and ends their sessions when the directory has changed
// its mind: the account is gone, no group of theirs maps to a role any
// more, they map to another role, or the account changed since they signed
// in (ChangedAttribute: a new password, say). A gone or changed account
// loses its cached credential too, and a changed role its role snapshot,
// so a directory outage cannot bring back what the directory took away.
//
// Run calls it in the background; no request waits for the directory.
// When the directory cannot be reached it changes nothing.
func (a *Authenticator) Revalidate(ctx context.Context) (Checked, error) {
	var done Checked
	if a.cfg.RevalidateEvery <= 0 {
		return done, nil
	}
	// Due a pass early, so that with a pass every third of the interval no
	// account goes unchecked for longer than the interval.
	now := a.now().UTC()
	due, err := a.store.DirectoryUsersToCheck(ctx, now.Add(-a.cfg.RevalidateEvery+a.revalidatePass()), revalidateBatch)
	if err != nil || len(due) == 0 {
		return done, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.LoginTimeout+a.cfg.RequestTimeout*revalidateBatch/10)
	defer cancel()
	c, err := a.serviceConn(ctx)
	if err != nil {
		return done, fmt.Errorf("connect to check %d signed-in users: %w", len(due), err)
	}
	defer c.close()
	for _, u := range due {
		v, err := a.verdict(c, u)
		if err != nil {
			return done, fmt.Errorf("look up %q: %w", u.Username, err)
		}
		ended, err := a.store.RecordDirectoryCheck(ctx, u.UserID, a.now(), v)
		if err != nil {
			return done, err
		}
		done.Users++
		if v.Reason != "" {
			done.Ended++
			done.Sessions += int(ended)
			a.log.Info("sessions ended: the directory changed the account", "user", u.Username, "reason", v.Reason,
				"role_was", u.Role, "role_now", v.Role, "sessions", ended)
		}
	}
	return done, nil
}

// revalidatePass is how often Run calls Revalidate.
func (a *Authenticator) revalidatePass() time.Duration {
	return max(a.cfg.RevalidateEvery/3, 50*time.Millisecond)
}

// serviceConn is a connection bound as the service account, on the first
// server that gives one.
func (a *Authenticator) serviceConn(ctx context.Context) (*conn, error) {
	var errs []error
	for _, s := range a.servers {
		c, err := a.connect(ctx, s)
		if err == nil {
			if err = a.serviceBind(c); err == nil {
				return c, nil
			}
			c.close()
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.url, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// verdict looks the user up as a login would and compares.
func (a *Authenticator) verdict(c *conn, u models.DirectoryCheck) (models.CheckVerdict, error) {
	filter := strings.ReplaceAll(a.cfg.UserFilter, "{username}", ldap.EscapeFilter(u.Username))
	res, err := c.Search(a.searchRequest(a.cfg.UserBase, filter, 2, a.userAttributes()))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return models.CheckVerdict{}, err
	}
	switch {
	case res == nil || len(res.Entries) == 0:
		return models.CheckVerdict{Reason: models.CheckDeleted}, nil
	case len(res.Entries) > 1:
		return models.CheckVerdict{Reason: models.CheckAmbiguous}, nil
	}
	entry := res.Entries[0]
	canonical := pickUsername(entry.GetEqualFoldAttributeValues(a.cfg.UsernameAttribute), u.Username)
	groups, err := a.groups(c, entry, canonical)
	if err != nil {
		return models.CheckVerdict{}, err
	}
	role := a.roleFor(groups)
	switch {
	case role.Rank() == 0:
		return models.CheckVerdict{Reason: models.CheckNoRole}, nil
	case u.Stamp != "" && a.stampOf(entry) != u.Stamp:
		return models.CheckVerdict{Reason: models.CheckAccountChanged, Role: role}, nil
	case role != u.Role:
		return models.CheckVerdict{Reason: models.CheckRoleChanged, Role: role}, nil
	}
	return models.CheckVerdict{Role: role}, nil
}
