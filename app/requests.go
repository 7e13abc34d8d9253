package app

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// requestShowPage is an enhancement request as the viewer may see it.
type requestShowPage struct {
	Page
	R          *request.EnhancementRequest
	Status     request.StatusInfo
	Full       bool // the whole request, shared comments and timeline
	Internal   bool // internal notes too
	Details    []SummaryRow
	Outcome    []SummaryRow
	Timeline   []timelineItem
	Supporters []request.Supporter
	Actions    []actionButton
	SLA        string
	Following  bool
	Release    *requestRelease // the release it is allocated to or was delivered in; nil for none
	Next       *nextPanel      // what happens next; nil once nothing more will
	Work       *workOverview   // the requirement definition and business justification; nil before they start
	// SummaryNote says why a viewer who may not see the whole request sees its summary; the
	// enhancement wording when empty.
	SummaryNote string

	CanSupport      bool
	SupportForm     forms.Support
	CanComment      bool
	CanInternal     bool
	CommentForm     forms.Comment
	InternalOptions []Option
	InternalValues  []string
	CanAssign       bool
	AssignForm      forms.Assign
	AssigneeOptions []Option
	NSIGOptions     []Option
	Assessment      assessmentPanel // the impact assessment in brief, for the central and development teams
	Regional        *regionalPanel  // the NSIG's regional views; nil without an NSIG or internal access
}

// timelineItem is one timeline entry in words.
type timelineItem struct {
	When     string
	Who      string
	Summary  string
	Detail   string
	Comment  bool
	Internal bool
}

// actionButton is a lifecycle action the viewer may take from the request page.
type actionButton struct {
	Name      string
	Label     string
	HasForm   bool // the action asks for text or a choice on its own page
	Secondary bool
	Warning   bool
}

func (a *App) viewer(c *fiber.Ctx) (request.Viewer, error) {
	return request.ViewerFor(c.UserContext(), a.db, visitOf(c).user)
}

// requestShow shows a request. The page is kept by the content cache for the visitor while the
// database is unchanged; it is built afresh whenever anything is written.
func (a *App) requestShow(c *fiber.Ctx) error {
	ref := c.Params("ref")
	key, err := a.contentKey(c.UserContext(), visitOf(c), "requests/show", ref)
	if err != nil {
		return err
	}
	return a.showCached(c, "requests/show", key, func() (any, *Page, error) {
		p, err := a.requestShowPage(c, ref)
		if err != nil {
			return nil, nil, err
		}
		return p, &p.Page, nil
	})
}

