package app

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

var triageRowPattern = regexp.MustCompile(`(?s)<tr class="nhsuk-table__row"[^>]*>\s*<td class="nhsuk-table__cell"[^>]*>(?:<span class="nhsuk-table__heading"[^>]*>[^<]*</span><div class="portal-cell">)?<a href="/requests/(ENH-\d{4}-\d{4})">.*?</tr>`)

// triageRows returns the queue's rows by reference, in order, with each row's HTML.
func triageRows(body string) (refs []string, rows map[string]string) {
	rows = map[string]string{}
	for _, m := range triageRowPattern.FindAllStringSubmatch(body, -1) {
		refs = append(refs, m[1])
		rows[m[1]] = m[0]
	}
	return refs, rows
}

func TestTriageQueue(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	// The test clock says Friday 20 November 2026, 09:00.
	u := testUserAt(t, p, "req@thameside.nhs.uk", "Theo Thameside", "ZLN01", identity.RoleRequester)
	centralUser := p.users[identity.RoleCentralTeam]
	raise := func(title string, at time.Time) *request.Request {
		return raiseTestRequestAt(t, p, u, request.NewEnhancement{Title: title}, at)
	}
	overdue4 := raise("Received Monday 9th, due Monday 16th", londonTime(2026, 11, 9, 10))
	overdue3 := raise("Received Tuesday 10th, due Tuesday 17th", londonTime(2026, 11, 10, 10))
	dueToday := raise("Received Friday 13th, due today", londonTime(2026, 11, 13, 10))
	due3 := raise("Received Wednesday 18th, due Wednesday 25th", londonTime(2026, 11, 18, 10))
	due4 := raise("Received Thursday 19th, due Thursday 26th", londonTime(2026, 11, 19, 10))
	acknowledged := raise("Received Monday 16th, acknowledged the next day", londonTime(2026, 11, 16, 10))
	applyTestTransition(t, p, centralUser, acknowledged.Reference, "acknowledge", londonTime(2026, 11, 17, 10), request.Input{})
	asked := raise("Received Thursday 12th, a question asked on Friday 13th", londonTime(2026, 11, 12, 10))
	applyTestTransition(t, p, centralUser, asked.Reference, "request_information", londonTime(2026, 11, 13, 10), request.Input{Text: "Which forms?"})
	classified := raise("Received Monday 2nd, classified since", londonTime(2026, 11, 2, 10))
	acceptTestRequest(t, p, classified.Reference, londonTime(2026, 11, 3, 10))

	// Only the central team has a triage queue.
	for _, role := range []string{identity.RoleRequester, identity.RoleNSIGMember, identity.RoleFunctionalAccountManager, identity.RoleDevelopmentTeam, identity.RoleAdmin} {
		mustStatus(t, p.as(p.users[role]).get("/triage"), 403, "triage as "+role)
	}

	b := p.as(centralUser)
	res := b.get("/triage")
	mustStatus(t, res, 200, "triage")
	refs, rows := triageRows(res.body)
	want := refsOf(overdue4, overdue3, dueToday, due3, due4, asked, acknowledged)
	if !slices.Equal(refs, want) {
		t.Fatalf("the queue is %v, want %v (by acknowledgement due date, acknowledged ones last)", refs, want)
	}
	for r, tag := range map[*request.Request]string{
		overdue4:     `nhsuk-tag--red">Overdue by 4 working days<`,
		overdue3:     `nhsuk-tag--red">Overdue by 3 working days<`,
		dueToday:     `nhsuk-tag--orange">Due today<`,
		due3:         `nhsuk-tag--blue">Due in 3 working days<`,
		due4:         `nhsuk-tag--blue">Due in 4 working days<`,
		acknowledged: `nhsuk-tag--green">Acknowledged<`,
		asked:        `nhsuk-tag--yellow">Reply due 27 November 2026<`,
	} {
		if !strings.Contains(rows[r.Reference], tag) {
			t.Errorf("%s (%s) lacks the tag %s:\n%s", r.Reference, r.Title, tag, rows[r.Reference])
		}
	}
	if !strings.Contains(rows[overdue4.Reference], "Due 16 November 2026") || strings.Contains(rows[acknowledged.Reference], "Due 23 November") {
		t.Error("the due date is not shown beside an unacknowledged request only")
	}
	if !strings.Contains(rows[due3.Reference], "Payroll and Pensions") || !strings.Contains(rows[due3.Reference], "Not assigned") {
		t.Errorf("a row lacks its NSIG or triager:\n%s", rows[due3.Reference])
	}
	for _, want := range []string{
		`id="triage-overdue"><span class="nhsuk-heading-l nhsuk-u-margin-bottom-0">2</span> requests are past`,
		`id="triage-due-today"><span class="nhsuk-heading-l nhsuk-u-margin-bottom-0">1</span> request needs`,
		"7 requests</h2>",
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the triage page lacks %q", want)
		}
	}
	// The share acknowledged on time counts the requests received in the last 90 days: three were
	// acknowledged on time (acknowledged, asked, classified); the database's own date decides which
	// unacknowledged ones are past due, so the expected figures come from the same query.
	onTime, of, err := request.OnTimeShare(context.Background(), p.db.DB, request.KindEnhancement, p.clock.Now().Add(-90*24*time.Hour), p.app.calendar.Date(p.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if onTime != 3 || of < 3 {
		t.Fatalf("OnTimeShare says %d of %d", onTime, of)
	}
	headline := fmt.Sprintf("%d of %d (%d%%) acknowledged within 5 working days", onTime, of, (onTime*100+of/2)/of)
	if !strings.Contains(res.body, headline) {
		t.Errorf("the triage page lacks %q", headline)
	}

	// Assigned to me.
	v, err := request.ViewerFor(context.Background(), p.db.DB, centralUser)
	if err != nil {
		t.Fatal(err)
	}
	if err := request.Assign(context.Background(), p.db.DB, v, audit.Actor{Name: "test"}, p.clock.Now(), dueToday.Reference, 1, centralUser.ID, dueToday.NSIGID); err != nil {
		t.Fatal(err)
	}
	res = b.get("/triage?assigned=me")
	mustStatus(t, res, 200, "assigned to me")
	refs, rows = triageRows(res.body)
	if !slices.Equal(refs, refsOf(dueToday)) {
		t.Errorf("assigned to me: %v", refs)
	}
	if !strings.Contains(rows[dueToday.Reference], centralUser.Name) || !strings.Contains(res.body, `value="me" checked`) {
		t.Error("the assigned request does not name its triager, or the filter is not kept")
	}
	if !strings.Contains(res.body, `id="triage-overdue"><span class="nhsuk-heading-l nhsuk-u-margin-bottom-0">0</span>`) {
		t.Error("the headline does not follow the filter")
	}
	res = p.as(p.createUser("other.central@test.nhs.uk", "Other Central", identity.RoleCentralTeam)).get("/triage?assigned=me")
	if refs, _ := triageRows(res.body); len(refs) != 0 || !strings.Contains(res.body, "No request waiting for triage is assigned to you") {
		t.Errorf("another triager's queue, assigned to them: %v", refs)
	}
}

// TestTriageQueueShowsAnswersOverdue: a question the requester has not answered by its date is marked
// overdue on the queue, and the queue counts such questions with a link to exactly them.
func TestTriageQueueShowsAnswersOverdue(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	// The test clock says Friday 20 November 2026.
	u := testUserAt(t, p, "req@thameside.nhs.uk", "Theo Thameside", "ZLN01", identity.RoleRequester)
	centralUser := p.users[identity.RoleCentralTeam]
	late := raiseTestRequestAt(t, p, u, request.NewEnhancement{Title: "Asked a month ago"}, londonTime(2026, 10, 19, 10))
	applyTestTransition(t, p, centralUser, late.Reference, "request_information", londonTime(2026, 10, 20, 10), request.Input{Text: "Which forms?"})
	soon := raiseTestRequestAt(t, p, u, request.NewEnhancement{Title: "Asked this week"}, londonTime(2026, 11, 16, 10))
	applyTestTransition(t, p, centralUser, soon.Reference, "request_information", londonTime(2026, 11, 17, 10), request.Input{Text: "Which staff?"})

	res := p.as(centralUser).get("/triage")
	mustStatus(t, res, 200, "triage")
	_, rows := triageRows(res.body)
	// Asked on Tuesday 20 October: due Tuesday 3 November, 13 working days before Friday 20 November.
	if !strings.Contains(rows[late.Reference], `nhsuk-tag--red">Answer overdue by 13 working days<`) {
		t.Errorf("the unanswered question is not marked overdue:\n%s", rows[late.Reference])
	}
	if !strings.Contains(rows[soon.Reference], `nhsuk-tag--yellow">Reply due 1 December 2026<`) {
		t.Errorf("the question asked this week is not due:\n%s", rows[soon.Reference])
	}
	m := regexp.MustCompile(`id="triage-replies-overdue"><a class="portal-figure" href="([^"]+)" data-count="1">1</a> question to a requester has not been answered`).FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("the queue does not count the answer overdue:\n%s", excerpt(res.body))
	}
	list := p.as(centralUser).get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if refs := listedRefs(list.body); !slices.Equal(refs, []string{late.Reference}) {
		t.Errorf("the overdue answers' list shows %v, want %s", refs, late.Reference)
	}
}
