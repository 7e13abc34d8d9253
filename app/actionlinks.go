package app

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// requestEnv is what the request lifecycle needs from the portal for a change made now: the clock and
// the working-day calendar.
func (a *App) requestEnv() request.Env {
	return request.Env{Now: a.now(), Calendar: a.calendar}
}

// linkRefusedPage explains why a link from an email did not work, and where to go instead.
type linkRefusedPage struct {
	Page
	Reference string // the request the link was for, when it was the user's own link
	NotSecure bool   // the user's address is no longer on the secure list
	Days      int    // how long links work
}

func (a *App) linkRefused(c *fiber.Ctx, refused *actionlink.RefusedError) error {
	p := &linkRefusedPage{Page: a.page(c, "This link has expired or has already been used"), Reference: refused.Reference,
		NotSecure: refused.Reason == actionlink.ReasonNotSecure, Days: int(a.cfg.ActionLinkTTL.Hours() / 24)}
	if p.NotSecure {
		p.Title = "This link no longer works for your email address"
	}
	return a.render(c, fiber.StatusGone, "links/refused", p)
}

// linkFollow opens a link from an email. An action link shows the page to confirm its action on, and
// changes nothing: mail scanners fetch every link of an email, and opening it must not be taking it. A
// link to a page (from emails written before action links) is used by opening it and sends its user
// on. Either way only the user it was made for, signed in, gets anywhere; anyone else, or a used or
// expired link, gets a page saying so.
func (a *App) linkFollow(c *fiber.Ctx) error {
	u := visitOf(c).user
	l, err := actionlink.Read(c.UserContext(), a.db, c.Params("token"), u.ID, a.now())
	var refused *actionlink.RefusedError
	if errors.As(err, &refused) {
		return a.linkRefused(c, refused)
	}
	if err != nil {
		return err
	}
	if l.Action == "" {
		path, err := actionlink.Use(c.UserContext(), a.db, a.actor(c), c.Params("token"), u.ID, a.now())
		if errors.As(err, &refused) {
			return a.linkRefused(c, refused)
		}
		if err != nil {
			return err
		}
		return c.Redirect(safeNext(path), fiber.StatusSeeOther)
	}
	if a.cfg.SecureEmailDomains.Level(u.Email) != notify.LevelAction {
		return a.linkRefused(c, &actionlink.RefusedError{Reason: actionlink.ReasonNotSecure, Reference: l.Reference})
	}
	p, err := a.linkPage(c, l, forms.LinkAction{}, true)
	if err != nil {
		return a.linkProblem(c, l, err, "")
	}
	return a.render(c, fiber.StatusOK, "links/confirm", p)
}

// linkTake confirms the action of a link: the form is checked, then the link is used and its action
// taken in one transaction, at the version the email was written against. A request (or document)
// that has moved on since is the conflict page; a rule the input breaks shows the page again with
// what was typed.
func (a *App) linkTake(c *fiber.Ctx) error {
	var f forms.LinkAction
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	u := visitOf(c).user
	token := c.Params("token")
	l, err := actionlink.Read(c.UserContext(), a.db, token, u.ID, a.now())
	var refused *actionlink.RefusedError
	switch {
	case errors.As(err, &refused):
		return a.linkRefused(c, refused)
	case err != nil:
		return err
	case l.Action == "":
		return a.linkRefused(c, &actionlink.RefusedError{Reason: actionlink.ReasonUnknown, Reference: l.Reference})
	case a.cfg.SecureEmailDomains.Level(u.Email) != notify.LevelAction:
		return a.linkRefused(c, &actionlink.RefusedError{Reason: actionlink.ReasonNotSecure, Reference: l.Reference})
	}
	errs := a.validate.Check(&f)
	in := request.LinkInput{Input: request.Input{Text: f.Text, Reason: f.Reason, DuplicateOf: f.DuplicateOf, Summary: f.Summary}}
	if l.Action == "defer" {
		review, given, ok := parseDate(strings.TrimSpace(f.ReviewDay), strings.TrimSpace(f.ReviewMonth), strings.TrimSpace(f.ReviewYear))
		if !ok {
			errs.Add("review_on-day", "Enter a real date, like 15 3 2027")
		}
		if given {
			in.ReviewOn = review
		}
	}
	if l.Action == request.ActionEndorse {
		region, _ := strconv.ParseInt(f.Region, 10, 16)
		in.RegionID = int16(region)
	}
	if !errs.Any() {
		v, err := a.viewer(c)
		if err != nil {
			return err
		}
		out, err := request.TakeLinkAction(c.UserContext(), a.db, a.requestEnv(), v, a.actor(c), token, in)
		var rule *request.RuleError
		switch {
		case errors.As(err, &refused):
			return a.linkRefused(c, refused)
		case errors.As(err, &rule):
			field := rule.Field
			if field == "comment" || field == "" {
				field = "text"
			}
			errs.Add(field, rule.Message)
		case err != nil:
			return a.linkProblem(c, l, err, f.Text)
		default:
			return a.linkDone(c, out)
		}
	}
	p, err := a.linkPage(c, l, f, false)
	if err != nil {
		return a.linkProblem(c, l, err, f.Text)
	}
	return a.invalid(c, "links/confirm", &p.Page, errs, p)
}

