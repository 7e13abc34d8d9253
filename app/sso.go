package app

import (
	"errors"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/sso"
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

// startAccessRequest is a sign-in by someone with no account, with a provider that lets them ask for one.
func (a *App) startAccessRequest(c *fiber.Ctx, p *sso.Provider, id *sso.Identity) error {
	return a.ssoRefused(c, fiber.StatusForbidden, "There is no portal account for "+id.Email+". Ask your organisation's portal administrator to add you.")
}
