package app

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/identity"
)

// TestDecisionEmailCarriesAOneTimeLink classifies a request as an enhancement through the portal: the
// raiser's email asks for their decision with a one-time link, which works once, only for them, only
// signed in, and not after it expires.
func TestDecisionEmailCarriesAOneTimeLink(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	raiserUser := userIn(t, p, "decider@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	colleague := userIn(t, p, "colleague@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	r := raiseFor(t, p, raiserUser, "Decide on the payslip labels")
	path := "/requests/" + r.Reference
	central := p.as(p.users[identity.RoleCentralTeam])
	mustStatus(t, central.post(path+"/actions/acknowledge", url.Values{"version": {"1"}}), 303, "acknowledge")
	mustStatus(t, central.post(path+"/actions/classify_enhancement", url.Values{"version": {"2"}, "summary": {"Labels on the payslip"}}), 303, "classify")

	var emails []struct {
		Subject string `bun:"subject"`
		Link    string `bun:"link"`
	}
	if err := p.db.DB.NewRaw(`SELECT subject, link FROM email_outbox WHERE user_id = ? ORDER BY id`, raiserUser.ID).Scan(ctx, &emails); err != nil {
		t.Fatal(err)
	}
	var link string
	for _, e := range emails {
		if strings.Contains(e.Subject, "decide whether to take it forward") {
			link = e.Link
		} else if e.Link != path {
			t.Errorf("the email %q links to %q, want %s", e.Subject, e.Link, path)
		}
	}
	if !strings.HasPrefix(link, actionlink.Prefix) || len(link) < len(actionlink.Prefix)+40 {
		t.Fatalf("the decision email links to %q, want a one-time link (emails: %+v)", link, emails)
	}
	// The notification in the portal links to the request itself: opening it there must not use up the
	// email's one-time link.
	var inApp []string
	if err := p.db.DB.NewRaw(`SELECT link FROM notifications WHERE user_id = ? AND event = 'decision_needed'`, raiserUser.ID).Scan(ctx, &inApp); err != nil {
		t.Fatal(err)
	}
	if len(inApp) != 1 || inApp[0] != path {
		t.Errorf("the decision notification in the portal links to %v, want [%s]", inApp, path)
	}
	var stored int
	if err := p.db.DB.NewRaw(`SELECT count(*) FROM action_links WHERE user_id = ? AND path = ? AND expires_at = ?`,
		raiserUser.ID, path, p.clock.Now().Add(7*24*time.Hour)).Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Errorf("%d links stored for the raiser, want 1 lasting 7 days", stored)
	}

	// Signed out: sent to sign in, and back to the link afterwards.
	res := p.anonymous().get(link)
	mustStatus(t, res, 303, "the link signed out")
	if want := "/sign-in?next=" + url.QueryEscape(link); res.header.Get("Location") != want {
		t.Errorf("signed out, the link sends to %q, want %q", res.header.Get("Location"), want)
	}
	// Someone else, even of the same organisation, is refused, and that does not use it up.
	res = p.as(colleague).get(link)
	mustStatus(t, res, 410, "the link as someone else")
	mustContain(t, res.body, "the refused link", "This link has expired or has already been used")
	releaseMustNotContain(t, res.body, "the refused link for someone else", r.Reference)

	raiser := p.as(raiserUser)
	res = raiser.get(link)
	mustStatus(t, res, 303, "the link")
	if got := res.header.Get("Location"); got != path {
		t.Errorf("the link sends to %q, want %s", got, path)
	}
	res = raiser.get(link)
	mustStatus(t, res, 410, "the link used twice")
	mustContain(t, res.body, "the used link", "This link has expired or has already been used", `href="`+path+`"`)

	// An expired link, and one that never existed.
	token, err := actionlink.Create(ctx, p.db.DB, raiserUser.ID, r.ID, path, p.clock.Now().Add(-8*24*time.Hour), actionlink.TTL)
	if err != nil {
		t.Fatal(err)
	}
	res = raiser.get(actionlink.Prefix + token)
	mustStatus(t, res, 410, "an expired link")
	mustContain(t, res.body, "the expired link", "This link has expired or has already been used", `href="`+path+`"`)
	mustStatus(t, raiser.get(actionlink.Prefix+"not-a-token"), 410, "an unknown link")
	if _, err := actionlink.Create(ctx, p.db.DB, raiserUser.ID, r.ID, "https://elsewhere.example/", p.clock.Now(), actionlink.TTL); err == nil {
		t.Error("a link off the portal was made")
	}
}
