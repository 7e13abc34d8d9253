package request_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
)

// told counts the notifications of an event a user has had whose title contains text.
func (w *world) told(who, event, text string) int {
	w.t.Helper()
	return w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND event = ? AND title LIKE ?`,
		w.v[who].UserID, event, "%"+text+"%")
}

// TestAlertsGoOnceToWhoMustAct raises requests on Friday 20 November 2026 and runs the alerts on the
// days after: each alert reaches the people who must act, on the right day, worded by Tell; a second
// run on the same day, a later day, and two instances at once send nothing again.
func TestAlertsGoOnceToWhoMustAct(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	ack := w.raise("Acknowledge me") // due Friday 27 November
	ask := w.raise("Answer me")
	for _, s := range []struct {
		action string
		in     request.Input
	}{{"acknowledge", request.Input{}}, {"request_information", request.Input{Text: "Which forms?"}}} {
		if _, err := w.apply("central", ask, s.action, s.in); err != nil { // the answer is due Friday 4 December
			t.Fatal(err)
		}
	}
	withdrawn := w.raise("Withdrawn before acknowledgement")
	if _, err := w.apply("raiser", withdrawn, "withdraw", request.Input{Text: "Raised by mistake"}); err != nil {
		t.Fatal(err)
	}
	waiting := w.inAssessment("Assess me") // in impact assessment since 20 November, nobody assessing
	deferred := w.inAssessment("Defer me")
	days := 4.0
	if _, err := w.saveAssessment("developer", deferred, request.AssessmentInput{EffortSize: "S", EffortDays: &days, Risks: "None",
		Recommendation: "defer", Complete: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.apply("central", deferred, "defer", request.Input{Text: "Next year", ReviewOn: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}

	// Raising tells the central team at once.
	if n := w.told("central", notify.EventRaised, ack.Reference+" has been raised by"); n != 1 {
		t.Errorf("the central team was told %d times that %s was raised", n, ack.Reference)
	}
	for _, who := range []string{"raiser", "other_org", "fam_region", "developer"} {
		if n := w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND event = ?`, w.v[who].UserID, notify.EventRaised); n != 0 {
			t.Errorf("%s was told of %d new requests", who, n)
		}
	}

	run := func(date string) int {
		t.Helper()
		d, err := time.Parse(time.DateOnly, date)
		if err != nil {
			t.Fatal(err)
		}
		n, err := request.RunAlerts(ctx, w.db, request.Env{Now: d.Add(8 * time.Hour), Calendar: w.cal}, d, request.AlertPolicy{AssessmentWaitingDays: 3})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	type want struct {
		who, event, text string
		n                int
	}
	check := func(when string, wants ...want) {
		t.Helper()
		for _, x := range wants {
			if got := w.told(x.who, x.event, x.text); got != x.n {
				t.Errorf("%s: %s has %d %s alerts saying %q, want %d", when, x.who, got, x.event, x.text, x.n)
			}
		}
	}
	dueTomorrow := want{"central", notify.EventAckDue, ack.Reference + ": the acknowledgement is due tomorrow", 1}
	assessment := want{"developer", notify.EventAssessmentWaiting, waiting.Reference + " has waited since 20 November for its impact assessment", 1}

	// Thursday 26 November: the acknowledgement is due tomorrow; the assessment has waited 4 working days.
	if n := run("2026-11-26"); n != 2 {
		t.Errorf("Thursday: %d alerts, want 2", n)
	}
	check("Thursday", dueTomorrow, assessment,
		want{"raiser", notify.EventAckDue, "", 0}, want{"other_org", notify.EventAckDue, "", 0}, want{"central", notify.EventAssessmentWaiting, "", 0})
	if n := run("2026-11-26"); n != 0 {
		t.Errorf("a second run on Thursday sent %d alerts", n)
	}
	// Friday 27 November: due today, not overdue; the deferred request comes back in 5 working days.
	if n := run("2026-11-27"); n != 1 {
		t.Errorf("Friday: %d alerts, want 1", n)
	}
	check("Friday", dueTomorrow, assessment, want{"central", notify.EventReviewDue, deferred.Reference + " comes back for assessment on Friday 4 December", 1})
	// Monday 30 November: overdue, once; the withdrawn request is never.
	if n := run("2026-11-30"); n != 1 {
		t.Errorf("Monday: %d alerts, want 1", n)
	}
	check("Monday", want{"central", notify.EventAckDue, ack.Reference + ": the acknowledgement is overdue (it was due on 27 November)", 1},
		want{"central", notify.EventAckDue, withdrawn.Reference, 0})
	// Tuesday 1 December: the answer is due in 3 working days: nothing yet. Wednesday: due in 2.
	if n := run("2026-12-01"); n != 0 {
		t.Errorf("Tuesday: %d alerts, want none", n)
	}
	if n := run("2026-12-02"); n != 1 {
		t.Errorf("Wednesday: %d alerts, want 1", n)
	}
	check("Wednesday", want{"raiser", notify.EventReplyDue, ask.Reference + ": your answer to the central team's question is due by Friday 4 December", 1},
		want{"other_org", notify.EventReplyDue, "", 0}, want{"central", notify.EventReplyDue, "", 0})

	// Monday 7 December, on two instances at once: the answer is overdue, and told once.
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		wg.Go(func() { counts[i] = run("2026-12-07") })
	}
	wg.Wait()
	if counts[0]+counts[1] != 1 {
		t.Errorf("two instances on Monday 7 December sent %v alerts, want 1 between them", counts)
	}
	check("Monday 7 December", want{"raiser", notify.EventReplyDue, ask.Reference + ": your answer to the central team's question is overdue", 1})
	// A restart the next day finds everything already told.
	if n := run("2026-12-08"); n != 0 {
		t.Errorf("the next day sent %d alerts again", n)
	}
	if n := w.count(`SELECT count(*) FROM request_alerts`); n != 6 {
		t.Errorf("%d alerts recorded, want 6", n)
	}
	if n := w.count(`SELECT count(*) FROM job_runs WHERE name = 'request_alerts'`); n != 7 {
		t.Errorf("%d daily runs recorded, want 7", n)
	}
}

