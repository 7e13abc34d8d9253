package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
)

// raiseFor raises an enhancement request as u through the domain, for tests of the pages that show it.
func raiseFor(t *testing.T, p *testPortal, u *identity.User, title string) *request.Request {
	t.Helper()
	ctx := context.Background()
	v, err := request.ViewerFor(ctx, p.db.DB, u)
	if err != nil {
		t.Fatal(err)
	}
	r, err := request.RaiseEnhancement(ctx, p.db.DB, p.app.calendar, v, audit.Actor{Name: "test"}, p.clock.Now(), request.NewEnhancement{
		SRNumber: "SR7654321", Title: title, FunctionalArea: "Self Service", Problem: "Problem text of " + title,
		Proposal: "Proposal text", AffectedUsers: []string{"employee"}, Urgency: "high", UrgencyReason: "Statutory",
		SubmissionToken: fmt.Sprintf("00000000-0000-4000-a000-%012d", len(title)*1000+int(u.ID)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// userIn makes a user of the organisation with the ODS code.
func userIn(t *testing.T, p *testPortal, email, ods string, roles ...string) *identity.User {
	t.Helper()
	ctx := context.Background()
	org, err := organisation.GetByODS(ctx, p.db.DB, ods)
	if err != nil {
		t.Fatal(err)
	}
	u, err := identity.Create(ctx, p.db.DB, audit.Actor{Name: "test"}, p.clock.Now(), identity.NewUser{
		Email: email, Name: "Test " + email[:strings.Index(email, "@")], OrganisationID: org.ID, Roles: roles, Password: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRequestPageTriageAndDecision(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	raiserUser := userIn(t, p, "raiser@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	other := userIn(t, p, "other@trust.nhs.uk", "ZMD01", identity.RoleRequester)
	r := raiseFor(t, p, raiserUser, "Show payslips in Welsh")
	path := "/requests/" + r.Reference
	raiser, central, stranger := p.as(raiserUser), p.as(p.users[identity.RoleCentralTeam]), p.as(other)

	res := raiser.get(path)
	mustStatus(t, res, 200, "raiser's request page")
	for _, want := range []string{"Show payslips in Welsh", "Submitted", "SR7654321", "Problem text of", "Withdraw this request", "Friday 27 November 2026"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("raiser's page lacks %q", want)
		}
	}
	mustStatus(t, stranger.get(path), 404, "another organisation before triage accepts it")

	res = central.get(path)
	mustStatus(t, res, 200, "central's page")
	if !strings.Contains(res.body, "Acknowledgement due in 5 working days") {
		t.Errorf("central does not see the acknowledgement clock:\n%s", excerpt(res.body))
	}
	mustStatus(t, central.post(path+"/actions/acknowledge", url.Values{"version": {"1"}}), 303, "acknowledge")

	// An internal note the requester must never see, and a shared comment they must.
	mustStatus(t, central.post(path+"/comments", url.Values{"body": {"Overlaps the payroll rewrite"}, "internal": {"true"}}), 303, "internal note")
	mustStatus(t, central.post(path+"/comments", url.Values{"body": {"Thank you, we are looking at it"}}), 303, "shared comment")
	res = raiser.get(path)
	if strings.Contains(res.body, "Overlaps the payroll rewrite") || strings.Contains(res.body, "Internal note") {
		t.Error("the requester's page shows an internal note")
	}
	if !strings.Contains(res.body, "Thank you, we are looking at it") || !strings.Contains(res.body, "Acknowledged by the central team") {
		t.Error("the requester's page lacks the shared comment or the acknowledgement")
	}
	if !strings.Contains(central.get(path).body, "Overlaps the payroll rewrite") {
		t.Error("central does not see its internal note")
	}

	// "Do not take forward" needs a reason: 422 with what was typed kept.
	res = central.post(path+"/actions/not_taken_forward", url.Values{"version": {"2"}, "text": {"Explained at length"}})
	mustStatus(t, res, 422, "not taken forward without a reason")
	if !strings.Contains(res.body, `href="#reason"`) || !strings.Contains(res.body, "Explained at length") {
		t.Errorf("422 page lacks the error link or the typed explanation:\n%s", excerpt(res.body))
	}
	// A stale form is a conflict that says what changed and keeps what was typed.
	res = central.post(path+"/actions/classify_enhancement", url.Values{"version": {"1"}, "text": {"My stale note"}, "summary": {"A change to ESR"}})
	mustStatus(t, res, 409, "stale classify")
	if !strings.Contains(res.body, "Acknowledged by the central team") || !strings.Contains(res.body, "My stale note") {
		t.Errorf("conflict page lacks the change or the typed note:\n%s", excerpt(res.body))
	}
	mustStatus(t, central.post(path+"/actions/classify_enhancement", url.Values{"version": {"2"}, "text": {"Good idea"}, "summary": {"A change to ESR"}}), 303, "classify")

	// Now accepted: another organisation sees the summary, not the detail, and can support it.
	res = stranger.get(path)
	mustStatus(t, res, 200, "summary for another organisation")
	if strings.Contains(res.body, "SR7654321") || strings.Contains(res.body, "Problem text of") || strings.Contains(res.body, "Thank you, we are looking") {
		t.Error("another organisation sees more than the summary")
	}
	mustStatus(t, stranger.post(path+"/support", url.Values{"note": {"We need it too"}}), 303, "support")
	if res := raiser.get(path); !strings.Contains(res.body, "1 organisation in 1 region") {
		t.Errorf("support not counted:\n%s", excerpt(res.body))
	}
	res = stranger.post(path+"/support", url.Values{})
	mustStatus(t, res, 422, "second support")

	// The requester decides to take it forward.
	res = raiser.get(path)
	if !strings.Contains(res.body, "Take it forward") {
		t.Fatalf("the requester is not offered the decision:\n%s", excerpt(res.body))
	}
	mustStatus(t, raiser.post(path+"/actions/progress", url.Values{"version": {"3"}}), 303, "progress")
	if res := raiser.get(path); !strings.Contains(res.body, "Requirements and justification") {
		t.Error("status not shown after progressing")
	}
	// Only the raiser may decide; a central team member is refused.
	mustStatus(t, central.get(path+"/actions/decline"), 409, "decline after progressing")
}

func TestRequestAssignment(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	r := raiseFor(t, p, p.users[identity.RoleRequester], "Assign me")
	central := p.as(p.users[identity.RoleCentralTeam])
	path := "/requests/" + r.Reference
	res := central.post(path+"/assign", url.Values{"version": {"1"}, "assignee_id": {fmt.Sprint(p.users[identity.RoleAdmin].ID)}})
	mustStatus(t, res, 422, "assign to someone outside the central team")
	if !strings.Contains(res.body, "Select a member of the central team") {
		t.Error("no message for a wrong triager")
	}
	mustStatus(t, central.post(path+"/assign", url.Values{"version": {"1"}, "assignee_id": {fmt.Sprint(p.users[identity.RoleCentralTeam].ID)}}), 303, "assign")
	if res := central.get(path); !strings.Contains(res.body, "Test Central team") {
		t.Error("triager not shown")
	}
}

// TestEveryActionSaysWhatWasDone: the banner after each lifecycle action says what was done, not
// only the status the request is now in.
func TestEveryActionSaysWhatWasDone(t *testing.T) {
	for _, tr := range request.Transitions {
		r := &request.Request{Reference: "REF-1", Kind: tr.Kind, Status: tr.To}
		if got := actionDone(tr.Name, r); got == "REF-1: "+tr.To.Label() || !strings.HasPrefix(got, "REF-1: ") {
			t.Errorf("after %s (%s) the banner reads only %q", tr.Name, tr.Kind, got)
		}
	}
}
