package models

import "testing"

func TestLoginNames(t *testing.T) {
	for _, tc := range []struct {
		typed string
		valid bool
		key   string // what the throttle counts it under
	}{
		{"Alice", true, "alice"},
		{" zoë ", true, "zoë"},
		{"*)(uid=*", true, "*)(uid=*"}, // odd but storable; the directory escapes it
		{"alice\x00", false, "alice\ufffd"},
		{"al\nice", false, "al\ufffdice"},
		{"\xff\xfe", false, "\ufffd\ufffd"}, // lowercasing already makes each byte U+FFFD
	} {
		if got := ValidLoginName(tc.typed); got != tc.valid {
			t.Errorf("ValidLoginName(%q) = %v, want %v", tc.typed, got, tc.valid)
		}
		if got := LoginKey(tc.typed); got != tc.key {
			t.Errorf("LoginKey(%q) = %q, want %q", tc.typed, got, tc.key)
		}
	}
}
