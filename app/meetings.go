package app

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// meetingDurations are the lengths a meeting can be scheduled for, in minutes.
var meetingDurations = []Option{{Value: "30", Label: "30 minutes"}, {Value: "60", Label: "1 hour"}, {Value: "90", Label: "1 hour 30 minutes"},
	{Value: "120", Label: "2 hours"}, {Value: "180", Label: "3 hours"}}

type meetingFormPage struct {
	Page
	N               *nsig.NSIG
	Form            forms.Meeting
	DurationOptions []Option
	PurposeOptions  []Option
	WithOptions     []Option // the other active NSIGs, for a joint session
}

func (a *App) meetingFormPage(c *fiber.Ctx, v request.Viewer, n *nsig.NSIG, f forms.Meeting) (*meetingFormPage, error) {
	p := &meetingFormPage{Page: a.page(c, "Schedule a "+n.Name+" meeting"), N: n, Form: f, DurationOptions: meetingDurations,
		PurposeOptions: []Option{
			{Value: string(nsig.PurposeMemberItems), Label: nsig.PurposeMemberItems.Label(), Hint: "Members have asked for items to discuss"},
			{Value: string(nsig.PurposeCentralUpdate), Label: nsig.PurposeCentralUpdate.Label(), Hint: "The central team has information to share"},
		}}
	all, err := nsig.List(c.UserContext(), a.db, v)
	if err != nil {
		return nil, err
	}
	for _, o := range all {
		if o.ID != n.ID && o.Status == nsig.StatusActive {
			p.WithOptions = append(p.WithOptions, Option{Value: strconv.FormatInt(o.ID, 10), Label: o.Name})
		}
	}
	return p, nil
}

func (a *App) meetingNew(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return err
	}
	p, err := a.meetingFormPage(c, v, n, forms.Meeting{Duration: "60", Time: "14:00"})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "meetings/new", p)
}

// parseClock reads a time of day like 14:00, 2pm or 2:30pm.
func parseClock(s string) (hour, minute int, ok bool) {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	for _, layout := range []string{"15:04", "15.04", "3:04pm", "3.04pm", "3pm"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Hour(), t.Minute(), true
		}
	}
	return 0, 0, false
}

func (a *App) meetingCreate(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return err
	}
	var f forms.Meeting
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.meetingFormPage(c, v, n, f)
	if err != nil {
		return err
	}
	errs := a.validate.Check(&f)
	d := dateField(&errs, "date", "date of the meeting", f.Day, f.Month, f.Year)
	h, m, ok := parseClock(f.Time)
	if !ok && errs.Get("time") == "" {
		errs.Add("time", "Enter the start time like 14:00 or 2pm")
	}
	if errs.Any() {
		return a.invalid(c, "meetings/new", &p.Page, errs, p)
	}
	minutes, _ := strconv.Atoi(f.Duration)
	starts := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, london)
	var with []int64
	for _, w := range f.With {
		id, err := strconv.ParseInt(w, 10, 64)
		if err != nil {
			return fiber.ErrBadRequest
		}
		with = append(with, id)
	}
	mt, err := nsig.Schedule(c.UserContext(), a.db, v, a.actor(c), a.now(), n.ID, nsig.MeetingInput{
		StartsAt: starts, DurationMinutes: minutes, TeamsLink: f.TeamsLink, Purpose: nsig.Purpose(f.Purpose), With: with})
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "meetings/new", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.flash(c, "Meeting scheduled. Members can now ask for agenda items")
	return c.Redirect(fmt.Sprintf("/nsigs/%d/meetings/%d", n.ID, mt.ID), fiber.StatusSeeOther)
}

// meetingItem is an agenda item as the meeting page shows it.
type meetingItem struct {
	nsig.AgendaItem
	MinutesForm forms.Minutes
}

// attendanceRow is one NSIG's region of the attendance form.
type attendanceRow struct {
	Field      string // seat-<nsig>-<region>
	Legend     string // the region, after its NSIG's name at a joint session
	RegionID   int16
	RegionName string
	Options    []Option
	Value      string // member, deputy or "" (nobody)
	Attended   string // who attended, in words
}

