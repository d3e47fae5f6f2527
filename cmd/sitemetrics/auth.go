package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// ldapauthConfig hands the directory and fallback settings to ldapauth.
func (c *Config) ldapauthConfig() ldapauth.Config {
	l, a := c.LDAP, c.Auth
	mappings := make([]ldapauth.RoleMapping, len(l.RoleMappings))
	for i, m := range l.RoleMappings {
		mappings[i] = ldapauth.RoleMapping{GroupDN: m.GroupDN, Role: m.Role}
	}
	return ldapauth.Config{
		URLs: l.URLs, BindDN: l.BindDN, BindPassword: l.BindPassword, UserBase: l.UserBase, UserFilter: l.UserFilter,
		UsernameAttribute: l.UsernameAttribute, DisplayNameAttr: l.DisplayNameAttr, GroupAttribute: l.GroupAttribute,
		GroupBase: l.GroupBase, GroupFilter: l.GroupFilter, StartTLS: l.StartTLS, CAFile: l.CAFile,
		InsecureSkipVerify: l.InsecureSkipVerify, DialTimeout: l.DialTimeout, RequestTimeout: l.RequestTimeout,
		LoginTimeout: l.LoginTimeout, RoleMappings: mappings,
		CacheMaxAge: a.CacheMaxAge, OfflineMaxFailures: a.OfflineMaxFailures, OfflineLockout: a.OfflineLockout,
		BreakerFailures: a.BreakerFailures, ProbeInterval: a.ProbeInterval, FailureTime: a.FailureTime,
		RevalidateEvery: a.RevalidateInterval, ChangedAttribute: l.ChangedAttribute, CacheFullRoleFor: a.CacheFullRoleFor,
	}
}

// bootstrapAdmin creates the local account "admin" on first start, with
// SITEMETRICS_ADMIN_PASSWORD or a generated password printed once.
func (e env) bootstrapAdmin(ctx context.Context, cfg *Config, store *sqlstore.Store, passwords *ldapauth.Passwords, demo bool, log *slog.Logger) error {
	password, generated := cfg.AdminPassword, false
	if password == "" {
		plain, _, _ := models.NewSecret("")
		password, generated = plain[:20], true
	} else if len([]rune(password)) < minPasswordLen {
		return fmt.Errorf("configuration: SITEMETRICS_ADMIN_PASSWORD is shorter than %d characters", minPasswordLen)
	}
	hash, err := passwords.Hash(ctx, password)
	if err != nil {
		return err
	}
	created, err := store.EnsureLocalAdmin(ctx, hash, generated && !demo)
	if err != nil {
		return err
	}
	if !created {
		// The setting gave the password when the account was made; once the password has
		// changed it no longer says what it is, and must not pass for a way to reset it.
		if cfg.AdminPassword != "" {
			if u, err := store.UserByName(ctx, "admin"); err == nil {
				if same, err := passwords.Verify(ctx, u.PasswordHash, cfg.AdminPassword); err == nil && !same {
					log.Warn("SITEMETRICS_ADMIN_PASSWORD is not the password of admin and is ignored: it only sets the password when the account is created; to give admin a new one, run: sitemetrics admin reset-password")
				}
			}
		}
		return nil
	}
	if generated {
		fmt.Fprintf(e.stdout, "\nNo directory is configured: created the local account admin with the password\n\n  %s\n\n", password)
		if !demo {
			fmt.Fprint(e.stdout, "It is shown once; you will be asked to change it at first sign-in.\n")
		}
	}
	fmt.Fprint(e.stdout, "Lost the admin password? Run `sitemetrics admin reset-password` (with the same configuration), whether the app runs or not.\n\n")
	log.Info("local admin account created", "username", "admin", "generated_password", generated)
	return nil
}

// humanDuration writes 168h as "7 days".
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 (disabled)"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	default:
		return d.String()
	}
}
