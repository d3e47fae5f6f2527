package main

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// resetCmd runs `sitemetrics admin reset-password` with stdin.
func resetCmd(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runInput(context.Background(), append([]string{"sitemetrics", "admin", "reset-password"}, args...), getenvFrom(env),
		strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

// An admin who lost the password resets it from the command line, while the
// app runs or not: the old password stops working, every session of the
// account ends at once, its failed sign-ins are forgotten, and the audit log
// says so.
func TestAdminResetPassword(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env := localEnv(t, dialect)
		env["USER"] = "ops"
		a := startApp(t, env)
		laptop := newBrowser(t, a.URL)
		mustf(t, laptop.login("admin", adminPassword, "/").Status == 303, "sign in")
		// Five wrong guesses from this address: the next attempt would wait 15 s
		// unless the reset forgets them.
		for i := 0; i < 5; i++ {
			newBrowser(t, a.URL).login("admin", "a wrong guess", "/")
		}

		file := writeFile(t, "pw", "a brand new passphrase\n")
		out, err := resetCmd(t, env, "", "--password-file", file)
		mustf(t, err == nil && strings.Contains(out, "The password of admin is reset; 1 session(s) ended."), "reset from a file: %v\n%s", err, out)
		mustf(t, laptop.get("/").Status == 303, "a session of the account survived the reset")
		mustf(t, newBrowser(t, a.URL).login("admin", adminPassword, "/").Status == 401, "the old password still works")
		r := newBrowser(t, a.URL).login("admin", "a brand new passphrase", "/slos")
		mustf(t, r.Status == 303 && r.Header.Get("Location") == "/slos", "the new password: %d %s", r.Status, r.Header.Get("Location"))

		out, err = resetCmd(t, env, "from standard input!\n", "--password-file", "-")
		mustf(t, err == nil && strings.Contains(out, "reset"), "reset from standard input: %v", err)
		mustf(t, newBrowser(t, a.URL).login("admin", "from standard input!", "/").Status == 303, "the password from standard input")

		// On a stopped installation, generated: printed once, to be changed at first sign-in.
		a.stop()
		out, err = resetCmd(t, env, "")
		m := regexp.MustCompile(`shown once:\s+(\S+)`).FindStringSubmatch(out)
		mustf(t, err == nil && m != nil && strings.Contains(out, "must be changed at the first sign-in"), "generated: %v\n%s", err, out)
		a = startApp(t, env)
		r = newBrowser(t, a.URL).login("admin", m[1], "/")
		mustf(t, r.Status == 303 && strings.HasPrefix(r.Header.Get("Location"), "/account/password"), "the generated password is not to be changed: %s", r.Header.Get("Location"))
		mustf(t, strings.Contains(a.out.String(), "SITEMETRICS_ADMIN_PASSWORD is not the password of admin and is ignored"),
			"no word that the environment's password no longer applies:\n%s", a.out.String())

		var audit struct {
			Audit []struct{ Actor, Action, Summary string } `json:"audit"`
		}
		apiGet(t, a, newAPIToken(t, env, "sre"), "/api/v1/audit?entity=user", &audit)
		mustf(t, len(audit.Audit) == 3 && audit.Audit[0].Action == "reset_password" && audit.Audit[0].Actor == "sitemetrics admin reset-password (ops)" &&
			audit.Audit[0].Summary == "password of admin reset", "audit: %+v", audit.Audit)

		_, err = resetCmd(t, env, "short\n", "--password-file", "-")
		mustf(t, err != nil && strings.Contains(err.Error(), "use at least 12"), "a short password: %v", err)
		_, err = resetCmd(t, env, "", "--user", "nobody")
		mustf(t, err != nil && strings.Contains(err.Error(), `no local account "nobody"`), "an unknown account: %v", err)
	})
}

// The first start says how to get back in, and it is true.
func TestStartupSaysHowToReset(t *testing.T) {
	env := testEnv(t, "sqlite")
	a := startApp(t, env)
	out := a.out.String()
	mustf(t, strings.Contains(out, "Lost the admin password? Run `sitemetrics admin reset-password`") && !strings.Contains(out, "set SITEMETRICS_ADMIN_PASSWORD"),
		"startup text:\n%s", out)
	b := newBrowser(t, a.URL)
	_, err := resetCmd(t, env, "chosen by the admin\n", "--password-file", "-")
	must(t, err)
	mustf(t, b.login("admin", "chosen by the admin", "/").Status == 303, "the reset password")
	mustf(t, b.post("/logout", url.Values{}).Status == 303, "sign out")
}
