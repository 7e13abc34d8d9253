package request

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
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
	// One fixed text with real parameters: every change to a request adds an event, so it is prepared
	// once a connection instead of planned every time.
	if _, err := database.ExecPrepared(ctx, tx, `INSERT INTO request_events (request_id, occurred_at, actor_user_id,
		actor_name, kind, from_status, to_status, summary, detail, internal)
		VALUES (?0, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
		e.RequestID, e.OccurredAt, database.NullID(e.ActorUserID), e.ActorName, e.Kind, e.FromStatus, e.ToStatus, e.Summary, e.Detail, e.Internal); err != nil {
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

// timelineRow is one event or comment as the timeline's one statement returns it.
type timelineRow struct {
	Comment    bool      `bun:"is_comment"`
	ID         int64     `bun:"id"`
	At         time.Time `bun:"at"`
	UserID     int64     `bun:"user_id"`
	Name       string    `bun:"name"`
	Kind       string    `bun:"kind"`
	FromStatus string    `bun:"from_status"`
	ToStatus   string    `bun:"to_status"`
	Summary    string    `bun:"summary"`
	Text       string    `bun:"text"`
	Internal   bool      `bun:"internal"`
	Org        PersonOrg `bun:"embed:person_"`
}

// Timeline returns the events and comments of a request in time order (an event before a comment made
// at the same moment), leaving out internal ones unless the access allows them. It runs one statement
// whatever the number of entries.
func Timeline(ctx context.Context, db bun.IDB, requestID int64, access Access) ([]Entry, error) {
	if access < AccessFull {
		return nil, nil
	}
	internal := access >= AccessInternal
	var rows []timelineRow
	// A fixed text with the request and the access as parameters, planned once a connection.
	err := database.ScanPrepared(ctx, db, `SELECT false AS is_comment, ev.id, ev.occurred_at AS at, COALESCE(ev.actor_user_id, 0) AS user_id, ev.actor_name AS name,
			ev.kind, ev.from_status, ev.to_status, ev.summary, ev.detail AS text, ev.internal, `+personColumns("au", "person")+`
		FROM request_events AS ev LEFT JOIN users AS au ON au.id = ev.actor_user_id
		WHERE ev.request_id = ?0 AND (?1 OR NOT ev.internal)
		UNION ALL
		SELECT true, c.id, c.created_at, c.author_id, u.name, '', '', '', '', c.body, c.internal, `+personColumns("u", "person")+`
		FROM request_comments AS c JOIN users AS u ON u.id = c.author_id
		WHERE c.request_id = ?0 AND (?1 OR NOT c.internal)
		ORDER BY at, is_comment, id`, &rows, requestID, internal)
	if err != nil {
		return nil, fmt.Errorf("read timeline of request %d: %w", requestID, err)
	}
	out := make([]Entry, 0, len(rows))
	for _, r := range rows {
		e := Entry{At: r.At, Internal: r.Internal}
		if r.Comment {
			e.Comment = &Comment{ID: r.ID, RequestID: requestID, AuthorID: r.UserID, Body: r.Text, Internal: r.Internal, CreatedAt: r.At,
				AuthorName: r.Name, AuthorOrg: r.Org}
		} else {
			e.Event = &Event{ID: r.ID, RequestID: requestID, OccurredAt: r.At, ActorUserID: r.UserID, ActorName: r.Name, Kind: r.Kind,
				FromStatus: r.FromStatus, ToStatus: r.ToStatus, Summary: r.Summary, Detail: r.Text, Internal: r.Internal, ActorOrg: r.Org}
		}
		out = append(out, e)
	}
	return out, nil
}
