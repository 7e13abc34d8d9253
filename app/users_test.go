package app

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
)

func firstOrgID(t *testing.T, p *testPortal) int64 {
	t.Helper()
	var id int64
	if err := p.db.DB.NewSelect().Table("organisations").Column("id").Order("id").Limit(1).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAdminCreatesUser(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	org := fmt.Sprint(firstOrgID(t, p))

	// Bad input comes back with 422, the summary, inline errors and what was typed.
	res := admin.post("/admin/users", url.Values{"name": {"Nia Evans"}, "email": {"nia.evans@"}, "organisation_id": {org}})
	mustStatus(t, res, 422, "invalid user")
	for _, want := range []string{"There is a problem", `href="#email"`, `href="#roles"`, `value="Nia Evans"`, `value="nia.evans@"`, "Select at least one role"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("422 page lacks %q", want)
		}
	}

	res = admin.post("/admin/users", url.Values{"name": {"Nia Evans"}, "email": {"Nia.Evans@test.nhs.uk"}, "organisation_id": {org},
		"roles": {identity.RoleRequester, identity.RoleNSIGMember}})
	mustStatus(t, res, 200, "create user")
	m := regexp.MustCompile(`[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}`).FindString(res.body)
	if m == "" {
		t.Fatalf("the one-time password is not shown:\n%s", excerpt(res.body))
	}

	// The same email in another case is refused.
	res = admin.post("/admin/users", url.Values{"name": {"Someone Else"}, "email": {"nia.evans@TEST.nhs.uk"}, "organisation_id": {org}, "roles": {identity.RoleRequester}})
	mustStatus(t, res, 422, "duplicate email")
	if !strings.Contains(res.body, "A user with this email address already exists") {
		t.Error("duplicate email message missing")
	}

	// The new user signs in with the one-time password and must choose a new one first.
	b := p.anonymous()
	mustStatus(t, b.signIn("nia.evans@test.nhs.uk", m), 303, "sign in with one-time password")
	res = b.get("/")
	if res.status != 303 || res.header.Get("Location") != "/account/password" {
		t.Fatalf("must change password: %d %s", res.status, res.header.Get("Location"))
	}
	res = b.post("/account/password", url.Values{"current_password": {m}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
	mustStatus(t, res, 303, "change password")
	res = b.get("/")
	mustStatus(t, res, 200, "home after changing password")
	if !strings.Contains(res.body, "Your password has been changed") {
		t.Error("no confirmation after changing password")
	}

	events, _, err := audit.List(context.Background(), p.db.DB, audit.Filter{Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		if strings.Contains(string(e.After), "Nia.Evans@test.nhs.uk") {
			found = true
			if strings.Contains(string(e.After), "argon2") || strings.Contains(string(e.After), m) {
				t.Error("the audit row holds a password or its hash")
			}
		}
	}
	if !found {
		t.Error("user creation not audited")
	}
}

func TestAdminEditsUserWithConflictDetection(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	u := p.createUser("edit.me@test.nhs.uk", "Edit Me", identity.RoleRequester)
	org := fmt.Sprint(firstOrgID(t, p))

	res := admin.get(userPath(u, "/edit"))
	mustStatus(t, res, 200, "edit form")
	// The page is about another user, but the header still names who is signed in.
	for _, path := range []string{userPath(u, "/edit"), userPath(u, ""), "/admin/users/new"} {
		body := admin.get(path).body
		if want := "Signed in as </span>" + p.users[identity.RoleAdmin].Name; !strings.Contains(body, want) {
			t.Errorf("%s: header does not name the signed-in administrator", path)
		}
	}
	if !strings.Contains(res.body, `value="Edit Me"`) {
		t.Error("edit form does not show the current name")
	}
	form := url.Values{"name": {"Edited Name"}, "email": {u.Email}, "organisation_id": {org},
		"roles": {identity.RoleRequester, identity.RoleFunctionalAccountManager}, "version": {"1"}}
	mustStatus(t, admin.post(userPath(u, ""), form), 422, "change roles without a reason")
	form.Set("reason", "Became the region's account manager")
	mustStatus(t, admin.post(userPath(u, ""), form), 303, "save")
	res = admin.get(userPath(u, ""))
	if !strings.Contains(res.body, "Edited Name") || !strings.Contains(res.body, "Functional account manager") {
		t.Errorf("changes not shown:\n%s", excerpt(res.body))
	}
	// Someone else saves from the same (now stale) form: refused with 409.
	form.Set("name", "Overwritten")
	mustStatus(t, admin.post(userPath(u, ""), form), 409, "stale save")
	got, err := identity.Get(context.Background(), p.db.DB, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Edited Name" {
		t.Fatalf("a stale form overwrote the user: %q", got.Name)
	}
	roles, _, err := audit.List(context.Background(), p.db.DB, audit.Filter{Action: "user.roles_changed", EntityID: fmt.Sprint(u.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 1 {
		t.Fatalf("role change audited %d times, want 1", len(roles))
	}
}

func TestAdminResetsPassword(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	u := p.createUser("forgetful@test.nhs.uk", "Forgetful User", identity.RoleRequester)
	session := p.as(u)
	res := admin.post(userPath(u, "/reset-password"), url.Values{"version": {"1"}})
	mustStatus(t, res, 200, "reset")
	temp := regexp.MustCompile(`[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}`).FindString(res.body)
	if temp == "" {
		t.Fatal("no temporary password shown")
	}
	if res := session.get("/"); res.status != 303 {
		t.Error("the user's session survived a password reset")
	}
	mustStatus(t, p.anonymous().signIn(u.Email, testPassword), 422, "old password")
	mustStatus(t, p.anonymous().signIn(u.Email, temp), 303, "temporary password")
}

func TestAuditTrailPage(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	p.anonymous().signIn(p.users[identity.RoleRequester].Email, "a wrong password")
	admin := p.as(p.users[identity.RoleAdmin])
	res := admin.get("/admin/audit?action=session.sign_in_failed")
	mustStatus(t, res, 200, "audit trail")
	if !strings.Contains(res.body, "session.sign_in_failed") || !strings.Contains(res.body, "wrong password") {
		t.Errorf("failed sign-in not listed:\n%s", excerpt(res.body))
	}
	// The trail reads in words: each action by its label, its details as fields, never a code or JSON.
	if !strings.Contains(res.body, "Sign-in failed") || !strings.Contains(res.body, "<strong>Reason:</strong> wrong password") {
		t.Errorf("the failed sign-in is not told in words:\n%s", excerpt(res.body))
	}
	tbody := res.body[strings.Index(res.body, "<tbody"):]
	if strings.Contains(tbody, "session.sign_in_failed") || strings.Contains(tbody, "{&#34;") || strings.Contains(tbody, "<code>") {
		t.Errorf("the trail shows an action code or raw JSON:\n%s", excerpt(tbody))
	}
	if !strings.Contains(res.body, `<option value="session.sign_in_failed" selected>Sign-in failed</option>`) {
		t.Errorf("the action filter does not offer actions by their labels:\n%s", excerpt(res.body))
	}

	// Done by: part of a name or an email address, in any case, not a user ID.
	requester := p.users[identity.RoleRequester]
	mustStatus(t, p.anonymous().signIn(requester.Email, testPassword), 303, "sign in")
	for _, who := range []string{strings.ToUpper(requester.Email[:6]), requester.Name[len(requester.Name)-4:]} {
		res = admin.get("/admin/audit?action=session.signed_in&who=" + url.QueryEscape(who))
		mustStatus(t, res, 200, "done by "+who)
		if !strings.Contains(res.body, "<p>1 event</p>") || !strings.Contains(res.body, ">"+requester.Name+"</a>") {
			t.Errorf("done by %q does not find the requester's sign-in:\n%s", who, excerpt(res.body))
		}
		// Who did it, and whom it was done to, by name, each linking to their page.
		if n := strings.Count(res.body, `<a href="/admin/users/`+fmt.Sprint(requester.ID)+`">`+requester.Name+`</a>`); n != 2 {
			t.Errorf("the requester's sign-in names them %d times, want 2 (who and record)", n)
		}
		if !strings.Contains(res.body, `value="`+who+`"`) {
			t.Errorf("done by %q is not shown back", who)
		}
	}
	for _, who := range []string{"nobody-like-this", "%", "_"} {
		res = admin.get("/admin/audit?who=" + url.QueryEscape(who))
		mustStatus(t, res, 200, "done by "+who)
		if !strings.Contains(res.body, "<p>0 events</p>") {
			t.Errorf("done by %q matches someone:\n%s", who, excerpt(res.body))
		}
	}
	mustStatus(t, admin.get("/admin/audit?who="+strings.Repeat("a", 201)), 422, "a very long name")

	// The user page's recent changes read in words too, and lead to what the person did.
	res = admin.get(userPath(requester, ""))
	mustStatus(t, res, 200, "user page")
	if !strings.Contains(res.body, "<strong>Signed in</strong>") || strings.Contains(res.body, "session.signed_in") {
		t.Errorf("recent changes are not in words:\n%s", excerpt(res.body))
	}
	if !strings.Contains(res.body, `href="/admin/audit?who=`+url.QueryEscape(requester.Email)+`"`) {
		t.Errorf("the user page does not link to what the person did:\n%s", excerpt(res.body))
	}

	res = admin.get("/admin/audit?from-day=31&from-month=2&from-year=2026")
	mustStatus(t, res, 422, "impossible date")
	if !strings.Contains(res.body, `href="#from-day"`) || !strings.Contains(res.body, `value="31"`) {
		t.Error("the date error is not shown with what was typed")
	}
}
