package models

// DirectoryCheck is a directory user with live sessions, due to be checked
// against the directory again.
type DirectoryCheck struct {
	UserID   int64
	Username string
	Role     Role   // the role of their last directory sign-in
	Stamp    string // the account's change attribute at that sign-in
}

// Why a directory check ends a user's sessions.
const (
	CheckDeleted        = "deleted"         // the directory no longer has the account
	CheckNoRole         = "no_role"         // no group of theirs maps to a role any more
	CheckRoleChanged    = "role_changed"    // their groups map to another role
	CheckAccountChanged = "account_changed" // the account changed (its password, say) since they signed in
	CheckAmbiguous      = "ambiguous"       // the name now matches several entries
)

// CheckVerdict is what a check found: an empty Reason means nothing changed.
type CheckVerdict struct {
	Reason string
	Role   Role // the role the directory gives now; RoleNone for deleted, no_role and ambiguous
}
