package models

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// Secret prefixes make leaked tokens easy to recognise (and to scan for).
const (
	FeedTokenPrefix = "smf_"
	APITokenPrefix  = "sma_"
	KioskPrefix     = "smk_"
)

// NewSecret returns a fresh token (prefix + 32 random bytes, base64url), the hash
// to store, and a short hint that tells tokens apart without revealing them.
func NewSecret(prefix string) (plain string, hash []byte, hint string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux; it panics otherwise
	plain = prefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashSecret(plain), Hint(plain)
}

// HashSecret is the one-way form a token is stored and looked up by.
func HashSecret(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// Hint is the token's prefix and last four characters: "smf_…x7Qa".
func Hint(plain string) string {
	if len(plain) < 12 {
		return "…"
	}
	prefix := ""
	if i := strings.IndexByte(plain, '_'); i > 0 && i < 5 {
		prefix = plain[:i+1]
	}
	return prefix + "…" + plain[len(plain)-4:]
}

// SameHash compares two hashes in constant time.
func SameHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
