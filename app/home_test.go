package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// TestHomeToDo: the home page counts the work waiting on each person, each count linking to a list
// that shows as many; a requester is not counted another organisation's questions, and someone who
// may not see a request is not counted it at all.
func TestHomeToDo(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	var otherOrg int64
	if err := p.db.DB.NewRaw(`SELECT id FROM organisations ORDER BY id OFFSET 1 LIMIT 1`).Scan(ctx, &otherOrg); err != nil {
		t.Fatal(err)
	}
	other, err := identity.Create(ctx, p.db.DB, audit.Actor{Name: "test"}, p.clock.Now(), identity.NewUser{
		Email: "other@test.nhs.uk", Name: "Other Requester", OrganisationID: otherOrg, Roles: []string{identity.RoleRequester}, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	raise := func(u *identity.User, n int) *request.Request {
		t.Helper()
		v, err := request.ViewerFor(ctx, p.db.DB, u)
		if err != nil {
			t.Fatal(err)
		}
		r, err := request.RaiseEnhancement(ctx, p.db.DB, p.app.calendar, v, audit.Actor{Name: "test"}, p.clock.Now(), request.NewEnhancement{
			SRNumber: "SR1234567", Title: fmt.Sprintf("Remind managers about DBS renewal dates %d", n), FunctionalArea: "Self Service",
			Problem: "Managers forget.", Proposal: "Remind them.", AffectedUsers: []string{"manager"}, Urgency: "medium",
			SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", n),
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	requester := p.users[identity.RoleRequester]
	mine, minePast, theirs := raise(requester, 1), raise(requester, 2), raise(other, 3)
	for _, stmt := range []string{
		`UPDATE requests SET status = 'information_requested', acknowledged_at = now() WHERE id IN (?0, ?2)`,
		`UPDATE requests SET ack_due_on = ack_due_on - 30 WHERE id = ?1`,
	} {
		if _, err := p.db.DB.NewRaw(stmt, mine.ID, minePast.ID, theirs.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Each requester has one question to answer: their own organisation's.
	for _, who := range []*identity.User{requester, other} {
		res := p.as(who).get("/")
		mustStatus(t, res, 200, who.Name+"'s home")
		href := fmt.Sprintf("/requests?kind=enhancement&amp;organisation=%d&amp;status=information_requested", who.OrganisationID)
		mustContain(t, res.body, who.Name+"'s home", "Waiting for you", `<a href="`+href+`"><span class="portal-todo__count">1 </span>question from the central team to answer</a>`)
		list := p.as(who).get(strings.ReplaceAll(href, "&amp;", "&"))
		mustStatus(t, list, 200, who.Name+"'s questions")
		mustContain(t, list.body, who.Name+"'s questions", "1 request")
	}
	// The central team: the request past its acknowledgement date, which is the one to triage.
	res := p.as(p.users[identity.RoleCentralTeam]).get("/")
	mustContain(t, res.body, "the central team's home",
		`<span class="portal-todo__count">1 </span>request not acknowledged by its due date`,
		`<span class="portal-todo__count">1 </span>request to triage`)
	// Nobody else sees the requests before triage accepts them, so the development team counts none.
	res = p.as(p.users[identity.RoleDevelopmentTeam]).get("/")
	mustContain(t, res.body, "the development team's home", `<span class="portal-todo__count">0 </span>impact assessments nobody has taken yet`)
	// An organisation's access approver, and the administrators, are told of access reviews to complete.
	approver := p.as(p.users[identity.RoleAccessApprover])
	mustContain(t, approver.get("/").body, "the access approver's home before a review",
		`<a href="/access-requests"><span class="portal-todo__count">0 </span>requests for access or roles to decide</a>`,
		`<a href="/access-reviews"><span class="portal-todo__count">0 </span>access reviews to complete</a>`)
	if _, err := identity.OpenReviews(ctx, p.db.DB, p.clock.Now(), london, p.app.reviewPolicy()); err != nil {
		t.Fatal(err)
	}
	mustContain(t, approver.get("/").body, "the access approver's home", `<a href="/access-reviews"><span class="portal-todo__count">1 </span>access review to complete</a>`)
	if res := p.as(p.users[identity.RoleRequester]).get("/"); strings.Contains(res.body, "access review") {
		t.Error("a requester's home counts access reviews")
	}
	for _, u := range []*identity.User{p.users[identity.RoleDevelopmentTeam], p.users[identity.RoleFunctionalAccountManager], p.users[identity.RoleAdmin]} {
		v, err := request.ViewerFor(ctx, p.db.DB, u)
		if err != nil {
			t.Fatal(err)
		}
		got, err := request.ToDoFor(ctx, p.db.DB, v, p.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got.AckOverdue != 0 || got.ToTriage != 0 || got.Questions != 0 {
			t.Errorf("%s is counted requests of the central team or another organisation: %+v", u.Name, got)
		}
	}
}
