package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/schedule"
)

// demoSchedule is the Development Schedule already published in the demo: the quarter before the one
// the central team publishes next, made public.
var demoSchedule = struct {
	quarter schedule.Quarter
	date    string
}{schedule.Quarter{Year: 2026, Q: 2}, "2026-07-01"}

// Schedules publishes the demo's earlier Development Schedule, from the demo data as it is now, when no
// schedule has been published yet, and makes it public. It is idempotent.
func Schedules(ctx context.Context, db *bun.DB, now time.Time, render schedule.Renderer) error {
	latest, err := schedule.LatestVersion(ctx, db, demoSchedule.quarter)
	if err != nil || latest > 0 {
		return err
	}
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		return err
	}
	day, err := time.Parse(time.DateOnly, demoSchedule.date)
	if err != nil {
		return err
	}
	at := time.Date(day.Year(), day.Month(), day.Day(), 9, 30, 0, 0, time.UTC)
	if at.After(now) {
		at = now
	}
	p, err := schedule.Publish(ctx, db, render, schedule.Publisher{UserID: central.ID, Name: central.Name}, System, at,
		schedule.PublishInput{Quarter: demoSchedule.quarter, PublicationDate: day})
	if err != nil {
		return fmt.Errorf("seed development schedule: %w", err)
	}
	if _, err := schedule.SetPublic(ctx, db, System, at, p.ID, true); err != nil {
		return fmt.Errorf("seed development schedule: %w", err)
	}
	return nil
}
