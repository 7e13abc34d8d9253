// Package notify tells users what happened to the requests they care about: in the portal (the
// notifications under the header badge) and by email, as each user has chosen per event, with emails
// sent straight away or gathered into a daily digest.
//
// A state change queues its messages with Queue inside its own transaction, so the notification and the
// email are committed together with the change or not at all. Emails wait in an outbox table until a
// Sender delivers them.
package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// Events users can choose about. The names are stable keys, stored with each preference and
// notification.
const (
	EventAcknowledged         = "acknowledged"
	EventClassified           = "classified"
	EventInformationRequested = "information_requested"
	EventAnswered             = "answered"
	EventDecisionNeeded       = "decision_needed"
	EventComment              = "comment"
	EventMention              = "mention"
	EventWithdrawn            = "withdrawn"
	EventRequirements         = "requirements"
	EventDecided              = "decided"
	EventAllocated            = "allocated"
	EventDelivered            = "delivered"
	EventSchedulePublished    = "schedule_published"
	EventNSIGSeat             = "nsig_seat"
	EventRegionalView         = "regional_view"
	EventNSIGAgenda           = "nsig_agenda"
	EventProjectHandover      = "project_handover"
	EventRegionalUpdate       = "regional_update"
	// Alerts to role holders, sent by the portal itself.
	EventRaised            = "raised"
	EventNewRequestsDaily  = "new_requests_daily"
	EventAckDue            = "acknowledgement_due"
	EventReplyDue          = "reply_due"
	EventAssessmentWaiting = "assessment_waiting"
	EventReviewDue         = "review_due"
	EventRegionReport      = "region_report"
	EventAccessRequest     = "access_request"
	EventDowntime          = "downtime"
	EventAccessReview      = "access_review"
	EventEndorsementNeeded = "endorsement_needed"
)

// EventInfo describes an event on the notification settings page.
type EventInfo struct {
	Key         string
	Title       string // completes "Tell me when…", e.g. "a request is acknowledged"
	Description string
}

// optIn are the events nobody hears about until they ask to: the central team's daily summary of new
// requests and planned downtime (the news of a published Development Schedule, once opt-in, is
// circulated to the people it concerns unless they turn it off).
var optIn = map[string]bool{EventNewRequestsDaily: true, EventDowntime: true}

// OptIn reports whether nobody hears about the event until they ask to.
func (e EventInfo) OptIn() bool { return optIn[e.Key] }

// Events lists every event users can choose about, in the order the settings page shows them. It is
// fixed at build time: a feature that sends a new kind of message adds its event here.
var Events = []EventInfo{
	{EventAcknowledged, "A request is acknowledged", "The central team has received a request you raised or follow and will look at it."},
	{EventClassified, "A request is classified", "The central team has decided what kind of change a request is and which NSIG reviews it."},
	{EventInformationRequested, "More information is needed", "Someone has asked a question about a request that you need to answer."},
	{EventAnswered, "A question is answered", "Someone has answered a question asked about a request you raised or follow."},
	{EventDecisionNeeded, "A decision is needed", "A request is waiting for you to decide whether it goes ahead."},
	{EventEndorsementNeeded, "A business justification needs endorsing", "A business justification in your region or NSIG is complete and waits for your endorsement."},
	{EventComment, "Someone comments", "There is a new comment on a request you raised or follow."},
	{EventMention, "You are mentioned", "Someone has mentioned you in a comment."},
	{EventWithdrawn, "A request is withdrawn", "A request you raised, support or follow has been withdrawn."},
	{EventRequirements, "The requirement definition or business justification changes", "Someone has saved, agreed or submitted the requirement definition or business justification of a request you follow."},
	{EventDecided, "A decision is made", "The central team has approved, deferred or not approved a request you raised, support or follow."},
	{EventAllocated, "A request is allocated to a release", "An approved request has been allocated to an ESR release, or moved to another one."},
	{EventDelivered, "A change is delivered", "The release containing a request you raised, support or follow has gone live."},
	{EventSchedulePublished, "A Development Schedule is published", "The central team has published the quarterly Development Schedule, or a corrected version of it. It is sent to every NSIG seat holder and to the people who raised, support or follow a request it names."},
	{EventNSIGSeat, "You join or leave an NSIG seat", "You have been appointed as a region's member or deputy on an NSIG, or your term has ended."},
	{EventNSIGAgenda, "NSIG meetings and agendas", "An agenda is published, an agenda item you asked for is accepted or not, or a meeting gives you an action."},
	{EventProjectHandover, "A linked project is handed to an NSIG", "A national project has moved into business as usual with an NSIG you sit on, or in your region: the regional SIGs extend their membership to cover it."},
	{EventRegionalUpdate, "A regional SIG update is sent", "The central team has sent your region's SIG an update on NSIG outcomes, decisions and coming releases."},
	{EventAccessRequest, "Someone asks for access", "Someone in your organisation has asked for an account, or a role waits for you to authorise it (access approvers and administrators)."},
	{EventAccessReview, "An access review is open or overdue", "For access approvers, functional account managers and administrators: an organisation's six-monthly review of who has access is open, or has gone past its due date."},
	{EventDowntime, "Planned downtime", "The portal will be unavailable, or read-only, for planned maintenance. Off unless you turn it on: the banner on every page says so too."},
	{EventRegionalView, "A region gives its view", "An NSIG region has said whether it supports a request you are triaging or follow."},
	{EventRaised, "A request is raised", "For the central team: a new request has been raised and is waiting to be acknowledged."},
	{EventNewRequestsDaily, "A daily summary of new requests", "For the central team: one message each morning listing the requests raised the day before. You hear about this only if you ask to; turn off ‘A request is raised’ if you want the summary instead."},
	{EventAckDue, "An acknowledgement is due or overdue", "For the central team: a request's acknowledgement is due on the next working day, or has gone past its due date."},
	{EventReplyDue, "An answer to the central team is due", "A question the central team asked about your organisation's request is due for an answer in 2 working days, or has gone past its date."},
	{EventAssessmentWaiting, "An impact assessment is waiting", "For the development team: a request has waited longer than it should for its impact assessment."},
	{EventReviewDue, "A deferred request comes back soon", "For the central team: a deferred request's review date is 5 working days away."},
	{EventRegionReport, "Your region's monthly report", "For functional account managers: on the first of each month, your region's dashboard for the month before, with its PDF and Excel downloads."},
}