// linkDone tells the user what their confirmed action did, on the page where its result shows.
func (a *App) linkDone(c *fiber.Ctx, out *request.LinkOutcome) error {
	ref := out.Link.Reference
	switch out.Link.Action {
	case request.ActionAgree:
		msg := fmt.Sprintf("You have agreed version %d for %s.", out.Link.Version, request.SideLabel(out.Side))
		if out.Both {
			msg += " Both sides have now agreed the requirement definition."
		}
		a.flash(c, msg)
		return c.Redirect(requirementPath(ref), fiber.StatusSeeOther)
	case request.ActionEndorse:
		a.flash(c, "Your endorsement has been recorded")
		return c.Redirect(justificationPath(ref)+"#endorsements", fiber.StatusSeeOther)
	}
	a.flash(c, actionDone(out.Link.Action, out.Request))
	return c.Redirect("/requests/"+url.PathEscape(out.Request.Reference), fiber.StatusSeeOther)
}

// linkProblem shows why a link's action cannot be taken now: the conflict page when its request (or
// the document) has moved on since the email was written, keeping what was typed; anything else as the
// error it is.
func (a *App) linkProblem(c *fiber.Ctx, l *actionlink.Link, err error, typed string) error {
	var reqConflict *request.RequirementConflict
	if errors.As(err, &reqConflict) {
		v, verr := a.viewer(c)
		if verr != nil {
			return verr
		}
		er, _, gerr := request.GetEnhancement(c.UserContext(), a.db, v, l.Reference)
		if gerr != nil {
			return gerr
		}
		return a.requirementConflict(c, er, reqConflict)
	}
	if errors.Is(err, problem.ErrConflict) {
		return a.requestConflict(c, l.Reference, typed)
	}
	return err
}

// linkPage is the page an action link opens: the request in brief, what confirming will do, and the
// fields the action needs, prefilled where the portal knows what to suggest.
type linkPage struct {
	Page
	Token   string // the link's own, which the form posts back to
	R       *request.EnhancementRequest
	Action  request.EmailAction
	Heading string
	Summary []SummaryRow
	Form    forms.LinkAction
	Warning bool // the action closes the request or says no

	// What the page shows besides the request.
	Question    string // the question being answered, or the last one asked
	Answer      string // the requester's latest answer
	Requirement string // ActionAgree: the version being agreed
	Assessment  assessmentPanel
	Regions     []Option // ActionEndorse: the regions the user may endorse for

	// The fields the action needs.
	TextLabel     string
	TextHint      string
	TextRows      int
	ReasonOptions []Option
	ReviewDate    bool
	NeedsSummary  bool
}

