package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// The business justification: a task list of six sections, a question page per section (its answers
// prefilled from the request until saved), check your answers with the completeness check, and
// submission. Endorsements and supporting documents are on the task list page.

func justificationPath(ref string) string {
	return "/requests/" + url.PathEscape(ref) + "/justification"
}

// endorsementView is one endorsement as the page shows it.
type endorsementView struct {
	Who     string
	As      string
	When    string
	Comment string
}

// attachmentView is one supporting document as the page lists it.
type attachmentView struct {
	ID        int64
	CanRemove bool // the viewer added it, or is the central team, and the request is open
	Href      string
	Filename  string
	Kind      string
	Size      string
	Uploader  string
	When      string
}

type justificationPage struct {
	Page
	R            *request.EnhancementRequest
	J            *request.Justification
	Tasks        []TaskItem
	Completed    int
	Total        int
	Editable     bool // the request's status allows changes
	CanEdit      bool
	CanSubmit    bool
	SubmittedOn  string
	UpdatedBy    string // who changed it last, and when
	Endorsements []endorsementView
	CanEndorse   bool
	// EndorseRegions are the regions the viewer may endorse on behalf of, led by a "Select a region"
	// choice when there are several.
	EndorseRegions []Option
	EndorseForm    forms.Endorsement
	Attachments    []attachmentView
	CanUpload      bool
}

func (a *App) justificationPage(c *fiber.Ctx, er *request.EnhancementRequest, v request.Viewer) (*justificationPage, error) {
	ctx := c.UserContext()
	j, err := request.GetJustification(ctx, a.db, er.ID)
	if err != nil {
		return nil, err
	}
	r := &er.Request
	p := &justificationPage{
		Page: a.page(c, "Business justification – "+er.Reference), R: er, J: j, Editable: request.Editable(r),
		CanEdit: request.CanEditJustification(v, r), CanSubmit: request.CanSubmitJustification(v, r),
		Completed: j.Completed(), Total: len(request.JustificationSections), CanUpload: request.CanUpload(v, r) && !r.Status.Closed(),
	}
	if j.Submitted() {
		p.SubmittedOn = j.SubmittedAt.In(london).Format("2 January 2006 at 3:04pm")
	}
	if j.UpdatedByName != "" {
		p.UpdatedBy = j.UpdatedByName + ", " + j.UpdatedAt.In(london).Format("2 January 2006 at 3:04pm")
	}
	for _, st := range j.Sections() {
		item := TaskItem{Name: st.Section.Name, Hint: st.Section.Hint, Href: justificationPath(er.Reference) + "/" + st.Section.Key}
		if !p.CanEdit || !p.Editable {
			item.Href = justificationPath(er.Reference) + "/check#" + st.Section.Key
		}
		switch st.State {
		case request.SectionCompleted:
			item.Status = TaskCompleted
		case request.SectionCannotStart:
			item.Status, item.Hint = TaskCannotStartYet, st.Section.Hint+". Complete the other sections first."
		default:
			item.Status = TaskIncomplete
		}
		p.Tasks = append(p.Tasks, item)
	}
	endorsements, err := request.Endorsements(ctx, a.db, er.ID)
	if err != nil {
		return nil, err
	}
	endorsed := false
	for _, e := range endorsements {
		who := v.NameFor(v.AccessTo(r), e.By())
		if v.SeesNameOf(v.AccessTo(r), e.By()) {
			who += ", " + e.OrganisationName
		}
		p.Endorsements = append(p.Endorsements, endorsementView{Who: who, As: e.On(),
			When: e.CreatedAt.In(london).Format("2 January 2006"), Comment: e.Comment})
		endorsed = endorsed || e.UserID == v.UserID
	}
	regions, err := request.EndorsingRegions(ctx, a.db, v, r)
	if err != nil {
		return nil, err
	}
	p.EndorseRegions = endorseOptions(regions)
	p.CanEndorse = len(regions) > 0 && !endorsed && j.Submitted() && request.Endorsable(r)
	if len(regions) == 1 {
		p.EndorseForm.Region = p.EndorseRegions[0].Value
	}
	files, err := request.Attachments(ctx, a.db, er.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		p.Attachments = append(p.Attachments, attachmentView{ID: f.ID, CanRemove: request.CanRemoveAttachment(v, r, &f),
			Href: fmt.Sprintf("/requests/%s/attachments/%d", url.PathEscape(er.Reference), f.ID), Filename: f.Filename,
			Kind: request.AttachmentKind(f.ContentType), Size: fileSize(f.SizeBytes), Uploader: v.NameFor(v.AccessTo(r), f.Uploader()),
			When: f.CreatedAt.In(london).Format("2 January 2006"),
		})
	}
	return p, nil
}

