package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/sso"
	"github.com/nhs-esr/portal/forms"
)

func (a *App) oidcStateCookie() string {
	if a.cfg.Secure() {
		return "__Host-portal_oidc"
	}
	return "portal_oidc"
}

func (a *App) oidcRedirectURL(p *sso.Provider) string {
	return a.cfg.BaseURL.String() + "/sign-in/oidc/" + url.PathEscape(p.ID) + "/callback"
}

// oidcStart sends the browser to the identity provider, with the state also in a cookie so that only
// this browser can finish the sign-in.
func (a *App) oidcStart(c *fiber.Ctx) error {
	p, err := sso.Find(a.providers, c.Params("provider"))
	if err != nil {
		return fiber.ErrNotFound
	}
	authURL, state, err := sso.Begin(c.UserContext(), a.db, p, a.oidcRedirectURL(p), safeNext(c.Query("next")), a.now())
	if errors.Is(err, sso.ErrProvider) {
		a.log.Warn("identity provider unavailable", "provider", p.ID, "err", err, "request_id", requestID(c))
		return a.ssoRefused(c, fiber.StatusBadGateway, p.Label+" is not answering. Try again in a few minutes, or sign in with your email address and password.")
	}
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: a.oidcStateCookie(), Value: state, Path: "/", HTTPOnly: true, Secure: a.cfg.Secure(),
		SameSite: fiber.CookieSameSiteLaxMode, Expires: a.now().Add(10 * time.Minute)})
	return c.Redirect(authURL, fiber.StatusSeeOther)
}

// ssoRefused shows the sign-in page with why signing in with a provider did not work.
func (a *App) ssoRefused(c *fiber.Ctx, status int, message string) error {
	p := &signInPage{Page: a.page(c, "Sign in"), Providers: a.providers}
	p.Errors.Add("", message)
	return a.render(c, status, "sessions/new", p)
}

// oidcCallback finishes a sign-in with an identity provider.
func (a *App) oidcCallback(c *fiber.Ctx) error {
	p, err := sso.Find(a.providers, c.Params("provider"))
	if err != nil {
		return fiber.ErrNotFound
	}
	cookieState := c.Cookies(a.oidcStateCookie())
	a.clearCookie(c, a.oidcStateCookie())
	if e := c.Query("error"); e != "" {
		return a.ssoRefused(c, fiber.StatusForbidden, "You did not finish signing in with "+p.Label+". Try again, or sign in with your email address and password.")
	}
	id, next, err := sso.Finish(c.UserContext(), a.db, p, a.oidcRedirectURL(p), c.Query("state"), cookieState, c.Query("code"), a.now())
	switch {
	case errors.Is(err, sso.ErrEmailNotVerified):
		return a.ssoRefused(c, fiber.StatusForbidden, p.Label+" has not confirmed your email address, so the portal cannot tell which account is yours. Confirm it with "+p.Label+" first, or sign in with your email address and password.")
	case errors.Is(err, sso.ErrLoginExpired), errors.Is(err, sso.ErrStateMismatch), errors.Is(err, sso.ErrNonce), errors.Is(err, sso.ErrProvider):
		a.log.Warn("single sign-on refused", "provider", p.ID, "err", err, "request_id", requestID(c))
		return a.ssoRefused(c, fiber.StatusForbidden, "Signing in with "+p.Label+" did not work. Start again from this page.")
	case err != nil:
		return err
	}
	token, _, err := identity.SignInExternal(c.UserContext(), a.db, a.now(), identity.ExternalSignIn{
		Provider: p.ID, Subject: id.Subject, Email: id.Email, SecondFactor: id.SecondFactor,
		Client: a.client(c), RequestID: requestID(c), PreviousToken: c.Cookies(a.sessionCookieName()),
	})
	var notActive identity.ErrNotActive
	switch {
	case errors.Is(err, identity.ErrNoAccount) && p.SignUp:
		return a.startAccessRequest(c, p, id)
	case errors.Is(err, identity.ErrNoAccount):
		return a.ssoRefused(c, fiber.StatusForbidden, "There is no portal account for "+id.Email+". Ask your organisation's portal administrator to add you.")
	case errors.As(err, &notActive):
		msg := "Your portal account cannot be used to sign in. Ask your organisation's portal administrator."
		if notActive.Status == identity.StatusPending {
			msg = "Your request for access is waiting for your organisation's access approver. You will get an email when they decide."
		}
		return a.ssoRefused(c, fiber.StatusForbidden, msg)
	case err != nil:
		return err
	}
	a.setCookie(c, a.sessionCookieName(), token)
	return c.Redirect(safeNext(next), fiber.StatusSeeOther)
}

// signUp is who an identity provider vouched for, carried to the access request form in a cookie
// signed with the session secret, for 15 minutes.
type signUp struct {
	Provider string `json:"p"`
	Subject  string `json:"s"`
	Email    string `json:"e"`
	Name     string `json:"n"`
	Expires  int64  `json:"x"`
}

