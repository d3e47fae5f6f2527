package sqlstore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

var throttle = models.LoginThrottle{FreeFailures: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, MaxPerAddress: 8, Window: 15 * time.Minute}

// The policy step by step, on a clock the test moves.
func TestLoginThrottleBackoff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		admit := func(user, ip string, allowed bool, retry time.Duration, why string) {
			t.Helper()
			a, err := s.AdmitLogin(ctx, user, ip, throttle)
			if err != nil {
				t.Fatal(err)
			}
			if a.Allowed != allowed || a.RetryAfter != retry || a.Why != why {
				t.Fatalf("%s from %s at %s: %+v, want allowed=%v retry=%v why=%q", user, ip, now.Format("15:04:05"), a, allowed, retry, why)
			}
		}
		const attacker, office = "203.0.113.9", "198.51.100.20"
		for range 5 {
			admit("sam", attacker, true, 0, "")
		}
		admit("sam", attacker, false, time.Second, "user_address")  // the 5th failure waits 1 s
		admit("SAM ", attacker, false, time.Second, "user_address") // the same name, however typed
		admit("sam", office, true, 0, "")                           // another address is not slowed
		if err := s.LoginSucceeded(ctx, "sam", office); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		admit("sam", attacker, true, 0, "")                          // the 6th
		admit("sam", attacker, false, 2*time.Second, "user_address") // now waits 2 s
		now = now.Add(2 * time.Second)
		admit("sam", attacker, true, 0, "")
		admit("sam", attacker, false, 4*time.Second, "user_address")

		// The address's ceiling over every name: 7 failures so far from the
		// attacker; one more name fills it.
		admit("eve", attacker, true, 0, "")
		admit("olga", attacker, false, 15*time.Minute, "address")
		now = now.Add(15*time.Minute + time.Second)
		admit("olga", attacker, true, 0, "")

		// A pair's failures are forgotten a window after its last wait ended.
		now = now.Add(16 * time.Minute)
		for range 5 {
			admit("sam", attacker, true, 0, "")
		}
		admit("sam", attacker, false, time.Second, "user_address")
	})
}

// A replica whose clock is behind another's: the attempts it admits come after the
// other's, whatever its clock says, so the free failures stay free and a back-off runs
// from the last attempt.
func TestLoginThrottleClockBehind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		behind := dbtest.Reopen(t, s)
		behind.Now = func() time.Time { return now.Add(-3 * time.Second) }
		for i := range 6 {
			st := []*sqlstore.Store{s, behind}[i%2]
			a, err := st.AdmitLogin(ctx, "sam", "203.0.113.9", throttle)
			if err != nil {
				t.Fatal(err)
			}
			want := models.Admission{Allowed: true}
			if i == 5 { // the 5th failure waits 1 s from the attempt before
				want = models.Admission{RetryAfter: time.Second, Why: "user_address"}
			}
			if a != want {
				t.Fatalf("attempt %d (on the replica %s behind): %+v, want %+v", i+1, []string{"not", "3 s"}[i%2], a, want)
			}
		}
	})
}

// 60 parallel attempts for one user from one address: exactly the free
// failures get through, on two replicas of PostgreSQL and on SQLite.
func TestLoginThrottleCannotBeRaced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		replicas := []*sqlstore.Store{s, dbtest.Reopen(t, s)}
		// Back-off long enough that no attempt of the burst outlasts it,
		// however slow the machine: this is about counting, not waiting.
		p := throttle
		p.MaxPerAddress, p.BaseDelay = 1000, time.Hour
		var admitted atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 60)
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := replicas[i%2].AdmitLogin(ctx, "sam", "203.0.113.9", p)
				if err != nil {
					errs <- err
					return
				}
				if a.Allowed {
					admitted.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := admitted.Load(); got != int64(p.FreeFailures) {
			t.Fatalf("%d of 60 parallel attempts admitted, want %d", got, p.FreeFailures)
		}
	})
}