// fileSize is a size in words: "850 bytes", "12 KB", "1.4 MB".
func fileSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%d KB", (n+512)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}

func (a *App) justificationShow(c *fiber.Ctx) error {
	er, v, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	p, err := a.justificationPage(c, er, v)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "justification/index", p)
}

// justificationInvalid re-renders the task list page with a form's errors; fill puts back what was
// typed.
func (a *App) justificationInvalid(c *fiber.Ctx, er *request.EnhancementRequest, v request.Viewer, errs forms.Errors, fill func(p *justificationPage)) error {
	p, err := a.justificationPage(c, er, v)
	if err != nil {
		return err
	}
	if fill != nil {
		fill(p)
	}
	return a.invalid(c, "justification/index", &p.Page, errs, p)
}

// endorseOptions are the choices of the endorsement form's region: "Select a region" first when there
// is more than one.
func endorseOptions(regions []request.EndorsingRegion) []Option {
	var opts []Option
	if len(regions) > 1 {
		opts = append(opts, Option{Value: "", Label: "Select a region"})
	}
	for _, rg := range regions {
		opts = append(opts, Option{Value: strconv.Itoa(int(rg.ID)), Label: rg.Name})
	}
	return opts
}

func (a *App) justificationEndorse(c *fiber.Ctx) error {
	er, v, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	var f forms.Endorsement
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	// Nobody from the raising organisation, and only a region's FAM or NSIG seat holders, may endorse.
	regions, err := request.EndorsingRegions(c.UserContext(), a.db, v, &er.Request)
	if err != nil {
		return err
	}
	if len(regions) == 0 {
		return fmt.Errorf("endorse %s: %w", er.Reference, problem.ErrForbidden)
	}
	allowed := make([]string, 0, len(regions))
	for _, rg := range regions {
		allowed = append(allowed, strconv.Itoa(int(rg.ID)))
	}
	fill := func(p *justificationPage) { p.EndorseForm, p.CanEndorse = f, true }
	if errs := f.Check(a.validate, allowed, request.NotYourRegion); errs.Any() {
		return a.justificationInvalid(c, er, v, errs, fill)
	}
	err = request.Endorse(c.UserContext(), a.db, v, a.actor(c), a.now(), er.Reference, request.EndorsementInput{Comment: f.Comment, RegionID: f.RegionID()})
	var rule *request.RuleError
	if errors.As(err, &rule) {
		var errs forms.Errors
		errs.Add(ruleField(rule.Field, "comment"), rule.Message)
		return a.justificationInvalid(c, er, v, errs, fill)
	}
	if err != nil {
		return err
	}
	a.flash(c, "Your endorsement has been recorded")
	return c.Redirect(justificationPath(er.Reference)+"#endorsements", fiber.StatusSeeOther)
}

// justificationSectionPage is a section's question page. It holds every section's form; the page
// template of the section uses its own.
type justificationSectionPage struct {
	Page
	R            *request.EnhancementRequest
	Section      request.Section
	Action       string // where the form posts: the page itself, with ?return=check when changing an answer
	Back         string
	Return       bool
	Version      int
	Submitted    bool // saving a change will clear the submission
	CannotStart  bool // the sign-off, before the other sections are complete
	Organisation string

	About        forms.JustificationAbout
	Requirement  forms.JustificationRequirement
	StrategicFit forms.JustificationStrategicFit
	Benefits     forms.JustificationBenefits
	Delivery     forms.JustificationDelivery
	SignOff      forms.JustificationSignOff

	NSIGOptions     []Option
	AreaOptions     []Option
	GroupOptions    []Option
	PriorityOptions []Option
	YesNoOptions    []Option
}

