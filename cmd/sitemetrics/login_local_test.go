package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string, headers ...string) response {
	return b.send("GET", path, nil, headers...)
}

func (b *browser) post(path string, form url.Values, headers ...string) response {
	return b.send("POST", path, form, append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
}

func (b *browser) send(method, path string, form url.Values, headers ...string) response {
	b.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{resp.StatusCode, resp.Header, []byte(sb.String())}
}

func (b *browser) login(user, password, next string) response {
	return b.post("/login", url.Values{"username": {user}, "password": {password}, "next": {next}})
}

const adminPassword = "correct horse battery staple"

func localEnv(t *testing.T, dialect string) map[string]string {
	env := testEnv(t, dialect)
	env["SITEMETRICS_ADMIN_PASSWORD"] = adminPassword
	return env
}

func TestLocalSignInFlow(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		a := startApp(t, localEnv(t, dialect))
		b := newBrowser(t, a.URL)

		r := b.get("/admin/users")
		mustf(t, r.Status == 303 && r.Header.Get("Location") == "/login?next=%2Fadmin%2Fusers", "anonymous: %d %s", r.Status, r.Header.Get("Location"))

		r = b.login("admin", "wrong", "/admin/users")
		mustf(t, r.Status == 401 && strings.Contains(string(r.Body), "Invalid user name or password."), "wrong password: %d", r.Status)
		r2 := b.login("nobody", "whatever", "/")
		mustf(t, r2.Status == 401 && strings.Contains(string(r2.Body), "Invalid user name or password."), "unknown user: %d", r2.Status)
		for _, name := range []string{"admin\x00", "ad\x00min", "\xff\xfe", "ad\nmin"} {
			r2 = b.login(name, adminPassword, "/")
			mustf(t, r2.Status == 401 && strings.Contains(string(r2.Body), "Invalid user name or password."), "login name %q: %d", name, r2.Status)
		}

		r = b.login(" ADMIN ", adminPassword, "/admin/users")
		mustf(t, r.Status == 303 && r.Header.Get("Location") == "/admin/users", "login: %d %s %s", r.Status, r.Header.Get("Location"), r.Body)
		cookie := r.Header.Get("Set-Cookie")
		for _, attr := range []string{"sitemetrics_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			mustf(t, strings.Contains(cookie, attr), "cookie %q lacks %s", cookie, attr)
		}
		mustf(t, !strings.Contains(cookie, "Secure"), "Secure cookie over plain http: %q", cookie)

		r = b.get("/admin/users")
		mustf(t, r.Status == 200 && strings.Contains(string(r.Body), `data-testid="user-admin"`), "admin page: %d", r.Status)
		mustf(t, b.get("/debug/pprof/heap").Status == 200, "pprof for an admin")
		mustf(t, newBrowser(t, a.URL).get("/debug/pprof/heap").Status == 303, "pprof without signing in")
		mustf(t, r.Header.Get("Cache-Control") == "no-store", "authenticated page cached: %q", r.Header.Get("Cache-Control"))
		mustf(t, strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'"), "CSP %q", r.Header.Get("Content-Security-Policy"))

		// A cross-origin form post is refused (CSRF); the same post from our origin works.
		r = b.post("/logout", url.Values{}, "Sec-Fetch-Site", "cross-site")
		mustf(t, r.Status == 403, "cross-site logout: %d", r.Status)
		r = b.post("/logout", url.Values{}, "Origin", "https://evil.example")
		mustf(t, r.Status == 403, "foreign origin logout: %d", r.Status)
		mustf(t, b.get("/admin/users").Status == 200, "still signed in after refused cross-site posts")

		r = b.post("/logout", url.Values{}, "Sec-Fetch-Site", "same-origin")
		mustf(t, r.Status == 303 && r.Header.Get("Location") == "/login?signed_out=1", "logout: %d", r.Status)
		mustf(t, b.get("/admin/users").Status == 303, "signed out but still in")
	})
}

