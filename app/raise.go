package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// Raising an enhancement request: a start page, four question pages whose answers are kept in a draft,
// "check your answers", then the confirmation. Every page is the signed-in user's own draft; the draft
// id becomes the request's submission token, so sending the last form twice raises one request.

// raiseSteps are the question pages in order, by the last part of their path.
var raiseSteps = []string{"title", "details", "affected", "urgency"}

// raiseSimilarLimit is how many similar requests a page suggests.
const raiseSimilarLimit = 5

func raiseStepPath(draftID, step string) string { return "/requests/drafts/" + draftID + "/" + step }

// raiseQuestion is what every question page shows besides its own fields.
type raiseQuestion struct {
	Page
	Action string // where the form posts: the page itself, with ?return=check when changing an answer
	Back   string // the back link: the page before, or check your answers
	Return bool   // the answer is being changed from check your answers
}

func (a *App) raiseQuestion(c *fiber.Ctx, title, draftID, step string) raiseQuestion {
	q := raiseQuestion{Page: a.page(c, title), Action: raiseStepPath(draftID, step), Return: c.Query("return") == "check"}
	switch {
	case q.Return:
		q.Action += "?return=check"
		q.Back = raiseStepPath(draftID, "check")
	case step == raiseSteps[0]:
		q.Back = "/requests/new"
	default:
		for i, s := range raiseSteps {
			if s == step {
				q.Back = raiseStepPath(draftID, raiseSteps[i-1])
			}
		}
	}
	return q
}

// raiseDraft reads the draft named in the URL: the signed-in user's own enhancement draft.
func (a *App) raiseDraft(c *fiber.Ctx) (*request.Draft, error) {
	d, err := request.GetDraft(c.UserContext(), a.db, visitOf(c).user.ID, c.Params("id"))
	if err != nil {
		return nil, err
	}
	if d.Kind != request.KindEnhancement {
		return nil, fmt.Errorf("draft %s is a %s draft: %w", d.ID, d.Kind, problem.ErrNotFound)
	}
	return d, nil
}

// raiseDraftGone answers for a draft that could not be read: when the user has already raised a request
// from it (its draft is deleted then), they are shown that request's confirmation; otherwise the error
// stands (a missing draft, or another user's, is "page not found").
func (a *App) raiseDraftGone(c *fiber.Ctx, err error) error {
	if !errors.Is(err, problem.ErrNotFound) {
		return err
	}
	r, rerr := request.RaisedFromDraft(c.UserContext(), a.db, visitOf(c).user.ID, c.Params("id"))
	if rerr == nil {
		return c.Redirect("/requests/"+r.Reference+"/raised", fiber.StatusSeeOther)
	}
	if !errors.Is(rerr, problem.ErrNotFound) {
		return rerr
	}
	return err
}

// raiseSave keeps a page's answers and goes on: to the next page, or back to check your answers when
// the answer was changed from there (which sends the user on to any page still unanswered).
func (a *App) raiseSave(c *fiber.Ctx, d *request.Draft, step string) error {
	if err := request.SaveDraft(c.UserContext(), a.db, a.actor(c), d.UserID, d.ID, d.Data, a.now()); err != nil {
		return err
	}
	next := "check"
	if c.Query("return") != "check" {
		for i, s := range raiseSteps {
			if s == step && i+1 < len(raiseSteps) {
				next = raiseSteps[i+1]
			}
		}
	}
	return c.Redirect(raiseStepPath(d.ID, next), fiber.StatusSeeOther)
}

// raiseChoices are the lists the question pages choose from.
type raiseChoices struct {
	Areas     []string
	Groups    []string // values of request.AffectedUsers
	Urgencies []string // values of request.Urgencies
}

func (a *App) raiseChoices(ctx context.Context) (raiseChoices, error) {
	areas, err := request.FunctionalAreas(ctx, a.db)
	if err != nil {
		return raiseChoices{}, err
	}
	ch := raiseChoices{Areas: areas}
	for _, g := range request.AffectedUsers {
		ch.Groups = append(ch.Groups, g.Value)
	}
	for _, u := range request.Urgencies {
		ch.Urgencies = append(ch.Urgencies, u.Value)
	}
	return ch, nil
}

