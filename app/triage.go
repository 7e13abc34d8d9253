package app

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/dashboard"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/workday"
)

// triageStatuses are the statuses of the requests waiting on the central team's triage.
var triageStatuses = []request.Status{request.StatusSubmitted, request.StatusInTriage, request.StatusInformationRequested}

// triageLimit bounds the queue one page shows; a queue longer than this says so.
const triageLimit = 500

// onTimeWindow is how far back the share acknowledged on time looks.
const onTimeWindow = 90 * 24 * time.Hour

type triageIndexPage struct {
	Page
	AckQueue
	Total        request.Count // requests in the queue (before "assigned to me")
	Truncated    bool          // the queue is longer than the page shows
	AssignedToMe bool
	Assigned     []string // the filter's checked values: "me" or none
	// RepliesOverdue are the questions to requesters not answered by their dates, as a figure that
	// links to them.
	RepliesOverdue dashboard.Figure
}

// AckQueue is a queue of requests waiting for the central team, with where each one's clock stands and
// how the acknowledgement clock is going: the triage queue and the queues of list requests.
type AckQueue struct {
	IDPrefix      string // the cards' ids start with it
	Rows          []triageRow
	Overdue       int
	DueToday      int
	OnTime        int // acknowledged by their due date, of those received in the window
	OnTimeOf      int // acknowledged, or past their due date, of those received in the window
	OnTimePercent int
	AckDays       int
}

// ackQueue reads where each row's clock stands and the share of requests of a kind acknowledged on time
// in the last onTimeWindow.
func (a *App) ackQueue(ctx context.Context, idPrefix, kind string, rows []request.Row) (AckQueue, error) {
	now := a.now()
	q := AckQueue{IDPrefix: idPrefix, AckDays: request.AcknowledgementDays}
	for _, r := range rows {
		tr := triageRow{Row: r}
		var state string
		tr.Clock, tr.ClockColour, state = a.triageClock(&r.Request, now)
		switch state {
		case workday.StateOverdue:
			q.Overdue++
		case workday.StateDueToday:
			q.DueToday++
		}
		q.Rows = append(q.Rows, tr)
	}
	var err error
	if q.OnTime, q.OnTimeOf, err = request.OnTimeShare(ctx, a.db, kind, now.Add(-onTimeWindow), a.calendar.Date(now)); err != nil {
		return q, err
	}
	if q.OnTimeOf > 0 {
		q.OnTimePercent = (q.OnTime*100 + q.OnTimeOf/2) / q.OnTimeOf
	}
	return q, nil
}

// triageRow is one request of the queue with where its clock stands.
type triageRow struct {
	request.Row
	Clock       string // e.g. "Overdue by 2 working days", "Acknowledged", "Reply due 4 December 2026"
	ClockColour string
}

func (a *App) triageIndex(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := visitOf(c).user
	v, err := request.ViewerFor(ctx, a.db, u)
	if err != nil {
		return err
	}
	f := request.Filter{Kind: request.KindEnhancement, Statuses: triageStatuses, Sort: "due", Limit: triageLimit}
	if c.Query("assigned") == "me" {
		f.AssigneeID = u.ID
	}
	rows, total, err := request.List(ctx, a.db, v, f)
	if err != nil {
		return err
	}
	p := &triageIndexPage{Page: a.page(c, "Triage"), Total: total, Truncated: total.N > len(rows), AssignedToMe: c.Query("assigned") == "me"}
	if p.AssignedToMe {
		p.Assigned = []string{"me"}
	}
	if p.AckQueue, err = a.ackQueue(ctx, "triage", request.KindEnhancement, rows); err != nil {
		return err
	}
	overdue := request.Filter{Kind: request.KindEnhancement, SLA: request.SLAReplyOverdue, Today: a.calendar.Date(a.now()), Limit: 1}
	_, n, err := request.List(ctx, a.db, v, overdue)
	if err != nil {
		return err
	}
	overdue.Limit, p.RepliesOverdue.Count = 0, n.N
	p.RepliesOverdue.Filter = overdue
	return a.render(c, fiber.StatusOK, "triage/index", p)
}

// triageClock says where a request's clock stands: the reply the requester owes while information is
// requested, else "Acknowledged", else the acknowledgement SLA. The state is the SLA's, or "" when the
// acknowledgement clock has stopped.
func (a *App) triageClock(r *request.Request, now time.Time) (text, colour, state string) {
	switch {
	case r.Status == request.StatusInformationRequested && !r.InfoDueOn.IsZero():
		due := request.Day(r.InfoDueOn)
		if due.Before(request.Day(a.calendar.Date(now))) {
			if late, err := a.calendar.WorkingDaysBetween(due, now); err == nil && late > 0 {
				return "Answer overdue by " + workingDays(late), "red", ""
			}
			return "Answer overdue", "red", ""
		}
		return "Reply due " + due.Format("2 January 2006"), "yellow", ""
	case !r.AcknowledgedAt.IsZero():
		return "Acknowledged", "green", ""
	}
	sla, err := a.calendar.Status(r.AckDueOn, now)
	if err != nil {
		// A due date the calendar does not know: show the date rather than guess the working days.
		return "Due " + a.calendar.Date(r.AckDueOn).Format("2 January 2006"), "grey", ""
	}
	colour = "blue"
	switch sla.State {
	case workday.StateOverdue:
		colour = "red"
	case workday.StateDueToday:
		colour = "orange"
	}
	return strings.ToUpper(sla.Text[:1]) + sla.Text[1:], colour, sla.State
}