// Event returns the event with key, and whether there is one.
func Event(key string) (EventInfo, bool) {
	for _, e := range Events {
		if e.Key == key {
			return e, true
		}
	}
	return EventInfo{}, false
}

// Message is one thing to tell one user.
type Message struct {
	UserID    int64
	Event     string // one of Events
	RequestID int64  // 0 when not about a request
	Title     string // one line, e.g. "ENH-2026-0042 has been acknowledged"; it is also the email's subject
	Body      string // plain text, a few sentences
	Link      string // a path in the portal, e.g. "/requests/ENH-2026-0042"; "" for none
	// Actions are what the email lets its recipient do next (approve, answer, endorse …), each as a
	// one-time link to a page where they confirm it. They are decided when the message is written, from
	// what the recipient may do; the links themselves are made when the email is sent, and only for an
	// address on the secure list (an action email); anyone else gets the summary email without them.
	// The notification in the portal carries none: its Link leads to the same pages.
	Actions []Action
	// Access is the level of access to the request (0 none to 3 internal, as request.Access) that the
	// message's words need: its recipient has at least that much. Anyone else who reads the email (an
	// administrator's mail view) sees its words only with as much access themselves. A message about a
	// request that leaves it 0 is taken to need internal access.
	Access int
}

// Action is something an email lets its recipient do, as one link to a page where they confirm it.
type Action struct {
	Name  string `json:"name"`  // what it does, e.g. "approve": the name the request package takes it by
	Label string `json:"label"` // the link's words, which make sense on their own: "Approve ENH-2026-0042"
	// Version is the version of the request, or of the document the action is about, that the email
	// was written against: a link taken after it has moved on leads to the conflict page.
	Version int `json:"version"`
}

// maxActions is the most actions one email offers.
const maxActions = 8

// AccessInternal is the highest level of access a message can need (request.AccessInternal).
const AccessInternal = 3

// Limits on what a message holds.
const (
	maxTitle = 300
	maxBody  = 10000
	maxLink  = 500
)

// check returns m tidied for storing: the title on one line, surrounding space trimmed, and an overlong
// title or body cut short (a long comment must not undo the change that queued it). A message that names
// no user, an unknown event, no title or a link off the portal is a mistake in the caller.
func (m Message) check() (Message, error) {
	if m.UserID <= 0 {
		return m, errors.New("no user")
	}
	if _, ok := Event(m.Event); !ok {
		return m, fmt.Errorf("unknown event %q: add it to notify.Events", m.Event)
	}
	if m.RequestID < 0 {
		return m, fmt.Errorf("request id %d", m.RequestID)
	}
	if m.Access < 0 || m.Access > AccessInternal {
		return m, fmt.Errorf("access level %d", m.Access)
	}
	if m.RequestID != 0 && m.Access == 0 {
		m.Access = AccessInternal
	}
	// PostgreSQL text cannot hold NUL or invalid UTF-8.
	clean := strings.NewReplacer("\x00", "\uFFFD")
	m.Title = shorten(clean.Replace(strings.Join(strings.Fields(strings.ToValidUTF8(m.Title, "\uFFFD")), " ")), maxTitle)
	m.Body = shorten(clean.Replace(strings.TrimSpace(strings.ToValidUTF8(m.Body, "\uFFFD"))), maxBody)
	m.Link = strings.TrimSpace(m.Link)
	switch {
	case m.Title == "":
		return m, errors.New("no title")
	case len(m.Link) > maxLink:
		return m, fmt.Errorf("link is %d bytes, at most %d", len(m.Link), maxLink)
	case !portalPath(m.Link):
		return m, fmt.Errorf("link %q is not a path in the portal", m.Link)
	case len(m.Actions) > maxActions:
		return m, fmt.Errorf("%d actions, at most %d", len(m.Actions), maxActions)
	case len(m.Actions) > 0 && m.RequestID == 0:
		return m, errors.New("actions on a message about no request")
	}
	for _, a := range m.Actions {
		if a.Name == "" || a.Label == "" || len(a.Label) > maxTitle || a.Version < 0 {
			return m, fmt.Errorf("action %+v", a)
		}
	}
	return m, nil
}

