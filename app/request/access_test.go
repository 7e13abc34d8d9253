package request_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
)

// TestAccessRuleAgreesInEveryForm: the access rule is written three times (AccessTo in Go, Where as a
// condition on requests, ReaderLevel as an expression on users). For every kind of viewer and every
// kind of request, before and after triage accepts it, the three must give the same answer — otherwise a
// list, a search or a notification would disagree with the page.
func TestAccessRuleAgreesInEveryForm(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// People who hold several roles, where the rule's branches meet.
	for _, extra := range []struct {
		key, ods string
		roles    []string
	}{
		{"developer_in_raising_org", "ZLN01", []string{identity.RoleDevelopmentTeam, identity.RoleRequester}},
		{"fam_and_member", "ZLN02", []string{identity.RoleFunctionalAccountManager, identity.RoleNSIGMember}},
		{"member_of_raising_org", "ZLN01", []string{identity.RoleNSIGMember}},
	} {
		org, err := organisation.GetByODS(ctx, w.db, extra.ods)
		if err != nil {
			t.Fatal(err)
		}
		u, err := identity.Create(ctx, w.db, audit.Actor{Name: "test"}, w.now, identity.NewUser{
			Email: extra.key + "@test.nhs.uk", Name: "Test " + extra.key, OrganisationID: org.ID, Roles: extra.roles, Password: password,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.NewRaw(`INSERT INTO user_nsigs (user_id, nsig_id, granted_at) SELECT ?, id, ? FROM nsigs WHERE name = 'Self Service and Portal'`,
			u.ID, w.now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if u, err = identity.Get(ctx, w.db, u.ID); err != nil {
			t.Fatal(err)
		}
		if w.v[extra.key], err = request.ViewerFor(ctx, w.db, u); err != nil {
			t.Fatal(err)
		}
	}
	enh := w.raise("An enhancement")
	role := w.raiseRole("A supplementary role")
	noNSIG := w.raise("Without an NSIG")
	if _, err := w.db.NewRaw("UPDATE requests SET nsig_id = NULL WHERE id = ?", noNSIG.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	refs := []string{enh.Reference, role.Reference, noNSIG.Reference}

	cells := 0
	check := func(phase string) {
		for _, ref := range refs {
			var r request.Request
			if err := w.db.NewSelect().Model(&r).ColumnExpr("r.id, r.kind, r.reference, r.nsig_id, r.organisation_id, r.accepted, o.region_id AS region_id").
				Join("JOIN organisations AS o ON o.id = r.organisation_id").Where("r.reference = ?", ref).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			for who, v := range w.v {
				goLevel := v.AccessTo(&r)
				sqlLevel := request.AccessNone
				for _, level := range []request.Access{request.AccessSummary, request.AccessFull, request.AccessInternal} {
					ok, err := v.Where(w.db.NewSelect().TableExpr("requests AS r").Where("r.id = ?", r.ID), level).Exists(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if ok {
						sqlLevel = level
					}
				}
				expr, args := request.ReaderLevel(&r)
				var readerLevel request.Access
				if err := w.db.NewSelect().TableExpr("users AS u").ColumnExpr("("+expr+")", args...).Where("u.id = ?", v.UserID).Scan(ctx, &readerLevel); err != nil {
					t.Fatal(err)
				}
				cells++
				if goLevel != sqlLevel || goLevel != readerLevel {
					t.Errorf("%s, %s, %s: AccessTo %d, Where %d, ReaderLevel %d", phase, ref, who, goLevel, sqlLevel, readerLevel)
				}
				want := expectedAccess(who, r)
				if goLevel != want {
					t.Errorf("%s, %s, %s: access %d, want %d", phase, ref, who, goLevel, want)
				}
			}
		}
	}
	check("before triage")
	for _, a := range []string{"acknowledge", "classify_enhancement"} {
		if _, err := w.apply("central", enh, a, request.Input{}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.apply("central", noNSIG, a, request.Input{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"acknowledge", "approve"} {
		if _, err := w.apply("central", role, a, request.Input{}); err != nil {
			t.Fatal(err)
		}
	}
	check("accepted")
	t.Logf("%d viewer × request cells agree in all three forms", cells)
}

// expectedAccess is DESIGN §1 written out by hand for the people of the test world, independently of
// the code under test.
func expectedAccess(who string, r request.Request) request.Access {
	inNSIG := r.NSIGID != 0 && r.Kind == request.KindEnhancement // the Self Service NSIG reviews the test requests
	switch who {
	case "central":
		return request.AccessInternal
	case "developer":
		return map[bool]request.Access{true: request.AccessInternal, false: request.AccessNone}[r.Accepted]
	case "developer_in_raising_org":
		return map[bool]request.Access{true: request.AccessInternal, false: request.AccessFull}[r.Accepted]
	case "nsig_member":
		switch {
		case r.Accepted && inNSIG:
			return request.AccessInternal
		case r.Accepted:
			return request.AccessSummary
		}
		return request.AccessNone
	case "member_of_raising_org", "fam_and_member":
		if r.Accepted && inNSIG {
			return request.AccessInternal
		}
		return request.AccessFull
	case "raiser", "fam_region":
		return request.AccessFull
	case "other_org", "other_nsig", "fam_elsewhere", "admin":
		if r.Accepted {
			return request.AccessSummary
		}
		return request.AccessNone
	}
	panic(fmt.Sprintf("no expectation for %s", who))
}
