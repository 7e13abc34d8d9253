package app

// A requester raises an enhancement request in headless Chromium, with axe-core on every page (see
// browser_harness_test.go).

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/app/workday"
)

var enhancementReference = regexp.MustCompile(`^ENH-\d{4}-\d{4}$`)

// tick clicks the checkbox or radio of the field name with the value, unless it is already chosen.
func (tb *tab) tick(name, value string) {
	tb.t.Helper()
	sel := `input[name="` + name + `"][value="` + value + `"]`
	ids := tb.attrs(sel, "id")
	if len(ids) != 1 {
		tb.t.Fatalf("no %s choice %q on %s", name, value, tb.url)
	}
	if !tb.checked(ids[0]) {
		tb.step("choose "+value, chromedp.Click(chromedp.CSS(sel)))
	}
	if !tb.checked(ids[0]) {
		tb.t.Fatalf("clicking %s %q did not choose it", name, value)
	}
}

// typeIntoTextarea types text into the textarea with the id, which must be empty.
func (tb *tab) typeIntoTextarea(id, text string) {
	tb.t.Helper()
	if got := tb.value(id); got != "" {
		tb.t.Fatalf("#%s already holds %q", id, got)
	}
	tb.typeInto(id, text)
}

// TestBrowserRaiseEnhancementRequest raises a request from the start page to the confirmation, with
// one mistake on the way, then starts another whose title the page finds similar as it is typed.
func TestBrowserRaiseEnhancementRequest(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	acc := p.account(t, identity.RoleRequester)
	tb := openTab(t, p)
	continueButton := `main form button[type="submit"]`

	tb.visit("/sign-in")
	tb.signIn(acc.Email, seed.DemoPassword)
	tb.visit("/requests/new")
	tb.wantStatus(200, "start page")
	tb.wantText("h1", "Raise an enhancement request")
	tb.wantText("main", "Before you start", "What happens next", "5 working days")
	tb.submit(`form[action="/requests/drafts"] button[type="submit"]`)
	tb.wantStatus(200, "title page")
	tb.wantText("h1", "About your request")
	draft := strings.TrimSuffix(strings.TrimPrefix(tb.url, tb.base), "/title")

	// The SR number without a title: the page comes back with the error and what was typed.
	tb.typeInto("sr_number", "SR-7654321")
	tb.submit(continueButton)
	tb.wantStatus(422, "a title page without a title")
	tb.wantText(".nhsuk-error-summary", "There is a problem", "Enter a title for your request")
	if links := tb.attrs(".nhsuk-error-summary a", "href"); !slices.Equal(links, []string{"#title"}) {
		t.Errorf("the error summary links to %v, want [#title]", links)
	}
	tb.wantText("#title-error", "Enter a title for your request")
	if got := tb.value("sr_number"); got != "SR-7654321" {
		t.Errorf("the SR number holds %q after the error", got)
	}
	if title := tb.title(); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("the page title %q does not start with Error:", title)
	}
	tb.typeInto("title", "Offer OLM class waiting-list places automatically")
	tb.submit(continueButton)

	tb.wantPath(draft+"/details", "after the title")
	tb.wantText("h1", "Describe the change")
	tb.choose("functional_area", "Learning Management (OLM)")
	tb.typeIntoTextarea("problem", "Places freed by cancellations stay empty unless an administrator fills them by hand.")
	tb.typeIntoTextarea("proposal", "Offer freed places to the waiting list automatically and email the learner.")
	tb.submit(continueButton)

	tb.wantPath(draft+"/affected", "after the details")
	tb.wantText("h1", "Who would the change affect?")
	tb.tick("affected_users", "employee")
	tb.tick("affected_users", "professional_user")
	tb.submit(continueButton)

	tb.wantPath(draft+"/urgency", "after who is affected")
	tb.wantText("h1", "How urgent is it?")
	tb.tick("urgency", "high")
	tb.typeIntoTextarea("urgency_reason", "Statutory training compliance targets are missed.")
	tb.submit(continueButton)

	tb.wantPath(draft+"/check", "after the urgency")
	tb.wantStatus(200, "check your answers")
	tb.wantText("h1", "Check your answers before raising your request")
	tb.wantText(".nhsuk-summary-list", "SR-7654321", "Offer OLM class waiting-list places automatically", "Learning Management (OLM)",
		"Places freed by cancellations", "Offer freed places", "Employees (Employee Self Service)", "Professional users (core ESR forms)",
		"High", "Statutory training compliance targets")
	if n := len(tb.attrs(`.nhsuk-summary-list a[href$="?return=check"]`, "href")); n != 9 {
		t.Errorf("%d Change links, want 9", n)
	}
	due, err := workday.New().AddWorkingDays(time.Now(), 5)
	if err != nil {
		t.Fatal(err)
	}
	tb.submit(`form[action="` + draft + `/submit"] button[type="submit"]`)

	tb.wantStatus(200, "confirmation")
	tb.wantText(".nhsuk-panel", "Request raised")
	ref := tb.text(".nhsuk-panel__body strong")
	if !enhancementReference.MatchString(ref) {
		t.Fatalf("the reference shown is %q", ref)
	}
	tb.wantPath("/requests/"+ref+"/raised", "after raising")
	tb.wantText("main", "What happens next", due.Format("Monday 2 January 2006"), "by email")
	if links := tb.attrs(`main a[href="/requests/`+ref+`"]`, "href"); len(links) != 1 {
		t.Errorf("the confirmation links to the request %d times", len(links))
	}

	// Another request: while its title is typed, the page suggests the one just raised.
	tb.submit(`main a[href="/requests/new"]`)
	tb.wantText("h1", "Raise an enhancement request")
	tb.submit(`form[action="/requests/drafts"] button[type="submit"]`)
	tb.typeInto("title", "OLM waiting-list places")
	tb.step("wait for the suggestion", chromedp.WaitVisible(chromedp.CSS(`#similar-live a[href="/requests/`+ref+`"]`)))
	tb.wantText("#similar-live", "look similar", ref, "Offer OLM class waiting-list places automatically")
	tb.check()
}
