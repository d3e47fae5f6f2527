package handlers

import (
	"slices"
	"testing"
)

func TestRedactArgs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args, out []string
	}{
		{"flag=value", []string{"sitemetrics", "serve", "--ldap-bind-password=hunter2", "--addr=:8080"},
			[]string{"sitemetrics", "serve", "--ldap-bind-password=REDACTED", "--addr=:8080"}},
		{"flag value", []string{"sitemetrics", "serve", "-ldap-bind-password", "hunter2", "--demo"},
			[]string{"sitemetrics", "serve", "-ldap-bind-password", "REDACTED", "--demo"}},
		{"admin password", []string{"sitemetrics", "--admin-password", "s3cret"}, []string{"sitemetrics", "--admin-password", "REDACTED"}},
		{"password in a database URL", []string{"sitemetrics", "--database-url=postgres://app:pw@db:5432/sm", "postgres://u:p2@h/x"},
			[]string{"sitemetrics", "--database-url=postgres://app:REDACTED@db:5432/sm", "postgres://u:REDACTED@h/x"}},
		{"nothing secret", []string{"sitemetrics", "serve", "--base-url=https://sm.example", "postgres://u@h/x"},
			[]string{"sitemetrics", "serve", "--base-url=https://sm.example", "postgres://u@h/x"}},
	} {
		if got := redactArgs(tc.args); !slices.Equal(got, tc.out) {
			t.Errorf("%s: redactArgs(%q) = %q, want %q", tc.name, tc.args, got, tc.out)
		}
	}
}