// requestShowPage gathers what the request page shows. It runs a fixed number of statements, however
// many events, comments, views and supporters the request has: the request with its decision,
// supporters, work and release; the timeline; and, for those who see them, the impact assessment and
// the NSIG's panel.
func (a *App) requestShowPage(c *fiber.Ctx, ref string) (*requestShowPage, error) {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return nil, err
	}
	if request.KindOf(ref) != request.KindEnhancement {
		return a.listedShowPage(c, v, ref)
	}
	pg, access, err := request.GetPage(ctx, a.db, v, ref)
	if err != nil {
		return nil, err
	}
	er := &pg.EnhancementRequest
	p := &requestShowPage{
		Page: a.page(c, er.Reference+": "+er.Title), R: er, Status: er.Status.Info(),
		Full: access >= request.AccessFull, Internal: access >= request.AccessInternal,
		AssignForm: forms.Assign{Version: er.Version, AssigneeID: idString(er.AssigneeID), NSIGID: idString(er.NSIGID)},
	}
	p.Details = []SummaryRow{{Key: "Reference", Value: er.Reference}}
	if er.Accepted {
		row := SummaryRow{Key: "What it asks for", Value: er.SummaryOf()}
		if v.Has(identity.RoleCentralTeam) {
			row.ChangeHref, row.ChangeLabel = "/requests/"+er.Reference+"/summary", "what it asks for"
		}
		p.Details = append(p.Details, row)
	}
	p.Details = append(p.Details, []SummaryRow{
		{Key: "Functional area", Value: er.FunctionalArea},
		{Key: "NSIG", Value: orNone(er.NSIGName)},
		{Key: "Raised by", Value: er.OrganisationName + " (" + er.RegionName + ")"},
		{Key: "Received", Value: er.ReceivedAt.In(london).Format("2 January 2006")},
		{Key: "Supported by", Value: supportText(er.SupportCount, er.SupportRegions)},
	}...)
	if p.Full {
		p.Details = append(p.Details,
			SummaryRow{Key: "Service Desk SR number", Value: er.SRNumber},
			SummaryRow{Key: "The problem today", Value: er.Problem},
			SummaryRow{Key: "What should change", Value: er.Proposal},
			SummaryRow{Key: "Who is affected", Value: affectedText(er.AffectedUsers, er.AffectedDetail)},
			SummaryRow{Key: "Urgency", Value: urgencyText(er.Urgency, er.UrgencyReason)},
		)
		if er.AcknowledgedAt.IsZero() {
			p.Details = append(p.Details, SummaryRow{Key: "Acknowledge by", Value: er.AckDueOn.Format("Monday 2 January 2006")})
		} else {
			p.Details = append(p.Details, SummaryRow{Key: "Acknowledged", Value: er.AcknowledgedAt.In(london).Format("2 January 2006")})
		}
		if er.Status == request.StatusInformationRequested && !er.InfoDueOn.IsZero() {
			p.Details = append(p.Details, SummaryRow{Key: "Reply needed by", Value: er.InfoDueOn.Format("Monday 2 January 2006")})
		}
	}
	if p.Internal && er.AssigneeName != "" {
		p.Details = append(p.Details, SummaryRow{Key: "Triager", Value: er.AssigneeName})
	}
	if er.OutcomeReason != "" {
		p.Outcome = []SummaryRow{{Key: "Outcome", Value: request.OutcomeReasonLabel(er.OutcomeReason)}}
		if er.DuplicateOfReference != "" {
			original := "Another request, not yet open to other organisations"
			if pg.OriginalVisible {
				original = er.DuplicateOfReference
			}
			p.Outcome = append(p.Outcome, SummaryRow{Key: "Original request", Value: original})
		}
		if er.OutcomeExplanation != "" {
			p.Outcome = append(p.Outcome, SummaryRow{Key: "Explanation", Value: er.OutcomeExplanation})
		}
	}
	if pg.HasDecision {
		p.Outcome = append(p.Outcome, decisionSummary(pg.Decision)...)
	}
	if p.Assessment, err = a.assessmentPanelFor(ctx, v, er, true); err != nil {
		return nil, err
	}
	p.Supporters = pg.Supporters
	// The regional views only while the NSIG reviews the request: before it is accepted and once it
	// is decided nobody can give one.
	if nsig.Reviewable(&er.Request) {
		if p.Regional, err = a.regionalPanelFor(ctx, v, er, p.Internal); err != nil {
			return nil, err
		}
	}
	p.Release = pageRelease(v, er, pg.Release)
	if p.Full {
		entries, err := request.Timeline(ctx, a.db, er.ID, access)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			p.Timeline = append(p.Timeline, describe(v, access, e))
		}
		p.Following = pg.Following
		p.Work = workOverviewOf(er, &pg.Work)
	}
	ready := readinessOf(pg, p.Assessment)
	for _, t := range request.Available(v, &er.Request) {
		if !ready.ready(t.Name) {
			continue
		}
		p.Actions = append(p.Actions, actionButton{
			Name: t.Name, Label: t.Label, HasForm: hasForm(t),
			Secondary: t.Name == "withdraw" || t.Name == "decline" || t.Name == "request_information",
			Warning:   t.Name == "not_taken_forward" || t.Name == "not_approve",
		})
	}
	p.Next = nextStepsFor(v, er, pg, p.Full, ready, a.now())
	p.CanComment = p.Full
	p.CanInternal = p.Internal
	p.InternalOptions = []Option{{Value: "true", Label: "Internal note: only the central and development teams and the request's NSIG"}}
	p.CanSupport = er.Accepted && !er.Status.Closed() && er.OrganisationID != v.OrganisationID &&
		(v.Has(identity.RoleRequester) || v.Has(identity.RoleNSIGMember)) && !supports(p.Supporters, v.OrganisationID)
	if v.Has(identity.RoleCentralTeam) {
		if er.AcknowledgedAt.IsZero() && !er.Status.Closed() {
			if sla, err := a.calendar.Status(er.AckDueOn, a.now()); err == nil {
				p.SLA = "Acknowledgement " + sla.Text
			}
		}
		p.CanAssign = !er.Status.Closed()
		if p.CanAssign {
			lists, err := a.choices.get(ctx, a)
			if err != nil {
				return nil, err
			}
			p.AssigneeOptions, p.NSIGOptions = lists.assignOptions()
		}
	}
	return p, nil
}

