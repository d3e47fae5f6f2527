// Package spool keeps webhook deliveries durably on local disk while the
// database is unreachable, and replays them in arrival order when it returns.
package spool

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Spool keeps deliveries durably on local disk while the database is
// unreachable, and hands them back in arrival order when it returns.
type Spool struct {
	dir string
	mu  sync.Mutex
	seq uint64
}

// Delivery is one webhook delivery waiting for the database.
type Delivery struct {
	FeedID      int64     `json:"feed_id"`
	TokenID     int64     `json:"token_id"`
	ReceivedAt  time.Time `json:"received_at"`
	ContentType string    `json:"content_type"`
	Body        []byte    `json:"body"`
}

// Open creates the spool directory if needed.
func Open(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create spool directory: %w", err)
	}
	return &Spool{dir: dir}, nil
}

// Put writes a delivery and fsyncs it (and its directory) before returning,
// so that a 2xx given after Put survives a crash.
func (sp *Spool) Put(d Delivery) error {
	sp.mu.Lock()
	sp.seq++
	name := fmt.Sprintf("%020d-%06d.json", d.ReceivedAt.UnixNano(), sp.seq%1000000)
	sp.mu.Unlock()
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	tmp := filepath.Join(sp.dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("spool: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("spool: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(sp.dir, name)); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return syncDir(sp.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Len is how many deliveries wait in the spool.
func (sp *Spool) Len() int {
	names, _ := sp.pending()
	return len(names)
}

func (sp *Spool) pending() ([]string, error) {
	entries, err := os.ReadDir(sp.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Replay hands each spooled delivery, oldest first, to store and removes it
// once store returns nil. It stops at the first error and leaves the rest for
// the next call. A file that cannot be decoded is moved aside (renamed
// *.unreadable), neither lost nor retried forever, and reported through
// unreadable.
func (sp *Spool) Replay(ctx context.Context, store func(context.Context, Delivery) error, unreadable func(name string, err error)) (int, error) {
	names, err := sp.pending()
	if err != nil {
		return 0, err
	}
	done := 0
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		path := filepath.Join(sp.dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return done, err
		}
		var d Delivery
		if err := json.Unmarshal(b, &d); err != nil {
			if rerr := os.Rename(path, path+".unreadable"); rerr != nil {
				return done, fmt.Errorf("move aside unreadable spool file %s: %w", name, rerr)
			}
			unreadable(name, err)
			continue
		}
		if err := store(ctx, d); err != nil {
			return done, err
		}
		if err := os.Remove(path); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}
