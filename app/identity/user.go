package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// User statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
	// StatusPending is an account asked for after single sign-on, awaiting the organisation's access
	// approver.
	StatusPending = "pending"
	// StatusLeft is someone whose access ended when they left (or was removed at once).
	StatusLeft = "left"
	// StatusSuspended is an account an access review did not confirm in time, until someone does.
	StatusSuspended = "suspended"
)

// ErrEmailTaken is returned when another user already has the email address (whatever its case).
var ErrEmailTaken = errors.New("email address already used by another user")

// User is a person who signs in to the portal.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID                 int64     `bun:"id,pk,autoincrement"`
	Email              string    `bun:"email"`
	Name               string    `bun:"name"`
	OrganisationID     int64     `bun:"organisation_id"`
	Status             string    `bun:"status"`
	PasswordHash       string    `bun:"password_hash"`
	PasswordChangedAt  time.Time `bun:"password_changed_at"`
	MustChangePassword bool      `bun:"must_change_password"`
	LastSignInAt       time.Time `bun:"last_sign_in_at,nullzero"`
	LeavingDate        time.Time `bun:"leaving_date,nullzero"`
	AccessEndedAt      time.Time `bun:"access_ended_at,nullzero"`
	AccessEndedReason  string    `bun:"access_ended_reason"`
	Version            int       `bun:"version"`
	CreatedAt          time.Time `bun:"created_at"`
	UpdatedAt          time.Time `bun:"updated_at"`

	// Read with the user, never written through this struct.
	OrganisationName string   `bun:"organisation_name,scanonly"`
	OrganisationODS  string   `bun:"organisation_ods,scanonly"`
	RegionID         int16    `bun:"region_id,scanonly"`
	RegionName       string   `bun:"region_name,scanonly"`
	Roles            []string `bun:"roles,array,scanonly"`
	// NSIGIDs are the NSIGs whose requests the user reviews as an NSIG member; NSIGsRead says they were
	// read with the user (by every query that reads users in full).
	NSIGIDs   []int64 `bun:"nsig_ids,array,scanonly"`
	NSIGsRead bool    `bun:"nsigs_read,scanonly"`
	// TwoFactor says the user has a confirmed authenticator.
	TwoFactor bool `bun:"two_factor,scanonly"`
	// PendingRoles are elevated roles just asked for that wait for a second administrator (set by
	// Create and Update only).
	PendingRoles []string `bun:"-"`
	// Unread is how many notifications the user has not read, read with their session for the header:
	// counted up to UnreadCap, which it is for any number from there on.
	Unread int `bun:"unread,scanonly"`
}

// HasRole reports whether the user holds role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Active reports whether the user may sign in.
func (u *User) Active() bool { return u.Status == StatusActive }

// auditView is what the audit trail records of a user: never the password hash.
func (u *User) auditView() map[string]any {
	return map[string]any{
		"email":           u.Email,
		"name":            u.Name,
		"organisation_id": u.OrganisationID,
		"status":          u.Status,
		"roles":           u.Roles,
	}
}

func selectUsers(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).
		ColumnExpr("u.*").
		ColumnExpr("o.name AS organisation_name, o.ods_code AS organisation_ods").
		ColumnExpr("r.id AS region_id, r.name AS region_name").
		ColumnExpr("ARRAY(SELECT ur.role FROM user_roles AS ur JOIN roles AS rl ON rl.name = ur.role WHERE ur.user_id = u.id ORDER BY rl.sort_order) AS roles").
		ColumnExpr("ARRAY(SELECT un.nsig_id FROM user_nsigs AS un WHERE un.user_id = u.id ORDER BY un.nsig_id) AS nsig_ids, true AS nsigs_read").
		ColumnExpr("EXISTS (SELECT 1 FROM totp_factors AS tf WHERE tf.user_id = u.id AND tf.confirmed_at IS NOT NULL) AS two_factor").
		Join("JOIN organisations AS o ON o.id = u.organisation_id").
		Join("JOIN regions AS r ON r.id = o.region_id")
}

