package request

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Drill narrows a list to the requests behind one figure of a dashboard: every figure a dashboard shows
// is the number of requests a Filter matches, so that it links to the list of exactly those requests.
// Its zero value does not filter. Conditions on what only the whole request shows (time in stage,
// triage's reasons) match only requests the viewer may see in full, and those on NSIG regions' views
// only requests they may see with internal notes: a figure never counts more than the viewer may know.
type Drill struct {
	// NoNSIG: requests no NSIG reviews.
	NoNSIG bool
	// Stage: requests that have been in the stage; with StageFrom and StageTo, those that first entered
	// it in [StageFrom, StageTo); with StageMinDays, those that have spent at least that many working
	// days in it (TimeInStage says how that is counted).
	Stage              Status
	StageFrom, StageTo time.Time
	StageMinDays       int
	// Decision: "approved", "deferred" or "not_approved", a decision with that outcome made in
	// [DecidedFrom, DecidedTo); or "not_taken_forward", triage's outcome made then, for Reason when set.
	Decision               string
	Reason                 string
	DecidedFrom, DecidedTo time.Time
	// ReleaseID: allocated to the release (a delivered request stays allocated to its release).
	ReleaseID int64
	// Moved: moved from one release to another in [MovedFrom, MovedTo).
	Moved              bool
	MovedFrom, MovedTo time.Time
	// Supporters and SupportRegions: how many organisations support the request, and in how many
	// regions they are; nil does not filter.
	Supporters, SupportRegions *Range
	// ViewRegion with View: the region has given its view of the request on the request's NSIG
	// ("given"), or not yet ("waiting").
	ViewRegion int16
	View       string
}

// Range is a whole-number range, Max < 0 having no upper end.
type Range struct{ Min, Max int }

// Decisions after impact assessment, and triage's outcome, as Drill.Decision takes them.
const (
	DecisionApproved        = "approved"
	DecisionDeferred        = "deferred"
	DecisionNotApproved     = "not_approved"
	DecisionNotTakenForward = "not_taken_forward"
)

// Regional views as Drill.View takes them.
const (
	ViewGiven   = "given"
	ViewWaiting = "waiting"
)

// More acknowledgement clocks of Filter.SLA, for the dashboards: acknowledged by the due date or after
// it, and "measured" (acknowledged, or still waiting for it and already overdue: the requests whose
// clock has run out; one withdrawn before it was acknowledged is not measured).
// ReplyOverdue is a question to the requester not answered by its date.
const (
	SLAOnTime       = "on_time"
	SLALate         = "late"
	SLAMeasured     = "measured"
	SLAReplyOverdue = "reply_overdue"
)

// AckOnTime and AckLate are the conditions on a request (alias r) of having been acknowledged by the
// end of its due date in London, or after it.
const (
	AckOnTime = "r.acknowledged_at < (r.ack_due_on + 1)::timestamp AT TIME ZONE 'Europe/London'"
	AckLate   = "r.acknowledged_at >= (r.ack_due_on + 1)::timestamp AT TIME ZONE 'Europe/London'"
)

// Matching narrows q, a query on requests (alias r), to the requests the viewer may see that match f:
// the requests List lists. Dashboards count with it so that each figure and its list always agree.
func Matching(q *bun.SelectQuery, v Viewer, f Filter) *bun.SelectQuery {
	return f.where(v.visible(q), v)
}

// drillWhere applies the Drill and the dashboards' acknowledgement clocks; where calls it last.
func (f Filter) drillWhere(q *bun.SelectQuery, v Viewer) *bun.SelectQuery {
	today := f.Today.Format("2006-01-02")
	switch f.SLA {
	case SLAOnTime:
		q = q.Where(AckOnTime)
	case SLALate:
		q = q.Where(AckLate)
	case SLAMeasured:
		q = q.Where("(r.acknowledged_at IS NOT NULL OR (r.status = ? AND r.ack_due_on < ?::date))", StatusSubmitted, today)
	case SLAReplyOverdue:
		q = q.Where("r.status = ? AND r.info_due_on < ?::date", StatusInformationRequested, today)
	}
	d := f.Drill
	if d.NoNSIG {
		q = q.Where("r.nsig_id IS NULL")
	}
	if d.Stage != "" {
		q = v.Where(q, AccessFull)
		cond := "st.request_id = r.id AND st.stage = ?"
		args := []any{string(d.Stage)}
		cond, args = window(cond, args, "st.first_entered", d.StageFrom, d.StageTo)
		if d.StageMinDays > 0 {
			cond += " AND " + stageDays + " >= ?"
			args = append(args, today, d.StageMinDays)
		}
		q = q.Where("EXISTS (SELECT 1 FROM request_stage_times AS st WHERE "+cond+")", args...)
	}
	switch d.Decision {
	case DecisionApproved, DecisionDeferred, DecisionNotApproved:
		cond, args := "d.request_id = r.id AND d.outcome = ?", []any{d.Decision}
		cond, args = window(cond, args, "d.decided_at", d.DecidedFrom, d.DecidedTo)
		q = q.Where("EXISTS (SELECT 1 FROM request_decisions AS d WHERE "+cond+")", args...)
	case DecisionNotTakenForward:
		q = v.Where(q, AccessFull)
		cond, args := "r.status = ?", []any{StatusNotTakenForward}
		cond, args = window(cond, args, "r.decided_at", d.DecidedFrom, d.DecidedTo)
		q = q.Where(cond, args...)
		if d.Reason != "" {
			q = q.Where("r.id IN (SELECT request_id FROM enhancement_requests WHERE outcome_reason = ?)", d.Reason)
		}
	}
	if d.ReleaseID != 0 {
		q = q.Where("r.id IN (SELECT request_id FROM allocations WHERE release_id = ?)", d.ReleaseID)
	}
	if d.Moved {
		cond, args := window("true", nil, "m.moved_at", d.MovedFrom, d.MovedTo)
		q = q.Where("r.id IN (SELECT m.request_id FROM allocation_moves AS m WHERE "+cond+")", args...)
	}
	if d.Supporters != nil {
		q = inRange(q, "(SELECT count(*) FROM request_supports AS s WHERE s.request_id = r.id)", *d.Supporters)
	}
	if d.SupportRegions != nil {
		q = inRange(q, `(SELECT count(DISTINCT so.region_id) FROM request_supports AS s
			JOIN organisations AS so ON so.id = s.organisation_id WHERE s.request_id = r.id)`, *d.SupportRegions)
	}
	if d.ViewRegion != 0 && (d.View == ViewGiven || d.View == ViewWaiting) {
		q = v.Where(q, AccessInternal)
		exists := "EXISTS"
		if d.View == ViewWaiting {
			exists = "NOT EXISTS"
		}
		q = q.Where("r.nsig_id IS NOT NULL AND "+exists+
			" (SELECT 1 FROM regional_views AS rv WHERE rv.request_id = r.id AND rv.nsig_id = r.nsig_id AND rv.region_id = ?)", d.ViewRegion)
	}
	return q
}

