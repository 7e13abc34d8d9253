package release

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// Input is what the release form sends, already parsed.
type Input struct {
	Number       int
	Name         string
	TargetDate   time.Time // a date; the time of day is ignored
	Status       Status    // planned or in_progress; a released release stays released
	CapacityDays sql.NullFloat64
}

// Limits on a release.
const (
	maxName   = 200
	maxReason = 2000
)

// check returns the first rule the input breaks as a *request.RuleError, naming the form field.
func (in *Input) check(current Status) error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Number <= 0:
		return &request.RuleError{Field: "number", Message: "Enter the release number, like 74"}
	case in.Name == "":
		return &request.RuleError{Field: "name", Message: "Enter the release name, like March 2027"}
	case len(in.Name) > maxName:
		return &request.RuleError{Field: "name", Message: fmt.Sprintf("The name must be %d characters or fewer", maxName)}
	case in.TargetDate.IsZero():
		return &request.RuleError{Field: "target_date-day", Message: "Enter the target date"}
	case in.CapacityDays.Valid && in.CapacityDays.Float64 < 0:
		return &request.RuleError{Field: "capacity_days", Message: "Capacity must be 0 days or more"}
	}
	if current == StatusReleased {
		if in.Status != "" && in.Status != StatusReleased {
			return &request.RuleError{Field: "status", Message: "A release that has gone live stays released"}
		}
		in.Status = StatusReleased
		return nil
	}
	if in.Status != StatusPlanned && in.Status != StatusInProgress {
		return &request.RuleError{Field: "status", Message: "Select planned or in progress. To put a release live, use Mark as released"}
	}
	return nil
}

func numberTaken(err error, number int) error {
	if database.IsUniqueViolation(err, "releases_number_key") {
		return &request.RuleError{Field: "number", Message: fmt.Sprintf("Release %d already exists", number)}
	}
	return err
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// Create adds a release. A number already used is a *request.RuleError on "number".
func Create(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, in Input) (*Release, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("create a release: %w", problem.ErrForbidden)
	}
	if err := in.check(""); err != nil {
		return nil, err
	}
	r := &Release{Number: in.Number, Name: in.Name, TargetDate: day(in.TargetDate), Status: in.Status,
		CapacityDays: in.CapacityDays, Version: 1, CreatedAt: now, UpdatedAt: now}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
			return numberTaken(err, in.Number)
		}
		if err := recordHistory(ctx, tx, r.ID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "release.created", EntityType: "release", EntityID: fmt.Sprint(r.ID), After: auditView(r),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("create release %d: %w", in.Number, err)
	}
	return r, nil
}

// Update changes a release's details, if the form was made from its current version (otherwise
// problem.ErrConflict). A number another release has is a *request.RuleError on "number".
func Update(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, id int64, version int, in Input) (*Release, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("change release %d: %w", id, problem.ErrForbidden)
	}
	var out *Release
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Version != version {
			return fmt.Errorf("release %d is at version %d, the form was made from %d: %w", id, r.Version, version, problem.ErrConflict)
		}
		if err := in.check(r.Status); err != nil {
			return err
		}
		before := auditView(r)
		r.Number, r.Name, r.TargetDate, r.Status, r.CapacityDays = in.Number, in.Name, day(in.TargetDate), in.Status, in.CapacityDays
		r.Version, r.UpdatedAt = r.Version+1, now
		res, err := tx.NewUpdate().Model(r).Column("number", "name", "target_date", "status", "capacity_days", "version", "updated_at").
			Where("id = ? AND version = ?", id, version).Exec(ctx)
		if err != nil {
			return numberTaken(err, in.Number)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("release %d changed while saving: %w", id, problem.ErrConflict)
		}
		if err := recordHistory(ctx, tx, id, now); err != nil {
			return err
		}
		out = r
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "release.updated", EntityType: "release", EntityID: fmt.Sprint(id), Before: before, After: auditView(r),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("change release %d: %w", id, err)
	}
	return out, nil
}

func auditView(r *Release) map[string]any {
	m := map[string]any{"number": r.Number, "name": r.Name, "target_date": r.TargetDate.Format(time.DateOnly), "status": r.Status}
	if r.CapacityDays.Valid {
		m["capacity_days"] = r.CapacityDays.Float64
	}
	return m
}

// recordHistory keeps the release as it is now in its history, from now on: every change of a release
// calls it in its transaction, so that a schedule dated in the past reads the release as it stood then.
func recordHistory(ctx context.Context, tx bun.Tx, id int64, now time.Time) error {
	if _, err := tx.NewRaw(`INSERT INTO release_history (release_id, number, name, target_date, status, valid_from)
		SELECT id, number, name, target_date, status, ? FROM releases WHERE id = ?`, now, id).Exec(ctx); err != nil {
		return fmt.Errorf("keep the history of release %d: %w", id, err)
	}
	return nil
}

