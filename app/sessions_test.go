package app

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
)

func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	b := p.anonymous()

	res := b.get("/")
	if res.status != 303 || res.header.Get("Location") != "/sign-in" {
		t.Fatalf("anonymous home: %d %s", res.status, res.header.Get("Location"))
	}
	res = b.signIn(strings.ToUpper(u.Email), testPassword) // email matches whatever its case
	if res.status != 303 || res.header.Get("Location") != "/" {
		t.Fatalf("sign in: %d %s\n%s", res.status, res.header.Get("Location"), excerpt(res.body))
	}
	res = b.get("/")
	mustStatus(t, res, 200, "home")
	for _, want := range []string{u.Name, "Raise enhancement requests for your organisation", "Sign out"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("signed-in page Cache-Control = %q, want no-store", cc)
	}
	res = b.post("/sign-out", nil)
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/sign-in") {
		t.Fatalf("sign out: %d %s", res.status, res.header.Get("Location"))
	}
	if res := b.get("/"); res.status != 303 {
		t.Fatalf("after sign-out home gave %d", res.status)
	}
}

func TestSignInErrorsKeepEmailNotPassword(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	b := p.anonymous()
	res := b.post("/sign-in", url.Values{"email": {"not-an-email"}, "password": {"secret-typed-here"}})
	mustStatus(t, res, 422, "bad email")
	for _, want := range []string{"There is a problem", `href="#email"`, "Enter an email address in the correct format", `value="not-an-email"`, "<title>Error: "} {
		if !strings.Contains(res.body, want) {
			t.Errorf("422 page lacks %q", want)
		}
	}
	if strings.Contains(res.body, "secret-typed-here") {
		t.Error("the password was sent back in the page")
	}

	// A wrong password and an unknown account read the same, so nobody learns which accounts exist.
	wrong := b.signIn(p.users[identity.RoleAdmin].Email, "wrong password here")
	unknown := b.signIn("nobody@test.nhs.uk", "wrong password here")
	mustStatus(t, wrong, 422, "wrong password")
	mustStatus(t, unknown, 422, "unknown account")
	if !strings.Contains(wrong.body, "Enter a correct email address and password") || !strings.Contains(unknown.body, "Enter a correct email address and password") {
		t.Error("wrong password and unknown account must give the same generic message")
	}
}

func TestSessionRotatesAtSignIn(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	b := p.anonymous()
	b.signIn(u.Email, testPassword)
	first := b.cookies[p.app.sessionCookieName()]
	if first == "" {
		t.Fatal("no session cookie after sign-in")
	}
	// Signing in again from the same browser ends the old session and issues a new id.
	b.cookies[p.app.sessionCookieName()] = first
	res := b.do("POST", "/sign-in", url.Values{"email": {u.Email}, "password": {testPassword}, "_csrf": {b.csrf()}})
	mustStatus(t, res, 303, "second sign-in")
	second := b.cookies[p.app.sessionCookieName()]
	if second == "" || second == first {
		t.Fatalf("session id not rotated: %q then %q", first, second)
	}
	old := p.anonymous()
	old.cookies[p.app.sessionCookieName()] = first
	if res := old.get("/"); res.status != 303 {
		t.Fatalf("the old session still works: %d", res.status)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]

	t.Run("idle", func(t *testing.T) {
		b := p.as(u)
		mustStatus(t, b.get("/"), 200, "fresh session")
		p.clock.Advance(29 * time.Minute)
		mustStatus(t, b.get("/"), 200, "29 minutes idle")
		p.clock.Advance(31 * time.Minute)
		res := b.get("/")
		if res.status != 303 || !strings.Contains(res.header.Get("Location"), "expired=1") {
			t.Fatalf("31 minutes idle: %d %s", res.status, res.header.Get("Location"))
		}
	})
	t.Run("absolute", func(t *testing.T) {
		b := p.as(u)
		for elapsed := time.Duration(0); elapsed < 12*time.Hour; elapsed += 20 * time.Minute {
			mustStatus(t, b.get("/"), 200, "active session at "+elapsed.String())
			p.clock.Advance(20 * time.Minute)
		}
		p.clock.Advance(time.Minute)
		if res := b.get("/"); res.status != 303 {
			t.Fatalf("a session older than 12 hours still works: %d", res.status)
		}
	})
}