// linkPage builds the confirmation page of l's action for the signed-in user. It checks the action
// may still be taken at the link's version (request.CheckAction), so that a request that has moved on
// shows the conflict page at once. fresh prefills the form.
func (a *App) linkPage(c *fiber.Ctx, l *actionlink.Link, f forms.LinkAction, fresh bool) (*linkPage, error) {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return nil, err
	}
	var er *request.EnhancementRequest
	if request.KindOf(l.Reference) == request.KindEnhancement {
		if er, _, err = request.GetEnhancement(ctx, a.db, v, l.Reference); err != nil {
			return nil, err
		}
	} else {
		r, _, err := request.Get(ctx, a.db, v, l.Reference)
		if err != nil {
			return nil, err
		}
		er = &request.EnhancementRequest{Request: *r}
	}
	if err := request.CheckAction(ctx, a.db, v, &er.Request, l.Action, l.Version); err != nil {
		return nil, err
	}
	act, ok := request.EmailActionNamed(l.Action)
	if !ok {
		return nil, fmt.Errorf("action link for %q: %w", l.Action, problem.ErrNotFound)
	}
	label := request.LinkLabel(er.Reference, request.Offer{Name: l.Action, Version: l.Version})
	p := &linkPage{Page: a.page(c, label), Token: c.Params("token"), R: er, Action: act, Heading: label + "?", Form: f,
		Warning: l.Action == "not_approve" || l.Action == "not_taken_forward" || l.Action == "decline"}
	p.Summary = []SummaryRow{
		{Key: "Reference", Value: er.Reference},
		{Key: "Title", Value: er.Title},
		{Key: "Raised by", Value: er.OrganisationName + ", " + er.RegionName},
		{Key: "Status", Value: er.Status.Label()},
	}
	if er.FunctionalArea != "" {
		p.Summary = append(p.Summary, SummaryRow{Key: "Functional area", Value: er.FunctionalArea})
	}
	switch {
	case er.Accepted:
		p.Summary = append(p.Summary, SummaryRow{Key: "What it asks for", Value: er.SummaryOf()})
	case er.Proposal != "":
		p.Summary = append(p.Summary, SummaryRow{Key: "The change asked for", Value: er.Proposal})
	}
	if l.Action == "acknowledge" {
		p.Summary = append(p.Summary, SummaryRow{Key: "Acknowledgement due", Value: er.AckDueOn.Format("Monday 2 January 2006")})
	}
	switch l.Action {
	case "approve", "defer", "not_approve":
		if p.Assessment, err = a.assessmentPanelFor(ctx, v, er, false); err != nil {
			return nil, err
		}
		p.TextLabel, p.TextRows = "The rationale for the decision", 5
		p.TextHint = "The requester and everyone following the request read it."
		if l.Action == "not_approve" {
			p.TextLabel = "The reason it is not approved"
		}
		p.ReviewDate = l.Action == "defer"
		if p.ReviewDate && fresh {
			// Suggested: three months on, when the next quarter's release planning starts.
			due := a.now().In(london).AddDate(0, 3, 0)
			p.Form.ReviewDay, p.Form.ReviewMonth, p.Form.ReviewYear = strconv.Itoa(due.Day()), strconv.Itoa(int(due.Month())), strconv.Itoa(due.Year())
		}
	case "classify_enhancement", "not_taken_forward", "request_information":
		if p.Question, _, err = request.LatestDetail(ctx, a.db, er.ID, "request_information"); err != nil {
			return nil, err
		}
		if p.Answer, _, err = request.LatestDetail(ctx, a.db, er.ID, "answer"); err != nil {
			return nil, err
		}
		switch l.Action {
		case "classify_enhancement":
			p.NeedsSummary = true
			if fresh {
				p.Form.Summary = request.SuggestSummary(er.Proposal)
			}
			p.TextLabel, p.TextRows = "A note for the requester (optional)", 4
			p.TextHint = "The requester sees this with the request when they decide whether to take it forward."
		case "not_taken_forward":
			for _, r := range request.OutcomeReasons {
				p.ReasonOptions = append(p.ReasonOptions, Option{Value: r.Value, Label: r.Label, Hint: r.Hint})
			}
			p.TextLabel, p.TextRows = "An explanation for the requester", 5
			p.TextHint = "The requester sees this. Say what they can do instead, if anything."
		case "request_information":
			p.TextLabel, p.TextRows = "Your question", 5
			p.TextHint = "The requester sees this and has 10 working days to reply."
		}
	case "answer":
		if p.Question, _, err = request.LatestDetail(ctx, a.db, er.ID, "request_information"); err != nil {
			return nil, err
		}
		p.TextLabel, p.TextRows = "Your answer", 6
		p.TextHint = "The central team sees your answer and the request goes back into triage."
	case "decline":
		p.TextLabel, p.TextRows = "Why (optional)", 4
	case request.ActionAgree:
		q, err := request.GetRequirement(ctx, a.db, er.ID)
		if err != nil {
			return nil, err
		}
		if rv := q.Version(l.Version); rv != nil {
			p.Requirement = rv.Body
		}
	case request.ActionEndorse:
		regions, err := request.EndorsingRegions(ctx, a.db, v, &er.Request)
		if err != nil {
			return nil, err
		}
		for _, rg := range regions {
			o := Option{Value: strconv.Itoa(int(rg.ID)), Label: rg.Name}
			if rg.Endorser == request.EndorserFAM {
				o.Hint = "As its functional account manager"
			} else {
				o.Hint = "For its regional SIG, as a holder of one of its NSIG seats"
			}
			p.Regions = append(p.Regions, o)
		}
		if fresh && len(regions) == 1 {
			p.Form.Region = p.Regions[0].Value
		}
		p.TextLabel, p.TextRows = "Your comment", 4
		p.TextHint = "Say why your region supports it. Everyone who may read the business justification reads this."
	}
	return p, nil
}
