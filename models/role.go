package models

import (
	"strings"
)

// Role is what a signed-in person or an API token may do.
type Role string

// The roles, lowest first.
const (
	RoleNone   Role = ""
	RoleViewer Role = "viewer"
	RoleSRE    Role = "sre"
	RoleAdmin  Role = "admin"
)

// Rank orders roles: a higher rank may do everything a lower one may.
func (r Role) Rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleSRE:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// AtLeast reports whether r may do what min may.
func (r Role) AtLeast(min Role) bool { return r.Rank() >= min.Rank() && r.Rank() > 0 }

// ParseRole accepts viewer, sre or admin (any case).
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleViewer, RoleSRE, RoleAdmin:
		return r, nil
	}
	return RoleNone, Errorf(EINVALID, "role %q is not one of viewer, sre, admin", s)
}
