// Package spool keeps webhook deliveries durably on local disk while the
// database is unreachable, and replays them in arrival order when it returns.
package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Spool keeps deliveries durably on local disk while the database is
// unreachable, and hands them back in arrival order when it returns.
type Spool struct {
	dir     string
	mu      sync.Mutex
	seq     uint64
	pending atomic.Int64 // files waiting, kept without listing the folder
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
	sp := &Spool{dir: dir}
	names, err := sp.list()
	if err != nil {
		return nil, err
	}
	sp.pending.Store(int64(len(names)))
	return sp, nil
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
	if err := syncDir(sp.dir); err != nil {
		return err
	}
	sp.pending.Add(1)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Len is how many deliveries wait in the spool; it costs nothing, so ingest can ask
// on every delivery.
func (sp *Spool) Len() int { return int(sp.pending.Load()) }

func (sp *Spool) list() ([]string, error) {
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

// Poison is what a replay's store function returns for a delivery that cannot be
// stored nor recorded as quarantined: it is moved to the quarantine folder beside the
// spool, with its reason, and the replay goes on.
type Poison struct{ Reason string }

func (p Poison) Error() string { return "poisoned delivery: " + p.Reason }

// Replay hands the spooled deliveries, oldest first and up to batch at a time, to
// store, which answers one error per delivery: nil once stored (or recorded as
// refused or quarantined by the database), a Poison to move it aside, anything else
// to stop (the database went away again) and leave it and the rest for the next call.
// A file that cannot be decoded is moved aside too, reported through aside. So one
// bad delivery never holds up the ones behind it.
func (sp *Spool) Replay(ctx context.Context, batch int, store func(context.Context, []Delivery) []error, aside func(name, reason string)) (int, error) {
	done := 0
	for {
		names, err := sp.list()
		if err != nil {
			return done, err
		}
		if len(names) == 0 {
			return done, nil
		}
		names = names[:min(batch, len(names))]
		var ds []Delivery
		var kept []string
		for _, name := range names {
			b, err := os.ReadFile(filepath.Join(sp.dir, name))
			if err != nil {
				return done, err
			}
			var d Delivery
			if err := json.Unmarshal(b, &d); err != nil {
				if err := sp.quarantine(name, "unreadable: "+err.Error()); err != nil {
					return done, err
				}
				aside(name, "unreadable: "+err.Error())
				continue
			}
			ds, kept = append(ds, d), append(kept, name)
		}
		errs := store(ctx, ds)
		var stored []string
		for i, name := range kept {
			var poison Poison
			switch err := errs[i]; {
			case err == nil:
				stored = append(stored, name)
			case errors.As(err, &poison):
				if err := sp.quarantine(name, poison.Reason); err != nil {
					return done, err
				}
				aside(name, poison.Reason)
			default:
				n, rerr := sp.remove(stored)
				return done + n, errors.Join(err, rerr)
			}
		}
		n, err := sp.remove(stored)
		done += n
		if err != nil {
			return done, err
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
	}
}

// remove deletes stored deliveries' files, several at a time: on a busy disk each
// unlink can wait for the journal, and replay must drain thousands a second.
func (sp *Spool) remove(names []string) (int, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	removed := 0
	next := make(chan string)
	for range min(8, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				err := os.Remove(filepath.Join(sp.dir, name))
				mu.Lock()
				if err != nil && first == nil {
					first = err
				} else if err == nil {
					removed++
					sp.pending.Add(-1)
				}
				mu.Unlock()
			}
		}()
	}
	for _, name := range names {
		next <- name
	}
	close(next)
	wg.Wait()
	return removed, first
}

// quarantine moves a spool file into the quarantine folder with a note of why.
func (sp *Spool) quarantine(name, reason string) error {
	dir := filepath.Join(sp.dir, "quarantine")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("spool quarantine: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".reason"), []byte(reason+"\n"), 0o640); err != nil {
		return fmt.Errorf("spool quarantine: %w", err)
	}
	if err := os.Rename(filepath.Join(sp.dir, name), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("spool quarantine: %w", err)
	}
	sp.pending.Add(-1)
	return syncDir(sp.dir)
}

// Quarantined is how many deliveries wait in the local quarantine folder.
func (sp *Spool) Quarantined() int {
	entries, _ := os.ReadDir(filepath.Join(sp.dir, "quarantine"))
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			n++
		}
	}
	return n
}

// Dir is where the spool keeps its files.
func (sp *Spool) Dir() string { return sp.dir }

// minFree is the free space below which the spool's disk is not ready: a full disk
// would refuse the next delivery after it had been read.
const minFree = 16 << 20

// Writable checks that the spool could take a delivery now: its folder accepts a new
// file (not read-only) and its disk has room.
func (sp *Spool) Writable() error { return WritableDir(sp.dir) }

// WritableDir checks that a folder accepts a new, synced file and that its disk has
// more than a little room.
func WritableDir(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	name := f.Name()
	_, werr := f.Write([]byte("ok"))
	serr := f.Sync()
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(werr, serr, cerr, rerr); err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("free space of %s: %w", dir, err)
	}
	if free := st.Bavail * uint64(st.Bsize); free < minFree {
		return fmt.Errorf("the disk of %s is nearly full (%d bytes free)", dir, free)
	}
	return nil
}
