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

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// termEndingWithin is how many days ahead the membership page looks for terms ending.
const termEndingWithin = 90

type nsigsIndexPage struct {
	Page
	NSIGs     []nsig.NSIG
	CanManage bool
	Seated    bool // the viewer holds a seat, so has requests waiting for their region's view
	Seats     int
}

func (a *App) nsigsIndex(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	list, err := nsig.List(c.UserContext(), a.db, v)
	if err != nil {
		return err
	}
	p := &nsigsIndexPage{Page: a.page(c, "NSIGs"), NSIGs: list, CanManage: nsig.CanManage(v), Seated: len(v.NSIGIDs) > 0, Seats: nsig.Seats}
	return a.render(c, fiber.StatusOK, "nsigs/index", p)
}

func (a *App) nsigFromParam(c *fiber.Ctx, v request.Viewer) (*nsig.NSIG, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("NSIG %q: %w", c.Params("id"), problem.ErrNotFound)
	}
	return nsig.Get(c.UserContext(), a.db, v, id)
}

// statusCount is one line of the dashboard's open requests by status, with the filter that lists them.
type statusCount struct {
	Status request.StatusInfo
	Count  int
	Filter request.Filter
}

type nsigShowPage struct {
	Page
	N         *nsig.NSIG
	Details   []SummaryRow
	Seats     []nsig.Seat
	Dash      *nsig.Dashboard
	ByStatus  []statusCount
	Open      int
	Gaps      []nsig.RegionGap
	CanManage bool
	MySeat    *nsig.Appointment
	// Meetings.
	Next        *nsig.Meeting
	NextWhen    string
	Meetings    []nsig.Meeting
	OpenActions []nsig.Action
	CanSchedule bool
	Projects    []nsig.Project // linked projects handed to the NSIG: its responsibilities
	Handovers   []handoverRow  // hand-overs some region has still to act on
}

// nsigShow is an NSIG's dashboard: its open requests by status, coverage gaps and seats.
func (a *App) nsigShow(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return err
	}
	p := &nsigShowPage{Page: a.page(c, n.Name+" NSIG"), N: n, CanManage: nsig.CanManage(v)}
	p.Details = []SummaryRow{
		{Key: "Functional areas", Value: strings.Join(n.FunctionalAreas, "\n")},
		{Key: "Chair", Value: orText(n.ChairName, "No chair yet")},
		{Key: "Status", Value: n.Status.Label()},
		{Key: "Seats filled", Value: fmt.Sprintf("%d of %d have a member, %d have a deputy", n.Members, nsig.Seats, n.Deputies)},
	}
	if p.Seats, err = nsig.SeatsOf(ctx, a.db, n.ID); err != nil {
		return err
	}
	d, err := nsig.DashboardOf(ctx, a.db, v, n.ID, request.Day(a.calendar.Date(a.now())))
	if err != nil {
		return err
	}
	p.Dash = d
	for _, s := range d.ByStatus {
		p.ByStatus = append(p.ByStatus, statusCount{Status: s.Status.Info(), Count: s.Count, Filter: s.Filter})
		p.Open += s.Count
	}
	p.Gaps = d.Gaps
	if p.MySeat, err = nsig.SeatFor(ctx, a.db, v, n.ID); err != nil {
		return err
	}
	if p.Next, err = nsig.NextMeeting(ctx, a.db, n.ID, a.now()); err != nil {
		return err
	}
	if p.Next != nil {
		p.NextWhen = p.Next.StartsAt.In(london).Format("Monday 2 January 2006 at 3:04pm")
	}
	if p.Meetings, err = nsig.Meetings(ctx, a.db, n.ID); err != nil {
		return err
	}
	if p.OpenActions, err = nsig.OpenActions(ctx, a.db, n.ID); err != nil {
		return err
	}
	p.CanSchedule = v.Has(identity.RoleCentralTeam)
	if p.Projects, err = nsig.ProjectsOf(ctx, a.db, n.ID); err != nil {
		return err
	}
	handovers, err := nsig.PendingHandovers(ctx, a.db, n.ID)
	if err != nil {
		return err
	}
	for _, h := range handovers {
		row := handoverRow{Handover: h}
		for _, r := range h.Regions {
			may := false
			if !r.Done() {
				if may, err = nsig.CanMarkExtended(ctx, a.db, v, n.ID, r.RegionID); err != nil {
					return err
				}
			}
			row.Regions = append(row.Regions, handoverRegion{RegionExtension: r, CanMark: may})
		}
		p.Handovers = append(p.Handovers, row)
	}
	return a.render(c, fiber.StatusOK, "nsigs/show", p)
}

