package request

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
)

// Viewer is who is looking, with what the access rules need to know about them.
type Viewer struct {
	UserID         int64
	Name           string
	OrganisationID int64
	RegionID       int16
	Roles          []string
	NSIGIDs        []int64 // the NSIGs whose requests an nsig_member reviews
}

// ViewerFor builds the viewer for a signed-in user, reading the NSIGs they review for.
func ViewerFor(ctx context.Context, db bun.IDB, u *identity.User) (Viewer, error) {
	v := Viewer{UserID: u.ID, Name: u.Name, OrganisationID: u.OrganisationID, RegionID: u.RegionID, Roles: u.Roles}
	if u.HasRole(identity.RoleNSIGMember) {
		if err := db.NewSelect().Table("user_nsigs").Column("nsig_id").Where("user_id = ?", u.ID).Order("nsig_id").Scan(ctx, &v.NSIGIDs); err != nil {
			return v, fmt.Errorf("read NSIGs of user %d: %w", u.ID, err)
		}
	}
	return v, nil
}

// Has reports whether the viewer holds a role.
func (v Viewer) Has(role string) bool { return hasRole(v.Roles, role) }

func (v Viewer) inNSIG(id int64) bool {
	if id == 0 || !v.Has(identity.RoleNSIGMember) {
		return false
	}
	for _, n := range v.NSIGIDs {
		if n == id {
			return true
		}
	}
	return false
}

// national reports whether the viewer is on the central or development team, who see every request.
func (v Viewer) national() bool {
	return v.Has(identity.RoleCentralTeam) || v.Has(identity.RoleDevelopmentTeam)
}

// Access is how much of a request a viewer may see (DESIGN §1).
type Access int

const (
	// AccessNone: the viewer may not know the request exists.
	AccessNone Access = iota
	// AccessSummary: reference, title, functional area, status, raising organisation and region,
	// supporting organisations and the decision — of requests triage accepted as enhancements.
	AccessSummary
	// AccessFull: the whole request, shared comments and the timeline.
	AccessFull
	// AccessInternal: the whole request and internal notes as well.
	AccessInternal
)

// AccessTo says how much of r the viewer may see.
func (v Viewer) AccessTo(r *Request) Access {
	switch {
	case v.national():
		return AccessInternal
	case r.Accepted && v.inNSIG(r.NSIGID):
		return AccessInternal
	case r.OrganisationID == v.OrganisationID:
		return AccessFull
	case v.Has(identity.RoleFunctionalAccountManager) && r.RegionID == v.RegionID:
		return AccessFull
	case r.Accepted:
		return AccessSummary
	}
	return AccessNone
}

// IsRaiser reports whether the viewer may act for the raising organisation: a requester (or NSIG
// member, who may do everything a requester may) of that organisation.
func (v Viewer) IsRaiser(r *Request) bool {
	return r.OrganisationID == v.OrganisationID && (v.Has(identity.RoleRequester) || v.Has(identity.RoleNSIGMember))
}

// visible narrows a query on requests (alias r) to what the viewer may see at all, in SQL, so that
// lists never load what they may not show.
func (v Viewer) visible(q *bun.SelectQuery) *bun.SelectQuery {
	if v.national() {
		return q
	}
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("r.accepted").WhereOr("r.organisation_id = ?", v.OrganisationID)
		if v.Has(identity.RoleFunctionalAccountManager) {
			q = q.WhereOr("r.organisation_id IN (SELECT id FROM organisations WHERE region_id = ?)", v.RegionID)
		}
		return q
	})
}
