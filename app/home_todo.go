package app

import (
	"context"
	"fmt"
	"net/url"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/request"
)

// todoItem is one line of the home page's to-do list: how many requests wait on the person for one
// kind of work, linking to the list of them.
type todoItem struct {
	Count int
	Text  string // what they are, after the count: "questions from the central team to answer"
	Href  string
	Note  string            // more about them, e.g. how many of them are ready for the next step
	Some  []request.Summary // the first few of them, when no list filters them exactly
}

// todo is the home page's to-do list: the work waiting on the person, role by role, each count
// linking to the list it counts.
type todo struct {
	Items  []todoItem
	Queues []NavItem // the review queues of the NSIGs the person sits on
}

// todoLink is the requests list filtered by the pairs (name, value, …), for enhancement requests.
func todoLink(pairs ...string) string {
	q := url.Values{"kind": {request.KindEnhancement}}
	for i := 0; i+1 < len(pairs); i += 2 {
		q.Set(pairs[i], pairs[i+1])
	}
	return "/requests?" + q.Encode()
}

// todoFor counts the work waiting on the user, by the access rule, in one statement (and one more for
// an NSIG member's regional views and seats).
func (a *App) todoFor(ctx context.Context, u *identity.User, v request.Viewer) (*todo, error) {
	n, err := request.ToDoFor(ctx, a.db, v, a.calendar.Date(a.now()))
	if err != nil {
		return nil, err
	}
	t := &todo{}
	add := func(count int, one, many, href string) *todoItem {
		t.Items = append(t.Items, todoItem{Count: count, Text: plural(count, one, many), Href: href})
		return &t.Items[len(t.Items)-1]
	}
	org := fmt.Sprint(u.OrganisationID)
	if u.HasRole(identity.RoleRequester) || u.HasRole(identity.RoleNSIGMember) {
		add(n.Questions, "question from the central team to answer", "questions from the central team to answer",
			todoLink("status", string(request.StatusInformationRequested), "organisation", org))
		add(n.Decisions, "request to decide whether to take forward", "requests to decide whether to take forward",
			todoLink("status", string(request.StatusAwaitingRequesterDecision), "organisation", org))
		add(n.Requirements, "request whose requirement definition and business justification to write",
			"requests whose requirement definition and business justification to write",
			todoLink("status", string(request.StatusRequirementsJustification), "organisation", org))
	}
	if u.HasRole(identity.RoleNSIGMember) {
		views, err := nsig.CountWaiting(ctx, a.db, v)
		if err != nil {
			return nil, err
		}
		add(views, "request waiting for your region's view", "requests waiting for your region's view", "/nsigs/waiting")
		seats, err := nsig.SeatsHeldBy(ctx, a.db, u.ID)
		if err != nil {
			return nil, err
		}
		seen := map[int64]bool{}
		for _, s := range seats {
			if !seen[s.NSIGID] {
				seen[s.NSIGID] = true
				t.Queues = append(t.Queues, NavItem{Label: "The " + s.NSIGName + " NSIG's review queue", Href: fmt.Sprintf("/nsigs/%d/queue", s.NSIGID)})
			}
		}
	}
	if u.HasRole(identity.RoleFunctionalAccountManager) || u.HasRole(identity.RoleNSIGMember) {
		it := add(n.ToEndorse, "business justification you can endorse", "business justifications you can endorse", "")
		if it.Some, err = request.ToEndorse(ctx, a.db, v, 5); err != nil {
			return nil, err
		}
		if n.ToEndorse > len(it.Some) {
			it.Note = fmt.Sprintf("The %d submitted first.", len(it.Some))
		}
	}
	if u.HasRole(identity.RoleCentralTeam) {
		add(n.AckOverdue, "request not acknowledged by its due date", "requests not acknowledged by their due date", todoLink("sla", "overdue"))
		add(n.ToTriage, "request to triage", "requests to triage", "/triage")
		it := add(n.Assessing, "request in impact assessment", "requests in impact assessment", todoLink("status", string(request.StatusImpactAssessment)))
		it.Note = fmt.Sprintf("%d with the assessment complete, ready for your decision.", n.ToDecide)
		add(n.ToAllocate, "approved request to allocate to a release", "approved requests to allocate to a release",
			todoLink("status", string(request.StatusApproved)))
		add(n.ReviewsDue, "deferred request due for review", "deferred requests due for review", "/reviews")
	}
	if u.HasRole(identity.RoleDevelopmentTeam) {
		add(n.AssessMine, "impact assessment assigned to you", "impact assessments assigned to you", "/assessments")
		add(n.AssessUnassigned, "impact assessment nobody has taken yet", "impact assessments nobody has taken yet", "/assessments")
		it := add(n.Defining, "request whose requirement definition is being written", "requests whose requirement definitions are being written",
			todoLink("status", string(request.StatusRequirementsJustification)))
		it.Note = fmt.Sprintf("%d waiting for the development team to agree the latest version.", n.ToAgree)
	}
	if u.HasRole(identity.RoleAccessApprover) || u.HasRole(identity.RoleAdmin) {
		grants, err := identity.PendingFor(ctx, a.db, u)
		if err != nil {
			return nil, err
		}
		add(len(grants), "request for access or a role to decide", "requests for access or roles to decide", "/access-requests")
		reviews, err := identity.ReviewsFor(ctx, a.db, u)
		if err != nil {
			return nil, err
		}
		open := 0
		for i := range reviews {
			if !reviews[i].Complete() {
				open++
			}
		}
		add(open, "access review to complete", "access reviews to complete", "/access-reviews")
	}
	return t, nil
}
