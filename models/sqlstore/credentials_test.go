package sqlstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

func onlineLogin(name string, role models.Role, hash string, at time.Time) models.OnlineLogin {
	return models.OnlineLogin{
		Username: name, DisplayName: strings.ToUpper(name[:1]) + name[1:], Role: role,
		Groups: []string{"cn=" + string(role) + ",ou=groups,dc=example,dc=org"}, PasswordHash: hash, At: at,
	}
}

func mustLoad(t *testing.T, s *sqlstore.Store, name string) models.CachedCredential {
	t.Helper()
	c, ok, err := s.LoadCredential(ctx, name)
	if err != nil || !ok {
		t.Fatalf("LoadCredential(%q) = %v, %v", name, ok, err)
	}
	return c
}

func TestSaveOnlineLoginWritesUserAndCredential(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		id, err := s.SaveOnlineLogin(ctx, onlineLogin("sam", models.RoleSRE, "$argon2id$first", t0))
		if err != nil || id == 0 {
			t.Fatalf("first login: %d, %v", id, err)
		}
		c := mustLoad(t, s, "sam")
		if c.UserID != id || c.Username != "sam" || c.DisplayName != "Sam" || c.PasswordHash != "$argon2id$first" ||
			c.Role != models.RoleSRE || len(c.Groups) != 1 || c.Groups[0] != "cn=sre,ou=groups,dc=example,dc=org" ||
			!c.LastOnlineAt.Equal(t0) || c.FailedAttempts != 0 || c.LockedUntil != nil {
			t.Fatalf("after first login: %+v", c)
		}

		// Offline failures, then a new online login: hash, role, time overwritten; counters reset; same user.
		lock := t0.Add(time.Hour)
		for i := 0; i < 2; i++ {
			if err := s.RecordOfflineFailure(ctx, "sam", t0.Add(time.Minute), 2, lock); err != nil {
				t.Fatal(err)
			}
		}
		t1 := t0.Add(48 * time.Hour)
		l := onlineLogin("sam", models.RoleAdmin, "$argon2id$second", t1)
		l.Groups = nil
		id2, err := s.SaveOnlineLogin(ctx, l)
		if err != nil || id2 != id {
			t.Fatalf("second login: %d (want %d), %v", id2, id, err)
		}
		c = mustLoad(t, s, "sam")
		if c.PasswordHash != "$argon2id$second" || c.Role != models.RoleAdmin || len(c.Groups) != 0 || c.Groups == nil ||
			!c.LastOnlineAt.Equal(t1) || c.FailedAttempts != 0 || c.LockedUntil != nil || c.LastFailedAt != nil {
			t.Fatalf("after second login: %+v", c)
		}
		var role, source string
		var online *time.Time
		if err := s.DB().Raw("SELECT role, source, last_online_login_at FROM users WHERE id = ?", id).Row().Scan(&role, &source, &online); err != nil {
			t.Fatal(err)
		}
		if role != "admin" || source != "ldap" || online == nil || !online.Equal(t1) {
			t.Fatalf("users row: role %q source %q last_online_login_at %v", role, source, online)
		}
	})
}

func TestSaveOnlineLoginRefusesBadInputAndLocalAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now()
		if err := s.DB().Exec(`INSERT INTO users (username, source, role, password_hash, created_at, updated_at)
			VALUES ('admin', 'local', 'admin', 'local-hash', ?, ?)`, now, now).Error; err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			login models.OnlineLogin
			code  string
		}{
			{"local account of the same name", onlineLogin("admin", models.RoleViewer, "$argon2id$x", now), models.ECONFLICT},
			{"name not lowercased", onlineLogin("Sam", models.RoleSRE, "$argon2id$x", now), models.EINVALID},
			{"empty name", models.OnlineLogin{Role: models.RoleSRE, At: now}, models.EINVALID},
			{"no role", onlineLogin("nora", models.RoleNone, "$argon2id$x", now), models.EINVALID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := s.SaveOnlineLogin(ctx, tc.login); models.ErrorCode(err) != tc.code {
					t.Fatalf("SaveOnlineLogin = %v, want code %s", err, tc.code)
				}
			})
		}
		var role, source, hash string
		if err := s.DB().Raw("SELECT role, source, password_hash FROM users WHERE username = 'admin'").Row().Scan(&role, &source, &hash); err != nil {
			t.Fatal(err)
		}
		if role != "admin" || source != "local" || hash != "local-hash" {
			t.Fatalf("the local account changed: %s %s %s", role, source, hash)
		}
		if _, ok, err := s.LoadCredential(ctx, "admin"); ok || err != nil {
			t.Fatalf("a local account has a cached credential: %v %v", ok, err)
		}
	})
}

