package app

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/sso"
	"github.com/nhs-esr/portal/forms"
)

type signInPage struct {
	Page
	Form      forms.SignIn
	SignedOut bool
	Expired   bool
	Requested bool
	Providers []*sso.Provider
}

func (a *App) signInShow(c *fiber.Ctx) error {
	if visitOf(c).user != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	p := &signInPage{Page: a.page(c, "Sign in"), Form: forms.SignIn{Next: c.Query("next")},
		SignedOut: c.Query("signed_out") != "", Expired: c.Query("expired") != "", Requested: c.Query("requested") != "", Providers: a.providers}
	return a.render(c, fiber.StatusOK, "sessions/new", p)
}

func (a *App) signInCreate(c *fiber.Ctx) error {
	var f forms.SignIn
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p := &signInPage{Page: a.page(c, "Sign in"), Form: f, Providers: a.providers}
	p.Form.Password = "" // never sent back
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "sessions/new", &p.Page, errs, p)
	}
	token, _, err := identity.SignIn(c.UserContext(), a.db, a.now(), a.throttle, identity.SignInRequest{
		Email: f.Email, Password: f.Password, Client: a.client(c), RequestID: requestID(c),
		PreviousToken: c.Cookies(a.sessionCookieName()),
	})
	switch {
	case errors.Is(err, identity.ErrInvalidCredentials):
		var errs forms.Errors
		errs.Add("email", "Enter a correct email address and password")
		return a.invalid(c, "sessions/new", &p.Page, errs, p)
	case errors.Is(err, identity.ErrThrottled):
		var errs forms.Errors
		errs.Add("email", "There have been too many attempts to sign in. Wait 15 minutes, then try again")
		p.Errors = errs
		return a.render(c, fiber.StatusTooManyRequests, "sessions/new", p)
	case database.IsUnavailable(err):
		// The sign-in page needs no database: it comes back with the email address kept.
		a.log.Warn("service unavailable", "err", err, "path", c.Path(), "request_id", requestID(c))
		var errs forms.Errors
		errs.Add("", signInUnavailableMessage)
		p.Errors = errs
		c.Set(fiber.HeaderRetryAfter, retryAfterSeconds)
		return a.render(c, fiber.StatusServiceUnavailable, "sessions/new", p)
	case err != nil:
		return err
	}
	a.setCookie(c, a.sessionCookieName(), token)
	return c.Redirect(safeNext(f.Next), fiber.StatusSeeOther)
}

func (a *App) signOut(c *fiber.Ctx) error {
	v := visitOf(c)
	if err := identity.SignOut(c.UserContext(), a.db, a.actor(c), a.now(), v.token); err != nil {
		return err
	}
	a.clearCookie(c, a.sessionCookieName())
	return c.Redirect("/sign-in?signed_out=1", fiber.StatusSeeOther)
}
