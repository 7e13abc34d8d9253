package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/forms"
)

// The steps a signed-in browser may owe before it can use the portal's pages, in the order they are
// asked for: the passcode of an enrolled user, a new password for one given a one-time password, and
// setting up an authenticator for one who holds an elevated role without one.
const (
	stepCode     = "/sign-in/code"
	stepPassword = "/account/password"
	stepEnrol    = "/account/two-factor"
)

// pendingStep is the step the visit still owes, or "".
func pendingStep(v *visit) string {
	u, s := v.user, v.session
	if u == nil || s == nil {
		return ""
	}
	switch {
	case u.TwoFactor && !s.Verified():
		return stepCode
	case u.MustChangePassword:
		return stepPassword
	case u.Elevated() && !s.Verified():
		return stepEnrol
	}
	return ""
}

// stepAllows reports whether a browser owing step may use the route at path: the step's own pages and
// signing out.
func stepAllows(step, path string) bool {
	switch path {
	case step, "/sign-out":
		return true
	case "/sign-in/recovery":
		return step == stepCode
	}
	return false
}

// toStep sends the browser to the step it owes; a page it asked for comes back after the passcode.
func (a *App) toStep(c *fiber.Ctx, step string) error {
	target := step
	if step == stepCode && c.Method() == fiber.MethodGet && c.Path() != "/" {
		target += "?" + url.Values{"next": {c.OriginalURL()}}.Encode()
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// needsReconfirm reports whether a sensitive action must ask the user for a passcode again: anyone
// whose sign-in needs a second factor, when the session passed it more than FreshFor ago.
func (a *App) needsReconfirm(v *visit) bool {
	if v.user == nil || v.session == nil {
		return false
	}
	return (v.user.Elevated() || v.user.TwoFactor) && !v.session.Fresh(a.now())
}

type reconfirmPage struct {
	Page
	Action   string
	Fields   []hiddenField
	HasCode  bool   // the user has an authenticator; otherwise they sign in again
	Provider string // the identity provider that verified the session, to sign in again with
}

// reconfirm asks for a passcode before a sensitive action whose session passed its second factor too
// long ago. The page carries the action's form as it was sent, so a right code carries on with it and
// nothing typed is lost. It returns nil and continues (true) when the code sent with the form is right.
func (a *App) reconfirm(c *fiber.Ctx, v *visit) (bool, error) {
	p := &reconfirmPage{Page: a.page(c, "Enter a code to carry on"), Action: c.OriginalURL(), HasCode: v.user.TwoFactor}
	if by, ok := strings.CutPrefix(v.session.VerifiedBy, "oidc:"); ok {
		p.Provider = by
	}
	ct := string(c.Request().Header.ContentType())
	if strings.HasPrefix(ct, fiber.MIMEApplicationForm) {
		for k, val := range c.Request().PostArgs().All() {
			if name := string(k); name != "_csrf" && name != "_passcode" {
				p.Fields = append(p.Fields, hiddenField{name, string(val)})
			}
		}
	}
	if !p.HasCode {
		return false, a.render(c, fiber.StatusForbidden, "twofactor/reconfirm", p)
	}
	var f forms.Reconfirm
	f.Code = c.FormValue("_passcode")
	if !c.Request().PostArgs().Has("_passcode") {
		return false, a.render(c, fiber.StatusForbidden, "twofactor/reconfirm", p)
	}
	if errs := a.validate.Check(&f); errs.Any() {
		return false, a.invalid(c, "twofactor/reconfirm", &p.Page, errs, p)
	}
	err := identity.VerifyCode(c.UserContext(), a.db, a.sealer, a.throttle, a.now(), identity.SecondFactorCheck{
		User: v.user, Token: v.token, Code: f.Code, Client: a.client(c), Actor: a.actor(c),
	})
	if errs, status := passcodeErrors(err, "_passcode"); errs.Any() {
		p.Errors = errs
		return false, a.render(c, status, "twofactor/reconfirm", p)
	}
	if err != nil {
		return false, err
	}
	v.session.VerifiedAt, v.session.VerifiedBy = a.now(), identity.VerifiedByTOTP
	return true, nil
}

// passcodeErrors words a refused passcode for the field and says the status to answer with; none for
// an error that is not a refusal.
func passcodeErrors(err error, field string) (forms.Errors, int) {
	var errs forms.Errors
	switch {
	case errors.Is(err, identity.ErrWrongCode):
		errs.Add(field, "The code is not right. Enter the 6-digit code your authenticator app shows now")
		return errs, fiber.StatusUnprocessableEntity
	case errors.Is(err, identity.ErrCodeUsed):
		errs.Add(field, "That code has been used already. Wait for your authenticator app to show a new one, then enter it")
		return errs, fiber.StatusUnprocessableEntity
	case errors.Is(err, identity.ErrThrottled):
		errs.Add(field, "There have been too many attempts with a code. Wait 15 minutes, then try again")
		return errs, fiber.StatusTooManyRequests
	}
	return nil, 0
}

type codePage struct {
	Page
	Form forms.Passcode
}

// signInCodeShow asks for the passcode after the password.
func (a *App) signInCodeShow(c *fiber.Ctx) error {
	v := visitOf(c)
	if pendingStep(v) != stepCode {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	p := &codePage{Page: a.page(c, "Enter the code from your authenticator app"), Form: forms.Passcode{Next: c.Query("next")}}
	return a.render(c, fiber.StatusOK, "twofactor/code", p)
}

func (a *App) signInCodeCreate(c *fiber.Ctx) error {
	v := visitOf(c)
	var f forms.Passcode
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	if pendingStep(v) != stepCode {
		return c.Redirect(safeNext(f.Next), fiber.StatusSeeOther)
	}
	p := &codePage{Page: a.page(c, "Enter the code from your authenticator app"), Form: f}
	p.Form.Code = ""
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "twofactor/code", &p.Page, errs, p)
	}
	err := identity.VerifyCode(c.UserContext(), a.db, a.sealer, a.throttle, a.now(), identity.SecondFactorCheck{
		User: v.user, Token: v.token, Code: f.Code, Client: a.client(c), Actor: a.actor(c),
	})
	if errs, status := passcodeErrors(err, "code"); errs.Any() {
		p.Errors = errs
		return a.render(c, status, "twofactor/code", p)
	}
	if err != nil {
		return err
	}
	return c.Redirect(safeNext(f.Next), fiber.StatusSeeOther)
}

type recoveryPage struct {
	Page
	Form forms.RecoveryCode
}

func (a *App) signInRecoveryShow(c *fiber.Ctx) error {
	v := visitOf(c)
	if pendingStep(v) != stepCode {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	p := &recoveryPage{Page: a.page(c, "Enter a recovery code"), Form: forms.RecoveryCode{Next: c.Query("next")}}
	return a.render(c, fiber.StatusOK, "twofactor/recovery", p)
}

func (a *App) signInRecoveryCreate(c *fiber.Ctx) error {
	v := visitOf(c)
	var f forms.RecoveryCode
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	if pendingStep(v) != stepCode {
		return c.Redirect(safeNext(f.Next), fiber.StatusSeeOther)
	}
	p := &recoveryPage{Page: a.page(c, "Enter a recovery code"), Form: f}
	p.Form.Code = ""
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "twofactor/recovery", &p.Page, errs, p)
	}
	left, err := identity.UseRecoveryCode(c.UserContext(), a.db, a.sealer, a.throttle, a.now(), identity.SecondFactorCheck{
		User: v.user, Token: v.token, Code: f.Code, Client: a.client(c), Actor: a.actor(c),
	})
	if errors.Is(err, identity.ErrWrongCode) {
		var errs forms.Errors
		errs.Add("code", "That is not one of your recovery codes, or it has been used already")
		return a.invalid(c, "twofactor/recovery", &p.Page, errs, p)
	}
	if errs, status := passcodeErrors(err, "code"); errs.Any() {
		p.Errors = errs
		return a.render(c, status, "twofactor/recovery", p)
	}
	if err != nil {
		return err
	}
	msg := "You have signed in with a recovery code. It cannot be used again."
	switch {
	case left == 0:
		msg += " You have no recovery codes left: ask an administrator to reset your two-factor authentication to get new ones."
	case left <= 3:
		msg += fmt.Sprintf(" You have %d recovery codes left.", left)
	}
	a.flash(c, msg)
	return c.Redirect(safeNext(f.Next), fiber.StatusSeeOther)
}