// handoverRow is a hand-over waiting on regions, as the dashboard shows it.
type handoverRow struct {
	nsig.Handover
	Regions []handoverRegion
}

type handoverRegion struct {
	nsig.RegionExtension
	CanMark bool // the viewer may mark it done
}

// handoverRegionDone marks that a region's SIG has extended its membership to cover a project handed to
// the NSIG.
func (a *App) handoverRegionDone(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return err
	}
	projectID, err := strconv.ParseInt(c.Params("project"), 10, 64)
	if err != nil || projectID <= 0 {
		return fmt.Errorf("project %q: %w", c.Params("project"), problem.ErrNotFound)
	}
	region, err := strconv.ParseInt(c.Params("region"), 10, 16)
	if err != nil || region <= 0 {
		return fmt.Errorf("region %q: %w", c.Params("region"), problem.ErrNotFound)
	}
	if err := nsig.MarkExtended(c.UserContext(), a.db, v, a.actor(c), a.now(), n.ID, projectID, int16(region)); err != nil {
		return err
	}
	a.flash(c, "Marked done: the regional SIG has extended its membership to cover the project's area")
	return c.Redirect(fmt.Sprintf("/nsigs/%d#handovers", n.ID), fiber.StatusSeeOther)
}

func orText(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

type nsigFormPage struct {
	Page
	N             *nsig.NSIG // nil when adding
	Form          forms.NSIG
	Action        string
	AreaOptions   []Option
	ChairOptions  []Option
	StatusOptions []Option
}

func (a *App) nsigFormPage(c *fiber.Ctx, f forms.NSIG, n *nsig.NSIG) (*nsigFormPage, error) {
	ctx := c.UserContext()
	p := &nsigFormPage{Page: a.page(c, "Add an NSIG"), N: n, Form: f, Action: "/nsigs", StatusOptions: []Option{
		{Value: string(nsig.StatusActive), Label: "Active", Hint: "It reviews requests in its functional areas and meets"},
		{Value: string(nsig.StatusInactive), Label: "Inactive", Hint: "New requests are not routed to it"},
	}}
	areas, err := request.FunctionalAreas(ctx, a.db)
	if err != nil {
		return nil, err
	}
	for _, ar := range areas {
		p.AreaOptions = append(p.AreaOptions, Option{Value: ar, Label: ar})
	}
	if n != nil {
		p.Title, p.Action = "Change "+n.Name, fmt.Sprintf("/nsigs/%d", n.ID)
		seats, err := nsig.SeatsOf(ctx, a.db, n.ID)
		if err != nil {
			return nil, err
		}
		p.ChairOptions = []Option{{Value: "", Label: "No chair"}}
		for _, s := range seats {
			for _, ap := range []*nsig.Appointment{s.Member, s.Deputy} {
				if ap != nil {
					p.ChairOptions = append(p.ChairOptions, Option{Value: strconv.FormatInt(ap.UserID, 10),
						Label: fmt.Sprintf("%s (%s %s)", ap.UserName, s.RegionName, strings.ToLower(ap.Position.Label()))})
				}
			}
		}
	}
	return p, nil
}

func (a *App) nsigNew(c *fiber.Ctx) error {
	p, err := a.nsigFormPage(c, forms.NSIG{Status: string(nsig.StatusActive)}, nil)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "nsigs/form", p)
}

func nsigInput(f forms.NSIG) nsig.Input {
	chair, _ := strconv.ParseInt(f.ChairUserID, 10, 64)
	return nsig.Input{Name: f.Name, FunctionalAreas: f.FunctionalAreas, ChairUserID: chair, Status: nsig.Status(f.Status)}
}

