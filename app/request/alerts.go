package request

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
)

// Alerts to role holders: the portal tells the people who must act when something falls due, through
// Tell like every other message about a request, so that each alert is worded for what its recipient
// may see and goes by the recipient's own choice of portal and email. Each alert about a request is
// sent once: it is claimed in request_alerts by its kind, its request and the date it is about, in the
// transaction that queues it, so a second instance, a restart or a second run on the same day sends
// nothing again; and each day's run is claimed in job_runs as the daily digest's is.

// Kinds of alert, as request_alerts.kind holds them.
const (
	AlertAckDueTomorrow    = "ack_due_tomorrow"
	AlertAckOverdue        = "ack_overdue"
	AlertReplyDueSoon      = "reply_due_soon"
	AlertReplyOverdue      = "reply_overdue"
	AlertAssessmentWaiting = "assessment_waiting"
	AlertReviewSoon        = "review_soon"
)

// Alert thresholds.
const (
	// ReplyAlertDays: a requester hears when the answer to a question is due in this many working days.
	ReplyAlertDays = 2
	// ReviewAlertDays: the central team hears when a deferred request's review date is this many
	// working days away.
	ReviewAlertDays = 5
	// DefaultAssessmentAlertDays: the development team hears when a request has waited longer than
	// this many working days for its impact assessment, unless the portal is set otherwise.
	DefaultAssessmentAlertDays = 10
	// overdueAlertDays: something overdue for longer than this many days is not alerted (it was, the
	// day after it fell due), so a portal that starts alerting does not flood people with old news.
	overdueAlertDays = 30
)

// alertsJob names a day's run of the alerts in job_runs.
const alertsJob = "request_alerts"

// toDevelopers: the request's assessor, or the whole development team while nobody is assessing it.
const toDevelopers = "developers"

// dueAlert is a request an alert is due about, with the date the alert is about.
type dueAlert struct {
	ID        int64     `bun:"id"`
	Reference string    `bun:"reference"`
	On        time.Time `bun:"on"`
	Assessor  int64     `bun:"assessor_id"`
}

// alertRule is one kind of alert: which requests it is due about today, whom it tells, what it says.
type alertRule struct {
	kind  string
	event string
	to    string
	// query returns the requests the alert is due about on today, with the date each is about.
	query func(ctx context.Context, tx bun.Tx, today time.Time, cal calendar, days int) ([]dueAlert, error)
	title func(a dueAlert, today time.Time) string
}

// calendar is what the alert rules need of the working-day calendar.
type calendar interface {
	AddWorkingDays(time.Time, int) (time.Time, error)
}

