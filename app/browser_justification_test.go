package app

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// TestBrowserRequirementAndJustification takes the demo request the requester took forward through its
// requirement definition and business justification: the requester writes the requirement and agrees
// it, the development team agrees it too, and the requester fills in every section of the
// justification (typing the savings in words once, and being told), checks the answers and submits
// it. Every page is checked with axe.
func TestBrowserRequirementAndJustification(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	const title = "Add a 30/60/90-day competence expiry reminder to Employee Self Service"
	save := `main form[method="post"] button[type="submit"]`

	tb := openTab(t, p)
	tb.visit("/sign-in")
	tb.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)
	tb.visit("/requests?" + url.Values{"q": {"competence expiry reminder"}, "status": {"requirements_and_justification"}}.Encode())
	tb.submit(`main table a[href="` + rowLink(tb, title) + `"]`)
	tb.wantText("h1", title)
	tb.wantText("main", "Requirements and justification", "Requirement definition and business justification", "Not written yet")
	ref := strings.TrimPrefix(tb.url[strings.Index(tb.url, "/requests/"):], "/requests/")
	base := "/requests/" + ref

	// The requirement definition: written, then agreed by the requester.
	tb.submit(`a[href="` + base + `/requirement"]`)
	tb.wantText("h1", "Requirement definition")
	tb.wantText("main", "Nothing has been written yet")
	tb.typeIntoTextarea("body", "Send employees a reminder in Employee Self Service and by email 90, 60 and 30 days before a competence expires.\n"+
		"Copy the 30-day reminder to their line manager.")
	tb.submit(`form[action="` + base + `/requirement"] button[type="submit"]`)
	tb.wantStatus(200, "after saving the requirement")
	tb.wantText(".nhsuk-notification-banner", "Version 1 of the requirement definition has been saved")
	tb.wantText("#requirement-body", "Copy the 30-day reminder to their line manager.")
	tb.submit(`form[action="` + base + `/requirement/agree"] button[type="submit"]`)
	tb.wantText(".nhsuk-notification-banner", "You have agreed version 1 for the requester")

	// The development team agrees the same version. One browser signs in as each in turn: the harness
	// runs two at most, and a test holding two could wait for ever on another that does the same.
	tb.submit(".nhsuk-header__account-button")
	tb.visit("/sign-in")
	tb.signIn(p.account(t, identity.RoleDevelopmentTeam).Email, seed.DemoPassword)
	tb.visit(base + "/requirement")
	tb.wantText("#agreement ~ dl", "Agreed version 1", "Not agreed yet")
	tb.submit(`form[action="` + base + `/requirement/agree"] button[type="submit"]`)
	tb.wantText(".nhsuk-notification-banner", "Both sides have now agreed the requirement definition")
	tb.wantText("main", "Agreed by both sides")
	tb.submit(".nhsuk-header__account-button")
	tb.visit("/sign-in")
	tb.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)

	// The business justification, section by section.
	tb.visit(base)
	tb.wantText("#requirement-and-justification ~ .nhsuk-task-list", "Version 1, agreed by both sides", "Not started")
	tb.submit(`a[href="` + base + `/justification"]`)
	tb.wantText("h1", "Business justification")
	if got := tb.allTexts(".nhsuk-task-list__status"); !slices.Equal(got, []string{"Incomplete", "Incomplete", "Incomplete", "Incomplete", "Incomplete", "Cannot start yet"}) {
		t.Errorf("section statuses %v", got)
	}

	tb.submit(`a[href="` + base + `/justification/about"]`)
	tb.wantText("h1", "About the request")
	if got := tb.value("requester_email"); got != p.account(t, identity.RoleRequester).Email {
		t.Errorf("the requester's email is prefilled as %q", got)
	}
	tb.typeInto("requester_role", "ESR lead, Thameside Royal Hospitals")
	tb.submit(save)
	// Save and continue goes on to the next section.
	tb.wantPath(base+"/justification/requirement", "after About")
	if got := tb.value("title"); got != title {
		t.Errorf("the title is prefilled as %q", got)
	}
	tb.submit(save)
	tb.wantPath(base+"/justification/strategic-fit", "after the requirement")
	tb.typeIntoTextarea("policy", "Core Skills Training Framework compliance, a national priority for statutory and mandatory training.")
	tb.tick("legislative", "no")
	tb.submit(save)

	// The one mistake: savings in words.
	tb.wantPath(base+"/justification/benefits", "after the strategic fit")
	tb.typeInto("savings", "twelve pounds")
	tb.typeInto("hours", "7.5")
	tb.typeInto("organisations", "220")
	tb.typeIntoTextarea("quality_benefits", "Fewer lapsed competences and safer staffing.")
	tb.typeIntoTextarea("baseline", "82% compliance with mandatory training.")
	tb.typeIntoTextarea("target", "90% compliance six months after the release.")
	tb.submit(save)
	tb.wantStatus(422, "savings in words")
	tb.wantText(".nhsuk-error-summary", "There is a problem", "Cashable savings must be an amount in pounds")
	if links := tb.attrs(".nhsuk-error-summary a", "href"); !slices.Equal(links, []string{"#savings"}) {
		t.Errorf("the error summary links to %v", links)
	}
	tb.wantText("#savings-error", "Cashable savings must be an amount in pounds")
	if got := tb.value("savings"); got != "twelve pounds" {
		t.Errorf("the savings hold %q after the error", got)
	}
	if got := tb.value("quality_benefits"); got != "Fewer lapsed competences and safer staffing." {
		t.Errorf("the benefits hold %q after the error", got)
	}
	if !strings.HasPrefix(tb.title(), "Error: ") {
		t.Errorf("the page title %q does not start with Error:", tb.title())
	}
	tb.typeInto("savings", "12,500")
	tb.submit(save)
	tb.wantPath(base+"/justification/delivery", "after the benefits")
	tb.tick("priority", "high")
	next := time.Now().Year() + 1
	tb.typeInto("required_by-day", "31")
	tb.typeInto("required_by-month", "3")
	tb.typeInto("required_by-year", fmt.Sprint(next))
	tb.typeIntoTextarea("required_by_reason", "The annual mandatory training audit.")
	tb.typeIntoTextarea("risks_of_doing", "More emails to staff.")
	tb.typeIntoTextarea("risks_of_not_doing", "Compliance keeps falling.")
	tb.typeIntoTextarea("workaround", "Managers chase staff by hand.")
	tb.submit(save)
	// The sign-off can start now that the others are complete, so it comes next.
	tb.wantPath(base+"/justification/sign-off", "after the delivery")
	tb.visit(base + "/justification")
	if got := tb.allTexts(".nhsuk-task-list__status"); !slices.Equal(got, []string{"Completed", "Completed", "Completed", "Completed", "Completed", "Incomplete"}) {
		t.Errorf("section statuses before the sign-off %v", got)
	}

	tb.submit(`a[href="` + base + `/justification/sign-off"]`)
	tb.typeInto("name", "Jo Sponsor")
	tb.typeInto("role", "Director of Workforce")
	tb.typeInto("date-day", "1")
	tb.typeInto("date-month", "11")
	tb.typeInto("date-year", fmt.Sprint(time.Now().Year()-1))
	tb.submit(save)

	// Every section complete: check your answers, then submit.
	tb.wantPath(base+"/justification/check", "after the sign-off")
	tb.wantText("h1", "Check the business justification")
	tb.wantText("main", "£12,500", "7.5", "220", fmt.Sprintf("31 March %d", next), "Jo Sponsor", "ESR lead, Thameside Royal Hospitals")
	if n := len(tb.attrs(`.nhsuk-summary-list a[href$="?return=check"]`, "href")); n < 20 {
		t.Errorf("%d Change links on check your answers", n)
	}
	tb.submit(`form[action="` + base + `/justification/submit"] button[type="submit"]`)
	tb.wantPath(base+"/justification", "after submitting")
	tb.wantText(".nhsuk-notification-banner", "The business justification has been submitted")
	tb.wantText("main", "Submitted on")

	tb.visit(base)
	tb.wantText("#requirement-and-justification ~ .nhsuk-task-list", "Version 1, agreed by both sides", "Submitted on")
	tb.wantText(".portal-timeline", "Version 1 of the requirement definition was agreed for the development team", "The business justification was submitted")
}
