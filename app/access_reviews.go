package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/schedule/pdf"
	"github.com/nhs-esr/portal/forms"
)

// Access reviews: each organisation's access is reviewed every PORTAL_ACCESS_REVIEW_MONTHS months
// (see identity.OpenReviews). The reviewer marks each person, then signs the review off; the review
// record downloads as a PDF for the organisation's audit file, and who holds which role where, with the
// reviews due, overdue and completed, as CSV and Excel.

func (a *App) reviewPolicy() identity.ReviewPolicy {
	return identity.DefaultReviewPolicy(a.cfg.AccessReviewMonths)
}

// accessReviewsOnce opens the period's reviews, escalates overdue ones and suspends the people they
// did not confirm in time; each once, whichever instance gets there first.
func (a *App) accessReviewsOnce(ctx context.Context) {
	now, policy := a.now(), a.reviewPolicy()
	if n, err := identity.OpenReviews(ctx, a.db, now, london, policy); err != nil && ctx.Err() == nil {
		a.log.Error("open access reviews", "err", err)
	} else if n > 0 {
		a.log.Info("opened access reviews", "count", n)
	}
	if n, err := identity.EscalateReviews(ctx, a.db, now, london, policy); err != nil && ctx.Err() == nil {
		a.log.Error("escalate access reviews", "err", err)
	} else if n > 0 {
		a.log.Info("escalated overdue access reviews", "count", n)
	}
	if n, err := identity.SuspendUnconfirmed(ctx, a.db, now, policy); err != nil && ctx.Err() == nil {
		a.log.Error("suspend people access reviews did not confirm", "err", err)
	} else if n > 0 {
		a.log.Info("suspended people access reviews did not confirm", "count", n)
		a.choices.forget()
	}
}

type accessReviewsPage struct {
	Page
	Reviews   []reviewLine
	Downloads bool
}

type reviewLine struct {
	identity.Review
	State, Colour string
}

func lineOf(r identity.Review, now time.Time) reviewLine {
	l := reviewLine{Review: r, State: r.State(now), Colour: "blue"}
	switch l.State {
	case "Completed":
		l.Colour = "green"
	case "Overdue":
		l.Colour = "red"
	}
	return l
}

// mayDownload reports whether the user may download the reports of who holds which role: an
// administrator (everyone) or an access approver (their own organisation).
func mayDownload(u *identity.User) bool {
	return u.HasRole(identity.RoleAdmin) || u.HasRole(identity.RoleAccessApprover)
}

// accessReviewsIndex lists the reviews the user works on, open ones first.
func (a *App) accessReviewsIndex(c *fiber.Ctx) error {
	u := visitOf(c).user
	rs, err := identity.ReviewsFor(c.UserContext(), a.db, u)
	if err != nil {
		return err
	}
	p := &accessReviewsPage{Page: a.page(c, "Access reviews"), Downloads: mayDownload(u)}
	now := a.now()
	for _, r := range rs {
		p.Reviews = append(p.Reviews, lineOf(r, now))
	}
	return a.render(c, fiber.StatusOK, "accessreviews/index", p)
}

type accessReviewPage struct {
	Page
	Review      reviewLine
	People      []reviewPerson
	SignOff     forms.ReviewSignOff
	Attestation string
	Unmarked    int
	SuspendOn   time.Time
}

// SignOffValues are the statement's checked values, for the checkbox.
func (p *accessReviewPage) SignOffValues() []string { return []string{p.SignOff.Confirm} }

type reviewPerson struct {
	identity.ReviewEntry
	RoleTitles string
	Status     string
	// Why is why the viewer cannot mark this person ("" when they can).
	Why  string
	Form forms.ReviewMark
	// DecisionError and ReasonError are this person's errors after a refused mark.
	DecisionError, ReasonError string
}

