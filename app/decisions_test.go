package app

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
)

// TestDecisions takes three requests through impact assessment to each decision the central team can
// make: a rationale is required, deferring needs a review date, and the requester sees the decision.
func TestDecisions(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	dev, central, raiser := p.as(p.users[identity.RoleDevelopmentTeam]), p.as(p.users[identity.RoleCentralTeam]), p.as(p.users[identity.RoleRequester])
	version := func(ref string) string {
		var v string
		if err := p.db.DB.NewSelect().Table("requests").ColumnExpr("version::text").Where("reference = ?", ref).Scan(t.Context(), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	approved := requestInAssessment(t, p, "Approve me")
	ref := approved.Reference
	// Before the assessment is complete, the decision page says so and the decision is refused.
	res := central.get("/requests/" + ref + "/actions/approve")
	mustStatus(t, res, 200, "approve page before the assessment")
	mustContain(t, res.body, "approve page before the assessment", "The impact assessment is not complete", "Not started")
	res = central.post("/requests/"+ref+"/actions/approve", url.Values{"version": {version(ref)}, "text": {"Good value"}})
	mustStatus(t, res, 422, "approve before the assessment")
	mustContain(t, res.body, "approve before the assessment", "The development team must complete the impact assessment first", "Good value")

	mustStatus(t, dev.post("/requests/"+ref+"/assessment", completedAssessment(0)), 303, "complete the assessment")
	res = central.get("/requests/" + ref + "/actions/approve")
	mustContain(t, res.body, "the approve page", "Impact assessment", "M (Medium), 12.5 days", "£12,500", "Approve", "Payroll cut-off in March",
		"Read the whole impact assessment")
	mustLack(t, res.body, "the approve page", "The impact assessment is not complete")
	res = central.post("/requests/"+ref+"/actions/approve", url.Values{"version": {version(ref)}})
	mustStatus(t, res, 422, "approve without a rationale")
	mustContain(t, res.body, "approve without a rationale", `<a href="#text">Enter the rationale for the decision</a>`, "£12,500")
	mustStatus(t, central.post("/requests/"+ref+"/actions/approve", url.Values{"version": {version(ref)}, "text": {"Good value for 600 organisations"}}), 303, "approve")

	res = raiser.get("/requests/" + ref)
	mustContain(t, res.body, "the requester's page after approval", "<h2>Decision</h2>", "Approved", "Good value for 600 organisations", "20 November 2026")
	mustLack(t, res.body, "the requester's page after approval", "Open the impact assessment")
	// The assessment is read-only now; a save from an open form is a conflict that keeps what was typed.
	res = dev.get("/requests/" + ref + "/assessment")
	mustContain(t, res.body, "the assessment after the decision", "can no longer be changed", "Payroll cut-off in March")
	mustLack(t, res.body, "the assessment after the decision", "Complete assessment")
	late := completedAssessment(1)
	late.Set("risks", "A late thought")
	res = dev.post("/requests/"+ref+"/assessment", late)
	mustStatus(t, res, 409, "a save after the decision")
	mustContain(t, res.body, "the conflict page after the decision", "can no longer be changed", "A late thought", "Payroll cut-off in March")

	deferred := requestInAssessment(t, p, "Defer me")
	ref = deferred.Reference
	mustStatus(t, dev.post("/requests/"+ref+"/assessment", completedAssessment(0)), 303, "complete the second assessment")
	res = central.post("/requests/"+ref+"/actions/defer", url.Values{"version": {version(ref)}, "text": {"After the payroll freeze"}})
	mustStatus(t, res, 422, "defer without a review date")
	mustContain(t, res.body, "defer without a review date", "Enter the date it should come back for assessment", "After the payroll freeze")
	res = central.post("/requests/"+ref+"/actions/defer", url.Values{"version": {version(ref)},
		"review_on-day": {"15"}, "review_on-month": {"3"}, "review_on-year": {"2027"}})
	mustStatus(t, res, 422, "defer without a rationale")
	mustContain(t, res.body, "defer without a rationale", "Enter the rationale for the decision", `value="15"`)
	mustStatus(t, central.post("/requests/"+ref+"/actions/defer", url.Values{"version": {version(ref)}, "text": {"After the payroll freeze"},
		"review_on-day": {"15"}, "review_on-month": {"3"}, "review_on-year": {"2027"}}), 303, "defer")
	mustContain(t, raiser.get("/requests/"+ref).body, "the requester's page after deferral", "Deferred", "After the payroll freeze",
		"Review date", "Monday 15 March 2027")

	notApproved := requestInAssessment(t, p, "Do not approve me")
	ref = notApproved.Reference
	mustStatus(t, dev.post("/requests/"+ref+"/assessment", completedAssessment(0)), 303, "complete the third assessment")
	res = central.post("/requests/"+ref+"/actions/not_approve", url.Values{"version": {version(ref)}, "text": {"  "}})
	mustStatus(t, res, 422, "not approve without a reason")
	mustContain(t, res.body, "not approve without a reason", "Enter the reason it is not approved")
	mustStatus(t, central.post("/requests/"+ref+"/actions/not_approve", url.Values{"version": {version(ref)}, "text": {"Conflicts with the national pay policy"}}), 303, "not approve")
	res = raiser.get("/requests/" + ref)
	mustContain(t, res.body, "the requester's page after not approving", "Not approved", "Conflicts with the national pay policy")

	// Only the central team decides.
	mustStatus(t, p.as(p.users[identity.RoleDevelopmentTeam]).get("/requests/"+approved.Reference+"/actions/approve"), 403, "the development team's decision page")
}

// TestReviewQueueAndReturn defers two requests, lists them soonest first, and brings the first back on
// its review date with the background job's single run, as the injected clock says.
func TestReviewQueueAndReturn(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	dev, central := p.as(p.users[identity.RoleDevelopmentTeam]), p.as(p.users[identity.RoleCentralTeam])
	later := requestInAssessment(t, p, "Review in the spring")
	soon := requestInAssessment(t, p, "Review next week")
	for _, d := range []struct {
		ref, day, month, year string
	}{{later.Reference, "15", "3", "2027"}, {soon.Reference, "27", "11", "2026"}} {
		mustStatus(t, dev.post("/requests/"+d.ref+"/assessment", completedAssessment(0)), 303, "complete "+d.ref)
		var version string
		if err := p.db.DB.NewSelect().Table("requests").ColumnExpr("version::text").Where("reference = ?", d.ref).Scan(t.Context(), &version); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, central.post("/requests/"+d.ref+"/actions/defer", url.Values{"version": {version}, "text": {"Not yet"},
			"review_on-day": {d.day}, "review_on-month": {d.month}, "review_on-year": {d.year}}), 303, "defer "+d.ref)
	}

	res := central.get("/reviews")
	mustStatus(t, res, 200, "the review queue")
	mustContain(t, res.body, "the review queue", "Due for review", "27 November 2026", "Due in 7 days", "15 March 2027", "Not yet")
	if strings.Index(res.body, soon.Reference) > strings.Index(res.body, later.Reference) {
		t.Error("the queue is not soonest first")
	}
	mustStatus(t, dev.get("/reviews"), 403, "the development team's review queue")

	// On the review date (Friday 27 November, 00:05 in London) it is due; one run of the job brings it back.
	p.clock.Advance(7*24*time.Hour - 9*time.Hour + 5*time.Minute)
	dev, central = p.as(p.users[identity.RoleDevelopmentTeam]), p.as(p.users[identity.RoleCentralTeam]) // the old sessions have expired
	mustContain(t, central.get("/reviews").body, "the review queue on the day", "Due today", "1 request is due or overdue")
	p.app.reviewDue(t.Context())
	p.app.reviewDue(t.Context()) // a second run changes nothing
	res = central.get("/reviews")
	mustLack(t, res.body, "the review queue after the return", soon.Reference)
	mustContain(t, res.body, "the review queue after the return", later.Reference)
	res = central.get("/requests/" + soon.Reference)
	mustContain(t, res.body, "the returned request", "Impact assessment", "ESR portal (review date)", "back in impact assessment")
	var n int
	if err := p.db.DB.NewSelect().Table("request_events").ColumnExpr("count(*)").Where("kind = 'review'").Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d review events after two runs, want 1", n)
	}
	// It waits for the development team again.
	mustContain(t, dev.get("/assessments").body, "the development team's queue", soon.Reference, "Back from a deferral")
	if res := central.get("/"); !strings.Contains(res.body, `href="/reviews"`) {
		t.Error("the central team's navigation has no link to the review queue")
	}
}
