package app

import (
	"html"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
)

// The unstorable byte sequences a form or address may carry.
var badBytes = map[string]string{"NUL": "\x00", "invalid UTF-8": "\xff\xfe", "escape": "\x1b"}

// TestQueryStringsWithBadBytesRefused: a NUL, invalid UTF-8 or a control character in any query
// string or path is refused with 400 on every GET route, before any handler (or query) sees it.
func TestQueryStringsWithBadBytesRefused(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.createUser("everything@test.nhs.uk", "Every Role", identity.RoleAdmin, identity.RoleCentralTeam, identity.RoleDevelopmentTeam)
	b := p.as(admin)
	checked := 0
	for _, r := range p.app.Routes() {
		if r.Method != "GET" {
			continue
		}
		path := routePath(r.Path, admin.ID)
		for what, bad := range badBytes {
			for _, query := range []string{"q=" + url.QueryEscape("payroll"+bad), url.QueryEscape("q"+bad) + "=1", "status=" + url.QueryEscape(bad)} {
				res := b.get(path + "?" + query)
				checked++
				if res.status != 400 {
					t.Errorf("GET %s?%s (%s): %d, want 400", path, query, what, res.status)
				}
			}
		}
	}
	for _, path := range []string{"/requests/ENH-2026-0001%00", "/requests/%FF", "/admin/users/1%00", "/nowhere%00"} {
		if res := b.get(path); res.status != 400 {
			t.Errorf("GET %s: %d, want 400", path, res.status)
		}
	}
	t.Logf("%d GET requests with bad bytes in their query strings refused", checked)
}

// TestFormsWithBadBytesKeepWhatWasTyped: a NUL, invalid UTF-8 or a control character in any field of
// a form gives 422 with that field's error, and everything typed is shown again, with "�" where the
// bad bytes were; nothing reaches the database.
func TestFormsWithBadBytesKeepWhatWasTyped(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	requester := p.users[identity.RoleRequester]
	central := p.users[identity.RoleCentralTeam]
	admin := p.users[identity.RoleAdmin]
	r := raiseFor(t, p, requester, "Bad bytes in forms")
	draft := draftStart(t, p.as(requester))

	type formCase struct {
		who    *identity.User
		path   string
		form   url.Values
		field  string // the field given the bad bytes
		kept   string // another value typed, which must be shown again
		status int
	}
	cases := map[string]formCase{
		"comment": {requester, "/requests/" + r.Reference + "/comments", url.Values{"body": {"See @someone"}}, "body", "", 422},
		"user": {admin, "/admin/users", url.Values{"name": {"Jo Bloggs"}, "email": {"jo.bloggs@test.nhs.uk"},
			"organisation_id": {"1"}, "roles": {"requester"}}, "name", "jo.bloggs@test.nhs.uk", 422},
		"user email": {admin, "/admin/users", url.Values{"name": {"Jo Bloggs"}, "email": {"jo@test.nhs.uk"},
			"organisation_id": {"1"}, "roles": {"requester"}}, "email", "Jo Bloggs", 422},
		"release": {central, "/releases", url.Values{"number": {"74"}, "name": {"Spring release"}, "target_date-day": {"1"},
			"target_date-month": {"4"}, "target_date-year": {"2027"}, "status": {"planned"}, "capacity_days": {"40"}}, "name", "Spring release", 422},
		"draft title": {requester, raiseStepPath(draft, "title"), url.Values{"sr_number": {"SR-1234567"}, "title": {"Offer freed places"}},
			"title", "SR-1234567", 422},
		"draft details": {requester, raiseStepPath(draft, "details"), url.Values{"functional_area": {"Learning Management (OLM)"},
			"problem": {"Places stay empty"}, "proposal": {"Offer them"}}, "problem", "Offer them", 422},
		"sign-in password": {nil, "/sign-in", url.Values{"email": {requester.Email}, "password": {testPassword}}, "password", requester.Email, 422},
	}
	for name, tc := range cases {
		for what, bad := range badBytes {
			form := url.Values{}
			for k, v := range tc.form {
				form[k] = append([]string(nil), v...)
			}
			typed := form.Get(tc.field) + bad + " and more"
			form.Set(tc.field, typed)
			b := p.anonymous()
			if tc.who != nil {
				b = p.as(tc.who)
			}
			res := b.post(tc.path, form)
			if res.status >= 500 || res.status == 303 {
				t.Errorf("%s with %s: status %d\n%s", name, what, res.status, excerpt(res.body))
				continue
			}
			if tc.status != 0 && res.status != tc.status {
				t.Errorf("%s with %s: status %d, want %d\n%s", name, what, res.status, tc.status, excerpt(res.body))
				continue
			}
			if !strings.Contains(res.body, html.EscapeString("Remove the character shown as � (it cannot be saved)")) {
				t.Errorf("%s with %s: no error on the field\n%s", name, what, excerpt(res.body))
			}
			shown := strings.ReplaceAll(form.Get(tc.field), bad, strings.Repeat("�", len(bad)))
			if tc.field != "password" && !strings.Contains(res.body, html.EscapeString(shown)) { // a password is never sent back
				t.Errorf("%s with %s: what was typed in %s (%q) is not shown again", name, what, tc.field, shown)
			}
			if tc.kept != "" && !strings.Contains(res.body, html.EscapeString(tc.kept)) {
				t.Errorf("%s with %s: the other answer %q is not kept", name, what, tc.kept)
			}
		}
	}
	// The draft holding nothing bad, later saves go through.
	b := p.as(requester)
	draftAnswerAll(t, b, draft, "Offer freed places")
	if n, err := p.db.DB.NewSelect().Table("request_comments").Where("body LIKE '%and more%'").Count(t.Context()); err != nil || n != 0 {
		t.Errorf("%d comments with bad bytes saved (err %v)", n, err)
	}
}

// TestFormFieldNamesAndBodiesRefused: a field name with bad bytes, or a body that is not a form, is
// refused; a multipart form's values are cleaned like any other.
func TestFormFieldNamesAndBodiesRefused(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	b := p.as(u)
	r := raiseFor(t, p, u, "Odd bodies")

	form := url.Values{"body": {"fine"}, "x\x00y": {"1"}}
	res := b.post("/requests/"+r.Reference+"/comments", form)
	mustStatus(t, res, 400, "a field name with NUL")
	if !strings.Contains(res.body, "characters in it that the portal cannot use") {
		t.Errorf("the 400 page does not say why:\n%s", excerpt(res.body))
	}

	req := httptest.NewRequest("POST", "/requests/"+r.Reference+"/comments", strings.NewReader(`{"body":"a\u0000b"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf())
	for k, v := range b.cookies {
		req.Header.Add("Cookie", k+"="+v)
	}
	httpRes, err := p.app.Handler().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	httpRes.Body.Close()
	if httpRes.StatusCode != 415 {
		t.Errorf("a JSON body: %d, want 415", httpRes.StatusCode)
	}
}
