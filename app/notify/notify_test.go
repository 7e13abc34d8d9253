package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

func TestQueueHonoursPreferences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	both := f.user("Default Dana")
	inAppOnly := f.user("Portal Pat")
	f.setPrefs(inAppOnly, false, Preference{Event: EventComment, InApp: true, Email: false})
	emailOnly := f.user("Email Eli")
	f.setPrefs(emailOnly, false, Preference{Event: EventComment, InApp: false, Email: true})
	digest := f.user("Digest Dee")
	f.setPrefs(digest, true)
	digestOnly := f.user("Digest Only Dev")
	f.setPrefs(digestOnly, true, Preference{Event: EventComment, InApp: false, Email: true})
	nothing := f.user("Quiet Quinn")
	f.setPrefs(nothing, false, Preference{Event: EventComment, InApp: false, Email: false})
	disabled := f.user("Gone Gita")
	f.disable(disabled)

	// One batch to everyone.
	var msgs []Message
	for _, id := range []int64{both, inAppOnly, emailOnly, digest, digestOnly, nothing, disabled} {
		msgs = append(msgs, comment(id, 1))
	}
	f.queue(msgs...)

	tests := []struct {
		name                       string
		user                       int64
		inApp, digestPending, sent bool // sent: an email in the outbox now
		rows                       int
	}{
		{"defaults: portal and email straight away", both, true, false, true, 1},
		{"portal only", inAppOnly, true, false, false, 1},
		{"email only: no notification row", emailOnly, false, false, true, 0},
		{"digest: portal now, email later", digest, true, true, false, 1},
		{"digest only: a row kept for the digest, not shown", digestOnly, false, true, false, 1},
		{"nothing", nothing, false, false, false, 0},
		{"disabled user gets nothing", disabled, false, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := f.notifications(tt.user)
			if len(ns) != tt.rows {
				t.Fatalf("%d notification rows, want %d", len(ns), tt.rows)
			}
			if tt.rows == 1 {
				n := ns[0]
				if n.InApp != tt.inApp || n.DigestPending != tt.digestPending || n.Emailed != tt.sent {
					t.Errorf("in_app %v digest_pending %v emailed %v, want %v %v %v", n.InApp, n.DigestPending, n.Emailed, tt.inApp, tt.digestPending, tt.sent)
				}
				if n.Event != EventComment || n.Link != "/requests/ENH-2026-0042" || n.RequestID != 0 || !n.ReadAt.IsZero() {
					t.Errorf("stored %+v", n)
				}
			}
			es := f.outboxTo(tt.user)
			if got := len(es) == 1; got != tt.sent || len(es) > 1 {
				t.Fatalf("%d emails in the outbox, want sent=%v", len(es), tt.sent)
			}
			if tt.sent {
				e := es[0]
				if e.Subject != "New comment 1 on ENH-2026-0042" || e.Link != "/requests/ENH-2026-0042" || e.Attempts != 0 ||
					!strings.HasSuffix(e.MessageID, "@esr-portal") || e.Sent() || !e.NextAttemptAt.Equal(f.clock.Now()) {
					t.Errorf("outbox row %+v", e)
				}
			}
			unread, err := Unread(t.Context(), f.db, tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.inApp]; unread != want {
				t.Errorf("unread %d, want %d", unread, want)
			}
		})
	}

	// A preference is per event: Portal Pat still gets emails about mentions.
	f.queue(Message{UserID: inAppOnly, Event: EventMention, Title: "You were mentioned on ENH-2026-0042"})
	if es := f.outboxTo(inAppOnly); len(es) != 1 || es[0].Subject != "You were mentioned on ENH-2026-0042" {
		t.Fatalf("mention email: %+v", es)
	}
}

