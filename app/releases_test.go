package app

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// approvedForRelease raises a request as u and takes it to approved through the domain, with an
// agreed requirement, a submitted justification and a completed impact assessment of effort days.
func approvedForRelease(t *testing.T, p *testPortal, u *identity.User, n int, title string, effort float64) *request.Request {
	t.Helper()
	ctx := context.Background()
	v, err := request.ViewerFor(ctx, p.db.DB, u)
	if err != nil {
		t.Fatal(err)
	}
	r, err := request.RaiseEnhancement(ctx, p.db.DB, p.app.calendar, v, audit.Actor{Name: "test"}, p.clock.Now(), request.NewEnhancement{
		SRNumber: "SR7654321", Title: title, FunctionalArea: "Payroll", Problem: "The problem", Proposal: "The change",
		AffectedUsers: []string{"employee"}, Urgency: "medium", SubmissionToken: fmt.Sprintf("00000000-0000-4000-b000-%012d", n),
	})
	if err != nil {
		t.Fatal(err)
	}
	central, dev := p.users[identity.RoleCentralTeam], p.users[identity.RoleDevelopmentTeam]
	now := p.clock.Now()
	applyTestTransition(t, p, central, r.Reference, "acknowledge", now, request.Input{})
	applyTestTransition(t, p, central, r.Reference, "classify_enhancement", now, request.Input{})
	applyTestTransition(t, p, u, r.Reference, "progress", now, request.Input{})
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO requirement_versions (request_id, version, body, author_id, created_at) VALUES (?, 1, 'The change', ?, ?)`, []any{r.ID, u.ID, now}},
		{`INSERT INTO requirement_agreements (request_id, side, version, user_id, agreed_at) VALUES (?, 'requester', 1, ?, ?), (?, 'development', 1, ?, ?)`,
			[]any{r.ID, u.ID, now, r.ID, dev.ID, now}},
		{`INSERT INTO business_justifications (request_id, submitted_at, updated_at) VALUES (?, ?, ?)`, []any{r.ID, now, now}},
		{`INSERT INTO impact_assessments (request_id, effort_days, completed_at, updated_at) VALUES (?, ?, ?, ?)`, []any{r.ID, effort, now, now}},
	} {
		if _, err := p.db.DB.NewRaw(stmt.sql, stmt.args...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	applyTestTransition(t, p, u, r.Reference, "submit_for_assessment", now, request.Input{})
	return applyTestTransition(t, p, central, r.Reference, "approve", now, request.Input{Text: "Worth doing"})
}

var releaseLocation = regexp.MustCompile(`^/releases/(\d+)$`)

// addRelease adds a release through the form and returns its page's path.
func addRelease(t *testing.T, b *browser, number, name, day, month, year, capacity string) string {
	t.Helper()
	res := b.post("/releases", url.Values{"number": {number}, "name": {name}, "target_date-day": {day}, "target_date-month": {month},
		"target_date-year": {year}, "status": {"planned"}, "capacity_days": {capacity}})
	mustStatus(t, res, 303, "add release "+number)
	loc := res.header.Get("Location")
	if !releaseLocation.MatchString(loc) {
		t.Fatalf("after adding a release: sent to %q", loc)
	}
	return loc
}

// releaseMustNotContain fails the test when body shows any of unwanted.
func releaseMustNotContain(t *testing.T, body, what string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s shows %q", what, w)
		}
	}
}

func TestReleaseForms(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	central := p.as(p.users[identity.RoleCentralTeam])
	requester := p.as(p.users[identity.RoleRequester])

	mustStatus(t, central.get("/releases/new"), 200, "the add release page")
	// Errors: 422, an error summary linking to each field, and what was typed kept.
	res := central.post("/releases", url.Values{"number": {"seventy"}, "name": {""}, "target_date-day": {"31"}, "target_date-month": {"2"},
		"target_date-year": {"2027"}, "status": {"planned"}, "capacity_days": {"lots"}})
	mustStatus(t, res, 422, "a release form with errors")
	mustContain(t, res.body, "the form with errors", `href="#number"`, `href="#name"`, `href="#target_date-day"`, `href="#capacity_days"`,
		`value="seventy"`, `value="31"`, `value="lots"`, "Enter the release name", "Error: ")

	path := addRelease(t, central, "72", "December 2026", "12", "12", "2026", "45")
	res = central.get(path)
	mustStatus(t, res, 200, "the release page")
	mustContain(t, res.body, "the release page", "Release 72: December 2026", "12 December 2026", "Planned", "45 effort days", "Mark as released",
		"Release 72: December 2026 added")

	// A number another release has is refused on the field.
	res = central.post("/releases", url.Values{"number": {"72"}, "name": {"Again"}, "target_date-day": {"1"}, "target_date-month": {"3"},
		"target_date-year": {"2027"}, "status": {"planned"}})
	mustStatus(t, res, 422, "a second release 72")
	mustContain(t, res.body, "the duplicate's page", "Release 72 already exists", `value="Again"`)

	// Edit, then a stale edit is a conflict.
	res = central.get(path + "/edit")
	mustStatus(t, res, 200, "the edit page")
	mustContain(t, res.body, "the edit page", `value="December 2026"`, `name="version" value="1"`, `value="45"`)
	edit := url.Values{"number": {"72"}, "name": {"December 2026 (Christmas)"}, "target_date-day": {"11"}, "target_date-month": {"12"},
		"target_date-year": {"2026"}, "status": {"in_progress"}, "capacity_days": {"50.5"}, "version": {"1"}}
	mustStatus(t, central.post(path, edit), 303, "save the release")
	res = central.get(path)
	mustContain(t, res.body, "the changed release", "December 2026 (Christmas)", "11 December 2026", "In progress", "50.5 effort days")
	edit.Set("name", "Stale")
	mustStatus(t, central.post(path, edit), 409, "a stale edit")
	edit.Set("version", "2")
	edit.Set("status", "released")
	res = central.post(path, edit)
	mustStatus(t, res, 422, "released through the form")
	mustContain(t, res.body, "the refused status", `href="#status"`)

	// Everyone signed in reads releases; only the central team manages them, and effort is for the
	// central and development teams.
	res = requester.get("/releases")
	mustStatus(t, res, 200, "the list for a requester")
	mustContain(t, res.body, "the requester's list", "Release 72", "December 2026 (Christmas)")
	releaseMustNotContain(t, res.body, "the requester's list", "Add a release", "Capacity used", "effort days")
	res = requester.get(path)
	mustStatus(t, res, 200, "the release for a requester")
	releaseMustNotContain(t, res.body, "the requester's release page", "Mark as released", "Change release details", "effort days")
	mustStatus(t, requester.get(path+"/edit"), 403, "the edit page for a requester")
	mustStatus(t, requester.post(path, edit), 403, "an edit by a requester")
	mustStatus(t, requester.post(path+"/release", url.Values{"version": {"2"}}), 403, "a requester putting it live")
	res = p.as(p.users[identity.RoleDevelopmentTeam]).get("/releases")
	mustContain(t, res.body, "the development team's list", "Capacity used", "0 of 50.5 effort days")
	releaseMustNotContain(t, res.body, "the development team's list", "Add a release")
	mustStatus(t, central.get("/releases/999999"), 404, "a missing release")
	mustStatus(t, central.get("/releases/nope"), 404, "a release that is not a number")
}

func TestAllocateMoveAndReleaseOverHTTP(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	raiserUser := p.users[identity.RoleRequester]
	central, raiser := p.as(p.users[identity.RoleCentralTeam]), p.as(raiserUser)
	r72 := addRelease(t, central, "72", "December 2026", "12", "12", "2026", "20")
	r73 := addRelease(t, central, "73", "March 2027", "20", "3", "2027", "")
	id72, id73 := strings.TrimPrefix(r72, "/releases/"), strings.TrimPrefix(r73, "/releases/")

	first := approvedForRelease(t, p, raiserUser, 1, "Welsh labels on the online payslip", 12)
	second := approvedForRelease(t, p, raiserUser, 2, "Pay-step review reminders", 9.5)
	path := "/requests/" + first.Reference

	// Allocated from the action page to Release 73.
	res := central.get(path + "/actions/allocate")
	mustStatus(t, res, 200, "the allocate page")
	mustContain(t, res.body, "the allocate page", "Release 72: December 2026", "Release 73: March 2027")
	mustStatus(t, central.post(path+"/actions/allocate", url.Values{"version": {fmt.Sprint(first.Version)}, "release_id": {id73}}), 303, "allocate")
	mustStatus(t, central.post("/requests/"+second.Reference+"/actions/allocate", url.Values{"version": {fmt.Sprint(second.Version)}, "release_id": {id72}}), 303, "allocate the second")

	res = central.get(path)
	mustContain(t, res.body, "the allocated request", "Allocated to", `href="`+r73+`"`, "Release 73: March 2027", `href="`+path+`/move"`)
	res = raiser.get(path)
	mustContain(t, res.body, "the raiser's view", "Release 73: March 2027")
	releaseMustNotContain(t, res.body, "the raiser's view", "Move to another release")
	mustStatus(t, raiser.get(path+"/move"), 403, "the move page for the raiser")

	// The move page; a missing reason is 422 with the choice kept; a stale form is a conflict.
	res = central.get(path + "/move")
	mustStatus(t, res, 200, "the move page")
	mustContain(t, res.body, "the move page", "Release 72: December 2026")
	releaseMustNotContain(t, res.body, "the move page", `<option value="`+id73+`"`)
	version := fmt.Sprint(first.Version + 1)
	res = central.post(path+"/move", url.Values{"version": {version}, "release_id": {id72}, "reason": {""}})
	mustStatus(t, res, 422, "a move without a reason")
	mustContain(t, res.body, "the move without a reason", `href="#reason"`, "Enter why it is moving to another release", `<option value="`+id72+`" selected>`)
	res = central.post(path+"/move", url.Values{"version": {"1"}, "release_id": {id72}, "reason": {"My stale reason"}})
	mustStatus(t, res, 409, "a stale move")
	mustContain(t, res.body, "the stale move", "My stale reason")
	const reason = "Testing capacity in March is short; it is ready for December."
	mustStatus(t, central.post(path+"/move", url.Values{"version": {version}, "release_id": {id72}, "reason": {reason}}), 303, "move")

	res = raiser.get(path)
	mustContain(t, res.body, "the moved request", "Release 72: December 2026", "Moved from Release 73 to Release 72", reason)
	res = central.get(r72)
	mustContain(t, res.body, "release 72", first.Reference, second.Reference, "Welsh labels on the online payslip", "21.5 effort days in 2 changes",
		"Over capacity", "1.5 effort days more than its capacity", "In from", reason, "Marking it released delivers the 2 changes")
	res = central.get(r73)
	mustContain(t, res.body, "release 73", "Out to", reason, "No changes are allocated to this release yet")

	// Mark as released: its page says what it delivers and that it cannot be undone; a stale form is a
	// conflict; then both requests are delivered.
	res = central.get(r72 + "/release")
	mustStatus(t, res, 200, "the page confirming release 72 is live")
	mustContain(t, res.body, "the release confirmation", first.Reference, second.Reference, "This cannot be undone", "2 changes are marked as delivered",
		`name="version" value="1"`)
	mustStatus(t, central.post(r72+"/release", url.Values{"version": {"0"}}), 409, "a stale release")
	res = central.post(r72+"/release", url.Values{"version": {"1"}})
	mustStatus(t, res, 303, "mark as released")
	res = central.get(r72)
	mustContain(t, res.body, "the released release", "Release 72 is live: 2 changes delivered", "Released")
	releaseMustNotContain(t, res.body, "the released release", "Mark as released")
	for _, r := range []*request.Request{first, second} {
		res = raiser.get("/requests/" + r.Reference)
		mustContain(t, res.body, "a delivered request", "Delivered in", "Delivered: Release 72: December 2026 has gone live.")
	}
	mustStatus(t, central.get(path+"/move"), 409, "moving a delivered request")
	var n int
	if err := p.db.DB.NewRaw(`SELECT count(*) FROM notifications WHERE user_id = ? AND event = 'delivered'`, raiserUser.ID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("the raiser has %d delivery notifications, want 2", n)
	}
}
