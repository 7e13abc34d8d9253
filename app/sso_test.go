package app

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/sso"
)

// mfaUser is a user whose ID token carries acr and amr claims.
type mfaUser struct {
	*mockoidc.MockUser
	acr string
	amr []string
}

func (u *mfaUser) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &struct {
		*mockoidc.IDTokenClaims
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		Name          string   `json:"name"`
		ACR           string   `json:"acr,omitempty"`
		AMR           []string `json:"amr,omitempty"`
	}{c, u.Email, u.EmailVerified, "Jo Tester", u.acr, u.amr}, nil
}

// withProvider runs a real OpenID Connect provider in the test process and gives the portal it as
// "sso", trusting acr "AAL3" and amr "mfa" as a second factor.
func withProvider(t *testing.T, p *testPortal) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	p.app.providers = []*sso.Provider{{ID: "sso", Label: "NHS CIS2", Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Scopes: []string{"openid", "email", "profile"}, MFAACR: []string{"AAL3"}, MFAAMR: []string{"mfa"}}}
	return m
}

// atProvider follows the portal's redirect to the provider, which signs the queued user in at once and
// sends the browser back: it returns the portal's callback path with the code and state.
func atProvider(t *testing.T, authURL string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("the provider answered %d", res.StatusCode)
	}
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(back.Path, "/sign-in/oidc/sso/callback") {
		t.Fatalf("the provider sent the browser to %s", back)
	}
	return back.Path + "?" + back.RawQuery
}

