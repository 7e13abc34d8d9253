package request

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/workday"
)

// AcknowledgementDays is how many working days the central team has to acknowledge a request
// (ESR-NHS0132 §5).
const AcknowledgementDays = 5

// NewEnhancement is what a requester tells us when they raise an enhancement request.
type NewEnhancement struct {
	SRNumber       string
	Title          string
	FunctionalArea string
	Problem        string
	Proposal       string
	AffectedUsers  []string
	AffectedDetail string
	Urgency        string
	UrgencyReason  string
	// SubmissionToken comes from the form; the same token submitted twice raises one request.
	SubmissionToken string
}

// RaiseEnhancement records a new enhancement request for the viewer's organisation, due for
// acknowledgement five working days after receipt, routed to the NSIG that covers its functional area.
// The raiser follows it. Submitting the same form twice returns the request the first submission made.
func RaiseEnhancement(ctx context.Context, db *bun.DB, cal *workday.Calendar, v Viewer, actor audit.Actor, now time.Time, in NewEnhancement) (*Request, error) {
	if !v.Has(identity.RoleRequester) && !v.Has(identity.RoleNSIGMember) {
		return nil, fmt.Errorf("raise a request: %w", problem.ErrForbidden)
	}
	if existing, err := bySubmissionToken(ctx, db, in.SubmissionToken, v.UserID); err == nil {
		return existing, nil
	} else if !errors.Is(err, problem.ErrNotFound) {
		return nil, err
	}
	due, err := cal.AddWorkingDays(now, AcknowledgementDays)
	if err != nil {
		return nil, fmt.Errorf("acknowledgement due date: %w", err)
	}
	nsigID, err := NSIGFor(ctx, db, in.FunctionalArea)
	if err != nil {
		return nil, err
	}
	r := &Request{
		Kind: KindEnhancement, Title: strings.TrimSpace(in.Title), Status: StatusSubmitted,
		OrganisationID: v.OrganisationID, RaisedByID: v.UserID, NSIGID: nsigID,
		ReceivedAt: now, AckDueOn: Day(due), SubmissionToken: in.SubmissionToken, Version: 1, CreatedAt: now, UpdatedAt: now,
		RegionID: v.RegionID,
	}
	e := &Enhancement{
		SRNumber: strings.ToUpper(strings.TrimSpace(in.SRNumber)), FunctionalArea: in.FunctionalArea,
		Problem: strings.TrimSpace(in.Problem), Proposal: strings.TrimSpace(in.Proposal),
		AffectedUsers: in.AffectedUsers, AffectedDetail: strings.TrimSpace(in.AffectedDetail),
		Urgency: in.Urgency, UrgencyReason: strings.TrimSpace(in.UrgencyReason),
	}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		ref, err := nextReference(ctx, tx, "ENH", now.In(cal.Location()).Year())
		if err != nil {
			return err
		}
		r.Reference = ref
		if _, err := tx.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("insert request: %w", err)
		}
		e.RequestID = r.ID
		if _, err := tx.NewInsert().Model(e).Exec(ctx); err != nil {
			return fmt.Errorf("insert enhancement: %w", err)
		}
		if err := setSearch(ctx, tx, r.ID, r.Title, e.SRNumber, e.Problem, e.Proposal, e.AffectedDetail); err != nil {
			return err
		}
		if err := follow(ctx, tx, r.ID, v.UserID, now); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, Event{
			RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name, Kind: "raised",
			ToStatus: string(StatusSubmitted),
			Summary:  fmt.Sprintf("Raised. Acknowledgement due by %s.", due.Format("Monday 2 January 2006")),
		}); err != nil {
			return err
		}
		fromDraft, err := deleteRaisedDraft(ctx, tx, v.UserID, in.SubmissionToken)
		if err != nil {
			return err
		}
		after := map[string]any{"status": r.Status, "urgency": e.Urgency}
		if fromDraft {
			after["draft_id"] = in.SubmissionToken // raising deletes the draft
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "request.raised", EntityType: "request", EntityID: r.Reference, After: after,
		}); err != nil {
			return err
		}
		// The central team is told (unless they chose the daily summary instead), and may acknowledge it
		// straight from the email.
		central, err := recipients(ctx, tx, r, toTriage)
		if err != nil {
			return err
		}
		org := strings.ReplaceAll(v.OrganisationName, "%", "%%")
		return Tell(ctx, tx, now, r, v.person(), central, News{Event: notify.EventRaised,
			Title: "%[1]s has been raised by " + org + ": acknowledge it", Detail: "Acknowledgement is due by " + due.Format("Monday 2 January 2006") + ".",
			Actions: []Offer{{"acknowledge", r.Version}}})
	})
	if database.IsUniqueViolation(err, "requests_submission_token_key") {
		// The same form was submitted twice at once: the other submission made the request.
		return bySubmissionToken(ctx, db, in.SubmissionToken, v.UserID)
	}
	if err != nil {
		return nil, fmt.Errorf("raise enhancement request: %w", err)
	}
	return r, nil
}

