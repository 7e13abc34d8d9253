package app

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
)

// signInToCode signs in with the password and checks that the browser is then asked for its passcode.
func signInToCode(t *testing.T, b *browser, u *identity.User) {
	t.Helper()
	mustStatus(t, b.signIn(u.Email, testPassword), 303, "sign in")
	res := b.get("/")
	if res.status != 303 || res.header.Get("Location") != "/sign-in/code" {
		t.Fatalf("after the password, home gave %d %s, want the passcode page", res.status, res.header.Get("Location"))
	}
}

// auditMentions reports whether any audit row holds s.
func auditMentions(t *testing.T, p *testPortal, s string) bool {
	t.Helper()
	n, err := p.db.DB.NewSelect().Table("audit_events").
		Where("coalesce(before::text, '') || coalesce(after::text, '') || action LIKE ?", "%"+s+"%").Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestSignInAsksElevatedUsersForTheirPasscode(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleCentralTeam]
	b := p.anonymous()
	signInToCode(t, b, u)

	// Every page, and every action, waits for the passcode; a page asked for comes back after it.
	res := b.get("/triage")
	if res.status != 303 || res.header.Get("Location") != "/sign-in/code?next=%2Ftriage" {
		t.Fatalf("triage before the passcode: %d %s", res.status, res.header.Get("Location"))
	}
	if res := b.post("/requests/ENH-2026-0001/comments", url.Values{"body": {"hello"}}); res.status != 303 || res.header.Get("Location") != "/sign-in/code" {
		t.Fatalf("an action before the passcode: %d %s", res.status, res.header.Get("Location"))
	}
	res = b.get("/sign-in/code?next=%2Ftriage")
	mustStatus(t, res, 200, "passcode page")
	if !strings.Contains(res.body, `autocomplete="one-time-code"`) || !strings.Contains(res.body, `value="/triage"`) {
		t.Errorf("the passcode page lacks its field or the page to return to:\n%s", excerpt(res.body))
	}

	// Refusals: nothing, letters, a wrong code, a code from two steps ago.
	for name, code := range map[string]string{"empty": "", "letters": "abcdef", "wrong": "000000", "too long": strings.Repeat("1", 21)} {
		res := b.post("/sign-in/code", url.Values{"code": {code}, "next": {"/triage"}})
		mustStatus(t, res, 422, name+" code")
		if !strings.Contains(res.body, "There is a problem") || !strings.Contains(res.body, `value="/triage"`) {
			t.Errorf("%s code: no error summary or the page to return to is lost", name)
		}
	}
	old, err := identity.CodeAt(testTOTPSecret, p.clock.Now().Add(-61*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, b.post("/sign-in/code", url.Values{"code": {old}}), 422, "a code two steps old")

	// A code from the next step is accepted (clocks drift), and sends the browser on.
	next, err := identity.CodeAt(testTOTPSecret, p.clock.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	res = b.post("/sign-in/code", url.Values{"code": {next[:3] + " " + next[3:]}, "next": {"/triage"}})
	if res.status != 303 || res.header.Get("Location") != "/triage" {
		t.Fatalf("right code: %d %s\n%s", res.status, res.header.Get("Location"), excerpt(res.body))
	}
	mustStatus(t, b.get("/triage"), 200, "triage after the passcode")

	// The same code, or this step's (now behind the one used), is refused to another sign-in.
	other := p.anonymous()
	signInToCode(t, other, u)
	res = other.post("/sign-in/code", url.Values{"code": {next}})
	mustStatus(t, res, 422, "replayed code")
	if !strings.Contains(res.body, "That code has been used already") {
		t.Errorf("the replayed code is not explained:\n%s", excerpt(res.body))
	}
	mustStatus(t, other.passCode(testTOTPSecret, 0), 422, "a code older than the one used")
	p.clock.Advance(60 * time.Second)
	mustStatus(t, other.passCode(testTOTPSecret, 0), 303, "the next code")

	// The audit trail records each outcome, never a code or the secret.
	for _, action := range []string{"session.second_factor_passed", "session.second_factor_failed"} {
		if !auditMentions(t, p, action) {
			t.Errorf("no %s in the audit trail", action)
		}
	}
	for _, secret := range []string{next, old, testTOTPSecret} {
		if auditMentions(t, p, secret) {
			t.Errorf("the audit trail holds %q", secret)
		}
	}
}

func TestPasscodeAttemptsAreThrottled(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleAdmin]
	b := p.anonymous()
	signInToCode(t, b, u)
	for i := range identity.DefaultThrottle.PerAccountAddress {
		mustStatus(t, b.post("/sign-in/code", url.Values{"code": {"000000"}}), 422, "wrong code "+string(rune('1'+i)))
	}
	res := b.passCode(testTOTPSecret, 0)
	mustStatus(t, res, 429, "right code after too many wrong ones")
	if !strings.Contains(res.body, "too many attempts with a code") {
		t.Errorf("the throttle is not explained:\n%s", excerpt(res.body))
	}
	var kinds []string
	if err := p.db.DB.NewSelect().Table("auth_attempts").Column("kind").Distinct().Scan(t.Context(), &kinds); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(kinds, ","), string(identity.AttemptSecondFactor)) {
		t.Errorf("the attempts are counted as %v", kinds)
	}
	// The window passes and the code works.
	p.clock.Advance(identity.DefaultThrottle.Window + time.Second)
	b.cookies = map[string]string{}
	signInToCode(t, b, u)
	mustStatus(t, b.passCode(testTOTPSecret, 0), 303, "right code after the window")
}

