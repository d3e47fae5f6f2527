package ldapauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: the OWASP minimum (m=19 MiB, t=2, p=1), about 23 ms
// on the reference machine. Stored with each hash, so they can change later.
const (
	argonMemory  = 19456 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// defaultHashConcurrency bounds argon2id's memory: 4 × 19 MiB, however many
// people sign in at once.
const defaultHashConcurrency = 4

var b64 = base64.RawStdEncoding

// hasher computes and checks argon2id hashes, at most cap(sem) at a time.
type hasher struct {
	sem chan struct{}
}

func newHasher(concurrency int) *hasher {
	return &hasher{sem: make(chan struct{}, concurrency)}
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting to hash: %w", ctx.Err())
	}
}

func (h *hasher) release() { <-h.sem }

// hash returns the PHC string of password with a fresh random salt.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	h.release()
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verify reports whether password matches the PHC string, in constant time
// over the key. It costs one argon2id run with the stored parameters.
func (h *hasher) verify(ctx context.Context, encoded, password string) (bool, error) {
	p, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	h.release()
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

var errBadHash = errors.New("cached hash is not an argon2id PHC string")

// parsePHC reads "$argon2id$v=19$m=…,t=…,p=…$salt$key", refusing parameters
// that would make one check cost more than 256 MiB or absurd time, so a
// tampered row cannot exhaust the server.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return phc{}, errBadHash
	}
	var p phc
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return phc{}, errBadHash
	}
	if p.memory < 8 || p.memory > 256*1024 || p.time < 1 || p.time > 16 || p.threads < 1 {
		return phc{}, errBadHash
	}
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return phc{}, errBadHash
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 {
		return phc{}, errBadHash
	}
	return p, nil
}
