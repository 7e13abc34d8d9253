package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

var draftLocation = regexp.MustCompile(`^/requests/drafts/([0-9a-f-]{36})/title$`)

// draftStart presses Start on the start page and returns the new draft's id.
func draftStart(t *testing.T, b *browser) string {
	t.Helper()
	res := b.post("/requests/drafts", nil)
	mustStatus(t, res, 303, "start a draft")
	m := draftLocation.FindStringSubmatch(res.header.Get("Location"))
	if m == nil {
		t.Fatalf("starting a draft goes to %q", res.header.Get("Location"))
	}
	return m[1]
}

// draftAnswers are valid answers to every question page, by page.
func draftAnswers(title string) map[string]url.Values {
	return map[string]url.Values{
		"title":    {"sr_number": {" sr-1234567 "}, "title": {title}},
		"details":  {"functional_area": {"Learning Management (OLM)"}, "problem": {"Places freed by cancellations\r\nstay empty."}, "proposal": {"Offer freed places to the waiting list by email."}},
		"affected": {"affected_users": {"employee", "professional_user"}, "affected_detail": {"Learners and training administrators"}},
		"urgency":  {"urgency": {"high"}, "urgency_reason": {"Statutory training compliance targets"}},
	}
}

// draftAnswerAll answers every question page of the draft, checking where each one leads.
func draftAnswerAll(t *testing.T, b *browser, id, title string) {
	t.Helper()
	answers := draftAnswers(title)
	for i, step := range raiseSteps {
		res := b.post(raiseStepPath(id, step), answers[step])
		mustStatus(t, res, 303, "answer "+step)
		next := "check"
		if i+1 < len(raiseSteps) {
			next = raiseSteps[i+1]
		}
		if got := res.header.Get("Location"); got != raiseStepPath(id, next) {
			t.Fatalf("after %s: to %s, want %s", step, got, raiseStepPath(id, next))
		}
	}
}