func TestSaveOnlineLoginWithoutHashDropsCredential(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now()
		if _, err := s.SaveOnlineLogin(ctx, onlineLogin("eve", models.RoleViewer, "$argon2id$x", now)); err != nil {
			t.Fatal(err)
		}
		// The fallback was switched off: the next online login keeps the user but no hash.
		if _, err := s.SaveOnlineLogin(ctx, onlineLogin("eve", models.RoleViewer, "", now)); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.LoadCredential(ctx, "eve"); ok || err != nil {
			t.Fatalf("credential kept: %v %v", ok, err)
		}
	})
}

func TestOfflineFailuresLockAndSuccessResets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for _, name := range []string{"olga", "sam"} {
			if _, err := s.SaveOnlineLogin(ctx, onlineLogin(name, models.RoleSRE, "$argon2id$x", t0)); err != nil {
				t.Fatal(err)
			}
		}
		lockUntil := t0.Add(10 * time.Minute)
		steps := []struct {
			name       string
			lockAfter  int
			wantFailed int
			wantLocked bool
		}{
			{"first failure", 3, 1, false},
			{"second failure", 3, 2, false},
			{"third failure reaches the limit", 3, 3, true},
			{"fourth failure stays locked", 3, 4, true},
		}
		for i, st := range steps {
			at := t0.Add(time.Duration(i+1) * time.Minute)
			if err := s.RecordOfflineFailure(ctx, "olga", at, st.lockAfter, lockUntil); err != nil {
				t.Fatal(err)
			}
			c := mustLoad(t, s, "olga")
			if c.FailedAttempts != st.wantFailed || (c.LockedUntil != nil) != st.wantLocked || c.LastFailedAt == nil || !c.LastFailedAt.Equal(at) {
				t.Fatalf("%s: %+v", st.name, c)
			}
			if st.wantLocked && !c.LockedUntil.Equal(lockUntil) {
				t.Fatalf("%s: locked until %v, want %v", st.name, c.LockedUntil, lockUntil)
			}
		}
		if c := mustLoad(t, s, "sam"); c.FailedAttempts != 0 {
			t.Fatalf("another user's counter moved: %+v", c)
		}
		// lockAfter 0 counts but never locks.
		if err := s.RecordOfflineFailure(ctx, "sam", t0, 0, lockUntil); err != nil {
			t.Fatal(err)
		}
		if c := mustLoad(t, s, "sam"); c.FailedAttempts != 1 || c.LockedUntil != nil {
			t.Fatalf("lockAfter 0: %+v", c)
		}

		at := t0.Add(time.Hour)
		if err := s.RecordOfflineSuccess(ctx, "olga", at); err != nil {
			t.Fatal(err)
		}
		c := mustLoad(t, s, "olga")
		if c.FailedAttempts != 0 || c.LockedUntil != nil || !c.LastOnlineAt.Equal(t0) {
			t.Fatalf("after offline success (last_online_at must not move): %+v", c)
		}
		var cached *time.Time
		if err := s.DB().Raw("SELECT last_cached_login_at FROM users WHERE username = 'olga'").Row().Scan(&cached); err != nil {
			t.Fatal(err)
		}
		if cached == nil || !cached.Equal(at) {
			t.Fatalf("last_cached_login_at = %v, want %v", cached, at)
		}
	})
}

func TestDeleteCredential(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now()
		for _, name := range []string{"paul", "eve"} {
			if _, err := s.SaveOnlineLogin(ctx, onlineLogin(name, models.RoleViewer, "$argon2id$x", now)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteCredential(ctx, "paul"); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.LoadCredential(ctx, "paul"); ok || err != nil {
			t.Fatalf("paul's credential survived: %v %v", ok, err)
		}
		mustLoad(t, s, "eve")
		for _, name := range []string{"paul", "nobody"} {
			if err := s.DeleteCredential(ctx, name); err != nil {
				t.Fatalf("deleting a missing credential of %q: %v", name, err)
			}
		}
		var n int64
		if err := s.DB().Raw("SELECT COUNT(*) FROM users WHERE username = 'paul'").Row().Scan(&n); err != nil || n != 1 {
			t.Fatalf("the users row went with the credential: %d %v", n, err)
		}
	})
}
