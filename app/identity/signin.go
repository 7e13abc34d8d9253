package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// ErrInvalidCredentials is the one answer to a wrong email, a wrong password or a disabled account, so
// that nobody can learn which accounts exist.
var ErrInvalidCredentials = errors.New("invalid email or password")

// SignInRequest is one attempt to sign in.
type SignInRequest struct {
	Email     string
	Password  string
	Client    Client
	RequestID string
	// PreviousToken is the browser's session token before sign-in, if any: it is ended so that
	// every sign-in starts a new session id.
	PreviousToken string
}

// SignIn checks the email and password and, when they are right and the account is active, starts a
// new session and returns its token with the user. Every outcome is audited.
func SignIn(ctx context.Context, db *bun.DB, now time.Time, th Throttle, in SignInRequest) (string, *User, error) {
	emailLower := strings.ToLower(strings.TrimSpace(in.Email))
	actor := audit.Actor{Name: "anonymous", IP: in.Client.IP, RequestID: in.RequestID}

	// The attempt is counted before any password is checked, so that parallel attempts cannot check
	// more than the throttle allows.
	att, err := th.claim(ctx, db, now, AttemptPassword, emailLower, in.Client.IP)
	if errors.Is(err, ErrThrottled) {
		if err := recordFailure(ctx, db, now, actor, emailLower, "throttled"); err != nil {
			return "", nil, err
		}
		return "", nil, ErrThrottled
	}
	if err != nil {
		return "", nil, err
	}

	u, err := GetByEmail(ctx, db, emailLower)
	if errors.Is(err, problem.ErrNotFound) {
		// Spend the same time as a real check.
		if _, err := checkPassword(ctx, in.Password, dummyHash); err != nil {
			return "", nil, err
		}
		if err := recordFailure(ctx, db, now, actor, emailLower, "unknown account"); err != nil {
			return "", nil, err
		}
		return "", nil, ErrInvalidCredentials
	}
	if err != nil {
		return "", nil, err
	}
	ok, err := checkPassword(ctx, in.Password, u.PasswordHash)
	if err != nil {
		return "", nil, err
	}
	if !ok || !u.Active() {
		reason := "wrong password"
		if ok {
			reason = "account disabled"
		}
		actor.UserID, actor.Name, actor.OrganisationID = u.ID, u.Name, u.OrganisationID
		if err := recordFailure(ctx, db, now, actor, emailLower, reason); err != nil {
			return "", nil, err
		}
		return "", nil, ErrInvalidCredentials
	}

	var token string
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if in.PreviousToken != "" {
			if _, err := tx.NewDelete().Table("sessions").Where("token_hash = ?", hashToken(in.PreviousToken)).Exec(ctx); err != nil {
				return fmt.Errorf("end previous session: %w", err)
			}
		}
		if token, err = createSession(ctx, tx, u.ID, now, in.Client, Passed{}); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Table("users").Set("last_sign_in_at = ?", now).Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("record sign-in time: %w", err)
		}
		if err := att.succeeded(ctx, tx); err != nil {
			return err
		}
		actor.UserID, actor.Name, actor.OrganisationID = u.ID, u.Name, u.OrganisationID
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "session.signed_in", EntityType: "user", EntityID: fmt.Sprint(u.ID),
		})
	})
	if err != nil {
		return "", nil, fmt.Errorf("sign in user %d: %w", u.ID, err)
	}
	u.LastSignInAt = now
	return token, u, nil
}

// recordFailure audits a failed sign-in (the throttle has already counted it, or refused it).
func recordFailure(ctx context.Context, db *bun.DB, now time.Time, actor audit.Actor, emailLower, reason string) error {
	typed := emailLower
	if !strings.Contains(typed, "@") {
		// Someone may have typed their password into the email field: never keep that.
		typed = "[not an email address]"
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		entityID := ""
		if actor.UserID != 0 {
			entityID = fmt.Sprint(actor.UserID)
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "session.sign_in_failed", EntityType: "user", EntityID: entityID,
			After: map[string]any{"email": typed, "reason": reason},
		})
	})
}