var (
	qrImage      = regexp.MustCompile(`src="data:image/png;base64,([A-Za-z0-9/=]|&#43;){200,}"`)
	shownSecret  = regexp.MustCompile(`<code>([A-Z2-7 ]{32,})</code>`)
	recoveryCode = regexp.MustCompile(`<code>([a-z2-9]{5}-[a-z2-9]{5})</code>`)
)

func TestElevatedUsersMustEnrolAndRecoveryCodesWorkOnce(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.createUser("new.central@test.nhs.uk", "New Central", identity.RoleCentralTeam, identity.RoleRequester)
	b := p.anonymous()
	mustStatus(t, b.signIn(u.Email, testPassword), 303, "sign in")
	for _, path := range []string{"/", "/triage", "/requests", "/account/notifications"} {
		if res := b.get(path); res.status != 303 || res.header.Get("Location") != "/account/two-factor" {
			t.Fatalf("%s before enrolling: %d %s", path, res.status, res.header.Get("Location"))
		}
	}
	res := b.get("/account/two-factor")
	mustStatus(t, res, 200, "set-up page")
	if !qrImage.MatchString(res.body) {
		t.Fatalf("the set-up page has no QR code made by the portal:\n%s", excerpt(res.body))
	}
	m := shownSecret.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("the set-up page does not show the key:\n%s", excerpt(res.body))
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	// The secret is sealed in the database.
	var sealed []byte
	if err := p.db.DB.NewSelect().Table("totp_factors").Column("secret_sealed").Where("user_id = ?", u.ID).Scan(t.Context(), &sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), secret) || len(sealed) < 40 {
		t.Fatal("the secret is stored as it is")
	}
	// The page shown again offers the same key.
	if again := shownSecret.FindStringSubmatch(b.get("/account/two-factor").body); again == nil || again[1] != m[1] {
		t.Error("the set-up page offers a new key when shown again")
	}

	// A wrong code keeps the same key on the page.
	res = b.post("/account/two-factor", url.Values{"code": {"123456"}})
	mustStatus(t, res, 422, "wrong code at enrolment")
	if again := shownSecret.FindStringSubmatch(res.body); again == nil || again[1] != m[1] {
		t.Error("after a wrong code the key changed")
	}
	code, err := identity.CodeAt(secret, p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	res = b.post("/account/two-factor", url.Values{"code": {code}})
	mustStatus(t, res, 200, "enrol")
	codes := recoveryCode.FindAllStringSubmatch(res.body, -1)
	if len(codes) != identity.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown, want %d", len(codes), identity.RecoveryCodeCount)
	}
	mustStatus(t, b.get("/triage"), 200, "triage after enrolling")
	if res := b.get("/account/two-factor"); !strings.Contains(res.body, "Two-factor authentication is on") || recoveryCode.MatchString(res.body) {
		t.Error("the two-factor page does not say it is on, or shows the recovery codes again")
	}
	// Recovery codes are kept as keyed hashes only.
	var hashes [][]byte
	if err := p.db.DB.NewSelect().Table("recovery_codes").Column("code_hash").Where("user_id = ?", u.ID).Scan(t.Context(), &hashes); err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256([]byte(strings.ReplaceAll(codes[0][1], "-", "")))
	for _, h := range hashes {
		if string(h) == string(plain[:]) || strings.Contains(string(h), codes[0][1]) {
			t.Fatal("a recovery code is stored unkeyed")
		}
	}
	if auditMentions(t, p, secret) || auditMentions(t, p, codes[0][1]) {
		t.Fatal("the audit trail holds the secret or a recovery code")
	}
	if !auditMentions(t, p, "user.two_factor_enrolled") {
		t.Error("the enrolment is not audited")
	}

	// Signing in again asks for the code; a recovery code stands in for it, once, in any case.
	mustStatus(t, b.post("/sign-out", nil), 303, "sign out")
	signInToCode(t, b, u)
	mustStatus(t, b.post("/sign-in/recovery", url.Values{"code": {"aaaaa-bbbbb"}}), 422, "a wrong recovery code")
	res = b.post("/sign-in/recovery", url.Values{"code": {strings.ToUpper(codes[0][1])}, "next": {"/triage"}})
	if res.status != 303 || res.header.Get("Location") != "/triage" {
		t.Fatalf("recovery code: %d %s\n%s", res.status, res.header.Get("Location"), excerpt(res.body))
	}
	if res := b.get("/triage"); res.status != 200 || !strings.Contains(res.body, "cannot be used again") {
		t.Errorf("after a recovery code: %d, or no message", res.status)
	}
	other := p.anonymous()
	signInToCode(t, other, u)
	res = other.post("/sign-in/recovery", url.Values{"code": {codes[0][1]}})
	mustStatus(t, res, 422, "a used recovery code")
	if n, err := identity.RecoveryCodesLeft(t.Context(), p.db.DB, u.ID); err != nil || n != identity.RecoveryCodeCount-1 {
		t.Errorf("%d recovery codes left (%v), want %d", n, err, identity.RecoveryCodeCount-1)
	}
	// Enrolling again is refused to someone who has an authenticator.
	if res := other.post("/account/two-factor", url.Values{"code": {"123456"}}); res.status != 303 {
		t.Errorf("enrolling twice: %d", res.status)
	}
}