type meetingPage struct {
	Page
	N          *nsig.NSIG
	M          *nsig.Meeting
	Heading    string
	When       string
	Details    []SummaryRow
	Agenda     []meetingItem
	Requested  []meetingItem // asked for, not yet accepted or declined
	Declined   []meetingItem
	Attendance []attendanceRow
	Attended   int
	Actions    []nsig.Action
	CanRun     bool
	CanRequest bool
	Started    bool
	UserID     int64
	ActionForm forms.MeetingAction
	Owners     []Option
}

func (a *App) meetingFromParams(c *fiber.Ctx) (request.Viewer, *nsig.NSIG, *nsig.Meeting, error) {
	v, err := a.viewer(c)
	if err != nil {
		return v, nil, nil, err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return v, nil, nil, err
	}
	id, err := strconv.ParseInt(c.Params("meeting"), 10, 64)
	if err != nil {
		return v, nil, nil, fmt.Errorf("meeting %q: %w", c.Params("meeting"), problem.ErrNotFound)
	}
	m, err := nsig.GetMeeting(c.UserContext(), a.db, n.ID, id)
	return v, n, m, err
}

func meetingTitle(m *nsig.Meeting) string {
	if m.Joint() {
		return "Joint meeting on " + m.StartsAt.In(london).Format("Monday 2 January 2006")
	}
	return "Meeting on " + m.StartsAt.In(london).Format("Monday 2 January 2006")
}

// meetingPageFor gathers the meeting page; fill puts back what a form with errors sent.
func (a *App) meetingPageFor(c *fiber.Ctx) (*meetingPage, error) {
	ctx := c.UserContext()
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return nil, err
	}
	now := a.now()
	p := &meetingPage{Page: a.page(c, meetingTitle(m)+" – "+n.Name), N: n, M: m, CanRun: nsig.CanRun(v, n),
		CanRequest: nsig.CanRequestItems(v, n) && !m.Started(now), Started: m.Started(now), UserID: v.UserID, Heading: meetingTitle(m)}
	start := m.StartsAt.In(london)
	p.When = start.Format("Monday 2 January 2006, 3:04pm") + " to " + m.EndsAt().In(london).Format("3:04pm")
	published := "Not yet published"
	if m.Published() {
		published = "Published " + m.AgendaPublishedAt.In(london).Format("2 January 2006 at 3:04pm")
	}
	p.Details = []SummaryRow{{Key: "When", Value: p.When}, {Key: "Purpose", Value: m.Purpose.Label()}, {Key: "Agenda", Value: published}}
	if m.Joint() {
		p.Details = append([]SummaryRow{{Key: "Held jointly by", Value: strings.Join(m.NSIGNames, "\n")}}, p.Details...)
	}
	items, err := nsig.Items(ctx, a.db, m.ID)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		mi := meetingItem{AgendaItem: it, MinutesForm: forms.Minutes{Minutes: it.Minutes, Outcome: it.Outcome}}
		switch it.Status {
		case nsig.ItemAccepted:
			p.Agenda = append(p.Agenda, mi)
		case nsig.ItemDeclined:
			p.Declined = append(p.Declined, mi)
		default:
			p.Requested = append(p.Requested, mi)
		}
	}
	if p.Started {
		var seats []nsig.Seat
		for _, id := range m.NSIGIDs {
			more, err := nsig.SeatsOf(ctx, a.db, id)
			if err != nil {
				return nil, err
			}
			seats = append(seats, more...)
		}
		att, err := nsig.Attendance(ctx, a.db, m.ID)
		if err != nil {
			return nil, err
		}
		p.Attended = len(att)
		for _, s := range seats {
			row := attendanceRow{Field: fmt.Sprintf("seat-%d-%d", s.NSIGID, s.RegionID), Legend: s.RegionName, RegionID: s.RegionID, RegionName: s.RegionName, Attended: "Nobody"}
			if m.Joint() {
				row.Legend = s.NSIGName + ": " + s.RegionName
			}
			for _, at := range att {
				if at.NSIGID == s.NSIGID && at.RegionID == s.RegionID {
					row.Value, row.Attended = string(at.Position), at.Name+" ("+string(at.Position)+")"
				}
			}
			if s.Member != nil {
				row.Options = append(row.Options, Option{Value: string(nsig.Member), Label: "Member: " + s.Member.UserName})
			}
			if s.Deputy != nil {
				row.Options = append(row.Options, Option{Value: string(nsig.Deputy), Label: "Deputy: " + s.Deputy.UserName})
			}
			row.Options = append(row.Options, Option{Value: "", Label: "Nobody"})
			p.Attendance = append(p.Attendance, row)
		}
		if p.Actions, err = nsig.Actions(ctx, a.db, m.ID); err != nil {
			return nil, err
		}
		if p.CanRun {
			owners, err := nsig.ActionOwners(ctx, a.db, m.ID)
			if err != nil {
				return nil, err
			}
			p.Owners = []Option{{Value: "", Label: "Choose who owns it"}}
			for _, u := range owners {
				p.Owners = append(p.Owners, Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name})
			}
		}
	}
	return p, nil
}

