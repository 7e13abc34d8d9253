// Package sso signs people in with their organisation's identity provider over OpenID Connect: the
// authorization code flow with PKCE, state and nonce. The provider proves who someone is; the portal
// still decides what they may do (identity.SignInExternal).
package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/uptrace/bun"
	"golang.org/x/oauth2"
)

// loginLifetime is how long someone has at their identity provider before the login must start again.
const loginLifetime = 10 * time.Minute

// Errors of a sign-in with a provider. None is shown as it is: the page says the sign-in did not work.
var (
	ErrUnknownProvider  = errors.New("no such identity provider")
	ErrLoginExpired     = errors.New("the sign-in took too long or was used already")
	ErrStateMismatch    = errors.New("the sign-in did not start in this browser")
	ErrNonce            = errors.New("the ID token's nonce is not this sign-in's")
	ErrEmailNotVerified = errors.New("the provider has not verified the email address")
	ErrProvider         = errors.New("the identity provider refused or failed")
)

// Provider is one OpenID Connect identity provider, from the environment.
type Provider struct {
	ID           string // in URLs: /sign-in/oidc/<ID>
	Label        string // on the sign-in page, e.g. "NHS CIS2"
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// SignUp lets someone with no account ask for one after signing in with this provider: a requester
	// account awaiting their organisation's access approver.
	SignUp bool
	// MFAACR and MFAAMR are the acr values, and amr methods, that show the provider checked a second
	// factor: a sign-in with one of them satisfies the portal's two-factor rule.
	MFAACR []string
	MFAAMR []string
	// HTTPClient talks to the provider; nil means http.DefaultClient with a 10 second timeout.
	HTTPClient *http.Client

	mu        sync.Mutex
	discovery *oidc.Provider
}

var providerID = regexp.MustCompile(`^[a-z][a-z0-9]{0,19}$`)

