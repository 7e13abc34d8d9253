package app

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/forms"
)

type organisationsPage struct {
	Page
	Organisations []organisation.Organisation
}

func (a *App) organisationsIndex(c *fiber.Ctx) error {
	os, err := organisation.List(c.UserContext(), a.db)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "organisations/index", &organisationsPage{Page: a.page(c, "Organisations"), Organisations: os})
}

type organisationFormPage struct {
	Page
	Form          forms.Organisation
	Subject       *organisation.Organisation
	RegionOptions []Option
}

func (a *App) organisationFormPage(c *fiber.Ctx, title string, f forms.Organisation, o *organisation.Organisation) (*organisationFormPage, error) {
	regions, err := organisation.Regions(c.UserContext(), a.db)
	if err != nil {
		return nil, err
	}
	opts := []Option{{Value: "", Label: "Select a region"}}
	for _, r := range regions {
		opts = append(opts, Option{Value: strconv.Itoa(int(r.ID)), Label: r.Name})
	}
	return &organisationFormPage{Page: a.page(c, title), Form: f, Subject: o, RegionOptions: opts}, nil
}

func (a *App) organisationNew(c *fiber.Ctx) error {
	p, err := a.organisationFormPage(c, "Add an organisation", forms.Organisation{}, nil)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "organisations/form", p)
}

func (a *App) organisationFromParam(c *fiber.Ctx) (*organisation.Organisation, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return organisation.Get(c.UserContext(), a.db, id)
}

func (a *App) organisationEdit(c *fiber.Ctx) error {
	o, err := a.organisationFromParam(c)
	if err != nil {
		return err
	}
	f := forms.Organisation{Name: o.Name, ODSCode: o.ODSCode, VPDCode: o.VPDCode, RegionID: strconv.Itoa(int(o.RegionID)), Version: o.Version}
	p, err := a.organisationFormPage(c, "Change "+o.Name, f, o)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "organisations/form", p)
}

// checkOrganisation validates the form and words the domain's refusals for its fields.
func (a *App) checkOrganisation(f forms.Organisation) (organisation.Details, forms.Errors) {
	errs := a.validate.Check(&f)
	region, _ := strconv.ParseInt(f.RegionID, 10, 16)
	d := organisation.Details{Name: f.Name, ODSCode: f.ODSCode, VPDCode: f.VPDCode, RegionID: int16(region)}.Normalise()
	if errs.Get("ods_code") == "" && !organisation.ValidODS(d.ODSCode) {
		errs.Add("ods_code", "Enter an ODS code of 3 to 6 letters and digits, like RX1 or ZLN01")
	}
	if errs.Get("vpd_code") == "" && d.VPDCode != "" && !organisation.ValidVPD(d.VPDCode) {
		errs.Add("vpd_code", "Enter an ESR VPD code of 3 digits, like 457, or leave it empty")
	}
	return d, errs
}

func organisationErrors(err error) forms.Errors {
	var errs forms.Errors
	switch {
	case errors.Is(err, organisation.ErrODSTaken):
		errs.Add("ods_code", "Another organisation has this ODS code")
	case errors.Is(err, organisation.ErrVPDTaken):
		errs.Add("vpd_code", "Another organisation has this ESR VPD code")
	case errors.Is(err, organisation.ErrUnknownRegion):
		errs.Add("region_id", "Select its region from the list")
	}
	return errs
}