func (a *App) nsigCreate(c *fiber.Ctx) error {
	var f forms.NSIG
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.nsigFormPage(c, f, nil)
	if err != nil {
		return err
	}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "nsigs/form", &p.Page, errs, p)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	n, err := nsig.Create(c.UserContext(), a.db, v, a.actor(c), a.now(), nsigInput(f))
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "nsigs/form", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.choices.forget()
	a.flash(c, n.Name+" NSIG added: now fill its seats")
	return c.Redirect(fmt.Sprintf("/nsigs/%d", n.ID), fiber.StatusSeeOther)
}

func (a *App) nsigEdit(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return err
	}
	f := forms.NSIG{Name: n.Name, FunctionalAreas: n.FunctionalAreas, ChairUserID: idString(n.ChairUserID), Status: string(n.Status), Version: n.Version}
	p, err := a.nsigFormPage(c, f, n)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "nsigs/form", p)
}

func (a *App) nsigUpdate(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return err
	}
	var f forms.NSIG
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.nsigFormPage(c, f, n)
	if err != nil {
		return err
	}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "nsigs/form", &p.Page, errs, p)
	}
	saved, err := nsig.Update(c.UserContext(), a.db, v, a.actor(c), a.now(), n.ID, f.Version, nsigInput(f))
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "nsigs/form", &p.Page, errs, p)
	}
	if errors.Is(err, problem.ErrConflict) {
		p.Errors.Add("", "Someone else changed this NSIG after you opened the form, so your changes were not saved. Check its details below: what you typed is kept.")
		fresh, ferr := nsig.Get(c.UserContext(), a.db, v, n.ID)
		if ferr != nil {
			return ferr
		}
		p.N, p.Form.Version = fresh, fresh.Version
		return a.render(c, fiber.StatusConflict, "nsigs/form", p)
	}
	if err != nil {
		return err
	}
	a.choices.forget()
	a.flash(c, "Changes to "+saved.Name+" saved")
	return c.Redirect(fmt.Sprintf("/nsigs/%d", n.ID), fiber.StatusSeeOther)
}

type membershipPage struct {
	Page
	Gaps *nsig.Gaps
}

func (a *App) nsigMembership(c *fiber.Ctx) error {
	g, err := nsig.Membership(c.UserContext(), a.db, a.now().In(london), termEndingWithin)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "nsigs/membership", &membershipPage{Page: a.page(c, "NSIG membership"), Gaps: g})
}

type seatPage struct {
	Page
	N       *nsig.NSIG
	Seat    nsig.Seat
	History []nsig.Appointment
	Today   time.Time // now, to tell terms that have not started from current ones
}

func (a *App) seatFromParams(c *fiber.Ctx) (*nsig.NSIG, nsig.Seat, error) {
	v, err := a.viewer(c)
	if err != nil {
		return nil, nsig.Seat{}, err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return nil, nsig.Seat{}, err
	}
	region, err := strconv.ParseInt(c.Params("region"), 10, 16)
	if err != nil {
		return nil, nsig.Seat{}, fmt.Errorf("region %q: %w", c.Params("region"), problem.ErrNotFound)
	}
	seats, err := nsig.SeatsOf(c.UserContext(), a.db, n.ID)
	if err != nil {
		return nil, nsig.Seat{}, err
	}
	for _, s := range seats {
		if s.RegionID == int16(region) {
			return n, s, nil
		}
	}
	return nil, nsig.Seat{}, fmt.Errorf("region %d: %w", region, problem.ErrNotFound)
}

func (a *App) seatShow(c *fiber.Ctx) error {
	n, s, err := a.seatFromParams(c)
	if err != nil {
		return err
	}
	p := &seatPage{Page: a.page(c, s.RegionName+" seat on the "+n.Name+" NSIG"), N: n, Seat: s, Today: a.now()}
	if p.History, err = nsig.SeatHistory(c.UserContext(), a.db, n.ID, s.RegionID); err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "nsigs/seat", p)
}

type appointPage struct {
	Page
	N               *nsig.NSIG
	Seat            nsig.Seat
	Form            forms.Appointment
	PositionOptions []Option
	HowOptions      []Option
	Warning         *nsig.OtherNSIGWarning // the person sits on another NSIG: confirm with a reason
	ConfirmOptions  []Option
	ConfirmValues   []string
	// RegionWarning: the person's organisation is in another region than the seat's: confirm with a reason.
	RegionWarning        *nsig.OutOfRegionWarning
	RegionConfirmOptions []Option
	RegionConfirmValues  []string
}