// justificationChoices are the lists the section pages choose from, as values and as options.
type justificationChoices struct {
	NSIGs, Areas, Groups, Priorities []string
	NSIGOptions, AreaOptions         []Option
	GroupOptions, PriorityOptions    []Option
}

func (a *App) justificationChoices(ctx context.Context) (justificationChoices, error) {
	var ch justificationChoices
	lists, err := a.choices.get(ctx, a)
	if err != nil {
		return ch, err
	}
	for _, n := range lists.NSIGs {
		if n.Status == "active" {
			ch.NSIGs = append(ch.NSIGs, n.Name)
		}
	}
	ch.Areas = lists.Areas
	ch.NSIGOptions = []Option{{Value: "", Label: "Select the lead NSIG"}}
	for _, n := range ch.NSIGs {
		ch.NSIGOptions = append(ch.NSIGOptions, Option{Value: n, Label: n})
	}
	ch.AreaOptions = []Option{{Value: "", Label: "Select a functional area"}}
	for _, n := range ch.Areas {
		ch.AreaOptions = append(ch.AreaOptions, Option{Value: n, Label: n})
	}
	for _, g := range request.AffectedUsers {
		ch.Groups = append(ch.Groups, g.Value)
		ch.GroupOptions = append(ch.GroupOptions, Option{Value: g.Value, Label: g.Label})
	}
	for _, u := range request.Urgencies {
		ch.Priorities = append(ch.Priorities, u.Value)
		ch.PriorityOptions = append(ch.PriorityOptions, Option{Value: u.Value, Label: u.Label, Hint: u.Hint})
	}
	return ch, nil
}

// today is the date in London, at midnight UTC, as the forms compare dates.
func (a *App) today() time.Time {
	n := a.now().In(london)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// justificationSection reads what every section page needs: the request, the viewer, the section
// named in the URL and the justification. Someone who may not change it is sent to check your
// answers instead (done is true).
func (a *App) justificationSection(c *fiber.Ctx) (er *request.EnhancementRequest, v request.Viewer, sec request.Section, j *request.Justification, done bool, err error) {
	if er, v, sec, done, err = a.justificationTarget(c); done || err != nil {
		return
	}
	j, err = request.GetJustification(c.UserContext(), a.db, er.ID)
	return
}

// justificationTarget is justificationSection without the justification, which a save reads in its
// own transaction.
func (a *App) justificationTarget(c *fiber.Ctx) (er *request.EnhancementRequest, v request.Viewer, sec request.Section, done bool, err error) {
	if er, v, err = a.requestInFull(c); err != nil {
		return
	}
	var ok bool
	if sec, ok = request.SectionNamed(c.Params("section")); !ok {
		err = fmt.Errorf("justification section %q: %w", c.Params("section"), problem.ErrNotFound)
		return
	}
	if !request.CanEditJustification(v, &er.Request) || !request.Editable(&er.Request) {
		done = true
		err = c.Redirect(justificationPath(er.Reference)+"/check#"+sec.Key, fiber.StatusSeeOther)
	}
	return
}

func (a *App) justificationSectionPage(c *fiber.Ctx, er *request.EnhancementRequest, sec request.Section, j *request.Justification) (*justificationSectionPage, error) {
	ch, err := a.justificationChoices(c.UserContext())
	if err != nil {
		return nil, err
	}
	p := &justificationSectionPage{
		Page: a.page(c, sec.Name+" – business justification – "+er.Reference), R: er, Section: sec,
		Action: justificationPath(er.Reference) + "/" + sec.Key, Back: justificationPath(er.Reference), Return: c.Query("return") == "check",
		Version: j.Version, Submitted: j.Submitted(), CannotStart: !j.CanStart(sec.Key),
		Organisation: er.OrganisationName + " (" + er.RegionName + ")",
		NSIGOptions:  ch.NSIGOptions, AreaOptions: ch.AreaOptions, GroupOptions: ch.GroupOptions, PriorityOptions: ch.PriorityOptions,
		YesNoOptions: []Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}},
	}
	if p.Return {
		p.Action += "?return=check"
		p.Back = justificationPath(er.Reference) + "/check"
	}
	return p, nil
}

