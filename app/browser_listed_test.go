package app

// Requests for a new supplementary role and a national competence, raised in headless Chromium with a
// mistake on the way, then decided by the central team from their queue; axe-core runs on every page
// (see browser_harness_test.go).

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

var (
	roleReference       = regexp.MustCompile(`^SRR-\d{4}-\d{4}$`)
	competenceReference = regexp.MustCompile(`^NCR-\d{4}-\d{4}$`)
)

// TestBrowserRaiseSupplementaryRoleRequest: employee input for a role not linked to wellbeing is
// refused with the rule explained; the role is then asked for with manager input, checked and sent.
func TestBrowserRaiseSupplementaryRoleRequest(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	tb := openTab(t, p)
	tb.visit("/sign-in")
	tb.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)

	tb.submit(`a.nhsuk-header__navigation-link[href="/supplementary-roles"]`)
	tb.wantStatus(200, "the roles list")
	tb.wantText("h1", "Supplementary roles")
	tb.wantText("#roles", "Clinical Supervisor", "Mental Health First Aider", "Menopause Champion", "Starting list")
	tb.submit(`main a[href="/supplementary-roles/request"]`)
	tb.wantText("h1", "Ask for a new supplementary role")

	tb.typeInto("role_name", "Car Park Marshal")
	tb.typeIntoTextarea("duties", "Directs traffic in the staff car park during major incidents.")
	tb.tick("input_level", "employee")
	tb.tick("wellbeing", "no")
	tb.typeIntoTextarea("justification", "Major incident plans name car park marshals.")
	tb.submit(`main form button[type="submit"]`)
	tb.wantStatus(422, "employee input for a role not linked to wellbeing")
	tb.wantText(".nhsuk-error-summary", "There is a problem", "Employee input is only for roles linked to the wellbeing agenda",
		"Enter the benefits of recording the role", "Say which organisations expect to use the role")
	if links := tb.attrs(".nhsuk-error-summary a", "href"); !slices.Equal(links, []string{"#input_level", "#benefits", "#organisations"}) {
		t.Errorf("the error summary links to %v", links)
	}
	tb.wantText("#input_level-error", "choose manager or professional user input")
	if got := tb.value("role_name"); got != "Car Park Marshal" {
		t.Errorf("the role name holds %q after the error", got)
	}
	if !strings.HasPrefix(tb.title(), "Error: ") {
		t.Errorf("the page title %q does not start with Error:", tb.title())
	}
	tb.tick("input_level", "manager")
	tb.typeIntoTextarea("benefits", "Incident commanders can see who is trained.")
	tb.typeIntoTextarea("organisations", "Acute trusts with large staff car parks")
	tb.submit(`main form button[type="submit"]`)

	tb.wantStatus(200, "check your answers")
	tb.wantText("h1", "Check your answers before asking for the role")
	tb.wantText(".nhsuk-summary-list", "Car Park Marshal", "Manager", "Directs traffic", "Acute trusts")
	// Each answer has its own Change, which goes back to its field with every answer kept.
	if n := len(tb.allTexts(`.nhsuk-summary-list__actions button`)); n != 7 {
		t.Errorf("%d Change buttons on check your answers, want one for each of the 7 answers", n)
	}
	tb.submit(`.nhsuk-summary-list__actions button[formaction$="#duties"]`)
	tb.wantText("h1", "Ask for a new supplementary role")
	if got := tb.value("duties"); !strings.HasPrefix(got, "Directs traffic") {
		t.Errorf("changing the answers lost the duties: %q", got)
	}
	tb.submit(`main form button[type="submit"]`)
	tb.wantText("h1", "Check your answers before asking for the role")
	// Back goes to the answers, kept, too.
	tb.submit(`button.nhsuk-back-link`)
	tb.wantText("h1", "Ask for a new supplementary role")
	if got := tb.value("role_name"); got != "Car Park Marshal" {
		t.Errorf("going back lost the role name: %q", got)
	}
	tb.submit(`main form button[type="submit"]`)
	tb.wantText("h1", "Check your answers before asking for the role")
	tb.submit(`main form button[type="submit"]:not([name])`)

	tb.wantStatus(200, "confirmation")
	ref := tb.text(".nhsuk-panel__body strong")
	if !roleReference.MatchString(ref) {
		t.Fatalf("the reference shown is %q", ref)
	}
	tb.wantText("main", "What happens next", "supplementary roles list")
	tb.submit(`main a[href="/requests/` + ref + `"]`)
	tb.wantText("h1", "Car Park Marshal")
	tb.wantText("main", "Supplementary role request", "Who records it in ESR", "Manager", "Priya Raman", "Raised. Acknowledgement due")

	// The requests list, filtered by type, shows it with its kind.
	tb.visit("/requests?kind=supplementary_role")
	tb.wantStatus(200, "requests of one type")
	tb.wantText("main table", ref, "Car Park Marshal", "Supplementary role request", "Menopause Champion")
	if sel := tb.selected("kind"); sel != "Supplementary role requests" {
		t.Errorf("the type filter shows %q", sel)
	}
	// Another organisation's approved competency request: its summary only.
	tb.visit("/competences?q=Tier+1")
	tb.submit(`#competences a[href^="/requests/NCR-"]`)
	tb.wantText("main", "You can see the summary of this request", "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 3 Years|", "Cotswold Vale")
	if strings.Contains(tb.text("main"), "Timeline") {
		t.Error("another organisation sees the timeline")
	}

	// The same role again: the check page warns that it is already asked for.
	tb.visit("/supplementary-roles/request")
	tb.typeInto("role_name", "car park marshal")
	tb.typeIntoTextarea("duties", "Traffic.")
	tb.tick("input_level", "professional_user")
	tb.tick("wellbeing", "no")
	tb.typeIntoTextarea("justification", "Incidents.")
	tb.typeIntoTextarea("benefits", "Cover.")
	tb.typeIntoTextarea("organisations", "Ours")
	tb.submit(`main form button[type="submit"]`)
	tb.wantText("#similar-requests", "A similar request is open", ref)
	tb.check()
}

