package app

import (
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// TestBrowserAllocateMoveAndRelease follows the approved demo request to delivery: the central team
// allocates it to Release 73, moves it to Release 72 (first forgetting the reason, and being told),
// and marks Release 72 released; the requester then sees it delivered. Every page is checked with axe.
func TestBrowserAllocateMoveAndRelease(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	const title = "Show each employee's remaining annual leave in the ESR app"
	const reason = "Release 73 is full of payroll year-end changes; the app team can deliver it in December."

	central := openTab(t, p)
	central.visit("/sign-in")
	central.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	central.submit(`a.nhsuk-header__navigation-link[href="/releases"]`)
	central.wantStatus(200, "releases")
	central.wantText("main table", "Release 72", "In progress", "Release 73", "Planned", "Release 68", "Released", "Over capacity")

	central.visit("/requests?status=approved")
	central.submit(`main table a[href="` + rowLink(central, title) + `"]`)
	central.wantText("h1", title)
	central.wantText("main", "Approved")
	ref := strings.TrimPrefix(central.url[strings.Index(central.url, "/requests/"):], "/requests/")

	// Allocate it to Release 73 from the action page.
	central.submit(`a[href="/requests/` + ref + `/actions/allocate"]`)
	central.wantStatus(200, "the allocate page")
	central.choose("release_id", "Release 73")
	central.submit(`form[action="/requests/` + ref + `/actions/allocate"] button[type="submit"]`)
	central.wantStatus(200, "after allocating")
	central.wantText("main", "Allocated to a release", "Allocated to Release 73: March 2027")

	// Move it to Release 72: without a reason first.
	central.submit(`a[href="/requests/` + ref + `/move"]`)
	central.wantStatus(200, "the move page")
	central.wantText("main", "Release 73: March 2027")
	central.choose("release_id", "Release 72")
	central.submit(`form[action="/requests/` + ref + `/move"] button[type="submit"]`)
	central.wantStatus(422, "a move without a reason")
	central.wantText(".nhsuk-error-summary", "There is a problem", "Enter why it is moving to another release")
	if links := central.attrs(".nhsuk-error-summary a", "href"); len(links) != 1 || links[0] != "#reason" {
		t.Errorf("the error summary links to %v, want [#reason]", links)
	}
	if got := central.selected("release_id"); !strings.Contains(got, "Release 72") {
		t.Errorf("the release chosen is now %q", got)
	}
	central.typeIntoTextarea("reason", reason)
	central.submit(`form[action="/requests/` + ref + `/move"] button[type="submit"]`)
	central.wantStatus(200, "after moving")
	central.wantText("main", "Allocated to Release 72: December 2026", "Moved from Release 73 to Release 72", reason)

	// Release 72 goes live.
	central.submit(`main a[href^="/releases/"]`)
	central.wantStatus(200, "release 72")
	central.wantText("h1", "Release 72: December 2026")
	central.wantText("main", ref, title, "In from", reason, "Over capacity")
	central.submit(`main a[href$="/release"]`)
	central.wantStatus(200, "the page confirming the release is live")
	central.wantText("#consequences", "This cannot be undone", "3 changes are marked as delivered", "The portal tells")
	central.submit(`main form[action$="/release"] button[type="submit"]`)
	central.wantStatus(200, "after marking it released")
	central.wantText(".nhsuk-notification-banner", "Release 72 is live: 3 changes delivered")
	central.wantText("main", "Released")
	central.visit("/requests/" + ref)
	central.wantText("main", "Delivered", "Delivered: Release 72: December 2026 has gone live.")

	// The requester, who raised it, sees it delivered, and can read the releases.
	requester := openTab(t, p)
	requester.visit("/sign-in")
	requester.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)
	requester.visit("/notifications")
	requester.wantText("main", ref+" has been delivered")
	requester.visit("/requests/" + ref)
	requester.wantText("main", "Delivered", "Delivered in Release 72: December 2026", "Moved from Release 73 to Release 72")
	requester.submit(`main a[href^="/releases/"]`)
	requester.wantStatus(200, "release 72 for the requester")
	requester.wantText("main", ref, "Released")
	requester.visit("/releases")
	requester.wantStatus(200, "releases for the requester")
}
