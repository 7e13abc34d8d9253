package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/dashboard"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
)

// Scheduled work that runs once a day from scheduledHour (UK time), on whichever instance gets there
// first: the alerts to role holders, the central team's daily summary of new requests, and on the first
// of each month every region's report to its functional account managers. Each is claimed in
// PostgreSQL (job_runs, and request_alerts for each alert) in the transaction that queues it.

const (
	scheduledHour     = 7
	scheduledInterval = 5 * time.Minute
	regionReportJob   = "region_report"
)

// runScheduled runs the day's scheduled work every scheduledInterval, the first time one interval
// after the portal starts, until ctx ends.
func (a *App) runScheduled(ctx context.Context) {
	t := time.NewTicker(scheduledInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.scheduledOnce(ctx)
		}
	}
}

// scheduledOnce does the day's scheduled work, if it is time and nobody has done it yet.
func (a *App) scheduledOnce(ctx context.Context) {
	now := a.now()
	if now.In(london).Hour() < scheduledHour || ctx.Err() != nil {
		return
	}
	today := request.Day(a.calendar.Date(now))
	env := request.Env{Now: now, Calendar: a.calendar}
	if n, err := request.RunAlerts(ctx, a.db, env, today, request.AlertPolicy{AssessmentWaitingDays: a.cfg.AssessmentAlertDays}); err != nil {
		a.log.Error("alerts", "err", err)
	} else if n > 0 {
		a.log.Info("alerts sent", "count", n)
	}
	if _, err := request.SendNewRequestsSummary(ctx, a.db, env, today); err != nil {
		a.log.Error("summary of new requests", "err", err)
	}
	if n, err := a.sendRegionReports(ctx, today); err != nil {
		a.log.Error("monthly region reports", "err", err)
	} else if n > 0 {
		a.log.Info("monthly region reports sent", "count", n)
	}
}

// sendRegionReports sends each active functional account manager their region's dashboard for the
// month before today's, once for the month whatever the number of instances. Those who turned off
// notify.EventRegionReport get nothing. It returns how many reports it wrote.
func (a *App) sendRegionReports(ctx context.Context, today time.Time) (int, error) {
	first := time.Date(today.Year(), today.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	period := dashboard.Period{From: first, To: first.AddDate(0, 1, -1), Label: first.Format("January 2006")}
	now := a.now()
	written := 0
	err := database.RunInTx(ctx, a.db, func(ctx context.Context, tx bun.Tx) error {
		if claimed, err := request.ClaimRun(ctx, tx, regionReportJob, first.Format("2006-01"), now); err != nil || !claimed {
			return err
		}
		var ids []int64
		if err := tx.NewSelect().TableExpr("users AS u").Column("u.id").
			Join("JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?", identity.RoleFunctionalAccountManager).
			Where("u.status = 'active'").Order("u.id").Scan(ctx, &ids); err != nil {
			return fmt.Errorf("find the functional account managers: %w", err)
		}
		regions, err := organisation.Regions(ctx, tx)
		if err != nil {
			return err
		}
		var msgs []notify.Message
		for _, id := range ids {
			u, err := identity.Get(ctx, tx, id)
			if err != nil {
				return err
			}
			scope := dashboard.Scope{RegionID: u.RegionID}
			for _, r := range regions {
				if r.ID == u.RegionID {
					scope.Name = r.Name
				}
			}
			if scope.Name == "" {
				continue
			}
			v, err := request.ViewerFor(ctx, tx, u)
			if err != nil {
				return err
			}
			d, err := dashboard.Build(ctx, a.db, v, scope, period, today)
			if err != nil {
				return err
			}
			msgs = append(msgs, a.regionReportMessage(u.ID, d))
		}
		written = len(msgs)
		return notify.Queue(ctx, tx, now, msgs...)
	})
	if err != nil {
		return 0, fmt.Errorf("region reports for %s: %w", period.Label, err)
	}
	return written, nil
}

// regionReportMessage is a region's monthly report: its headline figures in words, and links to the
// dashboard for the month and to its PDF and workbook. Its words need full access to the region's
// requests, which its recipient has.
func (a *App) regionReportMessage(userID int64, d *dashboard.Dashboard) notify.Message {
	q := url.Values{}
	for k, t := range map[string]time.Time{"from": d.Period.From, "to": d.Period.To} {
		q.Set(k+"-day", fmt.Sprint(t.Day()))
		q.Set(k+"-month", fmt.Sprint(int(t.Month())))
		q.Set(k+"-year", fmt.Sprint(t.Year()))
	}
	path := fmt.Sprintf("/dashboard/regions/%d", d.Scope.RegionID)
	base := strings.TrimRight(a.cfg.BaseURL.String(), "/")
	var b strings.Builder
	fmt.Fprintf(&b, "The %s region's dashboard for %s, counting the requests you may see.\n\n", d.Scope.Name, d.Period.Label)
	if n := len(d.AckMonths); n > 0 {
		m := d.AckMonths[n-1]
		fmt.Fprintf(&b, "Acknowledged within 5 working days: %d of the %d requests received in %s whose clock has run out", m.OnTime.Count, m.Measured.Count, d.Period.Label)
		if p := m.Percent(); p >= 0 {
			fmt.Fprintf(&b, " (%d%%)", p)
		}
		b.WriteString(".\n")
	}
	fmt.Fprintf(&b, "Waiting to be acknowledged and overdue now: %d.\n", d.OverdueNow.Count)
	fmt.Fprintf(&b, "Open requests now: %d, of which %d await a decision.\n", d.Open.Count, d.Awaiting.Count)
	if d.Slowest >= 0 {
		s := d.Stages[d.Slowest]
		fmt.Fprintf(&b, "Most time is lost in ‘%s’: a median of %s for the requests that entered it in the month.\n", s.Stage.Label(), workingDays(s.Median))
	}
	if n := len(d.Decisions); n > 0 {
		dq := d.Decisions[n-1]
		fmt.Fprintf(&b, "Decisions in %s: %d approved, %d deferred, %d not approved, %d not taken forward.\n",
			dq.Label, dq.Approved.Count, dq.Deferred.Count, dq.NotApproved.Count, dq.NotTakenForward.Count)
	}
	query := "?" + q.Encode()
	fmt.Fprintf(&b, "\nThe report as a PDF:\n%s%s/report.pdf%s\n\nIts tables in Excel:\n%s%s/report.xlsx%s\n\n"+
		"You get this report on the first of each month. To stop it, turn off ‘Your region's monthly report’ in your notification settings.",
		base, path, query, base, path, query)
	return notify.Message{UserID: userID, Event: notify.EventRegionReport,
		Title: fmt.Sprintf("%s region: the monthly report for %s", d.Scope.Name, d.Period.Label),
		Body:  b.String(), Link: path + query, Access: int(request.AccessFull)}
}