// fillSectionForms puts answers into the section forms: those saved, and for the rest what the request
// already says.
func fillSectionForms(p *justificationSectionPage, saved, prefill request.JustificationAnswers) {
	pick := func(key string) *request.JustificationAnswers {
		if saved.Saved(key) {
			return &saved
		}
		return &prefill
	}
	if s := pick(request.SectionAbout).About; s != nil {
		p.About = forms.JustificationAbout{SRNumber: s.SRNumber, RequesterName: s.RequesterName, RequesterRole: s.RequesterRole,
			RequesterEmail: s.RequesterEmail, LeadNSIG: s.LeadNSIG}
	}
	if s := pick(request.SectionRequirement).Requirement; s != nil {
		p.Requirement = forms.JustificationRequirement{Title: s.Title, FunctionalArea: s.FunctionalArea, Problem: s.Problem, Proposal: s.Proposal,
			AffectedUsers: s.AffectedUsers}
	}
	if s := pick(request.SectionStrategicFit).StrategicFit; s != nil {
		p.StrategicFit = forms.JustificationStrategicFit{Policy: s.Policy, Legislative: s.Legislative, LegislativeReference: s.LegislativeReference}
	}
	if s := saved.Benefits; s != nil {
		p.Benefits = forms.JustificationBenefits{Savings: forms.FormatMoney(s.SavingsPence), Hours: forms.FormatNumber(s.HoursPerMonth),
			Organisations: fmt.Sprint(s.Organisations), QualityBenefits: s.QualityBenefits, Baseline: s.Baseline, Target: s.Target}
	}
	if s := pick(request.SectionDelivery).Delivery; s != nil {
		p.Delivery = forms.JustificationDelivery{Priority: s.Priority, RequiredByReason: s.RequiredByReason, Dependencies: s.Dependencies,
			RisksOfDoing: s.RisksOfDoing, RisksOfNotDoing: s.RisksOfNotDoing, Workaround: s.Workaround}
		if d, err := time.Parse(time.DateOnly, s.RequiredBy); err == nil {
			p.Delivery.RequiredByDay, p.Delivery.RequiredByMonth, p.Delivery.RequiredByYear = fmt.Sprint(d.Day()), fmt.Sprint(int(d.Month())), fmt.Sprint(d.Year())
		}
	}
	if s := saved.SignOff; s != nil {
		p.SignOff = forms.JustificationSignOff{Name: s.Name, Role: s.Role}
		if d, err := time.Parse(time.DateOnly, s.Date); err == nil {
			p.SignOff.Day, p.SignOff.Month, p.SignOff.Year = fmt.Sprint(d.Day()), fmt.Sprint(int(d.Month())), fmt.Sprint(d.Year())
		}
	}
}

func (a *App) justificationSectionEdit(c *fiber.Ctx) error {
	er, _, sec, j, done, err := a.justificationSection(c)
	if done || err != nil {
		return err
	}
	p, err := a.justificationSectionPage(c, er, sec, j)
	if err != nil {
		return err
	}
	prefill, err := request.PrefillJustification(c.UserContext(), a.db, er)
	if err != nil {
		return err
	}
	fillSectionForms(p, j.Answers, prefill)
	return a.render(c, fiber.StatusOK, "justification/"+sec.Key, p)
}

