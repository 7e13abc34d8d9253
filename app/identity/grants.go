package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

// Grant statuses.
const (
	GrantPending = "pending"
	GrantApplied = "applied"
	GrantRefused = "refused"
)

// Errors of authorising role changes.
var (
	ErrReasonNeeded   = errors.New("a reason is needed")
	ErrSameAdmin      = errors.New("a second administrator must authorise an elevated role")
	ErrNotApprover    = errors.New("not an approver for this person")
	ErrOwnGrant       = errors.New("nobody authorises their own access")
	ErrGrantDecided   = errors.New("the change has been decided already")
	ErrAlreadyPending = errors.New("a change of this role is waiting already")
)

// IsElevated reports whether role needs two administrators to grant and a second factor to use.
func IsElevated(role string) bool {
	for _, r := range Roles {
		if r.Name == role {
			return r.Elevated
		}
	}
	return false
}

// Grant is one change of someone's roles and how it was authorised.
type Grant struct {
	bun.BaseModel `bun:"table:role_grants,alias:g"`

	ID           int64     `bun:"id,pk,autoincrement"`
	UserID       int64     `bun:"user_id"`
	Role         string    `bun:"role"`
	Change       string    `bun:"change"`
	Status       string    `bun:"status"`
	Reason       string    `bun:"reason"`
	RequestedBy  string    `bun:"requested_by"`
	ProposedBy   int64     `bun:"proposed_by,nullzero"`
	AuthorisedBy int64     `bun:"authorised_by,nullzero"`
	DecisionNote string    `bun:"decision_note"`
	CreatedAt    time.Time `bun:"created_at"`
	DecidedAt    time.Time `bun:"decided_at,nullzero"`

	UserName         string `bun:"user_name,scanonly"`
	UserEmail        string `bun:"user_email,scanonly"`
	UserStatus       string `bun:"user_status,scanonly"`
	OrganisationID   int64  `bun:"organisation_id,scanonly"`
	OrganisationName string `bun:"organisation_name,scanonly"`
	ProposerName     string `bun:"proposer_name,scanonly"`
	AuthoriserName   string `bun:"authoriser_name,scanonly"`
}

func selectGrants(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).ColumnExpr("g.*").
		ColumnExpr("u.name AS user_name, u.email AS user_email, u.status AS user_status, u.organisation_id, o.name AS organisation_name").
		ColumnExpr("coalesce(pb.name, '') AS proposer_name, coalesce(ab.name, '') AS authoriser_name").
		Join("JOIN users AS u ON u.id = g.user_id").
		Join("JOIN organisations AS o ON o.id = u.organisation_id").
		Join("LEFT JOIN users AS pb ON pb.id = g.proposed_by").
		Join("LEFT JOIN users AS ab ON ab.id = g.authorised_by")
}

// History returns every change of the user's roles, the latest first.
func History(ctx context.Context, db bun.IDB, userID int64) ([]Grant, error) {
	var gs []Grant
	if err := selectGrants(db, &gs).Where("g.user_id = ?", userID).Order("g.created_at DESC", "g.id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("grant history of user %d: %w", userID, err)
	}
	return gs, nil
}

// PendingFor returns the changes waiting for the decider: for an administrator every one (those of
// elevated roles they did not propose themselves), for an access approver those of people in their
// organisation that are not elevated.
func PendingFor(ctx context.Context, db bun.IDB, decider *User) ([]Grant, error) {
	var gs []Grant
	q := selectGrants(db, &gs).Where("g.status = ?", GrantPending).Where("g.user_id <> ?", decider.ID)
	if !decider.HasRole(RoleAdmin) {
		q = q.Where("u.organisation_id = ?", decider.OrganisationID).Where("g.role NOT IN (?)", bun.List(ElevatedRoles()))
	}
	if err := q.Order("g.created_at", "g.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("pending grants: %w", err)
	}
	return gs, nil
}

// GetGrant returns one change of roles.
func GetGrant(ctx context.Context, db bun.IDB, id int64) (*Grant, error) {
	g := new(Grant)
	err := selectGrants(db, g).Where("g.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("grant %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get grant %d: %w", id, err)
	}
	return g, nil
}

// CanDecide reports whether decider may authorise or refuse g.
func CanDecide(decider *User, g *Grant) error {
	switch {
	case g.UserID == decider.ID:
		return ErrOwnGrant
	case IsElevated(g.Role) && !decider.HasRole(RoleAdmin):
		return ErrNotApprover
	case IsElevated(g.Role) && g.ProposedBy == decider.ID:
		return ErrSameAdmin
	case decider.HasRole(RoleAdmin):
		return nil
	case decider.HasRole(RoleAccessApprover) && decider.OrganisationID == g.OrganisationID:
		return nil
	}
	return ErrNotApprover
}