func TestOtherUsersMayChooseTwoFactor(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	b := p.anonymous()
	mustStatus(t, b.signIn(u.Email, testPassword), 303, "sign in")
	mustStatus(t, b.get("/"), 200, "a requester is not made to enrol")
	res := b.get("/account/two-factor")
	mustStatus(t, res, 200, "set-up page")
	m := shownSecret.FindStringSubmatch(res.body)
	if m == nil || strings.Contains(res.body, "you must set up two-factor") {
		t.Fatal("the optional set-up page is wrong")
	}
	code, err := identity.CodeAt(strings.ReplaceAll(m[1], " ", ""), p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, b.post("/account/two-factor", url.Values{"code": {code}}), 200, "enrol")
	mustStatus(t, b.post("/sign-out", nil), 303, "sign out")
	signInToCode(t, b, u)
}

func TestSensitiveActionsAskForTheCodeAgain(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	var org string
	if err := p.db.DB.NewSelect().Table("organisations").ColumnExpr("id::text").Order("id").Limit(1).Scan(t.Context(), &org); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"name": {"Kofi Mensah"}, "email": {"kofi.mensah@test.nhs.uk"}, "organisation_id": {org},
		"roles": {identity.RoleCentralTeam, identity.RoleRequester}}

	// 16 minutes after the passcode (the session is kept alive), granting roles asks for it again.
	p.clock.Advance(8 * time.Minute)
	mustStatus(t, admin.get("/admin/users"), 200, "keep the session alive")
	p.clock.Advance(8 * time.Minute)
	res := admin.post("/admin/users", form)
	mustStatus(t, res, 403, "grant roles with an old passcode")
	for _, want := range []string{`name="_passcode"`, `value="Kofi Mensah"`, `value="central_team"`, `value="requester"`, `action="/admin/users"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the passcode page lacks %s", want)
		}
	}
	if _, err := identity.GetByEmail(t.Context(), p.db.DB, "kofi.mensah@test.nhs.uk"); err == nil {
		t.Fatal("the user was added without the passcode")
	}
	bad := url.Values{"_passcode": {"000000"}}
	for k, v := range form {
		bad[k] = v
	}
	res = admin.post("/admin/users", bad)
	mustStatus(t, res, 422, "wrong passcode")
	if !strings.Contains(res.body, `value="Kofi Mensah"`) || !strings.Contains(res.body, "There is a problem") {
		t.Error("after a wrong passcode what was typed is lost")
	}
	code, err := identity.CodeAt(testTOTPSecret, p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	good := url.Values{"_passcode": {code}}
	for k, v := range form {
		good[k] = v
	}
	mustStatus(t, admin.post("/admin/users", good), 200, "grant roles with a fresh passcode")
	if _, err := identity.GetByEmail(t.Context(), p.db.DB, "kofi.mensah@test.nhs.uk"); err != nil {
		t.Fatalf("the user was not added: %v", err)
	}
	// Fresh now: the next sensitive action goes straight through.
	form.Set("email", "kofi.mensah2@test.nhs.uk")
	mustStatus(t, admin.post("/admin/users", form), 200, "a second grant within 15 minutes")

	// Pages, and actions that are not sensitive, never ask again.
	p.clock.Advance(20 * time.Minute)
	mustStatus(t, admin.get("/admin/users"), 200, "a page 20 minutes after the passcode")
	mustStatus(t, admin.post(userPath(p.users[identity.RoleRequester], "/disable"), url.Values{"version": {"1"}}), 303, "an action that is not sensitive")
}

func TestAdminResetsSomeoneElsesSecondFactor(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	central := p.users[identity.RoleCentralTeam]
	victim := p.as(central)
	mustStatus(t, victim.get("/triage"), 200, "central team before the reset")

	mustStatus(t, admin.post(userPath(p.users[identity.RoleAdmin], "/two-factor/reset"), nil), 403, "reset own second factor")
	mustStatus(t, admin.post(userPath(p.users[identity.RoleRequester], "/two-factor/reset"), nil), 303, "reset someone without one")
	if auditMentions(t, p, "user.two_factor_reset") {
		t.Fatal("resetting nothing was audited")
	}
	mustStatus(t, p.as(p.users[identity.RoleCentralTeam]).post(userPath(p.users[identity.RoleDevelopmentTeam], "/two-factor/reset"), nil), 403, "the central team resets a factor")

	mustStatus(t, admin.post(userPath(central, "/two-factor/reset"), nil), 303, "reset")
	if res := admin.get(userPath(central, "")); !strings.Contains(res.body, "has been reset") {
		t.Error("no message after the reset")
	}
	if !auditMentions(t, p, "user.two_factor_reset") {
		t.Error("the reset is not audited")
	}
	var subjects []string
	if err := p.db.DB.NewSelect().Table("email_outbox").Column("subject").Where("user_id = ?", central.ID).Scan(t.Context(), &subjects); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(subjects, "|"), "two-factor authentication has been reset") {
		t.Errorf("the person was not told by email: %v", subjects)
	}
	// Their sessions ended; signing in makes them set up an authenticator again.
	if res := victim.get("/triage"); res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/sign-in") {
		t.Errorf("their session survived the reset: %d %s", res.status, res.header.Get("Location"))
	}
	b := p.anonymous()
	mustStatus(t, b.signIn(central.Email, testPassword), 303, "sign in")
	if res := b.get("/"); res.header.Get("Location") != "/account/two-factor" {
		t.Errorf("after the reset, home gave %d %s", res.status, res.header.Get("Location"))
	}
}

func TestFirstSignInAsksOnlyForTheNewPassword(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	var org string
	if err := p.db.DB.NewSelect().Table("organisations").ColumnExpr("id::text").Order("id").Limit(1).Scan(t.Context(), &org); err != nil {
		t.Fatal(err)
	}
	res := admin.post("/admin/users", url.Values{"name": {"Ana Silva"}, "email": {"ana.silva@test.nhs.uk"}, "organisation_id": {org}, "roles": {identity.RoleCentralTeam}})
	mustStatus(t, res, 200, "create user")
	// A second administrator authorises the central team role.
	second := p.as(p.createUser("second.admin@test.nhs.uk", "Second Admin", identity.RoleAdmin))
	var grant int64
	if err := p.db.DB.NewSelect().Table("role_grants").Column("id").Where("status = 'pending'").Scan(t.Context(), &grant); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, second.post(fmt.Sprintf("/access-requests/%d", grant), url.Values{"decision": {"approve"}}), 303, "the second administrator authorises")
	given := regexp.MustCompile(`[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}-[a-zA-Z2-9]{5}`).FindString(res.body)
	b := p.anonymous()
	mustStatus(t, b.signIn("ana.silva@test.nhs.uk", given), 303, "sign in with the given password")
	res = b.get("/account/password")
	mustStatus(t, res, 200, "choose a password")
	if strings.Contains(res.body, `name="current_password"`) {
		t.Error("the first password page asks for the password just typed")
	}
	mustStatus(t, b.post("/account/password", url.Values{"new_password": {"short"}, "confirm_password": {"short"}}), 422, "too short")
	res = b.post("/account/password", url.Values{"new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
	if res.status != 303 {
		t.Fatalf("choose a password: %d\n%s", res.status, excerpt(res.body))
	}
	// Then the central team's authenticator, before any page.
	if res := b.get("/"); res.header.Get("Location") != "/account/two-factor" {
		t.Errorf("after choosing a password: %d %s", res.status, res.header.Get("Location"))
	}
	// Once chosen, changing it asks for the current one.
	res = b.get("/account/password")
	if res.status == 200 {
		t.Error("the password page is open before the authenticator is set up")
	}
	u := p.as(p.users[identity.RoleRequester])
	mustStatus(t, u.post("/account/password", url.Values{"new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}}), 422, "change without the current password")
}