// parseSection reads and checks the section's form from the request into the page, and returns its
// answers (nil when the form has errors) and the errors.
func (a *App) parseSection(c *fiber.Ctx, p *justificationSectionPage) (*request.JustificationAnswers, forms.Errors, error) {
	ch, err := a.justificationChoices(c.UserContext())
	if err != nil {
		return nil, nil, err
	}
	var errs forms.Errors
	var out request.JustificationAnswers
	switch p.Section.Key {
	case request.SectionAbout:
		f := &p.About
		if err := c.BodyParser(f); err != nil {
			return nil, nil, fiber.ErrBadRequest
		}
		errs, p.Version = f.Check(a.validate, ch.NSIGs), f.Version
		out.About = &request.AboutAnswers{SRNumber: f.SRNumber, RequesterName: f.RequesterName, RequesterRole: f.RequesterRole,
			RequesterEmail: f.RequesterEmail, LeadNSIG: f.LeadNSIG}
	case request.SectionRequirement:
		f := &p.Requirement
		if err := c.BodyParser(f); err != nil {
			return nil, nil, fiber.ErrBadRequest
		}
		errs, p.Version = f.Check(a.validate, ch.Areas, ch.Groups), f.Version
		out.Requirement = &request.RequirementAnswers{Title: f.Title, FunctionalArea: f.FunctionalArea, Problem: f.Problem, Proposal: f.Proposal,
			AffectedUsers: f.AffectedUsers}
	case request.SectionStrategicFit:
		f := &p.StrategicFit
		if err := c.BodyParser(f); err != nil {
			return nil, nil, fiber.ErrBadRequest
		}
		errs, p.Version = f.Check(a.validate), f.Version
		out.StrategicFit = &request.StrategicFitAnswers{Policy: f.Policy, Legislative: f.Legislative, LegislativeReference: f.LegislativeReference}
	case request.SectionBenefits:
		f := &p.Benefits
		if err := c.BodyParser(f); err != nil {
			return nil, nil, fiber.ErrBadRequest
		}
		errs, p.Version = f.Check(a.validate), f.Version
		out.Benefits = &request.BenefitsAnswers{SavingsPence: f.SavingsPence(), HoursPerMonth: f.HoursPerMonth(), Organisations: f.OrganisationCount(),
			QualityBenefits: f.QualityBenefits, Baseline: f.Baseline, Target: f.Target}
	case request.SectionDelivery:
		f := &p.Delivery
		if err := c.BodyParser(f); err != nil {
			return nil, nil, fiber.ErrBadRequest
		}
		errs, p.Version = f.Check(a.validate, ch.Priorities, a.today()), f.Version
		out.Delivery = &request.DeliveryAnswers{Priority: f.Priority, RequiredBy: f.RequiredBy(), RequiredByReason: f.RequiredByReason,
			Dependencies: f.Dependencies, RisksOfDoing: f.RisksOfDoing, RisksOfNotDoing: f.RisksOfNotDoing, Workaround: f.Workaround}
		if out.Delivery.RequiredBy == "" {
			out.Delivery.RequiredByReason = ""
		}
	case request.SectionSignOff:
		f := &p.SignOff
		if err := c.BodyParser(f); err != nil {
			return nil, nil, fiber.ErrBadRequest
		}
		errs, p.Version = f.Check(a.validate, a.today()), f.Version
		out.SignOff = &request.SignOffAnswers{Name: f.Name, Role: f.Role, Date: f.Date()}
	}
	if errs.Any() {
		return nil, errs, nil
	}
	return &out, nil, nil
}

