package app

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
)

var sessionEndForm = regexp.MustCompile(`action="/account/sessions/(\d+)/end"`)

func TestUsersSeeAndEndTheirSessions(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	here, laptop := p.as(u), p.as(u)
	other := p.as(p.users[identity.RoleFunctionalAccountManager])
	token, err := identity.StartSession(t.Context(), p.db.DB, u.ID, p.clock.Now(), identity.Client{IP: "192.0.2.7",
		UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1"}, identity.Passed{})
	if err != nil {
		t.Fatal(err)
	}
	phone := p.anonymous()
	phone.cookies[p.app.sessionCookieName()] = token

	mustStatus(t, here.get("/account"), 200, "account page")
	res := here.get("/account/sessions")
	mustStatus(t, res, 200, "sessions page")
	ids := sessionEndForm.FindAllStringSubmatch(res.body, -1)
	if len(ids) != 3 || !strings.Contains(res.body, "This device") {
		t.Fatalf("%d sessions listed, want 3 with this one marked", len(ids))
	}
	if strings.Contains(res.body, "token") {
		t.Error("the sessions page mentions a token")
	}

	// Someone else's session cannot be named.
	theirs := sessionEndForm.FindStringSubmatch(other.get("/account/sessions").body)[1]
	mustStatus(t, here.post("/account/sessions/"+theirs+"/end", nil), 404, "end someone else's session")
	mustStatus(t, other.get("/"), 200, "their session is untouched")

	// End the phone's, by its number (the most recently used is listed first).
	var phoneID int64
	if err := p.db.DB.NewSelect().Table("sessions").Column("id").Where("user_id = ? AND user_agent LIKE '%iPhone%'", u.ID).Scan(t.Context(), &phoneID); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.body, "Safari on iPhone") {
		t.Error("the phone is not named")
	}
	mustStatus(t, here.post(fmt.Sprintf("/account/sessions/%d/end", phoneID), nil), 303, "end the phone's session")
	if res := phone.get("/"); res.status != 303 {
		t.Errorf("the phone is still signed in: %d", res.status)
	}
	mustStatus(t, laptop.get("/"), 200, "the laptop is still signed in")

	// Everywhere else.
	mustStatus(t, here.post("/account/sessions/end-others", nil), 303, "sign out everywhere else")
	if res := laptop.get("/"); res.status != 303 {
		t.Errorf("the laptop is still signed in: %d", res.status)
	}
	if res := here.get("/account/sessions"); res.status != 200 || !strings.Contains(res.body, "signed out on 1 other device") {
		t.Errorf("after signing out elsewhere: %d", res.status)
	}
	for _, action := range []string{"session.ended", "session.ended_others"} {
		if !auditMentions(t, p, action) {
			t.Errorf("%s is not audited", action)
		}
	}

	// An administrator signs someone out everywhere.
	admin := p.as(p.users[identity.RoleAdmin])
	mustStatus(t, admin.post(userPath(u, "/sessions/end"), nil), 303, "admin ends all")
	if res := here.get("/"); res.status != 303 {
		t.Errorf("still signed in after the administrator ended every session: %d", res.status)
	}
	if !auditMentions(t, p, "session.ended_all") {
		t.Error("ending all is not audited")
	}
	mustStatus(t, p.as(p.users[identity.RoleCentralTeam]).post(userPath(u, "/sessions/end"), nil), 403, "the central team ends someone's sessions")
}