func (a *App) meetingShow(c *fiber.Ctx) error {
	p, err := a.meetingPageFor(c)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "meetings/show", p)
}

// meetingDone finishes a form posted from the meeting page: a broken rule re-renders the page with
// the error and what was typed; success leaves a flash and goes back to the page, at anchor.
func (a *App) meetingDone(c *fiber.Ctx, err error, fill func(p *meetingPage), flash, anchor string) error {
	if errs, ok := ruleErrors(err); ok {
		p, perr := a.meetingPageFor(c)
		if perr != nil {
			return perr
		}
		if fill != nil {
			fill(p)
		}
		return a.invalid(c, "meetings/show", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.flash(c, flash)
	return c.Redirect(fmt.Sprintf("/nsigs/%s/meetings/%s%s", url.PathEscape(c.Params("id")), url.PathEscape(c.Params("meeting")), anchor), fiber.StatusSeeOther)
}

type itemFormPage struct {
	Page
	N    *nsig.NSIG
	M    *nsig.Meeting
	When string
	Form forms.AgendaItem
}

func (a *App) itemNew(c *fiber.Ctx) error {
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	if !nsig.CanRequestItems(v, n) {
		return fmt.Errorf("request an agenda item: %w", problem.ErrForbidden)
	}
	p := &itemFormPage{Page: a.page(c, "Request an agenda item"), N: n, M: m, When: m.StartsAt.In(london).Format("Monday 2 January 2006 at 3:04pm"),
		Form: forms.AgendaItem{References: c.Query("request")}}
	return a.render(c, fiber.StatusOK, "meetings/item", p)
}

func (a *App) itemCreate(c *fiber.Ctx) error {
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	var f forms.AgendaItem
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p := &itemFormPage{Page: a.page(c, "Request an agenda item"), N: n, M: m, When: m.StartsAt.In(london).Format("Monday 2 January 2006 at 3:04pm"), Form: f}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "meetings/item", &p.Page, errs, p)
	}
	_, err = nsig.RequestItem(c.UserContext(), a.db, v, a.actor(c), a.now(), n, m.ID, nsig.ItemInput{Title: f.Title, Description: f.Description, References: f.References})
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "meetings/item", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	msg := "Agenda item requested. The chair or the central team will decide whether it goes on the agenda"
	if nsig.CanRun(v, n) {
		msg = "Agenda item added. Accept it to put it on the agenda"
	}
	a.flash(c, msg)
	return c.Redirect(fmt.Sprintf("/nsigs/%d/meetings/%d#requested", n.ID, m.ID), fiber.StatusSeeOther)
}

func paramID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s %q: %w", name, c.Params(name), problem.ErrNotFound)
	}
	return id, nil
}

func (a *App) itemDecide(c *fiber.Ctx) error {
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	itemID, err := paramID(c, "item")
	if err != nil {
		return err
	}
	accept := c.FormValue("decision") == "accept"
	if !accept && c.FormValue("decision") != "decline" {
		return fiber.ErrUnprocessableEntity
	}
	err = nsig.DecideItem(c.UserContext(), a.db, v, a.actor(c), a.now(), n, m.ID, itemID, accept)
	msg := "Item added to the agenda"
	if !accept {
		msg = "Item not taken"
	}
	return a.meetingDone(c, err, nil, msg, "#agenda")
}

func (a *App) meetingPublish(c *fiber.Ctx) error {
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	told, err := nsig.Publish(c.UserContext(), a.db, v, a.actor(c), a.now(), n, m.ID)
	return a.meetingDone(c, err, nil, fmt.Sprintf("Agenda published to %d %s", told, plural(told, "member", "members and deputies")), "")
}

