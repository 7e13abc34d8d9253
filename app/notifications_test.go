package app

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
)

func (p *testPortal) notify(msgs ...notify.Message) {
	p.t.Helper()
	if err := notify.Queue(p.t.Context(), p.db.DB, p.clock.Now(), msgs...); err != nil {
		p.t.Fatal(err)
	}
}

func (p *testPortal) notificationsOf(u *identity.User) []notify.Notification {
	p.t.Helper()
	ns, _, err := notify.List(p.t.Context(), p.db.DB, u.ID, 100, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	return ns
}

func (p *testPortal) unread(u *identity.User) int {
	p.t.Helper()
	n, err := notify.Unread(p.t.Context(), p.db.DB, u.ID)
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

func TestNotificationsListAndRead(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	me, other := p.users[identity.RoleRequester], p.users[identity.RoleNSIGMember]
	p.notify(
		notify.Message{UserID: me.ID, Event: notify.EventAcknowledged, Title: "ENH-2026-0042 has been acknowledged",
			Body: "Payslip tweaks <b>bold</b>", Link: "/requests/ENH-2026-0042"},
		notify.Message{UserID: me.ID, Event: notify.EventComment, Title: "A note without a link"},
		notify.Message{UserID: other.ID, Event: notify.EventComment, Title: "Not for your eyes"},
	)
	mine, theirs := p.notificationsOf(me), p.notificationsOf(other)[0]
	withLink := mine[1] // newest first: the one without a link was queued second
	if withLink.Link == "" {
		withLink = mine[0]
	}

	b := p.as(me)
	res := b.get("/notifications")
	mustStatus(t, res, 200, "notifications")
	for _, want := range []string{"ENH-2026-0042 has been acknowledged", "A note without a link", "You have 2 unread notifications",
		"Mark all as read", "Payslip tweaks &lt;b&gt;bold&lt;/b&gt;", `href="/account/notifications"`, ">Open<", ">Mark as read<"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if strings.Contains(res.body, "Not for your eyes") {
		t.Error("the list shows another user's notification")
	}

	// Another user's notification is not found, and stays unread.
	res = b.post(fmt.Sprintf("/notifications/%d/read", theirs.ID), nil)
	mustStatus(t, res, 404, "reading another user's notification")
	if p.unread(other) != 1 {
		t.Error("another user's notification was marked read")
	}
	mustStatus(t, b.post("/notifications/nope/read", nil), 404, "a notification id that is not a number")

	// Opening one marks it read and goes where it links.
	res = b.post(fmt.Sprintf("/notifications/%d/read", withLink.ID), nil)
	mustStatus(t, res, 303, "open a notification")
	if loc := res.header.Get("Location"); loc != "/requests/ENH-2026-0042" {
		t.Errorf("opened to %q", loc)
	}
	if n := p.unread(me); n != 1 {
		t.Errorf("unread = %d after opening one, want 1", n)
	}

	res = b.post("/notifications/read-all", nil)
	mustStatus(t, res, 303, "mark all read")
	if loc := res.header.Get("Location"); loc != "/notifications" {
		t.Errorf("mark all read went to %q", loc)
	}
	res = b.get("/notifications")
	for _, want := range []string{"All your notifications are marked as read", "You have no unread notifications."} {
		if !strings.Contains(res.body, want) {
			t.Errorf("after marking all read, the page lacks %q", want)
		}
	}
	if strings.Contains(res.body, "Mark all as read") || strings.Contains(res.body, ">Unread<") {
		t.Error("the page still offers to mark all read or shows unread notifications")
	}
	if p.unread(me) != 0 || p.unread(other) != 1 {
		t.Errorf("unread: mine %d, theirs %d", p.unread(me), p.unread(other))
	}

	// Anonymous visitors are sent to sign in.
	res = p.anonymous().get("/notifications")
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/sign-in") {
		t.Errorf("anonymous: %d %s", res.status, res.header.Get("Location"))
	}
}

// checkbox finds the input with id on the page and reports whether it is checked.
func checkbox(t *testing.T, body, id string) bool {
	t.Helper()
	m := regexp.MustCompile(`<input[^>]*\sid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(body)
	if m == "" {
		t.Fatalf("no input %s on the page", id)
	}
	return strings.Contains(m, " checked")
}

// eventIndex is the position of an event's checkbox in its group: the first has the group's name as its
// id, the n-th name-n.
func eventID(group, key string) string {
	for i, e := range notify.Events {
		if e.Key == key {
			if i == 0 {
				return group
			}
			return fmt.Sprintf("%s-%d", group, i+1)
		}
	}
	panic("unknown event " + key)
}

// Someone with thousands of unread notifications is not made to wait for them to be counted on every
// page: the header counts to 100 and says "99+"; the notifications page says how many exactly.
func TestUnreadCountStopsAtTheHeadersCap(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	me := p.users[identity.RoleRequester]
	b := p.as(me)
	badge := func() string {
		t.Helper()
		res := b.get("/account")
		mustStatus(t, res, 200, "account page")
		m := regexp.MustCompile(`<span class="portal-badge">([^<]*)<span class="nhsuk-u-visually-hidden"> unread</span>`).FindStringSubmatch(res.body)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	queue := func(n int) {
		t.Helper()
		msgs := make([]notify.Message, n)
		for i := range msgs {
			msgs[i] = notify.Message{UserID: me.ID, Event: notify.EventComment, Title: fmt.Sprintf("Comment %d", i+1)}
		}
		p.notify(msgs...)
	}
	for _, step := range []struct {
		add   int
		badge string
		page  string
	}{{99, "99", "You have 99 unread notifications"}, {1, "99+", "You have 100 unread notifications"}, {50, "99+", "You have 150 unread notifications"}, {900, "99+", "You have 1,050 unread notifications"}} {
		queue(step.add)
		if got := badge(); got != step.badge {
			t.Errorf("the header says %q unread, want %q", got, step.badge)
		}
		if res := b.get("/notifications"); !strings.Contains(res.body, step.page) {
			t.Errorf("the notifications page does not say %q", step.page)
		}
	}
}

func TestNotificationSettings(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	// An NSIG member, whom every event can reach, so is offered them all.
	me := p.users[identity.RoleNSIGMember]
	b := p.as(me)

	res := b.get("/account/notifications")
	mustStatus(t, res, 200, "settings")
	for _, e := range notify.Events {
		inApp, email := checkbox(t, res.body, eventID("in_app", e.Key)), checkbox(t, res.body, eventID("email", e.Key))
		if e.OptIn() && (inApp || email) {
			t.Errorf("%s is opt-in but ticked by default", e.Key)
		}
		if !e.OptIn() && (!inApp || !email) {
			t.Errorf("%s is not ticked by default", e.Key)
		}
	}
	if !checkbox(t, res.body, "emails") || checkbox(t, res.body, "emails-2") {
		t.Error("emails are not straight away by default")
	}

	// Without a frequency the page comes back with 422 and the boxes as they were ticked.
	res = b.post("/account/notifications", url.Values{"in_app": {notify.EventComment}, "email": {notify.EventMention}})
	mustStatus(t, res, 422, "no frequency")
	for _, want := range []string{"There is a problem", `href="#emails"`, "Select how often we should email you"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("422 page lacks %q", want)
		}
	}
	for _, e := range notify.Events {
		if got, want := checkbox(t, res.body, eventID("in_app", e.Key)), e.Key == notify.EventComment; got != want {
			t.Errorf("in the portal, %s ticked = %v, want %v", e.Key, got, want)
		}
		if got, want := checkbox(t, res.body, eventID("email", e.Key)), e.Key == notify.EventMention; got != want {
			t.Errorf("by email, %s ticked = %v, want %v", e.Key, got, want)
		}
	}
	// An event that does not exist is refused.
	res = b.post("/account/notifications", url.Values{"in_app": {"exploded"}, "emails": {"daily"}})
	mustStatus(t, res, 422, "unknown event")
	if !strings.Contains(res.body, `<a href="#in_app">Select from the list</a>`) || !checkbox(t, res.body, "emails-2") {
		t.Error("the unknown event is not reported, or the chosen frequency was lost")
	}
	if n := p.eventCount("notification.preferences_changed"); n != 0 {
		t.Fatalf("a refused form was saved: %d audit events", n)
	}

	res = b.post("/account/notifications", url.Values{
		"in_app": {notify.EventComment, notify.EventMention}, "email": {notify.EventMention}, "emails": {"daily"},
	})
	mustStatus(t, res, 303, "save settings")
	if loc := res.header.Get("Location"); loc != "/account/notifications" {
		t.Errorf("saved to %q", loc)
	}
	res = b.get("/account/notifications")
	if !strings.Contains(res.body, "Your notification settings have been saved") {
		t.Error("no confirmation after saving")
	}
	if !checkbox(t, res.body, "emails-2") || !checkbox(t, res.body, eventID("in_app", notify.EventMention)) ||
		checkbox(t, res.body, eventID("email", notify.EventComment)) {
		t.Error("the page does not show what was saved")
	}
	digest, prefs, err := notify.Preferences(t.Context(), p.db.DB, me.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !digest {
		t.Error("the digest was not saved")
	}
	for _, pr := range prefs {
		wantInApp := pr.Event == notify.EventComment || pr.Event == notify.EventMention
		wantEmail := pr.Event == notify.EventMention
		if pr.InApp != wantInApp || pr.Email != wantEmail {
			t.Errorf("saved %+v", pr)
		}
	}
	if n := p.eventCount("notification.preferences_changed"); n != 1 {
		t.Errorf("%d audit events for the change, want 1", n)
	}
}

func (p *testPortal) eventCount(action string) int {
	p.t.Helper()
	_, n, err := audit.List(p.t.Context(), p.db.DB, audit.Filter{Action: action})
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

func TestAdminMailView(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	to := p.users[identity.RoleRequester]
	p.notify(notify.Message{UserID: to.ID, Event: notify.EventAcknowledged, Title: "ENH-2026-0042 has been acknowledged",
		Body: "We have your request.", Link: "/requests/ENH-2026-0042"})
	sender := notify.NewSender(p.db.DB, nil, p.app.cfg.BaseURL.String(), nil, p.clock.Now)
	if n, err := sender.RunOnce(t.Context()); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	p.notify(notify.Message{UserID: to.ID, Event: notify.EventComment, Title: "New comment on ENH-2026-0042"})
	es, total, err := notify.ListOutbox(t.Context(), p.db.DB, 10, 0)
	if err != nil || total != 2 {
		t.Fatalf("outbox: %d, %v", total, err)
	}
	kept := es[1]

	admin := p.as(p.users[identity.RoleAdmin])
	res := admin.get("/admin/mail")
	mustStatus(t, res, 200, "mail index")
	for _, want := range []string{"ENH-2026-0042 has been acknowledged", "New comment on ENH-2026-0042", "Kept here", "Waiting", to.Email,
		fmt.Sprintf(`href="/admin/mail/%d"`, kept.ID)} {
		if !strings.Contains(res.body, want) {
			t.Errorf("mail index lacks %q", want)
		}
	}
	res = admin.get(fmt.Sprintf("/admin/mail/%d", kept.ID))
	mustStatus(t, res, 200, "mail show")
	for _, want := range []string{"Message-ID", "&lt;" + kept.MessageID + "&gt;", "Hello " + to.Name, "We have your request.",
		"http://localhost:3000/requests/ENH-2026-0042", "http://localhost:3000/account/notifications", "SMTP is not configured"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("mail show lacks %q", want)
		}
	}
	mustStatus(t, admin.get("/admin/mail/999999"), 404, "no such email")
	mustStatus(t, admin.get("/admin/mail/x"), 404, "an email id that is not a number")

	for _, role := range []string{identity.RoleRequester, identity.RoleCentralTeam} {
		b := p.as(p.users[role])
		mustStatus(t, b.get("/admin/mail"), 403, role+" reading the mail index")
		mustStatus(t, b.get(fmt.Sprintf("/admin/mail/%d", kept.ID)), 403, role+" reading an email")
	}
}