type twoFactorPage struct {
	Page
	Form      forms.Passcode
	Enrolled  bool
	Required  bool // the user's roles need it
	CodesLeft int
	Secret    string       // the secret being set up, in groups of four for typing
	QRCode    template.URL // its QR code, a data: URL of a PNG made here
	Codes     []string
}

func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// twoFactorPageFor is the two-factor page for the user: its state, or an authenticator to set up.
func (a *App) twoFactorPageFor(c *fiber.Ctx) (*twoFactorPage, error) {
	u := visitOf(c).user
	p := &twoFactorPage{Page: a.page(c, "Two-factor authentication"), Enrolled: u.TwoFactor, Required: u.Elevated()}
	if u.TwoFactor {
		n, err := identity.RecoveryCodesLeft(c.UserContext(), a.db, u.ID)
		p.CodesLeft = n
		return p, err
	}
	p.Title = "Set up two-factor authentication"
	e, err := identity.PendingEnrolment(c.UserContext(), a.db, a.sealer, a.now(), u)
	if err != nil {
		return nil, err
	}
	png, err := e.QRCode(240)
	if err != nil {
		return nil, err
	}
	p.Secret = groupSecret(e.Secret)
	p.QRCode = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)) // #nosec G203 -- base64 of our own PNG
	return p, nil
}

