package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/schedule"
)

// demoSchedules are the Development Schedules already published in the demo, the latest made public:
// each built, as every schedule is, from the history as it stood at the end of its publication date.
var demoSchedules = []struct {
	quarter schedule.Quarter
	date    string
}{
	{schedule.Quarter{Year: 2026, Q: 1}, "2026-04-01"},
	{schedule.Quarter{Year: 2026, Q: 2}, "2026-07-01"},
}

// Schedules publishes the demo's earlier Development Schedules that are missing, each on its publication
// date, and makes the latest public. It is idempotent.
func Schedules(ctx context.Context, db *bun.DB, now time.Time, render schedule.Renderer) error {
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		return err
	}
	for i, d := range demoSchedules {
		latest, err := schedule.LatestVersion(ctx, db, d.quarter)
		if err != nil {
			return err
		}
		if latest > 0 {
			continue
		}
		day, err := time.Parse(time.DateOnly, d.date)
		if err != nil {
			return err
		}
		at := time.Date(day.Year(), day.Month(), day.Day(), 9, 30, 0, 0, time.UTC)
		if at.After(now) {
			continue
		}
		p, err := schedule.Publish(ctx, db, render, schedule.Publisher{UserID: central.ID, Name: central.Name}, System, at,
			schedule.PublishInput{Quarter: d.quarter, PublicationDate: day, Public: i == len(demoSchedules)-1})
		if err != nil {
			return fmt.Errorf("seed development schedule %s: %w", d.quarter, err)
		}
		_ = p
	}
	return nil
}
