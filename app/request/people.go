package request

import (
	"fmt"

	"github.com/nhs-esr/portal/app/identity"
)

// Person is someone a request's pages or messages mention: who raised it, commented, answered, gave a
// region's view, wrote a version of its requirement.
type Person struct {
	UserID           int64
	Name             string
	OrganisationID   int64
	OrganisationName string
	RegionID         int16
	// National: the person holds a role of the national ESR service (central team, development team,
	// functional account manager), in which they act on requests under their own name.
	National bool
}

// person is the viewer as a Person, for the messages about what they do.
func (v Viewer) person() Person {
	national := v.Has(identity.RoleCentralTeam) || v.Has(identity.RoleDevelopmentTeam) || v.Has(identity.RoleFunctionalAccountManager)
	return Person{UserID: v.UserID, Name: v.Name, OrganisationID: v.OrganisationID, OrganisationName: v.OrganisationName,
		RegionID: v.RegionID, National: national}
}

// NameFor is how a person appears to the viewer on a request the viewer may see at access (DESIGN
// §1: never the names of people from other organisations). The name shows when the person is from the
// viewer's own organisation or acts for the national service, when the viewer may see the request's
// internal notes (the central and development teams and the request's NSIG, who run and review it),
// and to a functional account manager for people in their region. Anyone else reads the person's
// organisation instead.
func (v Viewer) NameFor(access Access, p Person) string {
	if v.SeesNameOf(access, p) {
		return p.Name
	}
	if p.OrganisationName == "" {
		return "Someone from another organisation"
	}
	return "Someone at " + p.OrganisationName
}

// SeesNameOf reports whether NameFor shows the person's name.
func (v Viewer) SeesNameOf(access Access, p Person) bool {
	switch {
	case p.UserID == 0:
		return true // the portal itself, or a name kept without an account
	case p.OrganisationID == v.OrganisationID, p.National, access >= AccessInternal:
		return true
	case v.Has(identity.RoleFunctionalAccountManager) && p.RegionID == v.RegionID:
		return true
	}
	return false
}

// PersonOrg is what the rule on names needs to know of a person besides their name, read with
// personColumns into a struct embedded with that prefix (bun:"embed:actor_").
type PersonOrg struct {
	OrgID    int64  `bun:"org_id,scanonly"`
	OrgName  string `bun:"org_name,scanonly"`
	RegionID int16  `bun:"region_id,scanonly"`
	National bool   `bun:"national,scanonly"`
}

// Person is the person with this organisation, id and name.
func (o PersonOrg) Person(id int64, name string) Person {
	return Person{UserID: id, Name: name, OrganisationID: o.OrgID, OrganisationName: o.OrgName, RegionID: o.RegionID, National: o.National}
}

// personColumns reads a Person's fields for the user joined as alias, with the column names prefixed
// by prefix (e.g. "actor"): prefix_org_id, prefix_org_name, prefix_region_id and prefix_national.
func personColumns(alias, prefix string) string {
	return fmt.Sprintf(`%[1]s.organisation_id AS %[2]s_org_id, COALESCE((SELECT o.name FROM organisations AS o WHERE o.id = %[1]s.organisation_id), '') AS %[2]s_org_name,
		COALESCE((SELECT o.region_id FROM organisations AS o WHERE o.id = %[1]s.organisation_id), 0) AS %[2]s_region_id,
		COALESCE(EXISTS (SELECT 1 FROM user_roles AS pr WHERE pr.user_id = %[1]s.id AND pr.role IN ('%[3]s', '%[4]s', '%[5]s')), false) AS %[2]s_national`,
		alias, prefix, identity.RoleCentralTeam, identity.RoleDevelopmentTeam, identity.RoleFunctionalAccountManager)
}