// TestScheduleNewsReachesEveryoneUnlessTheyOptOut: the news of a new Development Schedule is sent in the
// portal and by email to everyone it is meant for, except in the ways each has turned off.
func TestScheduleNewsReachesEveryoneUnlessTheyOptOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	never := f.user("Never Chose Nia")
	portal := f.user("Portal Pia")
	f.setPrefs(portal, false, Preference{Event: EventSchedulePublished, InApp: true})
	off := f.user("Opted Out Olu")
	f.setPrefs(off, false, Preference{Event: EventSchedulePublished})
	var msgs []Message
	for _, id := range []int64{never, portal, off} {
		msgs = append(msgs, Message{UserID: id, Event: EventSchedulePublished, Title: "The Development Schedule is published", Link: "/schedules/1"})
	}
	f.queue(msgs...)
	for _, tc := range []struct {
		user         int64
		rows, emails int
	}{{never, 1, 1}, {portal, 1, 0}, {off, 0, 0}} {
		if n, e := len(f.notifications(tc.user)), len(f.outboxTo(tc.user)); n != tc.rows || e != tc.emails {
			t.Errorf("user %d: %d notifications and %d emails, want %d and %d", tc.user, n, e, tc.rows, tc.emails)
		}
	}
}

func TestQueueIsPartOfTheCallersTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Rolled Back")
	errRollback := errors.New("the change failed")
	err := database.RunInTx(t.Context(), f.db, func(ctx context.Context, tx bun.Tx) error {
		if err := Queue(ctx, tx, f.clock.Now(), comment(u, 1)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if n := count(t, f.db, "SELECT count(*) FROM notifications"); n != 0 {
		t.Errorf("%d notifications after a rollback", n)
	}
	if n := count(t, f.db, "SELECT count(*) FROM email_outbox"); n != 0 {
		t.Errorf("%d emails after a rollback", n)
	}
}

func TestQueueKeepsTextExactly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Ffion Ŵyn")
	title := `ENH-2026-0042 "Pay £5", {braces}, back\slash, NULL – é ŷ`
	body := "First line, with \"quotes\" and {braces}.\n\nSecond paragraph: \\N and NULL and ,."
	f.queue(Message{UserID: u, Event: EventAnswered, Title: "  " + title + "\n", Body: body, Link: "/requests/ENH-2026-0042?tab=questions#q1"})
	ns := f.notifications(u)
	if len(ns) != 1 || ns[0].Title != title || ns[0].Body != body || ns[0].Link != "/requests/ENH-2026-0042?tab=questions#q1" {
		t.Fatalf("stored %+v", ns)
	}
	es := f.outboxTo(u)
	if len(es) != 1 || es[0].Subject != title || es[0].BodyText != body || es[0].ToName != "Ffion Ŵyn" {
		t.Fatalf("outbox %+v", es)
	}
}

func TestQueueRefusesBadMessages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Valid Val")
	good := comment(u, 1)
	tests := []struct {
		name string
		edit func(*Message)
	}{
		{"unknown event", func(m *Message) { m.Event = "exploded" }},
		{"no user", func(m *Message) { m.UserID = 0 }},
		{"no title", func(m *Message) { m.Title = " \n " }},
		{"link to another site", func(m *Message) { m.Link = "//evil.example/phish" }},
		{"absolute link", func(m *Message) { m.Link = "https://evil.example/" }},
		{"backslash link", func(m *Message) { m.Link = `/\evil.example` }},
		{"link with spaces", func(m *Message) { m.Link = "/requests/ENH 1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := good
			tt.edit(&bad)
			if err := Queue(t.Context(), f.db, f.clock.Now(), good, bad); err == nil {
				t.Fatal("queued a bad message")
			}
		})
	}
	if n := count(t, f.db, "SELECT count(*) FROM notifications"); n != 0 {
		t.Errorf("a refused batch wrote %d notifications", n)
	}
	if err := Queue(t.Context(), f.db, f.clock.Now()); err != nil {
		t.Errorf("an empty batch: %v", err)
	}
}

func TestQueueLinksToRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Raiser Rae")
	var reqID int64
	err := f.db.NewRaw(`INSERT INTO requests (kind, reference, title, status, organisation_id, raised_by_id, received_at, ack_due_on,
		submission_token, created_at, updated_at)
		VALUES ('enhancement', 'ENH-2026-0042', 'Payslip tweaks', 'submitted', ?, ?, now(), current_date, gen_random_uuid(), now(), now())
		RETURNING id`, f.org, u).Scan(t.Context(), &reqID)
	if err != nil {
		t.Fatal(err)
	}
	m := comment(u, 1)
	m.RequestID = reqID
	f.queue(m)
	if ns := f.notifications(u); len(ns) != 1 || ns[0].RequestID != reqID {
		t.Fatalf("stored %+v", ns)
	}
	// Removing the request removes its notifications.
	if _, err := f.db.NewRaw("DELETE FROM requests WHERE id = ?", reqID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ns := f.notifications(u); len(ns) != 0 {
		t.Fatalf("notifications outlived their request: %+v", ns)
	}
}

func TestQueueShortensLongText(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Long Winded")
	title := strings.Repeat("é", maxTitle) // two bytes each
	body := strings.Repeat("word ", maxBody) + "\x00\xff"
	f.queue(Message{UserID: u, Event: EventComment, Title: title, Body: body})
	ns := f.notifications(u)
	if len(ns) != 1 {
		t.Fatalf("%d notifications", len(ns))
	}
	n := ns[0]
	if len(n.Title) > maxTitle || !strings.HasSuffix(n.Title, "é…") || !utf8.ValidString(n.Title) {
		t.Errorf("title cut to %d bytes: …%q", len(n.Title), n.Title[len(n.Title)-10:])
	}
	if len(n.Body) > maxBody || !strings.HasSuffix(n.Body, "…") || !strings.HasPrefix(n.Body, "word word") {
		t.Errorf("body cut to %d bytes", len(n.Body))
	}
	m, err := Message{UserID: u, Event: EventComment, Title: "a\x00b", Body: "c\xffd"}.check()
	if err != nil || m.Title != "a\uFFFDb" || m.Body != "c\uFFFDd" {
		t.Errorf("check = %+v, %v", m, err)
	}
}

func TestUnreadListAndMarkRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	me := f.user("Me Myself")
	other := f.user("Someone Else")
	for i := 1; i <= 3; i++ {
		f.queue(comment(me, i))
		f.clock.Advance(time.Minute)
	}
	f.queue(comment(other, 9))
	theirs := f.notifications(other)[0]

	if n, err := Unread(ctx, f.db, me); err != nil || n != 3 {
		t.Fatalf("unread = %d, %v; want 3", n, err)
	}
	page, total, err := List(ctx, f.db, me, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 3 || len(page) != 2 || page[0].Title != "New comment 3 on ENH-2026-0042" || page[1].Title != "New comment 2 on ENH-2026-0042" {
		t.Fatalf("first page %d of %d: %+v", len(page), total, page)
	}
	page, _, err = List(ctx, f.db, me, 2, 2)
	if err != nil || len(page) != 1 || page[0].Title != "New comment 1 on ENH-2026-0042" {
		t.Fatalf("second page: %+v, %v", page, err)
	}

	// Another user's notification cannot be read or marked.
	if err := MarkRead(ctx, f.db, me, theirs.ID, f.clock.Now()); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("marking another user's notification: %v", err)
	}
	if _, err := Get(ctx, f.db, me, theirs.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("getting another user's notification: %v", err)
	}
	if n, _ := Unread(ctx, f.db, other); n != 1 {
		t.Fatalf("the other user's notification changed: unread %d", n)
	}

	first := page[0]
	readAt := f.clock.Now()
	if err := MarkRead(ctx, f.db, me, first.ID, readAt); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if err := MarkRead(ctx, f.db, me, first.ID, f.clock.Now()); err != nil {
		t.Fatalf("marking read twice: %v", err)
	}
	got, err := Get(ctx, f.db, me, first.ID)
	if err != nil || !got.ReadAt.Equal(readAt) {
		t.Fatalf("read at %v, want the first time %v (%v)", got.ReadAt, readAt, err)
	}
	if n, _ := Unread(ctx, f.db, me); n != 2 {
		t.Fatalf("unread = %d after marking one read, want 2", n)
	}
	if err := MarkAllRead(ctx, f.db, me, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n, _ := Unread(ctx, f.db, me); n != 0 {
		t.Fatalf("unread = %d after marking all read", n)
	}
	if n, _ := Unread(ctx, f.db, other); n != 1 {
		t.Fatalf("marking all read touched another user's: unread %d", n)
	}
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	u := f.user("Choosy Chris")
	digest, prefs, err := Preferences(ctx, f.db, u)
	if err != nil {
		t.Fatal(err)
	}
	if digest || len(prefs) != len(Events) {
		t.Fatalf("defaults: digest %v, %d preferences", digest, len(prefs))
	}
	for i, p := range prefs {
		on := !Events[i].OptIn() // opt-in events start off, every other one on
		if p.Event != Events[i].Key || p.InApp != on || p.Email != on {
			t.Errorf("default %+v", p)
		}
	}

	actor := audit.Actor{UserID: u, Name: "Choosy Chris"}
	changes := []Preference{
		{Event: EventComment, InApp: true, Email: false},
		{Event: EventMention, InApp: false, Email: false},
		{Event: EventWithdrawn, InApp: false, Email: true},
	}
	if err := SavePreferences(ctx, f.db, actor, f.clock.Now(), u, true, changes); err != nil {
		t.Fatal(err)
	}
	digest, prefs, err = Preferences(ctx, f.db, u)
	if err != nil {
		t.Fatal(err)
	}
	if !digest {
		t.Error("digest not saved")
	}
	want := map[string]Preference{}
	for _, c := range changes {
		want[c.Event] = c
	}
	for _, p := range prefs {
		w, ok := want[p.Event]
		if !ok {
			e, _ := Event(p.Event)
			w = Preference{Event: p.Event, InApp: !e.OptIn(), Email: !e.OptIn()}
		}
		if p != w {
			t.Errorf("preference %+v, want %+v", p, w)
		}
	}
	events, _, err := audit.List(ctx, f.db, audit.Filter{Action: "notification.preferences_changed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].EntityID != itoa(u) {
		t.Fatalf("%d audit events", len(events))
	}
	var before, after map[string]string
	if err := json.Unmarshal(events[0].Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(events[0].After, &after); err != nil {
		t.Fatal(err)
	}
	if before["emails"] != "straight away" || before[EventMention] != "portal, email" ||
		after["emails"] != "daily digest" || after[EventMention] != "none" || after[EventComment] != "portal" || after[EventWithdrawn] != "email" {
		t.Fatalf("audited before %v, after %v", before, after)
	}

	// Saving the same again changes and audits nothing; back to the defaults leaves no rows.
	if err := SavePreferences(ctx, f.db, actor, f.clock.Now(), u, true, changes); err != nil {
		t.Fatal(err)
	}
	if n := count(t, f.db, "SELECT count(*) FROM audit_events WHERE action = 'notification.preferences_changed'"); n != 1 {
		t.Errorf("%d audit events after saving no change, want 1", n)
	}
	all := make([]Preference, 0, len(Events))
	for _, e := range Events {
		all = append(all, Preference{Event: e.Key, InApp: !e.OptIn(), Email: !e.OptIn()})
	}
	if err := SavePreferences(ctx, f.db, actor, f.clock.Now(), u, false, all); err != nil {
		t.Fatal(err)
	}
	if n := count(t, f.db, "SELECT count(*) FROM notification_preferences WHERE user_id = ?", u); n != 0 {
		t.Errorf("%d preference rows for the defaults", n)
	}

	if err := SavePreferences(ctx, f.db, actor, f.clock.Now(), u, false, []Preference{{Event: "nope"}}); err == nil {
		t.Error("saved an unknown event")
	}
	if err := SavePreferences(ctx, f.db, actor, f.clock.Now(), 999999, false, nil); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("saving for no such user: %v", err)
	}
}

func TestEventsAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Events {
		if seen[e.Key] || e.Title == "" || e.Description == "" {
			t.Errorf("event %+v is repeated or lacks words", e)
		}
		seen[e.Key] = true
	}
	for _, k := range []string{EventAcknowledged, EventClassified, EventInformationRequested, EventAnswered, EventDecisionNeeded, EventComment, EventMention, EventWithdrawn} {
		if !seen[k] {
			t.Errorf("event %s is not in Events", k)
		}
	}
}

