package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// TestBrowserTwoFactorJourneys is the second factor as people meet it, in one browser: an administrator
// signs in with a passcode and adds a central team member; they sign in with the password they were
// given, choose their own, set up an authenticator from the QR code's key and keep their recovery
// codes; then sign in with a recovery code instead of a passcode. Then the administrator schedules
// planned downtime, whose banner then shows on the pages; and an organisation's access review is
// marked person by person and signed off. Each journey is timed.
func TestBrowserTwoFactorJourneys(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	admin := p.account(t, identity.RoleAdmin)
	tb := openTab(t, p)

	// Signing in with a passcode.
	start := time.Now()
	tb.visit("/admin/users/new")
	tb.wantPath("/sign-in?next=%2Fadmin%2Fusers%2Fnew", "the user form, signed out")
	tb.typeInto("email", admin.Email)
	tb.typeInto("password", seed.DemoPassword)
	tb.submit(`form[action="/sign-in"] button[type="submit"]`)
	if !strings.HasPrefix(tb.url, p.baseURL+"/sign-in/code") {
		t.Fatalf("after the password: at %s, want the passcode page", tb.url)
	}
	tb.wantText("h1", "Enter the code from your authenticator app")
	tb.typeInto("code", "000000")
	tb.submit(`form[action="/sign-in/code"] button[type="submit"]`)
	tb.wantStatus(422, "a wrong passcode")
	tb.wantText(".nhsuk-error-summary", "The code is not right")
	tb.enterPasscode(p.nextPasscode(t, admin.Email))
	tb.wantPath("/admin/users/new", "after the passcode, the page asked for")
	t.Logf("sign-in with a passcode (password, a wrong code, the right code): %s", time.Since(start).Round(time.Millisecond))

	// Adding a central team member: a sensitive action, but the passcode is fresh.
	tb.typeInto("name", "Idris Campbell")
	tb.typeInto("email", "idris.campbell@esr-central.example")
	tb.choose("organisation_id", "ESR National Central Team")
	tb.role(identity.RoleRequester, false)
	tb.role(identity.RoleCentralTeam, true)
	tb.submit(`form[action="/admin/users"] button[type="submit"]`)
	tb.wantStatus(200, "add a user")
	given := tb.text(".nhsuk-panel__body strong")
	tb.wantText("main", "waits for a second administrator")
	tb.submit(".nhsuk-header__account-button")
	// A second administrator authorises it (their own journey is tested over HTTP).
	second, err := identity.Create(t.Context(), p.db, audit.Actor{Name: "test"}, time.Now(), identity.NewUser{
		Email: "second.admin@esr-central.example", Name: "Second Admin", OrganisationID: 1, Roles: []string{identity.RoleAdmin}, Password: "a long test password",
	})
	if err != nil {
		t.Fatal(err)
	}
	var grant int64
	if err := p.db.NewSelect().Table("role_grants").Column("id").Where("status = 'pending'").Scan(t.Context(), &grant); err != nil {
		t.Fatal(err)
	}
	if _, err := identity.DecideGrant(t.Context(), p.db, audit.Actor{Name: "test"}, second, time.Now(), grant, true, ""); err != nil {
		t.Fatal(err)
	}

	// Their first sign-in: the password they were given, their own, then an authenticator.
	start = time.Now()
	tb.signIn("idris.campbell@esr-central.example", given)
	tb.wantPath("/account/password", "after signing in with a given password")
	tb.wantText("h1", "Choose your own password")
	if strings.Contains(tb.html(), `name="current_password"`) {
		t.Error("the first password page asks again for the password just typed")
	}
	tb.typeInto("new_password", "kettle lantern orchard violet")
	tb.typeInto("confirm_password", "kettle lantern orchard violet")
	tb.submit(`form[action="/account/password"] button[type="submit"]`)
	tb.wantPath("/account/two-factor", "after choosing a password")
	tb.wantText("h1", "Set up two-factor authentication")
	if src := tb.attrs("img.portal-qr", "src"); len(src) != 1 || !strings.HasPrefix(src[0], "data:image/png;base64,") {
		t.Fatalf("the QR code is %v", src)
	}
	secret := strings.ReplaceAll(tb.text("#totp-secret"), " ", "")
	code, err := identity.CodeAt(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tb.typeInto("code", code)
	tb.submit(`form[action="/account/two-factor"] button[type="submit"]`)
	tb.wantStatus(200, "turn on two-factor")
	tb.wantText("main", "Two-factor authentication is on", "Save your recovery codes")
	codes := strings.Fields(tb.text("#recovery-codes"))
	if len(codes) != identity.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown: %v", len(codes), codes)
	}
	tb.submit(`main a.nhsuk-button[href="/"]`)
	tb.wantText("h1", "Welcome, Idris Campbell")
	t.Logf("first sign-in with enrolment (given password, own password, QR key, code, recovery codes): %s", time.Since(start).Round(time.Millisecond))
	tb.submit(".nhsuk-header__account-button")

	// A recovery code instead of the passcode.
	start = time.Now()
	tb.typeInto("email", "idris.campbell@esr-central.example")
	tb.typeInto("password", "kettle lantern orchard violet")
	tb.submit(`form[action="/sign-in"] button[type="submit"]`)
	tb.submit(`main a[href^="/sign-in/recovery"]`)
	tb.wantText("h1", "Enter a recovery code")
	tb.typeInto("code", codes[3])
	tb.submit(`form[action="/sign-in/recovery"] button[type="submit"]`)
	tb.wantPath("/", "after a recovery code")
	tb.wantText(".nhsuk-notification-banner", "cannot be used again")
	t.Logf("sign-in with a recovery code: %s", time.Since(start).Round(time.Millisecond))

	tb.submit(".nhsuk-header__account-button")

	// Planned downtime: the administrator schedules it, and its banner shows on every page.
	start = time.Now()
	tb.signIn(admin.Email, seed.DemoPassword)
	tb.visit("/admin/downtime/new")
	tb.tick("kind", "planned")
	tb.typeInto("message", "ESR Release 73 is being installed")
	day := time.Now().In(london).AddDate(0, 0, 1)
	for _, f := range []string{"starts", "ends"} {
		tb.typeInto(f+"-day", fmt.Sprint(day.Day()))
		tb.typeInto(f+"-month", fmt.Sprint(int(day.Month())))
		tb.typeInto(f+"-year", fmt.Sprint(day.Year()))
	}
	tb.typeInto("starts-time", "18:00")
	tb.typeInto("ends-time", "20:00")
	tb.typeInto("show_days", "3")
	tb.submit(`form[action="/admin/downtime"] button[type="submit"]`)
	tb.wantStatus(200, "schedule downtime")
	tb.visit("/requests")
	tb.wantText(".portal-downtime", "ESR Release 73 is being installed")
	t.Logf("planned downtime scheduled and its banner shown: %s", time.Since(start).Round(time.Millisecond))

	// An access review: the administrator confirms the people only they may (the approver and national
	// roles), the approver everyone else, then signs it off, after being told everyone must be marked.
	start = time.Now()
	if _, err := identity.OpenReviews(t.Context(), p.db, time.Now(), london, identity.DefaultReviewPolicy(6)); err != nil {
		t.Fatal(err)
	}
	approverAccount := p.account(t, identity.RoleAccessApprover)
	approver, err := identity.GetByEmail(t.Context(), p.db, approverAccount.Email)
	if err != nil {
		t.Fatal(err)
	}
	var review int64
	if err := p.db.NewSelect().Table("access_reviews").Column("id").Where("organisation_id = ?", approver.OrganisationID).Scan(t.Context(), &review); err != nil {
		t.Fatal(err)
	}
	people, err := identity.ReviewEntries(t.Context(), p.db, review)
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/access-reviews/%d", review)
	keep := func(e identity.ReviewEntry) {
		t.Helper()
		tb.step("keep "+e.UserName, chromedp.Click(chromedp.CSS(fmt.Sprintf("#decision-%d", e.UserID))))
		tb.submit(fmt.Sprintf(`form[action="%s/people/%d"] button[type="submit"]`, path, e.UserID))
		tb.wantStatus(200, "keep "+e.UserName)
		tb.wantText(".nhsuk-notification-banner--success", e.UserName+" is marked still needed")
	}
	tb.visit(path)
	for _, e := range people {
		if e.UserID == approver.ID || e.National() {
			keep(e)
		}
	}
	tb.submit(".nhsuk-header__account-button")
	tb.signIn(approverAccount.Email, seed.DemoPassword)
	tb.visit("/access-reviews")
	tb.submit(fmt.Sprintf(`main a[href="%s"]`, path))
	tb.wantText("h1", approver.OrganisationName)
	tb.submit(fmt.Sprintf(`form[action="%s/sign-off"] button[type="submit"]`, path))
	tb.wantStatus(422, "sign off with nobody marked")
	tb.wantText(".nhsuk-error-summary", "Confirm the statement")
	for _, e := range people {
		if e.UserID != approver.ID && !e.National() {
			keep(e)
		}
	}
	tb.step("confirm the statement", chromedp.Click(chromedp.CSS("#confirm")))
	tb.submit(fmt.Sprintf(`form[action="%s/sign-off"] button[type="submit"]`, path))
	tb.wantStatus(200, "sign off the review")
	tb.wantText(".nhsuk-notification-banner--success", "is signed off")
	tb.wantText("main", "Signed off by "+approver.Name)
	t.Logf("access review of %d people marked and signed off: %s", len(people), time.Since(start).Round(time.Millisecond))
}
