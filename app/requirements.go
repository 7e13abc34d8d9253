package app

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// The requirement definition: its current version with both sides' agreement and an edit form, every
// earlier version with a comparison of any two, and a conflict page when two people save at once.

// requestInFull reads the request named in the URL for someone who may see it in full; to anyone else
// it does not exist.
func (a *App) requestInFull(c *fiber.Ctx) (*request.EnhancementRequest, request.Viewer, error) {
	v, err := a.viewer(c)
	if err != nil {
		return nil, v, err
	}
	er, access, err := request.GetEnhancement(c.UserContext(), a.db, v, c.Params("ref"))
	if err != nil {
		return nil, v, err
	}
	if access < request.AccessFull {
		return nil, v, fmt.Errorf("request %s in full: %w", er.Reference, problem.ErrNotFound)
	}
	return er, v, nil
}

func requirementPath(ref string) string { return "/requests/" + url.PathEscape(ref) + "/requirement" }

// agreementRow is one side's agreement as the page shows it.
type agreementRow struct {
	Side   string
	Agreed bool   // agreed the current version
	Stale  bool   // agreed an earlier version
	Text   string // who and when, in words
}

// requirementVersionRow is one version in the list of versions.
type requirementVersionRow struct {
	Version     int
	Author      string
	When        string
	Href        string
	CompareHref string // with the version before; "" for the first
	Current     bool
}

type requirementPage struct {
	Page
	R        *request.EnhancementRequest
	Current  *request.RequirementVersion
	Versions []requirementVersionRow // newest first
	Sides    []agreementRow
	Agreed   bool // both sides agreed the current version
	Stale    bool // someone agreed an earlier version, which no longer counts
	Editable bool // the request's status allows changes
	CanEdit  bool
	CanAgree bool   // the viewer's side has not agreed the current version
	Side     string // the viewer's side, in words
	Form     forms.Requirement
	Typed    string // what was typed when it could no longer be saved, shown so that it is not lost
}

func (a *App) requirementPage(c *fiber.Ctx, er *request.EnhancementRequest, v request.Viewer) (*requirementPage, error) {
	q, err := request.GetRequirement(c.UserContext(), a.db, er.ID)
	if err != nil {
		return nil, err
	}
	p := &requirementPage{
		Page: a.page(c, "Requirement definition – "+er.Reference), R: er, Current: q.Current(), Agreed: q.Agreed(),
		Editable: request.Editable(&er.Request), CanEdit: request.CanEditRequirement(v, &er.Request),
	}
	p.Form = forms.Requirement{BaseVersion: q.Latest()}
	if p.Current != nil {
		p.Form.Body = p.Current.Body
	}
	for _, side := range []string{request.SideRequester, request.SideDevelopment} {
		row := agreementRow{Side: capitalise(request.SideLabel(side)), Text: "Not agreed yet"}
		if ag := q.Agreement(side); ag != nil {
			when := ag.AgreedAt.In(london).Format("2 January 2006 at 3:04pm")
			row.Agreed = q.AgreedBy(side)
			row.Stale = !row.Agreed
			if row.Agreed {
				row.Text = fmt.Sprintf("Agreed version %d: %s, %s", ag.Version, ag.UserName, when)
			} else {
				row.Text = fmt.Sprintf("Agreed version %d (%s, %s), before version %d was saved: needs to agree again", ag.Version, ag.UserName, when, q.Latest())
			}
		}
		p.Stale = p.Stale || row.Stale
		p.Sides = append(p.Sides, row)
	}
	if side := request.AgreementSide(v, &er.Request); side != "" && p.Current != nil && p.Editable && !q.AgreedBy(side) {
		p.CanAgree, p.Side = true, request.SideLabel(side)
	}
	for i := len(q.Versions) - 1; i >= 0; i-- {
		rv := q.Versions[i]
		row := requirementVersionRow{Version: rv.Version, Author: rv.AuthorName, When: rv.CreatedAt.In(london).Format("2 January 2006 at 3:04pm"),
			Href: fmt.Sprintf("%s/versions/%d", requirementPath(er.Reference), rv.Version), Current: i == len(q.Versions)-1}
		if i > 0 {
			row.CompareHref = fmt.Sprintf("%s?compare=%d", row.Href, q.Versions[i-1].Version)
		}
		p.Versions = append(p.Versions, row)
	}
	return p, nil
}

// capitalise puts the first letter of an ASCII phrase in upper case: "the requester" → "The requester".
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (a *App) requirementShow(c *fiber.Ctx) error {
	er, v, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	p, err := a.requirementPage(c, er, v)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "requirements/show", p)
}

func (a *App) requirementSave(c *fiber.Ctx) error {
	er, v, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	var f forms.Requirement
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	invalid := func(errs forms.Errors) error {
		p, err := a.requirementPage(c, er, v)
		if err != nil {
			return err
		}
		p.Form = f
		if !p.CanEdit || !p.Editable {
			p.Typed = f.Body
		}
		return a.invalid(c, "requirements/show", &p.Page, errs, p)
	}
	if errs := f.Check(a.validate); errs.Any() {
		return invalid(errs)
	}
	rv, err := request.SaveRequirement(c.UserContext(), a.db, v, a.actor(c), a.now(), er.Reference, f.BaseVersion, f.Body)
	var rule *request.RuleError
	var conflict *request.RequirementConflict
	switch {
	case errors.As(err, &rule):
		var errs forms.Errors
		errs.Add(ruleField(rule.Field, "body"), rule.Message)
		return invalid(errs)
	case errors.As(err, &conflict):
		return a.requirementConflict(c, er, conflict)
	case err != nil:
		return err
	}
	msg := fmt.Sprintf("Version %d of the requirement definition has been saved. Both sides need to agree it.", rv.Version)
	if rv.Version == f.BaseVersion {
		msg = "You made no changes, so no new version was saved"
	}
	a.flash(c, msg)
	return c.Redirect(requirementPath(er.Reference), fiber.StatusSeeOther)
}

