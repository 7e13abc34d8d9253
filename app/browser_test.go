package app

// Journeys through the real portal in headless Chromium. Every page a test opens is checked with
// axe-core against WCAG 2.2 A and AA (see browser_harness_test.go); PORTAL_SCREENSHOTS=DIR saves each
// one as a PNG.

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// signIn fills in the sign-in page shown and sends it, and then, for a demo account with an
// authenticator, the passcode page with the demo authenticator's next code.
func (tb *tab) signIn(email, password string) {
	tb.t.Helper()
	tb.typeInto("email", email)
	if password != "" {
		tb.typeInto("password", password)
	}
	tb.submit(`form[action="/sign-in"] button[type="submit"]`)
	if strings.HasPrefix(tb.url, tb.base+"/sign-in/code") {
		tb.enterPasscode(tb.portal.nextPasscode(tb.t, email))
	}
}

// enterPasscode types a passcode into the passcode page shown and sends it.
func (tb *tab) enterPasscode(code string) {
	tb.t.Helper()
	tb.typeInto("code", code)
	tb.submit(`form[action="/sign-in/code"] button[type="submit"]`)
}

// role ticks or clears the roles checkbox of role on the user form shown.
func (tb *tab) role(role string, tick bool) {
	tb.t.Helper()
	sel := `input[name="roles"][value="` + role + `"]`
	ids := tb.attrs(sel, "id")
	if len(ids) != 1 {
		tb.t.Fatalf("no checkbox for the role %s on %s", role, tb.url)
	}
	if tb.checked(ids[0]) != tick {
		tb.step("click the role "+role, chromedp.Click(chromedp.CSS(sel)))
	}
	if tb.checked(ids[0]) != tick {
		tb.t.Fatalf("clicking the role %s did not change it", role)
	}
}

// TestBrowserSignInEachRole signs in as each demo account, opens every page of its menu and signs out.
func TestBrowserSignInEachRole(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	if len(p.accounts) != len(identity.Roles) {
		t.Fatalf("%d demo accounts for %d roles", len(p.accounts), len(identity.Roles))
	}
	for _, acc := range p.accounts {
		t.Run(acc.Role, func(t *testing.T) {
			t.Parallel()
			tb := openTab(t, p)

			tb.visit("/")
			tb.wantPath("/sign-in", "the home page, signed out")
			tb.wantStatus(200, "sign-in page")
			tb.signIn(acc.Email, seed.DemoPassword)
			tb.wantPath("/", "after signing in")
			tb.wantStatus(200, "home page")
			tb.wantText("h1", "Welcome, "+acc.Name)
			tb.wantText(".nhsuk-header__account", acc.Name)
			tb.wantText("main", identity.RoleTitle(acc.Role))

			menu := tb.attrs("a.nhsuk-header__navigation-link", "href")
			if !slices.Contains(menu, "/") || !slices.Contains(menu, "/schedules") {
				t.Errorf("menu %v lacks Home or the Development Schedules", menu)
			}
			if account := tb.attrs("a.nhsuk-header__account-link", "href"); !slices.Equal(account, []string{"/notifications", "/account"}) {
				t.Errorf("the account links are %v", account)
			}
			if admin := slices.Contains(menu, "/admin/users"); admin != (acc.Role == identity.RoleAdmin) {
				t.Errorf("menu %v: shows Users = %v for the role %s", menu, admin, acc.Role)
			}
			for _, href := range menu {
				tb.submit(`a.nhsuk-header__navigation-link[href="` + href + `"]`)
				tb.wantPath(href, "menu link")
				tb.wantStatus(200, "menu link "+href)
				if current := tb.attrs(`a.nhsuk-header__navigation-link[aria-current="page"]`, "href"); !slices.Equal(current, []string{href}) {
					t.Errorf("on %s the menu marks %v as the current page", href, current)
				}
			}

			tb.submit(".nhsuk-header__account-button")
			tb.wantPath("/sign-in?signed_out=1", "after signing out")
			tb.wantText(".nhsuk-notification-banner", "You have signed out")
			tb.visit("/")
			tb.wantPath("/sign-in", "the home page after signing out")
		})
	}
}

// TestBrowserSignInValidationError sends the sign-in form without a password, follows the error
// summary to the field, and then signs in.
func TestBrowserSignInValidationError(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	acc := p.account(t, identity.RoleRequester)
	tb := openTab(t, p)

	tb.visit("/sign-in")
	tb.signIn(acc.Email, "")
	tb.wantStatus(422, "sign in without a password")
	tb.wantText(".nhsuk-error-summary", "There is a problem", "Enter your password")
	if links := tb.attrs(".nhsuk-error-summary a", "href"); !slices.Equal(links, []string{"#password"}) {
		t.Errorf("the error summary links to %v, want [#password]", links)
	}
	tb.wantText("#password-error", "Enter your password")
	if got := tb.value("email"); got != acc.Email {
		t.Errorf("the email field holds %q after the error, want %q", got, acc.Email)
	}
	if title := tb.title(); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("the page title %q does not start with Error:", title)
	}
	// The design system's script moves the focus to the summary, and its link to the field.
	if f := tb.focused(); !strings.Contains(f, "nhsuk-error-summary") {
		t.Errorf("the focus is on %q, not the error summary", f)
	}
	tb.step("follow the error summary's link", chromedp.Click(chromedp.CSS(`.nhsuk-error-summary a[href="#password"]`)))
	if f := tb.focused(); f != "password" {
		t.Errorf("after following the error summary's link the focus is on %q, not #password", f)
	}

	tb.typeInto("password", seed.DemoPassword)
	tb.submit(`form[action="/sign-in"] button[type="submit"]`)
	tb.wantPath("/", "after signing in")
	tb.wantText("h1", "Welcome, "+acc.Name)
}

