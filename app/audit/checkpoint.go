package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
)

// CheckpointInterval is how often the portal seals the head of the audit trail with a checkpoint.
const CheckpointInterval = 5 * time.Minute

// latestScan bounds how many checkpoints TakeCheckpoint reads, newest first, looking for the latest
// correctly signed one, so that a flood of forged ones cannot stall it.
const latestScan = 1000

// Checkpoint seals the head of the audit trail at a moment: how many rows it held, the id and hash
// of the last, signed (HMAC-SHA-256) with a key the database does not hold. Rows removed from the end
// of the trail later leave the chain intact, but no longer match the checkpoint. Checkpoints are only
// ever added; the one who can add them without the key can only add forgeries, which Check reports.
type Checkpoint struct {
	bun.BaseModel `bun:"table:audit_checkpoints,alias:ac"`

	ID       int64     `bun:"id,pk"`
	TakenAt  time.Time `bun:"taken_at"`
	RowCount int64     `bun:"row_count"`
	LastID   int64     `bun:"last_id"`   // 0 for an empty trail
	HeadHash []byte    `bun:"head_hash"` // the last row's hash; 32 zero bytes for an empty trail
	KeyID    string    `bun:"key_id"`    // the fingerprint of the key that signed it
	MAC      []byte    `bun:"mac"`
}

// KeyID is the fingerprint of a checkpoint key: it names the key without revealing it, so a report can
// say that a checkpoint was signed with another key.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("portal audit checkpoint key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// content is what the signature covers: every field but the signature itself, each in a fixed order
// and length-prefixed. The id and time are in it, so a copy of an old checkpoint is a forgery.
func (c *Checkpoint) content() []byte {
	b := []byte("audit_checkpoints/v1\x00")
	b = binary.BigEndian.AppendUint64(b, uint64(c.ID))
	b = appendField(b, c.TakenAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
	b = binary.BigEndian.AppendUint64(b, uint64(c.RowCount))
	b = binary.BigEndian.AppendUint64(b, uint64(c.LastID))
	b = appendField(b, c.HeadHash)
	return appendField(b, c.KeyID)
}

func (c *Checkpoint) mac(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(c.content())
	return m.Sum(nil)
}

// signedWith reports whether the checkpoint's signature is key's.
func (c *Checkpoint) signedWith(key []byte) bool {
	return c.KeyID == KeyID(key) && hmac.Equal(c.MAC, c.mac(key))
}

// Sealed is what TakeCheckpoint did.
type Sealed struct {
	Checkpoint *Checkpoint // the checkpoint recorded; nil when none was due
	// Problems are what it noticed on the way, for the log: checkpoints not signed with the key, and a
	// trail that no longer holds the head the previous checkpoint sealed.
	Problems []string
}

// TakeCheckpoint seals the head of the audit trail with a checkpoint signed with key, unless the latest
// correctly signed checkpoint was taken less than minAge before now or already seals the head. Portal
// instances may all call it: they take turns on the lock every audit writer takes, so the checkpoint
// holds a head no writer is changing, and only the first of them in each interval records one.
func TakeCheckpoint(ctx context.Context, db *bun.DB, key []byte, now time.Time, minAge time.Duration) (*Sealed, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("audit checkpoint: the key must be at least 32 bytes")
	}
	now = now.UTC().Truncate(time.Microsecond)
	out := &Sealed{}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		out.Problems = nil
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(LockKey)); err != nil {
			return fmt.Errorf("take audit lock: %w", err)
		}
		prev, forged, err := latestSigned(ctx, tx, key)
		if err != nil {
			return err
		}
		switch n := len(forged); {
		case n == 1:
			out.Problems = append(out.Problems, fmt.Sprintf("audit checkpoint #%d is not signed with this portal's audit key (key id %s): run portal audit verify",
				forged[0].ID, KeyID(key)))
		case n > 1:
			out.Problems = append(out.Problems, fmt.Sprintf("%d audit checkpoints (#%d to #%d) are not signed with this portal's audit key (key id %s): run portal audit verify",
				n, forged[n-1].ID, forged[0].ID, KeyID(key)))
		}
		if prev != nil && now.Sub(prev.TakenAt) < minAge {
			return nil
		}
		var after int64 // count the rows after the previous checkpoint's head, when the trail still holds it
		if prev != nil && prev.RowCount > 0 {
			var sealed []byte
			err := tx.NewRaw("SELECT hash FROM audit_events WHERE id = ?", prev.LastID).Scan(ctx, &sealed)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read the row checkpoint #%d sealed: %w", prev.ID, err)
			}
			if bytes.Equal(sealed, prev.HeadHash) {
				after = prev.LastID
			} else {
				out.Problems = append(out.Problems, fmt.Sprintf("the audit trail no longer holds row %d as checkpoint #%d (taken %s) sealed it: run portal audit verify",
					prev.LastID, prev.ID, prev.TakenAt.Format(time.RFC3339)))
			}
		}
		var head struct {
			Added    int64  `bun:"added"`
			LastID   int64  `bun:"last_id"`
			LastHash []byte `bun:"last_hash"`
		}
		err = tx.NewRaw(`SELECT (SELECT count(*) FROM audit_events WHERE id > ?) AS added,
			coalesce(last.id, 0) AS last_id, last.hash AS last_hash
			FROM (SELECT 1) AS one LEFT JOIN (SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1) AS last ON true`, after).
			Scan(ctx, &head)
		if err != nil {
			return fmt.Errorf("read the head of the audit trail: %w", err)
		}
		c := &Checkpoint{TakenAt: now, RowCount: head.Added, LastID: head.LastID, HeadHash: head.LastHash, KeyID: KeyID(key)}
		if after > 0 {
			c.RowCount += prev.RowCount
		}
		if c.HeadHash == nil {
			c.HeadHash = genesis()
		}
		if c.RowCount == 0 || (prev != nil && prev.RowCount == c.RowCount && prev.LastID == c.LastID && bytes.Equal(prev.HeadHash, c.HeadHash)) {
			return nil // nothing to seal, or sealed already
		}
		if err := tx.QueryRowContext(ctx, "SELECT nextval('audit_checkpoints_id_seq')").Scan(&c.ID); err != nil {
			return fmt.Errorf("number the audit checkpoint: %w", err)
		}
		c.MAC = c.mac(key)
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			return fmt.Errorf("insert audit checkpoint: %w", err)
		}
		out.Checkpoint = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint: %w", err)
	}
	return out, nil
}

// latestSigned returns the latest checkpoint signed with key (nil when there is none among the latest
// latestScan) and the newer ones that are not.
func latestSigned(ctx context.Context, db bun.IDB, key []byte) (*Checkpoint, []Checkpoint, error) {
	var recent []Checkpoint
	if err := db.NewSelect().Model(&recent).OrderExpr("ac.id DESC").Limit(latestScan).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	var forged []Checkpoint
	for i := range recent {
		if recent[i].signedWith(key) {
			return &recent[i], forged, nil
		}
		forged = append(forged, recent[i])
	}
	return nil, forged, nil
}
