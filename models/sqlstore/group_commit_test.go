package sqlstore

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Concurrent callers: each item is written exactly once, before its caller
// returns; no more than maxWriters writes run at once; no batch goes over
// maxRows unless one item alone does; and callers arriving during a write
// share the next one.
func TestGroupCommit(t *testing.T) {
	type item struct {
		rows    int
		written atomic.Int32
	}
	var inFlight, maxInFlight, batches atomic.Int32
	var overRows atomic.Bool
	g := newGroupCommit(2, 10, func(it *item) int { return it.rows }, func(batch []*item) {
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		rows := 0
		for _, it := range batch {
			rows += it.rows
		}
		if len(batch) > 1 && rows > 10 {
			overRows.Store(true)
		}
		time.Sleep(2 * time.Millisecond) // a commit
		for _, it := range batch {
			it.written.Add(1)
		}
		batches.Add(1)
		inFlight.Add(-1)
	})
	const callers = 64
	items := make([]*item, callers*5)
	var wg sync.WaitGroup
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				it := &item{rows: 1 + (c+i)%4}
				if c == 0 && i == 0 {
					it.rows = 25 // bigger than a batch: goes alone
				}
				items[c*5+i] = it
				g.do(it)
				if it.written.Load() != 1 {
					t.Errorf("caller returned before its item was written")
				}
			}
		}()
	}
	wg.Wait()
	for i, it := range items {
		if n := it.written.Load(); n != 1 {
			t.Fatalf("item %d written %d times", i, n)
		}
	}
	if m := maxInFlight.Load(); m > 2 {
		t.Errorf("%d writes at once, want at most 2", m)
	}
	if overRows.Load() {
		t.Error("a batch of several items went over maxRows")
	}
	if b := batches.Load(); b >= callers*5/2 {
		t.Errorf("%d batches for %d items: callers did not share writes", b, callers*5)
	}
}

// A write that panics still releases everyone waiting on it.
func TestGroupCommitPanicReleasesWaiters(t *testing.T) {
	release := make(chan struct{})
	g := newGroupCommit(1, 100, func(int) int { return 1 }, func(batch []int) {
		if batch[0] == 0 {
			<-release
			panic("boom")
		}
	})
	done := make(chan struct{})
	go func() {
		defer func() { _ = recover(); close(done) }()
		g.do(0)
	}()
	time.Sleep(10 * time.Millisecond)
	waiters := make(chan struct{})
	go func() { g.do(1); close(waiters) }()
	time.Sleep(10 * time.Millisecond)
	close(release)
	select {
	case <-waiters:
	case <-time.After(5 * time.Second):
		t.Fatal("a caller queued behind a panicking write never returned")
	}
	<-done
}
