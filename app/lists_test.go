package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/catalogue"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
)

func roleForm(token, name, level, wellbeing string) url.Values {
	return url.Values{"token": {token}, "role_name": {name}, "duties": {"Leads on it in their team."}, "input_level": {level},
		"wellbeing": {wellbeing}, "justification": {"National guidance asks for it."}, "benefits": {"Coverage reporting."},
		"organisations": {"Most acute trusts"}}
}

func TestRaiseSupplementaryRoleOverHTTP(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	b := p.as(p.users[identity.RoleRequester])
	mustStatus(t, b.get("/supplementary-roles/request"), 200, "the form")

	// Employee input for a role not linked to wellbeing: refused, with the rule, keeping the answers.
	res := b.post("/supplementary-roles/request", roleForm(testUUID(t), "Car Park Marshal", "employee", "no"))
	mustStatus(t, res, 422, "employee input without wellbeing")
	if !strings.Contains(res.body, "Employee input is only for roles linked to the wellbeing agenda") || !strings.Contains(res.body, `value="Car Park Marshal"`) {
		t.Errorf("the refusal does not explain the rule or keep the answers:\n%s", excerpt(res.body))
	}
	// A role already on the list: the check page warns.
	if _, err := catalogue.AddRole(ctx, p.db.DB, catalogue.Role{Name: "First Aider", InputLevel: "manager", AddedAt: p.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	res = b.post("/supplementary-roles/request", roleForm(testUUID(t), "first aider", "manager", "no"))
	mustStatus(t, res, 200, "check your answers")
	if !strings.Contains(res.body, "This role is already on the list") || !strings.Contains(res.body, "“First Aider”") {
		t.Errorf("no warning that the role is listed:\n%s", excerpt(res.body))
	}

	// Sent twice with the same token, it raises one request.
	form := roleForm(testUUID(t), "Menopause Champion", "employee", "yes")
	for range 2 {
		res = b.post("/supplementary-roles/request/submit", form)
		mustStatus(t, res, 303, "submit")
		if loc := res.header.Get("Location"); loc != "/requests/SRR-2026-0001/raised" {
			t.Fatalf("submit goes to %s", loc)
		}
	}
	n, err := p.db.DB.NewSelect().Table("requests").Where("kind = 'supplementary_role'").Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("%d role requests (%v), want 1", n, err)
	}
	res = b.get("/requests/SRR-2026-0001/raised")
	mustStatus(t, res, 200, "confirmation")
	if !strings.Contains(res.body, "SRR-2026-0001") || !strings.Contains(res.body, "Friday 27 November 2026") {
		t.Errorf("confirmation:\n%s", excerpt(res.body))
	}
	res = b.get("/requests/SRR-2026-0001")
	mustStatus(t, res, 200, "request page")
	for _, want := range []string{"Menopause Champion", "Supplementary role request", "Who records it in ESR", "Employee", "Coverage reporting.", "Withdraw this request"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the request page does not show %q", want)
		}
	}
	// A second open request for it: the check page warns, naming the first.
	res = b.post("/supplementary-roles/request", roleForm(testUUID(t), "Menopause Champions", "employee", "yes"))
	if !strings.Contains(res.body, "A similar request is open") || !strings.Contains(res.body, "SRR-2026-0001") {
		t.Errorf("no warning of the open request:\n%s", excerpt(res.body))
	}
}

// TestListRequestPagesFollowRecordAccess: another organisation may not see a list request before its
// decision (404, as for a missing one), and sees its summary once approved; the central team acts on
// it from the request page.
func TestListRequestPagesFollowRecordAccess(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	raiser := p.as(p.users[identity.RoleRequester])
	other := p.as(testUserAt(t, p, "other@test.nhs.uk", "Other Org", "ZNW01", identity.RoleRequester))
	central := p.as(p.users[identity.RoleCentralTeam])
	form := url.Values{"token": {testUUID(t)}, "competence_name": {"Sepsis Awareness"}, "framework": {"MAND"}, "renewal_years": {"1"},
		"national_learning": {"Sepsis e-learning"}, "staff_groups": {"Nurses"}, "justification": {"Saves lives."}}
	res := raiser.post("/competences/request", form)
	mustStatus(t, res, 200, "check your answers")
	if !strings.Contains(res.body, "NHS|MAND|Sepsis Awareness - 1 Year|") {
		t.Errorf("the check page does not show the label:\n%s", excerpt(res.body))
	}
	mustStatus(t, raiser.post("/competences/request/submit", form), 303, "submit")
	ref := "NCR-2026-0001"

	mustStatus(t, other.get("/requests/"+ref), 404, "another organisation before the decision")
	mustStatus(t, other.get("/requests/"+ref+"/raised"), 404, "another organisation's confirmation")
	mustStatus(t, other.post("/requests/"+ref+"/comments", url.Values{"body": {"hello"}}), 404, "another organisation comments")
	if res := other.get("/requests?kind=national_competency"); strings.Contains(res.body, ref) {
		t.Error("another organisation lists it before the decision")
	}

	res = central.get("/competences/queue")
	mustStatus(t, res, 200, "queue")
	if !strings.Contains(res.body, ref) || strings.Contains(res.body, "SRR-") {
		t.Errorf("the competency queue:\n%s", excerpt(res.body))
	}
	version := func() string {
		var v int
		if err := p.db.DB.NewSelect().Table("requests").Column("version").Where("reference = ?", ref).Scan(ctx, &v); err != nil {
			t.Fatal(err)
		}
		return strconv.Itoa(v)
	}
	mustStatus(t, central.post("/requests/"+ref+"/actions/acknowledge", url.Values{"version": {version()}}), 303, "start the review")
	mustStatus(t, raiser.get("/requests/"+ref+"/actions/approve"), 403, "the raiser may not approve")
	stale := version()
	mustStatus(t, central.post("/requests/"+ref+"/actions/request_information", url.Values{"version": {stale}, "text": {"Which course?"}}), 303, "ask")
	mustStatus(t, raiser.post("/requests/"+ref+"/actions/answer", url.Values{"version": {version()}, "text": {"The e-LfH one."}}), 303, "answer")
	res = central.post("/requests/"+ref+"/actions/reject", url.Values{"version": {stale}, "text": {"Not national enough"}})
	mustStatus(t, res, 409, "a form made before the question and answer")
	if !strings.Contains(res.body, "Not national enough") || !strings.Contains(res.body, "back under review") {
		t.Errorf("the conflict page does not show what changed and keep what was typed:\n%s", excerpt(res.body))
	}
	mustStatus(t, central.post("/requests/"+ref+"/actions/approve", url.Values{"version": {version()}, "text": {"Good"}}), 303, "approve")

	res = other.get("/requests/" + ref)
	mustStatus(t, res, 200, "another organisation after approval")
	if !strings.Contains(res.body, "You can see the summary of this request") || strings.Contains(res.body, "Saves lives.") || strings.Contains(res.body, "Timeline") {
		t.Errorf("another organisation sees more than the summary:\n%s", excerpt(res.body))
	}
	res = other.get("/competences?q=sepsis")
	if !strings.Contains(res.body, "NHS|MAND|Sepsis Awareness - 1 Year|") || !strings.Contains(res.body, `href="/requests/`+ref+`"`) {
		t.Errorf("the list does not link the new competence to its request:\n%s", excerpt(res.body))
	}
}

