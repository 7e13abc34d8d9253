package request

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Event is one entry of a request's timeline.
type Event struct {
	bun.BaseModel `bun:"table:request_events,alias:ev"`

	ID          int64     `bun:"id,pk,autoincrement"`
	RequestID   int64     `bun:"request_id"`
	OccurredAt  time.Time `bun:"occurred_at"`
	ActorUserID int64     `bun:"actor_user_id,nullzero"`
	ActorName   string    `bun:"actor_name"`
	Kind        string    `bun:"kind"`
	FromStatus  string    `bun:"from_status"`
	ToStatus    string    `bun:"to_status"`
	Summary     string    `bun:"summary"`
	Detail      string    `bun:"detail"`
	Internal    bool      `bun:"internal"`

	ActorOrg PersonOrg `bun:"embed:actor_"`
}

// Actor is who made the event happen.
func (e *Event) Actor() Person { return e.ActorOrg.Person(e.ActorUserID, e.ActorName) }

func addEvent(ctx context.Context, tx bun.IDB, e Event) error {
	if _, err := tx.NewInsert().Model(&e).Exec(ctx); err != nil {
		return fmt.Errorf("add timeline event: %w", err)
	}
	return nil
}

// Comment is a comment on a request: shared with the requester, or internal.
type Comment struct {
	bun.BaseModel `bun:"table:request_comments,alias:c"`

	ID         int64     `bun:"id,pk,autoincrement"`
	RequestID  int64     `bun:"request_id"`
	AuthorID   int64     `bun:"author_id"`
	Body       string    `bun:"body"`
	Internal   bool      `bun:"internal"`
	CreatedAt  time.Time `bun:"created_at"`
	AuthorName string    `bun:"author_name,scanonly"`
	AuthorOrg  PersonOrg `bun:"embed:author_"`
}

// Author is who wrote the comment.
func (c *Comment) Author() Person { return c.AuthorOrg.Person(c.AuthorID, c.AuthorName) }

// Entry is one item of the timeline as the request page shows it: an event or a comment.
type Entry struct {
	At       time.Time
	Event    *Event
	Comment  *Comment
	Internal bool
}

// Timeline returns the events and comments of a request in time order, leaving out internal ones
// unless the access allows them. It runs two queries whatever the number of entries.
func Timeline(ctx context.Context, db bun.IDB, requestID int64, access Access) ([]Entry, error) {
	if access < AccessFull {
		return nil, nil
	}
	internal := access >= AccessInternal
	var events []Event
	q := db.NewSelect().Model(&events).ColumnExpr("ev.*").
		ColumnExpr(personColumns("au", "actor")).
		Join("LEFT JOIN users AS au ON au.id = ev.actor_user_id").
		Where("ev.request_id = ?", requestID)
	if !internal {
		q = q.Where("NOT ev.internal")
	}
	if err := q.Order("ev.occurred_at", "ev.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read timeline of request %d: %w", requestID, err)
	}
	var comments []Comment
	cq := db.NewSelect().Model(&comments).
		ColumnExpr("c.*").ColumnExpr("u.name AS author_name").ColumnExpr(personColumns("u", "author")).
		Join("JOIN users AS u ON u.id = c.author_id").
		Where("c.request_id = ?", requestID)
	if !internal {
		cq = cq.Where("NOT c.internal")
	}
	if err := cq.Order("c.created_at", "c.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read comments of request %d: %w", requestID, err)
	}
	out := make([]Entry, 0, len(events)+len(comments))
	i, j := 0, 0
	for i < len(events) || j < len(comments) {
		if j >= len(comments) || (i < len(events) && !events[i].OccurredAt.After(comments[j].CreatedAt)) {
			out = append(out, Entry{At: events[i].OccurredAt, Event: &events[i], Internal: events[i].Internal})
			i++
		} else {
			out = append(out, Entry{At: comments[j].CreatedAt, Comment: &comments[j], Internal: comments[j].Internal})
			j++
		}
	}
	return out, nil
}