// Get returns the user with id, with their organisation and roles.
func Get(ctx context.Context, db bun.IDB, id int64) (*User, error) {
	u := new(User)
	err := selectUsers(db, u).Where("u.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("user %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// GetByEmail returns the user with the email address, whatever its case.
func GetByEmail(ctx context.Context, db bun.IDB, email string) (*User, error) {
	u := new(User)
	err := selectUsers(db, u).Where("lower(u.email) = lower(?)", strings.TrimSpace(email)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("user %q: %w", email, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get user by email: %w", err)
	}
	return u, nil
}

// Filter narrows a list of users.
type Filter struct {
	Query          string // part of the name or email
	Role           string
	Status         string
	OrganisationID int64
	Limit, Offset  int
}

// List returns the users that match f, by name, and how many match in all.
func List(ctx context.Context, db bun.IDB, f Filter) ([]User, int, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var us []User
	q := selectUsers(db, &us)
	if s := strings.TrimSpace(f.Query); s != "" {
		like := "%" + escapeLike(s) + "%"
		q = q.Where("(u.name ILIKE ? OR u.email ILIKE ?)", like, like)
	}
	if f.Role != "" {
		q = q.Where("EXISTS (SELECT 1 FROM user_roles AS ur WHERE ur.user_id = u.id AND ur.role = ?)", f.Role)
	}
	if f.Status != "" {
		q = q.Where("u.status = ?", f.Status)
	}
	if f.OrganisationID != 0 {
		q = q.Where("u.organisation_id = ?", f.OrganisationID)
	}
	n, err := q.Order("u.name", "u.id").Limit(int64(f.Limit)).Offset(int64(f.Offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return us, int(n), nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Holders returns the active users who hold a role, by name, for choosing one of them.
func Holders(ctx context.Context, db bun.IDB, role string) ([]User, error) {
	var us []User
	err := db.NewSelect().Model(&us).Column("u.id", "u.name", "u.email").
		Where("u.status = ?", StatusActive).
		Where("EXISTS (SELECT 1 FROM user_roles AS ur WHERE ur.user_id = u.id AND ur.role = ?)", role).
		Order("u.name", "u.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list holders of %s: %w", role, err)
	}
	return us, nil
}

// NewUser is what is needed to create a user.
type NewUser struct {
	Email          string
	Name           string
	OrganisationID int64
	Roles          []string
	Password       string
	// MustChangePassword makes the user choose a new password when they first sign in.
	MustChangePassword bool
	// Grant is how an administrator in the portal authorised the roles: elevated ones then wait for a
	// second administrator (see planGrants). Nil gives the roles at once, for the operator's command
	// line and the demo data, and records them as given when the account was made.
	Grant *RoleChange
	// Status is the new account's status; "" is active.
	Status string
}

// Create adds a user with their roles, audited, in one transaction.
func Create(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, in NewUser) (*User, error) {
	if err := checkRoles(in.Roles); err != nil {
		return nil, err
	}
	hash, err := HashPassword(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	status := in.Status
	if status == "" {
		status = StatusActive
	}
	u := &User{
		Email:              strings.TrimSpace(in.Email),
		Name:               strings.TrimSpace(in.Name),
		OrganisationID:     in.OrganisationID,
		Status:             status,
		PasswordHash:       hash,
		PasswordChangedAt:  now,
		MustChangePassword: in.MustChangePassword,
		Version:            1,
		CreatedAt:          now,
		UpdatedAt:          now,
		Roles:              sortRoles(in.Roles),
	}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(u).Returning("id").Exec(ctx)
		if database.IsUniqueViolation(err, "users_email_lower_key") {
			return ErrEmailTaken
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if in.Grant != nil {
			var pending []string
			if u.Roles, pending, err = planGrants(ctx, tx, actor, now, u.ID, nil, u.Roles, *in.Grant); err != nil {
				return err
			}
			u.PendingRoles = pending
		} else {
			for _, r := range u.Roles {
				if err := insertGrant(ctx, tx, now, u.ID, r, "grant", GrantApplied, RoleChange{Reason: "Given when the account was made by " + actor.Name}, 0, 0); err != nil {
					return err
				}
			}
		}
		if err := setRoles(ctx, tx, u.ID, u.Roles, now); err != nil {
			return err
		}
		view := u.auditView()
		view["roles_awaiting_second_administrator"] = u.PendingRoles
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "user.created", EntityType: "user", EntityID: fmt.Sprint(u.ID),
			After: view,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", in.Email, err)
	}
	return u, nil
}

// Changes are the details of a user that an administrator edits.
type Changes struct {
	Name           string
	Email          string
	OrganisationID int64
	Roles          []string
	// Grant is why the roles change and who asked; needed when they do.
	Grant RoleChange
}

// Update changes a user's details and roles if the user is still at version; otherwise it returns
// problem.ErrConflict. Role changes are audited as their own event.
func Update(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, id int64, version int, in Changes) (*User, error) {
	if err := checkRoles(in.Roles); err != nil {
		return nil, err
	}
	var after *User
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		before, err := lockForChange(ctx, tx, id, version)
		if err != nil {
			return err
		}
		res, err := tx.NewUpdate().Table("users").
			Set("name = ?", strings.TrimSpace(in.Name)).
			Set("email = ?", strings.TrimSpace(in.Email)).
			Set("organisation_id = ?", in.OrganisationID).
			Set("version = version + 1").
			Set("updated_at = ?", now).
			Where("id = ? AND version = ?", id, version).
			Exec(ctx)
		if database.IsUniqueViolation(err, "users_email_lower_key") {
			return ErrEmailTaken
		}
		if err := expectOneRow(res, err, id); err != nil {
			return err
		}
		var roles, pending []string
		if sameRoles(before.Roles, sortRoles(in.Roles)) {
			roles = before.Roles
		} else if roles, pending, err = planGrants(ctx, tx, actor, now, id, before.Roles, sortRoles(in.Roles), in.Grant); err != nil {
			return err
		}
		if err := setRoles(ctx, tx, id, roles, now); err != nil {
			return err
		}
		after, err = Get(ctx, tx, id)
		if err != nil {
			return err
		}
		after.PendingRoles = pending
		if before.Name != after.Name || before.Email != after.Email || before.OrganisationID != after.OrganisationID {
			if err := audit.Record(ctx, tx, now, audit.Event{
				Actor: actor, Action: "user.updated", EntityType: "user", EntityID: fmt.Sprint(id),
				Before: before.auditView(), After: after.auditView(),
			}); err != nil {
				return err
			}
		}
		if !sameRoles(before.Roles, after.Roles) || len(pending) > 0 {
			if err := audit.Record(ctx, tx, now, audit.Event{
				Actor: actor, Action: "user.roles_changed", EntityType: "user", EntityID: fmt.Sprint(id),
				Before: map[string]any{"roles": before.Roles}, After: map[string]any{"roles": after.Roles, "roles_awaiting_second_administrator": pending, "reason": strings.TrimSpace(in.Grant.Reason)},
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	return after, nil
}

// SetStatus disables or re-enables a user. Disabling ends every one of the user's sessions at once.
func SetStatus(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, id int64, version int, status string) error {
	if status != StatusActive && status != StatusDisabled {
		return fmt.Errorf("set status of user %d: unknown status %q", id, status)
	}
	if status == StatusDisabled && actor.UserID == id {
		return fmt.Errorf("disable user %d: you cannot disable your own account: %w", id, problem.ErrForbidden)
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		before, err := lockForChange(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if before.Status == status {
			return nil
		}
		res, err := tx.NewUpdate().Table("users").
			Set("status = ?", status).Set("version = version + 1").Set("updated_at = ?", now).
			Where("id = ? AND version = ?", id, version).Exec(ctx)
		if err := expectOneRow(res, err, id); err != nil {
			return err
		}
		ended := 0
		if status == StatusDisabled {
			if ended, err = endSessions(ctx, tx, id); err != nil {
				return err
			}
		}
		action := "user.disabled"
		if status == StatusActive {
			action = "user.enabled"
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: action, EntityType: "user", EntityID: fmt.Sprint(id),
			Before: map[string]any{"status": before.Status},
			After:  map[string]any{"status": status, "devices_signed_out": ended},
		})
	})
	if err != nil {
		return fmt.Errorf("set status of user %d: %w", id, err)
	}
	return nil
}

// ResetPassword gives the user a new generated password, which they must change when they next sign
// in, and ends their sessions. It returns the password to pass on to the user; it is stored nowhere.
func ResetPassword(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, id int64, version int) (string, error) {
	password, err := GeneratePassword()
	if err != nil {
		return "", err
	}
	hash, err := HashPassword(ctx, password)
	if err != nil {
		return "", err
	}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockForChange(ctx, tx, id, version); err != nil {
			return err
		}
		res, err := tx.NewUpdate().Table("users").
			Set("password_hash = ?", hash).Set("password_changed_at = ?", now).
			Set("must_change_password = true").
			Set("version = version + 1").Set("updated_at = ?", now).
			Where("id = ? AND version = ?", id, version).Exec(ctx)
		if err := expectOneRow(res, err, id); err != nil {
			return err
		}
		ended, err := endSessions(ctx, tx, id)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "user.password_reset", EntityType: "user", EntityID: fmt.Sprint(id),
			After: map[string]any{"must_change": true, "devices_signed_out": ended},
		})
	})
	if err != nil {
		return "", fmt.Errorf("reset password of user %d: %w", id, err)
	}
	return password, nil
}

// ErrWrongPassword is returned when the current password given to ChangePassword is wrong.
var ErrWrongPassword = errors.New("current password is wrong")

// ChangePassword sets a user's own new password after checking the current one, ends all of the
// user's sessions and starts a new one for the browser that made the change, whose token it returns.
// The check of the current password is throttled as a sign-in is (it guesses at the same secret) and
// a wrong or refused one is audited; it returns ErrWrongPassword or ErrThrottled.
//
// The new session keeps the second factor passed carries over from the one that made the change. A user
// who must change a password they were given has just proved it by signing in with it: for them
// current is not asked (set first).
func ChangePassword(ctx context.Context, db *bun.DB, th Throttle, actor audit.Actor, now time.Time, userID int64, current, next string, client Client, passed Passed, first bool) (string, error) {
	u, err := Get(ctx, db, userID)
	if err != nil {
		return "", err
	}
	failed := func(reason string, cause error) (string, error) {
		err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
			return audit.Record(ctx, tx, now, audit.Event{
				Actor: actor, Action: "user.password_check_failed", EntityType: "user", EntityID: fmt.Sprint(userID),
				After: map[string]any{"reason": reason},
			})
		})
		if err != nil {
			return "", fmt.Errorf("audit password check of user %d: %w", userID, err)
		}
		return "", cause
	}
	var att *attempt
	if !(first && u.MustChangePassword) {
		att, err = th.claim(ctx, db, now, AttemptPassword, strings.ToLower(u.Email), client.IP)
		if errors.Is(err, ErrThrottled) {
			return failed("throttled", ErrThrottled)
		}
		if err != nil {
			return "", err
		}
		ok, err := checkPassword(ctx, current, u.PasswordHash)
		if err != nil {
			return "", err
		}
		if !ok {
			return failed("wrong password", ErrWrongPassword)
		}
	}
	hash, err := HashPassword(ctx, next)
	if err != nil {
		return "", err
	}
	var token string
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Table("users").
			Set("password_hash = ?", hash).Set("password_changed_at = ?", now).
			Set("must_change_password = false").
			Set("version = version + 1").Set("updated_at = ?", now).
			Where("id = ?", userID)
		if att == nil {
			q = q.Where("must_change_password") // only once, without the current password
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("password of user %d changed meanwhile: %w", userID, problem.ErrConflict)
		}
		ended, err := endSessions(ctx, tx, userID)
		if err != nil {
			return err
		}
		if token, err = createSession(ctx, tx, userID, now, client, passed); err != nil {
			return err
		}
		if att != nil {
			if err := att.succeeded(ctx, tx); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "user.password_changed", EntityType: "user", EntityID: fmt.Sprint(userID),
			After: map[string]any{"devices_signed_out": ended},
		})
	})
	if err != nil {
		return "", fmt.Errorf("change password of user %d: %w", userID, err)
	}
	return token, nil
}

