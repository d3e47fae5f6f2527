package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
)

// resetPassword is `sitemetrics admin reset-password`: a local account's new
// password, from a file, from standard input, or generated and printed once
// (then to be changed at first sign-in). It writes to the database, so it
// works whether the app runs or not; every session of the account ends at
// once, on every replica, and the audit log says who reset it.
func (e env) resetPassword(ctx context.Context, args []string) error {
	var user, file string
	cfg, _, err := e.parse("admin reset-password", args, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "admin", "the local account")
		fs.StringVar(&file, "password-file", "", "file holding the new password (- for standard input); without it one is generated and printed once")
	})
	if err != nil {
		return err
	}
	password, generated := "", file == ""
	switch file {
	case "":
		plain, _, _ := models.NewSecret("")
		password = plain[:20]
	case "-":
		b, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
		if err != nil {
			return fmt.Errorf("admin reset-password: read standard input: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	default:
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("admin reset-password: --password-file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	if n := len([]rune(password)); n < minPasswordLen {
		return fmt.Errorf("admin reset-password: the new password has %d characters; use at least %d", n, minPasswordLen)
	}
	log := e.logger(cfg)
	store, err := e.openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	hash, err := ldapauth.NewPasswords(0).Hash(ctx, password)
	if err != nil {
		return err
	}
	actor := "sitemetrics admin reset-password"
	if who := e.getenv("USER"); who != "" {
		actor += " (" + who + ")"
	}
	ended, err := store.ResetLocalPassword(ctx, actor, user, hash, generated)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return fmt.Errorf("admin reset-password: there is no local account %q (with a directory configured, people sign in through it)", user)
	}
	if err != nil {
		var me *models.Error
		if errors.As(err, &me) {
			return fmt.Errorf("admin reset-password: %s", me.Message)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "The password of %s is reset; %d session(s) ended.\n", models.NormalizeUsername(user), ended)
	if generated {
		fmt.Fprintf(e.stdout, "\nNew password — shown once:\n\n  %s\n\nIt must be changed at the first sign-in.\n", password)
	}
	return nil
}

const minPasswordLen = models.MinPasswordLength