// shorten cuts s to at most max bytes, on a character boundary, ending it with "…" when cut.
func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

// portalPath reports whether link is empty or a path on the portal's own site.
func portalPath(link string) bool {
	if link == "" {
		return true
	}
	return strings.HasPrefix(link, "/") && !strings.HasPrefix(link, "//") && !strings.HasPrefix(link, `/\`) &&
		!strings.ContainsAny(link, " \t\r\n")
}

// queueSQL writes a batch of messages in one statement. Each message is matched with its recipient
// (active users only), the recipient's preference for its event (none: both, or neither for an opt-in
// event) and digest setting; then
//   - a notification row is written when the user wants it in the portal, or by email in a digest
//     (digest_pending), and marked emailed when its email goes out straight away;
//   - an email is written to the outbox when the user wants it by email straight away.
const queueSQL = `
WITH m AS (
    SELECT * FROM unnest(?0::bigint[], ?1::text[], ?2::bigint[], ?3::text[], ?4::text[], ?5::text[], ?6::jsonb[], ?7::boolean[], ?8::smallint[])
        WITH ORDINALITY AS m (user_id, event, request_id, title, body, link, actions, opt_in, access_level, ord)
), r AS (
    SELECT m.*, u.email AS to_address, u.name AS to_name,
        coalesce(p.in_app, NOT m.opt_in) AS in_app,
        coalesce(p.email, NOT m.opt_in) AS email,
        coalesce(s.email_digest, false) AS digest
    FROM m
    JOIN users AS u ON u.id = m.user_id AND u.status = 'active'
    LEFT JOIN notification_preferences AS p ON p.user_id = m.user_id AND p.event = m.event
    LEFT JOIN notification_settings AS s ON s.user_id = m.user_id
), n AS (
    INSERT INTO notifications (user_id, event, request_id, title, body, link, in_app, created_at, digest_pending, emailed, access_level)
    SELECT user_id, event, nullif(request_id, 0), title, body, link, in_app, ?9, email AND digest, email AND NOT digest, access_level
    FROM r
    WHERE in_app OR (email AND digest)
    ORDER BY ord
)
INSERT INTO email_outbox (user_id, to_address, to_name, subject, body_text, link, created_at, next_attempt_at, request_id, access_level, actions)
SELECT user_id, to_address, to_name, title, body, link, ?10, ?11, nullif(request_id, 0), access_level, actions
FROM r
WHERE email AND NOT digest
ORDER BY ord`

// Queue records msgs inside the caller's transaction tx: for each, as its recipient has chosen for its
// event, a notification in the portal, and either an email in the outbox now or a mark that puts it in
// the recipient's next daily digest. Disabled users get nothing. The whole batch is one statement.
func Queue(ctx context.Context, tx bun.IDB, now time.Time, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	n := len(msgs)
	users, requests := make([]int64, 0, n), make([]int64, 0, n)
	events, titles, bodies, links := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	actions, optIns, levels := make([]string, 0, n), make([]bool, 0, n), make([]int16, 0, n)
	for i, m := range msgs {
		m, err := m.check()
		if err != nil {
			return fmt.Errorf("queue notification %d of %d (%s to user %d): %w", i+1, n, m.Event, m.UserID, err)
		}
		users, requests = append(users, m.UserID), append(requests, m.RequestID)
		events, titles, bodies, links = append(events, m.Event), append(titles, m.Title), append(bodies, m.Body), append(links, m.Link)
		e, _ := Event(m.Event)
		acts, err := json.Marshal(append([]Action{}, m.Actions...))
		if err != nil {
			return fmt.Errorf("queue notification %d of %d: actions: %w", i+1, n, err)
		}
		actions, optIns, levels = append(actions, string(acts)), append(optIns, e.OptIn()), append(levels, int16(m.Access))
	}
	now = now.UTC().Truncate(time.Microsecond)
	_, err := database.ExecPrepared(ctx, tx, queueSQL,
		database.Array(users), database.Array(events), database.Array(requests),
		database.Array(titles), database.Array(bodies), database.Array(links), database.Array(actions), database.Array(optIns), database.Array(levels),
		now, now, now)
	if err != nil {
		return fmt.Errorf("queue %d notifications: %w", n, err)
	}
	return nil
}

// Notification is one thing a user was told.
type Notification struct {
	bun.BaseModel `bun:"table:notifications,alias:n"`

	ID            int64     `bun:"id,pk,autoincrement"`
	UserID        int64     `bun:"user_id"`
	Event         string    `bun:"event"`
	RequestID     int64     `bun:"request_id,nullzero"`
	Title         string    `bun:"title"`
	Body          string    `bun:"body"`
	Link          string    `bun:"link"`
	InApp         bool      `bun:"in_app"`
	CreatedAt     time.Time `bun:"created_at"`
	ReadAt        time.Time `bun:"read_at,nullzero"` // zero while unread
	DigestPending bool      `bun:"digest_pending"`
	Emailed       bool      `bun:"emailed"`
}

// Unread counts a user's unread notifications in the portal.
func Unread(ctx context.Context, db bun.IDB, userID int64) (int, error) {
	n, err := db.NewSelect().Model((*Notification)(nil)).
		Where("n.user_id = ? AND n.in_app AND n.read_at IS NULL", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count unread notifications of user %d: %w", userID, err)
	}
	return int(n), nil
}

// Page sizes of List.
const (
	defaultLimit = 20
	maxLimit     = 200
)

// List returns a page of a user's notifications in the portal, newest first, and how many there are.
func List(ctx context.Context, db bun.IDB, userID int64, limit, offset int) ([]Notification, int, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	var ns []Notification
	total, err := db.NewSelect().Model(&ns).
		Where("n.user_id = ? AND n.in_app", userID).
		OrderExpr("n.created_at DESC, n.id DESC").
		Limit(int64(min(limit, maxLimit))).Offset(int64(max(offset, 0))).
		ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list notifications of user %d: %w", userID, err)
	}
	return ns, int(total), nil
}

// Get returns one of a user's notifications in the portal. Another user's is problem.ErrNotFound.
func Get(ctx context.Context, db bun.IDB, userID, id int64) (*Notification, error) {
	n := new(Notification)
	err := db.NewSelect().Model(n).Where("n.id = ? AND n.user_id = ? AND n.in_app", id, userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("notification %d of user %d: %w", id, userID, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get notification %d: %w", id, err)
	}
	return n, nil
}

// MarkRead marks one of a user's notifications read (it stays read at the first time). Another user's
// is problem.ErrNotFound.
func MarkRead(ctx context.Context, db bun.IDB, userID, id int64, now time.Time) error {
	res, err := db.NewUpdate().Model((*Notification)(nil)).
		Set("read_at = coalesce(read_at, ?)", now.UTC()).
		Where("id = ? AND user_id = ? AND in_app", id, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark notification %d read: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("mark notification %d read: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("notification %d of user %d: %w", id, userID, problem.ErrNotFound)
	}
	return nil
}

// MarkAllRead marks every unread notification of a user read.
func MarkAllRead(ctx context.Context, db bun.IDB, userID int64, now time.Time) error {
	_, err := db.NewUpdate().Model((*Notification)(nil)).
		Set("read_at = ?", now.UTC()).
		Where("user_id = ? AND in_app AND read_at IS NULL", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark notifications of user %d read: %w", userID, err)
	}
	return nil
}

// SecurityEmail writes an email about someone's own account (their second factor was reset, their access
// ended) to the outbox inside the caller's transaction tx, whatever their notification settings, and
// whether or not their account is still active: such news must reach them.
func SecurityEmail(ctx context.Context, tx bun.IDB, now time.Time, userID int64, subject, body, link string) error {
	m, err := Message{UserID: userID, Event: EventAcknowledged, Title: subject, Body: body, Link: link}.check()
	if err != nil {
		return fmt.Errorf("security email to user %d: %w", userID, err)
	}
	now = now.UTC().Truncate(time.Microsecond)
	if _, err := tx.NewRaw(`INSERT INTO email_outbox (user_id, to_address, to_name, subject, body_text, link, created_at, next_attempt_at)
		SELECT id, email, name, ?, ?, ?, ?, ? FROM users WHERE id = ?`, m.Title, m.Body, m.Link, now, now, userID).Exec(ctx); err != nil {
		return fmt.Errorf("security email to user %d: %w", userID, err)
	}
	return nil
}