func lock(ctx context.Context, tx bun.Tx, id int64) (*Release, error) {
	r := new(Release)
	err := tx.NewSelect().Model(r).Where("rl.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("release %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lock release %d: %w", id, err)
	}
	return r, nil
}

// MarkReleased puts a release live, if the form was made from its current version: its status becomes
// released, and every request allocated to it is delivered through the lifecycle's "deliver"
// transition (each with its timeline event, audit record and notifications), all in one transaction.
// It returns the references of the requests delivered.
func MarkReleased(ctx context.Context, db *bun.DB, env request.Env, v request.Viewer, actor audit.Actor, id int64, version int) ([]string, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("release %d: %w", id, problem.ErrForbidden)
	}
	var delivered []string
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Version != version {
			return fmt.Errorf("release %d is at version %d, the form was made from %d: %w", id, r.Version, version, problem.ErrConflict)
		}
		if r.Released() {
			return fmt.Errorf("release %d has gone live already: %w", id, problem.ErrConflict)
		}
		if _, err := tx.NewUpdate().Table("releases").Where("id = ?", id).
			Set("status = ?", StatusReleased).Set("released_at = ?", env.Now).Set("version = version + 1").Set("updated_at = ?", env.Now).
			Exec(ctx); err != nil {
			return fmt.Errorf("mark release %d released: %w", id, err)
		}
		if err := recordHistory(ctx, tx, id, env.Now); err != nil {
			return err
		}
		var due []struct {
			Reference string `bun:"reference"`
			Version   int    `bun:"version"`
		}
		if err := tx.NewSelect().TableExpr("allocations AS al").ColumnExpr("r.reference, r.version").
			Join("JOIN requests AS r ON r.id = al.request_id").
			Where("al.release_id = ? AND r.status = ?", id, request.StatusAllocated).
			Order("r.reference").For("UPDATE OF r").Scan(ctx, &due); err != nil {
			return fmt.Errorf("list requests in release %d: %w", id, err)
		}
		for _, d := range due {
			if _, err := request.ApplyInTx(ctx, tx, env, v, actor, d.Reference, "deliver", request.Input{Version: d.Version}); err != nil {
				return fmt.Errorf("deliver %s: %w", d.Reference, err)
			}
			delivered = append(delivered, d.Reference)
		}
		return audit.Record(ctx, tx, env.Now, audit.Event{
			Actor: actor, Action: "release.released", EntityType: "release", EntityID: fmt.Sprint(id),
			Before: map[string]any{"status": r.Status}, After: map[string]any{"status": StatusReleased, "delivered": delivered},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("mark release %d released: %w", id, err)
	}
	return delivered, nil
}

// MoveInput is what the move form sends.
type MoveInput struct {
	Version   int // the request's version the form was made from
	ReleaseID int64
	Reason    string
}