func (a *App) signUpCookie() string {
	if a.cfg.Secure() {
		return "__Host-portal_signup"
	}
	return "portal_signup"
}

func (a *App) signUpMAC(payload string) string {
	m := hmac.New(sha256.New, a.cfg.SessionSecret)
	m.Write([]byte("signup:" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// readSignUp returns the identity in the browser's sign-up cookie, or nil when there is none, it was
// tampered with or it has expired.
func (a *App) readSignUp(c *fiber.Ctx) *signUp {
	payload, mac, ok := strings.Cut(c.Cookies(a.signUpCookie()), ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(a.signUpMAC(payload))) {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	var s signUp
	if json.Unmarshal(raw, &s) != nil || a.now().Unix() > s.Expires {
		return nil
	}
	return &s
}

// startAccessRequest is a sign-in by someone with no account, with a provider that lets them ask for one.
func (a *App) startAccessRequest(c *fiber.Ctx, p *sso.Provider, id *sso.Identity) error {
	raw, err := json.Marshal(signUp{Provider: p.ID, Subject: id.Subject, Email: id.Email, Name: id.Name, Expires: a.now().Add(15 * time.Minute).Unix()})
	if err != nil {
		return err
	}
	payload := base64.RawURLEncoding.EncodeToString(raw)
	c.Cookie(&fiber.Cookie{Name: a.signUpCookie(), Value: payload + "." + a.signUpMAC(payload), Path: "/", HTTPOnly: true,
		Secure: a.cfg.Secure(), SameSite: fiber.CookieSameSiteLaxMode, Expires: a.now().Add(15 * time.Minute)})
	return c.Redirect("/sign-in/request-access", fiber.StatusSeeOther)
}

type accessRequestFormPage struct {
	Page
	Email               string
	Provider            string
	Form                forms.AccessRequest
	OrganisationOptions []Option
}

func (a *App) accessRequestFormPage(c *fiber.Ctx, s *signUp, f forms.AccessRequest) (*accessRequestFormPage, error) {
	orgs, err := organisation.List(c.UserContext(), a.db)
	if err != nil {
		return nil, err
	}
	opts := []Option{{Value: "", Label: "Select your organisation"}}
	for _, o := range orgs {
		if o.MergedIntoID == 0 {
			opts = append(opts, Option{Value: strconv.FormatInt(o.ID, 10), Label: fmt.Sprintf("%s (%s)", o.Name, o.ODSCode)})
		}
	}
	label := s.Provider
	if p, err := sso.Find(a.providers, s.Provider); err == nil {
		label = p.Label
	}
	return &accessRequestFormPage{Page: a.page(c, "Ask for access to the portal"), Email: s.Email, Provider: label, Form: f, OrganisationOptions: opts}, nil
}

// accessRequestNew asks someone a provider vouched for, who has no account, which organisation they
// are from and why they need access.
func (a *App) accessRequestNew(c *fiber.Ctx) error {
	s := a.readSignUp(c)
	if s == nil {
		// Nobody to ask for: the page says how to start.
		return a.render(c, fiber.StatusOK, "access/request", &accessRequestFormPage{Page: a.page(c, "Ask for access to the portal")})
	}
	p, err := a.accessRequestFormPage(c, s, forms.AccessRequest{Name: s.Name})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "access/request", p)
}

func (a *App) accessRequestCreate(c *fiber.Ctx) error {
	s := a.readSignUp(c)
	if s == nil {
		return a.ssoRefused(c, fiber.StatusGone, "Your sign-in with your organisation's account has expired. Sign in with it again to ask for access.")
	}
	var f forms.AccessRequest
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.accessRequestFormPage(c, s, f)
	if err != nil {
		return err
	}
	errs := a.validate.Check(&f)
	orgID, _ := strconv.ParseInt(f.OrganisationID, 10, 64)
	if errs.Get("organisation_id") == "" {
		if o, err := organisation.Get(c.UserContext(), a.db, orgID); errors.Is(err, problem.ErrNotFound) || (err == nil && o.MergedIntoID != 0) {
			errs.Add("organisation_id", "Select your organisation from the list")
		} else if err != nil {
			return err
		}
	}
	if errs.Any() {
		return a.invalid(c, "access/request", &p.Page, errs, p)
	}
	_, err = identity.RequestAccess(c.UserContext(), a.db, a.now(), identity.AccessRequestIn{
		Provider: s.Provider, Subject: s.Subject, Email: s.Email, Name: f.Name, OrganisationID: orgID, Reason: f.Reason,
		Client: a.client(c), RequestID: requestID(c),
	})
	if errors.Is(err, identity.ErrEmailTaken) {
		errs.Add("name", "There is already an account for "+s.Email+": sign in with it, or ask your portal administrator")
		return a.invalid(c, "access/request", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.clearCookie(c, a.signUpCookie())
	return c.Redirect("/sign-in?requested=1", fiber.StatusSeeOther)
}