// raiseIncomplete returns the first question page whose answers in the draft are missing or no longer
// valid (a functional area since removed, say), or "" when every answer is ready to raise.
func (a *App) raiseIncomplete(ctx context.Context, d request.EnhancementDraft) (string, error) {
	ch, err := a.raiseChoices(ctx)
	if err != nil {
		return "", err
	}
	title := forms.RaiseTitle{SRNumber: d.SRNumber, Title: d.Title}
	details := forms.RaiseDetails{FunctionalArea: d.FunctionalArea, Problem: d.Problem, Proposal: d.Proposal}
	affected := forms.RaiseAffected{AffectedUsers: d.AffectedUsers, AffectedDetail: d.AffectedDetail}
	urgency := forms.RaiseUrgency{Urgency: d.Urgency, UrgencyReason: d.UrgencyReason}
	switch {
	case title.Check(a.validate).Any():
		return "title", nil
	case details.Check(a.validate, ch.Areas).Any():
		return "details", nil
	case affected.Check(a.validate, ch.Groups).Any():
		return "affected", nil
	case urgency.Check(a.validate, ch.Urgencies).Any():
		return "urgency", nil
	}
	return "", nil
}

// raiseSimilar finds the requests the viewer may see whose titles look like title.
func (a *App) raiseSimilar(c *fiber.Ctx, title string) ([]request.Similar, error) {
	v, err := request.ViewerFor(c.UserContext(), a.db, visitOf(c).user)
	if err != nil {
		return nil, err
	}
	return request.FindSimilar(c.UserContext(), a.db, v, request.KindEnhancement, title, 0, raiseSimilarLimit)
}

// requestNew is the start page: what you will need and what happens next.
func (a *App) requestNew(c *fiber.Ctx) error {
	p := a.page(c, "Raise an enhancement request")
	return a.render(c, fiber.StatusOK, "raise/start", &p)
}

// draftCreate starts a draft and opens its first page.
func (a *App) draftCreate(c *fiber.Ctx) error {
	id, err := request.NewDraft(c.UserContext(), a.db, a.actor(c), visitOf(c).user.ID, request.KindEnhancement, a.now())
	if err != nil {
		return err
	}
	return c.Redirect(raiseStepPath(id, raiseSteps[0]), fiber.StatusSeeOther)
}

type raiseTitlePage struct {
	raiseQuestion
	Form forms.RaiseTitle
}

func (a *App) raiseTitlePage(c *fiber.Ctx, d *request.Draft, f forms.RaiseTitle) *raiseTitlePage {
	return &raiseTitlePage{raiseQuestion: a.raiseQuestion(c, "About your request", d.ID, "title"), Form: f}
}

func (a *App) draftTitleEdit(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	p := a.raiseTitlePage(c, d, forms.RaiseTitle{SRNumber: d.Data.SRNumber, Title: d.Data.Title})
	return a.render(c, fiber.StatusOK, "raise/title", p)
}

func (a *App) draftTitleUpdate(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	var f forms.RaiseTitle
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	if errs := f.Check(a.validate); errs.Any() {
		p := a.raiseTitlePage(c, d, f)
		return a.invalid(c, "raise/title", &p.Page, errs, p)
	}
	d.Data.SRNumber, d.Data.Title = strings.ToUpper(f.SRNumber), f.Title
	return a.raiseSave(c, d, "title")
}

type raiseDetailsPage struct {
	raiseQuestion
	Form        forms.RaiseDetails
	AreaOptions []Option
	Similar     []request.Similar // requests whose titles look like this one's
}

func (a *App) raiseDetailsPage(c *fiber.Ctx, d *request.Draft, f forms.RaiseDetails) (*raiseDetailsPage, error) {
	ch, err := a.raiseChoices(c.UserContext())
	if err != nil {
		return nil, err
	}
	similar, err := a.raiseSimilar(c, d.Data.Title)
	if err != nil {
		return nil, err
	}
	opts := []Option{{Value: "", Label: "Select a functional area"}}
	for _, name := range ch.Areas {
		opts = append(opts, Option{Value: name, Label: name})
	}
	return &raiseDetailsPage{raiseQuestion: a.raiseQuestion(c, "Describe the change", d.ID, "details"), Form: f, AreaOptions: opts, Similar: similar}, nil
}

func (a *App) draftDetailsEdit(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	p, err := a.raiseDetailsPage(c, d, forms.RaiseDetails{FunctionalArea: d.Data.FunctionalArea, Problem: d.Data.Problem, Proposal: d.Data.Proposal})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "raise/details", p)
}

func (a *App) draftDetailsUpdate(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	var f forms.RaiseDetails
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	ch, err := a.raiseChoices(c.UserContext())
	if err != nil {
		return err
	}
	if errs := f.Check(a.validate, ch.Areas); errs.Any() {
		p, err := a.raiseDetailsPage(c, d, f)
		if err != nil {
			return err
		}
		return a.invalid(c, "raise/details", &p.Page, errs, p)
	}
	d.Data.FunctionalArea, d.Data.Problem, d.Data.Proposal = f.FunctionalArea, f.Problem, f.Proposal
	return a.raiseSave(c, d, "details")
}

