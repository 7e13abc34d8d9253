package app

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/forms"
)

type accessRequestsPage struct {
	Page
	Grants []identity.Grant
}

// accessRequestsIndex lists the changes of roles waiting for the viewer: for an access approver, their
// organisation's people; for an administrator, everyone's, and elevated roles proposed by another.
func (a *App) accessRequestsIndex(c *fiber.Ctx) error {
	gs, err := identity.PendingFor(c.UserContext(), a.db, visitOf(c).user)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "access/index", &accessRequestsPage{Page: a.page(c, "Access requests"), Grants: gs})
}

type accessRequestPage struct {
	Page
	Grant   *identity.Grant
	Form    forms.GrantDecision
	Blocked string // why the viewer may not decide it, if they may not
}

func (a *App) grantFromParam(c *fiber.Ctx) (*identity.Grant, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	g, err := identity.GetGrant(c.UserContext(), a.db, id)
	if err != nil {
		return nil, err
	}
	// Record-level: an approver sees only their own organisation's.
	u := visitOf(c).user
	if !u.HasRole(identity.RoleAdmin) && g.OrganisationID != u.OrganisationID {
		return nil, fmt.Errorf("grant %d is for another organisation: %w", id, fiber.ErrNotFound)
	}
	return g, nil
}

func blockedReason(err error) string {
	switch {
	case errors.Is(err, identity.ErrOwnGrant):
		return "You cannot authorise your own access."
	case errors.Is(err, identity.ErrSameAdmin):
		return "You asked for this role, so another administrator must authorise it."
	case errors.Is(err, identity.ErrNotApprover):
		return "Only an administrator can authorise this role."
	}
	return ""
}

func (a *App) accessRequestShow(c *fiber.Ctx) error {
	g, err := a.grantFromParam(c)
	if err != nil {
		return err
	}
	p := &accessRequestPage{Page: a.page(c, "Access for "+g.UserName), Grant: g, Blocked: blockedReason(identity.CanDecide(visitOf(c).user, g))}
	return a.render(c, fiber.StatusOK, "access/show", p)
}

// accessRequestDecide authorises or refuses a waiting change of roles.
func (a *App) accessRequestDecide(c *fiber.Ctx) error {
	g, err := a.grantFromParam(c)
	if err != nil {
		return err
	}
	var f forms.GrantDecision
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	u := visitOf(c).user
	p := &accessRequestPage{Page: a.page(c, "Access for "+g.UserName), Grant: g, Form: f, Blocked: blockedReason(identity.CanDecide(u, g))}
	if p.Blocked != "" {
		return fiber.NewError(fiber.StatusForbidden, p.Blocked)
	}
	errs := a.validate.Check(&f)
	if f.Decision == "refuse" && errs.Get("note") == "" && len(f.Note) == 0 {
		errs.Add("note", "Enter why you refuse it: the person is told")
	}
	if errs.Any() {
		return a.invalid(c, "access/show", &p.Page, errs, p)
	}
	_, err = identity.DecideGrant(c.UserContext(), a.db, a.actor(c), u, a.now(), g.ID, f.Decision == "approve", f.Note)
	switch {
	case errors.Is(err, identity.ErrGrantDecided):
		a.flash(c, "Someone decided this already.")
		return c.Redirect("/access-requests", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	a.choices.forget() // the triagers may have changed
	verb := "approved"
	if f.Decision == "refuse" {
		verb = "refused"
	}
	a.flash(c, fmt.Sprintf("You have %s the %s role for %s. They have been told by email.", verb, identity.RoleTitle(g.Role), g.UserName))
	return c.Redirect("/access-requests", fiber.StatusSeeOther)
}