// TestSentEmailsForgetLinkTokens: a one-time link's token is its recipient's alone; once the email has
// gone (here, kept for the mail view without SMTP) the outbox no longer holds it, in the link or the text.
func TestSentEmailsForgetLinkTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Token Tess")
	f.queue(Message{UserID: u, Event: EventDecisionNeeded, Title: "Decide on ENH-2026-0042", Body: "Or paste /links/secretToken_42 into your browser",
		Link: "/links/secretToken_42"})
	if _, err := f.sender(nil).RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	es := f.outboxTo(u)
	if len(es) != 1 || !es[0].Sent() {
		t.Fatalf("emails %+v", es)
	}
	if strings.Contains(es[0].Link+es[0].BodyText, "secretToken_42") || es[0].Link != "/links/[sent]" {
		t.Errorf("the sent email keeps its token: link %q, text %q", es[0].Link, es[0].BodyText)
	}
}

// TestActionsGoOnlyToTheEmail: a message's actions are kept with its email, as names, words and
// versions (never links: those are made when the email is sent); the notification in the portal has
// none. Actions that make no sense are refused.
func TestActionsGoOnlyToTheEmail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Linked Lee")
	requestID := f.request(u, "ENH-2026-0042")
	acts := []Action{{Name: "approve", Label: "Approve ENH-2026-0042", Version: 7}, {Name: "defer", Label: "Defer ENH-2026-0042", Version: 7}}
	f.queue(Message{UserID: u, Event: EventDecisionNeeded, RequestID: requestID, Title: "Decide on ENH-2026-0042", Link: "/requests/ENH-2026-0042", Actions: acts})
	if ns := f.notifications(u); len(ns) != 1 || ns[0].Link != "/requests/ENH-2026-0042" {
		t.Errorf("notifications %+v", ns)
	}
	es := f.outboxTo(u)
	if len(es) != 1 || es[0].Link != "/requests/ENH-2026-0042" || fmt.Sprint(es[0].Actions) != fmt.Sprint(acts) || es[0].Level != "" {
		t.Errorf("emails %+v", es)
	}
	for name, bad := range map[string]Message{
		"no request":          {UserID: u, Event: EventDecisionNeeded, Title: "x", Actions: acts},
		"no label":            {UserID: u, Event: EventDecisionNeeded, RequestID: requestID, Title: "x", Actions: []Action{{Name: "approve"}}},
		"no name":             {UserID: u, Event: EventDecisionNeeded, RequestID: requestID, Title: "x", Actions: []Action{{Label: "Approve"}}},
		"bad version":         {UserID: u, Event: EventDecisionNeeded, RequestID: requestID, Title: "x", Actions: []Action{{Name: "approve", Label: "Approve", Version: -1}}},
		"too many":            {UserID: u, Event: EventDecisionNeeded, RequestID: requestID, Title: "x", Actions: slices.Repeat(acts, 5)},
		"link off the portal": {UserID: u, Event: EventDecisionNeeded, Title: "x", Link: "https://evil.example/"},
	} {
		if err := Queue(t.Context(), f.db, f.clock.Now(), bad); err == nil {
			t.Errorf("%s: queued", name)
		}
	}
}
