package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// reviewInterval is how often the portal looks for deferred requests whose review date has come.
const reviewInterval = 10 * time.Minute

// reviewSystemName is who the timeline and the audit trail say brought a request back for review.
const reviewSystemName = "ESR portal (review date)"

// termSystemName is who the seat history and the audit trail say ended an NSIG term that ran out.
const termSystemName = "ESR portal (term end date)"

// assessmentPanel is the impact assessment in brief, as the request page and the decision pages show
// it to the central and development teams, with the assessor's form on the request page. Show is
// false for anyone else, and for requests that have not reached impact assessment.
type assessmentPanel struct {
	Show      bool
	Href      string
	Status    string
	Completed bool
	Rows      []SummaryRow

	CanAssign       bool
	AssignForm      forms.AssignAssessor
	AssessorOptions []Option
}

// assessmentShowPage is the impact assessment of a request: the development team's form while the
// request is in impact assessment, read-only otherwise and for the central team. After a stale save
// it is the conflict page: the assessment as it stands (Theirs) beside what the user typed.
type assessmentShowPage struct {
	Page
	R        *request.EnhancementRequest
	A        *request.Assessment
	Status   string
	Editable bool
	Form     forms.Assessment
	Summary  []SummaryRow

	SizeOptions           []Option
	ModuleOptions         []Option
	RecommendationOptions []Option

	CanAssign       bool
	AssignForm      forms.AssignAssessor
	AssessorOptions []Option

	Conflict bool
	Theirs   []SummaryRow
	Typed    []SummaryRow // what the user typed, when the form can no longer be sent

	areas []string
}

func (a *App) assessmentPage(c *fiber.Ctx, title string) (*assessmentShowPage, error) {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return nil, err
	}
	er, _, err := request.GetEnhancement(ctx, a.db, v, c.Params("ref"))
	if err != nil {
		return nil, err
	}
	cur, err := request.GetAssessment(ctx, a.db, v, er.ID)
	if err != nil {
		return nil, err
	}
	p := &assessmentShowPage{Page: a.page(c, title+" – "+er.Reference), R: er, A: cur, Status: assessmentStatus(cur),
		Editable: v.Has(identity.RoleDevelopmentTeam) && er.Status == request.StatusImpactAssessment,
		Form:     assessmentForm(cur), Summary: assessmentRows(cur, true)}
	if p.areas, err = request.FunctionalAreas(ctx, a.db); err != nil {
		return nil, err
	}
	for _, s := range request.EffortSizes {
		p.SizeOptions = append(p.SizeOptions, Option{Value: s.Value, Label: s.Value + " (" + s.Label + ")", Hint: s.Hint})
	}
	for _, m := range p.areas {
		p.ModuleOptions = append(p.ModuleOptions, Option{Value: m, Label: m})
	}
	for _, r := range request.Recommendations {
		p.RecommendationOptions = append(p.RecommendationOptions, Option{Value: r.Value, Label: r.Label})
	}
	if er.Status == request.StatusImpactAssessment {
		p.CanAssign = true
		p.AssignForm = forms.AssignAssessor{From: idString(cur.AssessorID), AssessorID: idString(cur.AssessorID), Back: "assessment"}
		if p.AssessorOptions, err = a.assessorOptions(ctx); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (a *App) assessorOptions(ctx context.Context) ([]Option, error) {
	devs, err := identity.Holders(ctx, a.db, identity.RoleDevelopmentTeam)
	if err != nil {
		return nil, err
	}
	out := []Option{{Value: "", Label: "Nobody yet"}}
	for _, u := range devs {
		out = append(out, Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name})
	}
	return out, nil
}

// assessmentStatus says where an assessment stands, in words.
func assessmentStatus(cur *request.Assessment) string {
	switch {
	case cur.Outdated():
		return "Completed on " + cur.CompletedAt.In(london).Format("2 January 2006") +
			", before the request came back from a deferral: the development team should look at it again and complete it"
	case cur.Completed():
		return "Completed on " + cur.CompletedAt.In(london).Format("2 January 2006") + " by " + cur.UpdatedByName
	case cur.Started():
		return "Draft, last saved on " + cur.UpdatedAt.In(london).Format("2 January 2006 at 3:04pm") + " by " + cur.UpdatedByName
	}
	return "Not started"
}

