package request

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// Draft is a request being written: what its author has answered so far on the question pages, kept
// between pages so that nothing typed is lost. Only its author may open it. Its ID becomes the raised
// request's submission token, so raising the same draft twice raises one request.
type Draft struct {
	bun.BaseModel `bun:"table:request_drafts,alias:d"`

	ID        string           `bun:"id,pk,type:uuid"`
	UserID    int64            `bun:"user_id"`
	Kind      string           `bun:"kind"`
	Data      EnhancementDraft `bun:"data,type:jsonb"`
	CreatedAt time.Time        `bun:"created_at"`
	UpdatedAt time.Time        `bun:"updated_at"`
}

// EnhancementDraft is what a requester has answered so far when raising an enhancement request: the
// fields of NewEnhancement, any of them still empty.
type EnhancementDraft struct {
	SRNumber       string   `json:"sr_number,omitempty"`
	Title          string   `json:"title,omitempty"`
	FunctionalArea string   `json:"functional_area,omitempty"`
	Problem        string   `json:"problem,omitempty"`
	Proposal       string   `json:"proposal,omitempty"`
	AffectedUsers  []string `json:"affected_users,omitempty"`
	AffectedDetail string   `json:"affected_detail,omitempty"`
	Urgency        string   `json:"urgency,omitempty"`
	UrgencyReason  string   `json:"urgency_reason,omitempty"`
}

// NewEnhancement is the request the draft raises, with the draft's id as its submission token.
func (d EnhancementDraft) NewEnhancement(draftID string) NewEnhancement {
	return NewEnhancement{
		SRNumber: d.SRNumber, Title: d.Title, FunctionalArea: d.FunctionalArea, Problem: d.Problem, Proposal: d.Proposal,
		AffectedUsers: d.AffectedUsers, AffectedDetail: d.AffectedDetail, Urgency: d.Urgency, UrgencyReason: d.UrgencyReason,
		SubmissionToken: draftID,
	}
}

// draftID is the form of a draft's id: a UUID. Anything else in a URL names no draft.
var draftID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// NewDraft starts an empty draft of a kind of request for a user, with its audit event, and returns
// its id.
func NewDraft(ctx context.Context, db *bun.DB, actor audit.Actor, userID int64, kind string, now time.Time) (string, error) {
	var id string
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(`INSERT INTO request_drafts (user_id, kind, data, created_at, updated_at)
			VALUES (?, ?, '{}'::jsonb, ?, ?) RETURNING id`, userID, kind, now, now).Scan(ctx, &id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "draft.created", EntityType: "draft", EntityID: id,
			After: map[string]any{"kind": kind, "user_id": userID}})
	})
	if err != nil {
		return "", fmt.Errorf("start a %s draft for user %d: %w", kind, userID, err)
	}
	return id, nil
}

// GetDraft returns the user's draft with the id. A draft that does not exist, or is another user's, is
// problem.ErrNotFound.
func GetDraft(ctx context.Context, db bun.IDB, userID int64, id string) (*Draft, error) {
	if !draftID.MatchString(id) {
		return nil, fmt.Errorf("draft %q: %w", id, problem.ErrNotFound)
	}
	d := new(Draft)
	err := db.NewSelect().Model(d).Where("d.id = ?", id).Where("d.user_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("draft %s of user %d: %w", id, userID, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get draft %s: %w", id, err)
	}
	return d, nil
}

// SaveDraft replaces the answers of the user's draft with the id, with its audit event. The event names
// the questions answered so far, not the answers: a draft is its author's alone until it is raised.
func SaveDraft(ctx context.Context, db *bun.DB, actor audit.Actor, userID int64, id string, data EnhancementDraft, now time.Time) error {
	if !draftID.MatchString(id) {
		return fmt.Errorf("save draft %q: %w", id, problem.ErrNotFound)
	}
	answered, err := answeredQuestions(data)
	if err != nil {
		return fmt.Errorf("save draft %s: %w", id, err)
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		d := &Draft{Data: data, UpdatedAt: now}
		res, err := tx.NewUpdate().Model(d).Column("data", "updated_at").
			Where("d.id = ?", id).Where("d.user_id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("save draft %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("save draft %s: %w", id, err)
		} else if n == 0 {
			return fmt.Errorf("save draft %s of user %d: %w", id, userID, problem.ErrNotFound)
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "draft.saved", EntityType: "draft", EntityID: id,
			After: map[string]any{"answered": answered}})
	})
}

// answeredQuestions lists the draft's fields that hold an answer, by their JSON names, sorted.
func answeredQuestions(data EnhancementDraft) ([]string, error) {
	b, err := json.Marshal(data) // empty answers are omitted
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, nil
}

// deleteRaisedDraft removes the user's draft whose id is the submission token of the request raised in
// tx, so the draft goes with the raising. A token that names no draft of theirs removes nothing.
func deleteRaisedDraft(ctx context.Context, tx bun.Tx, userID int64, token string) (bool, error) {
	if !draftID.MatchString(token) {
		return false, nil
	}
	res, err := tx.NewDelete().Model((*Draft)(nil)).Where("d.id = ?", token).Where("d.user_id = ?", userID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete draft %s: %w", token, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("delete draft %s: %w", token, err)
	}
	return n > 0, nil
}

// RaisedFromDraft returns the request the user raised from the draft with the id, or problem.ErrNotFound
// when they have raised none from it, so that a form sent again after its draft is gone still finds
// what it raised.
func RaisedFromDraft(ctx context.Context, db bun.IDB, userID int64, id string) (*Request, error) {
	if !draftID.MatchString(id) {
		return nil, fmt.Errorf("request raised from draft %q: %w", id, problem.ErrNotFound)
	}
	return bySubmissionToken(ctx, db, id, userID)
}
