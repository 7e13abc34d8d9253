package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// requestInAssessment raises a request as the requester and takes it, through the domain, to impact
// assessment: triage, the requester's decision, an agreed requirement definition and a submitted
// business justification (inserted directly).
func requestInAssessment(t *testing.T, p *testPortal, title string) *request.Request {
	t.Helper()
	ctx := context.Background()
	raiser, central, dev := p.users[identity.RoleRequester], p.users[identity.RoleCentralTeam], p.users[identity.RoleDevelopmentTeam]
	r := raiseFor(t, p, raiser, title)
	for _, s := range []struct {
		who    *identity.User
		action string
	}{{central, "acknowledge"}, {central, "classify_enhancement"}, {raiser, "progress"}} {
		assessmentApply(t, p, s.who, r, s.action, request.Input{})
	}
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO requirement_versions (request_id, version, body, author_id, created_at) VALUES (?, 1, 'The change', ?, ?)`, []any{r.ID, raiser.ID, p.clock.Now()}},
		{`INSERT INTO requirement_agreements (request_id, side, version, user_id, agreed_at) VALUES (?, 'requester', 1, ?, ?), (?, 'development', 1, ?, ?)`,
			[]any{r.ID, raiser.ID, p.clock.Now(), r.ID, dev.ID, p.clock.Now()}},
		{`INSERT INTO business_justifications (request_id, submitted_at, updated_at) VALUES (?, ?, ?)`, []any{r.ID, p.clock.Now(), p.clock.Now()}},
	} {
		if _, err := p.db.DB.NewRaw(stmt.sql, stmt.args...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	assessmentApply(t, p, central, r, "submit_for_assessment", request.Input{})
	return r
}

// assessmentApply makes a transition as u through the domain, at the request's current version.
func assessmentApply(t *testing.T, p *testPortal, u *identity.User, r *request.Request, action string, in request.Input) {
	t.Helper()
	ctx := context.Background()
	v, err := request.ViewerFor(ctx, p.db.DB, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.db.DB.NewSelect().Table("requests").Column("version").Where("id = ?", r.ID).Scan(ctx, &in.Version); err != nil {
		t.Fatal(err)
	}
	if action == "classify_enhancement" && in.Summary == "" {
		in.Summary = "A change to ESR that every organisation may read about." // triage writes the public summary
	}
	if _, err := request.Apply(ctx, p.db.DB, request.Env{Now: p.clock.Now(), Calendar: p.app.calendar}, v, audit.Actor{Name: "test"}, r.Reference, action, in); err != nil {
		t.Fatalf("%s %s: %v", action, r.Reference, err)
	}
}

// completedAssessment is the form of a whole assessment, made from version.
func completedAssessment(version int) url.Values {
	return url.Values{"version": {fmt.Sprint(version)}, "effort_size": {"M"}, "effort_days": {"12.5"}, "modules": {"Self Service", "Payroll"},
		"interfaces": {"GP Practice interface"}, "risks": {"Payroll cut-off in March"}, "dependencies": {"None"}, "cost": {"12,500"},
		"recommendation": {"approve"}, "notes": {"Straightforward"}, "action": {"complete"}}
}

// mustLack fails the test when the page shows any of unwanted.
func mustLack(t *testing.T, body, what string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s shows %q", what, w)
		}
	}
}

func TestAssessmentFormValidationConflictAndCompletion(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	r := requestInAssessment(t, p, "Assess this change")
	path := "/requests/" + r.Reference + "/assessment"
	dev, central, raiser := p.as(p.users[identity.RoleDevelopmentTeam]), p.as(p.users[identity.RoleCentralTeam]), p.as(p.users[identity.RoleRequester])

	res := dev.get(path)
	mustStatus(t, res, 200, "the developer's assessment page")
	mustContain(t, res.body, "the developer's form", "Not started", `name="effort_size"`, `value="Self Service"`, "Complete assessment", "Save as a draft", `name="assessor_id"`)
	res = central.get(path)
	mustStatus(t, res, 200, "the central team's assessment page")
	mustLack(t, res.body, "the central team's page", `name="effort_size"`, "Complete assessment")
	mustContain(t, res.body, "the central team's page", "Not started", `name="assessor_id"`)
	mustStatus(t, raiser.get(path), 403, "the requester's assessment page")

	// Completing with a bad cost, negative days and no risks: 422, with everything typed kept.
	bad := url.Values{"version": {"0"}, "effort_size": {"L"}, "effort_days": {"-3"}, "modules": {"Payroll"}, "interfaces": {"ESR to GP link"},
		"cost": {"twelve thousand"}, "recommendation": {"defer"}, "action": {"complete"}}
	res = dev.post(path, bad)
	mustStatus(t, res, 422, "completing an incomplete assessment")
	mustContain(t, res.body, "the 422 page", "There is a problem",
		`<a href="#effort_days">Effort in days must be 0 or more</a>`,
		`<a href="#risks">Describe the risks</a>`,
		`<a href="#cost">Enter the cost in pounds, like 12,500 or 12500.50</a>`,
		`value="twelve thousand"`, `value="-3"`, "ESR to GP link")
	if !checkbox(t, res.body, "recommendation-2") || !checkbox(t, res.body, "effort_size-3") {
		t.Error("the chosen recommendation or effort size was lost")
	}
	if strings.Index(res.body, `href="#effort_days"`) > strings.Index(res.body, `href="#cost"`) {
		t.Error("the errors are not in the order of the form")
	}

	// A draft needs nothing; "12,500" is £12,500.
	res = dev.post(path, url.Values{"version": {"0"}, "effort_size": {"L"}, "cost": {"12,500"}, "risks": {"Cut-off"}, "action": {"save"}})
	mustStatus(t, res, 303, "save a draft")
	if loc := res.header.Get("Location"); loc != path {
		t.Errorf("a draft goes to %s", loc)
	}
	res = dev.get(path)
	mustContain(t, res.body, "the saved draft", "Impact assessment saved as a draft", "Draft, last saved", `value="12,500"`, "Cut-off")

	// A save from a form made before the draft: 409 with their version and what was typed.
	stale := completedAssessment(0)
	stale.Set("risks", "My stale risks")
	res = dev.post(path, stale)
	mustStatus(t, res, 409, "a stale save")
	mustContain(t, res.body, "the conflict page", "Someone else changed this impact assessment", "The assessment as it is now", "What you typed",
		"Cut-off", "£12,500", "My stale risks", `name="version" value="1"`)
	// Sending it again, from the version the conflict page shows, completes it.
	res = dev.post(path, completedAssessment(1))
	mustStatus(t, res, 303, "complete")
	if loc := res.header.Get("Location"); loc != "/requests/"+r.Reference {
		t.Errorf("completing goes to %s", loc)
	}

	res = central.get("/requests/" + r.Reference)
	mustContain(t, res.body, "the central team's request page", "Impact assessment", "M (Medium), 12.5 days", "£12,500", "Approve",
		"Payroll cut-off in March", "Open the impact assessment", "Impact assessment completed: recommendation to approve.")
	res = raiser.get("/requests/" + r.Reference)
	mustContain(t, res.body, "the requester's request page", "Impact assessment completed: recommendation to approve.")
	mustLack(t, res.body, "the requester's request page", "Open the impact assessment", "Payroll cut-off in March", "draft saved")
}

func TestAssessorAssignment(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	r := requestInAssessment(t, p, "Who assesses this")
	dev := p.users[identity.RoleDevelopmentTeam]
	central := p.as(p.users[identity.RoleCentralTeam])
	path := "/requests/" + r.Reference

	res := central.post(path+"/assessment/assessor", url.Values{"from": {""}, "assessor_id": {fmt.Sprint(p.users[identity.RoleAdmin].ID)}, "back": {"request"}})
	mustStatus(t, res, 422, "assign someone outside the development team")
	mustContain(t, res.body, "the request page with the error", `<a href="#assessor_id">Select a member of the development team</a>`, "Who assesses this")

	res = central.post(path+"/assessment/assessor", url.Values{"from": {""}, "assessor_id": {fmt.Sprint(dev.ID)}, "back": {"request"}})
	mustStatus(t, res, 303, "assign the developer")
	if loc := res.header.Get("Location"); loc != path {
		t.Errorf("back to %s", loc)
	}
	mustContain(t, central.get(path).body, "the request page", "Test Development team", "Assessor saved")
	var n int
	if err := p.db.DB.NewSelect().Table("notifications").ColumnExpr("count(*)").Where("user_id = ? AND link = ?", dev.ID, path+"/assessment").Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the assessor was told %d times, want once", n)
	}
	// A form that still shows nobody is stale.
	mustStatus(t, central.post(path+"/assessment/assessor", url.Values{"from": {""}, "assessor_id": {""}, "back": {"assessment"}}), 409, "stale assignment")
	// The developer can hand it back from the assessment page.
	res = p.as(dev).post(path+"/assessment/assessor", url.Values{"from": {fmt.Sprint(dev.ID)}, "assessor_id": {""}, "back": {"assessment"}})
	mustStatus(t, res, 303, "unassign")
	if loc := res.header.Get("Location"); loc != path+"/assessment" {
		t.Errorf("back to %s", loc)
	}
}

func TestAssessmentsQueue(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	mine := requestInAssessment(t, p, "Assigned to the developer")
	nobody := requestInAssessment(t, p, "Not assigned to anyone yet")
	raiseFor(t, p, p.users[identity.RoleRequester], "Still in triage")
	dev := p.users[identity.RoleDevelopmentTeam]
	v, err := request.ViewerFor(t.Context(), p.db.DB, p.users[identity.RoleCentralTeam])
	if err != nil {
		t.Fatal(err)
	}
	if err := request.AssignAssessor(t.Context(), p.db.DB, v, audit.Actor{Name: "test"}, p.clock.Now(), mine.Reference, 0, dev.ID); err != nil {
		t.Fatal(err)
	}
	p.clock.Advance(72 * time.Hour) // three days later

	res := p.as(dev).get("/assessments")
	mustStatus(t, res, 200, "the queue")
	mustContain(t, res.body, "the queue", "Waiting for my assessment", "1 assigned to you", "1 not assigned to anyone", "3 days", "Not started",
		`href="/requests/`+mine.Reference+`/assessment"`, `href="/requests/`+nobody.Reference+`/assessment"`)
	mustLack(t, res.body, "the queue", "Still in triage")
	if strings.Index(res.body, mine.Reference) > strings.Index(res.body, nobody.Reference) {
		t.Error("the unassigned request comes before the one assigned to me")
	}
	if res := p.as(dev).get("/"); !strings.Contains(res.body, `href="/assessments"`) {
		t.Error("the development team's navigation has no link to the queue")
	}
}