// justificationSectionSave checks the section's form and saves it in one transaction, which reads the
// request, checks who may change it and locks it; then redirects. The request is read again, and the
// page built, only to show the form again with its errors or beside a newer version; someone who may
// not change the justification is sent to check your answers, as from the form.
func (a *App) justificationSectionSave(c *fiber.Ctx) error {
	sec, ok := request.SectionNamed(c.Params("section"))
	if !ok {
		return fmt.Errorf("justification section %q: %w", c.Params("section"), problem.ErrNotFound)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	// The form as posted, read into a page that is completed only if it must be shown again.
	posted := &justificationSectionPage{Section: sec}
	answers, errs, err := a.parseSection(c, posted)
	if err != nil {
		return err
	}
	again := func(errs forms.Errors, cause error) error {
		er, _, _, done, err := a.justificationTarget(c)
		if done || err != nil {
			return err
		}
		if cause != nil {
			return cause
		}
		j, err := request.GetJustification(c.UserContext(), a.db, er.ID)
		if err != nil {
			return err
		}
		p, err := a.justificationSectionPage(c, er, sec, j)
		if err != nil {
			return err
		}
		p.Version, p.About, p.Requirement, p.StrategicFit = posted.Version, posted.About, posted.Requirement, posted.StrategicFit
		p.Benefits, p.Delivery, p.SignOff = posted.Benefits, posted.Delivery, posted.SignOff
		return a.invalid(c, "justification/"+sec.Key, &p.Page, errs, p)
	}
	if errs.Any() {
		return again(errs, nil)
	}
	ref := strings.ToUpper(strings.TrimSpace(c.Params("ref")))
	saved, cleared, err := request.SaveJustificationSection(c.UserContext(), a.db, v, a.actor(c), a.now(), ref,
		request.JustificationEdit{Version: posted.Version, Section: sec.Key, Answers: *answers})
	var rule *request.RuleError
	var conflict *request.JustificationConflict
	switch {
	case errors.Is(err, problem.ErrForbidden):
		return again(nil, err) // sent to check your answers, unless the rule changed meanwhile
	case errors.As(err, &rule):
		var errs forms.Errors
		errs.Add(rule.Field, rule.Message)
		return again(errs, nil)
	case errors.As(err, &conflict):
		er, _, err := a.requestInFull(c)
		if err != nil {
			return err
		}
		action := justificationPath(er.Reference) + "/" + sec.Key
		if c.Query("return") == "check" {
			action += "?return=check"
		}
		return a.justificationConflict(c, er, sec, conflict.Current, *answers, action)
	case err != nil:
		return err
	}
	msg := "‘" + sec.Name + "’ has been saved"
	if saved.Version == posted.Version {
		msg = "You made no changes to ‘" + sec.Name + "’"
	}
	if cleared {
		msg += ". The justification had been submitted: check your answers and submit it again."
	}
	a.flash(c, msg)
	return c.Redirect(nextSectionPath(ref, sec, saved, c.Query("return") == "check"), fiber.StatusSeeOther)
}

// nextSectionPath is where "Save and continue" goes: back to check your answers when the section was
// changed from there or every section is complete; otherwise the next section that is not complete
// and can be started, in the task list's order, after this one (then before it); the task list when
// there is none.
func nextSectionPath(ref string, sec request.Section, saved *request.Justification, fromCheck bool) string {
	base := justificationPath(ref)
	if fromCheck || saved.Completed() == len(request.JustificationSections) {
		return base + "/check"
	}
	all := request.JustificationSections
	at := slices.IndexFunc(all, func(s request.Section) bool { return s.Key == sec.Key })
	states := saved.Sections()
	for k := 1; k < len(all); k++ {
		i := (at + k) % len(all)
		if states[i].State == request.SectionCompleted || !saved.CanStart(all[i].Key) {
			continue
		}
		return base + "/" + all[i].Key
	}
	return base
}

// hiddenField is a form value carried over in a hidden input.
type hiddenField struct{ Name, Value string }

// justificationConflictPage shows both versions of a section when someone saved it after the form was
// opened, and carries what was typed in hidden fields so that it can be saved over theirs.
type justificationConflictPage struct {
	Page
	R        *request.EnhancementRequest
	Section  request.Section
	Theirs   []SummaryRow
	Yours    []SummaryRow
	ByWhom   string
	Action   string
	Version  int
	Hidden   []hiddenField
	Touched  bool // someone else has saved this section (not only another one)
	Modified string
}

func (a *App) justificationConflict(c *fiber.Ctx, er *request.EnhancementRequest, sec request.Section, current *request.Justification, yours request.JustificationAnswers, action string) error {
	p := &justificationConflictPage{
		Page: a.page(c, "Someone else changed the business justification"), R: er, Section: sec, Action: action, Version: current.Version,
		Theirs: sectionRows(sec.Key, &current.Answers, ""), Yours: sectionRows(sec.Key, &yours, ""), Touched: current.Answers.Saved(sec.Key),
		ByWhom: current.UpdatedByName, Modified: current.UpdatedAt.In(london).Format("2 January 2006 at 3:04pm"),
	}
	for k, val := range c.Request().PostArgs().All() {
		if name := string(k); name != "_csrf" && name != "version" {
			p.Hidden = append(p.Hidden, hiddenField{Name: name, Value: string(val)})
		}
	}
	return a.render(c, fiber.StatusConflict, "justification/conflict", p)
}

// sectionRows are a section's answers as summary rows, with change links when changeHref is given.
func sectionRows(key string, a *request.JustificationAnswers, changeHref string) []SummaryRow {
	row := func(k, v string) SummaryRow {
		if strings.TrimSpace(v) == "" {
			v = "Not given"
		}
		return SummaryRow{Key: k, Value: v, ChangeHref: changeHref}
	}
	if !a.Saved(key) {
		sec, _ := request.SectionNamed(key)
		return []SummaryRow{{Key: "Answers", Value: "Not started", ChangeHref: changeHref, ChangeLabel: "answers to ‘" + sec.Name + "’"}}
	}
	switch key {
	case request.SectionAbout:
		s := a.About
		return []SummaryRow{row("Service Desk SR number", s.SRNumber), row("Requester's name", s.RequesterName), row("Requester's role", s.RequesterRole),
			row("Requester's email address", s.RequesterEmail), row("Lead NSIG", s.LeadNSIG)}
	case request.SectionRequirement:
		s := a.Requirement
		return []SummaryRow{row("Title", s.Title), row("Functional area", s.FunctionalArea), row("Problem or current process", s.Problem),
			row("Proposed change", s.Proposal), row("Users affected", affectedText(s.AffectedUsers, ""))}
	case request.SectionStrategicFit:
		s := a.StrategicFit
		legislative := "No"
		if s.Legislative == "yes" {
			legislative = "Yes: " + s.LegislativeReference
		}
		return []SummaryRow{row("National policy or initiative", s.Policy), row("Legislative or mandatory", legislative)}
	case request.SectionBenefits:
		s := a.Benefits
		return []SummaryRow{row("Cashable savings a year", "£"+forms.FormatMoney(s.SavingsPence)),
			row("Staff hours saved a month per organisation", forms.FormatNumber(s.HoursPerMonth)),
			row("Organisations that would benefit", fmt.Sprint(s.Organisations)), row("Quality, safety and experience benefits", s.QualityBenefits),
			row("Baseline", s.Baseline), row("Target", s.Target)}
	case request.SectionDelivery:
		s := a.Delivery
		by := "No date"
		if d, err := time.Parse(time.DateOnly, s.RequiredBy); err == nil {
			by = d.Format("2 January 2006") + "\n\n" + s.RequiredByReason
		}
		return []SummaryRow{row("Priority", urgencyText(s.Priority, "")), row("Required by", by), row("Dependencies", s.Dependencies),
			row("Risks of making the change", s.RisksOfDoing), row("Risks of not making it", s.RisksOfNotDoing), row("Workaround in place", s.Workaround)}
	case request.SectionSignOff:
		s := a.SignOff
		on := s.Date
		if d, err := time.Parse(time.DateOnly, s.Date); err == nil {
			on = d.Format("2 January 2006")
		}
		return []SummaryRow{row("Sponsoring manager or ESR lead", s.Name), row("Their role", s.Role), row("Signed off on", on)}
	}
	return nil
}

// checkSection is one section on check your answers.
type checkSection struct {
	Section request.Section
	Rows    []SummaryRow
	Status  string
	Colour  string
}

// missingView is one thing missing before submission, linking to the page that fixes it.
type missingView struct {
	Message string
	Href    string
}

type justificationCheckPage struct {
	Page
	R           *request.EnhancementRequest
	Version     int
	Sections    []checkSection
	Missing     []missingView
	CanChange   bool
	CanSubmit   bool // the viewer may submit it, now
	SubmittedOn string
	Changed     bool // it changed after the check page was opened
}

func (a *App) justificationCheckPage(c *fiber.Ctx, er *request.EnhancementRequest, v request.Viewer) (*justificationCheckPage, error) {
	j, err := request.GetJustification(c.UserContext(), a.db, er.ID)
	if err != nil {
		return nil, err
	}
	r := &er.Request
	p := &justificationCheckPage{
		Page: a.page(c, "Check the business justification – "+er.Reference), R: er, Version: j.Version,
		CanChange: request.CanEditJustification(v, r) && request.Editable(r),
	}
	if j.Submitted() {
		p.SubmittedOn = j.SubmittedAt.In(london).Format("2 January 2006 at 3:04pm")
	}
	for _, st := range j.Sections() {
		href := ""
		if p.CanChange && st.State != request.SectionCannotStart {
			href = justificationPath(er.Reference) + "/" + st.Section.Key + "?return=check"
		}
		cs := checkSection{Section: st.Section, Rows: sectionRows(st.Section.Key, &j.Answers, href), Status: "Completed", Colour: "green"}
		switch st.State {
		case request.SectionCannotStart:
			cs.Status, cs.Colour = "Cannot start yet", "grey"
		case request.SectionIncomplete:
			cs.Status, cs.Colour = "Incomplete", "blue"
		}
		p.Sections = append(p.Sections, cs)
	}
	for _, m := range j.Missing() {
		href := "#" + m.Section.Key
		if p.CanChange && j.CanStart(m.Section.Key) {
			href = justificationPath(er.Reference) + "/" + m.Section.Key + "?return=check"
		}
		p.Missing = append(p.Missing, missingView{Message: m.Message, Href: href})
	}
	p.CanSubmit = p.CanChange && request.CanSubmitJustification(v, r) && !j.Submitted() && len(p.Missing) == 0
	return p, nil
}

func (a *App) justificationCheck(c *fiber.Ctx) error {
	er, v, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	p, err := a.justificationCheckPage(c, er, v)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "justification/check", p)
}

