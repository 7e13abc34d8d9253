package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// ErrNoSession is returned for a token that names no live session: unknown, expired, or its user
// disabled.
var ErrNoSession = errors.New("no live session")

// SessionPolicy bounds how long a session lives: Idle since the last request, Absolute since sign-in.
type SessionPolicy struct {
	Idle     time.Duration
	Absolute time.Duration
}

// Client is the browser a session belongs to.
type Client struct {
	IP        string
	UserAgent string
}

// Session is a signed-in browser.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	TokenHash  []byte    `bun:"token_hash,pk"`
	ID         int64     `bun:"id,scanonly"`
	UserID     int64     `bun:"user_id"`
	CreatedAt  time.Time `bun:"created_at"`
	LastSeenAt time.Time `bun:"last_seen_at"`
	IP         string    `bun:"ip"`
	UserAgent  string    `bun:"user_agent"`
	// VerifiedAt is when the session passed its second factor (zero: not yet), VerifiedBy how.
	VerifiedAt time.Time `bun:"verified_at,nullzero"`
	VerifiedBy string    `bun:"verified_by"`
	// Snapshot is the database snapshot the session was read in (pg_current_snapshot): two reads with
	// the same snapshot see the same rows, so what was built from the database under it may be reused
	// while it lasts (see the portal's content cache).
	Snapshot string `bun:"-"`
}

// Verified reports whether the session has passed a second factor.
func (s *Session) Verified() bool { return !s.VerifiedAt.IsZero() }

// Fresh reports whether the session passed its second factor within FreshFor of now.
func (s *Session) Fresh(now time.Time) bool { return s.Verified() && now.Sub(s.VerifiedAt) < FreshFor }

// touchEvery is how stale last_seen_at may get before a request writes it again; it bounds the
// writes a busy user causes while keeping the idle timeout accurate to the minute.
const touchEvery = time.Minute

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Passed is a second factor a session has passed: when, and how ("" for none).
type Passed struct {
	At time.Time
	By string
}

// PassedNow is a second factor passed now, in the way named by.
func PassedNow(now time.Time, by string) Passed { return Passed{At: now, By: by} }

// StartSession starts a session for a user without a password check, for callers that have already
// established who the user is, and returns its token. passed is the second factor the caller
// established too (the zero Passed for none).
func StartSession(ctx context.Context, db bun.IDB, userID int64, now time.Time, c Client, passed Passed) (string, error) {
	return createSession(ctx, db, userID, now, c, passed)
}

func createSession(ctx context.Context, db bun.IDB, userID int64, now time.Time, c Client, passed Passed) (string, error) {
	token, err := newToken()
	if err != nil {
		return "", err
	}
	ua := c.UserAgent
	if len(ua) > 300 {
		ua = ua[:300]
	}
	s := &Session{TokenHash: hashToken(token), UserID: userID, CreatedAt: now, LastSeenAt: now, IP: c.IP, UserAgent: ua}
	if passed.By != "" {
		s.VerifiedAt, s.VerifiedBy = passed.At, passed.By
	}
	if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// UnreadCap is as far as the session lookup counts unread notifications; the header says "99+" from 100.
const UnreadCap = 100

// lookupSQL is Lookup's statement.
var lookupSQL database.FixedSQL

// Lookup returns the live session for token and its user. An expired session is removed; a session
// whose user is disabled does not count.
func Lookup(ctx context.Context, db bun.IDB, token string, now time.Time, p SessionPolicy) (*Session, *User, error) {
	if token == "" {
		return nil, nil, ErrNoSession
	}
	var row struct {
		User       `bun:",extend"`
		STokenHash []byte    `bun:"s_token_hash"`
		SCreatedAt time.Time `bun:"s_created_at"`
		SLastSeen  time.Time `bun:"s_last_seen_at"`
		SIP        string    `bun:"s_ip"`
		SUserAgent string    `bun:"s_user_agent"`
		SID        int64     `bun:"s_id"`
		SVerified  time.Time `bun:"s_verified_at,nullzero"`
		SVerifyBy  string    `bun:"s_verified_by"`
		SSnapshot  string    `bun:"s_snapshot"`
	}
	// One statement, the same text every time with the token's hash as its parameter, planned once a
	// connection: who is visiting is needed by every page.
	text := lookupSQL.Text(func() string {
		return selectUsers(db, &row).
			ColumnExpr("s.token_hash AS s_token_hash, s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, s.ip AS s_ip, s.user_agent AS s_user_agent, s.verified_at AS s_verified_at, s.verified_by AS s_verified_by, s.id AS s_id").
			ColumnExpr("pg_current_snapshot()::text AS s_snapshot").
			// Counted only as far as the header shows: someone with thousands unread would otherwise
			// wait for them all to be counted on every page.
			ColumnExpr("(SELECT count(*) FROM (SELECT FROM notifications AS nt WHERE nt.user_id = u.id AND nt.in_app AND nt.read_at IS NULL LIMIT ?) AS nt) AS unread", UnreadCap).
			Join("JOIN sessions AS s ON s.user_id = u.id").
			Where("s.token_hash = ?", bun.Safe("?0")).String()
	})
	err := database.ScanPrepared(ctx, db, text, &row, hashToken(token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up session: %w", err)
	}
	s := &Session{TokenHash: row.STokenHash, UserID: row.ID, CreatedAt: row.SCreatedAt, LastSeenAt: row.SLastSeen, IP: row.SIP, UserAgent: row.SUserAgent,
		VerifiedAt: row.SVerified, VerifiedBy: row.SVerifyBy, ID: row.SID, Snapshot: row.SSnapshot}
	if now.Sub(s.LastSeenAt) > p.Idle || now.Sub(s.CreatedAt) > p.Absolute {
		if _, err := db.NewDelete().Model(s).WherePK().Exec(ctx); err != nil {
			return nil, nil, fmt.Errorf("remove expired session: %w", err)
		}
		return nil, nil, ErrNoSession
	}
	u := &row.User
	if !u.Active() {
		return nil, nil, ErrNoSession
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		if _, err := db.NewUpdate().Model(s).WherePK().Set("last_seen_at = ?", now).Exec(ctx); err != nil {
			return nil, nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return s, u, nil
}

// SignOut ends the session for token, audited.
func SignOut(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, token string) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Table("sessions").Where("token_hash = ?", hashToken(token)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "session.signed_out", EntityType: "user", EntityID: fmt.Sprint(actor.UserID),
		})
	})
}