func (a *App) appointPage(c *fiber.Ctx, n *nsig.NSIG, s nsig.Seat, f forms.Appointment) *appointPage {
	p := &appointPage{Page: a.page(c, "Appoint to the "+s.RegionName+" seat"), N: n, Seat: s, Form: f,
		ConfirmOptions: []Option{{Value: "yes", Label: "I confirm this appointment, knowing they sit on another NSIG"}}}
	if f.ConfirmOtherNSIG == "yes" {
		p.ConfirmValues = []string{"yes"}
	}
	p.RegionConfirmOptions = []Option{{Value: "yes", Label: "I confirm this appointment, knowing they are from another region"}}
	if f.ConfirmOtherRegion == "yes" {
		p.RegionConfirmValues = []string{"yes"}
	}
	p.PositionOptions = []Option{
		{Value: string(nsig.Member), Label: "Member", Hint: "Represents the region at meetings and gives its view of requests"},
		{Value: string(nsig.Deputy), Label: "Deputy", Hint: "Stands in when the member is absent"},
	}
	for _, o := range nsig.HowChosenOptions {
		p.HowOptions = append(p.HowOptions, Option{Value: string(o.Value), Label: o.Label})
	}
	return p
}

func (a *App) appointNew(c *fiber.Ctx) error {
	n, s, err := a.seatFromParams(c)
	if err != nil {
		return err
	}
	f := forms.Appointment{Position: string(nsig.Member), NominatingSIG: s.RegionName + " ESR Regional SIG"}
	if c.Query("position") == string(nsig.Deputy) || (s.Member != nil && s.Deputy == nil) {
		f.Position = string(nsig.Deputy)
	}
	return a.render(c, fiber.StatusOK, "nsigs/appoint", a.appointPage(c, n, s, f))
}

