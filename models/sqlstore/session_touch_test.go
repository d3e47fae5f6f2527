package sqlstore_test

import (
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// A page view writes nothing: sessions' last-seen times are written together about a
// second later, and idleness is judged with them at once on this replica.
func TestSessionTouchesWrittenTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		now := t0
		s.Now = func() time.Time { return now }
		uid, err := s.SaveOnlineLogin(ctx, onlineLogin("viv", models.RoleViewer, "$argon2id$x", t0))
		if err != nil {
			t.Fatal(err)
		}
		var tokens []string
		for range 50 {
			tok, _, err := s.CreateSession(ctx, models.SessionInput{UserID: uid, Role: models.RoleViewer, Source: models.SourceLDAP,
				Lifetime: 8 * time.Hour, Idle: 10 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, tok)
		}
		now = t0.Add(5 * time.Minute)
		for _, tok := range tokens {
			if _, err := s.SessionByToken(ctx, tok); err != nil {
				t.Fatalf("at 5 min: %v", err)
			}
		}
		// 14 minutes after sign-in, 9 after the last view: alive, whether or not the
		// times are written yet.
		now = t0.Add(14 * time.Minute)
		if _, err := s.SessionByToken(ctx, tokens[0]); err != nil {
			t.Fatalf("idle 9 of 10 minutes: %v", err)
		}
		want, again := t0.Add(5*time.Minute), t0.Add(14*time.Minute) // the first session was seen again
		var written int64
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if err := s.DB().Raw("SELECT count(*) FROM sessions WHERE user_id = ? AND last_seen_at IN (?, ?)", uid, want, again).Row().Scan(&written); err != nil {
				t.Fatal(err)
			}
			if written == int64(len(tokens)) {
				break
			}
		}
		if written != int64(len(tokens)) {
			t.Fatalf("%d of %d sessions have their last-seen time written after 10 s", written, len(tokens))
		}
		// 25 minutes after the last view: ended.
		now = t0.Add(30 * time.Minute)
		if _, err := s.SessionByToken(ctx, tokens[1]); models.ErrorCode(err) != models.EUNAUTHORIZED {
			t.Fatalf("idle 25 of 10 minutes: %v", err)
		}
	})
}