var alertRules = []alertRule{
	{
		kind: AlertAckDueTomorrow, event: notify.EventAckDue, to: toTriage,
		query: func(ctx context.Context, tx bun.Tx, today time.Time, cal calendar, _ int) ([]dueAlert, error) {
			next, err := cal.AddWorkingDays(today, 1)
			if err != nil {
				return nil, err
			}
			return scanDue(ctx, tx, `SELECT id, reference, ack_due_on AS on, 0 AS assessor_id FROM requests
				WHERE status = ? AND ack_due_on > ?::date AND ack_due_on <= ?::date`, StatusSubmitted, day(today), day(next))
		},
		title: func(a dueAlert, today time.Time) string {
			if a.On.Equal(Day(today).AddDate(0, 0, 1)) {
				return "%[1]s: the acknowledgement is due tomorrow"
			}
			return "%[1]s: the acknowledgement is due on " + a.On.Format("Monday 2 January")
		},
	},
	{
		kind: AlertAckOverdue, event: notify.EventAckDue, to: toTriage,
		query: func(ctx context.Context, tx bun.Tx, today time.Time, _ calendar, _ int) ([]dueAlert, error) {
			return scanDue(ctx, tx, `SELECT id, reference, ack_due_on AS on, 0 AS assessor_id FROM requests
				WHERE status = ? AND ack_due_on < ?::date AND ack_due_on >= ?::date`, StatusSubmitted, day(today), day(today.AddDate(0, 0, -overdueAlertDays)))
		},
		title: func(a dueAlert, _ time.Time) string {
			return "%[1]s: the acknowledgement is overdue (it was due on " + a.On.Format("2 January") + ")"
		},
	},
	{
		kind: AlertReplyDueSoon, event: notify.EventReplyDue, to: toRaisers,
		query: func(ctx context.Context, tx bun.Tx, today time.Time, cal calendar, _ int) ([]dueAlert, error) {
			soon, err := cal.AddWorkingDays(today, ReplyAlertDays)
			if err != nil {
				return nil, err
			}
			return scanDue(ctx, tx, `SELECT id, reference, info_due_on AS on, 0 AS assessor_id FROM requests
				WHERE status = ? AND info_due_on > ?::date AND info_due_on <= ?::date`, StatusInformationRequested, day(today), day(soon))
		},
		title: func(a dueAlert, _ time.Time) string {
			return "%[1]s: your answer to the central team's question is due by " + a.On.Format("Monday 2 January")
		},
	},
	{
		kind: AlertReplyOverdue, event: notify.EventReplyDue, to: toRaisers,
		query: func(ctx context.Context, tx bun.Tx, today time.Time, _ calendar, _ int) ([]dueAlert, error) {
			return scanDue(ctx, tx, `SELECT id, reference, info_due_on AS on, 0 AS assessor_id FROM requests
				WHERE status = ? AND info_due_on < ?::date AND info_due_on >= ?::date`, StatusInformationRequested, day(today), day(today.AddDate(0, 0, -overdueAlertDays)))
		},
		title: func(a dueAlert, _ time.Time) string {
			return "%[1]s: your answer to the central team's question is overdue (it was due on " + a.On.Format("2 January") + ")"
		},
	},
	{
		// Waiting as the assessment queue counts it: in impact assessment since the day it last came
		// in, and its assessment not completed since.
		kind: AlertAssessmentWaiting, event: notify.EventAssessmentWaiting, to: toDevelopers,
		query: func(ctx context.Context, tx bun.Tx, today time.Time, _ calendar, days int) ([]dueAlert, error) {
			return scanDue(ctx, tx, `SELECT r.id, r.reference, (w.entered_at AT TIME ZONE 'Europe/London')::date AS on,
					COALESCE(ia.assessor_id, 0) AS assessor_id
				FROM requests AS r
				LEFT JOIN impact_assessments AS ia ON ia.request_id = r.id
				CROSS JOIN LATERAL (SELECT COALESCE(max(ev.occurred_at), r.updated_at) AS entered_at FROM request_events AS ev
					WHERE ev.request_id = r.id AND ev.to_status = 'impact_assessment') AS w
				WHERE r.status = 'impact_assessment'
				AND (ia.completed_at IS NULL OR ia.completed_at < w.entered_at)
				AND working_days_between((w.entered_at AT TIME ZONE 'Europe/London')::date, ?::date) > ?`, day(today), days)
		},
		title: func(a dueAlert, today time.Time) string {
			return "%[1]s has waited since " + a.On.Format("2 January") + " for its impact assessment"
		},
	},
	{
		kind: AlertReviewSoon, event: notify.EventReviewDue, to: toTriage,
		query: func(ctx context.Context, tx bun.Tx, today time.Time, cal calendar, _ int) ([]dueAlert, error) {
			soon, err := cal.AddWorkingDays(today, ReviewAlertDays)
			if err != nil {
				return nil, err
			}
			return scanDue(ctx, tx, `SELECT id, reference, review_on AS on, 0 AS assessor_id FROM requests
				WHERE status = ? AND review_on > ?::date AND review_on <= ?::date`, StatusDeferred, day(today), day(soon))
		},
		title: func(a dueAlert, _ time.Time) string {
			return "%[1]s comes back for assessment on " + a.On.Format("Monday 2 January") + ", its review date"
		},
	},
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func scanDue(ctx context.Context, tx bun.Tx, query string, args ...any) ([]dueAlert, error) {
	var out []dueAlert
	if err := tx.NewRaw(query+" ORDER BY 3, 1", args...).Scan(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// AlertPolicy is what the alerts may be set to.
type AlertPolicy struct {
	// AssessmentWaitingDays: the development team hears about a request that has waited longer than
	// this many working days for its impact assessment.
	AssessmentWaitingDays int
}

// RunAlerts sends the alerts due on today (a London date) as the portal itself, once whatever the
// number of instances: the day's run is claimed in job_runs in the transaction that claims and queues
// every alert, and each alert in request_alerts, so a request's alert about a date goes out once ever.
// It returns how many alerts it claimed: 0 when the day's run had already been made.
func RunAlerts(ctx context.Context, db *bun.DB, env Env, today time.Time, policy AlertPolicy) (int, error) {
	if policy.AssessmentWaitingDays <= 0 {
		policy.AssessmentWaitingDays = DefaultAssessmentAlertDays
	}
	today = Day(today)
	sent := 0
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if claimed, err := claimRun(ctx, tx, alertsJob, day(today), env.Now); err != nil || !claimed {
			return err
		}
		system := SystemViewer("ESR Enhancement Portal").person()
		for _, rule := range alertRules {
			due, err := rule.query(ctx, tx, today, env.Calendar, policy.AssessmentWaitingDays)
			if err != nil {
				return fmt.Errorf("find %s alerts: %w", rule.kind, err)
			}
			for _, a := range due {
				res, err := tx.NewRaw(`INSERT INTO request_alerts (kind, request_id, due_on, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
					rule.kind, a.ID, day(a.On), env.Now).Exec(ctx)
				if err != nil {
					return fmt.Errorf("claim %s alert about %s: %w", rule.kind, a.Reference, err)
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n == 0 {
					continue // sent before, by this run on another day or another instance
				}
				sent++
				r, err := alertRequest(ctx, tx, a.ID)
				if err != nil {
					return err
				}
				var ids []int64
				if rule.to == toDevelopers {
					ids, err = developers(ctx, tx, a.Assessor)
				} else {
					ids, err = recipients(ctx, tx, r, rule.to)
				}
				if err != nil {
					return err
				}
				if err := Tell(ctx, tx, env.Now, r, system, ids, News{Event: rule.event, Title: rule.title(a, today)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("alerts of %s: %w", day(today), err)
	}
	return sent, nil
}

// claimRun claims a scheduled job's run for a period in the caller's transaction: false when another
// run has it (a second instance waits here for the first to commit, then finds its row).
func claimRun(ctx context.Context, tx bun.Tx, name, period string, now time.Time) (bool, error) {
	res, err := tx.NewRaw("INSERT INTO job_runs (name, period, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", name, period, now).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim the run of %s for %s: %w", name, period, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim the run of %s for %s: %w", name, period, err)
	}
	return n == 1, nil
}

// ClaimRun claims a scheduled job's run for a period in the caller's transaction, as RunAlerts does.
func ClaimRun(ctx context.Context, tx bun.Tx, name, period string, now time.Time) (bool, error) {
	return claimRun(ctx, tx, name, period, now)
}

// alertRequest reads the request an alert is about, with its region (for the access rule).
func alertRequest(ctx context.Context, tx bun.Tx, id int64) (*Request, error) {
	r := new(Request)
	err := tx.NewSelect().Model(r).ColumnExpr(requestColumns).ColumnExpr("o.region_id AS region_id").
		Join("JOIN organisations AS o ON o.id = r.organisation_id").Where("r.id = ?", id).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read request %d: %w", id, err)
	}
	return r, nil
}

// developers are the request's assessor, or every active member of the development team.
func developers(ctx context.Context, tx bun.Tx, assessor int64) ([]int64, error) {
	if assessor != 0 {
		return []int64{assessor}, nil
	}
	var ids []int64
	err := tx.NewSelect().TableExpr("users AS u").Column("u.id").
		Join("JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?", identity.RoleDevelopmentTeam).
		Where("u.status = 'active'").Order("u.id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find the development team: %w", err)
	}
	return ids, nil
}

// tellRaised tells the central team a request has been raised, in the raising transaction; those who
// chose a daily summary instead turn this event off.
func tellRaised(ctx context.Context, tx bun.Tx, now time.Time, r *Request, v Viewer) error {
	ids, err := recipients(ctx, tx, r, toTriage)
	if err != nil {
		return err
	}
	r.RegionID = v.RegionID
	org := strings.ReplaceAll(v.OrganisationName, "%", "%%")
	return Tell(ctx, tx, now, r, v.person(), ids, News{Event: notify.EventRaised, Title: "%[1]s has been raised by " + org})
}

// newRequestsJob names the central team's daily summary of new requests in job_runs.
const newRequestsJob = "new_requests_daily"

// SendNewRequestsSummary writes each member of the central team who asked for it (notify's opt-in
// event EventNewRequestsDaily) one message listing the requests received on the day before today (a
// London date) that they may see in full, once whatever the number of instances. It returns how many
// requests the day had.
func SendNewRequestsSummary(ctx context.Context, db *bun.DB, env Env, today time.Time) (int, error) {
	loc := env.Calendar.Location()
	yesterday := time.Date(today.Year(), today.Month(), today.Day()-1, 0, 0, 0, 0, loc)
	from, to := yesterday, yesterday.AddDate(0, 0, 1)
	count := 0
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if claimed, err := claimRun(ctx, tx, newRequestsJob, day(yesterday), env.Now); err != nil || !claimed {
			return err
		}
		var ids []int64
		if err := tx.NewSelect().TableExpr("users AS u").Column("u.id").
			Join("JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?", identity.RoleCentralTeam).
			Where("u.status = 'active'").Order("u.id").Scan(ctx, &ids); err != nil {
			return fmt.Errorf("find the central team: %w", err)
		}
		var msgs []notify.Message
		for _, id := range ids {
			u, err := identity.Get(ctx, tx, id)
			if err != nil {
				return err
			}
			v, err := ViewerFor(ctx, tx, u)
			if err != nil {
				return err
			}
			var rows []struct {
				Reference    string `bun:"reference"`
				Title        string `bun:"title"`
				Organisation string `bun:"organisation"`
			}
			f := Filter{RaisedFrom: from, RaisedTo: to}
			if err := v.Where(Matching(tx.NewSelect().TableExpr("requests AS r"), v, f), AccessFull).
				ColumnExpr("r.reference, r.title, o.name AS organisation").Join("JOIN organisations AS o ON o.id = r.organisation_id").
				Order("r.received_at", "r.id").Scan(ctx, &rows); err != nil {
				return fmt.Errorf("requests raised on %s: %w", day(yesterday), err)
			}
			if len(rows) == 0 {
				continue
			}
			count = max(count, len(rows))
			var b strings.Builder
			for _, r := range rows {
				fmt.Fprintf(&b, "%s: %s (%s)\n", r.Reference, r.Title, r.Organisation)
			}
			noun := "requests were"
			if len(rows) == 1 {
				noun = "request was"
			}
			msgs = append(msgs, notify.Message{
				UserID: id, Event: notify.EventNewRequestsDaily,
				Title: fmt.Sprintf("%d new %s raised on %s", len(rows), noun, yesterday.Format("Monday 2 January")),
				Body:  b.String(), Access: int(AccessFull),
				Link: fmt.Sprintf("/requests?sort=oldest&from-day=%d&from-month=%d&from-year=%d&to-day=%d&to-month=%d&to-year=%d",
					yesterday.Day(), yesterday.Month(), yesterday.Year(), yesterday.Day(), yesterday.Month(), yesterday.Year()),
			})
		}
		return notify.Queue(ctx, tx, env.Now, msgs...)
	})
	if err != nil {
		return 0, fmt.Errorf("summary of the requests raised on %s: %w", day(yesterday), err)
	}
	return count, nil
}
