package identity

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
	"github.com/nhs-esr/portal/app/problem"
)

// ErrNoAccount is an identity provider's sign-in for someone the portal has no account for.
var ErrNoAccount = errors.New("no account for this identity")

// ErrNotActive is a sign-in for an account that may not sign in: disabled, awaiting approval, left or
// suspended. Its Status says which.
type ErrNotActive struct{ Status string }

func (e ErrNotActive) Error() string { return "account is " + e.Status }

// ExternalSignIn is a sign-in that an identity provider vouched for.
type ExternalSignIn struct {
	Provider, Subject, Email string
	// SecondFactor: the provider showed that it checked a second factor.
	SecondFactor  bool
	Client        Client
	RequestID     string
	PreviousToken string
}

// SignInExternal signs in the account linked to the provider's subject or, the first time, the account
// with the provider's verified email address, which it links (audited). The session counts as having
// passed its second factor when the provider showed one. It returns ErrNoAccount when neither is found,
// and ErrNotActive for an account that may not sign in.
func SignInExternal(ctx context.Context, db *bun.DB, now time.Time, in ExternalSignIn) (string, *User, error) {
	actor := audit.Actor{Name: "anonymous", IP: in.Client.IP, RequestID: in.RequestID}
	var token string
	var u *User
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		var userID int64
		err := tx.NewRaw(`UPDATE user_identities SET last_used_at = ? WHERE provider = ? AND subject = ? RETURNING user_id`,
			now, in.Provider, in.Subject).Scan(ctx, &userID)
		linked := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find identity: %w", err)
		}
		if linked {
			u, err = Get(ctx, tx, userID)
		} else {
			u, err = GetByEmail(ctx, tx, in.Email)
		}
		if errors.Is(err, problem.ErrNotFound) {
			return ErrNoAccount
		}
		if err != nil {
			return err
		}
		actor.UserID, actor.Name, actor.OrganisationID = u.ID, u.Name, u.OrganisationID
		if !u.Active() {
			return ErrNotActive{Status: u.Status}
		}
		if !linked {
			if _, err := tx.NewRaw(`INSERT INTO user_identities (provider, subject, user_id, email, linked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)`,
				in.Provider, in.Subject, u.ID, strings.ToLower(in.Email), now, now).Exec(ctx); err != nil {
				return fmt.Errorf("link identity: %w", err)
			}
			if err := audit.Record(ctx, tx, now, audit.Event{
				Actor: actor, Action: "user.identity_linked", EntityType: "user", EntityID: fmt.Sprint(u.ID),
				After: map[string]any{"provider": in.Provider, "email": strings.ToLower(in.Email)},
			}); err != nil {
				return err
			}
		}
		if in.PreviousToken != "" {
			if _, err := tx.NewDelete().Table("sessions").Where("token_hash = ?", hashToken(in.PreviousToken)).Exec(ctx); err != nil {
				return fmt.Errorf("end previous session: %w", err)
			}
		}
		var passed Passed
		if in.SecondFactor {
			passed = PassedNow(now, "oidc:"+in.Provider)
		}
		if token, err = createSession(ctx, tx, u.ID, now, in.Client, passed); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Table("users").Set("last_sign_in_at = ?", now).Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("record sign-in time: %w", err)
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "session.signed_in", EntityType: "user", EntityID: fmt.Sprint(u.ID),
			After: map[string]any{"method": "oidc", "provider": in.Provider, "second_factor": in.SecondFactor},
		})
	})
	var notActive ErrNotActive
	if errors.As(err, &notActive) || errors.Is(err, ErrNoAccount) {
		if aerr := recordFailure(ctx, db, now, actor, strings.ToLower(in.Email), "single sign-on: "+err.Error()); aerr != nil {
			return "", nil, aerr
		}
		return "", nil, err
	}
	if err != nil {
		return "", nil, fmt.Errorf("sign in with %s: %w", in.Provider, err)
	}
	u.LastSignInAt = now
	return token, u, nil
}