// lockForChange reads the user for update and checks that the form was made from the current version.
func lockForChange(ctx context.Context, tx bun.Tx, id int64, version int) (*User, error) {
	var current int
	err := tx.NewSelect().Table("users").Column("version").Where("id = ?", id).For("UPDATE").Scan(ctx, &current)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("user %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lock user %d: %w", id, err)
	}
	if current != version {
		return nil, fmt.Errorf("user %d is at version %d, not %d: %w", id, current, version, problem.ErrConflict)
	}
	return Get(ctx, tx, id)
}

func expectOneRow(res sql.Result, err error, id int64) error {
	if err != nil {
		return fmt.Errorf("update user %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update user %d: %w", id, err)
	}
	if n != 1 {
		return fmt.Errorf("user %d changed meanwhile: %w", id, problem.ErrConflict)
	}
	return nil
}

func setRoles(ctx context.Context, tx bun.Tx, userID int64, roles []string, now time.Time) error {
	if _, err := tx.NewDelete().Table("user_roles").Where("user_id = ?", userID).
		Where("role NOT IN (?)", bun.List(append([]string{""}, roles...))).Exec(ctx); err != nil {
		return fmt.Errorf("remove roles of user %d: %w", userID, err)
	}
	for _, r := range roles {
		if _, err := tx.NewRaw("INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			userID, r, now).Exec(ctx); err != nil {
			return fmt.Errorf("grant role %s to user %d: %w", r, userID, err)
		}
	}
	return nil
}

func checkRoles(roles []string) error {
	for _, r := range roles {
		if !IsRole(r) {
			return fmt.Errorf("unknown role %q", r)
		}
	}
	return nil
}

// sortRoles returns the distinct roles in the order of Roles.
func sortRoles(roles []string) []string {
	order := map[string]int{}
	for i, r := range Roles {
		order[r.Name] = i
	}
	seen := map[string]bool{}
	out := []string{}
	for _, r := range roles {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}

func sameRoles(a, b []string) bool {
	a, b = sortRoles(a), sortRoles(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
