package app

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// rjPeople are the people the requirement and justification pages tell apart: the raiser (Thameside,
// London), the development team, the FAM of London and of another region, a requester of another
// organisation, the central team and an NSIG member of the request's NSIG.
type rjPeople struct {
	raiser, developer, famLondon, famElsewhere, otherOrg, central, nsig *identity.User
}

func newRJPeople(t *testing.T, p *testPortal) rjPeople {
	t.Helper()
	nsig := userIn(t, p, "nsig.member@trust.nhs.uk", "ZWA01", identity.RoleNSIGMember)
	if _, err := p.db.DB.NewRaw(`INSERT INTO user_nsigs (user_id, nsig_id, granted_at) SELECT ?, id, now() FROM nsigs WHERE name = 'Self Service and Portal'`,
		nsig.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	return rjPeople{
		raiser:       userIn(t, p, "raiser@trust.nhs.uk", "ZLN01", identity.RoleRequester),
		developer:    p.users[identity.RoleDevelopmentTeam],
		famLondon:    userIn(t, p, "fam.london@esr.nhs.uk", "ZLN02", identity.RoleFunctionalAccountManager),
		famElsewhere: userIn(t, p, "fam.northeast@esr.nhs.uk", "ZNE01", identity.RoleFunctionalAccountManager),
		otherOrg:     userIn(t, p, "other@trust.nhs.uk", "ZMD01", identity.RoleRequester),
		central:      p.users[identity.RoleCentralTeam],
		nsig:         nsig,
	}
}

// rjRequest raises a request as u and takes it to requirements and justification: the central team
// accepts it as an enhancement and u takes it forward.
func rjRequest(t *testing.T, p *testPortal, u *identity.User, title string) *request.Request {
	t.Helper()
	r := raiseFor(t, p, u, title)
	acceptTestRequest(t, p, r.Reference, p.clock.Now())
	return applyTestTransition(t, p, u, r.Reference, "progress", p.clock.Now(), request.Input{})
}

var hiddenVersion = regexp.MustCompile(`name="(?:version|base_version)" value="(\d+)"`)

// formVersion returns the version a page's form was made from.
func formVersion(t *testing.T, body string) string {
	t.Helper()
	m := hiddenVersion.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no version on the page:\n%s", excerpt(body))
	}
	return m[1]
}