var oneTimePassword = regexp.MustCompile(`^[a-zA-Z2-9]{5}(-[a-zA-Z2-9]{5}){3}$`)

// TestBrowserAdminManagesAUser adds a user (after a form error), changes their roles, disables them and
// finds the changes in the audit trail.
func TestBrowserAdminManagesAUser(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	acc := p.account(t, identity.RoleAdmin)
	tb := openTab(t, p)

	tb.visit("/sign-in")
	tb.signIn(acc.Email, seed.DemoPassword)
	tb.submit(`a.nhsuk-header__navigation-link[href="/admin/users"]`)
	tb.wantStatus(200, "users")
	// The demo NSIG seat holders fill the first pages, so find the demo administrator and requester.
	tb.visit("/admin/users?q=nowak")
	tb.wantText("main", "Tomasz Nowak")
	tb.visit("/admin/users?q=raman")
	tb.wantText("main", "Priya Raman")

	// Add a user: a bad email and no role first.
	tb.submit(`main a.nhsuk-button[href="/admin/users/new"]`)
	tb.wantPath("/admin/users/new", "Add a user")
	tb.typeInto("name", "Aisha Patel")
	tb.typeInto("email", "aisha.patel@")
	tb.choose("organisation_id", "Kingsbridge University Hospitals")
	tb.role(identity.RoleRequester, false)
	tb.submit(`form[action="/admin/users"] button[type="submit"]`)
	tb.wantStatus(422, "a user with a bad email and no role")
	tb.wantText(".nhsuk-error-summary", "There is a problem", "Select at least one role")
	links := tb.attrs(".nhsuk-error-summary a", "href")
	if !slices.Contains(links, "#email") || !slices.Contains(links, "#roles") {
		t.Errorf("the error summary links to %v, want #email and #roles", links)
	}
	if tb.text("#email-error") == "" || tb.text("#roles-error") == "" {
		t.Error("the email and roles fields show no inline error")
	}
	if got := tb.value("name"); got != "Aisha Patel" {
		t.Errorf("the name field holds %q after the error", got)
	}
	if got := tb.value("email"); got != "aisha.patel@" {
		t.Errorf("the email field holds %q after the error", got)
	}
	if got := tb.selected("organisation_id"); !strings.Contains(got, "Kingsbridge") {
		t.Errorf("the organisation chosen is %q after the error", got)
	}

	tb.typeInto("email", "aisha.patel@kingsbridge.example")
	tb.role(identity.RoleNSIGMember, true)
	tb.submit(`form[action="/admin/users"] button[type="submit"]`)
	tb.wantStatus(200, "add a user")
	tb.wantText(".nhsuk-panel", "Aisha Patel has been added")
	if pw := tb.text(".nhsuk-panel__body strong"); !oneTimePassword.MatchString(pw) {
		t.Errorf("the one-time password shown is %q", pw)
	}

	// Their page, then change their roles.
	details := tb.attrs(`main a[href^="/admin/users/"]`, "href")[0]
	tb.submit(`main a[href="` + details + `"]`)
	tb.wantPath(details, "the new user's page")
	tb.wantText("h1", "Aisha Patel")
	tb.wantText(".nhsuk-summary-list", "aisha.patel@kingsbridge.example", "NSIG member", "Active", "Never")
	userID := strings.TrimPrefix(details, "/admin/users/")

	tb.submit(`main a[href="` + details + `/edit"]`)
	tb.wantStatus(200, "change the user")
	tb.wantText("h1", "Change Aisha Patel")
	tb.role(identity.RoleNSIGMember, false)
	tb.role(identity.RoleCentralTeam, true)
	tb.typeIntoTextarea("reason", "Joins the central team's triage rota")
	tb.submit(`form[action="` + details + `"] button[type="submit"]`)
	tb.wantPath(details, "after saving the changes")
	// The central team role is elevated: it waits for a second administrator, and the history says why.
	tb.wantText(".nhsuk-notification-banner", "Changes to Aisha Patel saved", "Central team needs a second administrator")
	tb.wantText("main", "Joins the central team's triage rota", "Waiting")

	// Disable them.
	tb.submit(`form[action="` + details + `/disable"] button[type="submit"]`)
	tb.wantPath(details, "after disabling")
	tb.wantText(".nhsuk-notification-banner", "Aisha Patel has been disabled")
	tb.wantText(".nhsuk-summary-list", "Disabled")
	tb.wantText("main", "Enable this user")

	// The users list, filtered.
	tb.submit(`a.nhsuk-header__navigation-link[href="/admin/users"]`)
	tb.typeInto("q", "aisha")
	tb.choose("status", "Disabled")
	tb.submit(`form.portal-filter button[type="submit"]`)
	tb.wantStatus(200, "filtered users")
	tb.wantText("main", "1 user", "Aisha Patel", "Disabled")

	// The audit trail, filtered to the new user's role change, then with a filter it refuses.
	tb.submit(`a.nhsuk-header__navigation-link[href="/admin/audit"]`)
	tb.wantStatus(200, "audit trail")
	// Actions read as words, not codes, and are chosen by them.
	tb.wantText("main", "User added", "Signed in", "Authenticator code accepted")
	tb.choose("action", "Roles changed")
	tb.typeInto("entity_id", userID)
	tb.submit(`form.portal-filter button[type="submit"]`)
	tb.wantStatus(200, "filtered audit trail")
	if !strings.Contains(tb.url, "action=user.roles_changed") || !strings.Contains(tb.url, "entity_id="+userID) {
		t.Errorf("the filtered audit trail is at %s", tb.url)
	}
	tb.wantText("main", "1 event", "Roles changed", "Tomasz Nowak", "Aisha Patel")
	if rows := tb.attrs("table.portal-audit-table tbody tr", "class"); len(rows) != 1 {
		t.Errorf("the filtered audit trail has %d rows, want 1", len(rows))
	}

	// Done by: a name typed, not a user ID.
	tb.typeInto("who", "nowak")
	tb.typeInto("from-day", "31")
	tb.typeInto("from-month", "2")
	tb.typeInto("from-year", "2026")
	tb.submit(`form.portal-filter button[type="submit"]`)
	tb.wantStatus(422, "audit trail with a bad filter")
	tb.wantText(".nhsuk-error-summary", "Enter a real date")
	if got := tb.value("who"); got != "nowak" {
		t.Errorf("the done-by field holds %q after the error", got)
	}
}

