package app

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// typeDate fills the three boxes of a date input.
func (tb *tab) typeDate(name string, d time.Time) {
	tb.t.Helper()
	tb.typeInto(name+"-day", strconv.Itoa(d.Day()))
	tb.typeInto(name+"-month", strconv.Itoa(int(d.Month())))
	tb.typeInto(name+"-year", strconv.Itoa(d.Year()))
}

// TestBrowserAppointMemberOnSecondNSIG: the central team finds the vacant Wales seat of the Business
// Intelligence NSIG on the membership page and appoints the demo NSIG member, who already sits on Self
// Service and Portal. The portal warns, then wants the appointment confirmed with a reason, and keeps
// what was typed each time. The seat then shows them and the reason. Every page is checked with axe.
func TestBrowserAppointMemberOnSecondNSIG(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	member := p.account(t, identity.RoleNSIGMember)
	const reason = "The Welsh regional SIG had no other nominee with data warehouse experience."

	central := openTab(t, p)
	central.visit("/sign-in")
	central.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	central.submit(`a.nhsuk-header__navigation-link[href="/nsigs"]`)
	central.wantStatus(200, "the NSIGs")
	central.wantText("main table", "Business Intelligence and Workforce Information", "Self Service and Portal", "6 of 8")
	central.submit(`main a[href="/nsigs/membership"]`)
	central.wantStatus(200, "membership gaps")
	central.wantText("#vacant", "Seats without a member (4)")
	central.wantText("main", "Seats without a deputy", "Terms ending in the next 90 days")
	central.submit(`main a[href$="/seats/8/appoint?position=member"]`)
	central.wantStatus(200, "the appointment form")
	central.wantText("h1", "Appoint to the Wales seat")
	central.wantText(".nhsuk-caption-l", "Business Intelligence and Workforce Information")

	today := time.Now()
	central.tick("position", "member")
	central.typeInto("email", member.Email)
	central.typeDate("nominated_on", today.AddDate(0, 0, -14))
	central.tick("how_chosen", "election")
	central.typeDate("term_start", today.AddDate(0, 0, -1))
	central.typeDate("term_end", today.AddDate(2, 0, -1))
	central.submit(`main form button[type="submit"]`)
	central.wantStatus(422, "the multi-NSIG warning")
	central.wantText(".nhsuk-card--warning", "They already sit on another NSIG", member.Name+" already sits on Self Service and Portal")
	central.wantText(".nhsuk-error-summary", "Confirm the appointment and say why")
	if got := central.value("email"); got != member.Email {
		t.Errorf("the email is now %q", got)
	}

	// Confirming without a reason is not enough.
	central.tick("confirm_other_nsig", "yes")
	central.submit(`main form button[type="submit"]`)
	central.wantStatus(422, "confirmed without a reason")
	central.wantText(".nhsuk-error-summary", "Enter why they should sit on more than one NSIG")
	if !central.checked("confirm_other_nsig") {
		t.Error("the confirmation was not kept")
	}
	central.typeIntoTextarea("other_nsig_reason", reason)
	central.submit(`main form button[type="submit"]`)
	central.wantStatus(200, "the seat")
	central.wantText(".nhsuk-notification-banner", member.Name+" appointed as Wales member")
	central.wantText("main", member.Name, "Elected by a vote of the regional SIG", "Also on another NSIG because", reason)

	// The NSIG now has that member, and the member sees the NSIG among theirs.
	central.submit(`a.nhsuk-back-link`)
	central.wantText("#seats + table", member.Name)
	memberTab := openTab(t, p)
	memberTab.visit("/sign-in")
	memberTab.signIn(member.Email, seed.DemoPassword)
	memberTab.visit("/nsigs")
	memberTab.wantText("main table", "Business Intelligence and Workforce Information", "Self Service and Portal")
	memberTab.visit("/notifications")
	memberTab.wantText("main", "You are the Wales member on the Business Intelligence and Workforce Information NSIG")
}