// Move moves an allocated request to another release that has not gone live, with why, in one
// transaction: the move is recorded, the allocation changed, and the request gets a timeline event,
// an audit record, and its followers a notification. A form made from an older version of the request
// is problem.ErrConflict; a missing reason or an unsuitable release is a *request.RuleError.
func Move(ctx context.Context, db *bun.DB, env request.Env, v request.Viewer, actor audit.Actor, reference string, in MoveInput) (*AllocationMove, error) {
	reference = strings.ToUpper(strings.TrimSpace(reference))
	if !CanManage(v) {
		return nil, fmt.Errorf("move %s: %w", reference, problem.ErrForbidden)
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var out *AllocationMove
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := request.Lock(ctx, tx, reference)
		if err != nil {
			return err
		}
		if r.Version != in.Version {
			return fmt.Errorf("request %s is at version %d, the form was made from %d: %w", reference, r.Version, in.Version, problem.ErrConflict)
		}
		if r.Status != request.StatusAllocated {
			return fmt.Errorf("request %s is %s, so it cannot move: %w", reference, r.Status, problem.ErrConflict)
		}
		var from struct {
			ID     int64  `bun:"id"`
			Number int    `bun:"number"`
			Name   string `bun:"name"`
		}
		if err := tx.NewSelect().TableExpr("allocations AS al").ColumnExpr("rl.id, rl.number, rl.name").
			Join("JOIN releases AS rl ON rl.id = al.release_id").Where("al.request_id = ?", r.ID).
			For("UPDATE OF al").Scan(ctx, &from); err != nil {
			return fmt.Errorf("read allocation of %s: %w", reference, err)
		}
		switch {
		case in.ReleaseID == 0:
			return &request.RuleError{Field: "release_id", Message: "Select the release to move it to"}
		case in.ReleaseID == from.ID:
			return &request.RuleError{Field: "release_id", Message: fmt.Sprintf("It is in Release %d already: select another release", from.Number)}
		case in.Reason == "":
			return &request.RuleError{Field: "reason", Message: "Enter why it is moving to another release"}
		case len(in.Reason) > maxReason:
			return &request.RuleError{Field: "reason", Message: fmt.Sprintf("The reason must be %d characters or fewer", maxReason)}
		}
		var to struct {
			Number int    `bun:"number"`
			Name   string `bun:"name"`
			Status Status `bun:"status"`
		}
		err = tx.NewSelect().Table("releases").Column("number", "name", "status").Where("id = ?", in.ReleaseID).For("SHARE").Scan(ctx, &to)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && to.Status == StatusReleased) {
			return &request.RuleError{Field: "release_id", Message: "Select a release that has not gone live"}
		}
		if err != nil {
			return fmt.Errorf("read release %d: %w", in.ReleaseID, err)
		}

		m := &AllocationMove{RequestID: r.ID, Reference: reference, Title: r.Title, FromID: from.ID, FromNumber: from.Number,
			ToID: in.ReleaseID, ToNumber: to.Number, Reason: in.Reason, MovedBy: v.Name, MovedAt: env.Now}
		if err := tx.NewRaw(`INSERT INTO allocation_moves (request_id, from_release_id, to_release_id, reason, moved_by, moved_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, r.ID, from.ID, in.ReleaseID, in.Reason, v.UserID, env.Now).Scan(ctx, &m.ID); err != nil {
			return fmt.Errorf("record move of %s: %w", reference, err)
		}
		if _, err := tx.NewUpdate().Table("allocations").Where("request_id = ?", r.ID).
			Set("release_id = ?", in.ReleaseID).Set("allocated_by = ?", v.UserID).Set("allocated_at = ?", env.Now).Exec(ctx); err != nil {
			return fmt.Errorf("move allocation of %s: %w", reference, err)
		}
		if _, err := tx.NewUpdate().Table("requests").Where("id = ?", r.ID).
			Set("version = version + 1").Set("updated_at = ?", env.Now).Exec(ctx); err != nil {
			return fmt.Errorf("update request %s: %w", reference, err)
		}
		summary := m.Summary() + ": " + in.Reason
		if _, err := tx.NewInsert().Model(&request.Event{
			RequestID: r.ID, OccurredAt: env.Now, ActorUserID: v.UserID, ActorName: v.Name, Kind: "move", Summary: summary,
		}).Exec(ctx); err != nil {
			return fmt.Errorf("add timeline event to %s: %w", reference, err)
		}
		if err := audit.Record(ctx, tx, env.Now, audit.Event{
			Actor: actor, Action: "request.moved", EntityType: "request", EntityID: reference,
			Before: map[string]any{"release": from.Number}, After: map[string]any{"release": to.Number, "reason": in.Reason},
		}); err != nil {
			return err
		}
		followers, err := request.Followers(ctx, tx, r)
		if err != nil {
			return err
		}
		// Where a change is moving to is part of every schedule published: anyone who follows it may be told
		// why.
		if err := request.Tell(ctx, tx, env.Now, r, v.Person(), followers, request.News{
			Event: notify.EventAllocated, Title: fmt.Sprintf("%%[1]s has moved to Release %d", to.Number),
			Detail:      fmt.Sprintf("It has moved from %s to %s.\n\n%s", Title(from.Number, from.Name), Title(to.Number, to.Name), in.Reason),
			DetailLevel: request.AccessSummary,
		}); err != nil {
			return err
		}
		out = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("move %s: %w", reference, err)
	}
	return out, nil
}

// Told is what marking a release as released would do now: how many of its requests it delivers, and
// how many people it tells (those following or supporting them, each once, but not the person
// marking it).
func Told(ctx context.Context, db bun.IDB, id, exceptUserID int64) (changes, people int, err error) {
	err = db.NewRaw(`SELECT
		(SELECT count(*) FROM allocations AS al JOIN requests AS r ON r.id = al.request_id
			WHERE al.release_id = ?0 AND r.status = ?1) AS changes,
		(SELECT count(DISTINCT u.user_id) FROM (
			SELECT f.user_id FROM request_followers AS f JOIN allocations AS al ON al.request_id = f.request_id
				JOIN requests AS r ON r.id = al.request_id WHERE al.release_id = ?0 AND r.status = ?1
			UNION SELECT s.user_id FROM request_supports AS s JOIN allocations AS al ON al.request_id = s.request_id
				JOIN requests AS r ON r.id = al.request_id WHERE al.release_id = ?0 AND r.status = ?1) AS u
			WHERE u.user_id <> ?2) AS people`, id, request.StatusAllocated, exceptUserID).Scan(ctx, &changes, &people)
	if err != nil {
		return 0, 0, fmt.Errorf("who marking release %d released tells: %w", id, err)
	}
	return changes, people, nil
}