// hasForm reports whether an action has a page of its own before it is made: to ask for words or a
// choice, or to confirm an action that cannot be undone and tells people.
func hasForm(t request.Transition) bool {
	return t.NeedsText || t.NeedsCode || t.TextLabel != "" || t.NeedsRelease || t.NeedsReviewDate || t.Irreversible()
}

// describe words a timeline entry for the viewer, who may see the request at access: people are named
// by the rule on names (request.Viewer.NameFor).
func describe(v request.Viewer, access request.Access, e request.Entry) timelineItem {
	it := timelineItem{When: e.At.In(london).Format("2 January 2006 at 3:04pm"), Internal: e.Internal}
	if e.Comment != nil {
		it.Comment = true
		author := e.Comment.Author()
		it.Who = v.NameFor(access, author)
		if v.SeesNameOf(access, author) && author.OrganisationName != "" {
			it.Who += ", " + author.OrganisationName
		}
		it.Summary = "Internal note"
		if !e.Internal {
			it.Summary = "Comment"
		}
		it.Detail = e.Comment.Body
		return it
	}
	it.Who = v.NameFor(access, e.Event.Actor())
	it.Summary = e.Event.Summary
	it.Detail = e.Event.Detail
	return it
}

func supports(list []request.Supporter, orgID int64) bool {
	for _, s := range list {
		if s.OrganisationID == orgID {
			return true
		}
	}
	return false
}

