package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// page parses an HTML answer.
func page(t *testing.T, r response) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	must(t, err)
	return d
}

// follow answers a 303 as a browser does: GET the Location, with the cookies.
func (b *browser) follow(r response) response {
	b.t.Helper()
	mustf(b.t, r.Status == 303, "want a 303, got %d: %s", r.Status, r.Body)
	return b.get(r.Header.Get("Location"))
}

// sendJSON sends a JSON body with the browser's session.
func (b *browser) sendJSON(method, path, body string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(body))
	must(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	must(b.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, raw}
}

// Each person's pages show times in their own zone: the installation's by
// default, their choice from /account or PUT /api/v1/me, named on the page.
func TestTimeZonePerPerson(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env := localEnv(t, dialect)
		env["SITEMETRICS_TIME_ZONE"] = "America/New_York"
		a := startApp(t, env)
		b := newBrowser(t, a.URL)
		b.login("admin", adminPassword, "/")
		b.post("/services/new", url.Values{"name": {"checkout"}}) // something in the audit log, with its time

		var me struct {
			Username          string `json:"username"`
			TimeZone          string `json:"time_zone"`
			EffectiveTimeZone string `json:"effective_time_zone"`
		}
		r := b.get("/api/v1/me")
		mustf(t, r.Status == 200, "GET /api/v1/me: %d %s", r.Status, r.Body)
		must(t, json.Unmarshal(r.Body, &me))
		mustf(t, me.Username == "admin" && me.EffectiveTimeZone == "America/New_York", "me by default: %s", r.Body)
		d := page(t, b.get("/account"))
		mustf(t, d.Find(`[data-testid="zone"]`).Text() == "America/New_York", "account page zone %q", d.Find(`[data-testid="zone"]`).Text())
		audit := string(b.get("/audit").Body)
		mustf(t, strings.Contains(audit, " EST") || strings.Contains(audit, " EDT"), "the audit log's times do not say New York's zone")

		// A zone that does not exist is refused on the field, and nothing changes.
		r = b.post("/account", url.Values{"time_zone": {"Europe/Madird"}})
		d = page(t, r)
		in := d.Find("#time_zone")
		mustf(t, r.Status == 400 && in.AttrOr("aria-invalid", "") == "true" && in.AttrOr("value", "") == "Europe/Madird",
			"bad zone: %d, aria-invalid %q", r.Status, in.AttrOr("aria-invalid", ""))
		msg := d.Find("#" + strings.Fields(in.AttrOr("aria-describedby", "none"))[0]).Text()
		mustf(t, strings.Contains(msg, `"Europe/Madird" is unknown`), "the field is not described by its error: %q", msg)

		r = b.post("/account", url.Values{"time_zone": {"Europe/Madrid"}})
		mustf(t, r.Status == 303 && r.Header.Get("Location") == "/account", "save zone: %d %s", r.Status, r.Header.Get("Location"))
		d = page(t, b.follow(r))
		mustf(t, strings.Contains(d.Find(`[data-testid="flash"]`).Text(), "Europe/Madrid"), "no flash after saving")
		mustf(t, d.Find(`[data-testid="zone"]`).Text() == "Europe/Madrid", "zone after saving %q", d.Find(`[data-testid="zone"]`).Text())
		mustf(t, page(t, b.get("/account")).Find(`[data-testid="flash"]`).Length() == 0, "the flash shows again on a refresh")
		audit = string(b.get("/audit").Body)
		mustf(t, strings.Contains(audit, " CET") || strings.Contains(audit, " CEST"), "the audit log's times do not say Madrid's zone")

		// The same through the API, with the session.
		r = b.sendJSON("PUT", "/api/v1/me", `{"time_zone": "Asia/Tokyo"}`)
		must(t, json.Unmarshal(r.Body, &me))
		mustf(t, r.Status == 200 && me.TimeZone == "Asia/Tokyo" && me.EffectiveTimeZone == "Asia/Tokyo", "PUT me: %d %s", r.Status, r.Body)
		mustf(t, strings.Contains(string(b.get("/audit").Body), " JST"), "the audit log's times do not say Tokyo's zone")
		r = b.sendJSON("PUT", "/api/v1/me", `{"time_zone": "Mars/Olympus_Mons"}`)
		mustf(t, r.Status == 400 && strings.Contains(string(r.Body), `"field":"time_zone"`) && strings.Contains(string(r.Body), "IANA"),
			"PUT a bad zone: %d %s", r.Status, r.Body)
		r = b.sendJSON("PUT", "/api/v1/me", `{"time_zone": ""}`)
		must(t, json.Unmarshal(r.Body, &me))
		mustf(t, r.Status == 200 && me.TimeZone == "" && me.EffectiveTimeZone == "America/New_York", "back to the default: %s", r.Body)

		token := newAPIToken(t, env, "viewer")
		r = do(t, "PUT", a.URL+"/api/v1/me", []byte(`{"time_zone": "UTC"}`), "Authorization", "Bearer "+token)
		mustf(t, r.Status == 403 && strings.Contains(string(r.Body), "no account"), "a token set a zone: %d %s", r.Status, r.Body)
	})
}

