package ldapauth

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestHashIsArgon2idPHC(t *testing.T) {
	h := newHasher(2)
	ctx := context.Background()
	a, err := h.hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.hash(ctx, "correct horse")
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(a) {
		t.Fatalf("%q is not an argon2id PHC string with the OWASP parameters, 16-byte salt and 32-byte key", a)
	}
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	cases := []struct {
		name, encoded, password string
		match                   bool
	}{
		{"right password", a, "correct horse", true},
		{"right password, other salt", b, "correct horse", true},
		{"wrong password", a, "correct horse.", false},
		{"empty password", a, "", false},
		{"prefix of the password", a, "correct", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.verify(ctx, tc.encoded, tc.password)
			if err != nil || ok != tc.match {
				t.Fatalf("verify = %v, %v; want %v", ok, err, tc.match)
			}
		})
	}
}

// A tampered or foreign row must not verify, nor make one check cost
// gigabytes or minutes.
func TestVerifyRefusesMalformedHashes(t *testing.T) {
	h := newHasher(1)
	good, err := h.hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	cases := []struct{ name, encoded string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"},
		{"argon2i", with(1, "argon2i")},
		{"other version", with(2, "v=16")},
		{"memory 4 GiB", with(3, "m=4194304,t=2,p=1")},
		{"a thousand passes", with(3, "m=19456,t=1000,p=1")},
		{"no threads", with(3, "m=19456,t=2,p=0")},
		{"salt not base64", with(4, "!!!!")},
		{"short key", with(5, "AAAA")},
		{"extra field", good + "$x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if ok, err := h.verify(context.Background(), tc.encoded, "pw"); ok || err == nil {
				t.Fatalf("verify(%q) = %v, %v; want an error", tc.encoded, ok, err)
			}
		})
	}
}

// Waiting for a hashing slot gives up with the caller's context.
func TestHashWaitsForASlotWithinContext(t *testing.T) {
	h := newHasher(1)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.hash(ctx, "pw"); err == nil {
		t.Fatal("hash ran although every slot was taken and the context was done")
	}
}
