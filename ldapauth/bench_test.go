package ldapauth_test

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Run with:
//
//	.ci/with-services go test ./ldapauth/ -run '^$' -bench . -benchtime 3s
//
// The directory-up case needs the slapd of .ci/with-services; the others
// need only the database (SQLite, and PostgreSQL when available).

// BenchmarkLoginDirectoryUp is a full online login against slapd: dial,
// service bind, search, user bind, argon2id of the password for the cache,
// and the upsert of the user and cached credential.
func BenchmarkLoginDirectoryUp(b *testing.B) {
	dir := needSlapd(b)
	h := newHarness(b, testConfig(dir.url))
	ctx := context.Background()
	for b.Loop() {
		if _, o, err := h.auth.Authenticate(ctx, "sam", "sampw"); o != ldapauth.Accepted {
			b.Fatal(o, err)
		}
	}
}

// BenchmarkLoginBreakerOpen is the cache path while the directory is known
// down: no dial, one credential read, one argon2id, one write. Target ≤ 50 ms.
func BenchmarkLoginBreakerOpen(b *testing.B) {
	for _, dialect := range []string{migrations.SQLite, migrations.Postgres} {
		b.Run(dialect, func(b *testing.B) {
			if dialect == migrations.Postgres && os.Getenv("SITEMETRICS_TEST_DATABASE_URL") == "" {
				b.Skip("no PostgreSQL")
			}
			h := breakerOpen(b, dbtest.Open(b, dialect))
			ctx := context.Background()
			for b.Loop() {
				if id, o, err := h.auth.Authenticate(ctx, "sam", "sampw"); o != ldapauth.Accepted || id.Source != ldapauth.SourceCache {
					b.Fatal(o, err)
				}
			}
			if d := h.dialer.dials.Load(); d != 1 {
				b.Fatalf("%d dials: the breaker did not stay open", d)
			}
		})
	}
}

// BenchmarkConcurrentCacheLogins is 20 people signing in at once while the
// directory is down; it reports the wall time of the burst and the peak heap
// that argon2id (19 MiB per running hash) added, with the default bound of
// 4 concurrent hashes and without a bound (20).
func BenchmarkConcurrentCacheLogins(b *testing.B) {
	const people = 20
	for _, bound := range []int{4, people} {
		b.Run("hash-concurrency-"+strconv.Itoa(bound), func(b *testing.B) {
			h := breakerOpen(b, dbtest.Open(b, migrations.SQLite), ldapauth.WithHashConcurrency(bound))
			ctx := context.Background()
			runtime.GC()
			base := heapBytes()
			var peak atomic.Uint64
			stop := make(chan struct{})
			var sampler sync.WaitGroup
			sampler.Add(1)
			go func() {
				defer sampler.Done()
				for {
					if v := heapBytes(); v > peak.Load() {
						peak.Store(v)
					}
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Microsecond):
					}
				}
			}()
			for b.Loop() {
				var wg sync.WaitGroup
				for i := 0; i < people; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, o, err := h.auth.Authenticate(ctx, "sam", "sampw"); o != ldapauth.Accepted {
							b.Error(o, err)
						}
					}()
				}
				wg.Wait()
			}
			close(stop)
			sampler.Wait()
			b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/burst")
		})
	}
}

// breakerOpen returns a harness whose directory is down and whose breaker
// is open, with sam's credential cached by an online login first.
func breakerOpen(b *testing.B, store *sqlstore.Store, opts ...ldapauth.Option) *harness {
	healthy := startFaultDirectory(b, plainLDAP, nil)
	seed := newHarnessOn(b, store, newClock(), faultConfig(healthy.url))
	if _, o, err := seed.auth.Authenticate(context.Background(), "sam", "sampw"); o != ldapauth.Accepted {
		b.Fatal(o, err)
	}
	cfg := testConfig(deadURL(b))
	cfg.BreakerFailures = 1
	h := newHarnessOn(b, store, seed.clock, cfg, opts...)
	if _, o, err := h.auth.Authenticate(context.Background(), "sam", "sampw"); o != ldapauth.Accepted || h.auth.DirectoryUp() {
		b.Fatal("breaker not open", o, err)
	}
	return h
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