func TestListExports(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	now := p.clock.Now()
	if _, err := catalogue.AddRole(ctx, p.db.DB, catalogue.Role{Name: "=HYPERLINK(\"http://x\")", InputLevel: "manager", Duties: "-1+2", AddedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := catalogue.AddRole(ctx, p.db.DB, catalogue.Role{Name: "Hyrwyddwr Lles (Cymraeg)", InputLevel: "employee", Wellbeing: true, Duties: "ŵ ŷ", AddedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := catalogue.AddCompetence(ctx, p.db.DB, catalogue.Competence{Name: "Fire Safety", Framework: "CSTF", RenewalYears: 2, AddedAt: now}); err != nil {
		t.Fatal(err)
	}
	b := p.as(p.users[identity.RoleAdmin])

	res := b.get("/supplementary-roles/export.csv")
	mustStatus(t, res, 200, "roles CSV")
	if !strings.HasPrefix(res.body, utf8BOM) || res.header.Get("Content-Disposition") != `attachment; filename="supplementary-roles-2026-11-20.csv"` {
		t.Errorf("CSV without a BOM or with the wrong file name: %q", res.header.Get("Content-Disposition"))
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, utf8BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Role", "Input level", "Linked to the wellbeing agenda", "Duties", "Request", "Added"},
		{`'=HYPERLINK("http://x")`, "Manager", "No", "'-1+2", "", "2026-11-20"},
		{"Hyrwyddwr Lles (Cymraeg)", "Employee", "Yes", "ŵ ŷ", "", "2026-11-20"},
	}
	if !slices.EqualFunc(records, want, slices.Equal) {
		t.Errorf("roles CSV:\n%q\nwant\n%q", records, want)
	}
	res = b.get("/supplementary-roles/export.csv?q=lles")
	if strings.Contains(res.body, "HYPERLINK") || !strings.Contains(res.body, "Hyrwyddwr") {
		t.Error("the CSV export ignores the search")
	}

	res = b.get("/competences/export.xlsx?framework=CSTF")
	mustStatus(t, res, 200, "competences workbook")
	f, err := excelize.OpenReader(bytes.NewReader([]byte(res.body)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("NHS MAND competences")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][0] != "NHS|CSTF|Fire Safety - 2 Years|" || rows[1][3] != "2" || rows[0][0] != "ESR label" {
		t.Errorf("workbook rows %q", rows)
	}
}

// TestDemoListsSeedIdempotently: the starting lists and demo list requests are there once, however
// often the demo data is seeded.
func TestDemoListsSeedIdempotently(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	if _, err := seed.Demo(ctx, p.db.DB, p.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := seed.Requests(ctx, p.db.DB, p.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[string]int{}
	for _, q := range []string{"supplementary_roles", "competences"} {
		n, err := p.db.DB.NewSelect().Table(q).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		counts[q] = int(n)
	}
	for _, k := range []string{request.KindSupplementaryRole, request.KindNationalCompetency} {
		for _, s := range []request.Status{request.StatusApproved, request.StatusRejected, request.StatusUnderReview, request.StatusSubmitted, request.StatusInformationRequested, request.StatusWithdrawn} {
			n, err := p.db.DB.NewSelect().Table("requests").Where("kind = ? AND status = ?", k, s).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			counts[k+" "+string(s)] = int(n)
		}
	}
	// Nine roles (eight to start with, one approved), 19 competences (18 CSTF subjects, one approved).
	if counts["supplementary_roles"] != 9 || counts["competences"] != 19 {
		t.Errorf("lists: %v", counts)
	}
	for _, k := range []string{"supplementary_role approved", "supplementary_role rejected", "supplementary_role submitted",
		"national_competency approved", "national_competency under_review", "national_competency submitted"} {
		if counts[k] == 0 {
			t.Errorf("no demo %s request", k)
		}
	}
	roles, err := catalogue.Roles(ctx, p.db.DB, "Menopause")
	if err != nil || len(roles) != 1 || roles[0].RequestReference == "" {
		t.Errorf("Menopause Champion on the list: %+v %v", roles, err)
	}
}
