// Package identity holds the portal's users, their roles, passwords, sessions and sign-in throttling.
package identity

// The roles a user can hold (DESIGN §1). A person can hold several.
const (
	RoleRequester                = "requester"
	RoleNSIGMember               = "nsig_member"
	RoleFunctionalAccountManager = "functional_account_manager"
	RoleCentralTeam              = "central_team"
	RoleDevelopmentTeam          = "development_team"
	RoleAdmin                    = "admin"
	RoleAccessApprover           = "access_approver"
)

// Role describes one role for people.
type Role struct {
	Name        string
	Title       string
	Description string
	Elevated    bool
}

// Roles lists every role in the order pages show them. The roles table holds the same rows; a test
// keeps the two in step.
var Roles = []Role{
	{RoleRequester, "Requester", "Raises requests for their organisation and supports other organisations' requests", false},
	{RoleNSIGMember, "NSIG member", "Reviews and comments on requests in their NSIG's functional area", false},
	{RoleFunctionalAccountManager, "Functional account manager", "Supports organisations in their region and endorses business justifications", false},
	{RoleCentralTeam, "Central team", "Triages, decides, manages releases and publishes the Development Schedule", true},
	{RoleDevelopmentTeam, "Development team", "Agrees requirement definitions and carries out impact assessments", true},
	{RoleAdmin, "Administrator", "Manages users, organisations and roles", true},
	{RoleAccessApprover, "Access approver", "Approves access for their organisation's people, sets leaving dates and reviews access every six months", false},
}

// IsRole reports whether name is a known role.
func IsRole(name string) bool {
	for _, r := range Roles {
		if r.Name == name {
			return true
		}
	}
	return false
}

// RoleTitle returns the readable name of a role.
func RoleTitle(name string) string {
	for _, r := range Roles {
		if r.Name == name {
			return r.Title
		}
	}
	return name
}
