package app

import (
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// TestBrowserTwoFactorJourneys is the second factor as people meet it, in one browser: an administrator
// signs in with a passcode and adds a central team member; they sign in with the password they were
// given, choose their own, set up an authenticator from the QR code's key and keep their recovery
// codes; then sign in with a recovery code instead of a passcode. Each journey is timed.
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
}
