package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// Preference is how a user wants to hear about one event.
type Preference struct {
	Event string
	InApp bool // a notification in the portal
	Email bool // an email, straight away or in the daily digest
}

// Preferences returns whether the user gets emails in a daily digest, and their preference for every
// event in Events, in that order; an event they have not chosen about has both, or neither when it is
// opt-in.
func Preferences(ctx context.Context, db bun.IDB, userID int64) (digest bool, prefs []Preference, err error) {
	var stored []struct {
		Event string `bun:"event"`
		InApp bool   `bun:"in_app"`
		Email bool   `bun:"email"`
	}
	if err := db.NewSelect().Table("notification_preferences").Column("event", "in_app", "email").
		Where("user_id = ?", userID).Scan(ctx, &stored); err != nil {
		return false, nil, fmt.Errorf("notification preferences of user %d: %w", userID, err)
	}
	var digests []bool
	if err := db.NewSelect().Table("notification_settings").Column("email_digest").
		Where("user_id = ?", userID).Scan(ctx, &digests); err != nil {
		return false, nil, fmt.Errorf("notification settings of user %d: %w", userID, err)
	}
	prefs = make([]Preference, 0, len(Events))
	for _, e := range Events {
		p := Preference{Event: e.Key, InApp: !e.OptIn(), Email: !e.OptIn()}
		for _, s := range stored {
			if s.Event == e.Key {
				p.InApp, p.Email = s.InApp, s.Email
			}
		}
		prefs = append(prefs, p)
	}
	return len(digests) > 0 && digests[0], prefs, nil
}

// SavePreferences sets how a user wants their emails (digest: once a day) and their preferences for the
// events in prefs; events left out keep theirs. A change is audited as "notification.preferences_changed".
func SavePreferences(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, userID int64, digest bool, prefs []Preference) error {
	for _, p := range prefs {
		if _, ok := Event(p.Event); !ok {
			return fmt.Errorf("save notification preferences of user %d: unknown event %q", userID, p.Event)
		}
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		// Taking the user's row serialises two saves of the same user's settings.
		var one int
		err := tx.NewRaw("SELECT 1 FROM users WHERE id = ? FOR UPDATE", userID).Scan(ctx, &one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", userID, problem.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		beforeDigest, before, err := Preferences(ctx, tx, userID)
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO notification_settings (user_id, email_digest, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET email_digest = excluded.email_digest, updated_at = excluded.updated_at`,
			userID, digest, now.UTC()).Exec(ctx); err != nil {
			return fmt.Errorf("save digest setting: %w", err)
		}
		for _, p := range prefs {
			// The default is no row, so that a user who never chose follows the defaults.
			if e, _ := Event(p.Event); p.InApp == !e.OptIn() && p.Email == !e.OptIn() {
				_, err = tx.NewRaw("DELETE FROM notification_preferences WHERE user_id = ? AND event = ?", userID, p.Event).Exec(ctx)
			} else {
				_, err = tx.NewRaw(`INSERT INTO notification_preferences (user_id, event, in_app, email) VALUES (?, ?, ?, ?)
					ON CONFLICT (user_id, event) DO UPDATE SET in_app = excluded.in_app, email = excluded.email`,
					userID, p.Event, p.InApp, p.Email).Exec(ctx)
			}
			if err != nil {
				return fmt.Errorf("save preference for %s: %w", p.Event, err)
			}
		}
		afterDigest, after, err := Preferences(ctx, tx, userID)
		if err != nil {
			return err
		}
		b, a := auditView(beforeDigest, before), auditView(afterDigest, after)
		if maps.Equal(b, a) {
			return nil
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "notification.preferences_changed", EntityType: "user", EntityID: fmt.Sprint(userID),
			Before: b, After: a,
		})
	})
	if err != nil {
		return fmt.Errorf("save notification preferences of user %d: %w", userID, err)
	}
	return nil
}

// auditView is what the audit trail records of a user's notification settings, e.g.
// {"emails": "daily digest", "comment": "portal, email", "mention": "none"}.
func auditView(digest bool, prefs []Preference) map[string]string {
	v := map[string]string{"emails": "straight away"}
	if digest {
		v["emails"] = "daily digest"
	}
	for _, p := range prefs {
		switch {
		case p.InApp && p.Email:
			v[p.Event] = "portal, email"
		case p.InApp:
			v[p.Event] = "portal"
		case p.Email:
			v[p.Event] = "email"
		default:
			v[p.Event] = "none"
		}
	}
	return v
}
