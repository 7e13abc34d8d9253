package identity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// The reasons access is removed at once.
var RemovalReasons = []struct{ Key, Label string }{
	{"left_early", "Left earlier than planned"},
	{"investigation", "Under investigation"},
	{"disciplinary", "Disciplinary action"},
	{"role_changed", "No longer needs access in their new role"},
	{"other", "Another reason"},
}

// RemovalReasonLabel is the words for a removal reason's key, or "" for an unknown key.
func RemovalReasonLabel(key string) string {
	for _, r := range RemovalReasons {
		if r.Key == key {
			return r.Label
		}
	}
	return ""
}

// MayManage reports whether decider may set someone's leaving date or remove their access: an
// administrator for anyone but themselves, an access approver for the people of their organisation.
func MayManage(decider, u *User) error {
	switch {
	case decider.ID == u.ID:
		return ErrOwnGrant
	case decider.HasRole(RoleAdmin):
		return nil
	case decider.HasRole(RoleAccessApprover) && decider.OrganisationID == u.OrganisationID:
		return nil
	}
	return fmt.Errorf("user %d: %w", u.ID, problem.ErrNotFound)
}

// SetLeavingDate records the day someone leaves (zero to clear it), audited; their access ends on it.
func SetLeavingDate(ctx context.Context, db *bun.DB, actor audit.Actor, decider *User, now time.Time, userID int64, day time.Time) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		u, err := Get(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := MayManage(decider, u); err != nil {
			return err
		}
		var value any
		if !day.IsZero() {
			value = day.Format(time.DateOnly)
		}
		if _, err := tx.NewUpdate().Table("users").Set("leaving_date = ?", value).Set("version = version + 1").Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("set leaving date: %w", err)
		}
		before := ""
		if !u.LeavingDate.IsZero() {
			before = u.LeavingDate.Format(time.DateOnly)
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "user.leaving_date_set", EntityType: "user", EntityID: fmt.Sprint(userID),
			Before: map[string]any{"leaving_date": before}, After: map[string]any{"leaving_date": value}})
	})
}

// endAccess ends someone's access inside tx: status left, every session ended, audited. Nothing they
// wrote is touched.
func endAccess(ctx context.Context, tx bun.Tx, actor audit.Actor, now time.Time, userID int64, action, reason string) error {
	ended, err := endSessions(ctx, tx, userID)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: action, EntityType: "user", EntityID: fmt.Sprint(userID),
		After: map[string]any{"status": StatusLeft, "reason": reason, "devices_signed_out": ended}})
}

// RemoveAccessNow ends someone's access at once, with a reason, audited in one transaction.
func RemoveAccessNow(ctx context.Context, db *bun.DB, actor audit.Actor, decider *User, now time.Time, userID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ErrReasonNeeded
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		u, err := Get(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := MayManage(decider, u); err != nil {
			return err
		}
		return removeAccess(ctx, tx, actor, now, userID, reason)
	})
}

// removeAccess ends someone's access inside tx (unless it has ended already): status left, with when
// and why, every session ended, audited as user.access_removed. Removing access now and an access
// review's "remove" both come here.
func removeAccess(ctx context.Context, tx bun.Tx, actor audit.Actor, now time.Time, userID int64, reason string) error {
	res, err := tx.NewUpdate().Table("users").Set("status = ?", StatusLeft).Set("access_ended_at = ?", now).Set("access_ended_reason = ?", reason).
		Set("version = version + 1").Set("updated_at = ?", now).Where("id = ? AND status <> ?", userID, StatusLeft).Exec(ctx)
	if err != nil {
		return fmt.Errorf("remove access: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // already ended
	}
	return endAccess(ctx, tx, actor, now, userID, "user.access_removed", reason)
}

// EndLeavers ends the access of everyone whose leaving date has come (today in London), in one
// transaction with an audit event each. Every instance may run it: a row's update waits for another
// instance's, then finds it left already, so each leaver is ended once. It returns how many it ended.
func EndLeavers(ctx context.Context, db *bun.DB, now time.Time, london *time.Location) (int, error) {
	today := now.In(london).Format(time.DateOnly)
	var ids []int64
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(`UPDATE users SET status = ?, access_ended_at = ?, access_ended_reason = 'Leaving date reached',
			version = version + 1, updated_at = ? WHERE leaving_date <= ? AND status <> ? RETURNING id`,
			StatusLeft, now, now, today, StatusLeft).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("end leavers: %w", err)
		}
		for _, id := range ids {
			if err := endAccess(ctx, tx, audit.Actor{Name: "system (leaving dates)"}, now, id, "user.left", "Leaving date reached"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(ids), nil
}