// A wall screen's zone is in its kiosk link, chosen when an admin creates it.
func TestKioskLinkTimeZone(t *testing.T) {
	a := startApp(t, localEnv(t, "sqlite"))
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	r := b.post("/admin/kiosk", url.Values{"name": {"Lobby"}, "days": {"30"}, "time_zone": {"Tokyo"}})
	mustf(t, r.Status == 400 && page(t, r).Find("#time_zone").AttrOr("aria-invalid", "") == "true", "a bad zone: %d", r.Status)

	link := kioskLink(t, b, url.Values{"name": {"Lobby"}, "days": {"30"}, "time_zone": {"Asia/Tokyo"}})
	mustf(t, strings.HasSuffix(link, "&tz=Asia/Tokyo"), "kiosk link %q lacks its zone", link)
	tv := page(t, do(t, "GET", link, nil))
	mustf(t, strings.HasSuffix(tv.Find(`[data-testid="tv-clock"]`).Text(), "JST"), "TV clock %q is not in Tokyo's zone", tv.Find(`[data-testid="tv-clock"]`).Text())
	other := page(t, do(t, "GET", strings.Replace(link, "Asia/Tokyo", "Europe/London", 1), nil))
	mustf(t, strings.HasSuffix(other.Find(`[data-testid="tv-clock"]`).Text(), "GMT") || strings.HasSuffix(other.Find(`[data-testid="tv-clock"]`).Text(), "BST"),
		"the link's tz is not the screen's: %q", other.Find(`[data-testid="tv-clock"]`).Text())
	mustf(t, strings.Contains(page(t, b.get("/admin/kiosk")).Find(`[data-testid="kiosk-links"]`).Text(), "Asia/Tokyo"), "the admin page does not show the link's zone")
}

// kioskLink creates a kiosk link on the admin page and returns it.
func kioskLink(t *testing.T, b *browser, form url.Values) string {
	t.Helper()
	r := b.post("/admin/kiosk", form)
	if r.Status == 303 {
		r = b.follow(r)
	}
	link := strings.TrimSpace(page(t, r).Find(`[data-testid="kiosk-url"] pre`).Text())
	mustf(t, strings.Contains(link, "/tv?k="), "no kiosk link shown: %d", r.Status)
	return link
}

// The password generated at first start works once: whoever signs in with it
// is sent to choose their own, from every page, until they have.
func TestGeneratedPasswordMustBeChanged(t *testing.T) {
	a := startApp(t, testEnv(t, "sqlite"))
	m := regexp.MustCompile(`created the local account admin with the password\s+(\S+)`).FindStringSubmatch(a.out.String())
	mustf(t, m != nil, "no generated password printed:\n%s", a.out.String())
	generated := m[1]

	b := newBrowser(t, a.URL)
	r := b.login("admin", generated, "/slos")
	mustf(t, r.Status == 303 && r.Header.Get("Location") == "/account/password?next=%2Fslos", "after sign-in: %d %s", r.Status, r.Header.Get("Location"))
	for _, path := range []string{"/", "/slos", "/admin/users", "/account"} {
		r = b.get(path)
		mustf(t, r.Status == 303 && strings.HasPrefix(r.Header.Get("Location"), "/account/password?next="), "%s with the generated password: %d %s",
			path, r.Status, r.Header.Get("Location"))
	}
	r = b.get("/api/v1/slos")
	mustf(t, r.Status == 403 && strings.Contains(string(r.Body), "generated password"), "API with the generated password: %d %s", r.Status, r.Body)
	d := page(t, b.get("/account/password?next=%2Fslos"))
	mustf(t, strings.Contains(d.Find(`[role="status"]`).Text(), "generated at first start"), "the page does not say why")

	r = b.post("/account/password", url.Values{"current": {generated}, "new": {"short"}, "confirm": {"short"}, "next": {"/slos"}})
	mustf(t, r.Status == 400, "a short password: %d", r.Status)
	r = b.post("/account/password", url.Values{"current": {generated}, "new": {"my own long password"}, "confirm": {"my own long password"}, "next": {"/slos"}})
	mustf(t, r.Status == 303 && r.Header.Get("Location") == "/slos", "change: %d %s", r.Status, r.Header.Get("Location"))
	r = b.follow(r)
	mustf(t, r.Status == 200 && strings.Contains(page(t, r).Find(`[data-testid="flash"]`).Text(), "Password changed"), "after the change: %d", r.Status)
	mustf(t, b.get("/").Status == 200, "still sent to change the password")
	mustf(t, newBrowser(t, a.URL).login("admin", generated, "/").Status == 401, "the generated password still works")
}
