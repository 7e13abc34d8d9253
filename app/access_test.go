package app

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/nhs-esr/portal/app/identity"
)

func pendingGrant(t *testing.T, p *testPortal, userID int64) int64 {
	t.Helper()
	var id int64
	if err := p.db.DB.NewSelect().Table("role_grants").Column("id").Where("user_id = ? AND status = 'pending'", userID).Scan(t.Context(), &id); err != nil {
		t.Fatalf("no pending grant for user %d: %v", userID, err)
	}
	return id
}

func rolesOf(t *testing.T, p *testPortal, userID int64) []string {
	t.Helper()
	u, err := identity.Get(t.Context(), p.db.DB, userID)
	if err != nil {
		t.Fatal(err)
	}
	return u.Roles
}

func TestElevatedRolesNeedASecondAdministrator(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	first := p.users[identity.RoleAdmin]
	admin := p.as(first)
	u := p.createUser("rota.member@test.nhs.uk", "Rota Member", identity.RoleRequester)
	org := fmt.Sprint(u.OrganisationID)
	form := url.Values{"name": {u.Name}, "email": {u.Email}, "organisation_id": {org}, "version": {"1"},
		"roles": {identity.RoleRequester, identity.RoleCentralTeam}, "reason": {"Joins the triage rota"}, "requested_by": {"Head of ESR service"}}
	res := admin.post(userPath(u, ""), form)
	mustStatus(t, res, 303, "propose the central team role")
	if res := admin.get(userPath(u, "")); !strings.Contains(res.body, "needs a second administrator") || !strings.Contains(res.body, "Joins the triage rota") {
		t.Errorf("the user page does not say the role waits, or lacks the grant history:\n%s", excerpt(res.body))
	}
	if strings.Contains(strings.Join(rolesOf(t, p, u.ID), ","), identity.RoleCentralTeam) {
		t.Fatal("the elevated role was given by one administrator")
	}
	grant := pendingGrant(t, p, u.ID)
	path := fmt.Sprintf("/access-requests/%d", grant)

	// Refusals: the proposer, an access approver (not for elevated roles), the person themselves.
	if res := admin.get(path); !strings.Contains(res.body, "another administrator must authorise it") {
		t.Error("the proposer is not told to ask another administrator")
	}
	mustStatus(t, admin.post(path, url.Values{"decision": {"approve"}}), 403, "the proposer authorises")
	approverUser := p.users[identity.RoleAccessApprover]
	mustStatus(t, p.as(approverUser).post(path, url.Values{"decision": {"approve"}}), 403, "an access approver authorises an elevated role")
	mustStatus(t, p.as(u).post(path, url.Values{"decision": {"approve"}}), 403, "the person authorises their own")

	second := p.as(p.createUser("second.admin@test.nhs.uk", "Second Admin", identity.RoleAdmin))
	if res := second.get("/access-requests"); !strings.Contains(res.body, "Rota Member") {
		t.Error("the second administrator does not see the waiting role")
	}
	res = second.post(path, url.Values{"decision": {"refuse"}})
	mustStatus(t, res, 422, "refuse without a reason")
	if !strings.Contains(res.body, "Enter why you refuse it") {
		t.Error("no reason asked for")
	}
	mustStatus(t, second.post(path, url.Values{"decision": {"maybe"}}), 422, "an unknown decision")
	mustStatus(t, second.post(path, url.Values{"decision": {"approve"}, "note": {"Agreed at the team meeting"}}), 303, "the second administrator authorises")
	if !strings.Contains(strings.Join(rolesOf(t, p, u.ID), ","), identity.RoleCentralTeam) {
		t.Fatal("the role was not given")
	}
	mustStatus(t, second.post(path, url.Values{"decision": {"approve"}}), 303, "decided twice")
	if !auditMentions(t, p, "user.role_granted") || !auditMentions(t, p, "Joins the triage rota") {
		t.Error("the grant is not audited with its reason")
	}
	hist, err := identity.History(t.Context(), p.db.DB, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, g := range hist {
		if g.Role == identity.RoleCentralTeam && g.Status == identity.GrantApplied && g.ProposedBy == first.ID && g.AuthorisedBy != first.ID &&
			g.RequestedBy == "Head of ESR service" && g.DecisionNote == "Agreed at the team meeting" {
			found = true
		}
	}
	if !found {
		t.Errorf("the grant history does not record who asked, proposed and authorised: %+v", hist)
	}
	// Taking a role away needs one administrator and a reason.
	form.Set("roles", identity.RoleRequester)
	form.Set("version", "2")
	form.Set("reason", "")
	mustStatus(t, admin.post(userPath(u, ""), form), 422, "take a role away without a reason")
	form.Set("reason", "Left the triage rota")
	mustStatus(t, admin.post(userPath(u, ""), form), 303, "take the role away")
	if strings.Contains(strings.Join(rolesOf(t, p, u.ID), ","), identity.RoleCentralTeam) {
		t.Error("the role was not taken away")
	}
}

func TestAccessRequestedAfterSingleSignOn(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	m := withProvider(t, p)
	p.app.providers[0].SignUp = true
	approverUser := p.users[identity.RoleAccessApprover] // the first organisation's
	org := fmt.Sprint(approverUser.OrganisationID)

	mustStatus(t, p.anonymous().get("/sign-in/request-access"), 200, "the request page without a sign-in")
	mustStatus(t, p.anonymous().post("/sign-in/request-access", url.Values{"name": {"X"}}), 410, "a request without a sign-in")

	m.QueueUser(&mockoidc.MockUser{Subject: "new-1", Email: "new.starter@example.nhs.uk", EmailVerified: true})
	b := p.anonymous()
	res := b.get(atProvider(t, startSSO(t, b, "/")))
	if res.status != 303 || res.header.Get("Location") != "/sign-in/request-access" {
		t.Fatalf("an unknown person with sign-up on: %d %s", res.status, res.header.Get("Location"))
	}
	res = b.get("/sign-in/request-access")
	mustStatus(t, res, 200, "the request form")
	if !strings.Contains(res.body, "new.starter@example.nhs.uk") {
		t.Error("the form does not say who the provider vouched for")
	}
	res = b.post("/sign-in/request-access", url.Values{"name": {"Nell Starter"}, "organisation_id": {org}})
	mustStatus(t, res, 422, "no reason")
	if !strings.Contains(res.body, `value="Nell Starter"`) {
		t.Error("the name typed is lost")
	}
	mustStatus(t, b.post("/sign-in/request-access", url.Values{"name": {"Nell Starter"}, "organisation_id": {"999999"}, "reason": {"x"}}), 422, "an unknown organisation")
	// A cookie that was tampered with is refused.
	forged := p.anonymous()
	payload, mac, _ := strings.Cut(b.cookies[p.app.signUpCookie()], ".")
	forged.cookies[p.app.signUpCookie()] = payload + "x." + mac
	mustStatus(t, forged.post("/sign-in/request-access", url.Values{"name": {"N"}, "organisation_id": {org}, "reason": {"x"}}), 410, "a forged sign-up")

	res = b.post("/sign-in/request-access", url.Values{"name": {"Nell Starter"}, "organisation_id": {org}, "reason": {"I raise ESR change requests for workforce"}})
	if res.status != 303 || res.header.Get("Location") != "/sign-in?requested=1" {
		t.Fatalf("send the request: %d %s\n%s", res.status, res.header.Get("Location"), excerpt(res.body))
	}
	nell, err := identity.GetByEmail(t.Context(), p.db.DB, "new.starter@example.nhs.uk")
	if err != nil || nell.Status != identity.StatusPending || len(nell.Roles) != 0 {
		t.Fatalf("the account: %+v %v", nell, err)
	}
	// Signing in again says it waits.
	m.QueueUser(&mockoidc.MockUser{Subject: "new-1", Email: "new.starter@example.nhs.uk", EmailVerified: true})
	b = p.anonymous()
	res = b.get(atProvider(t, startSSO(t, b, "/")))
	mustStatus(t, res, 403, "sign in while waiting")
	if !strings.Contains(res.body, "is waiting for your organisation") {
		t.Error("the person is not told their request waits")
	}
	// The organisation's approver is told and decides; an approver elsewhere cannot see it.
	if n := len(p.notificationsOf(approverUser)); n == 0 {
		t.Error("the access approver was not told")
	}
	grant := pendingGrant(t, p, nell.ID)
	elsewhere := p.as(userIn(t, p, "approver.elsewhere@test.nhs.uk", "ZWA01", identity.RoleAccessApprover))
	mustStatus(t, elsewhere.get(fmt.Sprintf("/access-requests/%d", grant)), 404, "an approver of another organisation")
	if strings.Contains(elsewhere.get("/access-requests").body, "Nell Starter") {
		t.Error("an approver of another organisation sees the request")
	}
	approver := p.as(approverUser)
	mustStatus(t, approver.post(fmt.Sprintf("/access-requests/%d", grant), url.Values{"decision": {"approve"}}), 303, "approve")
	if u, _ := identity.Get(t.Context(), p.db.DB, nell.ID); u.Status != identity.StatusActive || !u.HasRole(identity.RoleRequester) {
		t.Fatalf("after approval: %s %v", u.Status, u.Roles)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "new-1", Email: "new.starter@example.nhs.uk", EmailVerified: true})
	b = p.anonymous()
	mustStatus(t, b.get(atProvider(t, startSSO(t, b, "/"))), 303, "sign in once approved")
	mustStatus(t, b.get("/"), 200, "home")
}