// RoleChange is what an administrator asks for when changing someone's roles.
type RoleChange struct {
	Reason      string
	RequestedBy string
}

// planGrants records the difference between the user's roles and want, as proposed by actor, inside tx.
// Taking roles away, and giving roles that are not elevated, happen now (the administrator authorises
// them); giving an elevated role waits for a second administrator. It returns the roles to hold now.
func planGrants(ctx context.Context, tx bun.Tx, actor audit.Actor, now time.Time, userID int64, have, want []string, rc RoleChange) ([]string, []string, error) {
	var now_ []string
	var pending []string
	for _, r := range have {
		now_ = append(now_, r)
		if slices.Contains(want, r) {
			continue
		}
		now_ = now_[:len(now_)-1]
		if err := insertGrant(ctx, tx, now, userID, r, "revoke", GrantApplied, rc, actor.UserID, actor.UserID); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range want {
		if slices.Contains(have, r) {
			continue
		}
		if IsElevated(r) {
			if err := insertGrant(ctx, tx, now, userID, r, "grant", GrantPending, rc, actor.UserID, 0); err != nil {
				return nil, nil, err
			}
			pending = append(pending, r)
			continue
		}
		if err := insertGrant(ctx, tx, now, userID, r, "grant", GrantApplied, rc, actor.UserID, actor.UserID); err != nil {
			return nil, nil, err
		}
		now_ = append(now_, r)
	}
	return sortRoles(now_), pending, nil
}

func insertGrant(ctx context.Context, tx bun.IDB, now time.Time, userID int64, role, change, status string, rc RoleChange, proposedBy, authorisedBy int64) error {
	reason := strings.TrimSpace(rc.Reason)
	if reason == "" {
		return ErrReasonNeeded
	}
	g := &Grant{UserID: userID, Role: role, Change: change, Status: status, Reason: reason, RequestedBy: strings.TrimSpace(rc.RequestedBy),
		ProposedBy: proposedBy, AuthorisedBy: authorisedBy, CreatedAt: now}
	if status != GrantPending {
		g.DecidedAt = now
	}
	_, err := tx.NewInsert().Model(g).Exec(ctx)
	if database.IsUniqueViolation(err, "role_grants_one_pending_key") {
		return ErrAlreadyPending
	}
	if err != nil {
		return fmt.Errorf("record %s of %s: %w", change, role, err)
	}
	return nil
}

// DecideGrant authorises (approve) or refuses a waiting change of someone's roles, with a note (needed
// to refuse), audited, and tells the person by email. Approving gives (or takes away) the role; a person
// whose account was waiting for this approval can then sign in. A refused request for access leaves the
// account disabled.
func DecideGrant(ctx context.Context, db *bun.DB, actor audit.Actor, decider *User, now time.Time, grantID int64, approve bool, note string) (*Grant, error) {
	note = strings.TrimSpace(note)
	if !approve && note == "" {
		return nil, ErrReasonNeeded
	}
	var g *Grant
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		var status string
		err := tx.NewSelect().Table("role_grants").Column("status").Where("id = ?", grantID).For("UPDATE").Scan(ctx, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("grant %d: %w", grantID, problem.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock grant %d: %w", grantID, err)
		}
		if g, err = GetGrant(ctx, tx, grantID); err != nil {
			return err
		}
		if status != GrantPending {
			return ErrGrantDecided
		}
		if err := CanDecide(decider, g); err != nil {
			return err
		}
		newStatus := GrantRefused
		if approve {
			newStatus = GrantApplied
		}
		if _, err := tx.NewUpdate().Table("role_grants").Set("status = ?", newStatus).Set("authorised_by = ?", decider.ID).
			Set("decision_note = ?", note).Set("decided_at = ?", now).Where("id = ?", grantID).Exec(ctx); err != nil {
			return fmt.Errorf("decide grant %d: %w", grantID, err)
		}
		wasPending := g.UserStatus == StatusPending
		if approve {
			if g.Change == "grant" {
				if _, err := tx.NewRaw("INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", g.UserID, g.Role, now).Exec(ctx); err != nil {
					return fmt.Errorf("grant role: %w", err)
				}
			} else if _, err := tx.NewDelete().Table("user_roles").Where("user_id = ? AND role = ?", g.UserID, g.Role).Exec(ctx); err != nil {
				return fmt.Errorf("revoke role: %w", err)
			}
		}
		if wasPending {
			next := StatusDisabled
			if approve {
				next = StatusActive
			}
			if _, err := tx.NewUpdate().Table("users").Set("status = ?", next).Set("version = version + 1").Set("updated_at = ?", now).
				Where("id = ? AND status = ?", g.UserID, StatusPending).Exec(ctx); err != nil {
				return fmt.Errorf("set status: %w", err)
			}
		}
		action := "user.role_refused"
		subject, body := "Your request for access to the ESR Enhancement Portal", ""
		if approve {
			action = "user.role_granted"
			if g.Change == "revoke" {
				action = "user.role_revoked"
			}
			body = fmt.Sprintf("%s has approved: you now have the %s role.", decider.Name, RoleTitle(g.Role))
			if wasPending {
				body += " You can now sign in."
			}
		} else {
			body = fmt.Sprintf("%s has not approved the %s role for you. Their reason: %s", decider.Name, RoleTitle(g.Role), note)
		}
		if g.Change == "grant" {
			if err := notify.SecurityEmail(ctx, tx, now, g.UserID, subject, body, "/"); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: action, EntityType: "user", EntityID: fmt.Sprint(g.UserID),
			After: map[string]any{"role": g.Role, "change": g.Change, "reason": g.Reason, "requested_by": g.RequestedBy,
				"proposed_by": g.ProposedBy, "authorised_by": decider.ID, "note": note},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("decide grant %d: %w", grantID, err)
	}
	return g, nil
}

// AccessRequestIn is someone asking for an account after their identity provider vouched for them.
type AccessRequestIn struct {
	Provider, Subject, Email string
	Name                     string
	OrganisationID           int64
	Reason                   string
	Client                   Client
	RequestID                string
}

// RequestAccess makes an account awaiting approval, linked to the provider's identity, with a request for
// the requester role for the organisation's access approvers (or, without one, the administrators) to
// decide, who are told; all in one transaction, audited. ErrEmailTaken if the address has an account.
func RequestAccess(ctx context.Context, db *bun.DB, now time.Time, in AccessRequestIn) (*User, error) {
	password, err := GeneratePassword()
	if err != nil {
		return nil, err
	}
	hash, err := HashPassword(ctx, password) // never told to anyone: they sign in with their provider
	if err != nil {
		return nil, err
	}
	u := &User{Email: strings.ToLower(strings.TrimSpace(in.Email)), Name: strings.TrimSpace(in.Name), OrganisationID: in.OrganisationID,
		Status: StatusPending, PasswordHash: hash, PasswordChangedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(u).Returning("id").Exec(ctx)
		if database.IsUniqueViolation(err, "users_email_lower_key") {
			return ErrEmailTaken
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if _, err := tx.NewRaw(`INSERT INTO user_identities (provider, subject, user_id, email, linked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)`,
			in.Provider, in.Subject, u.ID, u.Email, now, now).Exec(ctx); err != nil {
			return fmt.Errorf("link identity: %w", err)
		}
		if err := insertGrant(ctx, tx, now, u.ID, RoleRequester, "grant", GrantPending, RoleChange{Reason: in.Reason, RequestedBy: "themselves, after signing in with " + in.Provider}, u.ID, 0); err != nil {
			return err
		}
		var deciders []int64
		if err := tx.NewRaw(`SELECT u.id FROM users AS u JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?
			WHERE u.status = 'active' AND u.organisation_id = ? ORDER BY u.id`, RoleAccessApprover, in.OrganisationID).Scan(ctx, &deciders); err != nil {
			return fmt.Errorf("find approvers: %w", err)
		}
		if len(deciders) == 0 {
			if err := tx.NewRaw(`SELECT u.id FROM users AS u JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?
				WHERE u.status = 'active' ORDER BY u.id`, RoleAdmin).Scan(ctx, &deciders); err != nil {
				return fmt.Errorf("find administrators: %w", err)
			}
		}
		var msgs []notify.Message
		for _, id := range deciders {
			msgs = append(msgs, notify.Message{UserID: id, Event: notify.EventAccessRequest, Title: u.Name + " asks for access to the portal",
				Body: fmt.Sprintf("%s (%s) has asked for a requester account. Approve or refuse it on the access requests page.", u.Name, u.Email), Link: "/access-requests"})
		}
		if err := notify.Queue(ctx, tx, now, msgs...); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor:  audit.Actor{UserID: u.ID, Name: u.Name, OrganisationID: u.OrganisationID, IP: in.Client.IP, RequestID: in.RequestID},
			Action: "user.access_requested", EntityType: "user", EntityID: fmt.Sprint(u.ID),
			After: map[string]any{"email": u.Email, "name": u.Name, "organisation_id": u.OrganisationID, "provider": in.Provider, "role": RoleRequester, "reason": in.Reason},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("request access for %s: %w", in.Email, err)
	}
	return u, nil
}
