package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/forms"
)

type peoplePage struct {
	Page
	People []userRow
}

// peopleIndex is an access approver's list of their organisation's people.
func (a *App) peopleIndex(c *fiber.Ctx) error {
	u := visitOf(c).user
	us, _, err := identity.List(c.UserContext(), a.db, identity.Filter{OrganisationID: u.OrganisationID, Limit: 200})
	if err != nil {
		return err
	}
	p := &peoplePage{Page: a.page(c, "People at "+u.OrganisationName)}
	for _, x := range us {
		p.People = append(p.People, userRow{User: x, RoleTitles: roleTitles(x.Roles)})
	}
	return a.render(c, fiber.StatusOK, "people/index", p)
}

type personPage struct {
	Page
	Subject       *identity.User
	Status        string
	Grants        []identity.Grant
	Leaving       forms.LeavingDate
	Remove        forms.RemoveAccess
	ReasonOptions []Option
	Own           bool
}

// personFromParam is the person an approver or administrator manages: record-level, an approver sees
// only their own organisation's people (others are not found).
func (a *App) personFromParam(c *fiber.Ctx) (*identity.User, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	u, err := identity.Get(c.UserContext(), a.db, id)
	if err != nil {
		return nil, err
	}
	v := visitOf(c).user
	if err := identity.MayManage(v, u); err != nil && !errors.Is(err, identity.ErrOwnGrant) {
		return nil, err
	}
	return u, nil
}

func (a *App) personPage(c *fiber.Ctx, u *identity.User) (*personPage, error) {
	grants, err := identity.History(c.UserContext(), a.db, u.ID)
	if err != nil {
		return nil, err
	}
	p := &personPage{Page: a.page(c, u.Name), Subject: u, Status: statusTitle(u.Status), Grants: grants, Own: u.ID == visitOf(c).user.ID}
	if !u.LeavingDate.IsZero() {
		p.Leaving = forms.LeavingDate{Day: fmt.Sprint(u.LeavingDate.Day()), Month: fmt.Sprint(int(u.LeavingDate.Month())), Year: fmt.Sprint(u.LeavingDate.Year())}
	}
	p.ReasonOptions = []Option{{Value: "", Label: "Select a reason"}}
	for _, r := range identity.RemovalReasons {
		p.ReasonOptions = append(p.ReasonOptions, Option{Value: r.Key, Label: r.Label})
	}
	return p, nil
}

func (a *App) personShow(c *fiber.Ctx) error {
	u, err := a.personFromParam(c)
	if err != nil {
		return err
	}
	p, err := a.personPage(c, u)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "people/show", p)
}

// personLeaving sets or clears someone's leaving date.
func (a *App) personLeaving(c *fiber.Ctx) error {
	u, err := a.personFromParam(c)
	if err != nil {
		return err
	}
	var f forms.LeavingDate
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.personPage(c, u)
	if err != nil {
		return err
	}
	p.Leaving = f
	errs := a.validate.Check(&f)
	day, given, ok := parseDate(strings.TrimSpace(f.Day), strings.TrimSpace(f.Month), strings.TrimSpace(f.Year))
	switch {
	case !ok:
		errs.Add("leaving-day", "The leaving date must be a real date, like 31 3 2027")
	case given && day.Before(a.now().In(london).Truncate(24*time.Hour).AddDate(0, 0, -1)):
		errs.Add("leaving-day", "The leaving date must be today or later. To end their access now, use Remove access now")
	}
	if errs.Any() {
		return a.invalid(c, "people/show", &p.Page, errs, p)
	}
	err = identity.SetLeavingDate(c.UserContext(), a.db, a.actor(c), visitOf(c).user, a.now(), u.ID, day)
	if errors.Is(err, identity.ErrOwnGrant) {
		return fiber.NewError(fiber.StatusForbidden, "You cannot set your own leaving date. Ask your organisation's access approver or an administrator.")
	}
	if err != nil {
		return err
	}
	if given {
		a.flash(c, fmt.Sprintf("%s's access will end on %s.", u.Name, day.Format("2 January 2006")))
	} else {
		a.flash(c, u.Name+"'s leaving date has been cleared.")
	}
	return c.Redirect(fmt.Sprintf("/people/%d", u.ID), fiber.StatusSeeOther)
}

// personRemoveAccess ends someone's access now, with why.
func (a *App) personRemoveAccess(c *fiber.Ctx) error {
	u, err := a.personFromParam(c)
	if err != nil {
		return err
	}
	var f forms.RemoveAccess
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.personPage(c, u)
	if err != nil {
		return err
	}
	p.Remove = f
	errs := a.validate.Check(&f)
	if f.Reason == "other" && strings.TrimSpace(f.Detail) == "" && errs.Get("detail") == "" {
		errs.Add("detail", "Say why their access ends now")
	}
	if errs.Any() {
		return a.invalid(c, "people/show", &p.Page, errs, p)
	}
	reason := identity.RemovalReasonLabel(f.Reason)
	if d := strings.TrimSpace(f.Detail); d != "" {
		reason += ": " + d
	}
	err = identity.RemoveAccessNow(c.UserContext(), a.db, a.actor(c), visitOf(c).user, a.now(), u.ID, reason)
	if errors.Is(err, identity.ErrOwnGrant) {
		return fiber.NewError(fiber.StatusForbidden, "You cannot remove your own access.")
	}
	if err != nil {
		return err
	}
	a.choices.forget() // the triagers may have changed
	a.flash(c, u.Name+"'s access has ended and they have been signed out everywhere. Nothing they wrote has been removed.")
	return c.Redirect(fmt.Sprintf("/people/%d", u.ID), fiber.StatusSeeOther)
}