// upload sends a file in a multipart form with a valid CSRF token, as the justification page's upload
// form does.
func (b *browser) upload(path, filename string, content []byte) response {
	b.p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("_csrf", b.csrf()); err != nil {
		b.p.t.Fatal(err)
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			b.p.t.Fatal(err)
		}
		if _, err := fw.Write(content); err != nil {
			b.p.t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		b.p.t.Fatal(err)
	}
	req := httptest.NewRequest("POST", path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := b.p.app.Handler().Test(req, -1)
	if err != nil {
		b.p.t.Fatalf("upload to %s: %v", path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.p.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func TestRequirementPages(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	who := newRJPeople(t, p)
	r := rjRequest(t, p, who.raiser, "Expiry reminders for competences")
	path := "/requests/" + r.Reference + "/requirement"
	raiser, developer := p.as(who.raiser), p.as(who.developer)

	res := raiser.get(path)
	mustStatus(t, res, 200, "requirement page before anything is written")
	mustContain(t, res.body, "requirement page", "Nothing has been written yet", "Write the requirement definition", `name="base_version" value="0"`)
	mustContain(t, raiser.get("/requests/"+r.Reference).body, "request page", "Requirement definition and business justification", path, "Not written yet")

	// Nothing typed: 422 with the error linked to the field.
	res = raiser.post(path, url.Values{"base_version": {"0"}, "body": {"  "}})
	mustStatus(t, res, 422, "empty requirement")
	mustContain(t, res.body, "422 page", `href="#body"`, "Enter the requirement definition", "<title>Error: ")

	mustStatus(t, raiser.post(path, url.Values{"base_version": {"0"}, "body": {"Remind employees 90 days before a competence expires."}}), 303, "first version")
	mustStatus(t, developer.post(path, url.Values{"base_version": {"1"}, "body": {"Remind employees 90, 60 and 30 days before a competence expires.\nEmail their manager too."}}), 303, "second version")

	// A save based on version 1 after version 2: 409 with both texts and a form to save it again.
	res = raiser.post(path, url.Values{"base_version": {"1"}, "body": {"A stale edit from the raiser"}})
	mustStatus(t, res, 409, "stale save")
	mustContain(t, res.body, "conflict page", "Someone else changed the requirement definition", "Email their manager too.",
		"A stale edit from the raiser", `name="base_version" value="2"`, "Save yours as version 3", "<del>", "<ins>")

	// Both sides agree version 2.
	res = raiser.get(path)
	mustContain(t, res.body, "requirement page", "Version 2", "Agree version 2 for the requester")
	mustStatus(t, raiser.post(path+"/agree", url.Values{"version": {"2"}}), 303, "the raiser agrees")
	mustContain(t, raiser.get(path).body, "after agreeing", "You have agreed version 2 for the requester. It now needs agreeing by the development team.")
	res = developer.get(path)
	mustContain(t, res.body, "after the raiser agreed", "Agree version 2 for the development team")
	mustStatus(t, developer.post(path+"/agree", url.Values{"version": {"2"}}), 303, "the developer agrees")
	res = raiser.get(path)
	mustContain(t, res.body, "agreed page", "Agreed by both sides")
	if strings.Contains(res.body, "Agree version 2") {
		t.Error("the raiser is still offered the agreement")
	}
	mustContain(t, raiser.get("/requests/"+r.Reference).body, "request page", "Version 2, agreed by both sides")

	// An edit clears the agreement, and says so.
	mustStatus(t, developer.post(path, url.Values{"base_version": {"2"}, "body": {"Remind employees 90, 60 and 30 days before a competence expires.\nEmail their manager at 30 days."}}), 303, "third version")
	res = raiser.get(path)
	mustContain(t, res.body, "after an edit", "Version 3", "The agreement no longer applies", "Needs to agree again", "Agree version 3 for the requester")
	// An agreement to version 2 now is a conflict that shows what changed.
	res = raiser.post(path+"/agree", url.Values{"version": {"2"}})
	mustStatus(t, res, 409, "stale agreement")
	mustContain(t, res.body, "stale agreement", "your agreement to version 2 was not recorded", "Email their manager at 30 days.")

	// Versions and their comparison.
	res = raiser.get(path + "/versions/3?compare=1")
	mustStatus(t, res, 200, "comparison")
	// The first line changed by four words shows those words added, not the line struck through and
	// written again; the new line is added whole.
	mustContain(t, res.body, "comparison", "What changed from version 1 to version 3",
		`Changed: </span>Remind employees 90<ins><span class="nhsuk-u-visually-hidden">[added: </span>, 60 and 30<span class="nhsuk-u-visually-hidden">]</span></ins> days before a competence expires.`,
		`<ins><span aria-hidden="true">+ </span><span class="nhsuk-u-visually-hidden">Added: </span>Email their manager at 30 days.</ins>`)
	if strings.Contains(res.body, "<del>") {
		t.Error("the comparison strikes through text that was kept")
	}
	mustStatus(t, raiser.get(path+"/versions/9"), 404, "a version that does not exist")
	mustStatus(t, raiser.get(path+"/versions/3?compare=7"), 404, "comparison with a version that does not exist")

	// Who may see and change it.
	mustStatus(t, p.as(who.otherOrg).get(path), 404, "another organisation's requester")
	mustStatus(t, p.as(who.famElsewhere).get(path), 404, "the FAM of another region")
	mustStatus(t, p.as(who.otherOrg).get(path+"/versions/1"), 404, "another organisation's requester, a version")
	fam := p.as(who.famLondon)
	res = fam.get(path)
	mustStatus(t, res, 200, "the region's FAM reads it")
	if strings.Contains(res.body, `name="body"`) || strings.Contains(res.body, "/requirement/agree") {
		t.Error("the FAM is offered the edit or agreement form")
	}
	mustStatus(t, fam.post(path, url.Values{"base_version": {"3"}, "body": {"FAM text"}}), 403, "the FAM saves")
	mustStatus(t, p.as(who.central).post(path+"/agree", url.Values{"version": {"3"}}), 403, "the central team agrees")
	mustStatus(t, p.as(who.nsig).post(path, url.Values{"base_version": {"3"}, "body": {"NSIG text"}}), 403, "an NSIG member of another organisation saves")

	// Timeline and notifications: the raiser was told of the developer's saves and agreement.
	var told int
	if err := p.db.DB.NewSelect().Table("notifications").ColumnExpr("count(*)").Where("user_id = ? AND event = 'requirements'", who.raiser.ID).Scan(t.Context(), &told); err != nil {
		t.Fatal(err)
	}
	if told != 3 {
		t.Errorf("the raiser was told %d times, want 3", told)
	}
	mustContain(t, raiser.get("/requests/"+r.Reference).body, "timeline", "Version 3 of the requirement definition was saved", "Version 2 had been agreed")
}

func TestRequirementReadOnlyOutsideItsStatus(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	who := newRJPeople(t, p)
	r := raiseFor(t, p, who.raiser, "Still in triage")
	path := "/requests/" + r.Reference + "/requirement"
	res := p.as(who.raiser).get(path)
	mustStatus(t, res, 200, "requirement page in triage")
	mustContain(t, res.body, "read-only page", "can no longer be changed")
	if strings.Contains(res.body, `name="body"`) {
		t.Error("the edit form is offered in triage")
	}
	res = p.as(who.raiser).post(path, url.Values{"base_version": {"0"}, "body": {"Too early"}})
	mustStatus(t, res, 422, "save in triage")
	mustContain(t, res.body, "save in triage", "can no longer be changed", "Too early")
	if body := p.as(who.raiser).get("/requests/" + r.Reference).body; strings.Contains(body, "Requirement definition and business justification") {
		t.Error("the request page shows the requirement section before the request is taken forward")
	}
}

func TestContentDisposition(t *testing.T) {
	cases := map[string]string{
		"Business case.pdf":      `attachment; filename="Business case.pdf"; filename*=UTF-8''Business%20case.pdf`,
		"Évaluation “final”.pdf": `attachment; filename="_valuation _final_.pdf"; filename*=UTF-8''%C3%89valuation%20%E2%80%9Cfinal%E2%80%9D.pdf`,
		`a"b\c;d.png`:            `attachment; filename="a_b_c;d.png"; filename*=UTF-8''a%22b%5Cc%3Bd.png`,
	}
	for in, want := range cases {
		if got := contentDisposition(in); got != want {
			t.Errorf("contentDisposition(%q) =\n%s\nwant\n%s", in, got, want)
		}
	}
	if got := strings.Join([]string{fileSize(850), fileSize(12 * 1024), fileSize(3 * 1024 * 1024 / 2)}, ", "); got != "850 bytes, 12 KB, 1.5 MB" {
		t.Errorf("file sizes %s", got)
	}
}
