package request

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// Irreversible reports whether the transition closes the request: nothing more will happen to it, so
// its page asks the person to confirm, saying whom it tells.
func (t Transition) Irreversible() bool { return t.To.Closed() }

// Told is who a transition tells, group by group, as its confirmation page says it: each person is
// counted once, in the first group that names them, and the person making it is never told.
type Told struct {
	Group string // followers, raisers, triage or supporters
	Count int
}

// Audience counts whom the transition would tell if the viewer made it on r now.
func Audience(ctx context.Context, db bun.IDB, v Viewer, r *Request, t Transition) ([]Told, error) {
	seen := map[int64]bool{v.UserID: true}
	var out []Told
	for _, n := range t.Notify {
		ids, err := recipients(ctx, db, r, n.To)
		if err != nil {
			return nil, err
		}
		count := 0
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				count++
			}
		}
		out = append(out, Told{Group: n.To, Count: count})
	}
	return out, nil
}

// LatestDetail is what was written with the latest timeline event of a kind on a request (the
// central team's question, for one), and false when there is none.
func LatestDetail(ctx context.Context, db bun.IDB, requestID int64, kind string) (string, bool, error) {
	var detail string
	err := db.NewSelect().Table("request_events").Column("detail").Where("request_id = ? AND kind = ? AND NOT internal", requestID, kind).
		OrderExpr("occurred_at DESC, id DESC").Limit(1).Scan(ctx, &detail)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read the latest %s of request %d: %w", kind, requestID, err)
	}
	return detail, true, nil
}
