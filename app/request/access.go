package request

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
)

// The access rule (DESIGN §1) lives in this file and nowhere else. It is written three times, once for
// each way the portal asks it, and a test checks that the three always agree:
//   - Viewer.AccessTo: how much of one request a viewer may see (pages, actions, exports);
//   - Viewer.Where: the same rule as an SQL condition over requests (alias r), so that lists, counts,
//     search and similar-request suggestions never read what the viewer may not see;
//   - ReaderLevel: the same rule from the request's side, as an SQL expression over users (alias u),
//     so that every notification and email is written for what its recipient may see.

// Viewer is who is looking, with what the access rules need to know about them.
type Viewer struct {
	UserID         int64
	Name           string
	OrganisationID int64
	// OrganisationName is the viewer's organisation's name, for what they do to be told to others.
	OrganisationName string
	RegionID         int16
	Roles            []string
	NSIGIDs          []int64 // the NSIGs whose requests an nsig_member reviews
}

// ViewerFor builds the viewer for a signed-in user, reading the NSIGs they review for.
func ViewerFor(ctx context.Context, db bun.IDB, u *identity.User) (Viewer, error) {
	v := Viewer{UserID: u.ID, Name: u.Name, OrganisationID: u.OrganisationID, OrganisationName: u.OrganisationName,
		RegionID: u.RegionID, Roles: u.Roles}
	if u.HasRole(identity.RoleNSIGMember) && u.NSIGsRead {
		v.NSIGIDs = u.NSIGIDs
	} else if u.HasRole(identity.RoleNSIGMember) {
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

// Access is how much of a request a viewer may see (DESIGN §1).
type Access int

const (
	// AccessNone: the viewer may not know the request exists.
	AccessNone Access = iota
	// AccessSummary: reference, title, public summary, functional area, status, raising organisation and
	// region, supporting organisations and the decision — of requests triage accepted.
	AccessSummary
	// AccessFull: the whole request, shared comments and the timeline.
	AccessFull
	// AccessInternal: the whole request and internal notes as well.
	AccessInternal
)

// AccessTo says how much of r the viewer may see:
//   - the central team: everything, from the moment a request is raised;
//   - the development team, and the request's NSIG: everything, internal notes included, once triage
//     has accepted it;
//   - the raising organisation, and the functional account manager of its region: the whole request
//     but not internal notes;
//   - everyone else signed in: the summary of an accepted request, and nothing of any other.
func (v Viewer) AccessTo(r *Request) Access {
	switch {
	case v.Has(identity.RoleCentralTeam):
		return AccessInternal
	case r.Accepted && (v.Has(identity.RoleDevelopmentTeam) || v.inNSIG(r.NSIGID)):
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

// sqlFalse is a condition no row meets.
const sqlFalse = "false"

// Where narrows a query on requests (alias r) to those the viewer may see at level or more, in SQL,
// so that lists never load what they may not show. It is AccessTo written as a condition.
func (v Viewer) Where(q *bun.SelectQuery, level Access) *bun.SelectQuery {
	cond, args := v.condition(level)
	return q.Where(cond, args...)
}

// condition is AccessTo(r) >= level as an SQL condition over requests (alias r) with its arguments.
func (v Viewer) condition(level Access) (string, []any) {
	if level <= AccessNone || v.Has(identity.RoleCentralTeam) {
		return "true", nil
	}
	var parts []string
	var args []any
	add := func(cond string, a ...any) { parts = append(parts, cond); args = append(args, a...) }
	if v.Has(identity.RoleDevelopmentTeam) {
		add("r.accepted")
	} else if len(v.NSIGIDs) > 0 && v.Has(identity.RoleNSIGMember) {
		add("(r.accepted AND r.nsig_id IN (?))", bun.List(v.NSIGIDs))
	}
	if level <= AccessFull {
		add("r.organisation_id = ?", v.OrganisationID)
		if v.Has(identity.RoleFunctionalAccountManager) {
			add("r.organisation_id IN (SELECT id FROM organisations WHERE region_id = ?)", v.RegionID)
		}
	}
	if level <= AccessSummary {
		add("r.accepted")
	}
	if len(parts) == 0 {
		return sqlFalse, nil
	}
	cond := "(" + parts[0]
	for _, p := range parts[1:] {
		cond += " OR " + p
	}
	return cond + ")", args
}

// ReaderLevel is the access each user (alias u) has to request r, as an SQL expression with its
// arguments giving 0 (none) to 3 (internal): AccessTo seen from the request's side, for choosing and
// writing to the recipients of a notification in one query.
func ReaderLevel(r *Request) (string, []any) {
	expr := `CASE
		WHEN EXISTS (SELECT 1 FROM user_roles AS ur WHERE ur.user_id = u.id AND ur.role = ?) THEN 3
		WHEN ?::boolean AND EXISTS (SELECT 1 FROM user_roles AS ur WHERE ur.user_id = u.id AND ur.role = ?) THEN 3
		WHEN ?::boolean AND EXISTS (SELECT 1 FROM user_nsigs AS un JOIN user_roles AS ur ON ur.user_id = un.user_id AND ur.role = ?
			WHERE un.user_id = u.id AND un.nsig_id = ?) THEN 3
		WHEN u.organisation_id = ? THEN 2
		WHEN EXISTS (SELECT 1 FROM user_roles AS ur JOIN organisations AS uo ON uo.id = u.organisation_id
			WHERE ur.user_id = u.id AND ur.role = ? AND uo.region_id = ?) THEN 2
		WHEN ?::boolean THEN 1
		ELSE 0 END`
	return expr, []any{
		identity.RoleCentralTeam,
		r.Accepted, identity.RoleDevelopmentTeam,
		r.Accepted, identity.RoleNSIGMember, r.NSIGID,
		r.OrganisationID,
		identity.RoleFunctionalAccountManager, r.RegionID,
		r.Accepted,
	}
}

// numberedReaderLevel is ReaderLevel for a statement with positional placeholders (as
// database.ScanPrepared takes), its own numbered from ?1 on, so that its text is the same for every
// request: readerArgs gives the values for a request, in order.
var numberedReaderLevel = sync.OnceValue(func() string {
	text, _ := ReaderLevel(&Request{})
	n := 1
	var b strings.Builder
	for _, part := range strings.SplitAfter(text, "?") {
		if strings.HasSuffix(part, "?") {
			b.WriteString(part + strconv.Itoa(n))
			n++
			continue
		}
		b.WriteString(part)
	}
	return b.String()
})

// readerArgs are the values of numberedReaderLevel for r.
func readerArgs(r *Request) []any {
	_, args := ReaderLevel(r)
	return args
}

// readers narrows a query on users (alias u) to those with at least level of access to r.
func readers(q *bun.SelectQuery, r *Request, level Access) *bun.SelectQuery {
	expr, args := ReaderLevel(r)
	return q.Where("("+expr+") >= ?", append(args, int(level))...)
}

// IsRaiser reports whether the viewer may act for the raising organisation: a requester (or NSIG
// member, who may do everything a requester may) of that organisation.
func (v Viewer) IsRaiser(r *Request) bool {
	return r.OrganisationID == v.OrganisationID && (v.Has(identity.RoleRequester) || v.Has(identity.RoleNSIGMember))
}

// MaySee reports whether the viewer may see the request with the reference at level or more.
func MaySee(ctx context.Context, db bun.IDB, v Viewer, reference string, level Access) (bool, error) {
	ok, err := v.Where(db.NewSelect().TableExpr("requests AS r").Where("r.reference = ?", reference), level).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("may see %s: %w", reference, err)
	}
	return ok, nil
}

// visible narrows a query on requests (alias r) to what the viewer may see at all.
func (v Viewer) visible(q *bun.SelectQuery) *bun.SelectQuery { return v.Where(q, AccessSummary) }

// AccessLevels says how much of each request in ids the viewer may see, for channels that show things
// written about requests to someone other than their recipient (the administrators' mail view).
// Requests not found are left out, so they read as AccessNone.
func AccessLevels(ctx context.Context, db bun.IDB, v Viewer, ids []int64) (map[int64]Access, error) {
	out := make(map[int64]Access, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rs []Request
	if err := db.NewSelect().Model(&rs).ColumnExpr("r.id, r.organisation_id, r.nsig_id, r.accepted, o.region_id AS region_id").
		Join("JOIN organisations AS o ON o.id = r.organisation_id").Where("r.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read access to %d requests: %w", len(ids), err)
	}
	for i := range rs {
		out[rs[i].ID] = v.AccessTo(&rs[i])
	}
	return out, nil
}