func supportText(orgs, regions int) string {
	if orgs == 0 {
		return "No other organisations yet"
	}
	return fmt.Sprintf("%d %s in %d %s", orgs, plural(orgs, "organisation", "organisations"), regions, plural(regions, "region", "regions"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func affectedText(groups []string, detail string) string {
	var labels []string
	for _, g := range groups {
		for _, au := range request.AffectedUsers {
			if au.Value == g {
				labels = append(labels, au.Label)
			}
		}
	}
	s := strings.Join(labels, "\n")
	if detail != "" {
		s += "\n\n" + detail
	}
	return s
}

func urgencyText(code, reason string) string {
	for _, u := range request.Urgencies {
		if u.Value == code {
			if reason != "" {
				return u.Label + "\n\n" + reason
			}
			return u.Label
		}
	}
	return code
}

func orNone(s string) string {
	if s == "" {
		return "Not yet assigned"
	}
	return s
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// requestActionPage is the form of an action that needs words or a choice.
type requestActionPage struct {
	Page
	R             *request.EnhancementRequest
	Action        request.Transition
	Form          forms.RequestAction
	ReasonOptions []Option
	TextLabel     string
	TextHint      string
	// Similar are open requests that look like this one, shown where triage decides whether it is a
	// duplicate.
	Similar []request.Similar
	// ReleaseOptions are the releases an approved request can go into.
	ReleaseOptions []Option
	// Assessment is the impact assessment in brief, on the decision pages.
	Assessment assessmentPanel
	// Listed is what a supplementary role or competency request asks to add, on its decision pages.
	Listed []SummaryRow
	// Regional is the NSIG's regional views, on the central team's triage and decision pages.
	Regional *regionalPanel
	// Question is the central team's question, on the page that answers it.
	Question string
	// Irreversible: the action closes the request; Told says whom it tells.
	Irreversible bool
	Told         []string
	// Release is the release a request is delivered in, on the page that marks it delivered.
	Release *requestRelease
	// Effort is the request's assessed effort, on the page that allocates it; "" when not given.
	Effort string
}

func (a *App) requestActionPage(c *fiber.Ctx, f forms.RequestAction) (*requestActionPage, error) {
	v, err := a.viewer(c)
	if err != nil {
		return nil, err
	}
	er, err := a.requestOfAnyKind(c, v)
	if err != nil {
		return nil, err
	}
	t, ok := request.TransitionNamed(er.Kind, c.Params("name"))
	if !ok {
		return nil, fmt.Errorf("action %q: %w", c.Params("name"), problem.ErrNotFound)
	}
	if !t.Allows(v, &er.Request) {
		if t.From != nil && !containsStatus(t.From, er.Status) {
			return nil, fmt.Errorf("request %s is %s: %w", er.Reference, er.Status, problem.ErrConflict)
		}
		return nil, fmt.Errorf("%s on %s: %w", t.Name, er.Reference, problem.ErrForbidden)
	}
	if f.Version == 0 {
		f.Version = er.Version
		if t.NeedsSummary {
			f.Summary = request.SuggestSummary(er.Proposal)
		}
	}
	p := &requestActionPage{Page: a.page(c, t.Label+" – "+er.Reference), R: er, Action: t, Form: f}
	if er.Kind == request.KindEnhancement && (t.Name == "approve" || t.Name == "defer" || t.Name == "not_approve") {
		if p.Assessment, err = a.assessmentPanelFor(c.UserContext(), v, er, false); err != nil {
			return nil, err
		}
	}
	if v.Has(identity.RoleCentralTeam) && nsig.Reviewable(&er.Request) && (t.Name == "approve" || t.Name == "defer" || t.Name == "not_approve") {
		if p.Regional, err = a.regionalPanelFor(c.UserContext(), v, er, true); err != nil {
			return nil, err
		}
	}
	if t.TextLabel != "" {
		p.TextLabel = strings.ToUpper(t.TextLabel[:1]) + t.TextLabel[1:]
	}
	if t.NeedsRelease {
		if p.ReleaseOptions, p.Effort, err = a.allocateOptions(c.UserContext(), v, er); err != nil {
			return nil, err
		}
	}
	if er.Kind == request.KindEnhancement && t.Name == "answer" {
		if p.Question, _, err = request.LatestDetail(c.UserContext(), a.db, er.ID, "request_information"); err != nil {
			return nil, err
		}
	}
	if t.Irreversible() {
		p.Irreversible = true
		if p.Told, err = a.toldText(c.UserContext(), v, er, t); err != nil {
			return nil, err
		}
	}
	if er.Kind == request.KindEnhancement && t.Name == "deliver" {
		if p.Release, _, err = a.requestReleaseOf(c.UserContext(), v, &er.Request); err != nil {
			return nil, err
		}
	}
	if t.Name == "not_taken_forward" || t.Name == "classify_enhancement" {
		if p.Similar, err = request.FindSimilar(c.UserContext(), a.db, v, request.KindEnhancement, er.Title, er.ID, 5); err != nil {
			return nil, err
		}
	}
	if t.NeedsCode {
		for _, r := range request.OutcomeReasons {
			p.ReasonOptions = append(p.ReasonOptions, Option{Value: r.Value, Label: r.Label, Hint: r.Hint})
		}
	}
	switch t.Name {
	case "request_information":
		p.TextHint = "The requester sees this and has 10 working days to reply."
	case "answer":
		p.TextHint = "The central team sees your answer and the request goes back into triage."
	case "classify_enhancement":
		p.TextHint = "Optional. The requester sees this with the request to decide whether to take it forward."
	case "not_taken_forward":
		p.TextHint = "The requester sees this. Say what they can do instead, if anything."
	}
	if er.Kind != request.KindEnhancement {
		p.TextHint = listedActionHint(t.Name, p.TextHint)
		if t.Name == "approve" {
			_, summary, _, _, _, err := a.listedAnswers(c.UserContext(), v, er.Reference)
			if err != nil {
				return nil, err
			}
			p.Listed = summary
		}
	}
	return p, nil
}

func containsStatus(list []request.Status, s request.Status) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (a *App) requestActionShow(c *fiber.Ctx) error {
	p, err := a.requestActionPage(c, forms.RequestAction{})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "requests/action", p)
}

// requestActionApply applies a lifecycle action: the form is checked and the transition applied
// (which checks the viewer, the version and the rules) before any page is built; the action's page is
// built only to show the form again with its errors.
func (a *App) requestActionApply(c *fiber.Ctx) error {
	var f forms.RequestAction
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	ref := c.Params("ref")
	t, ok := request.TransitionNamed(request.KindOf(ref), c.Params("name"))
	if !ok {
		return fmt.Errorf("action %q: %w", c.Params("name"), problem.ErrNotFound)
	}
	errs := a.validate.Check(&f)
	in := request.Input{Version: f.Version, Text: f.Text, Reason: f.Reason, DuplicateOf: f.DuplicateOf, Summary: f.Summary}
	if t.NeedsReviewDate {
		review, given, ok := parseDate(f.ReviewDay, f.ReviewMonth, f.ReviewYear)
		if !ok {
			errs.Add("review_on-day", "Enter a real date, like 15 3 2027")
		}
		if given {
			in.ReviewOn = review
		}
	}
	in.ReleaseID, _ = strconv.ParseInt(f.ReleaseID, 10, 64)
	if !errs.Any() {
		v, err := a.viewer(c)
		if err != nil {
			return err
		}
		r, err := request.Apply(c.UserContext(), a.db, a.requestEnv(), v, a.actor(c), ref, t.Name, in)
		var rule *request.RuleError
		switch {
		case errors.As(err, &rule) && !hasForm(t):
			// An action without a page of its own was refused: the request page says why, and what
			// is missing.
			errs.Add(rule.Field, rule.Message)
			return a.requestShowInvalid(c, errs, nil)
		case errors.As(err, &rule):
			errs.Add(rule.Field, rule.Message)
		case errors.Is(err, problem.ErrConflict):
			return a.requestConflict(c, strings.ToUpper(strings.TrimSpace(ref)), f.Text)
		case err != nil:
			return err
		default:
			a.flash(c, actionDone(t.Name, r))
			return c.Redirect("/requests/"+url.PathEscape(r.Reference), fiber.StatusSeeOther)
		}
	}
	p, err := a.requestActionPage(c, f)
	if err != nil {
		return err
	}
	return a.invalid(c, "requests/action", &p.Page, errs, p)
}

// actionDone is the success message after an action: what was done, and where the request now is.
func actionDone(name string, r *request.Request) string {
	done := map[string]string{
		"acknowledge":           "acknowledged. Triage has started",
		"request_information":   "your question has been sent to the raising organisation",
		"answer":                "your answer has been sent to the central team. The request is back in triage",
		"classify_enhancement":  "classified as an enhancement. The raising organisation now decides whether to take it forward",
		"not_taken_forward":     "closed: it will not be taken forward. The raising organisation has been told",
		"progress":              "you are taking it forward. Next: the requirement definition and business justification",
		"decline":               "closed: you are not taking it forward",
		"submit_for_assessment": "sent for impact assessment",
		"approve":               "approved. Next: allocate it to a release",
		"defer":                 "deferred. It comes back for impact assessment on its review date",
		"not_approve":           "closed: not approved. Its followers have been told",
		"review":                "back in impact assessment",
		"allocate":              "allocated to a release",
		"deliver":               "marked as delivered. Its followers and supporters have been told",
		"withdraw":              "withdrawn",
	}
	if r.Kind != request.KindEnhancement {
		done = map[string]string{
			"acknowledge":         "the review has started",
			"request_information": "your question has been sent to the requester",
			"answer":              "your answer has been sent to the central team. The request is back in review",
			"approve":             "approved and added to the list. The requester has been told",
			"reject":              "closed: rejected. The requester has been told",
			"withdraw":            "withdrawn",
		}
	}
	if d, ok := done[name]; ok {
		return r.Reference + ": " + d
	}
	return r.Reference + ": " + r.Status.Label()
}

// requestShowInvalid re-renders the request page with a form's errors and what was typed.
func (a *App) requestShowInvalid(c *fiber.Ctx, errs forms.Errors, fill func(p *requestShowPage)) error {
	p, err := a.requestShowPage(c, c.Params("ref"))
	if err != nil {
		return err
	}
	if fill != nil {
		fill(p)
	}
	return a.invalid(c, "requests/show", &p.Page, errs, p)
}

func (a *App) requestComment(c *fiber.Ctx) error {
	var f forms.Comment
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	fill := func(p *requestShowPage) {
		p.CommentForm = f
		if f.Internal {
			p.InternalValues = []string{"true"}
		}
	}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.requestShowInvalid(c, errs, fill)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	err = request.AddComment(c.UserContext(), a.db, v, a.actor(c), a.now(), c.Params("ref"), f.Body, f.Internal)
	msg := "Your comment has been added"
	if f.Internal {
		msg = "Your internal note has been added"
	}
	return a.requestDone(c, err, fill, msg, "#timeline")
}

func (a *App) requestSupport(c *fiber.Ctx) error {
	var f forms.Support
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	fill := func(p *requestShowPage) { p.SupportForm = f; p.CanSupport = true }
	if errs := a.validate.Check(&f); errs.Any() {
		return a.requestShowInvalid(c, errs, fill)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	err = request.Support(c.UserContext(), a.db, v, a.actor(c), a.now(), c.Params("ref"), f.Note)
	return a.requestDone(c, err, fill, "Your organisation now supports this request", "")
}

func (a *App) requestFollow(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	on := c.FormValue("follow") == "1"
	if err := request.SetFollowing(c.UserContext(), a.db, v, a.actor(c), a.now(), c.Params("ref"), on); err != nil {
		return err
	}
	msg := "You will be told about changes to this request"
	if !on {
		msg = "You will no longer be told about changes to this request"
	}
	return a.requestDone(c, nil, nil, msg, "")
}

func (a *App) requestAssign(c *fiber.Ctx) error {
	var f forms.Assign
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	fill := func(p *requestShowPage) { p.AssignForm = f }
	if errs := a.validate.Check(&f); errs.Any() {
		return a.requestShowInvalid(c, errs, fill)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	assignee, _ := strconv.ParseInt(f.AssigneeID, 10, 64)
	nsig, _ := strconv.ParseInt(f.NSIGID, 10, 64)
	err = request.Assign(c.UserContext(), a.db, v, a.actor(c), a.now(), c.Params("ref"), f.Version, assignee, nsig)
	return a.requestDone(c, err, fill, "Assignment saved", "")
}

// requestDone finishes a form posted from the request page: a broken rule re-renders the page with
// the error and what was typed (fill puts it back); success leaves a flash and goes back to the page,
// at anchor if given.
func (a *App) requestDone(c *fiber.Ctx, err error, fill func(p *requestShowPage), flash, anchor string) error {
	var rule *request.RuleError
	if errors.As(err, &rule) {
		var errs forms.Errors
		errs.Add(rule.Field, rule.Message)
		return a.requestShowInvalid(c, errs, fill)
	}
	if err != nil {
		return err
	}
	a.flash(c, flash)
	return c.Redirect("/requests/"+url.PathEscape(strings.ToUpper(c.Params("ref")))+anchor, fiber.StatusSeeOther)
}

// requestConflictPage tells someone whose form was made from an older version of a request what
// changed since, and keeps what they typed so that it is not lost.
type requestConflictPage struct {
	Page
	Reference string
	Status    request.StatusInfo
	Changes   []timelineItem
	Typed     string
}

func (a *App) requestConflict(c *fiber.Ctx, ref, typed string) error {
	p, err := a.requestShowPage(c, ref)
	if err != nil {
		return err
	}
	changes := p.Timeline
	if len(changes) > 3 {
		changes = changes[len(changes)-3:]
	}
	page := &requestConflictPage{Page: a.page(c, "Someone else changed this request"), Reference: p.R.Reference,
		Status: p.Status, Changes: changes, Typed: typed}
	return a.render(c, fiber.StatusConflict, "requests/conflict", page)
}

// requestSummaryPage is the central team's form for the summary every organisation reads of a request.
type requestSummaryPage struct {
	Page
	R    *request.EnhancementRequest
	Form forms.PublicSummary
}

func (a *App) requestSummaryPage(c *fiber.Ctx, f forms.PublicSummary) (*requestSummaryPage, error) {
	v, err := a.viewer(c)
	if err != nil {
		return nil, err
	}
	er, _, err := request.GetEnhancement(c.UserContext(), a.db, v, c.Params("ref"))
	if err != nil {
		return nil, err
	}
	if !er.Accepted {
		return nil, fmt.Errorf("request %s is not accepted, so it has no public summary: %w", er.Reference, problem.ErrNotFound)
	}
	if f.Version == 0 {
		f.Version, f.Summary = er.Version, er.SummaryOf()
	}
	return &requestSummaryPage{Page: a.page(c, "What it asks for – "+er.Reference), R: er, Form: f}, nil
}

func (a *App) requestSummaryEdit(c *fiber.Ctx) error {
	p, err := a.requestSummaryPage(c, forms.PublicSummary{})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "requests/summary", p)
}

func (a *App) requestSummaryUpdate(c *fiber.Ctx) error {
	var f forms.PublicSummary
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	errs := a.validate.Check(&f)
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	var r *request.Request
	if !errs.Any() {
		r, err = request.EditPublicSummary(c.UserContext(), a.db, v, a.actor(c), a.now(), c.Params("ref"), f.Version, f.Summary)
		if rule, ok := ruleErrors(err); ok {
			errs = rule
		} else if errors.Is(err, problem.ErrConflict) {
			return a.requestConflict(c, c.Params("ref"), f.Summary)
		} else if err != nil {
			return err
		}
	}
	if errs.Any() {
		p, err := a.requestSummaryPage(c, f)
		if err != nil {
			return err
		}
		return a.invalid(c, "requests/summary", &p.Page, errs, p)
	}
	a.flash(c, r.Reference+": the summary other organisations read is saved")
	return c.Redirect("/requests/"+url.PathEscape(r.Reference), fiber.StatusSeeOther)
}
