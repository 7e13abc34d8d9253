package request

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/notify"
)

// News is something to tell people about a request. It is written once and worded for each recipient
// by Tell, from what that recipient may see of the request (the access rule) and of the people in it
// (the rule on names).
type News struct {
	Event string
	// Title is one line; "%[1]s" in it is the request's reference and "%[2]s" the person who acted,
	// named as the recipient may see them.
	Title string
	// Detail is the text that needs DetailLevel to read: a question, an answer, a reason, a comment.
	// Recipients with less access are told the News without it.
	Detail      string
	DetailLevel Access
	// MinLevel: recipients with less access to the request are not told at all. Never below
	// AccessSummary: a person who may not know of a request hears nothing about it.
	MinLevel Access
	// Link is the path the message links to; the request's page when empty.
	Link string
	// Actions are what the email lets its recipient do next, straight from it: each is offered only to
	// a recipient who may take it now (the same rules as the pages), and becomes a one-time link when
	// the email goes to an address on the secure list (see notify.Message.Actions).
	Actions []Offer
	// OnlyActors: recipients who may take none of the Actions are not told at all.
	OnlyActors bool
}

// Lock reads the request with the reference and locks it until the transaction ends, for changes made
// outside this package (a move between releases).
func Lock(ctx context.Context, tx bun.Tx, reference string) (*Request, error) {
	return lockByReference(ctx, tx, reference)
}

// Followers lists the active followers of r, in order of id.
func Followers(ctx context.Context, tx bun.IDB, r *Request) ([]int64, error) {
	return followersWhoMayRead(ctx, tx, r, AccessNone)
}

// Person is the viewer as a Person, for messages about what they do.
func (v Viewer) Person() Person { return v.person() }

// recipient is a user to be told about a request, with their access to it.
type recipient struct {
	ID             int64    `bun:"id"`
	OrganisationID int64    `bun:"organisation_id"`
	RegionID       int16    `bun:"region_id"`
	Roles          []string `bun:"roles,array"`
	NSIGIDs        []int64  `bun:"nsig_ids,array"`
	Level          Access   `bun:"level"`
}

// viewer is the recipient as the access rule, the rule on names and the actions' rules see them.
func (rc recipient) viewer() Viewer {
	return Viewer{UserID: rc.ID, OrganisationID: rc.OrganisationID, RegionID: rc.RegionID, Roles: rc.Roles, NSIGIDs: rc.NSIGIDs}
}

// recipientColumns are a recipient's columns but its level, from users (alias u) and their
// organisations (alias o).
const recipientColumns = `u.id, u.organisation_id, COALESCE(o.region_id, 0) AS region_id,
	ARRAY(SELECT ur.role FROM user_roles AS ur WHERE ur.user_id = u.id ORDER BY ur.role) AS roles,
	ARRAY(SELECT un.nsig_id FROM user_nsigs AS un WHERE un.user_id = u.id ORDER BY un.nsig_id) AS nsig_ids`

// recipientsWithAccess reads the active users among ids, in order of id, each with their access to r.
func recipientsWithAccess(ctx context.Context, tx bun.IDB, r *Request, ids []int64) ([]recipient, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []recipient
	err := database.ScanPrepared(ctx, tx, `SELECT `+recipientColumns+`, (`+numberedReaderLevel()+`) AS level
		FROM users AS u LEFT JOIN organisations AS o ON o.id = u.organisation_id
		WHERE u.id = ANY (?0::bigint[]) AND u.status = 'active' ORDER BY u.id`, &out, append([]any{database.Array(ids)}, readerArgs(r)...)...)
	if err != nil {
		return nil, fmt.Errorf("read recipients of %s: %w", r.Reference, err)
	}
	return out, nil
}

// tell queues the News about r for each of ids, in the caller's transaction, worded for what each
// recipient may see; actor is who acted (never told of their own action).
func Tell(ctx context.Context, tx bun.IDB, now time.Time, r *Request, actor Person, ids []int64, n News) error {
	msgs, err := compose(ctx, tx, r, actor, ids, n)
	if err != nil || len(msgs) == 0 {
		return err
	}
	return notify.Queue(ctx, tx, now, msgs...)
}

// compose is Tell's messages, not yet queued.
func compose(ctx context.Context, tx bun.IDB, r *Request, actor Person, ids []int64, n News) ([]notify.Message, error) {
	var wanted []int64
	for _, id := range ids {
		if id != actor.UserID {
			wanted = append(wanted, id)
		}
	}
	rs, err := recipientsWithAccess(ctx, tx, r, wanted)
	if err != nil {
		return nil, err
	}
	return composeFor(ctx, tx, r, actor, rs, n)
}