// TestBrowserInformationAndErrorPages opens the accessibility statement, a missing page and a
// forbidden one, signed out and signed in.
func TestBrowserInformationAndErrorPages(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	tb := openTab(t, p)

	tb.visit("/accessibility")
	tb.wantStatus(200, "accessibility statement")
	tb.wantText("h1", "Accessibility statement")
	tb.visit("/no-such-page")
	tb.wantStatus(404, "a missing page, signed out")
	tb.wantText("h1", "Page not found")

	acc := p.account(t, identity.RoleRequester)
	tb.visit("/sign-in")
	tb.signIn(acc.Email, seed.DemoPassword)
	tb.submit(`a.nhsuk-footer__list-item-link[href="/accessibility"]`)
	tb.wantStatus(200, "accessibility statement, signed in")
	tb.visit("/requests/12345")
	tb.wantStatus(404, "a missing page, signed in")
	tb.wantText("h1", "Page not found")
	tb.wantText(".nhsuk-header__account", acc.Name)
	tb.visit("/admin/users")
	tb.wantStatus(403, "a requester opening the users page")
	tb.wantText("h1", "You do not have permission")
}

// TestBrowserWithoutJavaScript signs in, reaches the home page and signs out with scripts off: the
// portal must work without them. axe-core needs JavaScript, so these pages are not checked with it.
func TestBrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	acc := p.account(t, identity.RoleCentralTeam)
	tb := openTab(t, p, withoutJavaScript)

	tb.visit("/")
	tb.wantPath("/sign-in", "the home page, signed out")
	if class := tb.attrs("body", "class"); len(class) != 1 || strings.Contains(class[0], "js-enabled") {
		t.Fatalf("the page's scripts ran (body class %q)", class)
	}
	tb.signIn(acc.Email, seed.DemoPassword)
	tb.wantPath("/", "after signing in")
	tb.wantStatus(200, "home page")
	html := tb.html()
	for _, want := range []string{"Welcome, " + acc.Name, "Acknowledge, triage and classify requests", "Sign out"} {
		if !strings.Contains(html, want) {
			t.Errorf("the home page lacks %q", want)
		}
	}
	tb.submit(".nhsuk-header__account-button")
	tb.wantPath("/sign-in?signed_out=1", "after signing out")
	if !strings.Contains(tb.html(), "You have signed out") {
		t.Error("the sign-in page does not say that you have signed out")
	}
}

// TestBrowserAxeFindsViolations makes sure that the accessibility check works: on a page broken on
// purpose, axe-core must report an image without alternative text and a field without a label.
func TestBrowserAxeFindsViolations(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	tb := openTab(t, p)
	tb.visit("/accessibility")
	tb.step("break the page", chromedp.Evaluate[chromedp.Void](`(() => {
		const main = document.querySelector('main');
		main.insertAdjacentHTML('beforeend', '<img src="/assets/images/nhsuk-icon-180.png"><input type="text">');
	})()`))
	var ids []string
	for _, v := range tb.axeViolations() {
		ids = append(ids, v.ID)
	}
	for _, want := range []string{"image-alt", "label"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe-core reported %v on a page with an unlabelled image and field, not %s", ids, want)
		}
	}
}
