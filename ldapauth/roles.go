package ldapauth

import (
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/sitemetrics/sitemetrics/models"
)

// roleFor maps group DNs to the highest role of any matching mapping, or
// RoleNone. DNs compare as DNs (case and spacing do not matter); a value the
// directory sends that does not parse is compared as text, case-insensitively.
func (a *Authenticator) roleFor(groups []string) models.Role {
	best := models.RoleNone
	for _, g := range groups {
		dn, err := ldap.ParseDN(g)
		for _, m := range a.mappings {
			match := false
			if err == nil {
				match = m.dn.EqualFold(dn)
			} else {
				match = strings.EqualFold(strings.TrimSpace(m.raw), strings.TrimSpace(g))
			}
			if match && m.role.Rank() > best.Rank() {
				best = m.role
			}
		}
	}
	return best
}