// followingReaders reads the active followers of r with at least level of access to it, in order of
// id, each with their access: one statement. When follower is not 0, the same statement makes that user
// a follower (as of at) first; they are not among those read, as the one who acted is never told.
func followingReaders(ctx context.Context, tx bun.IDB, r *Request, level Access, follower int64, at time.Time) ([]recipient, error) {
	// ?0 is the request, ?1 … the reader level's values (numberedReaderLevel), then the level wanted.
	args := append([]any{r.ID}, readerArgs(r)...)
	next := func(v any) string {
		args = append(args, v)
		return "?" + strconv.Itoa(len(args)-1)
	}
	text := `SELECT ` + recipientColumns + `, l.level
		FROM request_followers AS f JOIN users AS u ON u.id = f.user_id AND u.status = 'active'
		LEFT JOIN organisations AS o ON o.id = u.organisation_id
		CROSS JOIN LATERAL (SELECT (` + numberedReaderLevel() + `) AS level) AS l
		WHERE f.request_id = ?0 AND l.level >= ` + next(int(level)) + ` ORDER BY u.id`
	if follower != 0 {
		// Run whether or not it is read; its row is not seen by the SELECT, under the statement's snapshot.
		text = `WITH joined AS (INSERT INTO request_followers (request_id, user_id, created_at) VALUES (?0, ` +
			next(follower) + `, ` + next(at) + `) ON CONFLICT DO NOTHING) ` + text
	}
	var out []recipient
	if err := database.ScanPrepared(ctx, tx, text, &out, args...); err != nil {
		return nil, fmt.Errorf("read the followers of %s: %w", r.Reference, err)
	}
	return out, nil
}

// tellFollowers tells the active followers of r with at least level of access the News, worded for
// each, never the actor nor anyone in told (who has heard in another message). When follower is not 0,
// that user follows the request from now, in the same statement that reads the followers.
func tellFollowers(ctx context.Context, tx bun.IDB, now time.Time, r *Request, actor Person, follower int64, level Access, told map[int64]bool, n News) error {
	rs, err := followingReaders(ctx, tx, r, level, follower, now)
	if err != nil {
		return err
	}
	rs = slices.DeleteFunc(rs, func(rc recipient) bool { return told[rc.ID] || rc.ID == actor.UserID })
	msgs, err := composeFor(ctx, tx, r, actor, rs, n)
	if err != nil || len(msgs) == 0 {
		return err
	}
	return notify.Queue(ctx, tx, now, msgs...)
}

// composeFor is compose for recipients already read, the actor not among them.
func composeFor(ctx context.Context, tx bun.IDB, r *Request, actor Person, rs []recipient, n News) ([]notify.Message, error) {
	n.MinLevel = max(n.MinLevel, AccessSummary)
	if n.Detail != "" && n.DetailLevel == AccessNone {
		n.DetailLevel = AccessFull
	}
	if n.Link == "" {
		n.Link = "/requests/" + r.Reference
	}
	// What anyone must be able to see to read the message at all: the summary of an accepted request,
	// the whole of one that is not (yet) accepted.
	base := AccessSummary
	if !r.Accepted {
		base = AccessFull
	}
	msgs := make([]notify.Message, 0, len(rs))
	for _, rc := range rs {
		if rc.Level < n.MinLevel || rc.Level < base {
			continue
		}
		needs := base
		body := r.Title
		if n.Detail != "" && rc.Level >= n.DetailLevel {
			body += "\n\n" + strings.TrimSpace(n.Detail)
			needs = max(needs, n.DetailLevel)
		}
		who := rc.viewer().NameFor(rc.Level, actor)
		if strings.Contains(n.Title, "%[2]s") && rc.viewer().SeesNameOf(rc.Level, actor) && actor.UserID != 0 {
			needs = max(needs, min(rc.Level, AccessInternal))
		}
		actions, err := offered(ctx, tx, rc.viewer(), r, n.Actions)
		if err != nil {
			return nil, err
		}
		if n.OnlyActors && len(actions) == 0 {
			continue
		}
		msgs = append(msgs, notify.Message{
			UserID: rc.ID, Event: n.Event, RequestID: r.ID, Title: fmt.Sprintf(n.Title, r.Reference, who),
			Body: body, Link: n.Link, Access: int(needs), Actions: actions,
		})
	}
	return msgs, nil
}