// ruleField is the field a domain rule is shown on: its own, or the page's main field when it names none.
func ruleField(field, main string) string {
	if field == "" {
		return main
	}
	return field
}

func (a *App) requirementAgree(c *fiber.Ctx) error {
	er, v, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	var f forms.RequirementAgree
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	side, both, err := request.AgreeRequirement(c.UserContext(), a.db, v, a.actor(c), a.now(), er.Reference, f.Version)
	var rule *request.RuleError
	var conflict *request.RequirementConflict
	switch {
	case errors.As(err, &rule):
		p, err := a.requirementPage(c, er, v)
		if err != nil {
			return err
		}
		var errs forms.Errors
		errs.Add("", rule.Message)
		return a.invalid(c, "requirements/show", &p.Page, errs, p)
	case errors.As(err, &conflict):
		return a.requirementConflict(c, er, conflict)
	case err != nil:
		return err
	}
	msg := fmt.Sprintf("You have agreed version %d for %s.", f.Version, request.SideLabel(side))
	if both {
		msg += " Both sides have now agreed the requirement definition."
	} else {
		other := request.SideDevelopment
		if side == request.SideDevelopment {
			other = request.SideRequester
		}
		msg += " It now needs agreeing by " + request.SideLabel(other) + "."
	}
	a.flash(c, msg)
	return c.Redirect(requirementPath(er.Reference), fiber.StatusSeeOther)
}

// requirementConflictPage shows someone whose save or agreement was made from an older version what
// is there now, and keeps what they typed with a form to save it over the latest version.
type requirementConflictPage struct {
	Page
	R        *request.EnhancementRequest
	Theirs   request.RequirementVersion
	When     string
	Agreeing bool // an agreement, not a save: there is nothing typed
	Based    int
	Yours    string
	Diff     []request.DiffLine // from the version based on (agreeing) or theirs (saving) to the other
	Form     forms.Requirement
}

func (a *App) requirementConflict(c *fiber.Ctx, er *request.EnhancementRequest, conflict *request.RequirementConflict) error {
	p := &requirementConflictPage{
		Page: a.page(c, "Someone else changed the requirement definition"), R: er, Theirs: conflict.Current,
		When: conflict.Current.CreatedAt.In(london).Format("2 January 2006 at 3:04pm"), Agreeing: conflict.Typed == "",
		Based: conflict.Based, Yours: conflict.Typed, Form: forms.Requirement{BaseVersion: conflict.Current.Version, Body: conflict.Typed},
	}
	if p.Agreeing {
		q, err := request.GetRequirement(c.UserContext(), a.db, er.ID)
		if err != nil {
			return err
		}
		before := ""
		if rv := q.Version(conflict.Based); rv != nil {
			before = rv.Body
		}
		p.Diff = request.WordDiff(before, conflict.Current.Body)
	} else {
		p.Diff = request.WordDiff(conflict.Current.Body, conflict.Typed)
	}
	return a.render(c, fiber.StatusConflict, "requirements/conflict", p)
}

type requirementVersionPage struct {
	Page
	R             *request.EnhancementRequest
	Version       request.RequirementVersion
	When          string
	Latest        int
	Compare       int // the version compared with; 0 for none
	From, To      int // the comparison runs from the older to the newer
	Diff          []request.DiffLine
	CompareValue  string
	CompareOption []Option
}

func (a *App) requirementVersion(c *fiber.Ctx) error {
	er, _, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	q, err := request.GetRequirement(c.UserContext(), a.db, er.ID)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Params("v"))
	rv := q.Version(n)
	if err != nil || rv == nil {
		return fmt.Errorf("version %q of the requirement of %s: %w", c.Params("v"), er.Reference, problem.ErrNotFound)
	}
	p := &requirementVersionPage{
		Page: a.page(c, fmt.Sprintf("Requirement definition version %d – %s", n, er.Reference)), R: er, Version: *rv,
		When: rv.CreatedAt.In(london).Format("2 January 2006 at 3:04pm"), Latest: q.Latest(),
	}
	compare := n - 1
	if s := c.Query("compare"); s != "" {
		if compare, err = strconv.Atoi(s); err != nil || q.Version(compare) == nil {
			return fmt.Errorf("compare with version %q of %s: %w", s, er.Reference, problem.ErrNotFound)
		}
	}
	if other := q.Version(compare); other != nil && compare != n {
		p.Compare, p.CompareValue = compare, strconv.Itoa(compare)
		p.From, p.To, p.Diff = compare, n, request.WordDiff(other.Body, rv.Body)
		if compare > n {
			p.From, p.To, p.Diff = n, compare, request.WordDiff(rv.Body, other.Body)
		}
	}
	for i := len(q.Versions) - 1; i >= 0; i-- {
		if o := q.Versions[i].Version; o != n {
			p.CompareOption = append(p.CompareOption, Option{Value: strconv.Itoa(o), Label: fmt.Sprintf("Version %d, %s", o, q.Versions[i].AuthorName)})
		}
	}
	return a.render(c, fiber.StatusOK, "requirements/version", p)
}
