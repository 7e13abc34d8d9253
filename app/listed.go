package app

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/catalogue"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// Raising a supplementary role request or a national competency request: one form page, then check
// your answers (where the portal shows the ESR label a competence will have and warns of a role already
// listed or a similar request open), then the confirmation. Nothing is stored until the request is
// submitted; the check page carries the answers in hidden fields, with the submission token that makes
// a second submission of the same form raise nothing more.

// newSubmissionToken is a random version 4 UUID.
func newSubmissionToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func inputLevelOptions() []Option {
	out := make([]Option, 0, len(catalogue.InputLevels))
	for _, l := range catalogue.InputLevels {
		out = append(out, Option{Value: l.Value, Label: l.Label, Hint: l.Hint})
	}
	return out
}

func frameworkOptions() []Option {
	out := make([]Option, 0, len(catalogue.Frameworks))
	for _, f := range catalogue.Frameworks {
		out = append(out, Option{Value: f.Value, Label: f.Label, Hint: f.Hint})
	}
	return out
}

// frameworkLabel is a framework as the form names it: "NHS MAND" for MAND.
func frameworkLabel(value string) string {
	for _, f := range catalogue.Frameworks {
		if f.Value == value {
			return f.Label
		}
	}
	return value
}

var yesNoOptions = []Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}

// roleRequestPage is the supplementary role request form, or its check page.
type roleRequestPage struct {
	Page
	Form         forms.SupplementaryRoleRequest
	LevelOptions []Option
	YesNo        []Option
	Answers      []SummaryRow
	ListedAs     string             // the role as the list already holds it; "" when it does not
	Similar      []request.OpenLike // open requests like it that the viewer may see
}

func (a *App) roleRequestPage(c *fiber.Ctx, title string, f forms.SupplementaryRoleRequest) *roleRequestPage {
	return &roleRequestPage{Page: a.page(c, title), Form: f, LevelOptions: inputLevelOptions(), YesNo: yesNoOptions}
}

func (a *App) roleRequestNew(c *fiber.Ctx) error {
	p := a.roleRequestPage(c, "Ask for a new supplementary role", forms.SupplementaryRoleRequest{Token: newSubmissionToken()})
	return a.render(c, fiber.StatusOK, "listed/role-new", p)
}

// roleRequestCheck validates the form and shows the answers to check, with any warnings.
func (a *App) roleRequestCheck(c *fiber.Ctx) error {
	var f forms.SupplementaryRoleRequest
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	if errs := f.Check(a.validate); errs.Any() {
		p := a.roleRequestPage(c, "Ask for a new supplementary role", f)
		return a.invalid(c, "listed/role-new", &p.Page, errs, p)
	}
	p := a.roleRequestPage(c, "Check your answers before asking for the role", f)
	if err := a.roleWarnings(c, p); err != nil {
		return err
	}
	wellbeing := "No"
	if f.IsWellbeing() {
		wellbeing = "Yes"
	}
	p.Answers = []SummaryRow{
		{Key: "Role name", Value: f.RoleName, ChangeHref: "#role_name"},
		{Key: "Duties", Value: f.Duties, ChangeHref: "#duties"},
		{Key: "Who records it in ESR", Value: catalogue.InputLevelLabel(f.InputLevel), ChangeHref: "#input_level"},
		{Key: "Linked to the wellbeing agenda", Value: wellbeing, ChangeHref: "#wellbeing"},
		{Key: "Justification", Value: f.Justification, ChangeHref: "#justification"},
		{Key: "Benefits", Value: f.Benefits, ChangeHref: "#benefits"},
		{Key: "Organisations expected to use it", Value: f.Organisations, ChangeHref: "#organisations"},
	}
	return a.render(c, fiber.StatusOK, "listed/role-check", p)
}