func (a *App) appointCreate(c *fiber.Ctx) error {
	n, s, err := a.seatFromParams(c)
	if err != nil {
		return err
	}
	var f forms.Appointment
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p := a.appointPage(c, n, s, f)
	errs := a.validate.Check(&f)
	nominated := dateField(&errs, "nominated_on", "nomination date", f.NominatedDay, f.NominatedMonth, f.NominatedYear)
	start := dateField(&errs, "term_start", "date the term starts", f.TermStartDay, f.TermStartMonth, f.TermStartYear)
	end := dateField(&errs, "term_end", "date the term ends", f.TermEndDay, f.TermEndMonth, f.TermEndYear)
	if errs.Any() {
		return a.invalid(c, "nsigs/appoint", &p.Page, errs, p)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	ap, err := nsig.Appoint(c.UserContext(), a.db, v, a.actor(c), a.now(), n.ID, s.RegionID, nsig.AppointInput{
		Position: nsig.Position(f.Position), Email: strings.TrimSpace(f.Email), NominatingSIG: f.NominatingSIG,
		NominatedOn: nominated, HowChosen: nsig.HowChosen(f.HowChosen), TermStart: start, TermEnd: end,
		ConfirmOtherNSIG: f.ConfirmOtherNSIG == "yes", OtherNSIGReason: f.OtherNSIGReason,
		ConfirmOtherRegion: f.ConfirmOtherRegion == "yes", OtherRegionReason: f.OtherRegionReason,
	})
	var warning *nsig.OtherNSIGWarning
	var regionWarning *nsig.OutOfRegionWarning
	var warned forms.Errors
	switch {
	case errors.As(err, &warning):
		warned.Add("confirm_other_nsig", fmt.Sprintf("%s already sits on %s. Confirm the appointment and say why, or appoint someone else", warning.Name, strings.Join(warning.NSIGs, " and ")))
	case errors.As(err, &regionWarning):
		warned.Add("confirm_other_region", fmt.Sprintf("%s is from %s, in %s. Confirm the appointment to the %s seat and say why, or appoint someone else",
			regionWarning.Name, regionWarning.Organisation, regionWarning.Region, regionWarning.SeatRegion))
	}
	errs, isRule := ruleErrors(err)
	if warned.Any() || isRule {
		if warned.Any() {
			errs = warned
		}
		p.Warning, p.RegionWarning = warning, regionWarning
		// Keep every warning that still applies in view, so both confirmations can be given at once.
		if err := a.appointWarnings(c, p, n.ID, s, f.Email); err != nil {
			return err
		}
		return a.invalid(c, "nsigs/appoint", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.flash(c, fmt.Sprintf("%s appointed as %s %s", ap.UserName, s.RegionName, strings.ToLower(ap.Position.Label())))
	return c.Redirect(fmt.Sprintf("/nsigs/%d/seats/%d", n.ID, s.RegionID), fiber.StatusSeeOther)
}

// appointWarnings puts on the appointment page the warnings that apply to the person with the email: that
// they sit on another NSIG, that their organisation is in another region than the seat's.
func (a *App) appointWarnings(c *fiber.Ctx, p *appointPage, nsigID int64, s nsig.Seat, email string) error {
	email = strings.TrimSpace(email)
	others, err := nsig.OtherNSIGs(c.UserContext(), a.db, email, nsigID)
	if err != nil {
		return err
	}
	if len(others) > 0 && p.Warning == nil {
		p.Warning = &nsig.OtherNSIGWarning{Name: email, NSIGs: others}
	}
	org, region, regionName, err := nsig.RegionOf(c.UserContext(), a.db, email)
	if err != nil {
		return err
	}
	if region != 0 && region != s.RegionID && p.RegionWarning == nil {
		p.RegionWarning = &nsig.OutOfRegionWarning{Name: email, Organisation: org, Region: regionName, SeatRegion: s.RegionName}
	}
	return nil
}

type endTermPage struct {
	Page
	N           *nsig.NSIG
	Appointment *nsig.Appointment
	Form        forms.EndTerm
	Started     bool // the term has started; ending it before then cancels it
}

func (a *App) appointmentFromParams(c *fiber.Ctx) (*nsig.NSIG, *nsig.Appointment, error) {
	v, err := a.viewer(c)
	if err != nil {
		return nil, nil, err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.ParseInt(c.Params("appointment"), 10, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("appointment %q: %w", c.Params("appointment"), problem.ErrNotFound)
	}
	ap, err := nsig.GetAppointment(c.UserContext(), a.db, id)
	if err != nil {
		return nil, nil, err
	}
	if ap.NSIGID != n.ID {
		return nil, nil, fmt.Errorf("appointment %d is not on NSIG %d: %w", id, n.ID, problem.ErrNotFound)
	}
	return n, ap, nil
}

func (a *App) endTermShow(c *fiber.Ctx) error {
	n, ap, err := a.appointmentFromParams(c)
	if err != nil {
		return err
	}
	if !ap.Current() {
		return fmt.Errorf("appointment %d has ended: %w", ap.ID, problem.ErrNotFound)
	}
	return a.render(c, fiber.StatusOK, "nsigs/end", &endTermPage{Page: a.page(c, "End "+ap.UserName+"'s term"), N: n, Appointment: ap,
		Started: ap.StartedBy(a.now())})
}

func (a *App) endTermCreate(c *fiber.Ctx) error {
	n, ap, err := a.appointmentFromParams(c)
	if err != nil {
		return err
	}
	var f forms.EndTerm
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p := &endTermPage{Page: a.page(c, "End "+ap.UserName+"'s term"), N: n, Appointment: ap, Form: f, Started: ap.StartedBy(a.now())}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "nsigs/end", &p.Page, errs, p)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	_, err = nsig.EndTerm(c.UserContext(), a.db, v, a.actor(c), a.now(), ap.ID, nsig.EndInput{Reason: f.Reason})
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "nsigs/end", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.flash(c, fmt.Sprintf("%s's term as %s %s has ended", ap.UserName, ap.RegionName, strings.ToLower(ap.Position.Label())))
	return c.Redirect(fmt.Sprintf("/nsigs/%d/seats/%d", n.ID, ap.RegionID), fiber.StatusSeeOther)
}

// queueRow is a request in a review queue, in words.
type queueRow struct {
	nsig.QueueItem
	StatusInfo request.StatusInfo
	MyViewInfo nsig.OpinionInfo
}

func queueRows(items []nsig.QueueItem) []queueRow {
	out := make([]queueRow, 0, len(items))
	for _, it := range items {
		r := queueRow{QueueItem: it, StatusInfo: it.Status.Info()}
		if it.MyView != "" {
			r.MyViewInfo = it.MyView.Info()
		}
		out = append(out, r)
	}
	return out
}

type queuePage struct {
	Page
	N      *nsig.NSIG
	Rows   []queueRow
	Seated bool // the viewer holds a seat on this NSIG
	Seats  int
}

func (a *App) nsigQueue(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return err
	}
	items, err := nsig.Queue(ctx, a.db, v, n.ID)
	if err != nil {
		return err
	}
	seat, err := nsig.SeatFor(ctx, a.db, v, n.ID)
	if err != nil {
		return err
	}
	p := &queuePage{Page: a.page(c, n.Name+" review queue"), N: n, Rows: queueRows(items), Seated: seat != nil, Seats: nsig.Seats}
	return a.render(c, fiber.StatusOK, "nsigs/queue", p)
}

type waitingPage struct {
	Page
	Rows  []queueRow
	Seats []nsig.Appointment
}

func (a *App) nsigWaiting(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	items, err := nsig.Waiting(ctx, a.db, v)
	if err != nil {
		return err
	}
	p := &waitingPage{Page: a.page(c, "Waiting for my region's view"), Rows: queueRows(items)}
	if p.Seats, err = nsig.SeatsHeldBy(ctx, a.db, v.UserID); err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "nsigs/waiting", p)
}

// regionalPanel is the request page's regional coverage grid, and the form for the viewer's region's
// view when they hold a seat on the request's NSIG.
type regionalPanel struct {
	Coverage *nsig.Coverage
	Rows     []coverageRow
	MySeat   *nsig.Appointment // the viewer's seat on the request's NSIG; nil for none
	CanGive  bool              // the viewer may give their region's view now
	Form     forms.RegionalView
	Options  []Option
	// AgendaHref asks for the request to be discussed at the NSIG's next meeting; "" when there is none
	// or the viewer may not ask.
	AgendaHref string
}

// coverageRow is one region of the grid, in words.
type coverageRow struct {
	nsig.CoverageRow
	Info nsig.OpinionInfo
	Mine bool
}

// regionalPanelFor builds the panel for those who see a request in full: its NSIG's members, the
// central and development teams. It runs a fixed number of queries.
func (a *App) regionalPanelFor(ctx context.Context, v request.Viewer, er *request.EnhancementRequest, internal bool) (*regionalPanel, error) {
	if er.NSIGID == 0 || !internal {
		return nil, nil
	}
	panel, err := nsig.PanelOf(ctx, a.db, v, &er.Request, a.now())
	if err != nil {
		return nil, err
	}
	cov := panel.Coverage
	p := &regionalPanel{Coverage: cov, MySeat: panel.MySeat}
	p.CanGive = p.MySeat != nil && nsig.Reviewable(&er.Request)
	for _, r := range cov.Rows {
		row := coverageRow{CoverageRow: r, Mine: p.MySeat != nil && p.MySeat.RegionID == r.RegionID}
		if r.View != nil {
			row.Info = r.View.View.Info()
			if row.Mine {
				p.Form = forms.RegionalView{View: string(r.View.View), Comment: r.View.Comment}
			}
		}
		p.Rows = append(p.Rows, row)
	}
	for _, o := range nsig.Opinions {
		p.Options = append(p.Options, Option{Value: string(o.Opinion), Label: o.Label})
	}
	if p.MySeat != nil || v.Has(identity.RoleCentralTeam) {
		if next := panel.Next; next != nil && !next.Started(a.now()) {
			p.AgendaHref = fmt.Sprintf("/nsigs/%d/meetings/%d/items/new?request=%s", er.NSIGID, next.ID, url.QueryEscape(er.Reference))
		}
	}
	return p, nil
}

func (a *App) requestRegionalView(c *fiber.Ctx) error {
	var f forms.RegionalView
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	fill := func(p *requestShowPage) {
		if p.Regional != nil {
			p.Regional.Form = f
		}
	}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.requestShowInvalid(c, errs, fill)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	_, err = nsig.RecordView(c.UserContext(), a.db, v, a.actor(c), a.now(), c.Params("ref"), nsig.ViewInput{View: nsig.Opinion(f.View), Comment: f.Comment})
	return a.requestDone(c, err, fill, "Your region's view is recorded", "#regional-views")
}
