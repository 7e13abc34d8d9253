package app

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
)

func TestDowntimeNotices(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	admin := p.as(p.users[identity.RoleAdmin])
	// One user asked to be emailed about planned downtime; the others did not.
	keen := p.users[identity.RoleRequester]
	if _, err := p.db.DB.NewRaw(`INSERT INTO notification_preferences (user_id, event, in_app, email) VALUES (?, ?, true, true)`,
		keen.ID, notify.EventDowntime).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The clock is 09:00 on Friday 20 November 2026: downtime on Monday 23rd, 18:00 to 20:00.
	form := url.Values{"kind": {"planned"}, "message": {"ESR Release 73 is being installed."},
		"starts-day": {"23"}, "starts-month": {"11"}, "starts-year": {"2026"}, "starts-time": {"18:00"},
		"ends-day": {"23"}, "ends-month": {"11"}, "ends-year": {"2026"}, "ends-time": {"20:00"}, "show_days": {"2"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("ends-time", "17:00")
	res := admin.post("/admin/downtime", bad)
	mustStatus(t, res, 422, "ends before it starts")
	if !strings.Contains(res.body, "The end must be after the start") || !strings.Contains(res.body, "ESR Release 73 is being installed.") {
		t.Error("the error is not shown, or the message typed is lost")
	}
	bad.Set("ends-time", "20:00")
	bad.Set("starts-day", "19")
	mustStatus(t, admin.post("/admin/downtime", bad), 422, "starts in the past")
	bad.Set("starts-day", "23")
	bad.Set("starts-time", "25:00")
	mustStatus(t, admin.post("/admin/downtime", bad), 422, "a time that is not one")
	mustStatus(t, admin.post("/admin/downtime", url.Values{"kind": {"maybe"}}), 422, "an unknown kind")
	mustStatus(t, p.as(p.users[identity.RoleCentralTeam]).post("/admin/downtime", form), 403, "the central team announces downtime")

	mustStatus(t, admin.post("/admin/downtime", form), 303, "announce")
	if !auditMentions(t, p, "downtime.announced") {
		t.Error("the notice is not audited")
	}
	var to []string
	if err := p.db.DB.NewSelect().Table("email_outbox").Column("to_address").Where("subject LIKE 'Planned downtime%'").Scan(t.Context(), &to); err != nil {
		t.Fatal(err)
	}
	if len(to) != 1 || to[0] != keen.Email {
		t.Errorf("the downtime email went to %v, want only %s", to, keen.Email)
	}
	// Shown from two days before: not yet on Friday morning.
	if strings.Contains(p.anonymous().get("/sign-in").body, "Planned downtime") {
		t.Error("the banner shows three days before")
	}
	p.clock.Advance(36 * time.Hour) // Saturday 21:00
	p.app.notices.forget()
	for _, b := range []*browser{p.anonymous(), p.as(keen)} {
		path := "/sign-in"
		if b.cookies[p.app.sessionCookieName()] != "" {
			path = "/requests"
		}
		if res := b.get(path); !strings.Contains(res.body, "Planned downtime") || !strings.Contains(res.body, "ESR Release 73 is being installed.") {
			t.Errorf("%s: no banner two days before", path)
		}
	}
	// During the window: pages are served, read-only, and say so; changes are refused; signing in works.
	p.clock.Advance(45*time.Hour + 30*time.Minute) // Monday 18:30
	p.app.notices.forget()
	user := p.as(keen)
	res = user.get("/requests")
	mustStatus(t, res, 200, "a page during the downtime")
	if !strings.Contains(res.body, "read-only for planned maintenance") {
		t.Error("the page does not say the portal is read-only")
	}
	res = user.post("/account/sessions/end-others", nil)
	mustStatus(t, res, 503, "a change during the downtime")
	if !strings.Contains(res.body, "read-only for planned maintenance until 8:00pm") || res.header.Get("Retry-After") == "" {
		t.Errorf("the refusal does not say until when:\n%s", excerpt(res.body))
	}
	mustStatus(t, p.anonymous().signIn(keen.Email, testPassword), 303, "sign in during the downtime")

	// Afterwards it is listed among past notices.
	p.clock.Advance(2 * time.Hour)
	p.app.notices.forget()
	res = p.anonymous().get("/downtime")
	mustStatus(t, res, 200, "notices")
	if i := strings.Index(res.body, "Past notices"); i < 0 || !strings.Contains(res.body[i:], "ESR Release 73") {
		t.Error("the notice is not listed as past")
	}
	if strings.Contains(p.anonymous().get("/sign-in").body, "Planned downtime") {
		t.Error("the banner shows after the downtime")
	}

	// An emergency shows at once, and goes when withdrawn.
	admin = p.as(p.users[identity.RoleAdmin])
	mustStatus(t, admin.post("/admin/downtime", url.Values{"kind": {"emergency"}, "message": {"Sign-in is failing for some users."},
		"ends-day": {"24"}, "ends-month": {"11"}, "ends-year": {"2026"}, "ends-time": {"09:00"}}), 303, "an emergency")
	if !strings.Contains(p.anonymous().get("/sign-in").body, "Sign-in is failing for some users.") {
		t.Error("the emergency notice does not show at once")
	}
	var id string
	if err := p.db.DB.NewSelect().Table("downtime_notices").ColumnExpr("id::text").Where("kind = 'emergency'").Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, admin.post("/admin/downtime/"+id+"/withdraw", nil), 303, "withdraw")
	if strings.Contains(p.anonymous().get("/sign-in").body, "Sign-in is failing") {
		t.Error("the withdrawn notice still shows")
	}
	mustStatus(t, admin.post("/admin/downtime/999999/withdraw", nil), 404, "withdraw an unknown notice")
}