// Day is the calendar date of a London date as midnight UTC, which is how a date column must be
// written: bun sends a time.Time as an instant, and midnight in London during summer time is 23:00 UTC
// the day before, which PostgreSQL would store as the day before.
func Day(londonDate time.Time) time.Time {
	return time.Date(londonDate.Year(), londonDate.Month(), londonDate.Day(), 0, 0, 0, 0, time.UTC)
}

func bySubmissionToken(ctx context.Context, db bun.IDB, token string, userID int64) (*Request, error) {
	r := new(Request)
	err := db.NewSelect().Model(r).ColumnExpr(requestColumns).Where("submission_token = ?", token).Where("raised_by_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("submission %s: %w", token, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find submission: %w", err)
	}
	return r, nil
}

// nextReference takes the next number of a reference series for a year, e.g. ENH-2026-0042. The
// counter row is locked until the transaction ends, so numbers are never shared and only skipped if
// the transaction rolls back.
func nextReference(ctx context.Context, tx bun.Tx, prefix string, year int) (string, error) {
	var n int
	err := tx.NewRaw(`INSERT INTO reference_counters (prefix, year, last) VALUES (?, ?, 1)
		ON CONFLICT (prefix, year) DO UPDATE SET last = reference_counters.last + 1 RETURNING last`,
		prefix, year).Scan(ctx, &n)
	if err != nil {
		return "", fmt.Errorf("next %s reference: %w", prefix, err)
	}
	return fmt.Sprintf("%s-%d-%04d", prefix, year, n), nil
}

// setSearch keeps the request's full-text search vector: the title weighs most.
func setSearch(ctx context.Context, tx bun.IDB, id int64, title string, body ...string) error {
	_, err := tx.NewRaw(`UPDATE requests SET search =
		setweight(to_tsvector('english', ?), 'A') || setweight(to_tsvector('english', ?), 'B') WHERE id = ?`,
		title, strings.Join(body, " "), id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("index request %d for search: %w", id, err)
	}
	return indexSummary(ctx, tx, "r.id = ?", id)
}

// indexSummary rebuilds the summary search document (see request_summary_document) of the requests
// matching cond, an SQL condition over requests (alias r).
func indexSummary(ctx context.Context, tx bun.IDB, cond string, args ...any) error {
	_, err := tx.NewRaw(`UPDATE requests AS r SET summary_search = request_summary_document(r.reference, r.title,
		coalesce((SELECT e.functional_area FROM enhancement_requests AS e WHERE e.request_id = r.id), ''), o.name, r.public_summary)
		FROM organisations AS o WHERE o.id = r.organisation_id AND `+cond, args...).Exec(ctx)
	if err != nil {
		return fmt.Errorf("index request summaries for search: %w", err)
	}
	return nil
}

// IndexSummaries rebuilds the summary search documents of the requests with ids, after they were
// written other than through this package (synthetic data for benchmarks).
func IndexSummaries(ctx context.Context, tx bun.IDB, ids []int64) error {
	return indexSummary(ctx, tx, "r.id = ANY (?)", pgdialect.Array(ids))
}

// IndexOrganisation rebuilds the summary search documents of an organisation's requests, after its
// name changes or its requests move to it.
func IndexOrganisation(ctx context.Context, tx bun.IDB, organisationID int64) error {
	return indexSummary(ctx, tx, "r.organisation_id = ?", organisationID)
}
