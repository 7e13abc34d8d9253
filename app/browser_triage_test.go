package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// TestBrowserTriageToRequesterDecision follows a demo request from the central team's triage to the
// requester's decision: the central team acknowledges it, tries to close it without a reason (and is
// told what is missing), classifies it as an enhancement with a note; the requester, told in the
// header, takes it forward. Every page is checked with axe.
func TestBrowserTriageToRequesterDecision(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	const title = "Offer OLM class waiting-list places automatically and notify learners by email"

	central := openTab(t, p)
	central.visit("/sign-in")
	central.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	central.visit("/triage")
	central.submit(`main table a[href="` + rowLink(central, title) + `"]`)
	central.wantText("h1", title)
	central.wantText("main", "Submitted", "Acknowledgement due")
	ref := strings.TrimPrefix(central.url[strings.Index(central.url, "/requests/"):], "/requests/")

	central.submit(`form[action="/requests/` + ref + `/actions/acknowledge"] button[type="submit"]`)
	central.wantStatus(200, "after acknowledging")
	central.wantText("main", "In triage", "Acknowledged by the central team")

	// Closing it without a reason is refused, with what was typed kept.
	central.submit(`a[href="/requests/` + ref + `/actions/not_taken_forward"]`)
	central.typeIntoTextarea("text", "Not needed")
	central.submit(`form[action="/requests/` + ref + `/actions/not_taken_forward"] button[type="submit"]`)
	central.wantStatus(422, "not taken forward without a reason")
	central.wantText(".nhsuk-error-summary", "Select why it is not being taken forward")
	if got := central.value("text"); got != "Not needed" {
		t.Errorf("the explanation typed is now %q", got)
	}

	central.visit("/requests/" + ref + "/actions/classify_enhancement")
	central.typeIntoTextarea("text", "Several trusts want this; it fits the OLM roadmap.")
	central.submit(`form[action="/requests/` + ref + `/actions/classify_enhancement"] button[type="submit"]`)
	central.wantStatus(200, "after classifying")
	central.wantText("main", "Awaiting requester decision", "Classified as an enhancement", "fits the OLM roadmap")

	requester := openTab(t, p)
	requester.visit("/sign-in")
	requester.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)
	requester.wantText(".nhsuk-header__account", "Notifications")
	requester.visit("/notifications")
	requester.wantText("main", ref, "decide whether to take it forward")
	requester.visit("/requests/" + ref)
	requester.wantText("main", "Take it forward", "fits the OLM roadmap")
	requester.submit(`form[action="/requests/` + ref + `/actions/progress"] button[type="submit"]`)
	requester.wantStatus(200, "after taking it forward")
	requester.wantText("main", "Requirements and justification", "chose to take it forward")

	// From an email: the demo's central team member with an NHSmail address opens the link to
	// acknowledge another request, signs in, sees what will happen, and confirms it.
	var other struct {
		ID        int64  `bun:"id"`
		Reference string `bun:"reference"`
		Version   int    `bun:"version"`
	}
	if err := p.db.NewRaw(`SELECT id, reference, version FROM requests WHERE title = ?`,
		"Let bank workers view and confirm upcoming OLM enrolments in the ESR app").Scan(t.Context(), &other); err != nil {
		t.Fatal(err)
	}
	amara, err := identity.GetByEmail(t.Context(), p.db, "esrportal.demo.central@nhs.net")
	if err != nil {
		t.Fatal(err)
	}
	token, err := actionlink.CreateAction(t.Context(), p.db, amara.ID, other.ID, "acknowledge", other.Version, time.Now(), actionlink.TTL)
	if err != nil {
		t.Fatal(err)
	}
	central.submit(`form[action="/sign-out"] button`)
	central.visit(actionlink.Prefix + token)
	central.wantPath("/sign-in", "the link signed out")
	central.signIn(amara.Email, seed.DemoPassword)
	central.wantPath(actionlink.Prefix+token, "back at the link after signing in")
	central.wantText("h1", "Acknowledge "+other.Reference+"?")
	central.wantText("main", "Nothing has changed yet", "Acknowledgement due")
	central.submit(`form[action="` + actionlink.Prefix + token + `"] button[type="submit"]`)
	central.wantPath("/requests/"+other.Reference, "after confirming")
	central.wantText("main", "In triage", "Acknowledged by the central team")

	// The mail view shows that email's HTML part as its recipient sees it, in a frame of its own.
	var id int64
	if err := p.db.NewRaw(`SELECT max(id) FROM email_outbox WHERE request_id = ? AND user_id = ?`, other.ID, amara.ID).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	central.submit(`form[action="/sign-out"] button`)
	central.visit("/sign-in")
	central.signIn(p.account(t, identity.RoleAdmin).Email, seed.DemoPassword)
	central.visit(fmt.Sprintf("/admin/mail/%d", id))
	central.wantText("main", "Approval and summary", "As its recipient sees it")
	var framed string
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(framed, "Please do not reply to this email") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		var err error
		if framed, err = chromedp.Run(central.ctx, chromedp.Evaluate[string](
			`document.querySelector('iframe.portal-mail-frame')?.contentDocument?.body?.textContent ?? ''`)); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(framed, "ESR Enhancement Portal") || !strings.Contains(framed, "Please do not reply to this email") {
		t.Errorf("the email's frame shows %q", framed)
	}
}

// rowLink returns the link of the first table row on the page that mentions text.
func rowLink(tb *tab, text string) string {
	tb.t.Helper()
	rows := tb.allTexts(`main table tbody tr`)
	hrefs := tb.attrs(`main table tbody tr td:first-child a`, "href")
	for i, row := range rows {
		if strings.Contains(row, text) && i < len(hrefs) {
			return hrefs[i]
		}
	}
	tb.t.Fatalf("no row mentions %q on %s", text, tb.url)
	return ""
}