// FromEnv reads the providers: OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_LABEL for one
// (named "sso"), and OIDC_PROVIDERS=cis2,entra with OIDC_CIS2_ISSUER, OIDC_CIS2_CLIENT_ID, … for several.
// Each may also set _SCOPES (space-separated; default "openid email profile"), _SIGN_UP (true/false),
// _MFA_ACR and _MFA_AMR (comma-separated values that show a second factor).
func FromEnv(getenv func(string) string) ([]*Provider, error) {
	var ids []string
	if strings.TrimSpace(getenv("OIDC_ISSUER")) != "" {
		ids = append(ids, "")
	}
	for _, id := range strings.Split(getenv("OIDC_PROVIDERS"), ",") {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			if !providerID.MatchString(id) || id == "sso" {
				return nil, fmt.Errorf("OIDC_PROVIDERS: %q must be lower-case letters and digits, up to 20, starting with a letter (and not sso)", id)
			}
			if slices.Contains(ids, id) {
				return nil, fmt.Errorf("OIDC_PROVIDERS names %q twice", id)
			}
			ids = append(ids, id)
		}
	}
	var out []*Provider
	var errs []error
	for _, id := range ids {
		prefix := "OIDC_"
		if id != "" {
			prefix = "OIDC_" + strings.ToUpper(id) + "_"
		}
		get := func(name string) string { return strings.TrimSpace(getenv(prefix + name)) }
		p := &Provider{ID: id, Issuer: strings.TrimRight(get("ISSUER"), "/"), ClientID: get("CLIENT_ID"), ClientSecret: get("CLIENT_SECRET"), Label: get("LABEL")}
		if p.ID == "" {
			p.ID = "sso"
		}
		if p.Label == "" {
			p.Label = "your organisation's account"
		}
		if p.Issuer == "" || !strings.HasPrefix(p.Issuer, "https://") && !strings.HasPrefix(p.Issuer, "http://127.0.0.1") && !strings.HasPrefix(p.Issuer, "http://localhost") {
			errs = append(errs, fmt.Errorf("%sISSUER must be the provider's https:// issuer URL", prefix))
		}
		if p.ClientID == "" || p.ClientSecret == "" {
			errs = append(errs, fmt.Errorf("%sCLIENT_ID and %sCLIENT_SECRET are both needed", prefix, prefix))
		}
		p.Scopes = strings.Fields(get("SCOPES"))
		if len(p.Scopes) == 0 {
			p.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
		} else if !slices.Contains(p.Scopes, oidc.ScopeOpenID) {
			p.Scopes = append([]string{oidc.ScopeOpenID}, p.Scopes...)
		}
		if v := get("SIGN_UP"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%sSIGN_UP must be true or false", prefix))
			}
			p.SignUp = b
		}
		p.MFAACR, p.MFAAMR = list(get("MFA_ACR")), list(get("MFA_AMR"))
		out = append(out, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Find returns the provider with id.
func Find(ps []*Provider, id string) (*Provider, error) {
	for _, p := range ps {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, ErrUnknownProvider
}

func (p *Provider) client() *http.Client {
	if p.HTTPClient != nil {
		return p.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// discover reads the provider's discovery document once (and again after a failure).
func (p *Provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovery != nil {
		return p.discovery, nil
	}
	d, err := oidc.NewProvider(oidc.ClientContext(ctx, p.client()), p.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w: %w", p.Issuer, ErrProvider, err)
	}
	p.discovery = d
	return d, nil
}

func (p *Provider) oauth(d *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: d.Endpoint(), RedirectURL: redirectURL, Scopes: p.Scopes}
}

func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Begin starts a login: it keeps the state, nonce and PKCE verifier and returns the URL at the provider
// to send the browser to, and the state, which the browser must also carry in a cookie.
func Begin(ctx context.Context, db bun.IDB, p *Provider, redirectURL, next string, now time.Time) (authURL, state string, err error) {
	d, err := p.discover(ctx)
	if err != nil {
		return "", "", err
	}
	if state, err = random(); err != nil {
		return "", "", err
	}
	nonce, err := random()
	if err != nil {
		return "", "", err
	}
	verifier := oauth2.GenerateVerifier()
	if _, err := db.NewRaw(`INSERT INTO oidc_logins (state_hash, provider, nonce, verifier, next, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		hash(state), p.ID, nonce, verifier, next, now).Exec(ctx); err != nil {
		return "", "", fmt.Errorf("start sign-in with %s: %w", p.ID, err)
	}
	return p.oauth(d, redirectURL).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// Identity is who the provider says someone is.
type Identity struct {
	Provider string
	Subject  string
	Email    string
	Name     string
	// SecondFactor says the provider's acr or amr shows a second factor this provider is trusted for.
	SecondFactor bool
}

type claims struct {
	Email         string   `json:"email"`
	EmailVerified any      `json:"email_verified"` // some providers send "true"
	Name          string   `json:"name"`
	GivenName     string   `json:"given_name"`
	FamilyName    string   `json:"family_name"`
	ACR           string   `json:"acr"`
	AMR           []string `json:"amr"`
}

func verified(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// Finish completes a login when the browser comes back: the state must be one this portal gave out
// within loginLifetime, to this browser (cookieState) and for this provider, and is used up; the code is
// exchanged with the PKCE verifier; the ID token must be signed by the provider, issued by its issuer
// for this client, not expired, carry this login's nonce and a verified email address. It returns the
// identity and the page to go on to.
func Finish(ctx context.Context, db bun.IDB, p *Provider, redirectURL, state, cookieState, code string, now time.Time) (*Identity, string, error) {
	if state == "" || cookieState == "" || state != cookieState {
		return nil, "", ErrStateMismatch
	}
	var login struct {
		Provider, Nonce, Verifier, Next string
		CreatedAt                       time.Time
	}
	err := db.NewRaw(`DELETE FROM oidc_logins WHERE state_hash = ? RETURNING provider, nonce, verifier, next, created_at`, hash(state)).
		Scan(ctx, &login.Provider, &login.Nonce, &login.Verifier, &login.Next, &login.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrLoginExpired
	}
	if err != nil {
		return nil, "", fmt.Errorf("finish sign-in with %s: %w", p.ID, err)
	}
	if login.Provider != p.ID || now.Sub(login.CreatedAt) > loginLifetime {
		return nil, "", ErrLoginExpired
	}
	d, err := p.discover(ctx)
	if err != nil {
		return nil, "", err
	}
	ctx = oidc.ClientContext(ctx, p.client())
	tok, err := p.oauth(d, redirectURL).Exchange(ctx, code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		return nil, "", fmt.Errorf("exchange the code with %s: %w: %w", p.ID, ErrProvider, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, "", fmt.Errorf("%s sent no ID token: %w", p.ID, ErrProvider)
	}
	id, err := p.Verify(ctx, raw, login.Nonce)
	if err != nil {
		return nil, "", err
	}
	return id, login.Next, nil
}

// Verify checks an ID token from the provider (signature against its published keys, issuer, audience,
// expiry), that it carries nonce, and that its email address is verified, and reads who it names.
func (p *Provider) Verify(ctx context.Context, raw, nonce string) (*Identity, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	idt, err := d.Verifier(&oidc.Config{ClientID: p.ClientID}).Verify(oidc.ClientContext(ctx, p.client()), raw)
	if err != nil {
		return nil, fmt.Errorf("verify the ID token from %s: %w: %w", p.ID, ErrProvider, err)
	}
	if nonce == "" || idt.Nonce != nonce {
		return nil, ErrNonce
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("read the ID token from %s: %w: %w", p.ID, ErrProvider, err)
	}
	if c.Email == "" || !verified(c.EmailVerified) {
		return nil, ErrEmailNotVerified
	}
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
	}
	mfa := c.ACR != "" && slices.Contains(p.MFAACR, c.ACR)
	for _, m := range c.AMR {
		mfa = mfa || slices.Contains(p.MFAAMR, m)
	}
	return &Identity{Provider: p.ID, Subject: idt.Subject, Email: strings.ToLower(strings.TrimSpace(c.Email)), Name: name, SecondFactor: mfa}, nil
}

// Sweep removes logins that were never finished.
func Sweep(ctx context.Context, db bun.IDB, now time.Time) error {
	if _, err := db.NewRaw(`DELETE FROM oidc_logins WHERE created_at < ?`, now.Add(-loginLifetime)).Exec(ctx); err != nil {
		return fmt.Errorf("sweep sign-ins: %w", err)
	}
	return nil
}