// reviewFromParam is the review in the URL, if the user may work on it (else not found).
func (a *App) reviewFromParam(c *fiber.Ctx) (*identity.Review, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	r, err := identity.GetReview(c.UserContext(), a.db, id)
	if err != nil {
		return nil, err
	}
	if err := identity.MayReview(visitOf(c).user, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (a *App) accessReviewPage(c *fiber.Ctx, r *identity.Review) (*accessReviewPage, error) {
	es, err := identity.ReviewEntries(c.UserContext(), a.db, r.ID)
	if err != nil {
		return nil, err
	}
	u := visitOf(c).user
	now := a.now()
	p := &accessReviewPage{Page: a.page(c, "Access review: "+r.OrganisationName+", "+r.PeriodLabel()), Review: lineOf(*r, now),
		Attestation: identity.Attestation, Unmarked: r.People - r.Marked, SuspendOn: r.DueAt.Add(a.reviewPolicy().SuspendAfter)}
	p.SignOff.Version = r.Version
	for _, e := range es {
		row := reviewPerson{ReviewEntry: e, RoleTitles: roleTitles(e.CurrentRoles), Status: statusTitle(e.UserStatus),
			Form: forms.ReviewMark{Decision: e.Decision, Reason: e.Reason, Version: e.Version}}
		if row.RoleTitles == "" {
			row.RoleTitles = "None"
		}
		switch {
		case r.Complete():
		case e.UserID == u.ID:
			row.Why = "Someone else reviews your own access."
		case e.National() && !u.HasRole(identity.RoleAdmin):
			row.Why = "An administrator reviews people who hold a national role."
		case e.Decision == identity.ReviewRemove:
			row.Why = "Their access has been removed."
		}
		p.People = append(p.People, row)
	}
	return p, nil
}

// accessReviewShow is the review: every person with their roles, last sign-in and grant history, a
// decision for each, and the sign-off once all are marked.
func (a *App) accessReviewShow(c *fiber.Ctx) error {
	r, err := a.reviewFromParam(c)
	if err != nil {
		return err
	}
	p, err := a.accessReviewPage(c, r)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "accessreviews/show", p)
}

// accessReviewMark records the decision on one person.
func (a *App) accessReviewMark(c *fiber.Ctx) error {
	r, err := a.reviewFromParam(c)
	if err != nil {
		return err
	}
	userID, err := paramID(c, "user")
	if err != nil {
		return err
	}
	var f forms.ReviewMark
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	errs := a.validate.Check(&f)
	if f.Decision == identity.ReviewRemove && strings.TrimSpace(f.Reason) == "" && errs.Get("reason") == "" {
		errs.Add("reason", "Say why their access is to be removed")
	}
	if !errs.Any() {
		err = identity.MarkPerson(c.UserContext(), a.db, a.actor(c), visitOf(c).user, a.now(), r.ID,
			identity.Mark{UserID: userID, Version: f.Version, Decision: f.Decision, Reason: f.Reason})
		switch {
		case errors.Is(err, identity.ErrOwnGrant):
			return fiber.NewError(fiber.StatusForbidden, "You cannot review your own access. Another access approver or an administrator does.")
		case errors.Is(err, identity.ErrNationalRoles):
			return fiber.NewError(fiber.StatusForbidden, "People who hold a national role (central team, development team or administrator) are reviewed by an administrator.")
		case errors.Is(err, identity.ErrReviewSignedOff), errors.Is(err, identity.ErrReviewRemoved):
			return fiber.NewError(fiber.StatusConflict, strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".")
		case err != nil:
			return err
		}
		person, err := identity.Get(c.UserContext(), a.db, userID)
		if err != nil {
			return err
		}
		name := person.Name
		if f.Decision == identity.ReviewRemove {
			a.flash(c, name+"'s access has been removed and they have been signed out everywhere.")
		} else {
			a.flash(c, name+" is marked still needed.")
		}
		return c.Redirect(fmt.Sprintf("/access-reviews/%d#person-%d", r.ID, userID), fiber.StatusSeeOther)
	}
	p, err := a.accessReviewPage(c, r)
	if err != nil {
		return err
	}
	found := false
	var keyed forms.Errors
	for i := range p.People {
		if p.People[i].UserID != userID {
			continue
		}
		found = true
		p.People[i].Form = f
		p.People[i].DecisionError, p.People[i].ReasonError = errs.Get("decision"), errs.Get("reason")
		for _, fe := range errs {
			keyed = append(keyed, forms.FieldError{Field: fmt.Sprintf("%s-%d", fe.Field, userID), Message: p.People[i].UserName + ": " + fe.Message})
		}
	}
	if !found {
		return fmt.Errorf("user %d in access review %d: %w", userID, r.ID, fiber.ErrNotFound)
	}
	return a.invalid(c, "accessreviews/show", &p.Page, keyed, p)
}

// accessReviewSignOff signs the review off once everyone is marked.
func (a *App) accessReviewSignOff(c *fiber.Ctx) error {
	r, err := a.reviewFromParam(c)
	if err != nil {
		return err
	}
	var f forms.ReviewSignOff
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	errs := a.validate.Check(&f)
	if !errs.Any() {
		err = identity.SignOff(c.UserContext(), a.db, a.actor(c), visitOf(c).user, a.now(), r.ID, f.Version)
		switch {
		case errors.Is(err, identity.ErrReviewIncomplete):
			errs.Add("confirm", fmt.Sprintf("Mark every person before signing the review off: %d still to do", r.People-r.Marked))
		case errors.Is(err, identity.ErrReviewSignedOff):
			return fiber.NewError(fiber.StatusConflict, "This review has been signed off already.")
		case err != nil:
			return err
		default:
			a.flash(c, "The access review of "+r.OrganisationName+" is signed off. Download the review record for your audit file.")
			return c.Redirect(fmt.Sprintf("/access-reviews/%d", r.ID), fiber.StatusSeeOther)
		}
	}
	p, err := a.accessReviewPage(c, r)
	if err != nil {
		return err
	}
	p.SignOff = f
	return a.invalid(c, "accessreviews/show", &p.Page, errs, p)
}

// decisionWords is a review decision in words.
func decisionWords(d string) string {
	switch d {
	case identity.ReviewKeep:
		return "Still needed"
	case identity.ReviewRemove:
		return "Remove"
	}
	return "Not marked"
}

// accessReviewPDF is the review record for the organisation's audit file.
func (a *App) accessReviewPDF(c *fiber.Ctx) error {
	r, err := a.reviewFromParam(c)
	if err != nil {
		return err
	}
	es, err := identity.ReviewEntries(c.UserContext(), a.db, r.ID)
	if err != nil {
		return err
	}
	now := a.now()
	rep := &pdf.Report{
		Title:     "Access review: " + r.OrganisationName,
		Subtitle:  r.PeriodLabel() + " review, " + r.RegionName,
		Reference: fmt.Sprintf("AR-%s-%d", r.Period, r.ID),
		Author:    "ESR Enhancement Portal",
		Subject:   "The review of who has access to the ESR Enhancement Portal at " + r.OrganisationName,
		Date:      now,
		Intro: []string{
			fmt.Sprintf("Organisation: %s (ODS code %s), %s region.", r.OrganisationName, r.OrganisationODS, r.RegionName),
			fmt.Sprintf("Opened %s; due %s. State: %s.", r.OpenedAt.In(london).Format("2 January 2006"), r.DueAt.In(london).Format("2 January 2006"), r.State(now)),
		},
	}
	if r.Complete() {
		rep.Intro = append(rep.Intro, fmt.Sprintf("Signed off by %s on %s. Their statement: “%s”", r.SignedOffByName,
			r.SignedOffAt.In(london).Format("2 January 2006 at 3:04pm"), r.Attestation))
	} else {
		rep.Intro = append(rep.Intro, "Not signed off yet: "+r.MarkedText()+".")
	}
	if !r.EscalatedAt.IsZero() {
		rep.Intro = append(rep.Intro, "Escalated to the administrators on "+r.EscalatedAt.In(london).Format("2 January 2006")+".")
	}
	people := pdf.ReportSection{Title: "People and decisions", Columns: []string{"Person", "Roles when opened", "Last signed in", "Decision"},
		Empty: "Nobody held access when the review opened."}
	history := pdf.ReportSection{Title: "Grant history", Columns: []string{"Person", "Role", "Change", "Reason"}, Empty: "No changes recorded."}
	for _, e := range es {
		last := "Never"
		if !e.LastSignInAt.IsZero() {
			last = e.LastSignInAt.In(london).Format("2 Jan 2006")
		}
		roles := roleTitles(e.Roles)
		if roles == "" {
			roles = "None"
		}
		dec := decisionWords(e.Decision)
		if e.Reason != "" {
			dec += ": " + e.Reason
		}
		if !e.DecidedAt.IsZero() {
			dec += " (" + e.DeciderName + ", " + e.DecidedAt.In(london).Format("2 Jan 2006") + ")"
		}
		if !e.SuspendedAt.IsZero() {
			dec += " (suspended " + e.SuspendedAt.In(london).Format("2 Jan 2006") + ")"
		}
		people.Rows = append(people.Rows, []string{e.UserName + "\n" + e.UserEmail, roles, last, dec})
		for _, g := range e.Grants {
			change := "Given"
			if g.Change == "revoke" {
				change = "Taken away"
			}
			if g.Status != identity.GrantApplied {
				change += " (" + g.Status + ")"
			}
			change += " " + g.CreatedAt.In(london).Format("2 Jan 2006")
			reason := g.Reason
			if g.AuthoriserName != "" {
				reason += " (authorised by " + g.AuthoriserName + ")"
			}
			history.Rows = append(history.Rows, []string{e.UserName, identity.RoleTitle(g.Role), change, reason})
		}
	}
	rep.Sections = []pdf.ReportSection{people, history}
	var buf bytes.Buffer
	if err := pdf.RenderReport(&buf, rep); err != nil {
		return err
	}
	return sendFile(c, "application/pdf", fmt.Sprintf("access-review-%s-%d.pdf", r.Period, r.ID), buf.Bytes(), false)
}

// reviewSheets are the reports' tables: who holds which role where, and the reviews with their state.
// An administrator's cover every organisation; an access approver's their own.
func (a *App) reviewSheets(c *fiber.Ctx) ([]sheet, error) {
	u := visitOf(c).user
	org := u.OrganisationID
	if u.HasRole(identity.RoleAdmin) {
		org = 0
	}
	hs, err := identity.Holdings(c.UserContext(), a.db, org)
	if err != nil {
		return nil, err
	}
	rs, err := identity.ReviewsFor(c.UserContext(), a.db, u)
	if err != nil {
		return nil, err
	}
	holders := sheet{Name: "Roles", Columns: []string{"Organisation", "ODS code", "Region", "Name", "Email", "Status", "Role", "Held since", "Last signed in", "Last confirmed in a review"},
		Widths: []float64{40, 10, 24, 28, 34, 12, 28, 13, 15, 15}}
	for _, h := range hs {
		role := identity.RoleTitle(h.Role)
		if h.Role == "" {
			role = "None"
		}
		holders.Rows = append(holders.Rows, []any{h.OrganisationName, h.OrganisationODS, h.RegionName, h.UserName, h.UserEmail, statusTitle(h.Status), role,
			a.exportDate(h.GrantedAt), a.exportDate(h.LastSignInAt), a.exportDate(h.LastReviewed)})
	}
	now := a.now()
	reviews := sheet{Name: "Reviews", Columns: []string{"Organisation", "ODS code", "Region", "Period", "State", "Opened", "Due", "Escalated", "People", "Marked", "Removed", "Signed off", "Signed off by"},
		Widths: []float64{40, 10, 24, 14, 12, 13, 13, 13, 8, 8, 8, 13, 28}}
	for _, r := range rs {
		if org != 0 && r.OrganisationID != org {
			continue
		}
		reviews.Rows = append(reviews.Rows, []any{r.OrganisationName, r.OrganisationODS, r.RegionName, r.PeriodLabel(), r.State(now),
			a.exportDate(r.OpenedAt), a.exportDate(r.DueAt), a.exportDate(r.EscalatedAt), r.People, r.Marked, r.Removed, a.exportDate(r.SignedOffAt), r.SignedOffByName})
	}
	return []sheet{holders, reviews}, nil
}

// accessRolesCSV is who holds which role where, as CSV.
func (a *App) accessRolesCSV(c *fiber.Ctx) error {
	return a.reviewCSV(c, 0, "access-roles")
}

// accessReviewsCSV is the reviews due, overdue and completed, as CSV.
func (a *App) accessReviewsCSV(c *fiber.Ctx) error {
	return a.reviewCSV(c, 1, "access-reviews")
}

func (a *App) reviewCSV(c *fiber.Ctx, which int, name string) error {
	sheets, err := a.reviewSheets(c)
	if err != nil {
		return err
	}
	body, err := csvFile(sheets[which])
	if err != nil {
		return err
	}
	return sendFile(c, "text/csv; charset=utf-8", fmt.Sprintf("%s-%s.csv", name, a.now().In(london).Format(time.DateOnly)), body, false)
}

// accessReportXLSX is both tables as an Excel workbook.
func (a *App) accessReportXLSX(c *fiber.Ctx) error {
	sheets, err := a.reviewSheets(c)
	if err != nil {
		return err
	}
	body, err := workbook(excelize.DocProperties{Title: "Access to the ESR Enhancement Portal", Creator: "ESR Enhancement Portal", Created: a.now().UTC().Format(time.RFC3339)}, sheets...)
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return sendFile(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		fmt.Sprintf("access-report-%s.xlsx", a.now().In(london).Format(time.DateOnly)), body, false)
}