func mustContain(t *testing.T, body, what string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func countRequests(t *testing.T, p *testPortal) int {
	t.Helper()
	var n int
	if err := p.db.DB.NewSelect().Table("requests").ColumnExpr("count(*)").Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRaiseEnhancementJourney(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	b := p.as(p.users[identity.RoleRequester])

	res := b.get("/requests/new")
	mustStatus(t, res, 200, "start page")
	mustContain(t, res.body, "start page", "<h1>Raise an enhancement request</h1>", "within 5 working days", "Service Desk SR number",
		`<form action="/requests/drafts" method="post" novalidate>`, `name="_csrf"`, "Start now")

	id := draftStart(t, b)
	title := raiseStepPath(id, "title")

	// The title page, then two kinds of bad answer: each comes back with 422, the summary, inline
	// errors and what was typed.
	res = b.get(title)
	mustStatus(t, res, 200, "title page")
	mustContain(t, res.body, "title page", `<a class="nhsuk-back-link" href="/requests/new">`, "<h1>About your request</h1>",
		`action="`+title+`"`, "novalidate", `id="sr_number"`, `id="title"`)
	long := strings.Repeat("x", 121)
	res = b.post(title, url.Values{"sr_number": {""}, "title": {long}})
	mustStatus(t, res, 422, "no SR number and a long title")
	mustContain(t, res.body, "title page with errors", "<title>Error: ", "There is a problem",
		`<a href="#sr_number">Enter the Service Desk SR number</a>`, `<a href="#title">Title must be 120 characters or fewer</a>`,
		`id="sr_number-error"`, `id="title-error"`, `value="`+long+`"`)
	res = b.post(title, url.Values{"sr_number": {"SR 12/34"}, "title": {"Offer OLM waiting-list places automatically"}})
	mustStatus(t, res, 422, "an SR number with spaces and a slash")
	mustContain(t, res.body, "title page with a bad SR number", "Service Desk SR number must only include letters, numbers and hyphens",
		`value="SR 12/34"`, `value="Offer OLM waiting-list places automatically"`)
	if strings.Contains(res.body, `href="#title"`) {
		t.Error("the valid title is reported as an error")
	}

	// The details page.
	answers := draftAnswers("Offer OLM waiting-list places automatically")
	mustStatus(t, b.post(title, answers["title"]), 303, "valid title")
	details := raiseStepPath(id, "details")
	res = b.get(details)
	mustStatus(t, res, 200, "details page")
	mustContain(t, res.body, "details page", `href="`+title+`"`, "<h1>Describe the change</h1>", `<option value="Payroll">Payroll</option>`,
		"You can enter up to 5000 characters")
	if strings.Contains(res.body, "Requests that look similar") {
		t.Error("similar requests are suggested when there are none")
	}
	res = b.post(details, url.Values{"functional_area": {""}, "problem": {"Typed problem"}, "proposal": {"  "}})
	mustStatus(t, res, 422, "details without an area or proposal")
	mustContain(t, res.body, "details page with errors", `<a href="#functional_area">Select the functional area</a>`,
		`<a href="#proposal">Describe what you want to change</a>`, ">Typed problem</textarea>")
	res = b.post(details, url.Values{"functional_area": {"Astrology"}, "problem": {"P"}, "proposal": {"Q"}})
	mustStatus(t, res, 422, "an area not on the list")
	mustContain(t, res.body, "details page with an unknown area", "Select the functional area from the list")
	res = b.post(details, url.Values{"functional_area": {"Payroll"}, "problem": {strings.Repeat("p", 5001)}, "proposal": {"Q"}})
	mustStatus(t, res, 422, "a problem too long")
	mustContain(t, res.body, "details page with a long problem", "The problem today must be 5000 characters or fewer", `<option value="Payroll" selected>`)
	mustStatus(t, b.post(details, answers["details"]), 303, "valid details")

	// Who is affected.
	affected := raiseStepPath(id, "affected")
	res = b.get(affected)
	mustStatus(t, res, 200, "affected page")
	mustContain(t, res.body, "affected page", `href="`+details+`"`, `<h1 class="nhsuk-fieldset__heading">Who would the change affect?</h1>`)
	res = b.post(affected, url.Values{"affected_detail": {"About 300 learners"}})
	mustStatus(t, res, 422, "nobody affected")
	mustContain(t, res.body, "affected page with errors", `<a href="#affected_users">Select who is affected</a>`, ">About 300 learners</textarea>")
	res = b.post(affected, url.Values{"affected_users": {"employee", "robots"}})
	mustStatus(t, res, 422, "a group not on the list")
	mustContain(t, res.body, "affected page with an unknown group", "Select who is affected from the list", `value="employee" checked`)
	mustStatus(t, b.post(affected, answers["affected"]), 303, "valid affected")

	// Urgency.
	urgency := raiseStepPath(id, "urgency")
	res = b.get(urgency)
	mustStatus(t, res, 200, "urgency page")
	mustContain(t, res.body, "urgency page", `href="`+affected+`"`, `<h1 class="nhsuk-fieldset__heading">How urgent is it?</h1>`,
		"A statutory or mandatory deadline depends on it")
	res = b.post(urgency, url.Values{})
	mustStatus(t, res, 422, "no urgency")
	mustContain(t, res.body, "urgency page with errors", `<a href="#urgency">Select how urgent it is</a>`)
	res = b.post(urgency, url.Values{"urgency": {"critical"}, "urgency_reason": {" "}})
	mustStatus(t, res, 422, "critical without a reason")
	mustContain(t, res.body, "urgency page without a reason", `<a href="#urgency_reason">Explain why it is urgent</a>`, `value="critical" checked`)
	mustStatus(t, b.post(urgency, url.Values{"urgency": {"low"}}), 303, "low needs no reason")
	mustStatus(t, b.post(urgency, answers["urgency"]), 303, "valid urgency")

	// Check your answers shows every answer, each with a Change link that comes back here.
	check := raiseStepPath(id, "check")
	res = b.get(check)
	mustStatus(t, res, 200, "check page")
	mustContain(t, res.body, "check page", "<h1>Check your answers before raising your request</h1>", `href="`+urgency+`"`,
		"SR-1234567", "Offer OLM waiting-list places automatically", "Learning Management (OLM)", "Places freed by cancellations\nstay empty.",
		"Offer freed places to the waiting list by email.", "Employees (Employee Self Service)\nProfessional users (core ESR forms)",
		"Learners and training administrators", "High: significant risk", "Statutory training compliance targets",
		`href="`+title+`?return=check"`, `href="`+details+`?return=check"`, `href="`+affected+`?return=check"`, `href="`+urgency+`?return=check"`,
		`action="/requests/drafts/`+id+`/submit"`, "Raise request")
	if strings.Contains(res.body, "Managers and supervisors") {
		t.Error("the check page shows a group that was not chosen")
	}

	// Changing an answer from the check page returns to it.
	res = b.get(title + "?return=check")
	mustStatus(t, res, 200, "change the title")
	mustContain(t, res.body, "title page from check", `<a class="nhsuk-back-link" href="`+check+`">`, `action="`+title+`?return=check"`,
		`value="SR-1234567"`, "Save and return to your answers")
	res = b.post(title+"?return=check", url.Values{"sr_number": {"SR-1234567"}, "title": {""}})
	mustStatus(t, res, 422, "change to an empty title")
	mustContain(t, res.body, "title page from check with errors", `action="`+title+`?return=check"`, "Enter a title for your request")
	res = b.post(title+"?return=check", url.Values{"sr_number": {"SR-1234567"}, "title": {"Offer OLM class waiting-list places automatically"}})
	mustStatus(t, res, 303, "change the title")
	if got := res.header.Get("Location"); got != check {
		t.Fatalf("after changing the title: to %s, want %s", got, check)
	}
	mustContain(t, b.get(check).body, "check page after the change", "Offer OLM class waiting-list places automatically")

	// Raise it: ENH-2026-0001, due for acknowledgement five working days after Friday 20 November 2026.
	res = b.post("/requests/drafts/"+id+"/submit", nil)
	mustStatus(t, res, 303, "raise the request")
	if got := res.header.Get("Location"); got != "/requests/ENH-2026-0001/raised" {
		t.Fatalf("raising goes to %s", got)
	}
	res = b.get("/requests/ENH-2026-0001/raised")
	mustStatus(t, res, 200, "confirmation")
	mustContain(t, res.body, "confirmation", `<h1 class="nhsuk-panel__heading">Request raised</h1>`, "<strong>ENH-2026-0001</strong>",
		"What happens next", "by <strong>Friday 27 November 2026</strong>", "national policy", "in the portal and by email",
		`href="/requests/ENH-2026-0001"`, `href="/requests/new"`)

	ctx := context.Background()
	v, err := request.ViewerFor(ctx, p.db.DB, p.users[identity.RoleRequester])
	if err != nil {
		t.Fatal(err)
	}
	er, _, err := request.GetEnhancement(ctx, p.db.DB, v, "ENH-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	if er.Title != "Offer OLM class waiting-list places automatically" || er.SRNumber != "SR-1234567" || er.FunctionalArea != "Learning Management (OLM)" ||
		er.Problem != "Places freed by cancellations\nstay empty." || strings.Join(er.AffectedUsers, ",") != "employee,professional_user" ||
		er.Urgency != "high" || er.UrgencyReason != "Statutory training compliance targets" || er.SubmissionToken != id {
		t.Errorf("the request raised holds %+v %+v", er.Request, er.Enhancement)
	}
	if got := er.AckDueOn.Format("2006-01-02"); got != "2026-11-27" {
		t.Errorf("acknowledgement due %s, want 2026-11-27", got)
	}
	if _, err := request.GetDraft(ctx, p.db.DB, p.users[identity.RoleRequester].ID, id); err == nil {
		t.Error("the draft was kept after raising")
	}
	events, _, err := audit.List(ctx, p.db.DB, audit.Filter{Action: "request.raised"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].EntityID != "ENH-2026-0001" {
		t.Errorf("raising audited as %+v", events)
	}

	// Sending the form again, or going back to the draft's pages, shows the same request's confirmation.
	res = b.post("/requests/drafts/"+id+"/submit", nil)
	mustStatus(t, res, 303, "raise the same draft again")
	if got := res.header.Get("Location"); got != "/requests/ENH-2026-0001/raised" {
		t.Errorf("raising again goes to %s", got)
	}
	for _, path := range []string{check, title} {
		res = b.get(path)
		if res.status != 303 || res.header.Get("Location") != "/requests/ENH-2026-0001/raised" {
			t.Errorf("%s after raising: %d to %q", path, res.status, res.header.Get("Location"))
		}
	}
	if n := countRequests(t, p); n != 1 {
		t.Errorf("%d requests raised from one draft", n)
	}
}

// TestRaiseSameDraftTwiceBeforeItIsDeleted sends the last form twice as if both arrived before either
// finished: the draft still exists for the second, which finds the request by its token.
func TestRaiseSameDraftTwiceBeforeItIsDeleted(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleNSIGMember] // an NSIG member may raise requests too
	b := p.as(u)
	id := draftStart(t, b)
	draftAnswerAll(t, b, id, "Welsh-language field labels on the online payslip")
	ctx := context.Background()
	d, err := request.GetDraft(ctx, p.db.DB, u.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := request.ViewerFor(ctx, p.db.DB, u)
	if err != nil {
		t.Fatal(err)
	}
	first, err := request.RaiseEnhancement(ctx, p.db.DB, p.app.calendar, v, audit.Actor{Name: "test"}, p.clock.Now(), d.Data.NewEnhancement(id))
	if err != nil {
		t.Fatal(err)
	}
	res := b.post("/requests/drafts/"+id+"/submit", nil)
	mustStatus(t, res, 303, "raise a draft already raised")
	if got, want := res.header.Get("Location"), "/requests/"+first.Reference+"/raised"; got != want {
		t.Errorf("to %s, want %s", got, want)
	}
	if n := countRequests(t, p); n != 1 {
		t.Errorf("%d requests raised from one draft", n)
	}
	mustStatus(t, b.get("/requests/"+first.Reference+"/raised"), 200, "confirmation")
}

// TestRaiseCheckSendsToFirstUnansweredPage: the check page and the submission both send the user to
// the first page with a missing answer, and nothing is raised.
func TestRaiseCheckSendsToFirstUnansweredPage(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	b := p.as(p.users[identity.RoleRequester])
	id := draftStart(t, b)
	answers := draftAnswers("Remind managers of pay-step reviews")
	wantRedirect := func(res response, step, what string) {
		t.Helper()
		if res.status != 303 || res.header.Get("Location") != raiseStepPath(id, step) {
			t.Errorf("%s: %d to %q, want 303 to the %s page", what, res.status, res.header.Get("Location"), step)
		}
	}
	wantRedirect(b.get(raiseStepPath(id, "check")), "title", "check with nothing answered")
	mustStatus(t, b.post(raiseStepPath(id, "title"), answers["title"]), 303, "title")
	wantRedirect(b.get(raiseStepPath(id, "check")), "details", "check after the title")
	// Pages may be answered out of order; the first unanswered one is still where check sends you.
	mustStatus(t, b.post(raiseStepPath(id, "urgency"), answers["urgency"]), 303, "urgency")
	mustStatus(t, b.post(raiseStepPath(id, "details"), answers["details"]), 303, "details")
	wantRedirect(b.get(raiseStepPath(id, "check")), "affected", "check without who is affected")
	wantRedirect(b.post("/requests/drafts/"+id+"/submit", nil), "affected", "submit without who is affected")
	if n := countRequests(t, p); n != 0 {
		t.Fatalf("an incomplete draft raised %d requests", n)
	}
	mustStatus(t, b.post(raiseStepPath(id, "affected")+"?return=check", answers["affected"]), 303, "affected")
	mustStatus(t, b.get(raiseStepPath(id, "check")), 200, "check with every answer")
}

// TestRaiseDraftsArePrivate: a draft is its author's alone, and a confirmation its raiser's.
func TestRaiseDraftsArePrivate(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	owner := p.as(p.users[identity.RoleRequester])
	id := draftStart(t, owner)
	draftAnswerAll(t, owner, id, "Download P60 and P11D as PDF from the ESR app")

	other := p.as(p.users[identity.RoleNSIGMember]) // may raise requests, but not with someone else's draft
	for _, step := range append(append([]string{}, raiseSteps...), "check") {
		mustStatus(t, other.get(raiseStepPath(id, step)), 404, "another user opens "+step)
	}
	for _, step := range raiseSteps {
		mustStatus(t, other.post(raiseStepPath(id, step), draftAnswers("Hijacked")[step]), 404, "another user answers "+step)
	}
	mustStatus(t, other.post("/requests/drafts/"+id+"/submit", nil), 404, "another user raises the draft")
	if n := countRequests(t, p); n != 0 {
		t.Fatalf("another user raised %d requests from the draft", n)
	}
	d, err := request.GetDraft(context.Background(), p.db.DB, p.users[identity.RoleRequester].ID, id)
	if err != nil || d.Data.Title != "Download P60 and P11D as PDF from the ESR app" {
		t.Fatalf("the draft after another user's attempts: %+v, %v", d, err)
	}
	for _, bad := range []string{"42", "not-a-draft", "00000000-0000-4000-8000-000000000000"} {
		mustStatus(t, owner.get("/requests/drafts/"+bad+"/title"), 404, "draft "+bad)
	}

	mustStatus(t, owner.post("/requests/drafts/"+id+"/submit", nil), 303, "raise")
	mustStatus(t, owner.get("/requests/ENH-2026-0001/raised"), 200, "the raiser's confirmation")
	// A colleague of the same organisation may see the request, but the confirmation is the raiser's.
	colleague := p.as(p.createUser("colleague@test.nhs.uk", "Test Colleague", identity.RoleRequester))
	mustStatus(t, colleague.get("/requests/ENH-2026-0001/raised"), 404, "a colleague's confirmation")
	mustStatus(t, owner.get("/requests/ENH-2026-9999/raised"), 404, "confirmation of no request")
}

// TestRaiseNeedsRequesterRole: only requesters and NSIG members may raise requests.
func TestRaiseNeedsRequesterRole(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	id := draftStart(t, p.as(p.users[identity.RoleRequester]))
	nsig := p.as(p.users[identity.RoleNSIGMember])
	mustStatus(t, nsig.get("/requests/new"), 200, "an NSIG member opens the start page")
	draftStart(t, nsig)
	for _, role := range []string{identity.RoleFunctionalAccountManager, identity.RoleCentralTeam, identity.RoleDevelopmentTeam, identity.RoleAdmin} {
		b := p.as(p.users[role])
		mustStatus(t, b.get("/requests/new"), 403, role+" opens the start page")
		mustStatus(t, b.post("/requests/drafts", nil), 403, role+" starts a draft")
		for _, step := range raiseSteps {
			mustStatus(t, b.get(raiseStepPath(id, step)), 403, role+" opens "+step)
			mustStatus(t, b.post(raiseStepPath(id, step), draftAnswers("X")[step]), 403, role+" answers "+step)
		}
		mustStatus(t, b.get(raiseStepPath(id, "check")), 403, role+" checks answers")
		mustStatus(t, b.post("/requests/drafts/"+id+"/submit", nil), 403, role+" raises")
		mustStatus(t, b.get("/requests/ENH-2026-0001/raised"), 403, role+" opens a confirmation")
	}
	var drafts int
	if err := p.db.DB.NewSelect().Table("request_drafts").ColumnExpr("count(*)").Scan(context.Background(), &drafts); err != nil {
		t.Fatal(err)
	}
	if drafts != 2 {
		t.Errorf("%d drafts, want the requester's and the NSIG member's", drafts)
	}
	// Anonymous visitors are sent to sign in.
	res := p.anonymous().get("/requests/new")
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/sign-in") {
		t.Errorf("anonymous start page: %d %s", res.status, res.header.Get("Location"))
	}
}

// TestRaiseSuggestsSimilarRequests: with a request already raised, a draft with a title like its title
// is shown it on the details page and on the check page, and the title page's script is given it.
func TestRaiseSuggestsSimilarRequests(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	first := p.users[identity.RoleRequester]
	v, err := request.ViewerFor(ctx, p.db.DB, first)
	if err != nil {
		t.Fatal(err)
	}
	existing, err := request.RaiseEnhancement(ctx, p.db.DB, p.app.calendar, v, audit.Actor{Name: "test"}, p.clock.Now(), request.NewEnhancement{
		SRNumber: "SR-1111111", Title: "Offer OLM class waiting-list places automatically", FunctionalArea: "Learning Management (OLM)",
		Problem: "Empty places", Proposal: "Offer them", AffectedUsers: []string{"employee"}, Urgency: "medium",
		SubmissionToken: "00000000-0000-4000-8000-000000000001",
	})
	if err != nil {
		t.Fatal(err)
	}

	b := p.as(p.createUser("second@test.nhs.uk", "Second Requester", identity.RoleRequester))
	id := draftStart(t, b)
	draftAnswerAll(t, b, id, "Offer OLM waiting-list places to learners automatically")
	res := b.get(raiseStepPath(id, "details"))
	mustStatus(t, res, 200, "details page")
	mustContain(t, res.body, "details page", "Requests that look similar", `<a href="/requests/`+existing.Reference+`">`+existing.Reference+": "+existing.Title+"</a>")
	res = b.get(raiseStepPath(id, "check"))
	mustStatus(t, res, 200, "check page")
	mustContain(t, res.body, "check page", "Requests that look similar", `<a href="/requests/`+existing.Reference+`">View it, and add to it with a comment instead`)
	if strings.Contains(res.body, "View and support it instead") {
		t.Error("the check page invites supporting a request raised by the requester's own organisation, which cannot be supported")
	}

	res = b.get("/requests/similar?title=" + url.QueryEscape("OLM waiting-list places"))
	mustStatus(t, res, 200, "similar requests as JSON")
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %s", ct)
	}
	var matches []raiseSimilarMatch
	if err := json.Unmarshal([]byte(res.body), &matches); err != nil {
		t.Fatalf("%v: %s", err, res.body)
	}
	if len(matches) != 1 || matches[0].Reference != existing.Reference || matches[0].Href != "/requests/"+existing.Reference || matches[0].Status != "Submitted" {
		t.Errorf("similar requests %+v", matches)
	}
	for _, q := range []string{"", "OLM", "Welsh payslip labels"} {
		res = b.get("/requests/similar?title=" + url.QueryEscape(q))
		mustStatus(t, res, 200, fmt.Sprintf("similar to %q", q))
		if strings.TrimSpace(res.body) != "[]" {
			t.Errorf("similar to %q: %s, want []", q, res.body)
		}
	}

	// A different title suggests nothing.
	other := draftStart(t, b)
	draftAnswerAll(t, b, other, "Welsh-language field labels on the online payslip")
	if body := b.get(raiseStepPath(other, "details")).body; strings.Contains(body, "Requests that look similar") {
		t.Error("an unrelated title is shown similar requests")
	}
}