func (a *App) justificationSubmit(c *fiber.Ctx) error {
	er, v, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	var f forms.RequirementAgree // the version the page was made from
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	_, err = request.SubmitJustification(c.UserContext(), a.db, v, a.actor(c), a.now(), er.Reference, f.Version)
	var rule *request.RuleError
	var incomplete *request.IncompleteError
	var conflict *request.JustificationConflict
	switch {
	case errors.As(err, &rule), errors.As(err, &incomplete):
		p, perr := a.justificationCheckPage(c, er, v)
		if perr != nil {
			return perr
		}
		var errs forms.Errors
		if rule != nil {
			errs.Add("", rule.Message)
		}
		if incomplete != nil {
			for _, m := range incomplete.Missing {
				errs = append(errs, forms.FieldError{Field: m.Section.Key, Message: m.Message})
			}
		}
		return a.invalid(c, "justification/check", &p.Page, errs, p)
	case errors.As(err, &conflict):
		p, perr := a.justificationCheckPage(c, er, v)
		if perr != nil {
			return perr
		}
		p.Changed = true
		return a.render(c, fiber.StatusConflict, "justification/check", p)
	case err != nil:
		return err
	}
	a.flash(c, "The business justification has been submitted")
	return c.Redirect(justificationPath(er.Reference), fiber.StatusSeeOther)
}

