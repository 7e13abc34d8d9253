package app

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/identity"
)

// openReviewsAtOnce runs OpenReviews as n instances would, at once, and returns how many each opened.
func openReviewsAtOnce(t *testing.T, p *testPortal, n int) int {
	t.Helper()
	var wg sync.WaitGroup
	counts := make([]int, n)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := identity.OpenReviews(t.Context(), p.db.DB, p.clock.Now(), london, p.app.reviewPolicy())
			if err != nil {
				t.Error(err)
			}
			counts[i] = c
		}()
	}
	wg.Wait()
	total := 0
	for _, c := range counts {
		total += c
	}
	return total
}

// reviewOf is the id of the organisation's review (the only one in these tests).
func reviewOf(t *testing.T, p *testPortal, orgID int64) int64 {
	t.Helper()
	var id int64
	if err := p.db.DB.NewRaw("SELECT id FROM access_reviews WHERE organisation_id = ?", orgID).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func entryVersion(t *testing.T, p *testPortal, reviewID, userID int64) string {
	t.Helper()
	var v int
	if err := p.db.DB.NewRaw("SELECT version FROM access_review_entries WHERE review_id = ? AND user_id = ?", reviewID, userID).Scan(t.Context(), &v); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(v)
}

func userStatus(t *testing.T, p *testPortal, id int64) string {
	t.Helper()
	u, err := identity.Get(t.Context(), p.db.DB, id)
	if err != nil {
		t.Fatal(err)
	}
	return u.Status
}

func TestAccessReviewOpenedOnceMarkedAndSignedOff(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	appr := p.users[identity.RoleAccessApprover]
	approver := p.as(appr)
	adminUser := p.users[identity.RoleAdmin]
	admin := p.as(adminUser)
	second := p.createUser("second.admin@test.nhs.uk", "Second Admin", identity.RoleAdmin)
	formula := p.createUser("formula@test.nhs.uk", "=HYPERLINK(\"http://evil\",\"x\")", identity.RoleRequester)
	wales := userIn(t, p, "approver.wales@test.nhs.uk", "ZWA01", identity.RoleAccessApprover)
	elsewhere := p.as(wales)

	// Two organisations have people: four instances at once open one review each, once.
	if n := openReviewsAtOnce(t, p, 4); n != 2 {
		t.Fatalf("opened %d reviews, want 2", n)
	}
	if n := openReviewsAtOnce(t, p, 2); n != 0 {
		t.Fatalf("opened %d more reviews in the same period", n)
	}
	if n := p.eventCount("access_review.opened"); n != 2 {
		t.Errorf("%d access_review.opened events, want 2", n)
	}
	// Its approver is told.
	if n := count(t, p, "SELECT count(*) FROM notifications WHERE user_id = ? AND event = 'access_review'", appr.ID); n != 1 {
		t.Errorf("the approver was told %d times", n)
	}
	id := reviewOf(t, p, appr.OrganisationID)
	path := fmt.Sprintf("/access-reviews/%d", id)
	people := count(t, p, "SELECT count(*) FROM access_review_entries WHERE review_id = ?", id)
	if people != len(identity.Roles)+2 {
		t.Errorf("%d people in the review, want %d", people, len(identity.Roles)+2)
	}

	res := approver.get("/access-reviews")
	mustStatus(t, res, 200, "the approver's reviews")
	if !strings.Contains(res.body, path) || strings.Contains(res.body, fmt.Sprintf("/access-reviews/%d\"", reviewOf(t, p, wales.OrganisationID))) {
		t.Error("the approver's list shows the wrong reviews")
	}
	res = approver.get(path)
	mustStatus(t, res, 200, "the review")
	for _, want := range []string{"Test Requester", "Second Admin", "Grant history", "Given when the account was made", "Never"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the review page lacks %q", want)
		}
	}
	// Refusals: another organisation's approver, a FAM of an organisation with an approver.
	requester := p.users[identity.RoleRequester]
	mark := func(b *browser, userID int64, decision, reason string) response {
		return b.post(fmt.Sprintf("%s/people/%d", path, userID), url.Values{"decision": {decision}, "reason": {reason}, "version": {entryVersion(t, p, id, userID)}})
	}
	mustStatus(t, elsewhere.get(path), 404, "another organisation's approver reads the review")
	mustStatus(t, mark(elsewhere, requester.ID, "keep", ""), 404, "another organisation's approver marks")
	mustStatus(t, elsewhere.post(path+"/sign-off", url.Values{"confirm": {"yes"}, "version": {"1"}}), 404, "another organisation's approver signs off")
	mustStatus(t, elsewhere.get(path+"/record.pdf"), 404, "another organisation's approver downloads the record")
	mustStatus(t, p.as(p.users[identity.RoleFunctionalAccountManager]).get(path), 404, "the FAM, when the organisation has an approver")

	// Sign-off is refused until everyone is marked.
	res = approver.post(path+"/sign-off", url.Values{"confirm": {"yes"}, "version": {"1"}})
	mustStatus(t, res, 422, "signing off an unmarked review")
	if !strings.Contains(res.body, "Mark every person before signing the review off") {
		t.Error("no reason given for refusing the sign-off")
	}
	// A decision not chosen: 422, with what was typed kept; removing needs a reason.
	res = mark(approver, requester.ID, "", "typed <b>text</b>")
	mustStatus(t, res, 422, "no decision")
	if !strings.Contains(res.body, "typed &lt;b&gt;text&lt;/b&gt;") || !strings.Contains(res.body, fmt.Sprintf(`href="#decision-%d"`, requester.ID)) {
		t.Error("the typed reason or the error summary link is missing")
	}
	nsig := p.users[identity.RoleNSIGMember]
	mustStatus(t, mark(approver, nsig.ID, "remove", "  "), 422, "remove without a reason")
	mustStatus(t, mark(approver, requester.ID, "keep", "bad \x00 byte"), 422, "a NUL byte")
	// Not their own, not a national role.
	mustStatus(t, mark(approver, appr.ID, "keep", ""), 403, "the approver marks themselves")
	mustStatus(t, mark(approver, p.users[identity.RoleCentralTeam].ID, "keep", ""), 403, "the approver marks the central team")

	stale := entryVersion(t, p, id, requester.ID)
	mustStatus(t, mark(approver, requester.ID, "keep", "Raises requests for us"), 303, "keep the requester")
	mustStatus(t, approver.post(fmt.Sprintf("%s/people/%d", path, requester.ID), url.Values{"decision": {"remove"}, "reason": {"x"}, "version": {stale}}), 409, "a stale version")
	nsigBrowser := p.as(nsig)
	mustStatus(t, mark(approver, nsig.ID, "remove", "Moved to another trust"), 303, "remove the NSIG member")
	if s := userStatus(t, p, nsig.ID); s != identity.StatusLeft {
		t.Errorf("the removed member is %s", s)
	}
	if res := nsigBrowser.get("/"); res.status != 303 {
		t.Errorf("the removed member is still signed in: %d", res.status)
	}
	if p.eventCount("user.access_removed") != 1 || p.eventCount("access_review.marked") != 2 {
		t.Errorf("events: %d removed, %d marked", p.eventCount("user.access_removed"), p.eventCount("access_review.marked"))
	}
	mustStatus(t, mark(approver, nsig.ID, "keep", ""), 409, "keeping someone removed")

	// The approver marks the rest they may; administrators mark the national roles and each other.
	for _, u := range []*identity.User{p.users[identity.RoleFunctionalAccountManager], formula} {
		mustStatus(t, mark(approver, u.ID, "keep", ""), 303, "keep "+u.Name)
	}
	for _, r := range []string{identity.RoleCentralTeam, identity.RoleDevelopmentTeam, identity.RoleAccessApprover} {
		mustStatus(t, mark(admin, p.users[r].ID, "keep", "Still in post"), 303, "the administrator keeps "+r)
	}
	mustStatus(t, mark(admin, adminUser.ID, "keep", ""), 403, "an administrator marks themselves")
	mustStatus(t, mark(admin, second.ID, "keep", ""), 303, "keep the second administrator")
	mustStatus(t, mark(p.as(second), adminUser.ID, "keep", ""), 303, "keep the first administrator")

	res = approver.post(path+"/sign-off", url.Values{"version": {"1"}})
	mustStatus(t, res, 422, "sign-off without the statement")
	var version int
	if err := p.db.DB.NewRaw("SELECT version FROM access_reviews WHERE id = ?", id).Scan(t.Context(), &version); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, approver.post(path+"/sign-off", url.Values{"confirm": {"yes"}, "version": {fmt.Sprint(version - 1)}}), 409, "a stale sign-off")
	mustStatus(t, approver.post(path+"/sign-off", url.Values{"confirm": {"yes"}, "version": {fmt.Sprint(version)}}), 303, "sign off")
	if count(t, p, "SELECT count(*) FROM access_reviews WHERE id = ? AND signed_off_by = ? AND attestation <> ''", id, appr.ID) != 1 {
		t.Error("the sign-off is not recorded")
	}
	if p.eventCount("access_review.signed_off") != 1 {
		t.Error("the sign-off is not audited")
	}
	mustStatus(t, approver.post(path+"/sign-off", url.Values{"confirm": {"yes"}, "version": {fmt.Sprint(version + 1)}}), 409, "signing off twice")
	mustStatus(t, mark(admin, requester.ID, "remove", "late"), 409, "marking after sign-off")

	// The record for the audit file.
	res = approver.get(path + "/record.pdf")
	mustStatus(t, res, 200, "the review record")
	text := pdfText(t, []byte(res.body))
	for _, want := range []string{"Access review:", "Signed off by Test Access approver", "Test Requester", "Raises requests for us", "Moved to another trust", "Remove", "Still needed", "Grant history"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}

	// Reports: the administrator's cover every organisation, the approver's their own; CSV is safe
	// from formulae.
	res = admin.get("/access-reviews/roles.csv")
	mustStatus(t, res, 200, "roles CSV")
	if !strings.Contains(res.body, "approver.wales@test.nhs.uk") || !strings.Contains(res.body, `"'=HYPERLINK(""http://evil"",""x"")"`) {
		t.Errorf("the administrator's roles CSV: %s", excerpt(res.body))
	}
	if strings.Contains(res.body, "nsig_member@test.nhs.uk") {
		t.Error("the roles report lists someone whose access was removed")
	}
	res = approver.get("/access-reviews/roles.csv")
	if strings.Contains(res.body, "approver.wales@test.nhs.uk") || !strings.Contains(res.body, "requester@test.nhs.uk") {
		t.Error("the approver's roles CSV covers the wrong organisations")
	}
	res = admin.get("/access-reviews/reviews.csv")
	if !strings.Contains(res.body, "Completed") || !strings.Contains(res.body, "Open") {
		t.Errorf("the reviews CSV: %s", excerpt(res.body))
	}
	res = admin.get("/access-reviews/report.xlsx")
	mustStatus(t, res, 200, "the workbook")
	f, err := excelize.OpenReader(bytes.NewReader([]byte(res.body)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	roles, err := f.GetRows("Roles")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range roles {
		if len(row) > 8 && row[4] == "requester@test.nhs.uk" && row[6] == "Requester" && row[8] == "" {
			found = true
		}
	}
	if !found {
		t.Errorf("the Roles sheet lacks the requester (never signed in): %v", roles)
	}
	reviews, err := f.GetRows("Reviews")
	if err != nil {
		t.Fatal(err)
	}
	if len(reviews) != 3 || reviews[0][4] != "State" {
		t.Errorf("the Reviews sheet: %v", reviews)
	}
	states := reviews[1][4] + " " + reviews[2][4]
	if !strings.Contains(states, "Completed") || !strings.Contains(states, "Open") {
		t.Errorf("review states: %s", states)
	}
}

func TestAccessReviewEscalatedOnceThenSuspendsUntilConfirmed(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	second := p.createUser("second.admin@test.nhs.uk", "Second Admin", identity.RoleAdmin)
	adminUser := p.users[identity.RoleAdmin]
	requester := p.users[identity.RoleRequester]
	nsig := p.users[identity.RoleNSIGMember]
	if n := openReviewsAtOnce(t, p, 1); n != 1 {
		t.Fatalf("opened %d", n)
	}
	id := reviewOf(t, p, requester.OrganisationID)
	policy := p.app.reviewPolicy()
	escalate := func() int {
		var wg sync.WaitGroup
		counts := make([]int, 3)
		for i := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := identity.EscalateReviews(t.Context(), p.db.DB, p.clock.Now(), london, policy)
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			}()
		}
		wg.Wait()
		return counts[0] + counts[1] + counts[2]
	}
	p.clock.Advance(29 * 24 * time.Hour)
	if n := escalate(); n != 0 {
		t.Fatalf("escalated %d before the due date", n)
	}
	// Sessions end when idle: each browser here is signed in when it is used.
	keep := func(by *identity.User, who *identity.User) {
		t.Helper()
		res := p.as(by).post(fmt.Sprintf("/access-reviews/%d/people/%d", id, who.ID), url.Values{"decision": {"keep"}, "version": {entryVersion(t, p, id, who.ID)}})
		if res.status != 303 || res.header.Get("Location") != fmt.Sprintf("/access-reviews/%d#person-%d", id, who.ID) {
			t.Fatalf("%s keeps %s: %d %s", by.Name, who.Name, res.status, res.header.Get("Location"))
		}
	}
	keep(p.users[identity.RoleAccessApprover], requester)
	keep(adminUser, second)
	keep(second, adminUser)
	p.clock.Advance(24 * time.Hour)
	if n := escalate(); n != 1 {
		t.Fatalf("escalated %d reviews, want 1", n)
	}
	if n := escalate(); n != 0 {
		t.Fatalf("escalated again: %d", n)
	}
	// Each of the two administrators is told once, in the portal and by email.
	if n := count(t, p, "SELECT count(*) FROM notifications WHERE event = 'access_review' AND title LIKE 'Overdue access review:%'"); n != 2 {
		t.Errorf("%d escalation notifications, want 2", n)
	}
	if n := count(t, p, "SELECT count(*) FROM email_outbox WHERE subject LIKE 'Overdue access review:%'"); n != 2 {
		t.Errorf("%d escalation emails, want 2", n)
	}
	if p.eventCount("access_review.escalated") != 1 {
		t.Error("the escalation is not audited once")
	}
	res := p.as(p.users[identity.RoleAccessApprover]).get(fmt.Sprintf("/access-reviews/%d", id))
	if !strings.Contains(res.body, "This review is overdue") {
		t.Error("the review page does not say it is overdue")
	}

	// 14 days after the due date, everyone not confirmed is suspended, once.
	p.clock.Advance(13 * 24 * time.Hour)
	if n, err := identity.SuspendUnconfirmed(t.Context(), p.db.DB, p.clock.Now(), policy); err != nil || n != 0 {
		t.Fatalf("suspended %d during the grace period (%v)", n, err)
	}
	p.clock.Advance(24 * time.Hour)
	p.as(nsig) // a session, which suspension ends
	n, err := identity.SuspendUnconfirmed(t.Context(), p.db.DB, p.clock.Now(), policy)
	if err != nil {
		t.Fatal(err)
	}
	people := count(t, p, "SELECT count(*) FROM access_review_entries WHERE review_id = ?", id)
	if n != people-3 {
		t.Errorf("suspended %d, want everyone but the requester and the administrators (%d)", n, people-3)
	}
	if n, err := identity.SuspendUnconfirmed(t.Context(), p.db.DB, p.clock.Now(), policy); err != nil || n != 0 {
		t.Errorf("suspended %d again (%v)", n, err)
	}
	if userStatus(t, p, requester.ID) != identity.StatusActive || userStatus(t, p, nsig.ID) != identity.StatusSuspended {
		t.Error("the wrong people are suspended")
	}
	if n := count(t, p, "SELECT count(*) FROM sessions WHERE user_id = ?", nsig.ID); n != 0 {
		t.Errorf("a suspended member still has %d sessions", n)
	}
	mustStatus(t, p.anonymous().signIn(nsig.Email, testPassword), 422, "a suspended member signs in")
	if n := count(t, p, "SELECT count(*) FROM email_outbox WHERE user_id = ? AND subject LIKE '%suspended%'", nsig.ID); n != 1 {
		t.Errorf("the suspended member was told %d times", n)
	}
	if count(t, p, "SELECT count(*) FROM users WHERE id = ?", nsig.ID) != 1 {
		t.Error("a suspended member was deleted")
	}

	// The approver is suspended too, so an administrator confirms people now: confirming in the review
	// reactivates; so does an administrator re-enabling the account.
	keep(adminUser, nsig)
	admin := p.as(adminUser)
	if s := userStatus(t, p, nsig.ID); s != identity.StatusActive {
		t.Errorf("confirmed in the review, the member is %s", s)
	}
	if p.eventCount("user.reactivated") != 1 {
		t.Error("the reactivation is not audited")
	}
	fam, err := identity.Get(t.Context(), p.db.DB, p.users[identity.RoleFunctionalAccountManager].ID)
	if err != nil {
		t.Fatal(err)
	}
	res = admin.get(fmt.Sprintf("/admin/users/%d", fam.ID))
	if !strings.Contains(res.body, "is suspended because an access review did not confirm") {
		t.Error("the user page does not say why they are suspended")
	}
	mustStatus(t, admin.post(fmt.Sprintf("/admin/users/%d/enable", fam.ID), url.Values{"version": {fmt.Sprint(fam.Version)}}), 303, "re-enable the FAM")
	if s := userStatus(t, p, fam.ID); s != identity.StatusActive {
		t.Errorf("re-enabled, the FAM is %s", s)
	}
	mustStatus(t, p.anonymous().signIn(fam.Email, testPassword), 303, "the re-enabled FAM signs in")
}