func TestSafeNextAndRoleChecks(t *testing.T) {
	a := startApp(t, localEnv(t, "sqlite"))
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/login?next=/x"} {
		b := newBrowser(t, a.URL)
		r := b.login("admin", adminPassword, next)
		mustf(t, r.Status == 303 && r.Header.Get("Location") == "/", "next %q went to %q", next, r.Header.Get("Location"))
	}
	// A viewer token reads the API but cannot reach admin endpoints.
	viewer := newAPIToken(t, a.env, "viewer")
	r := do(t, "GET", a.URL+"/api/v1/users", nil, "Authorization", "Bearer "+viewer)
	mustf(t, r.Status == 403 && strings.Contains(string(r.Body), "needs the admin role"), "viewer on admin API: %d %s", r.Status, r.Body)
	admin := newAPIToken(t, a.env, "admin")
	r = do(t, "GET", a.URL+"/api/v1/users", nil, "Authorization", "Bearer "+admin)
	mustf(t, r.Status == 200 && strings.Contains(string(r.Body), `"username":"admin"`), "admin on admin API: %d %s", r.Status, r.Body)
	// API tokens do not open pages.
	r = newBrowser(t, a.URL).get("/admin/users", "Authorization", "Bearer "+admin)
	mustf(t, r.Status == 303, "token opened a page: %d", r.Status)
}

func TestLoginThrottledBeforeCheckingPassword(t *testing.T) {
	env := localEnv(t, "sqlite")
	env["SITEMETRICS_AUTH_MAX_FAILURES_PER_USER"] = "3"
	env["SITEMETRICS_AUTH_MAX_FAILURES_PER_IP"] = "5"
	a := startApp(t, env)
	b := newBrowser(t, a.URL)
	for i := 0; i < 3; i++ {
		mustf(t, b.login("admin", "wrong", "/").Status == 401, "failure %d", i)
	}
	r := b.login("admin", adminPassword, "/")
	mustf(t, r.Status == 429 && strings.Contains(string(r.Body), "Too many failed sign-ins"), "throttled user with the right password: %d", r.Status)
	// Other names from the same IP: two more failures reach the per-IP limit.
	b.login("eve", "x", "/")
	b.login("mallory", "x", "/")
	r = b.login("trent", "x", "/")
	mustf(t, r.Status == 429, "per-IP limit: %d", r.Status)
	m := do(t, "GET", a.URL+"/metrics", nil)
	mustf(t, strings.Contains(string(m.Body), `sitemetrics_logins_total{outcome="throttled",source="none"} 2`) &&
		strings.Contains(string(m.Body), `sitemetrics_logins_total{outcome="rejected",source="local"} 5`), "login metrics:\n%s", m.Body)
	mustf(t, !strings.Contains(a.out.String(), adminPassword), "a password reached the log")
}

func TestEndAllSessionsIsImmediate(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env := localEnv(t, dialect)
		a := startApp(t, env)
		// Two replicas on one database: a session made on one works on the other.
		env2 := map[string]string{}
		for k, v := range env {
			env2[k] = v
		}
		env2["SITEMETRICS_ADDR"] = dbtest.FreeAddr(t)
		env2["SITEMETRICS_BASE_URL"] = "http://" + env2["SITEMETRICS_ADDR"]
		a2 := startApp(t, env2)

		laptop, phone := newBrowser(t, a.URL), newBrowser(t, a.URL)
		mustf(t, laptop.login("admin", adminPassword, "/admin/users").Status == 303, "laptop login")
		mustf(t, phone.login("admin", adminPassword, "/admin/users").Status == 303, "phone login")
		u, _ := url.Parse(a.URL)
		u2, _ := url.Parse(a2.URL)
		phoneOn2 := newBrowser(t, a2.URL)
		phoneOn2.client.Jar.SetCookies(u2, phone.client.Jar.Cookies(u))
		mustf(t, phoneOn2.get("/admin/users").Status == 200, "the session does not work on the second replica")

		r := laptop.get("/admin/users")
		mustf(t, strings.Contains(string(r.Body), `<td class="num" data-testid="sessions">2</td>`), "sessions not listed")
		r = laptop.post("/admin/users/1/sessions/end", url.Values{})
		mustf(t, r.Status == 303, "end sessions: %d", r.Status)
		mustf(t, phoneOn2.get("/admin/users").Status == 303, "an ended session still works on the other replica")
		mustf(t, laptop.get("/admin/users").Status == 303, "an ended session still works")
	})
}