// endSessions removes every session of a user and says how many there were.
func endSessions(ctx context.Context, tx bun.IDB, userID int64) (int, error) {
	res, err := tx.NewDelete().Table("sessions").Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return int(n), nil
}

// CountSessions says how many live sessions a user has.
func CountSessions(ctx context.Context, db bun.IDB, userID int64, now time.Time, p SessionPolicy) (int, error) {
	n, err := db.NewSelect().Table("sessions").Where("user_id = ?", userID).
		Where("last_seen_at > ?", now.Add(-p.Idle)).Where("created_at > ?", now.Add(-p.Absolute)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count sessions of user %d: %w", userID, err)
	}
	return int(n), nil
}

// Sweep removes sessions past their timeouts and attempt counters older than a day. Every instance
// may run it; the deletes are idempotent.
func Sweep(ctx context.Context, db bun.IDB, now time.Time, p SessionPolicy) (int, error) {
	res, err := db.NewDelete().Table("sessions").
		Where("last_seen_at < ? OR created_at < ?", now.Add(-p.Idle), now.Add(-p.Absolute)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := sweepAttempts(ctx, db, now); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Sessions returns the user's live sessions, the most recently used first.
func Sessions(ctx context.Context, db bun.IDB, userID int64, now time.Time, p SessionPolicy) ([]Session, error) {
	var out []Session
	err := db.NewSelect().Model(&out).Column("token_hash", "id", "user_id", "created_at", "last_seen_at", "ip", "user_agent", "verified_at", "verified_by").
		Where("user_id = ?", userID).Where("last_seen_at > ?", now.Add(-p.Idle)).Where("created_at > ?", now.Add(-p.Absolute)).
		Order("last_seen_at DESC", "id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	return out, nil
}

// EndSession ends one of the user's own sessions, named by its number, audited. It returns
// problem.ErrNotFound for a session that is not theirs or has ended.
func EndSession(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, userID, sessionID int64) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Table("sessions").Where("user_id = ? AND id = ?", userID, sessionID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("session %d of user %d: %w", sessionID, userID, problem.ErrNotFound)
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "session.ended", EntityType: "user", EntityID: fmt.Sprint(userID),
			After: map[string]any{"devices_signed_out": 1},
		})
	})
}

// EndOtherSessions ends every session of the user but the one with token (all of them when token is
// ""), audited; an administrator ends someone's with token "". It returns how many ended.
func EndOtherSessions(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, userID int64, token string) (int, error) {
	var ended int
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewDelete().Table("sessions").Where("user_id = ?", userID)
		if token != "" {
			q = q.Where("token_hash <> ?", hashToken(token))
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		n, _ := res.RowsAffected()
		ended = int(n)
		action := "session.ended_others"
		if token == "" {
			action = "session.ended_all"
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: action, EntityType: "user", EntityID: fmt.Sprint(userID),
			After: map[string]any{"devices_signed_out": ended},
		})
	})
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return ended, nil
}