// assessmentForm fills the form with an assessment as it is saved.
func assessmentForm(cur *request.Assessment) forms.Assessment {
	f := forms.Assessment{Version: cur.Version, EffortSize: cur.EffortSize, Modules: cur.Modules, Interfaces: cur.Interfaces,
		Risks: cur.Risks, Dependencies: cur.Dependencies, Recommendation: cur.Recommendation, Notes: cur.Notes}
	if cur.EffortDays != nil {
		f.EffortDays = strconv.FormatFloat(*cur.EffortDays, 'f', -1, 64)
	}
	if cur.CostPence != nil {
		f.Cost = poundsText(*cur.CostPence, false)
	}
	return f
}

// poundsText writes pence as pounds with thousands separators: "12,500" or "12,500.50", with a
// leading "£" when sign is true.
func poundsText(pence int64, sign bool) string {
	whole := strconv.FormatInt(pence/100, 10)
	var b strings.Builder
	if sign {
		b.WriteString("£")
	}
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if p := pence % 100; p != 0 {
		fmt.Fprintf(&b, ".%02d", p)
	}
	return b.String()
}

func orNotGiven(s string) string {
	if s == "" {
		return "Not given"
	}
	return s
}

// assessmentRows is an assessment as a summary list: all of it, or the summary the decision pages
// show (effort, cost, recommendation and risks).
func assessmentRows(cur *request.Assessment, all bool) []SummaryRow {
	effort := "Not given"
	if cur.EffortSize != "" {
		effort = request.EffortSizeLabel(cur.EffortSize)
	}
	if cur.EffortDays != nil {
		days := strconv.FormatFloat(*cur.EffortDays, 'f', -1, 64) + " days"
		if cur.EffortSize == "" {
			effort = days
		} else {
			effort += ", " + days
		}
	}
	cost := "Not given"
	if cur.CostPence != nil {
		cost = poundsText(*cur.CostPence, true)
	}
	rec := "Not given"
	if cur.Recommendation != "" {
		rec = request.RecommendationLabel(cur.Recommendation)
	}
	if !all {
		return []SummaryRow{{Key: "Effort", Value: effort}, {Key: "Cost", Value: cost}, {Key: "Recommendation", Value: rec}, {Key: "Risks", Value: orNotGiven(cur.Risks)}}
	}
	return []SummaryRow{
		{Key: "Assessor", Value: orNone(cur.AssessorName)},
		{Key: "Effort", Value: effort},
		{Key: "ESR modules affected", Value: orNotGiven(strings.Join(cur.Modules, "\n"))},
		{Key: "Interfaces affected", Value: orNotGiven(cur.Interfaces)},
		{Key: "Risks", Value: orNotGiven(cur.Risks)},
		{Key: "Dependencies", Value: orNotGiven(cur.Dependencies)},
		{Key: "Cost", Value: cost},
		{Key: "Recommendation", Value: rec},
		{Key: "Notes", Value: orNotGiven(cur.Notes)},
	}
}

// typedRows is what the user typed into the assessment form, as a summary list.
func typedRows(f forms.Assessment) []SummaryRow {
	size := f.EffortSize
	if size != "" {
		size = request.EffortSizeLabel(size)
	}
	rec := f.Recommendation
	if rec != "" {
		rec = request.RecommendationLabel(rec)
	}
	days := f.EffortDays
	if days != "" {
		days += " days"
	}
	return []SummaryRow{
		{Key: "Effort", Value: orNotGiven(strings.TrimPrefix(strings.Join([]string{size, days}, ", "), ", "))},
		{Key: "ESR modules affected", Value: orNotGiven(strings.Join(f.Modules, "\n"))},
		{Key: "Interfaces affected", Value: orNotGiven(f.Interfaces)},
		{Key: "Risks", Value: orNotGiven(f.Risks)},
		{Key: "Dependencies", Value: orNotGiven(f.Dependencies)},
		{Key: "Cost", Value: orNotGiven(f.Cost)},
		{Key: "Recommendation", Value: orNotGiven(rec)},
		{Key: "Notes", Value: orNotGiven(f.Notes)},
	}
}