func (a *App) meetingCalendar(c *fiber.Ctx) error {
	_, _, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	items, err := nsig.Items(c.UserContext(), a.db, m.ID)
	if err != nil {
		return err
	}
	var desc strings.Builder
	desc.WriteString(m.Purpose.Label() + ".\n\nAgenda:\n")
	for _, it := range items {
		if it.Status == nsig.ItemAccepted {
			desc.WriteString("- " + it.Title + "\n")
		}
	}
	desc.WriteString("\nJoin on Microsoft Teams: " + m.TeamsLink)
	host := "esr-portal"
	if u := a.cfg.BaseURL; u != nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	stamp := m.AgendaPublishedAt
	if stamp.IsZero() {
		stamp = m.CreatedAt
	}
	var buf bytes.Buffer
	if err := nsig.WriteICS(&buf, nsig.Calendar{
		UID: fmt.Sprintf("nsig-meeting-%d@%s", m.ID, host), Sequence: m.AgendaSequence, Stamp: stamp, Start: m.StartsAt, End: m.EndsAt(),
		Summary: m.Holders() + " NSIG meeting", Description: desc.String(), Location: "Microsoft Teams", URL: m.TeamsLink,
	}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="nsig-meeting-%s.ics"`, m.StartsAt.In(london).Format("2006-01-02")))
	return c.Send(buf.Bytes())
}

func (a *App) meetingAttendance(c *fiber.Ctx) error {
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	attended := map[nsig.SeatKey]nsig.Position{}
	for _, id := range m.NSIGIDs {
		for region := int16(1); region <= nsig.Seats; region++ {
			if pos := c.FormValue(fmt.Sprintf("seat-%d-%d", id, region)); pos != "" {
				attended[nsig.SeatKey{NSIGID: id, RegionID: region}] = nsig.Position(pos)
			}
		}
	}
	err = nsig.RecordAttendance(c.UserContext(), a.db, v, a.actor(c), a.now(), n, m.ID, attended)
	return a.meetingDone(c, err, nil, "Attendance saved", "#attendance")
}

func (a *App) itemMinutes(c *fiber.Ctx) error {
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	itemID, err := paramID(c, "item")
	if err != nil {
		return err
	}
	var f forms.Minutes
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	fill := func(p *meetingPage) {
		for i := range p.Agenda {
			if p.Agenda[i].ID == itemID {
				p.Agenda[i].MinutesForm = f
			}
		}
	}
	if errs := a.validate.Check(&f); errs.Any() {
		// Each item's fields are named for the item on the meeting page.
		rule := &request.RuleError{Field: fmt.Sprintf("%s-%d", errs[0].Field, itemID), Message: errs[0].Message}
		return a.meetingDone(c, rule, fill, "", "")
	}
	err = nsig.RecordMinutes(c.UserContext(), a.db, v, a.actor(c), a.now(), n, m.ID, itemID, nsig.MinutesInput{Minutes: f.Minutes, Outcome: f.Outcome})
	return a.meetingDone(c, err, fill, "Minutes saved", fmt.Sprintf("#item-%d", itemID))
}

func (a *App) actionCreate(c *fiber.Ctx) error {
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	var f forms.MeetingAction
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	fill := func(p *meetingPage) { p.ActionForm = f }
	errs := a.validate.Check(&f)
	due := dateField(&errs, "due_on", "date the action is due", f.DueDay, f.DueMonth, f.DueYear)
	if errs.Any() {
		p, err := a.meetingPageFor(c)
		if err != nil {
			return err
		}
		fill(p)
		return a.invalid(c, "meetings/show", &p.Page, errs, p)
	}
	owner, _ := strconv.ParseInt(f.OwnerID, 10, 64)
	_, err = nsig.AddAction(c.UserContext(), a.db, v, a.actor(c), a.now(), n, m.ID, nsig.ActionInput{Description: f.Description, OwnerID: owner, DueOn: due})
	return a.meetingDone(c, err, fill, "Action added", "#actions")
}

func (a *App) actionDone(c *fiber.Ctx) error {
	v, n, m, err := a.meetingFromParams(c)
	if err != nil {
		return err
	}
	actionID, err := paramID(c, "action")
	if err != nil {
		return err
	}
	done := c.FormValue("done") != "0"
	err = nsig.SetActionDone(c.UserContext(), a.db, v, a.actor(c), a.now(), n, m.ID, actionID, done)
	msg := "Action marked as done"
	if !done {
		msg = "Action marked as not done"
	}
	return a.meetingDone(c, err, nil, msg, "#actions")
}