// workOverview is the request page's view of the requirement definition and business justification.
type workOverview struct {
	Items []TaskItem
}

// workOverviewOf is the task list of where the work stands, or nil before it starts.
func workOverviewOf(er *request.EnhancementRequest, w *request.WorkSummary) *workOverview {
	if er.Status != request.StatusRequirementsJustification && !w.Started() {
		return nil
	}
	req := TaskItem{Name: "Requirement definition", Href: requirementPath(er.Reference), Status: TaskIncomplete, Hint: "Not written yet"}
	if w.RequirementVersion > 0 {
		switch len(w.AgreedSides) {
		case 2:
			req.Status, req.Hint = TaskCompleted, fmt.Sprintf("Version %d, agreed by both sides", w.RequirementVersion)
		case 1:
			req.Hint = fmt.Sprintf("Version %d, agreed by %s only", w.RequirementVersion, request.SideLabel(w.AgreedSides[0]))
		default:
			req.Hint = fmt.Sprintf("Version %d, not agreed yet", w.RequirementVersion)
		}
	}
	just := TaskItem{Name: "Business justification", Href: justificationPath(er.Reference), Status: TaskIncomplete, Hint: "Not started"}
	j := w.Justification()
	switch {
	case j.Submitted():
		just.Status, just.Hint = TaskCompleted, "Submitted on "+j.SubmittedAt.In(london).Format("2 January 2006")
	case w.JustificationVersion > 0:
		just.Hint = fmt.Sprintf("%d of %d sections complete, not submitted", j.Completed(), len(request.JustificationSections))
	}
	if w.Endorsements > 0 {
		just.Hint += fmt.Sprintf("; %d %s", w.Endorsements, plural(w.Endorsements, "endorsement", "endorsements"))
	}
	if w.Attachments > 0 {
		just.Hint += fmt.Sprintf("; %d supporting %s", w.Attachments, plural(w.Attachments, "document", "documents"))
	}
	return &workOverview{Items: []TaskItem{req, just}}
}
