package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/handlers"
	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

var ctx = context.Background()

// newHandler serves the routes over a real SQLite store, in process, with no
// server around them: what the handlers decide, tested on its own.
func newHandler(t *testing.T) (http.Handler, *sqlstore.Store) {
	t.Helper()
	s := dbtest.Open(t, migrations.SQLite)
	h := handlers.New(handlers.Deps{Store: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: handlers.NewMetrics(),
		Config: handlers.Config{BaseURL: "http://sitemetrics.test"}})
	return h.Routes(), s
}

func send(h http.Handler, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Roles are checked on every route: no credentials is 401, too low a role 403,
// whatever the body; and a refusal changes nothing.
func TestRolesOnAPIRoutes(t *testing.T) {
	h, s := newHandler(t)
	token := map[models.Role]string{}
	for _, role := range []models.Role{models.RoleViewer, models.RoleSRE, models.RoleAdmin} {
		plain, _, err := s.CreateAPIToken(ctx, "test-"+string(role), role, "test")
		if err != nil {
			t.Fatal(err)
		}
		token[role] = "Bearer " + plain
	}
	if _, err := s.CreateFeed(ctx, models.FeedInput{Name: "web"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, body string
		role                     models.Role // "" = no credentials
		want                     int
	}{
		{"anonymous reads nothing", "GET", "/api/v1/slos", "", "", http.StatusUnauthorized},
		{"a viewer reads SLOs", "GET", "/api/v1/slos", "", models.RoleViewer, http.StatusOK},
		{"a viewer creates no service", "POST", "/api/v1/services", `{"name":"checkout"}`, models.RoleViewer, http.StatusForbidden},
		{"a viewer reads no raw body", "GET", "/api/v1/feeds/1/deliveries/1", "", models.RoleViewer, http.StatusForbidden},
		{"an SRE creates a service", "POST", "/api/v1/services", `{"name":"checkout"}`, models.RoleSRE, http.StatusCreated},
		{"an SRE makes no API token", "POST", "/api/v1/tokens", `{"name":"x","role":"viewer"}`, models.RoleSRE, http.StatusForbidden},
		{"an unknown delivery", "GET", "/api/v1/feeds/1/deliveries/99", "", models.RoleSRE, http.StatusNotFound},
		{"bad JSON names the problem", "POST", "/api/v1/services", `{"name":`, models.RoleSRE, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.role != "" {
				hdr = []string{"Authorization", token[tc.role]}
			}
			w := send(h, tc.method, tc.path, tc.body, append(hdr, "Content-Type", "application/json")...)
			if w.Code != tc.want {
				t.Fatalf("%s %s as %q: %d %s, want %d", tc.method, tc.path, tc.role, w.Code, w.Body, tc.want)
			}
		})
	}
	if list, err := s.Services(ctx); err != nil || len(list) != 1 {
		t.Fatalf("services after the refusals: %d %v", len(list), err)
	}
}

// A form with an error answers 400 with the field marked and the input kept, and
// stores nothing.
func TestFeedFormError(t *testing.T) {
	h, s := newHandler(t)
	if _, err := s.EnsureLocalAdmin(ctx, "x", false); err != nil {
		t.Fatal(err)
	}
	admin, err := s.UserByName(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	session, _, err := s.CreateSession(ctx, models.SessionInput{UserID: admin.ID, Role: models.RoleAdmin, Source: models.SourceLocal,
		Lifetime: time.Hour, Idle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"name": {"web"}, "interval": {"5 minutes"}, "series_field": {"service"}}
	w := send(h, "POST", "/feeds/new", form.Encode(), "Content-Type", "application/x-www-form-urlencoded",
		"Cookie", "sitemetrics_session="+session)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `interval &#34;5 minutes&#34; is not a duration`) ||
		!strings.Contains(w.Body.String(), `value="service"`) {
		t.Fatalf("a bad interval: %d %s", w.Code, w.Body)
	}
	if feeds, err := s.Feeds(ctx); err != nil || len(feeds) != 0 {
		t.Fatalf("a refused form stored %d feeds: %v", len(feeds), err)
	}
}

// The webhook's answers by case: an unknown token is 404, a body that is not JSON
// 400, every row rejected 422, and a good delivery 200 with its counts.
func TestWebhookStatuses(t *testing.T) {
	h, s := newHandler(t)
	f, err := s.CreateFeed(ctx, models.FeedInput{Name: "web", SeriesField: "service"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.CreateFeedToken(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).Unix()
	tests := []struct {
		name, token, body string
		want              int
		says              string
	}{
		{"unknown token", "smf_nope", `{}`, http.StatusNotFound, "not_found"},
		{"not JSON", tok, `{nope`, http.StatusBadRequest, "malformed JSON"},
		{"every row rejected", tok, `{"result":{"total":"1"}}`, http.StatusUnprocessableEntity, `series field \"service\" is missing`},
		{"stored", tok, `{"result":{"service":"checkout","_time":"` + itoa(at) + `","total":"10","good":"9"}}`, http.StatusOK, `"accepted":1`},
		{"stored again", tok, `{"result":{"service":"checkout","_time":"` + itoa(at) + `","total":"10","good":"9"}}`, http.StatusOK, `"duplicates":1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := send(h, "POST", "/hooks/splunk/"+tc.token, tc.body, "Content-Type", "application/json")
			if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.says) {
				t.Fatalf("%d %s, want %d saying %s", w.Code, w.Body, tc.want, tc.says)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