// TestBrowserRecordRegionalView: the demo NSIG member, Wales's member on Self Service and Portal,
// finds a request waiting for Wales's view, forgets the comment a "do not support" needs, then records
// it; the coverage grid and the timeline show it, and the request leaves the waiting list.
func TestBrowserRecordRegionalView(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	const comment = "Welsh health boards already send these reminders from the learning portal; a second one would confuse staff."

	m := openTab(t, p)
	m.visit("/sign-in")
	m.signIn(p.account(t, identity.RoleNSIGMember).Email, seed.DemoPassword)
	m.submit(`a.nhsuk-header__navigation-link[href="/nsigs"]`)
	m.submit(`main a[href="/nsigs/waiting"]`)
	m.wantStatus(200, "waiting for my region's view")
	m.wantText("main", "the Wales member on the Self Service and Portal NSIG")
	links := m.attrs(`main table a[href^="/requests/"]`, "href")
	if len(links) == 0 {
		t.Fatal("nothing is waiting for Wales's view")
	}
	ref := strings.TrimSuffix(strings.TrimPrefix(links[0], "/requests/"), "#regional-views")
	m.submit(`main table a[href="` + links[0] + `"]`)
	m.wantStatus(200, "the request")
	m.wantText("#regional-views", "Regional views:")
	m.wantText("main table", "Wales (your region)", "Waiting")
	// The region's view and a comment of one's own are told apart.
	m.wantText(`label[for="comment"]`, "The Wales region's comment")
	m.wantText(`label[for="body"]`, "Your comment")
	m.wantText(`#body-hint`, "not your region's view")

	m.tick("view", "do_not_support")
	m.submit(`form[action="/requests/` + ref + `/regional-view"] button[type="submit"]`)
	m.wantStatus(422, "no comment")
	m.wantText(".nhsuk-error-summary", "Enter your region's comment")
	if !m.checked("view-3") {
		t.Error("the view chosen was not kept")
	}
	m.typeIntoTextarea("comment", comment)
	m.submit(`form[action="/requests/` + ref + `/regional-view"] button[type="submit"]`)
	m.wantStatus(200, "after recording the view")
	m.wantText(".nhsuk-notification-banner", "Your region's view is recorded")
	m.wantText("main table", "Do not support", comment)
	m.wantText("main", "The view of the Wales region on the Self Service and Portal NSIG: Do not support")

	m.visit("/nsigs/waiting")
	if strings.Contains(m.html(), `/requests/`+ref+`#regional-views`) {
		t.Errorf("%s still waits for Wales's view", ref)
	}

	// The central team sees the grid when deciding.
	c := openTab(t, p)
	c.visit("/sign-in")
	c.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	c.visit("/requests/" + ref)
	c.wantText("#regional-views", "Regional views:")
	c.wantText("main table", "Do not support", comment)
}

// TestBrowserRequestAgendaItem: the demo NSIG member opens their NSIG's next meeting and asks for an
// agenda item about a request, first mistyping its reference; the central team puts it on the agenda
// and republishes it, and the member is told.
func TestBrowserRequestAgendaItem(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	const title = "Reminders before competences expire"

	m := openTab(t, p)
	m.visit("/sign-in")
	m.signIn(p.account(t, identity.RoleNSIGMember).Email, seed.DemoPassword)
	m.submit(`a.nhsuk-header__navigation-link[href="/nsigs"]`)
	m.submit(`main table a[href^="/nsigs/"]`)
	m.wantStatus(200, "the NSIG dashboard")
	m.wantText("h1", "Self Service and Portal")
	m.wantText("main", "Next meeting", "Open actions", "Coverage gaps", "Regional seats")
	m.submit(`#meetings + p a`)
	m.wantStatus(200, "the next meeting")
	m.wantText("main", "Join the meeting on Microsoft Teams", "Add the meeting to your calendar", "Competence expiry reminders")
	m.submit(`main a[href$="/items/new"]`)
	m.wantStatus(200, "the agenda item form")
	m.typeInto("title", title)
	m.typeIntoTextarea("description", "Wales would like one national reminder schedule agreed before the change is assessed.")
	m.typeInto("references", "ENH-2026-0004, 2026-8")
	m.submit(`main form button[type="submit"]`)
	m.wantStatus(422, "a mistyped reference")
	m.wantText(".nhsuk-error-summary", "2026-8 is not a request reference")
	if got := m.value("title"); got != title {
		t.Errorf("the title is now %q", got)
	}
	m.typeInto("references", "ENH-2026-0004")
	m.submit(`main form button[type="submit"]`)
	m.wantStatus(200, "the meeting")
	m.wantText(".nhsuk-notification-banner", "Agenda item requested")
	m.wantText("main", "Items asked for", title)
	meeting := m.url

	c := openTab(t, p)
	c.visit("/sign-in")
	c.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	c.visit(meeting[strings.Index(meeting, "/nsigs/"):])
	c.wantText("main", title, "ENH-2026-0004")
	ids := c.attrs(`#requested ~ .nhsuk-card h3`, "id")
	var item string
	for _, id := range ids {
		if strings.Contains(c.text("#"+id), title) {
			item = strings.TrimPrefix(id, "item-")
		}
	}
	if item == "" {
		t.Fatalf("no card for the item among %v", ids)
	}
	c.submit(`form[action$="/items/` + item + `/decision"] button[value="accept"]`)
	c.wantStatus(200, "after accepting")
	c.wantText(".nhsuk-notification-banner", "Item added to the agenda")
	if strings.Contains(c.html(), "/items/"+item+"/decision") {
		t.Errorf("item %s still waits for a decision", item)
	}
	c.wantText("#item-"+item, "3. "+title)
	c.submit(`#publish button`)
	c.wantText(".nhsuk-notification-banner", "Agenda published to")

	m.visit("/notifications")
	m.wantText("main", `"`+title+`" is on the agenda`, "Agenda updated: Self Service and Portal NSIG meeting")
}