func (a *App) organisationCreate(c *fiber.Ctx) error {
	var f forms.Organisation
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.organisationFormPage(c, "Add an organisation", f, nil)
	if err != nil {
		return err
	}
	d, errs := a.checkOrganisation(f)
	if errs.Any() {
		return a.invalid(c, "organisations/form", &p.Page, errs, p)
	}
	o, err := organisation.Create(c.UserContext(), a.db, a.actor(c), a.now(), d)
	if errs := organisationErrors(err); errs.Any() {
		return a.invalid(c, "organisations/form", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.choices.forget()
	a.flash(c, o.Name+" has been added")
	return c.Redirect("/admin/organisations", fiber.StatusSeeOther)
}

func (a *App) organisationUpdate(c *fiber.Ctx) error {
	o, err := a.organisationFromParam(c)
	if err != nil {
		return err
	}
	var f forms.Organisation
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.organisationFormPage(c, "Change "+o.Name, f, o)
	if err != nil {
		return err
	}
	d, errs := a.checkOrganisation(f)
	if errs.Any() {
		return a.invalid(c, "organisations/form", &p.Page, errs, p)
	}
	err = organisation.Update(c.UserContext(), a.db, a.actor(c), a.now(), o.ID, f.Version, d)
	if errs := organisationErrors(err); errs.Any() {
		return a.invalid(c, "organisations/form", &p.Page, errs, p)
	}
	if errors.Is(err, organisation.ErrMerged) {
		return fiber.NewError(fiber.StatusConflict, o.Name+" has merged into another organisation and cannot be changed.")
	}
	if err != nil {
		return err
	}
	a.choices.forget()
	a.flash(c, "Changes to "+d.Name+" saved")
	return c.Redirect("/admin/organisations", fiber.StatusSeeOther)
}

type organisationMergePage struct {
	Page
	Subject     *organisation.Organisation
	Form        forms.OrganisationMerge
	IntoOptions []Option
	Checked     []string
}

func (a *App) organisationMergePage(c *fiber.Ctx, o *organisation.Organisation, f forms.OrganisationMerge) (*organisationMergePage, error) {
	os, err := organisation.List(c.UserContext(), a.db)
	if err != nil {
		return nil, err
	}
	opts := []Option{{Value: "", Label: "Select an organisation"}}
	for _, x := range os {
		if x.ID != o.ID && x.MergedIntoID == 0 {
			opts = append(opts, Option{Value: strconv.FormatInt(x.ID, 10), Label: fmt.Sprintf("%s (%s)", x.Name, x.ODSCode)})
		}
	}
	p := &organisationMergePage{Page: a.page(c, "Merge "+o.Name+" into another organisation"), Subject: o, Form: f, IntoOptions: opts}
	if f.Confirm != "" {
		p.Checked = []string{f.Confirm}
	}
	return p, nil
}

func (a *App) organisationMergeShow(c *fiber.Ctx) error {
	o, err := a.organisationFromParam(c)
	if err != nil {
		return err
	}
	p, err := a.organisationMergePage(c, o, forms.OrganisationMerge{Version: o.Version})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "organisations/merge", p)
}

func (a *App) organisationMerge(c *fiber.Ctx) error {
	o, err := a.organisationFromParam(c)
	if err != nil {
		return err
	}
	var f forms.OrganisationMerge
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.organisationMergePage(c, o, f)
	if err != nil {
		return err
	}
	errs := a.validate.Check(&f)
	into, _ := strconv.ParseInt(f.IntoID, 10, 64)
	if errs.Get("into_id") == "" {
		if target, err := organisation.Get(c.UserContext(), a.db, into); errors.Is(err, problem.ErrNotFound) || (err == nil && (target.MergedIntoID != 0 || target.ID == o.ID)) {
			errs.Add("into_id", "Select the organisation it merges into from the list")
		} else if err != nil {
			return err
		}
	}
	if errs.Any() {
		return a.invalid(c, "organisations/merge", &p.Page, errs, p)
	}
	people, requests, err := organisation.Merge(c.UserContext(), a.db, a.actor(c), a.now(), o.ID, f.Version, into)
	if errors.Is(err, organisation.ErrMerged) {
		return fiber.NewError(fiber.StatusConflict, "One of the organisations has merged into another meanwhile.")
	}
	if err != nil {
		return err
	}
	a.choices.forget()
	a.flash(c, fmt.Sprintf("%s has merged: %s and %s moved.", o.Name, plural2(people, "person", "people"), plural2(requests, "request", "requests")))
	return c.Redirect("/admin/organisations", fiber.StatusSeeOther)
}

func plural2(n int, one, many string) string { return fmt.Sprintf("%d %s", n, plural(n, one, many)) }
