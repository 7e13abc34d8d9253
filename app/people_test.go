package app

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
)

func TestLeaversLoseAccessOnTheirLeavingDateOnce(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	approverUser := p.users[identity.RoleAccessApprover]
	approver := p.as(approverUser)
	leaver := p.createUser("leaver@test.nhs.uk", "Lee Leaver", identity.RoleRequester)
	leaverBrowser := p.as(leaver)
	path := fmt.Sprintf("/people/%d", leaver.ID)

	mustStatus(t, approver.get("/people"), 200, "the approver's people")
	mustStatus(t, approver.get(path), 200, "the leaver's page")
	// Refusals: a date that is not one, a date in the past, another organisation's approver, their own.
	res := approver.post(path+"/leaving", url.Values{"leaving-day": {"31"}, "leaving-month": {"2"}, "leaving-year": {"2027"}})
	mustStatus(t, res, 422, "31 February")
	if !strings.Contains(res.body, `value="31"`) {
		t.Error("the date typed is lost")
	}
	mustStatus(t, approver.post(path+"/leaving", url.Values{"leaving-day": {"1"}, "leaving-month": {"1"}, "leaving-year": {"2026"}}), 422, "a past date")
	elsewhere := p.as(userIn(t, p, "approver.wales@test.nhs.uk", "ZWA01", identity.RoleAccessApprover))
	mustStatus(t, elsewhere.get(path), 404, "an approver of another organisation")
	mustStatus(t, elsewhere.post(path+"/leaving", url.Values{"leaving-day": {"30"}, "leaving-month": {"11"}, "leaving-year": {"2026"}}), 404, "another organisation's leaver")
	mustStatus(t, approver.post(fmt.Sprintf("/people/%d/leaving", approverUser.ID), url.Values{"leaving-day": {"30"}, "leaving-month": {"11"}, "leaving-year": {"2026"}}), 403, "their own leaving date")

	// The leaving date is 23 November (the clock is 20 November).
	mustStatus(t, approver.post(path+"/leaving", url.Values{"leaving-day": {"23"}, "leaving-month": {"11"}, "leaving-year": {"2026"}}), 303, "set the leaving date")
	if n, err := identity.EndLeavers(t.Context(), p.db.DB, p.clock.Now(), london); err != nil || n != 0 {
		t.Fatalf("before the date: %d ended (%v)", n, err)
	}
	mustStatus(t, leaverBrowser.get("/"), 200, "still signed in before the date")
	p.clock.Advance(3 * 24 * time.Hour)
	// Two instances at once: the leaver is ended once.
	var wg sync.WaitGroup
	counts := make([]int, 4)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := identity.EndLeavers(t.Context(), p.db.DB, p.clock.Now(), london)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if total := counts[0] + counts[1] + counts[2] + counts[3]; total != 1 {
		t.Errorf("the leaver was ended %d times: %v", total, counts)
	}
	if n := p.eventCount("user.left"); n != 1 {
		t.Errorf("%d user.left events, want 1", n)
	}
	if res := leaverBrowser.get("/"); res.status != 303 {
		t.Errorf("the leaver is still signed in: %d", res.status)
	}
	mustStatus(t, p.anonymous().signIn(leaver.Email, testPassword), 422, "the leaver signs in")
	u, _ := identity.Get(t.Context(), p.db.DB, leaver.ID)
	if u.Status != identity.StatusLeft || u.Name != "Lee Leaver" {
		t.Errorf("after the leaving date: %s %q", u.Status, u.Name)
	}
	// The lists name the status in words, not its code: a leaver is not shown as merely disabled.
	res = p.as(approverUser).get("/people")
	mustStatus(t, res, 200, "the approver's people after the leaving date")
	mustContain(t, res.body, "the approver's people", `nhsuk-tag--grey">Left: access ended<`, `nhsuk-tag--green">Active<`)
	admin := p.as(p.users[identity.RoleAdmin])
	res = admin.get("/admin/users?status=left")
	mustStatus(t, res, 200, "users who have left")
	mustContain(t, res.body, "users who have left", "Lee Leaver", `nhsuk-tag--grey">Left: access ended<`)
	if strings.Contains(res.body, `nhsuk-tag--grey">Disabled<`) {
		t.Error("the users list filtered to leavers shows a leaver as disabled")
	}
}

func TestRemoveAccessNow(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	u := p.users[identity.RoleCentralTeam]
	theirs := p.as(u)
	path := fmt.Sprintf("/people/%d/remove-access", u.ID)
	mustStatus(t, admin.post(path, url.Values{}), 422, "no reason")
	res := admin.post(path, url.Values{"reason": {"other"}})
	mustStatus(t, res, 422, "another reason without saying it")
	if !strings.Contains(res.body, "Say why their access ends now") {
		t.Error("the detail is not asked for")
	}
	mustStatus(t, admin.post(path, url.Values{"reason": {"made-up"}}), 422, "an unknown reason")
	elsewhere := p.as(userIn(t, p, "approver.wales@test.nhs.uk", "ZWA01", identity.RoleAccessApprover))
	mustStatus(t, elsewhere.post(path, url.Values{"reason": {"investigation"}}), 404, "an approver of another organisation's person")
	mustStatus(t, admin.post(fmt.Sprintf("/people/%d/remove-access", p.users[identity.RoleAdmin].ID), url.Values{"reason": {"investigation"}}), 403, "their own")
	mustStatus(t, admin.post(path, url.Values{"reason": {"investigation"}, "detail": {"Case 42"}}), 303, "remove access now")
	if res := theirs.get("/"); res.status != 303 {
		t.Errorf("still signed in after access was removed: %d", res.status)
	}
	if !auditMentions(t, p, "Under investigation: Case 42") {
		t.Error("the removal and its reason are not audited")
	}
	if res := admin.get(fmt.Sprintf("/people/%d", u.ID)); !strings.Contains(res.body, "Access ended: Under investigation: Case 42") {
		t.Error("the person's page does not say why access ended")
	}
}