// startSSO asks the portal to sign in with the provider and checks what it sends to the provider.
func startSSO(t *testing.T, b *browser, next string) string {
	t.Helper()
	res := b.get("/sign-in/oidc/sso?next=" + url.QueryEscape(next))
	if res.status != 303 {
		t.Fatalf("start single sign-on: %d\n%s", res.status, excerpt(res.body))
	}
	auth, err := url.Parse(res.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := auth.Query()
	for _, k := range []string{"state", "nonce", "code_challenge", "client_id", "redirect_uri"} {
		if q.Get(k) == "" {
			t.Errorf("the authorization request has no %s", k)
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("the authorization request is %v", q)
	}
	return auth.String()
}

func TestSingleSignOnRoundTrip(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	m := withProvider(t, p)
	requester := p.users[identity.RoleRequester]

	// A first sign-in links the account with the provider's verified email address.
	start := time.Now()
	b := p.anonymous()
	m.QueueUser(&mockoidc.MockUser{Subject: "cis2-0001", Email: strings.ToUpper(requester.Email), EmailVerified: true})
	callback := atProvider(t, startSSO(t, b, "/requests"))
	res := b.get(callback)
	if res.status != 303 || res.header.Get("Location") != "/requests" {
		t.Fatalf("callback: %d %s\n%s", res.status, res.header.Get("Location"), excerpt(res.body))
	}
	mustStatus(t, b.get("/requests"), 200, "signed in with the provider")
	t.Logf("a whole OpenID Connect sign-in (discovery, authorization, code exchange with PKCE, ID token check, session): %s", time.Since(start).Round(time.Millisecond))
	if !auditMentions(t, p, "user.identity_linked") {
		t.Error("linking is not audited")
	}
	// The same callback a second time is refused: the state is used up.
	mustStatus(t, p.anonymous().get(callback), 403, "the callback replayed in another browser")
	b2 := p.anonymous()
	b2.cookies = map[string]string{p.app.oidcStateCookie(): "x"}
	mustStatus(t, b2.get(callback), 403, "the callback replayed")

	// Later sign-ins find the account by the provider's subject, whatever email it then sends.
	m.QueueUser(&mockoidc.MockUser{Subject: "cis2-0001", Email: "renamed@example.nhs.uk", EmailVerified: true})
	b = p.anonymous()
	mustStatus(t, b.get(atProvider(t, startSSO(t, b, "/"))), 303, "second sign-in by subject")
	mustStatus(t, b.get("/"), 200, "home")

	// An elevated user: a second factor shown by acr satisfies the portal's rule; without it, the
	// portal asks for its own passcode.
	central := p.users[identity.RoleCentralTeam]
	m.QueueUser(&mfaUser{MockUser: &mockoidc.MockUser{Subject: "cis2-0002", Email: central.Email, EmailVerified: true}, acr: "AAL3"})
	b = p.anonymous()
	mustStatus(t, b.get(atProvider(t, startSSO(t, b, "/triage"))), 303, "elevated, with a smartcard")
	mustStatus(t, b.get("/triage"), 200, "triage with the provider's second factor")
	m.QueueUser(&mfaUser{MockUser: &mockoidc.MockUser{Subject: "cis2-0002", Email: central.Email, EmailVerified: true}, acr: "AAL1", amr: []string{"pwd"}})
	b = p.anonymous()
	mustStatus(t, b.get(atProvider(t, startSSO(t, b, "/triage"))), 303, "elevated, password only")
	if res := b.get("/triage"); res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/sign-in/code") {
		t.Errorf("a password-only sign-in of an elevated user: %d %s", res.status, res.header.Get("Location"))
	}
	m.QueueUser(&mfaUser{MockUser: &mockoidc.MockUser{Subject: "cis2-0002", Email: central.Email, EmailVerified: true}, amr: []string{"pwd", "mfa"}})
	b = p.anonymous()
	mustStatus(t, b.get(atProvider(t, startSSO(t, b, "/triage"))), 303, "elevated, amr mfa")
	mustStatus(t, b.get("/triage"), 200, "triage with amr mfa")
}

func TestSingleSignOnRefusals(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	m := withProvider(t, p)
	requester := p.users[identity.RoleRequester]
	refused := func(res response, what, words string) {
		t.Helper()
		mustStatus(t, res, 403, what)
		if !strings.Contains(res.body, words) {
			t.Errorf("%s: the page lacks %q\n%s", what, words, excerpt(res.body))
		}
		if _, ok := res.header["Set-Cookie"]; ok {
			for _, c := range res.cookies {
				if c.Name == p.app.sessionCookieName() && c.Value != "" {
					t.Errorf("%s: a session was started", what)
				}
			}
		}
	}

	// An email address the provider has not verified.
	m.QueueUser(&mockoidc.MockUser{Subject: "u1", Email: requester.Email, EmailVerified: false})
	b := p.anonymous()
	refused(b.get(atProvider(t, startSSO(t, b, "/"))), "unverified email", "has not confirmed your email address")

	// Someone with no account, when the provider does not let people ask for one.
	m.QueueUser(&mockoidc.MockUser{Subject: "u2", Email: "stranger@example.nhs.uk", EmailVerified: true})
	b = p.anonymous()
	refused(b.get(atProvider(t, startSSO(t, b, "/"))), "no account", "There is no portal account for stranger@example.nhs.uk")

	// A state that is not this browser's, or none.
	m.QueueUser(&mockoidc.MockUser{Subject: "u3", Email: requester.Email, EmailVerified: true})
	b = p.anonymous()
	cb := atProvider(t, startSSO(t, b, "/"))
	b.cookies[p.app.oidcStateCookie()] = "another-browsers-state"
	refused(b.get(cb), "wrong state cookie", "did not work")
	b = p.anonymous()
	m.QueueUser(&mockoidc.MockUser{Subject: "u3", Email: requester.Email, EmailVerified: true})
	cb = atProvider(t, startSSO(t, b, "/"))
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("state", "tampered")
	refused(b.get(u.Path+"?"+q.Encode()), "wrong state", "did not work")

	// A nonce that is not this login's: the ID token is refused.
	m.QueueUser(&mockoidc.MockUser{Subject: "u4", Email: requester.Email, EmailVerified: true})
	b = p.anonymous()
	cb = atProvider(t, startSSO(t, b, "/"))
	if _, err := p.db.DB.NewRaw(`UPDATE oidc_logins SET nonce = 'not-the-nonce-sent'`).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	refused(b.get(cb), "wrong nonce", "did not work")

	// A login older than ten minutes.
	m.QueueUser(&mockoidc.MockUser{Subject: "u5", Email: requester.Email, EmailVerified: true})
	b = p.anonymous()
	cb = atProvider(t, startSSO(t, b, "/"))
	p.clock.Advance(11 * time.Minute)
	refused(b.get(cb), "an old login", "did not work")

	// A disabled account.
	mustStatus(t, p.as(p.users[identity.RoleAdmin]).post(userPath(requester, "/disable"), url.Values{"version": {"1"}}), 303, "disable")
	m.QueueUser(&mockoidc.MockUser{Subject: "u6", Email: requester.Email, EmailVerified: true})
	b = p.anonymous()
	refused(b.get(atProvider(t, startSSO(t, b, "/"))), "disabled account", "cannot be used to sign in")

	// An unknown provider.
	mustStatus(t, p.anonymous().get("/sign-in/oidc/nobody"), 404, "unknown provider")
	if n, err := p.db.DB.NewSelect().Table("sessions").Count(t.Context()); err != nil || n != 1 {
		t.Errorf("%d sessions after refusals (%v), want only the administrator's", n, err)
	}
}

// TestIDTokenChecks hands the provider's verifier ID tokens that are wrong in one way each.
func TestIDTokenChecks(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	m := withProvider(t, p)
	prov := p.app.providers[0]
	cfg := m.Config()
	now := time.Now()
	token := func(k *mockoidc.Keypair, change func(*mockoidc.IDTokenClaims, *struct{ v bool })) string {
		t.Helper()
		c := &mockoidc.IDTokenClaims{Nonce: "n-1", RegisteredClaims: &jwt.RegisteredClaims{
			Issuer: cfg.Issuer, Subject: "s-1", Audience: jwt.ClaimStrings{cfg.ClientID},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
		verified := &struct{ v bool }{true}
		if change != nil {
			change(c, verified)
		}
		s, err := k.SignJWT(&struct {
			*mockoidc.IDTokenClaims
			Email         string `json:"email"`
			EmailVerified bool   `json:"email_verified"`
		}{c, "jo@example.nhs.uk", verified.v})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if id, err := prov.Verify(t.Context(), token(m.Keypair, nil), "n-1"); err != nil || id.Email != "jo@example.nhs.uk" || id.Subject != "s-1" {
		t.Fatalf("a good ID token: %v %v", id, err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := mockoidc.NewKeypair(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{
		"signed with another key": token(other, nil),
		"another issuer":          token(m.Keypair, func(c *mockoidc.IDTokenClaims, _ *struct{ v bool }) { c.Issuer = "https://evil.example" }),
		"another audience":        token(m.Keypair, func(c *mockoidc.IDTokenClaims, _ *struct{ v bool }) { c.Audience = jwt.ClaimStrings{"someone-else"} }),
		"expired": token(m.Keypair, func(c *mockoidc.IDTokenClaims, _ *struct{ v bool }) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
		}),
		"another nonce":     token(m.Keypair, func(c *mockoidc.IDTokenClaims, _ *struct{ v bool }) { c.Nonce = "n-2" }),
		"email not checked": token(m.Keypair, func(_ *mockoidc.IDTokenClaims, v *struct{ v bool }) { v.v = false }),
		"not a token":       "abc.def.ghi",
	} {
		if _, err := prov.Verify(t.Context(), raw, "n-1"); err == nil {
			t.Errorf("an ID token %s was accepted", name)
		}
	}
}