func (a *App) roleWarnings(c *fiber.Ctx, p *roleRequestPage) error {
	ctx := c.UserContext()
	listed, exists, err := catalogue.RoleExists(ctx, a.db, p.Form.RoleName)
	if err != nil {
		return err
	}
	if exists {
		p.ListedAs = listed
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	p.Similar, err = request.OpenSimilar(ctx, a.db, v, request.KindSupplementaryRole, p.Form.RoleName)
	return err
}

// roleRequestSubmit raises the request, or goes back to the form to change the answers.
func (a *App) roleRequestSubmit(c *fiber.Ctx) error {
	var f forms.SupplementaryRoleRequest
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	errs := f.Check(a.validate)
	if c.FormValue("change") != "" || errs.Any() {
		p := a.roleRequestPage(c, "Ask for a new supplementary role", f)
		if errs.Any() {
			return a.invalid(c, "listed/role-new", &p.Page, errs, p)
		}
		return a.render(c, fiber.StatusOK, "listed/role-new", p)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	r, err := request.RaiseSupplementaryRole(c.UserContext(), a.db, a.calendar, v, a.actor(c), a.now(), request.NewSupplementaryRole{
		RoleName: f.RoleName, Duties: f.Duties, InputLevel: f.InputLevel, Wellbeing: f.IsWellbeing(),
		Justification: f.Justification, Benefits: f.Benefits, Organisations: f.Organisations, SubmissionToken: f.Token,
	})
	var rule *request.RuleError
	if errors.As(err, &rule) {
		p := a.roleRequestPage(c, "Ask for a new supplementary role", f)
		return a.invalid(c, "listed/role-new", &p.Page, forms.Errors{{Field: rule.Field, Message: rule.Message}}, p)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/requests/"+r.Reference+"/raised", fiber.StatusSeeOther)
}

// competenceRequestPage is the national competency request form, or its check page.
type competenceRequestPage struct {
	Page
	Form             forms.NationalCompetencyRequest
	FrameworkOptions []Option
	Answers          []SummaryRow
	Label            string // the ESR label the competence will have
	Similar          []request.OpenLike
}

func (a *App) competenceRequestPage(c *fiber.Ctx, title string, f forms.NationalCompetencyRequest) *competenceRequestPage {
	return &competenceRequestPage{Page: a.page(c, title), Form: f, FrameworkOptions: frameworkOptions()}
}

func (a *App) competenceRequestNew(c *fiber.Ctx) error {
	p := a.competenceRequestPage(c, "Ask for a national competence", forms.NationalCompetencyRequest{Token: newSubmissionToken()})
	return a.render(c, fiber.StatusOK, "listed/competence-new", p)
}

// competenceCheck validates the form, the label's uniqueness in the list included.
func (a *App) competenceCheck(c *fiber.Ctx, f *forms.NationalCompetencyRequest) (forms.Errors, error) {
	errs := f.Check(a.validate)
	if errs.Any() {
		return errs, nil
	}
	exists, err := catalogue.CompetenceExists(c.UserContext(), a.db, f.Label())
	if err != nil {
		return nil, err
	}
	if exists {
		errs.Add("competence_name", f.Label()+" is already on the competence list: search the list for it, or choose another name or renewal period")
	}
	return errs, nil
}

func (a *App) competenceRequestCheck(c *fiber.Ctx) error {
	var f forms.NationalCompetencyRequest
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	errs, err := a.competenceCheck(c, &f)
	if err != nil {
		return err
	}
	if errs.Any() {
		p := a.competenceRequestPage(c, "Ask for a national competence", f)
		return a.invalid(c, "listed/competence-new", &p.Page, errs, p)
	}
	p := a.competenceRequestPage(c, "Check your answers before asking for the competence", f)
	p.Label = f.Label()
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	if p.Similar, err = request.OpenSimilar(c.UserContext(), a.db, v, request.KindNationalCompetency, p.Label); err != nil {
		return err
	}
	p.Answers = []SummaryRow{
		{Key: "Competence name", Value: f.CompetenceName, ChangeHref: "#competence_name"},
		{Key: "Framework", Value: frameworkLabel(f.Framework), ChangeHref: "#framework"},
		{Key: "Renewal period", Value: catalogue.RenewalText(f.Years()), ChangeHref: "#renewal_years"},
		{Key: "National learning", Value: orDash(f.NationalLearning), ChangeHref: "#national_learning"},
		{Key: "National initiative", Value: orDash(f.NationalInitiative), ChangeHref: "#national_initiative"},
		{Key: "Staff groups", Value: f.StaffGroups, ChangeHref: "#staff_groups"},
		{Key: "Justification", Value: f.Justification, ChangeHref: "#justification"},
	}
	return a.render(c, fiber.StatusOK, "listed/competence-check", p)
}

func (a *App) competenceRequestSubmit(c *fiber.Ctx) error {
	var f forms.NationalCompetencyRequest
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	errs, err := a.competenceCheck(c, &f)
	if err != nil {
		return err
	}
	if c.FormValue("change") != "" || errs.Any() {
		p := a.competenceRequestPage(c, "Ask for a national competence", f)
		if errs.Any() {
			return a.invalid(c, "listed/competence-new", &p.Page, errs, p)
		}
		return a.render(c, fiber.StatusOK, "listed/competence-new", p)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	r, err := request.RaiseNationalCompetency(c.UserContext(), a.db, a.calendar, v, a.actor(c), a.now(), request.NewNationalCompetency{
		CompetenceName: f.CompetenceName, Framework: f.Framework, RenewalYears: f.Years(), NationalLearning: f.NationalLearning,
		NationalInitiative: f.NationalInitiative, StaffGroups: f.StaffGroups, Justification: f.Justification, SubmissionToken: f.Token,
	})
	var rule *request.RuleError
	if errors.As(err, &rule) {
		p := a.competenceRequestPage(c, "Ask for a national competence", f)
		return a.invalid(c, "listed/competence-new", &p.Page, forms.Errors{{Field: rule.Field, Message: rule.Message}}, p)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/requests/"+r.Reference+"/raised", fiber.StatusSeeOther)
}

func orDash(s string) string {
	if s == "" {
		return "Not given"
	}
	return s
}

// listedRaisedPage is the confirmation of a supplementary role or national competency request.
type listedRaisedPage struct {
	Page
	Request  *request.Request
	KindName string // "supplementary role request"
	List     string // the list it would join
	ListHref string
	AckDue   string
}

// listedRaised is requestRaised for the list kinds.
func (a *App) listedRaised(c *fiber.Ctx, v request.Viewer) error {
	r, _, err := request.Get(c.UserContext(), a.db, v, c.Params("ref"))
	if err != nil {
		return err
	}
	if r.RaisedByID != v.UserID {
		return fmt.Errorf("confirmation of %s for user %d, who did not raise it: %w", r.Reference, v.UserID, problem.ErrNotFound)
	}
	p := &listedRaisedPage{Page: a.page(c, "Request raised"), Request: r, AckDue: r.AckDueOn.Format("Monday 2 January 2006"),
		KindName: "supplementary role request", List: "supplementary roles list", ListHref: "/supplementary-roles"}
	if r.Kind == request.KindNationalCompetency {
		p.KindName, p.List, p.ListHref = "national competency request", "NHS MAND competence list", "/competences"
	}
	return a.render(c, fiber.StatusOK, "listed/raised", p)
}
