package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/release"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/workday"
)

// demoReleases are ESR's releases extrapolated from the public ones (DOMAIN.md "Releases"): quarterly,
// going live on a Saturday near the end of March, June, September and December.
var demoReleases = []struct {
	number   int
	name     string
	target   string         // the day it goes live
	status   release.Status // what it is now
	capacity float64        // effort days
}{
	{68, "December 2025", "2025-12-13", release.StatusReleased, 60},
	{69, "March 2026", "2026-03-28", release.StatusReleased, 60},
	{70, "June 2026", "2026-06-27", release.StatusReleased, 80},
	{71, "September 2026", "2026-09-26", release.StatusReleased, 80},
	{72, "December 2026", "2026-12-12", release.StatusInProgress, 45},
	{73, "March 2027", "2027-03-20", release.StatusPlanned, 90},
}

// Releases adds the demo releases that are missing, then puts live those that have gone live, at
// 6pm on their target day, delivering the demo requests allocated to them. Requests calls it after
// allocating its demo requests; it is idempotent.
func Releases(ctx context.Context, db *bun.DB, now time.Time) error {
	if err := addReleases(ctx, db, now); err != nil {
		return err
	}
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		return err
	}
	v, err := request.ViewerFor(ctx, db, central)
	if err != nil {
		return err
	}
	cal := workday.New()
	for _, d := range demoReleases {
		if d.status != release.StatusReleased {
			continue
		}
		r, err := release.GetByNumber(ctx, db, d.number)
		if err != nil {
			return err
		}
		if r.Released() {
			continue
		}
		at := time.Date(r.TargetDate.Year(), r.TargetDate.Month(), r.TargetDate.Day(), 18, 0, 0, 0, cal.Location())
		if at.After(now) {
			at = now
		}
		if _, err := release.MarkReleased(ctx, db, request.Env{Now: at, Calendar: cal}, v, System, r.ID, r.Version); err != nil {
			return fmt.Errorf("seed release %d: %w", d.number, err)
		}
	}
	return nil
}

// addReleases adds the demo releases that are missing, with the history the release pages would have
// kept: planned from a year before the target day, in progress from three months before it (when that
// has come). One that has gone live is added in progress: Releases puts it live once its requests are
// allocated.
func addReleases(ctx context.Context, db *bun.DB, now time.Time) error {
	for _, d := range demoReleases {
		target, err := time.Parse(time.DateOnly, d.target)
		if err != nil {
			return fmt.Errorf("seed release %d: %w", d.number, err)
		}
		created := time.Date(target.Year()-1, target.Month(), target.Day(), 10, 0, 0, 0, time.UTC)
		started := time.Date(target.Year(), target.Month()-3, target.Day(), 10, 0, 0, 0, time.UTC)
		if created.After(now) {
			created = now
		}
		status, updated := release.StatusPlanned, created
		if d.status != release.StatusPlanned && !started.After(now) {
			status, updated = release.StatusInProgress, started
		}
		var ids []int64
		if err := db.NewRaw(`INSERT INTO releases (number, name, target_date, status, capacity_days, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO NOTHING RETURNING id`,
			d.number, d.name, d.target, status, d.capacity, created, updated).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("seed release %d: %w", d.number, err)
		}
		if len(ids) == 0 {
			continue
		}
		if _, err := db.NewRaw(`INSERT INTO release_history (release_id, number, name, target_date, status, valid_from)
			SELECT ?0, ?1, ?2, ?3::date, s.status, s.valid_from FROM (VALUES ('planned', ?4::timestamptz), (?5, ?6::timestamptz)) AS s (status, valid_from)
			WHERE s.status = 'planned' OR s.valid_from > ?4::timestamptz`,
			ids[0], d.number, d.name, d.target, created, status, updated).Exec(ctx); err != nil {
			return fmt.Errorf("seed history of release %d: %w", d.number, err)
		}
	}
	return nil
}

// demoReleaseID returns the id of a demo release by its number.
func demoReleaseID(ctx context.Context, db bun.IDB, number int) (int64, error) {
	r, err := release.GetByNumber(ctx, db, number)
	if err != nil {
		return 0, err
	}
	return r.ID, nil
}