type raiseAffectedPage struct {
	raiseQuestion
	Form    forms.RaiseAffected
	Options []Option
}

func (a *App) raiseAffectedPage(c *fiber.Ctx, d *request.Draft, f forms.RaiseAffected) *raiseAffectedPage {
	opts := make([]Option, 0, len(request.AffectedUsers))
	for _, g := range request.AffectedUsers {
		opts = append(opts, Option{Value: g.Value, Label: g.Label})
	}
	return &raiseAffectedPage{raiseQuestion: a.raiseQuestion(c, "Who would the change affect?", d.ID, "affected"), Form: f, Options: opts}
}

func (a *App) draftAffectedEdit(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	p := a.raiseAffectedPage(c, d, forms.RaiseAffected{AffectedUsers: d.Data.AffectedUsers, AffectedDetail: d.Data.AffectedDetail})
	return a.render(c, fiber.StatusOK, "raise/affected", p)
}

func (a *App) draftAffectedUpdate(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	var f forms.RaiseAffected
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	ch, err := a.raiseChoices(c.UserContext())
	if err != nil {
		return err
	}
	if errs := f.Check(a.validate, ch.Groups); errs.Any() {
		p := a.raiseAffectedPage(c, d, f)
		return a.invalid(c, "raise/affected", &p.Page, errs, p)
	}
	d.Data.AffectedUsers, d.Data.AffectedDetail = f.AffectedUsers, f.AffectedDetail
	return a.raiseSave(c, d, "affected")
}

type raiseUrgencyPage struct {
	raiseQuestion
	Form    forms.RaiseUrgency
	Options []Option
}

func (a *App) raiseUrgencyPage(c *fiber.Ctx, d *request.Draft, f forms.RaiseUrgency) *raiseUrgencyPage {
	opts := make([]Option, 0, len(request.Urgencies))
	for _, u := range request.Urgencies {
		opts = append(opts, Option{Value: u.Value, Label: u.Label, Hint: u.Hint})
	}
	return &raiseUrgencyPage{raiseQuestion: a.raiseQuestion(c, "How urgent is it?", d.ID, "urgency"), Form: f, Options: opts}
}

func (a *App) draftUrgencyEdit(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	p := a.raiseUrgencyPage(c, d, forms.RaiseUrgency{Urgency: d.Data.Urgency, UrgencyReason: d.Data.UrgencyReason})
	return a.render(c, fiber.StatusOK, "raise/urgency", p)
}

func (a *App) draftUrgencyUpdate(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	var f forms.RaiseUrgency
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	ch, err := a.raiseChoices(c.UserContext())
	if err != nil {
		return err
	}
	if errs := f.Check(a.validate, ch.Urgencies); errs.Any() {
		p := a.raiseUrgencyPage(c, d, f)
		return a.invalid(c, "raise/urgency", &p.Page, errs, p)
	}
	d.Data.Urgency, d.Data.UrgencyReason = f.Urgency, f.UrgencyReason
	return a.raiseSave(c, d, "urgency")
}

type raiseCheckPage struct {
	Page
	DraftID string
	Back    string
	Answers []SummaryRow
	Similar []request.Similar
}

func (a *App) draftCheck(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	step, err := a.raiseIncomplete(c.UserContext(), d.Data)
	if err != nil {
		return err
	}
	if step != "" {
		return c.Redirect(raiseStepPath(d.ID, step), fiber.StatusSeeOther)
	}
	similar, err := a.raiseSimilar(c, d.Data.Title)
	if err != nil {
		return err
	}
	change := func(step string) string { return raiseStepPath(d.ID, step) + "?return=check" }
	data := d.Data
	rows := []SummaryRow{
		{Key: "Service Desk SR number", Value: data.SRNumber, ChangeHref: change("title")},
		{Key: "Title", Value: data.Title, ChangeHref: change("title")},
		{Key: "Functional area", Value: data.FunctionalArea, ChangeHref: change("details")},
		{Key: "The problem today", Value: data.Problem, ChangeHref: change("details")},
		{Key: "What you want to change", Value: data.Proposal, ChangeHref: change("details")},
		{Key: "Who is affected", Value: raiseAffectedLabels(data.AffectedUsers), ChangeHref: change("affected")},
		{Key: "More about who is affected", Value: raiseOrNotGiven(data.AffectedDetail), ChangeHref: change("affected")},
		{Key: "Urgency", Value: raiseUrgencyLabel(data.Urgency), ChangeHref: change("urgency")},
		{Key: "Why it is urgent", Value: raiseOrNotGiven(data.UrgencyReason), ChangeHref: change("urgency")},
	}
	p := &raiseCheckPage{
		Page: a.page(c, "Check your answers before raising your request"), DraftID: d.ID,
		Back: raiseStepPath(d.ID, raiseSteps[len(raiseSteps)-1]), Answers: rows, Similar: similar,
	}
	return a.render(c, fiber.StatusOK, "raise/check", p)
}