func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	b := p.anonymous()
	for i := 0; i < identity.DefaultThrottle.PerAccountAddress; i++ {
		mustStatus(t, b.signIn(u.Email, "not the password"), 422, "failed attempt")
	}
	// Now even the right password is refused, with a message that says nothing about the account.
	res := b.signIn(u.Email, testPassword)
	mustStatus(t, res, 429, "throttled")
	if !strings.Contains(res.body, "too many attempts to sign in") {
		t.Errorf("throttled page lacks its message:\n%s", excerpt(res.body))
	}
	for i := 0; i < identity.DefaultThrottle.PerAccountAddress; i++ {
		b.signIn("nobody@test.nhs.uk", "guess")
	}
	unknown := b.signIn("nobody@test.nhs.uk", "guess")
	mustStatus(t, unknown, 429, "unknown account throttled alike")

	p.clock.Advance(16 * time.Minute)
	res = b.signIn(u.Email, testPassword)
	mustStatus(t, res, 303, "after the window")
}

func TestDisableEndsSessionsAndSignIn(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	victim := p.createUser("leaver@test.nhs.uk", "Leaving User", identity.RoleRequester)
	s1, s2 := p.as(victim), p.as(victim)
	mustStatus(t, s1.get("/"), 200, "first session")
	mustStatus(t, s2.get("/"), 200, "second session")

	admin := p.as(p.users[identity.RoleAdmin])
	res := admin.post(userPath(victim, "/disable"), url.Values{"version": {"1"}})
	mustStatus(t, res, 303, "disable")
	for i, s := range []*browser{s1, s2} {
		if res := s.get("/"); res.status != 303 {
			t.Errorf("session %d still works after disable: %d", i+1, res.status)
		}
	}
	events, _, err := audit.List(t.Context(), p.db.DB, audit.Filter{Action: "user.disabled", EntityID: fmt.Sprint(victim.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || !strings.Contains(string(events[0].After), `"devices_signed_out": 2`) {
		t.Errorf("the disable is not audited with the two devices signed out: %v", events)
	}
	res = p.anonymous().signIn(victim.Email, testPassword)
	mustStatus(t, res, 422, "disabled user signing in")
	if !strings.Contains(res.body, "Enter a correct email address and password") {
		t.Error("a disabled user must get the generic message")
	}
	// A stale form (version 1 again) is a conflict, never a silent overwrite.
	res = admin.post(userPath(victim, "/enable"), url.Values{"version": {"1"}})
	mustStatus(t, res, 409, "enable with a stale version")
}

// TestCurrentPasswordCheckThrottledAndAudited: guesses at the current password on the change-password
// page are throttled like sign-ins and every wrong or refused one leaves an audit row.
func TestCurrentPasswordCheckThrottledAndAudited(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	b := p.as(u)
	change := func(current string) response {
		return b.post("/account/password", url.Values{"current_password": {current},
			"new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
	}
	for i := 0; i < identity.DefaultThrottle.PerAccountAddress; i++ {
		res := change(fmt.Sprintf("guess number %d", i))
		mustStatus(t, res, 422, "wrong current password")
		if !strings.Contains(res.body, "Your current password is not correct") {
			t.Fatalf("no field error:\n%s", excerpt(res.body))
		}
	}
	res := change(testPassword)
	mustStatus(t, res, 429, "the right password after five guesses")
	if !strings.Contains(res.body, "too many attempts") {
		t.Errorf("the throttled page does not say why:\n%s", excerpt(res.body))
	}
	for reason, want := range map[string]int{"wrong password": identity.DefaultThrottle.PerAccountAddress, "throttled": 1} {
		events, _, err := audit.List(t.Context(), p.db.DB, audit.Filter{Action: "user.password_check_failed", EntityID: fmt.Sprint(u.ID)})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, e := range events {
			if strings.Contains(string(e.After), `"reason": "`+reason+`"`) {
				got++
			}
		}
		if got != want {
			t.Errorf("%d audit rows for %q, want %d", got, reason, want)
		}
	}
	p.clock.Advance(16 * time.Minute)
	mustStatus(t, change(testPassword), 303, "after the window")
}