// TestAnAssessorIsAlertedAlone: once someone is assessing a request, only they hear that it waits.
func TestAnAssessorIsAlertedAlone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	central, err := organisation.GetByODS(ctx, w.db, "ZNC01")
	if err != nil {
		t.Fatal(err)
	}
	other, err := identity.Create(ctx, w.db, audit.Actor{Name: "test"}, w.now, identity.NewUser{Email: "second.developer@test.nhs.uk",
		Name: "Second Developer", OrganisationID: central.ID, Roles: []string{identity.RoleDevelopmentTeam}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	r := w.inAssessment("Assessed by one")
	if err := request.AssignAssessor(ctx, w.db, w.v["developer"], audit.Actor{Name: "developer"}, w.now, r.Reference, 0, w.v["developer"].UserID); err != nil {
		t.Fatal(err)
	}
	d := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := request.RunAlerts(ctx, w.db, request.Env{Now: d.Add(8 * time.Hour), Calendar: w.cal}, d, request.AlertPolicy{}); err != nil {
		t.Fatal(err)
	}
	// 20 November to 1 December is 7 working days, not more than the default 10.
	if n := w.count(`SELECT count(*) FROM notifications WHERE event = ?`, notify.EventAssessmentWaiting); n != 0 {
		t.Fatalf("%d alerts after 7 working days", n)
	}
	d = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) // 11 working days
	if _, err := request.RunAlerts(ctx, w.db, request.Env{Now: d.Add(8 * time.Hour), Calendar: w.cal}, d, request.AlertPolicy{}); err != nil {
		t.Fatal(err)
	}
	if n := w.told("developer", notify.EventAssessmentWaiting, r.Reference); n != 1 {
		t.Errorf("the assessor was alerted %d times", n)
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND event = ?`, other.ID, notify.EventAssessmentWaiting); n != 0 {
		t.Errorf("another developer was alerted %d times", n)
	}
}

// TestNewRequestsDailySummary: the central team members who ask for it get one message each morning
// listing the requests raised the day before; nobody else does, and it is sent once.
func TestNewRequestsDailySummary(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	if err := notify.SavePreferences(ctx, w.db, audit.Actor{Name: "central"}, w.now, w.v["central"].UserID, false,
		[]notify.Preference{{Event: notify.EventNewRequestsDaily, InApp: true, Email: true}, {Event: notify.EventRaised}}); err != nil {
		t.Fatal(err)
	}
	first, second := w.raise("First of the day"), w.raise("Second of the day")
	role := w.raiseRole("Fire Marshal")
	saturday := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	env := request.Env{Now: saturday.Add(8 * time.Hour), Calendar: w.cal}
	n, err := request.SendNewRequestsSummary(ctx, w.db, env, saturday)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("the summary of Friday lists %d requests, want 3", n)
	}
	var got []struct {
		Title string `bun:"title"`
		Body  string `bun:"body"`
		Link  string `bun:"link"`
	}
	if err := w.db.NewRaw(`SELECT title, body, link FROM notifications WHERE event = ? ORDER BY id`, notify.EventNewRequestsDaily).Scan(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Title != "3 new requests were raised on Friday 20 November" {
		t.Fatalf("summaries: %+v", got)
	}
	for _, r := range []*request.Request{first, second, role} {
		if !strings.Contains(got[0].Body, r.Reference+": "+r.Title) {
			t.Errorf("the summary does not list %s: %q", r.Reference, got[0].Body)
		}
	}
	if !strings.HasPrefix(got[0].Link, "/requests?") || !strings.Contains(got[0].Link, "from-day=20&from-month=11&from-year=2026&to-day=20") {
		t.Errorf("the summary links to %s", got[0].Link)
	}
	// Who asked for the summary instead is not told of each request as well.
	if c := w.told("central", notify.EventRaised, ""); c != 0 {
		t.Errorf("the central team member who chose the summary was told of %d requests one by one", c)
	}
	if n, err := request.SendNewRequestsSummary(ctx, w.db, env, saturday); err != nil || n != 0 {
		t.Errorf("a second summary of Friday: %d, %v", n, err)
	}
	if c := w.count(`SELECT count(*) FROM email_outbox WHERE subject = ?`, got[0].Title); c != 1 {
		t.Errorf("%d summary emails, want 1", c)
	}
}
