package app

import (
	"net/url"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
)

// auditedBy returns the audit events of an action (or a prefix ending in ".") on an entity, newest
// first, and fails unless each was recorded by the user.
func (p *testPortal) auditedBy(u *identity.User, action, entityID string) []audit.Row {
	p.t.Helper()
	rows, _, err := audit.List(p.t.Context(), p.db.DB, audit.Filter{Action: action, EntityID: entityID, Limit: 200})
	if err != nil {
		p.t.Fatal(err)
	}
	for _, r := range rows {
		if r.ActorUserID != u.ID {
			p.t.Errorf("%s on %s recorded by user %d, want %d", r.Action, entityID, r.ActorUserID, u.ID)
		}
	}
	return rows
}

// TestDraftsAndFollowingAreAudited: starting and saving a draft, raising it (which deletes it) and
// following and unfollowing a request each write their audit event; a refused answer, and following a
// request already followed, write none.
func TestDraftsAndFollowingAreAudited(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	b := p.as(u)

	id := draftStart(t, b)
	if rows := p.auditedBy(u, "draft.", id); len(rows) != 1 || rows[0].Action != "draft.created" {
		t.Fatalf("after starting the draft: %+v; want one draft.created", rows)
	}
	mustStatus(t, b.post(raiseStepPath(id, "title"), url.Values{"title": {""}}), 422, "a title left out")
	if rows := p.auditedBy(u, "draft.saved", id); len(rows) != 0 {
		t.Fatalf("a refused answer was audited: %+v", rows)
	}
	draftAnswerAll(t, b, id, "Audit every saved answer")
	saved := p.auditedBy(u, "draft.saved", id)
	if len(saved) != len(raiseSteps) {
		t.Fatalf("%d draft.saved events for %d pages answered", len(saved), len(raiseSteps))
	}
	if after := string(saved[0].After); !strings.Contains(after, "urgency_reason") || strings.Contains(after, "Statutory") {
		t.Errorf("the last draft.saved says %s; want the questions answered, not the answers", after)
	}

	res := b.post("/requests/drafts/"+id+"/submit", nil)
	mustStatus(t, res, 303, "raise the request")
	ref := strings.TrimSuffix(strings.TrimPrefix(res.header.Get("Location"), "/requests/"), "/raised")
	if raised := p.auditedBy(u, "request.raised", ref); len(raised) != 1 || !strings.Contains(string(raised[0].After), id) {
		t.Fatalf("request.raised events for %s: %+v; want one naming the draft", ref, raised)
	}
	mustStatus(t, b.get(raiseStepPath(id, "title")), 303, "the raised draft's page sends on to the request")

	follow := func(on string) {
		t.Helper()
		mustStatus(t, b.post("/requests/"+ref+"/follow", url.Values{"follow": {on}}), 303, "follow="+on)
	}
	follow("0")
	follow("0")
	follow("1")
	follow("1")
	rows := p.auditedBy(u, "request.", ref)
	var actions []string
	for _, r := range rows {
		actions = append(actions, r.Action)
	}
	if got := strings.Join(actions, ","); got != "request.followed,request.unfollowed,request.raised" {
		t.Errorf("audit events of %s, newest first: %s; want one unfollow and one follow after the raise", ref, got)
	}
}
