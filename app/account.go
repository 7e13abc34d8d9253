package app

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/forms"
)

type passwordPage struct {
	Page
	MustChange bool
}

func (a *App) passwordEdit(c *fiber.Ctx) error {
	p := &passwordPage{Page: a.page(c, "Change your password"), MustChange: visitOf(c).user.MustChangePassword}
	if p.MustChange {
		p.Title = "Choose your own password"
	}
	return a.render(c, fiber.StatusOK, "account/password", p)
}

// passwordUpdate changes the user's password. Someone who signed in with a one-time password they were
// given has typed it a moment ago, so they are not asked for it again.
func (a *App) passwordUpdate(c *fiber.Ctx) error {
	v := visitOf(c)
	u := v.user
	p := &passwordPage{Page: a.page(c, "Change your password"), MustChange: u.MustChangePassword}
	var f forms.ChangePassword
	var errs forms.Errors
	if p.MustChange {
		p.Title = "Choose your own password"
		var first forms.FirstPassword
		if err := c.BodyParser(&first); err != nil {
			return fiber.ErrBadRequest
		}
		errs = a.validate.Check(&first)
		f.New, f.Confirm = first.New, first.Confirm
	} else {
		if err := c.BodyParser(&f); err != nil {
			return fiber.ErrBadRequest
		}
		errs = a.validate.Check(&f)
		if errs.Get("current_password") == "" && f.Current != "" && f.Current == f.New {
			errs.Add("new_password", "Your new password must be different from your current one")
		}
	}
	if errs.Any() {
		return a.invalid(c, "account/password", &p.Page, errs, p)
	}
	passed := identity.Passed{At: v.session.VerifiedAt, By: v.session.VerifiedBy}
	token, err := identity.ChangePassword(c.UserContext(), a.db, a.throttle, a.actor(c), a.now(), u.ID, f.Current, f.New, a.client(c), passed, p.MustChange)
	switch {
	case errors.Is(err, identity.ErrWrongPassword):
		var errs forms.Errors
		errs.Add("current_password", "Your current password is not correct")
		return a.invalid(c, "account/password", &p.Page, errs, p)
	case errors.Is(err, identity.ErrThrottled):
		var errs forms.Errors
		errs.Add("current_password", "There have been too many attempts with your current password. Wait 15 minutes, then try again")
		p.Errors = errs
		return a.render(c, fiber.StatusTooManyRequests, "account/password", p)
	}
	if err != nil {
		return err
	}
	a.setCookie(c, a.sessionCookieName(), token)
	v.token = token // the message below is for the new session
	a.flash(c, "Your password has been changed. You have been signed out everywhere else.")
	return c.Redirect("/", fiber.StatusSeeOther)
}
