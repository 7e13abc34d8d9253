// Package downtime holds the notices that warn users of planned and emergency downtime: a banner on
// every page, signed in or not, and for planned downtime an email to those who asked for one.
package downtime

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
)

// Kinds of notice.
const (
	Planned   = "planned"
	Emergency = "emergency"
)

// Errors of a notice.
var (
	ErrEndsBeforeStart = errors.New("the end is not after the start")
	ErrStartsInPast    = errors.New("planned downtime must start in the future")
	ErrMessageNeeded   = errors.New("a message is needed")
)

// Notice is one downtime notice.
type Notice struct {
	bun.BaseModel `bun:"table:downtime_notices,alias:d"`

	ID          int64     `bun:"id,pk,autoincrement"`
	Kind        string    `bun:"kind"`
	Message     string    `bun:"message"`
	StartsAt    time.Time `bun:"starts_at"`
	EndsAt      time.Time `bun:"ends_at"`
	ShowFrom    time.Time `bun:"show_from"`
	CreatedBy   int64     `bun:"created_by,nullzero"`
	CreatedAt   time.Time `bun:"created_at"`
	WithdrawnAt time.Time `bun:"withdrawn_at,nullzero"`
}

// InWindow reports whether now is within the notice's downtime.
func (n *Notice) InWindow(now time.Time) bool { return !now.Before(n.StartsAt) && now.Before(n.EndsAt) }

// Current returns the notices to show now (announced and not over or withdrawn), the soonest first.
func Current(ctx context.Context, db bun.IDB, now time.Time) ([]Notice, error) {
	var ns []Notice
	err := db.NewSelect().Model(&ns).Where("withdrawn_at IS NULL AND show_from <= ? AND ends_at > ?", now, now).
		Order("starts_at", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("current downtime notices: %w", err)
	}
	return ns, nil
}

// List returns the notices not yet over (upcoming ones too) and, apart, the past and withdrawn ones,
// the latest first.
func List(ctx context.Context, db bun.IDB, now time.Time) (upcoming, past []Notice, err error) {
	var ns []Notice
	if err := db.NewSelect().Model(&ns).Order("starts_at DESC", "id DESC").Limit(200).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("list downtime notices: %w", err)
	}
	for _, n := range ns {
		if n.WithdrawnAt.IsZero() && n.EndsAt.After(now) {
			upcoming = append(upcoming, n)
		} else {
			past = append(past, n)
		}
	}
	return upcoming, past, nil
}

// New is what an administrator enters.
type New struct {
	Kind     string
	Message  string
	StartsAt time.Time // an emergency starts now
	EndsAt   time.Time
	ShowDays int // days before the start that a planned notice is shown from
}

// Create records a notice, audited, and for planned downtime tells every active user who asked for
// such news (notify.EventDowntime is opt-in), in the same transaction.
func Create(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, in New) (*Notice, error) {
	in.Message = strings.TrimSpace(in.Message)
	if in.Message == "" {
		return nil, ErrMessageNeeded
	}
	n := &Notice{Kind: in.Kind, Message: in.Message, StartsAt: in.StartsAt, EndsAt: in.EndsAt, CreatedBy: actor.UserID, CreatedAt: now}
	switch in.Kind {
	case Emergency:
		n.StartsAt, n.ShowFrom = now, now
	case Planned:
		if !in.StartsAt.After(now) {
			return nil, ErrStartsInPast
		}
		n.ShowFrom = in.StartsAt.AddDate(0, 0, -in.ShowDays)
		if n.ShowFrom.Before(now) {
			n.ShowFrom = now
		}
	default:
		return nil, fmt.Errorf("notice kind %q", in.Kind)
	}
	if !n.EndsAt.After(n.StartsAt) {
		return nil, ErrEndsBeforeStart
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(n).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("insert notice: %w", err)
		}
		if n.Kind == Planned {
			var ids []int64
			if err := tx.NewRaw(`SELECT id FROM users WHERE status = 'active' ORDER BY id`).Scan(ctx, &ids); err != nil {
				return fmt.Errorf("users to tell: %w", err)
			}
			london, _ := time.LoadLocation("Europe/London")
			when := fmt.Sprintf("from %s to %s", n.StartsAt.In(london).Format("Monday 2 January 2006 at 3:04pm"), n.EndsAt.In(london).Format("Monday 2 January 2006 at 3:04pm"))
			msgs := make([]notify.Message, 0, len(ids))
			for _, id := range ids {
				msgs = append(msgs, notify.Message{UserID: id, Event: notify.EventDowntime, Title: "Planned downtime of the ESR Enhancement Portal " + when,
					Body: n.Message + "\n\nDuring this time you can read the portal but not change anything.", Link: "/downtime"})
			}
			if err := notify.Queue(ctx, tx, now, msgs...); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "downtime.announced", EntityType: "downtime_notice", EntityID: fmt.Sprint(n.ID),
			After: map[string]any{"kind": n.Kind, "message": n.Message, "starts_at": n.StartsAt, "ends_at": n.EndsAt, "show_from": n.ShowFrom}})
	})
	if err != nil {
		return nil, fmt.Errorf("announce downtime: %w", err)
	}
	return n, nil
}

// Withdraw takes a notice down (the downtime is called off or over early), audited.
func Withdraw(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, id int64) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`UPDATE downtime_notices SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL`, now, id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("withdraw notice %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists bool
			if err := tx.NewRaw(`SELECT EXISTS (SELECT 1 FROM downtime_notices WHERE id = ?)`, id).Scan(ctx, &exists); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if !exists {
				return fmt.Errorf("notice %d: %w", id, problem.ErrNotFound)
			}
			return nil
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "downtime.withdrawn", EntityType: "downtime_notice", EntityID: fmt.Sprint(id)})
	})
}
