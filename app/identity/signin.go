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

var (
	// ErrInvalidCredentials is the one answer to a wrong email, a wrong password or a disabled
	// account, so that nobody can learn which accounts exist.
	ErrInvalidCredentials = errors.New("invalid email or password")
	// ErrThrottled is returned after too many failed sign-ins for an email address or from an IP
	// address, whether or not the account exists.
	ErrThrottled = errors.New("too many failed sign-ins")
)

// Throttle limits failed sign-ins within Window per email address typed and per IP address.
type Throttle struct {
	Window     time.Duration
	PerAccount int
	PerIP      int
}

// DefaultThrottle allows 5 failures an account and 20 an IP address in 15 minutes.
var DefaultThrottle = Throttle{Window: 15 * time.Minute, PerAccount: 5, PerIP: 20}

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

	throttled, err := isThrottled(ctx, db, now, th, emailLower, in.Client.IP)
	if err != nil {
		return "", nil, err
	}
	if throttled {
		if err := recordFailure(ctx, db, now, actor, emailLower, in.Client.IP, "throttled", false); err != nil {
			return "", nil, err
		}
		return "", nil, ErrThrottled
	}

	u, err := GetByEmail(ctx, db, emailLower)
	if errors.Is(err, problem.ErrNotFound) {
		// Spend the same time as a real check.
		if _, err := checkPassword(in.Password, dummyHash); err != nil {
			return "", nil, err
		}
		if err := recordFailure(ctx, db, now, actor, emailLower, in.Client.IP, "unknown account", true); err != nil {
			return "", nil, err
		}
		return "", nil, ErrInvalidCredentials
	}
	if err != nil {
		return "", nil, err
	}
	ok, err := checkPassword(in.Password, u.PasswordHash)
	if err != nil {
		return "", nil, err
	}
	if !ok || !u.Active() {
		reason := "wrong password"
		if ok {
			reason = "account disabled"
		}
		actor.UserID, actor.Name, actor.OrganisationID = u.ID, u.Name, u.OrganisationID
		if err := recordFailure(ctx, db, now, actor, emailLower, in.Client.IP, reason, true); err != nil {
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
		if token, err = createSession(ctx, tx, u.ID, now, in.Client); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Table("users").Set("last_sign_in_at = ?", now).Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("record sign-in time: %w", err)
		}
		if _, err := tx.NewDelete().Table("sign_in_failures").Where("email_lower = ?", emailLower).Exec(ctx); err != nil {
			return fmt.Errorf("clear sign-in failures: %w", err)
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

func isThrottled(ctx context.Context, db bun.IDB, now time.Time, th Throttle, emailLower, ip string) (bool, error) {
	since := now.Add(-th.Window)
	var perAccount, perIP int
	err := db.NewRaw(`SELECT
		count(*) FILTER (WHERE email_lower = ?),
		count(*) FILTER (WHERE ip = ?)
		FROM sign_in_failures WHERE attempted_at > ? AND (email_lower = ? OR ip = ?)`,
		emailLower, ip, since, emailLower, ip).Scan(ctx, &perAccount, &perIP)
	if err != nil {
		return false, fmt.Errorf("count sign-in failures: %w", err)
	}
	return perAccount >= th.PerAccount || perIP >= th.PerIP, nil
}

// recordFailure audits a failed sign-in and, unless it was refused by the throttle itself, counts it.
func recordFailure(ctx context.Context, db *bun.DB, now time.Time, actor audit.Actor, emailLower, ip, reason string, count bool) error {
	typed := emailLower
	if !strings.Contains(typed, "@") {
		// Someone may have typed their password into the email field: never keep that.
		typed = "[not an email address]"
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if count {
			if _, err := tx.NewRaw("INSERT INTO sign_in_failures (email_lower, ip, attempted_at) VALUES (?, ?, ?)",
				emailLower, ip, now).Exec(ctx); err != nil {
				return fmt.Errorf("record sign-in failure: %w", err)
			}
		}
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