func (a *App) twoFactorShow(c *fiber.Ctx) error {
	p, err := a.twoFactorPageFor(c)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "twofactor/setup", p)
}

// twoFactorCreate confirms the authenticator being set up with a code from it and shows the recovery
// codes, once.
func (a *App) twoFactorCreate(c *fiber.Ctx) error {
	v := visitOf(c)
	var f forms.Passcode
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	if v.user.TwoFactor {
		return c.Redirect("/account/two-factor", fiber.StatusSeeOther)
	}
	p, err := a.twoFactorPageFor(c)
	if err != nil {
		return err
	}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "twofactor/setup", &p.Page, errs, p)
	}
	codes, err := identity.ConfirmEnrolment(c.UserContext(), a.db, a.sealer, a.throttle, a.now(), identity.SecondFactorCheck{
		User: v.user, Token: v.token, Code: f.Code, Client: a.client(c), Actor: a.actor(c),
	})
	if errs, status := passcodeErrors(err, "code"); errs.Any() {
		p.Errors = errs
		return a.render(c, status, "twofactor/setup", p)
	}
	if err != nil {
		return err
	}
	// Shown once, never stored: this page is the only place they can be read.
	done := &twoFactorPage{Page: a.page(c, "Save your recovery codes"), Enrolled: true, Codes: codes}
	done.Nav = nil
	return a.render(c, fiber.StatusOK, "twofactor/codes", done)
}

// userResetTwoFactor removes another user's authenticator; they set up a new one when they next sign in.
func (a *App) userResetTwoFactor(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	err = identity.ResetFactor(c.UserContext(), a.db, a.actor(c), a.now(), id)
	switch {
	case errors.Is(err, identity.ErrOwnFactor):
		return fiber.NewError(fiber.StatusForbidden, "You cannot reset your own two-factor authentication. Ask another administrator.")
	case errors.Is(err, identity.ErrNotEnrolled):
		a.flash(c, "They have no two-factor authentication to reset.")
		return c.Redirect(fmt.Sprintf("/admin/users/%d", id), fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	a.flash(c, "Their two-factor authentication has been reset and they have been signed out. They have been told by email, and will set it up again when they next sign in.")
	return c.Redirect(fmt.Sprintf("/admin/users/%d", id), fiber.StatusSeeOther)
}
