package spool

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/sitemetrics/sitemetrics/models"
)

// Tokens remembers, on local disk, the feed tokens this replica has seen and the feed
// each belongs to (hashes only, never the tokens), so that deliveries can be spooled
// while the database is out of reach, even after a restart during the outage.
type Tokens struct {
	path string
	mu   sync.Mutex
	m    map[string]Known // by the token hash, in hex
}

// Known is a feed token's feed, as last read from the database.
type Known struct {
	Feed    models.Feed `json:"feed"`
	TokenID int64       `json:"token_id"`
}

// OpenTokens loads the registry kept at path (a missing file is an empty registry).
func OpenTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path, m: map[string]Known{}}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read known feed tokens: %w", err)
	}
	if err := json.Unmarshal(b, &t.m); err != nil {
		return nil, fmt.Errorf("read known feed tokens %s: %w", path, err)
	}
	return t, nil
}

// Lookup finds a token's feed by the token's hash.
func (t *Tokens) Lookup(hash []byte) (Known, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.m[hex.EncodeToString(hash)]
	return k, ok
}

// Remember records a token's feed, writing the file only when something changed.
func (t *Tokens) Remember(hash []byte, k Known) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.m[hex.EncodeToString(hash)]; ok && old.TokenID == k.TokenID && old.Feed == k.Feed {
		return nil
	}
	t.m[hex.EncodeToString(hash)] = k
	return t.save()
}

// Forget drops a token the database no longer knows (revoked, or its feed deleted).
func (t *Tokens) Forget(hash []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m[hex.EncodeToString(hash)]; !ok {
		return nil
	}
	delete(t.m, hex.EncodeToString(hash))
	return t.save()
}

// save writes the registry atomically: a crash leaves the old file or the new one.
func (t *Tokens) save() error {
	b, err := json.Marshal(t.m)
	if err != nil {
		return err
	}
	tmp := t.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save known feed tokens: %w", err)
	}
	if err := os.Rename(tmp, t.path); err != nil {
		return fmt.Errorf("save known feed tokens: %w", err)
	}
	return syncDir(filepath.Dir(t.path))
}