// TestBrowserRaiseNationalCompetencyRequest: a name with a vertical bar and no link to national
// learning or an initiative are refused; the check page shows the ESR label; the central team approves
// it from their queue and it joins the competence list, linked to the request.
func TestBrowserRaiseNationalCompetencyRequest(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	tb := openTab(t, p)
	tb.visit("/sign-in")
	tb.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)

	tb.visit("/competences")
	tb.wantText("h1", "NHS MAND competence list")
	tb.wantText("#competences", "NHS|CSTF|Fire Safety - 2 Years|", "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 3 Years|")
	tb.submit(`main a[href="/competences/request"]`)
	tb.wantText("h1", "Ask for a national competence")
	tb.typeInto("competence_name", "Falls Prevention | Adults")
	tb.tick("framework", "MAND")
	tb.typeInto("renewal_years", "1")
	tb.typeIntoTextarea("staff_groups", "Nurses and healthcare assistants on adult wards")
	tb.typeIntoTextarea("justification", "Falls are the most reported patient safety incident in hospitals.")
	tb.submit(`main form button[type="submit"]`)
	tb.wantStatus(422, "a name with a bar and no national link")
	tb.wantText(".nhsuk-error-summary", "must not contain a vertical bar", "Enter the national learning or the national initiative")
	if links := tb.attrs(".nhsuk-error-summary a", "href"); !slices.Equal(links, []string{"#competence_name", "#national_learning"}) {
		t.Errorf("the error summary links to %v", links)
	}
	tb.typeInto("competence_name", "Falls Prevention for Adults")
	tb.typeInto("national_learning", "Falls prevention e-learning, e-learning for healthcare hub")
	tb.submit(`main form button[type="submit"]`)

	tb.wantStatus(200, "check your answers")
	tb.wantText("#esr-label", "NHS|MAND|Falls Prevention for Adults - 1 Year|")
	tb.submit(`main form button[type="submit"]:not([name])`)
	ref := tb.text(".nhsuk-panel__body strong")
	if !competenceReference.MatchString(ref) {
		t.Fatalf("the reference shown is %q", ref)
	}
	tb.wantText("main", "NHS MAND competence list")
	tb.check()

	// The central team finds it in their queue, starts the review and approves it.
	central := openTab(t, p)
	central.visit("/sign-in")
	central.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	central.submit(`a.nhsuk-header__navigation-link[href="/supplementary-roles"]`)
	central.submit(`main a[href="/supplementary-roles/queue"]`)
	central.wantText("h1", "Supplementary role requests")
	central.submit(`main nav a[href="/competences/queue"]`)
	central.wantText("h1", "National competency requests")
	central.wantText("#queue", ref, "Falls Prevention for Adults")
	central.submit(`#queue a[href="/requests/` + ref + `"]`)
	central.wantText("main", "ESR label", "NHS|MAND|Falls Prevention for Adults - 1 Year|", "Acknowledgement due")
	central.submit(`form[action="/requests/` + ref + `/actions/acknowledge"] button[type="submit"]`)
	central.wantText("main", "Under review")
	central.submit(`main a[href="/requests/` + ref + `/actions/reject"]`)
	central.submit(`main form button[type="submit"]`)
	central.wantStatus(422, "a rejection without a reason")
	central.wantText(".nhsuk-error-summary", "Enter the reason it is rejected")
	central.visit("/requests/" + ref + "/actions/approve")
	central.wantText("main", "What it adds to the list", "NHS|MAND|Falls Prevention for Adults - 1 Year|")
	central.submit(`main form button[type="submit"]`)
	central.wantPath("/requests/"+ref, "after approving")
	central.wantText("main", "Approved: added to the NHS MAND competence list", "is now on the competence list")
	central.check()

	// Everyone sees it on the list, linked to the request.
	tb.visit("/competences?q=falls")
	tb.wantText("#competences", "NHS|MAND|Falls Prevention for Adults - 1 Year|", ref)
	tb.submit(`#competences a[href="/requests/` + ref + `"]`)
	tb.wantText("main", "Approved")
	tb.check()
}