func raiseAffectedLabels(values []string) string {
	var labels []string
	for _, v := range values {
		for _, g := range request.AffectedUsers {
			if g.Value == v {
				labels = append(labels, g.Label)
			}
		}
	}
	return strings.Join(labels, "\n")
}

func raiseUrgencyLabel(value string) string {
	for _, u := range request.Urgencies {
		if u.Value == value {
			if u.Hint == "" {
				return u.Label
			}
			return u.Label + ": " + strings.ToLower(u.Hint[:1]) + u.Hint[1:]
		}
	}
	return value
}

func raiseOrNotGiven(s string) string {
	if s == "" {
		return "Not given"
	}
	return s
}

// draftSubmit raises the request from the draft, which deletes the draft in the same transaction. The
// draft id is the submission token: a second submission, before or after the draft is deleted, finds
// the request the first raised.
func (a *App) draftSubmit(c *fiber.Ctx) error {
	d, err := a.raiseDraft(c)
	if err != nil {
		return a.raiseDraftGone(c, err)
	}
	step, err := a.raiseIncomplete(c.UserContext(), d.Data)
	if err != nil {
		return err
	}
	if step != "" {
		return c.Redirect(raiseStepPath(d.ID, step), fiber.StatusSeeOther)
	}
	v, err := request.ViewerFor(c.UserContext(), a.db, visitOf(c).user)
	if err != nil {
		return err
	}
	r, err := request.RaiseEnhancement(c.UserContext(), a.db, a.calendar, v, a.actor(c), a.now(), d.Data.NewEnhancement(d.ID))
	if err != nil {
		return err
	}
	return c.Redirect("/requests/"+r.Reference+"/raised", fiber.StatusSeeOther)
}

type raiseDonePage struct {
	Page
	Request *request.EnhancementRequest
	AckDue  string // e.g. "Friday 4 December 2026"
}

// requestRaised is the confirmation, shown to the person who raised the request.
func (a *App) requestRaised(c *fiber.Ctx) error {
	v, err := request.ViewerFor(c.UserContext(), a.db, visitOf(c).user)
	if err != nil {
		return err
	}
	if request.KindOf(c.Params("ref")) != request.KindEnhancement {
		return a.listedRaised(c, v)
	}
	r, _, err := request.GetEnhancement(c.UserContext(), a.db, v, c.Params("ref"))
	if err != nil {
		return err
	}
	if r.RaisedByID != v.UserID {
		return fmt.Errorf("confirmation of %s for user %d, who did not raise it: %w", r.Reference, v.UserID, problem.ErrNotFound)
	}
	p := &raiseDonePage{Page: a.page(c, "Request raised"), Request: r, AckDue: r.AckDueOn.Format("Monday 2 January 2006")}
	return a.render(c, fiber.StatusOK, "raise/raised", p)
}

// raiseSimilarMatch is one similar request as /requests/similar returns it.
type raiseSimilarMatch struct {
	Reference    string `json:"reference"`
	Title        string `json:"title"`
	Status       string `json:"status"`
	Organisation string `json:"organisation"`
	Supporters   int    `json:"supporters"`
	Href         string `json:"href"`
	Yours        bool   `json:"yours"` // the viewer's own organisation raised it, so cannot support it
}

// requestsSimilar returns, as JSON, the requests the viewer may see whose titles look like ?title=, for
// the title page's script to suggest while the title is typed. Without the script, the same
// suggestions appear on the next page and on check your answers.
func (a *App) requestsSimilar(c *fiber.Ctx) error {
	title := c.Query("title")
	if r := []rune(title); len(r) > 200 {
		title = string(r[:200])
	}
	found, err := a.raiseSimilar(c, title)
	if err != nil {
		return err
	}
	out := make([]raiseSimilarMatch, 0, len(found))
	for _, s := range found {
		out = append(out, raiseSimilarMatch{
			Reference: s.Reference, Title: s.Title, Status: s.Status.Label(), Organisation: s.OrganisationName,
			Supporters: s.SupportCount, Href: "/requests/" + s.Reference, Yours: s.OrganisationID == visitOf(c).user.OrganisationID,
		})
	}
	return c.JSON(out)
}
