package audit

import (
	"bytes"
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Reasons a row breaks the chain, in the words `portal audit verify` prints.
const (
	ReasonRowChanged = "hash does not match the row's content (row changed)"
	ReasonPrevHash   = "prev_hash does not match the previous row (a row before it was removed or the rows were reordered)"
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
// the chain holds. Rows removed from the end of the trail leave a chain that still holds; compare the
// count with an earlier run to notice that.
func Verify(ctx context.Context, db bun.IDB) (checked int, brk *Break, err error) {
	return verify(ctx, db, verifyBatch)
}

func verify(ctx context.Context, db bun.IDB, batch int) (int, *Break, error) {
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
		}
		if len(rows) < batch {
			return checked, nil, nil
		}
	}
}
