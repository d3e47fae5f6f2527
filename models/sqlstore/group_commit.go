package sqlstore

import (
	"sync"
)

// groupCommit lets concurrent callers share one database write: a caller
// queues its item and either waits or, when fewer than maxWriters writes are
// in flight, takes everything queued (up to maxRows rows) and writes it as one
// batch for everyone. Alone, a caller writes its own item at once, so an idle
// server adds no latency; under load, items that arrive while a write is in
// flight go together in the next one, one round trip and one commit for all.
type groupCommit[T any] struct {
	maxWriters int
	maxRows    int
	rows       func(T) int
	write      func([]T)

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*queued[T]
	writers int
}

type queued[T any] struct {
	item T
	done bool
}

func newGroupCommit[T any](maxWriters, maxRows int, rows func(T) int, write func([]T)) *groupCommit[T] {
	g := &groupCommit[T]{maxWriters: maxWriters, maxRows: maxRows, rows: rows, write: write}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// do returns once item has been written, by this caller or another.
func (g *groupCommit[T]) do(item T) {
	q := &queued[T]{item: item}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, q)
	for !q.done {
		if g.writers >= g.maxWriters || len(g.queue) == 0 {
			g.cond.Wait() // a write in flight holds q, or no writer is free
			continue
		}
		g.writeBatch(g.take())
	}
}

// writeBatch writes a batch without holding the lock, then marks it done,
// even if the write panics, so no caller waits forever.
func (g *groupCommit[T]) writeBatch(batch []*queued[T]) {
	g.writers++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.writers--
		for _, b := range batch {
			b.done = true
		}
		g.cond.Broadcast()
	}()
	items := make([]T, len(batch))
	for i, b := range batch {
		items[i] = b.item
	}
	g.write(items)
}

// take removes the oldest queued items, at least one, up to maxRows rows.
func (g *groupCommit[T]) take() []*queued[T] {
	n, rows := 0, 0
	for n < len(g.queue) {
		rows += g.rows(g.queue[n].item)
		if n > 0 && rows > g.maxRows {
			break
		}
		n++
	}
	batch := g.queue[:n:n]
	g.queue = append([]*queued[T](nil), g.queue[n:]...)
	return batch
}