// prepareDemo writes what the requirement and justification forms would have: a requirement
// definition agreed by the raiser and the development team, and a complete, submitted business
// justification.
func prepareDemo(ctx context.Context, db *bun.DB, r *request.Request, d demoRequest, sr string, raiser *identity.User, developerID int64, at time.Time) error {
	var nsig string
	if r.NSIGID != 0 {
		if err := db.NewSelect().Table("nsigs").Column("name").Where("id = ?", r.NSIGID).Scan(ctx, &nsig); err != nil {
			return fmt.Errorf("seed justification of %s: %w", r.Reference, err)
		}
	}
	body := fmt.Sprintf("The problem today\n\n%s\n\nWhat ESR must do\n\n%s\n\nIt must work the same for every organisation, and be reportable in Business Intelligence.", d.problem, d.proposal)
	answers, err := json.Marshal(map[string]any{
		"about": map[string]any{"sr_number": sr, "requester_name": raiser.Name, "requester_role": "ESR lead",
			"requester_email": raiser.Email, "lead_nsig": nsig},
		"requirement": map[string]any{"title": d.title, "functional_area": d.area, "problem": d.problem, "proposal": d.proposal,
			"affected_users": d.affected},
		"strategic_fit": map[string]any{"policy": "NHS People Plan: making it easier for staff and managers to use ESR.", "legislative": "no"},
		"benefits": map[string]any{"savings_pence": 1200000, "hours_per_month": 12.5, "organisations": 240,
			"quality_benefits": "Less manual chasing and fewer errors in the records.", "baseline": "Measured by hand in a spreadsheet every month.",
			"target": "Done by ESR, with no manual work."},
		"delivery": map[string]any{"priority": d.urgency, "risks_of_doing": "Little: the change is small and optional for organisations.",
			"risks_of_not_doing": "Organisations keep their local workarounds.", "workaround": "A spreadsheet kept by hand."},
		"sign_off": map[string]any{"name": "Alex Morgan", "role": "Director of Workforce", "date": at.Format(time.DateOnly)},
	})
	if err != nil {
		return err
	}
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO requirement_versions (request_id, version, body, author_id, created_at) VALUES (?, 1, ?, ?, ?)`,
			[]any{r.ID, body, raiser.ID, at}},
		{`INSERT INTO requirement_agreements (request_id, side, version, user_id, agreed_at) VALUES (?, 'requester', 1, ?, ?), (?, 'development', 1, ?, ?)`,
			[]any{r.ID, raiser.ID, at.Add(2 * time.Hour), r.ID, developerID, at.Add(26 * time.Hour)}},
		{`INSERT INTO business_justifications (request_id, answers, version, submitted_at, first_submitted_at, updated_by, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?)`,
			[]any{r.ID, string(answers), at.Add(48 * time.Hour), at.Add(48 * time.Hour), raiser.ID, at.Add(48 * time.Hour)}},
	} {
		if _, err := db.NewRaw(stmt.sql, stmt.args...).Exec(ctx); err != nil {
			return fmt.Errorf("seed requirement and justification of %s: %w", r.Reference, err)
		}
	}
	return nil
}

// assessDemo writes the development team's completed impact assessment.
func assessDemo(ctx context.Context, db *bun.DB, r *request.Request, d demoRequest, s demoStep, developerID int64, at time.Time) error {
	size := "S"
	switch {
	case s.effort > 25:
		size = "L"
	case s.effort > 10:
		size = "M"
	}
	_, err := db.NewRaw(`INSERT INTO impact_assessments (request_id, assessor_id, effort_size, effort_days, modules, interfaces, risks,
		dependencies, cost_pounds, recommendation, notes, completed_at, version, updated_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		r.ID, developerID, size, s.effort, pgdialect.Array([]string{d.area}), "None beyond the ESR data warehouse extract.",
		"Regression testing of "+d.area+" screens.", "", s.effort*650, s.recommend, s.text, at, developerID, at).Exec(ctx)
	if err != nil {
		return fmt.Errorf("seed impact assessment of %s: %w", r.Reference, err)
	}
	return nil
}

// moveDemo moves an allocated demo request to another release, with the step's text as the reason,
// and returns the request's new version.
func moveDemo(ctx context.Context, db *bun.DB, env request.Env, v request.Viewer, r *request.Request, version int, s demoStep) (int, error) {
	to, err := demoReleaseID(ctx, db, s.release)
	if err != nil {
		return version, err
	}
	if _, err := release.Move(ctx, db, env, v, System, r.Reference, release.MoveInput{Version: version, ReleaseID: to, Reason: s.text}); err != nil {
		return version, fmt.Errorf("seed move of %s: %w", r.Reference, err)
	}
	return version + 1, nil
}
