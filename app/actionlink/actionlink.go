// Package actionlink makes the one-time signed links that emails carry to a page where the reader must
// act ("decide whether to take ENH-… forward"). Only the SHA-256 of a link's token is stored. A link
// works once, for a limited time, and only for the user it was made for, who must be signed in: it
// saves finding the page, it never signs anybody in.
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

// TTL is how long a link works after it is made.
const TTL = 7 * 24 * time.Hour

// Prefix is the path of every link; the token follows it.
const Prefix = "/links/"

// Why a link cannot be used.
const (
	ReasonUnknown   = "unknown"    // no link has this token
	ReasonUsed      = "used"       // it has been used already
	ReasonExpired   = "expired"    // its time is up
	ReasonOtherUser = "other_user" // it was made for someone else
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
// the path it leads to. A link that is unknown, used, expired or someone else's is a *RefusedError.
func Use(ctx context.Context, db *bun.DB, actor audit.Actor, token string, userID int64, now time.Time) (string, error) {
	var used struct {
		Path      string `bun:"path"`
		Reference string `bun:"reference"`
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewRaw(`UPDATE action_links AS l SET used_at = ? FROM requests AS r
			WHERE r.id = l.request_id AND l.token_hash = ? AND l.user_id = ? AND l.used_at IS NULL AND l.expires_at > ?
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
	var l struct {
		UserID    int64        `bun:"user_id"`
		ExpiresAt time.Time    `bun:"expires_at"`
		UsedAt    sql.NullTime `bun:"used_at"`
		Reference string       `bun:"reference"`
	}
	err = db.NewRaw(`SELECT l.user_id, l.expires_at, l.used_at, r.reference
		FROM action_links AS l JOIN requests AS r ON r.id = l.request_id WHERE l.token_hash = ?`, hash(token)).Scan(ctx, &l)
	if errors.Is(err, sql.ErrNoRows) {
		return "", &RefusedError{Reason: ReasonUnknown}
	}
	if err != nil {
		return "", fmt.Errorf("read action link: %w", err)
	}
	switch {
	case l.UserID != userID:
		return "", &RefusedError{Reason: ReasonOtherUser}
	case l.UsedAt.Valid:
		return "", &RefusedError{Reason: ReasonUsed, Reference: l.Reference}
	default:
		return "", &RefusedError{Reason: ReasonExpired, Reference: l.Reference}
	}
}

func hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