func TestOrganisationsAreManaged(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	mustStatus(t, admin.get("/admin/organisations"), 200, "list")

	res := admin.post("/admin/organisations", url.Values{"name": {"Riverside Trust"}, "ods_code": {"R-1"}, "vpd_code": {"12"}, "region_id": {"2"}})
	mustStatus(t, res, 422, "bad codes")
	for _, want := range []string{`value="Riverside Trust"`, `value="R-1"`, "Enter an ODS code", "Enter an ESR VPD code"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the 422 page lacks %q", want)
		}
	}
	mustStatus(t, admin.post("/admin/organisations", url.Values{"name": {"Riverside Trust"}, "ods_code": {"zln01"}, "region_id": {"2"}}), 422, "a taken ODS code")
	mustStatus(t, admin.post("/admin/organisations", url.Values{"name": {"Riverside Trust"}, "ods_code": {"rx9"}, "vpd_code": {"777"}, "region_id": {"99"}}), 422, "an unknown region")
	mustStatus(t, admin.post("/admin/organisations", url.Values{"name": {"  Riverside   Trust "}, "ods_code": {"rx9"}, "vpd_code": {"777"}, "region_id": {"2"}}), 303, "add")
	var riverside int64
	if err := p.db.DB.NewSelect().Table("organisations").Column("id").Where("ods_code = 'RX9' AND name = 'Riverside Trust'").Scan(t.Context(), &riverside); err != nil {
		t.Fatal(err)
	}

	// A person and a request in it, then a new name: the summary search finds the new name.
	nurse := userIn(t, p, "nurse@riverside.nhs.uk", "RX9", identity.RoleRequester)
	req := raiseFor(t, p, nurse, "Add a bank holiday rota report")
	mustStatus(t, admin.post(fmt.Sprintf("/admin/organisations/%d", riverside), url.Values{"name": {"Riverside and Vale Trust"}, "ods_code": {"RX9"}, "region_id": {"2"}, "version": {"1"}}), 303, "rename")
	mustStatus(t, admin.post(fmt.Sprintf("/admin/organisations/%d", riverside), url.Values{"name": {"Stale"}, "ods_code": {"RX9"}, "region_id": {"2"}, "version": {"1"}}), 409, "a stale rename")
	var hits int
	if err := p.db.DB.NewRaw(`SELECT count(*) FROM requests WHERE id = ? AND summary_search @@ plainto_tsquery('english', 'Vale')`, req.ID).Scan(t.Context(), &hits); err != nil {
		t.Fatal(err)
	}
	if hits != 1 {
		t.Error("the summary search does not know the new name")
	}

	// Merge it into another: its person and request move, and it is kept as merged.
	var into int64
	if err := p.db.DB.NewSelect().Table("organisations").Column("id").Where("ods_code = 'ZLN01'").Scan(t.Context(), &into); err != nil {
		t.Fatal(err)
	}
	mergePath := fmt.Sprintf("/admin/organisations/%d/merge", riverside)
	mustStatus(t, admin.get(mergePath), 200, "merge page")
	mustStatus(t, admin.post(mergePath, url.Values{"into_id": {fmt.Sprint(riverside)}, "confirm": {"yes"}, "version": {"2"}}), 422, "merge into itself")
	res = admin.post(mergePath, url.Values{"into_id": {fmt.Sprint(into)}, "version": {"2"}})
	mustStatus(t, res, 422, "merge without confirming")
	if !strings.Contains(res.body, "Confirm that its people and requests move") {
		t.Error("the confirmation is not asked for")
	}
	mustStatus(t, admin.post(mergePath, url.Values{"into_id": {fmt.Sprint(into)}, "confirm": {"yes"}, "version": {"2"}}), 303, "merge")
	if u, _ := identity.Get(t.Context(), p.db.DB, nurse.ID); u.OrganisationID != into {
		t.Errorf("the person is in organisation %d, want %d", u.OrganisationID, into)
	}
	var reqOrg int64
	if err := p.db.DB.NewSelect().Table("requests").Column("organisation_id").Where("id = ?", req.ID).Scan(t.Context(), &reqOrg); err != nil || reqOrg != into {
		t.Errorf("the request is in organisation %d (%v), want %d", reqOrg, err, into)
	}
	if err := p.db.DB.NewRaw(`SELECT count(*) FROM requests WHERE id = ? AND summary_search @@ plainto_tsquery('english', 'Thameside')`, req.ID).Scan(t.Context(), &hits); err != nil || hits != 1 {
		t.Error("the summary search does not know the request's new organisation")
	}
	if res := admin.get("/admin/organisations"); !strings.Contains(res.body, "Merged into Thameside") {
		t.Error("the merged organisation is not shown as merged")
	}
	mustStatus(t, admin.post(fmt.Sprintf("/admin/organisations/%d", riverside), url.Values{"name": {"Again"}, "ods_code": {"RX9"}, "region_id": {"2"}, "version": {"3"}}), 409, "change a merged organisation")
	for _, action := range []string{"organisation.created", "organisation.updated", "organisation.merged"} {
		if !auditMentions(t, p, action) {
			t.Errorf("%s is not audited", action)
		}
	}
	mustStatus(t, p.as(p.users[identity.RoleCentralTeam]).get("/admin/organisations"), 403, "the central team")
}
