package audit

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Reasons a row breaks the chain, in the words `portal audit verify` prints.
const (
	ReasonRowChanged = "hash does not match the row's content (row changed)"
	ReasonPrevHash   = "prev_hash does not match the previous row (a row before it was removed or the rows were reordered)"
)

// Reasons the trail does not match a checkpoint.
const (
	ReasonTooFewRows = "rows were removed from its end"
	ReasonOtherHead  = "the row at the checkpointed position is not the one sealed (rows were removed and others added)"
)

// verifyBatch is how many rows Verify reads at a time.
const verifyBatch = 1000

// Break describes the first row where the chain does not hold.
type Break struct {
	ID     int64
	Reason string
}

// Verify walks the whole audit trail in id order, a batch at a time, and returns how many rows it
// checked and found sound (those before the break, when there is one) and the first break, or nil when
// the chain holds. Rows removed from the end of the trail leave a chain that still holds: Check
// compares the trail with its signed checkpoints to notice that.
func Verify(ctx context.Context, db bun.IDB) (checked int, brk *Break, err error) {
	return verify(ctx, db, verifyBatch)
}

func verify(ctx context.Context, db bun.IDB, batch int) (int, *Break, error) {
	return walk(ctx, db, batch, nil)
}

// walk checks the chain as Verify does and calls visit with each sound row and its position in the
// trail (1 for the first row).
func walk(ctx context.Context, db bun.IDB, batch int, visit func(position int64, r *Row)) (int, *Break, error) {
	checked := 0
	prev := genesis()
	var lastID int64
	for {
		var rows []Row
		err := db.NewSelect().Model(&rows).Where("ae.id > ?", lastID).OrderExpr("ae.id").Limit(int64(batch)).Scan(ctx)
		if err != nil {
			return checked, nil, fmt.Errorf("verify audit trail after id %d: %w", lastID, err)
		}
		for i := range rows {
			r := &rows[i]
			if !bytes.Equal(r.PrevHash, prev) {
				return checked, &Break{ID: r.ID, Reason: ReasonPrevHash}, nil
			}
			// Content that cannot be canonicalised was never written by Record, so it changed too.
			if h, err := hashRow(r); err != nil || !bytes.Equal(h, r.Hash) {
				return checked, &Break{ID: r.ID, Reason: ReasonRowChanged}, nil
			}
			prev = r.Hash
			lastID = r.ID
			checked++
			if visit != nil {
				visit(int64(checked), r)
			}
		}
		if len(rows) < batch {
			return checked, nil, nil
		}
	}
}

// Mismatch is a checkpoint, correctly signed, that the trail no longer matches.
type Mismatch struct {
	Checkpoint Checkpoint
	Reason     string // ReasonTooFewRows or ReasonOtherHead
	Rows       int64  // the rows the trail holds
}

// Report is what Check found.
type Report struct {
	Rows  int    // rows checked and sound: all of them, or those before the break
	Break *Break // the first row where the chain does not hold; nil when it holds

	Checkpoints int           // checkpoints stored
	Latest      *Checkpoint   // the latest correctly signed checkpoint; nil when there is none
	Forged      []Checkpoint  // checkpoints whose signature does not match the key
	Mismatch    *Mismatch     // the latest correctly signed checkpoint the trail does not match
	Mismatches  int           // how many correctly signed checkpoints the trail does not match
	Unchecked   bool          // there are checkpoints, but no key to check them with
	KeyID       string        // the fingerprint of the key checked with
	Duration    time.Duration // how long the check took
}

// Intact reports whether the chain holds, every checkpoint is correctly signed and the trail matches
// every one of them.
func (r *Report) Intact() bool {
	return r.Break == nil && len(r.Forged) == 0 && r.Mismatch == nil && !r.Unchecked
}

// Check verifies the audit trail's chain, as Verify does, and compares it with its checkpoints: each
// must be signed with key, and the trail must still hold, at the position each one sealed, the row and
// hash it sealed. Rows removed from the end of the trail, which leave the chain intact, show as a
// mismatch with the checkpoints taken before they were removed. With no key (nil) the checkpoints are
// not checked, and the report says so when there are any.
func Check(ctx context.Context, db bun.IDB, key []byte) (*Report, error) {
	return check(ctx, db, key, verifyBatch)
}

func check(ctx context.Context, db bun.IDB, key []byte, batch int) (*Report, error) {
	began := time.Now()
	var all []Checkpoint
	if err := db.NewSelect().Model(&all).OrderExpr("ac.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	rep := &Report{Checkpoints: len(all)}
	var valid []Checkpoint
	switch {
	case len(all) == 0:
	case len(key) == 0:
		rep.Unchecked = true
	default:
		rep.KeyID = KeyID(key)
		for _, c := range all {
			if c.signedWith(key) {
				valid = append(valid, c)
			} else {
				rep.Forged = append(rep.Forged, c)
			}
		}
	}
	if len(valid) > 0 {
		rep.Latest = &valid[len(valid)-1]
	}
	// In the order of the positions they sealed, so that one pass over the trail checks them all.
	byPosition := slices.Clone(valid)
	slices.SortStableFunc(byPosition, func(a, b Checkpoint) int { return cmp.Compare(a.RowCount, b.RowCount) })
	failed := map[int64]string{} // checkpoint id → reason
	next := 0
	for next < len(byPosition) && byPosition[next].RowCount == 0 {
		next++ // an empty trail is sealed by nothing
	}
	checked, brk, err := walk(ctx, db, batch, func(position int64, r *Row) {
		for ; next < len(byPosition) && byPosition[next].RowCount == position; next++ {
			c := byPosition[next]
			if c.LastID != r.ID || !bytes.Equal(c.HeadHash, r.Hash) {
				failed[c.ID] = ReasonOtherHead
			}
		}
	})
	if err != nil {
		return nil, err
	}
	rep.Rows, rep.Break = checked, brk
	if brk == nil {
		for ; next < len(byPosition); next++ {
			failed[byPosition[next].ID] = ReasonTooFewRows
		}
	}
	// Checkpoints beyond a break are not judged: the break is reported first.
	rep.Mismatches = len(failed)
	for i := len(valid) - 1; i >= 0; i-- {
		if reason, ok := failed[valid[i].ID]; ok {
			rep.Mismatch = &Mismatch{Checkpoint: valid[i], Reason: reason, Rows: int64(checked)}
			break
		}
	}
	rep.Duration = time.Since(began)
	return rep, nil
}
