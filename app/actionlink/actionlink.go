// Package actionlink makes the one-time links that emails carry. Only the SHA-256 of a link's token is
// stored. A link works once, for a limited time, and only for the user it was made for, who must be
// signed in: it never signs anybody in.
//
// An action link stands for one action (approve, endorse, agree …) its user may take on one request as
// it stood at one version. Opening it changes nothing (Read): the portal shows a page to confirm on, and
// only the confirmation uses the link (Consume), in the transaction that takes the action. Links made
// before actions existed open a page of the portal (Use) and are used by opening them.
package actionlink

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
)

// TTL is how long a link works after it is made, unless configured otherwise.
const TTL = 7 * 24 * time.Hour

// MaxTTL is the longest a link may be configured to work.
const MaxTTL = 30 * 24 * time.Hour

// Prefix is the path of every link; the token follows it.
const Prefix = "/links/"

// Why a link cannot be used.
const (
	ReasonUnknown   = "unknown"    // no link has this token
	ReasonUsed      = "used"       // it has been used already
	ReasonExpired   = "expired"    // its time is up
	ReasonOtherUser = "other_user" // it was made for someone else
	// ReasonNotSecure: the user's email address is no longer on the list of secure domains that may
	// receive action emails (checked by the portal, which knows the list).
	ReasonNotSecure = "not_secure"
)

// RefusedError is a link that cannot be used, with why, and the reference of its request when the link
// is the signed-in user's own (so the page can offer the way to the request instead).
type RefusedError struct {
	Reason    string
	Reference string
}

func (e *RefusedError) Error() string { return "action link refused: " + e.Reason }

// Create stores a new link for a user to a path of a request, working until now + ttl, and returns
// its token. It runs in the caller's transaction, so the link exists only if the message that carries
// it is sent.
func Create(ctx context.Context, tx bun.IDB, userID, requestID int64, path string, now time.Time, ttl time.Duration) (string, error) {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return "", fmt.Errorf("action link to %q: not a path in the portal", path)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("action link token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if _, err := tx.NewRaw(`INSERT INTO action_links (token_hash, user_id, request_id, path, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, hash(token), userID, requestID, path, now.Add(ttl), now).Exec(ctx); err != nil {
		return "", fmt.Errorf("store action link for user %d: %w", userID, err)
	}
	return token, nil
}

// Use checks the link with the token for the signed-in user and marks it used, in one statement so
// that two clicks at once cannot both pass, with its audit event in the same transaction, and returns
// the path it leads to. A link that is unknown, used, expired or someone else's is a *RefusedError, and
// so is an action link, which only its confirmation may use (Consume).
func Use(ctx context.Context, db *bun.DB, actor audit.Actor, token string, userID int64, now time.Time) (string, error) {
	var used struct {
		Path      string `bun:"path"`
		Reference string `bun:"reference"`
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewRaw(`UPDATE action_links AS l SET used_at = ? FROM requests AS r
			WHERE r.id = l.request_id AND l.token_hash = ? AND l.user_id = ? AND l.used_at IS NULL AND l.expires_at > ?
				AND l.action IS NULL
			RETURNING l.path, r.reference`, now, hash(token), userID, now).Scan(ctx, &used)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "action_link.used", EntityType: "request", EntityID: used.Reference,
			After: map[string]any{"path": used.Path}})
	})
	if err == nil {
		return used.Path, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("use action link: %w", err)
	}
	return "", refusal(ctx, db, token, userID, now)
}

func hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Link is an action link as stored, with the reference of its request.
type Link struct {
	UserID    int64     `bun:"user_id"`
	RequestID int64     `bun:"request_id"`
	Reference string    `bun:"reference"`
	Path      string    `bun:"path"`
	Action    string    `bun:"action"`  // "" for a link that opens Path
	Version   int       `bun:"version"` // the version of the request (or its document) the action was offered at
	ExpiresAt time.Time `bun:"expires_at"`
}