// An organisation without an access approver is reviewed by its region's functional account manager;
// another region's is told it is not found.
func TestAccessReviewWithoutApproverFallsToTheRegionsFAM(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	person := userIn(t, p, "person.wales@test.nhs.uk", "ZWA01", identity.RoleRequester)
	fam := userIn(t, p, "fam.wales@test.nhs.uk", "ZWA01", identity.RoleFunctionalAccountManager)
	if n := openReviewsAtOnce(t, p, 2); n != 2 {
		t.Fatalf("opened %d", n)
	}
	if n := count(t, p, "SELECT count(*) FROM notifications WHERE user_id = ? AND event = 'access_review'", fam.ID); n != 1 {
		t.Errorf("the Welsh FAM was told %d times", n)
	}
	id := reviewOf(t, p, person.OrganisationID)
	path := fmt.Sprintf("/access-reviews/%d", id)
	mustStatus(t, p.as(p.users[identity.RoleFunctionalAccountManager]).get(path), 404, "another region's FAM")
	mustStatus(t, p.as(p.users[identity.RoleAccessApprover]).get(path), 404, "another organisation's approver")
	b := p.as(fam)
	res := b.get("/access-reviews")
	if !strings.Contains(res.body, path) {
		t.Error("the FAM's list lacks the review")
	}
	mustStatus(t, b.get("/access-reviews/roles.csv"), 403, "a FAM downloads the roles report")
	mustStatus(t, b.post(fmt.Sprintf("%s/people/%d", path, person.ID), url.Values{"decision": {"keep"}, "version": {entryVersion(t, p, id, person.ID)}}), 303, "the FAM keeps the person")
	mustStatus(t, b.post(fmt.Sprintf("%s/people/%d", path, fam.ID), url.Values{"decision": {"keep"}, "version": {entryVersion(t, p, id, fam.ID)}}), 403, "the FAM keeps themselves")
	mustStatus(t, b.get(path+"/record.pdf"), 200, "the FAM downloads the record")
}