func (a *App) assessmentShow(c *fiber.Ctx) error {
	p, err := a.assessmentPage(c, "Impact assessment")
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "assessments/show", p)
}

func (a *App) assessmentUpdate(c *fiber.Ctx) error {
	var f forms.Assessment
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.assessmentPage(c, "Impact assessment")
	if err != nil {
		return err
	}
	if p.R.Status != request.StatusImpactAssessment {
		return a.assessmentConflict(c, p, f, p.A)
	}
	if errs := f.Check(a.validate, p.areas); errs.Any() {
		p.Form = f
		return a.invalid(c, "assessments/show", &p.Page, errs, p)
	}
	in := request.AssessmentInput{Version: f.Version, EffortSize: f.EffortSize, Modules: f.Modules, Interfaces: f.Interfaces,
		Risks: f.Risks, Dependencies: f.Dependencies, Recommendation: f.Recommendation, Notes: f.Notes, Complete: f.Completing()}
	if d, ok := forms.Days(f.EffortDays); ok {
		in.EffortDays = &d
	}
	if pence, ok := forms.Pence(f.Cost); ok {
		in.CostPence = &pence
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	_, err = request.SaveAssessment(c.UserContext(), a.db, v, a.actor(c), a.now(), p.R.Reference, in)
	var conflict *request.AssessmentConflict
	if errors.As(err, &conflict) {
		p.R.Status = conflict.Status
		return a.assessmentConflict(c, p, f, conflict.Current)
	}
	var rule *request.RuleError
	if errors.As(err, &rule) {
		var errs forms.Errors
		errs.Add(rule.Field, rule.Message)
		p.Form = f
		return a.invalid(c, "assessments/show", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	ref := url.PathEscape(p.R.Reference)
	if in.Complete {
		a.flash(c, "Impact assessment completed: the central team can now decide")
		return c.Redirect("/requests/"+ref, fiber.StatusSeeOther)
	}
	a.flash(c, "Impact assessment saved as a draft")
	return c.Redirect("/requests/"+ref+"/assessment", fiber.StatusSeeOther)
}

// assessmentConflict answers a save made from an out-of-date form with 409: the assessment as it
// stands now and what the user typed, which stays in the form (made from the current version, so that
// saving again deliberately replaces the other version) while the request is still in impact
// assessment, and is listed to copy otherwise.
func (a *App) assessmentConflict(c *fiber.Ctx, p *assessmentShowPage, typed forms.Assessment, current *request.Assessment) error {
	p.Title = "Someone else changed this impact assessment – " + p.R.Reference
	p.Conflict = true
	p.A, p.Status = current, assessmentStatus(current)
	p.Theirs = assessmentRows(current, true)
	p.Editable = p.Editable && p.R.Status == request.StatusImpactAssessment
	p.CanAssign = p.CanAssign && p.R.Status == request.StatusImpactAssessment
	p.AssignForm.From, p.AssignForm.AssessorID = idString(current.AssessorID), idString(current.AssessorID)
	typed.Version = current.Version
	p.Form = typed
	if !p.Editable {
		p.Typed = typedRows(typed)
	}
	return a.render(c, fiber.StatusConflict, "assessments/show", p)
}

func (a *App) assessmentAssign(c *fiber.Ctx) error {
	var f forms.AssignAssessor
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	errs := a.validate.Check(&f)
	if !errs.Any() {
		v, err := a.viewer(c)
		if err != nil {
			return err
		}
		from, _ := strconv.ParseInt(f.From, 10, 64)
		to, _ := strconv.ParseInt(f.AssessorID, 10, 64)
		err = request.AssignAssessor(c.UserContext(), a.db, v, a.actor(c), a.now(), c.Params("ref"), from, to)
		var rule *request.RuleError
		switch {
		case errors.As(err, &rule):
			errs.Add(rule.Field, rule.Message)
		case err != nil:
			return err
		}
	}
	if errs.Any() {
		if f.Back == "request" {
			return a.requestShowInvalid(c, errs, func(p *requestShowPage) { p.Assessment.AssignForm.AssessorID = f.AssessorID })
		}
		p, err := a.assessmentPage(c, "Impact assessment")
		if err != nil {
			return err
		}
		p.AssignForm.AssessorID = f.AssessorID
		return a.invalid(c, "assessments/show", &p.Page, errs, p)
	}
	a.flash(c, "Assessor saved")
	path := "/requests/" + url.PathEscape(strings.ToUpper(c.Params("ref")))
	if f.Back != "request" {
		path += "/assessment"
	}
	return c.Redirect(path, fiber.StatusSeeOther)
}

// assessmentPanelFor is the impact assessment in brief for the central and development teams; the
// panel is not shown to anyone else, nor for requests that have not reached impact assessment.
// withAssign adds the assessor's form while the request is in impact assessment.
func (a *App) assessmentPanelFor(ctx context.Context, v request.Viewer, er *request.EnhancementRequest, withAssign bool) (assessmentPanel, error) {
	if !v.Has(identity.RoleCentralTeam) && !v.Has(identity.RoleDevelopmentTeam) {
		return assessmentPanel{}, nil
	}
	cur, err := request.GetAssessment(ctx, a.db, v, er.ID)
	if err != nil {
		return assessmentPanel{}, err
	}
	if !cur.Started() && cur.AssessorID == 0 && er.Status != request.StatusImpactAssessment {
		return assessmentPanel{}, nil
	}
	p := assessmentPanel{Show: true, Href: "/requests/" + er.Reference + "/assessment", Status: assessmentStatus(cur), Completed: cur.Completed(),
		Rows: append([]SummaryRow{{Key: "Assessor", Value: orNone(cur.AssessorName)}}, assessmentRows(cur, false)...)}
	if withAssign && er.Status == request.StatusImpactAssessment {
		p.CanAssign = true
		p.AssignForm = forms.AssignAssessor{From: idString(cur.AssessorID), AssessorID: idString(cur.AssessorID), Back: "request"}
		if p.AssessorOptions, err = a.assessorOptions(ctx); err != nil {
			return assessmentPanel{}, err
		}
	}
	return p, nil
}

// decisionSummary is a decision as summary rows.
func decisionSummary(d request.Decision) []SummaryRow {
	rows := []SummaryRow{
		{Key: "Outcome", Value: d.OutcomeLabel()},
		{Key: "Rationale", Value: d.Rationale},
		{Key: "Decided", Value: d.DecidedAt.In(london).Format("2 January 2006")},
	}
	if d.Outcome == "deferred" && !d.ReviewOn.IsZero() {
		rows = append(rows, SummaryRow{Key: "Review date", Value: d.ReviewOn.Format("Monday 2 January 2006")})
	}
	return rows
}

// assessmentsIndexPage is the development team's queue: requests in impact assessment assigned to the
// viewer, and those assigned to nobody.
type assessmentsIndexPage struct {
	Page
	Mine       []waitingItem
	Unassigned []waitingItem
}

type waitingItem struct {
	request.WaitingRow
	Waited string // e.g. "12 days"
	State  string // e.g. "Not started", "Draft saved 3 December 2026"
	Colour string
}

func (a *App) assessmentsIndex(c *fiber.Ctx) error {
	u := visitOf(c).user
	rows, err := request.WaitingForAssessment(c.UserContext(), a.db, u.ID)
	if err != nil {
		return err
	}
	p := &assessmentsIndexPage{Page: a.page(c, "Waiting for my assessment")}
	today := a.calendar.Date(a.now())
	for _, r := range rows {
		it := waitingItem{WaitingRow: r, State: "Not started", Colour: "grey"}
		days := int(today.Sub(a.calendar.Date(r.EnteredAt)).Hours()+12) / 24
		switch days {
		case 0:
			it.Waited = "Since today"
		case 1:
			it.Waited = "1 day"
		default:
			it.Waited = fmt.Sprintf("%d %s", days, plural(days, "day", "days"))
		}
		switch {
		case !r.CompletedAt.IsZero():
			it.State, it.Colour = "Back from a deferral", "yellow"
		case r.Version > 0:
			it.State, it.Colour = "Draft saved "+r.UpdatedAt.In(london).Format("2 January 2006"), "blue"
		}
		if r.AssessorID == u.ID {
			p.Mine = append(p.Mine, it)
		} else {
			p.Unassigned = append(p.Unassigned, it)
		}
	}
	return a.render(c, fiber.StatusOK, "assessments/index", p)
}

// reviewsIndexPage is the central team's list of deferred requests by review date.
type reviewsIndexPage struct {
	Page
	Rows    []reviewItem
	Due     int    // due today or overdue
	DueText string // what the page says about them
}

type reviewItem struct {
	request.DeferredRow
	Flag   string
	Colour string
}

func (a *App) reviewsIndex(c *fiber.Ctx) error {
	rows, err := request.Deferred(c.UserContext(), a.db)
	if err != nil {
		return err
	}
	p := &reviewsIndexPage{Page: a.page(c, "Due for review")}
	today := request.Day(a.calendar.Date(a.now()))
	for _, r := range rows {
		it := reviewItem{DeferredRow: r}
		days := int(r.ReviewOn.Sub(today).Hours() / 24)
		switch {
		case days < 0:
			it.Flag, it.Colour = "Overdue", "red"
			p.Due++
		case days == 0:
			it.Flag, it.Colour = "Due today", "orange"
			p.Due++
		case days == 1:
			it.Flag, it.Colour = "Due tomorrow", "blue"
		default:
			it.Flag, it.Colour = fmt.Sprintf("Due in %d days", days), "blue"
		}
		p.Rows = append(p.Rows, it)
	}
	if p.Due > 0 {
		p.DueText = fmt.Sprintf("%d %s due or overdue: the portal brings them back into impact assessment within a few minutes.",
			p.Due, plural(p.Due, "request is", "requests are"))
	}
	return a.render(c, fiber.StatusOK, "reviews/index", p)
}

// returnDueForReview brings deferred requests back into impact assessment on their review dates, and
// ends NSIG terms that have run out, every reviewInterval until ctx ends. Several instances may run it:
// each request moves once and each term ends once.
func (a *App) returnDueForReview(ctx context.Context) {
	t := time.NewTicker(reviewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.reviewDue(ctx)
			a.endExpiredTerms(ctx)
		}
	}
}

// endExpiredTerms ends the NSIG appointments whose terms ended before today, logging what it did.
func (a *App) endExpiredTerms(ctx context.Context) {
	now := a.now()
	ended, err := nsig.EndExpiredTerms(ctx, a.db, request.SystemViewer(termSystemName), audit.Actor{Name: termSystemName}, now, a.calendar.Date(now))
	if err != nil && ctx.Err() == nil {
		a.log.Error("end NSIG terms that have run out", "err", err)
	}
	if ended > 0 {
		a.log.Info("NSIG terms ended on their end dates", "count", ended)
	}
}

// reviewDue runs the return of deferred requests once, logging what it did.
func (a *App) reviewDue(ctx context.Context) {
	moved, err := request.ReturnDueForReview(ctx, a.db, request.Env{Now: a.now(), Calendar: a.calendar}, request.SystemViewer(reviewSystemName))
	if err != nil && ctx.Err() == nil {
		a.log.Error("return deferred requests for review", "err", err)
	}
	if len(moved) > 0 {
		a.log.Info("deferred requests back in impact assessment", "references", moved)
	}
}