// window adds [from, to) on column to a condition; a zero end is open.
func window(cond string, args []any, column string, from, to time.Time) (string, []any) {
	if !from.IsZero() {
		cond += " AND " + column + " >= ?"
		args = append(args, from)
	}
	if !to.IsZero() {
		cond += " AND " + column + " < ?"
		args = append(args, to)
	}
	return cond, args
}

func inRange(q *bun.SelectQuery, expr string, r Range) *bun.SelectQuery {
	q = q.Where(expr+" >= ?", r.Min)
	if r.Max >= 0 {
		q = q.Where(expr+" <= ?", r.Max)
	}
	return q
}

// OpenStatuses are the statuses of requests that are not closed, in lifecycle order.
func OpenStatuses() []Status {
	var out []Status
	for _, s := range Statuses {
		if !s.Status.Closed() {
			out = append(out, s.Status)
		}
	}
	return out
}

// awaitingDecision are the statuses of accepted enhancement requests not yet decided: the raising
// organisation, then the central team, still has a decision to make.
var awaitingDecision = []Status{StatusAwaitingRequesterDecision, StatusRequirementsJustification, StatusImpactAssessment, StatusDeferred}

// AwaitingDecision lists the statuses of accepted enhancement requests not yet decided, in lifecycle
// order.
func AwaitingDecision() []Status { return slices.Clone(awaitingDecision) }

// Stages are the stages of an enhancement request that time is spent in, in lifecycle order: every
// status but the closed ones.
func Stages() []Status {
	var out []Status
	for _, s := range OpenStatuses() {
		if s != StatusUnderReview {
			out = append(out, s)
		}
	}
	return out
}

// stageDays is a request's working days in a stage (request_stage_times, alias st) on a day given as
// its one argument (a London date, YYYY-MM-DD).
const stageDays = "(st.closed_days + COALESCE((SELECT cd.seq FROM calendar_days AS cd WHERE cd.day = ?::date) - st.open_since_seq, 0))"

// StageDays is stageDays for other packages: the working days in the stage of request_stage_times
// (alias st) on the day given as its one argument.
const StageDays = stageDays

// StageTime is how long a request has spent in one stage.
type StageTime struct {
	Stage        Status    `bun:"stage"`
	FirstEntered time.Time `bun:"first_entered"`
	WorkingDays  int       `bun:"working_days"`
}

// TimeInStage is the one definition of time in stage, which the dashboards and the list's stage filter
// share: it is worked out in SQL from the timeline (refresh_request_stage_times, run by triggers on
// request_events whenever a request's timeline changes) into request_stage_times. A request enters a stage at the timeline event that
// moves it there (raising puts it in Submitted) and leaves it at the next event that moves it anywhere.
// Each spell lasts the working days from the day it entered (day 0, as for the acknowledgement clock) to
// the day it left, or to today while it is still there; a request in a stage more than once (back in
// triage after answering a question, back in impact assessment after a deferral) has its spells added
// together. A withdrawn request's last stage ends on the day it was withdrawn. It returns one row per
// stage the request has been in, in the order it first entered them.
func TimeInStage(ctx context.Context, db bun.IDB, requestID int64, today time.Time) ([]StageTime, error) {
	var out []StageTime
	if err := db.NewRaw(`SELECT st.stage, st.first_entered, `+stageDays+` AS working_days
		FROM request_stage_times AS st WHERE st.request_id = ? ORDER BY st.first_entered, st.stage`,
		today.Format("2006-01-02"), requestID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("time in stage of request %d: %w", requestID, err)
	}
	return out, nil
}