// CreateAction stores a new link for a user to take an action on a request as it stood at version,
// working until now + ttl, and returns its token. The token is the caller's to put in one email and
// forget: only its hash is kept.
func CreateAction(ctx context.Context, db bun.IDB, userID, requestID int64, action string, version int, now time.Time, ttl time.Duration) (string, error) {
	if !validAction(action) || version < 0 {
		return "", fmt.Errorf("action link for %q at version %d: not an action", action, version)
	}
	if ttl <= 0 || ttl > MaxTTL {
		return "", fmt.Errorf("action link lasting %s: between a moment and %s", ttl, MaxTTL)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("action link token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if _, err := db.NewRaw(`INSERT INTO action_links (token_hash, user_id, request_id, path, action, version, expires_at, created_at)
		SELECT ?, ?, r.id, '/requests/' || r.reference, ?, ?, ?, ? FROM requests AS r WHERE r.id = ?`,
		hash(token), userID, action, version, now.Add(ttl), now, requestID).Exec(ctx); err != nil {
		return "", fmt.Errorf("store action link for user %d: %w", userID, err)
	}
	return token, nil
}

func validAction(a string) bool {
	if a == "" || len(a) > 40 {
		return false
	}
	for _, c := range a {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// Read returns the link with the token for the signed-in user without changing anything: opening a
// link (as a person, or as a mail scanner that fetches every link) must not use it. A link that is
// unknown, used, expired or someone else's is a *RefusedError.
func Read(ctx context.Context, db bun.IDB, token string, userID int64, now time.Time) (*Link, error) {
	l := new(Link)
	err := db.NewRaw(`SELECT l.user_id, l.request_id, r.reference, l.path, coalesce(l.action, '') AS action,
			coalesce(l.version, 0) AS version, l.expires_at
		FROM action_links AS l JOIN requests AS r ON r.id = l.request_id
		WHERE l.token_hash = ? AND l.user_id = ? AND l.used_at IS NULL AND l.expires_at > ?`, hash(token), userID, now).Scan(ctx, l)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, refusal(ctx, db, token, userID, now)
	}
	if err != nil {
		return nil, fmt.Errorf("read action link: %w", err)
	}
	return l, nil
}

// Consume marks the action link with the token used for the signed-in user, in the caller's
// transaction, which then takes its action: if the action fails the transaction rolls back and the
// link stays unused. Two confirmations at once cannot both pass: the second waits for the first's row
// lock and then finds the link used. A link that cannot be used (or opens a page rather than standing
// for an action) is a *RefusedError.
func Consume(ctx context.Context, tx bun.Tx, actor audit.Actor, token string, userID int64, now time.Time) (*Link, error) {
	l := new(Link)
	err := tx.NewRaw(`UPDATE action_links AS l SET used_at = ? FROM requests AS r
		WHERE r.id = l.request_id AND l.token_hash = ? AND l.user_id = ? AND l.used_at IS NULL AND l.expires_at > ?
			AND l.action IS NOT NULL
		RETURNING l.user_id, l.request_id, r.reference, l.path, l.action, l.version, l.expires_at`,
		now, hash(token), userID, now).Scan(ctx, l)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, refusal(ctx, tx, token, userID, now)
	}
	if err != nil {
		return nil, fmt.Errorf("use action link: %w", err)
	}
	if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "action_link.used", EntityType: "request", EntityID: l.Reference,
		After: map[string]any{"action": l.Action, "version": l.Version}}); err != nil {
		return nil, err
	}
	return l, nil
}

// refusal says why the link with the token cannot be used by the user now.
func refusal(ctx context.Context, db bun.IDB, token string, userID int64, now time.Time) error {
	var l struct {
		UserID    int64        `bun:"user_id"`
		ExpiresAt time.Time    `bun:"expires_at"`
		UsedAt    sql.NullTime `bun:"used_at"`
		Action    string       `bun:"action"`
		Reference string       `bun:"reference"`
	}
	err := db.NewRaw(`SELECT l.user_id, l.expires_at, l.used_at, coalesce(l.action, '') AS action, r.reference
		FROM action_links AS l JOIN requests AS r ON r.id = l.request_id WHERE l.token_hash = ?`, hash(token)).Scan(ctx, &l)
	if errors.Is(err, sql.ErrNoRows) {
		return &RefusedError{Reason: ReasonUnknown}
	}
	if err != nil {
		return fmt.Errorf("read action link: %w", err)
	}
	switch {
	case l.UserID != userID:
		return &RefusedError{Reason: ReasonOtherUser}
	case l.UsedAt.Valid:
		return &RefusedError{Reason: ReasonUsed, Reference: l.Reference}
	case !l.ExpiresAt.After(now):
		return &RefusedError{Reason: ReasonExpired, Reference: l.Reference}
	}
	// Usable, but not this way: an action link opened as a page link, or the reverse.
	return &RefusedError{Reason: ReasonUnknown, Reference: l.Reference}
}
