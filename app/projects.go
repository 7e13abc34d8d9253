package app

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

type projectsPage struct {
	Page
	Projects []nsig.Project
}

func (a *App) projectsIndex(c *fiber.Ctx) error {
	list, err := nsig.Projects(c.UserContext(), a.db)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "projects/index", &projectsPage{Page: a.page(c, "Linked projects"), Projects: list})
}

type projectFormPage struct {
	Page
	P             *nsig.Project // nil when adding
	Form          forms.Project
	Action        string
	AreaOptions   []Option
	StatusOptions []Option
}

func (a *App) projectFormPage(c *fiber.Ctx, f forms.Project, p *nsig.Project) (*projectFormPage, error) {
	pg := &projectFormPage{Page: a.page(c, "Add a linked project"), P: p, Form: f, Action: "/projects", StatusOptions: []Option{
		{Value: string(nsig.ProjectPlanned), Label: nsig.ProjectPlanned.Label()},
		{Value: string(nsig.ProjectInProgress), Label: nsig.ProjectInProgress.Label()},
		{Value: string(nsig.ProjectClosed), Label: nsig.ProjectClosed.Label(), Hint: "Stopped without moving into business as usual"},
	}}
	if p != nil {
		pg.Title, pg.Action = "Change "+p.Name, fmt.Sprintf("/projects/%d", p.ID)
	}
	areas, err := request.FunctionalAreas(c.UserContext(), a.db)
	if err != nil {
		return nil, err
	}
	pg.AreaOptions = []Option{{Value: "", Label: "Choose a functional area"}}
	for _, ar := range areas {
		pg.AreaOptions = append(pg.AreaOptions, Option{Value: ar, Label: ar})
	}
	return pg, nil
}

func (a *App) projectFromParam(c *fiber.Ctx) (*nsig.Project, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return nsig.GetProject(c.UserContext(), a.db, id)
}

func (a *App) projectNew(c *fiber.Ctx) error {
	pg, err := a.projectFormPage(c, forms.Project{Status: string(nsig.ProjectInProgress)}, nil)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "projects/form", pg)
}

func (a *App) projectEdit(c *fiber.Ctx) error {
	p, err := a.projectFromParam(c)
	if err != nil {
		return err
	}
	pg, err := a.projectFormPage(c, forms.Project{Name: p.Name, Description: p.Description, FunctionalArea: p.FunctionalArea, Status: string(p.Status), Version: p.Version}, p)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "projects/form", pg)
}

func (a *App) projectSave(c *fiber.Ctx) error {
	var p *nsig.Project
	if c.Params("id") != "" {
		var err error
		if p, err = a.projectFromParam(c); err != nil {
			return err
		}
	}
	var f forms.Project
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	pg, err := a.projectFormPage(c, f, p)
	if err != nil {
		return err
	}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "projects/form", &pg.Page, errs, pg)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	var id int64
	if p != nil {
		id = p.ID
	}
	saved, err := nsig.SaveProject(c.UserContext(), a.db, v, a.actor(c), a.now(), id, f.Version,
		nsig.ProjectInput{Name: f.Name, Description: f.Description, FunctionalArea: f.FunctionalArea, Status: nsig.ProjectStatus(f.Status)})
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "projects/form", &pg.Page, errs, pg)
	}
	if err != nil {
		return err
	}
	a.flash(c, saved.Name+" saved")
	return c.Redirect("/projects", fiber.StatusSeeOther)
}

type handoverPage struct {
	Page
	P           *nsig.Project
	Form        forms.Handover
	NSIGOptions []Option
}

func (a *App) handoverPage(c *fiber.Ctx, p *nsig.Project, f forms.Handover) (*handoverPage, error) {
	v, err := a.viewer(c)
	if err != nil {
		return nil, err
	}
	groups, err := nsig.List(c.UserContext(), a.db, v)
	if err != nil {
		return nil, err
	}
	pg := &handoverPage{Page: a.page(c, "Hand "+p.Name+" to an NSIG"), P: p, Form: f, NSIGOptions: []Option{{Value: "", Label: "Choose an NSIG"}}}
	for _, n := range groups {
		if n.Status == nsig.StatusActive {
			pg.NSIGOptions = append(pg.NSIGOptions, Option{Value: strconv.FormatInt(n.ID, 10), Label: n.Name})
		}
	}
	return pg, nil
}

func (a *App) handoverShow(c *fiber.Ctx) error {
	p, err := a.projectFromParam(c)
	if err != nil {
		return err
	}
	pg, err := a.handoverPage(c, p, forms.Handover{Version: p.Version})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "projects/handover", pg)
}

func (a *App) handoverCreate(c *fiber.Ctx) error {
	p, err := a.projectFromParam(c)
	if err != nil {
		return err
	}
	var f forms.Handover
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	pg, err := a.handoverPage(c, p, f)
	if err != nil {
		return err
	}
	errs := a.validate.Check(&f)
	on := dateField(&errs, "on", "date it moves into business as usual", f.Day, f.Month, f.Year)
	if errs.Any() {
		return a.invalid(c, "projects/handover", &pg.Page, errs, pg)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	nsigID, _ := strconv.ParseInt(f.NSIGID, 10, 64)
	done, err := nsig.HandOver(c.UserContext(), a.db, v, a.actor(c), a.now(), p.ID, f.Version, nsig.HandoverInput{NSIGID: nsigID, On: on, Note: f.Note})
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "projects/handover", &pg.Page, errs, pg)
	}
	if err != nil {
		return err
	}
	a.flash(c, p.Name+" is now business as usual, looked after by its NSIG")
	return c.Redirect(fmt.Sprintf("/nsigs/%d#responsibilities", done.NSIGID), fiber.StatusSeeOther)
}
