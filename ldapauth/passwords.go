package ldapauth

import "context"

// Passwords hashes and checks the passwords of local accounts (installations
// without a directory) with the same argon2id parameters, and the same bound
// on concurrent hashing, as cached credentials.
type Passwords struct{ h *hasher }

// NewPasswords returns a hasher running at most concurrency argon2id computations at once.
func NewPasswords(concurrency int) *Passwords {
	if concurrency <= 0 {
		concurrency = defaultHashConcurrency
	}
	return &Passwords{h: newHasher(concurrency)}
}

// Hash returns the PHC string of password with a fresh salt.
func (p *Passwords) Hash(ctx context.Context, password string) (string, error) {
	return p.h.hash(ctx, password)
}

// Verify reports whether password matches the PHC string.
func (p *Passwords) Verify(ctx context.Context, encoded, password string) (bool, error) {
	return p.h.verify(ctx, encoded, password)
}
