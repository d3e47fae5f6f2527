// Package views renders Sitemetrics' pages with templ. Components take view
// models built by handlers and never touch the database.
package views

// Page is what the shell of every page needs.
type Page struct {
	Title  string
	Active string // nav item: overview, reports, alerts, tv, slos, feeds, admin, help
	User   *User  // nil on the login page
	Flash  *Flash
	// Version is shown in the footer.
	Version string
}

// User is who is signed in.
type User struct {
	Name     string
	Role     string
	Source   string // ldap, cache, local
	CanEdit  bool   // sre or admin
	IsAdmin  bool
	IsLocal  bool // may change their password here
	FromSave bool // signed in from saved credentials: the directory was unreachable
}

// Flash is a one-line message at the top of a page.
type Flash struct {
	Kind  string // ok, info, warn, error
	Text  string
	Notes []string // what goes with it, e.g. a saved SLO's warnings
}

// NavItem is one link in the top bar.
type NavItem struct {
	Key, Label, Href string
}

// Nav lists the links a user may follow.
func Nav(u *User) []NavItem {
	if u == nil {
		return nil
	}
	items := []NavItem{{"overview", "Overview", "/"}, {"reports", "Reports", "/reports"}, {"alerts", "Alerts", "/alerts"}, {"tv", "TV", "/tv"}}
	if u.CanEdit {
		items = append(items, NavItem{"slos", "SLOs", "/slos"}, NavItem{"feeds", "Feeds", "/feeds"})
	}
	if u.IsAdmin {
		items = append(items, NavItem{"admin", "Admin", "/admin/users"})
	}
	return append(items, NavItem{"help", "Help", "/help"})
}

func navCurrent(active, key string) string {
	if active == key {
		return "page"
	}
	return ""
}
