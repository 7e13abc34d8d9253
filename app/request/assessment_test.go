package request_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// inAssessment raises a request and takes it through triage, the requester's decision, an agreed
// requirement definition and a submitted justification into impact assessment.
func (w *world) inAssessment(title string) *request.Request {
	w.t.Helper()
	ctx := context.Background()
	r := w.raise(title)
	for _, s := range []struct{ who, action string }{{"central", "acknowledge"}, {"central", "classify_enhancement"}, {"raiser", "progress"}} {
		if _, err := w.apply(s.who, r, s.action, request.Input{}); err != nil {
			w.t.Fatalf("%s: %v", s.action, err)
		}
	}
	raiser, developer := w.v["raiser"].UserID, w.v["developer"].UserID
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO requirement_versions (request_id, version, body, author_id, created_at) VALUES (?, 1, 'The change', ?, ?)`, []any{r.ID, raiser, w.now}},
		{`INSERT INTO requirement_agreements (request_id, side, version, user_id, agreed_at) VALUES (?, 'requester', 1, ?, ?), (?, 'development', 1, ?, ?)`,
			[]any{r.ID, raiser, w.now, r.ID, developer, w.now}},
		{`INSERT INTO business_justifications (request_id, submitted_at, updated_at) VALUES (?, ?, ?)`, []any{r.ID, w.now, w.now}},
	} {
		if _, err := w.db.NewRaw(stmt.sql, stmt.args...).Exec(ctx); err != nil {
			w.t.Fatal(err)
		}
	}
	if _, err := w.apply("central", r, "submit_for_assessment", request.Input{}); err != nil {
		w.t.Fatalf("submit for assessment: %v", err)
	}
	return r
}

func (w *world) saveAssessment(who string, r *request.Request, in request.AssessmentInput) (*request.Assessment, error) {
	w.t.Helper()
	return request.SaveAssessment(context.Background(), w.db, w.v[who], audit.Actor{Name: who}, w.now, r.Reference, in)
}

func (w *world) assessment(r *request.Request) *request.Assessment {
	w.t.Helper()
	a, err := request.GetAssessment(context.Background(), w.db, w.v["central"], r.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func (w *world) count(query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// complete is a whole assessment, ready to complete.
func complete(version int) request.AssessmentInput {
	return request.AssessmentInput{Version: version, EffortSize: "M", EffortDays: ptr(12.5), Modules: []string{"Self Service", "Payroll"},
		Interfaces: "GP interface", Risks: "Payroll cut-off", Dependencies: "Release 72", CostPence: ptr(int64(1250050)),
		Recommendation: "approve", Notes: "Straightforward", Complete: true}
}

func TestAssessmentDraftCompleteAndWhoMaySee(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.inAssessment("Assess me")

	if a := w.assessment(r); a.Started() || a.AssessorID != 0 || a.Version != 0 {
		t.Fatalf("a new assessment: %+v", a)
	}
	// Only the central and development teams see it; only the development team saves it.
	for _, who := range []string{"raiser", "nsig_member", "fam_region", "admin"} {
		if _, err := request.GetAssessment(ctx, w.db, w.v[who], r.ID); !errors.Is(err, problem.ErrForbidden) {
			t.Errorf("%s read the assessment: %v", who, err)
		}
	}
	for _, who := range []string{"central", "raiser", "nsig_member"} {
		if _, err := w.saveAssessment(who, r, request.AssessmentInput{Risks: "x"}); !errors.Is(err, problem.ErrForbidden) {
			t.Errorf("%s saved the assessment: %v", who, err)
		}
	}

	// A draft needs nothing, and makes the developer its assessor.
	a, err := w.saveAssessment("developer", r, request.AssessmentInput{EffortSize: "L", Risks: "  Some  "})
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 || a.AssessorID != w.v["developer"].UserID || a.Completed() || a.Risks != "Some" || a.EffortDays != nil || a.CostPence != nil {
		t.Fatalf("draft: %+v", a)
	}
	// Central cannot decide on a draft.
	var rule *request.RuleError
	if _, err := w.apply("central", r, "approve", request.Input{Text: "Good"}); !errors.As(err, &rule) {
		t.Fatalf("approved on a draft assessment: %v", err)
	}

	// Completing needs the effort size, the risks and a recommendation.
	for _, c := range []struct {
		in    request.AssessmentInput
		field string
	}{
		{request.AssessmentInput{Version: 1, Risks: "r", Recommendation: "approve", Complete: true}, "effort_size"},
		{request.AssessmentInput{Version: 1, EffortSize: "S", Recommendation: "approve", Complete: true}, "risks"},
		{request.AssessmentInput{Version: 1, EffortSize: "S", Risks: "r", Complete: true}, "recommendation"},
		{request.AssessmentInput{Version: 1, EffortSize: "XXL"}, "effort_size"},
		{request.AssessmentInput{Version: 1, Recommendation: "maybe"}, "recommendation"},
		{request.AssessmentInput{Version: 1, Modules: []string{"Astrology"}}, "modules"},
		{request.AssessmentInput{Version: 1, EffortDays: ptr(-1.0)}, "effort_days"},
		{request.AssessmentInput{Version: 1, CostPence: ptr(int64(-5))}, "cost"},
		{request.AssessmentInput{Version: 1, Risks: strings.Repeat("x", 5001)}, "risks"},
	} {
		_, err := w.saveAssessment("developer", r, c.in)
		if !errors.As(err, &rule) || rule.Field != c.field {
			t.Errorf("%+v: %v, want a rule error on %s", c.in, err, c.field)
		}
	}
	a, err = w.saveAssessment("developer", r, complete(1))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Completed() || a.Version != 2 || *a.EffortDays != 12.5 || *a.CostPence != 1250050 || strings.Join(a.Modules, ",") != "Self Service,Payroll" ||
		a.Recommendation != "approve" || a.UpdatedByName != "Test developer" {
		t.Fatalf("completed: %+v", a)
	}

	// The draft is internal; the completion is on the timeline for the requester too.
	entries, err := request.Timeline(ctx, w.db, r.ID, request.AccessFull)
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, e := range entries {
		if e.Event != nil {
			summaries = append(summaries, e.Event.Summary)
		}
	}
	all := strings.Join(summaries, "\n")
	if strings.Contains(all, "draft saved") || !strings.Contains(all, "Impact assessment completed: recommendation to approve.") {
		t.Errorf("the requester's timeline:\n%s", all)
	}
	if n := w.count("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'assessment_saved' AND internal", r.ID); n != 1 {
		t.Errorf("%d internal draft events, want 1", n)
	}
	if n := w.count("SELECT count(*) FROM audit_events WHERE entity_id = ? AND action LIKE 'request.assessment_%'", r.Reference); n != 2 {
		t.Errorf("%d audit events for the assessment, want 2", n)
	}
	// The central team is told it can decide.
	if n := w.count("SELECT count(*) FROM notifications WHERE user_id = ? AND event = 'decision_needed' AND title LIKE '%impact assessment is complete%'", w.v["central"].UserID); n != 1 {
		t.Errorf("central told %d times that the assessment is complete, want 1", n)
	}

	// Now the central team decides; the assessment is then read-only.
	if _, err := w.apply("central", r, "approve", request.Input{Text: "Good value"}); err != nil {
		t.Fatal(err)
	}
	_, err = w.saveAssessment("developer", r, complete(2))
	var conflict *request.AssessmentConflict
	if !errors.As(err, &conflict) || !errors.Is(err, problem.ErrConflict) || conflict.Status != request.StatusApproved {
		t.Fatalf("saved after the decision: %v", err)
	}
	d, ok, err := request.LatestDecision(ctx, w.db, r.ID)
	if err != nil || !ok || d.Outcome != "approved" || d.Rationale != "Good value" || d.DecidedByName != "Test central" || d.OutcomeLabel() != "Approved" {
		t.Errorf("decision %+v %v %v", d, ok, err)
	}
	if _, ok, err := request.LatestDecision(ctx, w.db, w.raise("Undecided").ID); ok || err != nil {
		t.Errorf("a request with no decision: %v %v", ok, err)
	}
}

func TestAssessmentStaleSaveIsAConflictWithTheirVersion(t *testing.T) {
	w := newWorld(t)
	r := w.inAssessment("Two tabs")
	if _, err := w.saveAssessment("developer", r, request.AssessmentInput{Risks: "First"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.saveAssessment("developer", r, request.AssessmentInput{Version: 1, Risks: "Second"}); err != nil {
		t.Fatal(err)
	}
	_, err := w.saveAssessment("developer", r, request.AssessmentInput{Version: 1, Risks: "Third, from a stale tab"})
	var conflict *request.AssessmentConflict
	if !errors.As(err, &conflict) {
		t.Fatalf("a stale save: %v, want an assessment conflict", err)
	}
	if conflict.Current.Version != 2 || conflict.Current.Risks != "Second" || conflict.Status != request.StatusImpactAssessment {
		t.Errorf("the conflict carries %+v", conflict.Current)
	}
	if got := w.assessment(r); got.Risks != "Second" {
		t.Errorf("the stale save overwrote: %q", got.Risks)
	}
	// A first save from a form made before anyone saved (version 0) is stale too.
	if _, err := w.saveAssessment("developer", r, request.AssessmentInput{Risks: "Zero"}); !errors.As(err, &conflict) {
		t.Errorf("a stale first save: %v", err)
	}
}

func TestAssessorRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.inAssessment("Who assesses")
	org, err := organisation.GetByODS(ctx, w.db, "ZNC01")
	if err != nil {
		t.Fatal(err)
	}
	u, err := identity.Create(ctx, w.db, audit.Actor{Name: "test"}, w.now, identity.NewUser{Email: "dev2@test.nhs.uk", Name: "Test dev2",
		OrganisationID: org.ID, Roles: []string{identity.RoleDevelopmentTeam}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if u, err = identity.Get(ctx, w.db, u.ID); err != nil {
		t.Fatal(err)
	}
	if w.v["dev2"], err = request.ViewerFor(ctx, w.db, u); err != nil {
		t.Fatal(err)
	}
	dev, dev2 := w.v["developer"].UserID, w.v["dev2"].UserID
	assign := func(who string, from, to int64) error {
		return request.AssignAssessor(ctx, w.db, w.v[who], audit.Actor{Name: who}, w.now, r.Reference, from, to)
	}

	var rule *request.RuleError
	if err := assign("central", 0, w.v["central"].UserID); !errors.As(err, &rule) || rule.Field != "assessor_id" {
		t.Errorf("assigned to someone outside the development team: %v", err)
	}
	for _, who := range []string{"raiser", "nsig_member", "admin"} {
		if err := assign(who, 0, dev); !errors.Is(err, problem.ErrForbidden) {
			t.Errorf("%s assigned the assessor: %v", who, err)
		}
	}
	if err := assign("central", 0, dev); err != nil {
		t.Fatal(err)
	}
	if a := w.assessment(r); a.AssessorID != dev || a.AssessorName != "Test developer" || a.Version != 0 {
		t.Errorf("after assigning: %+v", a)
	}
	if n := w.count("SELECT count(*) FROM notifications WHERE user_id = ? AND link = ?", dev, "/requests/"+r.Reference+"/assessment"); n != 1 {
		t.Errorf("the assessor was told %d times, want 1", n)
	}
	if n := w.count("SELECT count(*) FROM request_followers WHERE request_id = ? AND user_id = ?", r.ID, dev); n != 1 {
		t.Error("the assessor does not follow the request")
	}
	if n := w.count("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'assessor_assigned' AND internal", r.ID); n != 1 {
		t.Errorf("%d internal assignment events, want 1", n)
	}
	// A form showing the old assessor is stale.
	if err := assign("developer", 0, dev2); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("a stale assignment: %v", err)
	}
	// Another developer may not save someone else's assessment …
	if _, err := w.saveAssessment("dev2", r, request.AssessmentInput{Risks: "Mine now"}); !errors.As(err, &rule) || rule.Field != "assessor_id" {
		t.Errorf("dev2 saved the developer's assessment: %v", err)
	}
	// … but the assessor may, from a form made before the assignment (assigning keeps the version).
	if _, err := w.saveAssessment("developer", r, request.AssessmentInput{Risks: "Mine"}); err != nil {
		t.Fatalf("the assessor's save: %v", err)
	}
	// The development team can hand it over; the new assessor then saves.
	if err := assign("developer", dev, dev2); err != nil {
		t.Fatal(err)
	}
	if _, err := w.saveAssessment("dev2", r, request.AssessmentInput{Version: 1, Risks: "Handed over"}); err != nil {
		t.Errorf("the new assessor's save: %v", err)
	}
	if n := w.count("SELECT count(*) FROM audit_events WHERE entity_id = ? AND action = 'request.assessor_assigned'", r.Reference); n != 2 {
		t.Errorf("%d assignments audited, want 2", n)
	}
	// Assigning needs the request in impact assessment.
	other := w.raise("Not in assessment")
	if err := request.AssignAssessor(ctx, w.db, w.v["central"], audit.Actor{Name: "c"}, w.now, other.Reference, 0, dev); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("assigned an assessor before impact assessment: %v", err)
	}
}

func TestWaitingForAssessment(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mine, unassigned, done := w.inAssessment("Mine"), w.inAssessment("Nobody's"), w.inAssessment("Done")
	w.raise("Still in triage")
	if err := request.AssignAssessor(ctx, w.db, w.v["central"], audit.Actor{Name: "c"}, w.now, mine.Reference, 0, w.v["developer"].UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.saveAssessment("developer", done, complete(0)); err != nil {
		t.Fatal(err)
	}
	rows, err := request.WaitingForAssessment(ctx, w.db, w.v["developer"].UserID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Title)
		if r.EnteredAt.IsZero() {
			t.Errorf("%s: no date it came into impact assessment", r.Reference)
		}
	}
	if strings.Join(got, ",") != "Mine,Nobody's" || rows[0].Reference != mine.Reference || rows[0].AssessorID == 0 ||
		rows[1].Reference != unassigned.Reference || rows[1].AssessorID != 0 {
		t.Errorf("waiting: %+v", rows)
	}
	// Someone else sees only the unassigned one.
	rows, err = request.WaitingForAssessment(ctx, w.db, w.v["central"].UserID)
	if err != nil || len(rows) != 1 || rows[0].Title != "Nobody's" {
		t.Errorf("another assessor's queue: %+v %v", rows, err)
	}
}

// TestReturnDueForReview defers two requests and runs the job on the days around their review dates:
// only those due move, a second run moves nothing, and two instances running at once move each
// request once.
func TestReturnDueForReview(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	system := request.SystemViewer("ESR portal (review date)")
	soon, later, summer := w.inAssessment("Review soon"), w.inAssessment("Review later"), w.inAssessment("Review in summer")
	for _, c := range []struct {
		r  *request.Request
		on time.Time
	}{
		{soon, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{later, time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)},
		{summer, time.Date(2027, 6, 10, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := w.saveAssessment("developer", c.r, complete(0)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.apply("central", c.r, "defer", request.Input{Text: "Not this year", ReviewOn: c.on}); err != nil {
			t.Fatal(err)
		}
	}
	deferred, err := request.Deferred(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	if len(deferred) != 3 || deferred[0].Reference != soon.Reference || deferred[0].ReviewOn.Format("2006-01-02") != "2026-12-01" ||
		deferred[0].Rationale != "Not this year" || deferred[0].DeferredAt.IsZero() {
		t.Fatalf("deferred: %+v", deferred)
	}
	run := func(now time.Time) []string {
		t.Helper()
		moved, err := request.ReturnDueForReview(ctx, w.db, request.Env{Now: now, Calendar: w.cal}, system)
		if err != nil {
			t.Fatal(err)
		}
		return moved
	}
	status := func(r *request.Request) string {
		var s string
		if err := w.db.NewSelect().Table("requests").Column("status").Where("id = ?", r.ID).Scan(ctx, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	if moved := run(time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)); len(moved) != 0 {
		t.Errorf("the day before: moved %v", moved)
	}
	if moved := run(time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)); len(moved) != 1 || moved[0] != soon.Reference {
		t.Errorf("on the review date: moved %v", moved)
	}
	if moved := run(time.Date(2026, 12, 1, 0, 11, 0, 0, time.UTC)); len(moved) != 0 {
		t.Errorf("a second run moved %v", moved)
	}
	if status(soon) != "impact_assessment" || status(later) != "deferred" {
		t.Errorf("statuses %s, %s", status(soon), status(later))
	}
	var actor string
	if err := w.db.NewRaw("SELECT actor_name FROM request_events WHERE request_id = ? AND kind = 'review'", soon.ID).Scan(ctx, &actor); err != nil {
		t.Fatal(err)
	}
	if actor != "ESR portal (review date)" {
		t.Errorf("the review was made by %q", actor)
	}
	if n := w.count("SELECT count(*) FROM audit_events WHERE entity_id = ? AND action = 'request.review' AND actor_name = 'ESR portal (review date)'", soon.Reference); n != 1 {
		t.Errorf("%d audited returns, want 1", n)
	}
	// Back in impact assessment, the completed assessment is outdated and waits for the team again.
	if a := w.assessment(soon); !a.Outdated() {
		t.Errorf("the returned request's assessment is not outdated: %+v", a)
	}
	waiting, err := request.WaitingForAssessment(ctx, w.db, w.v["developer"].UserID)
	if err != nil || len(waiting) != 1 || waiting[0].Reference != soon.Reference {
		t.Errorf("waiting after the return: %+v %v", waiting, err)
	}

	// Two instances at once, on a date both remaining requests are due: each moves once.
	var wg sync.WaitGroup
	moved := make([][]string, 2)
	for i := range moved {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := request.ReturnDueForReview(ctx, w.db, request.Env{Now: time.Date(2027, 7, 1, 9, 0, 0, 0, time.UTC), Calendar: w.cal}, system)
			if err != nil {
				t.Error(err)
			}
			moved[i] = m
		}()
	}
	wg.Wait()
	if len(moved[0])+len(moved[1]) != 2 {
		t.Errorf("two instances moved %v and %v, want two requests in all", moved[0], moved[1])
	}
	if n := w.count("SELECT count(*) FROM request_events WHERE request_id IN (?, ?) AND kind = 'review'", later.ID, summer.ID); n != 2 {
		t.Errorf("%d review events for two requests", n)
	}
}

// TestReviewDateIsALondonDate: just after midnight in London in summer time, still the day before in
// UTC, a request due that day comes back.
func TestReviewDateIsALondonDate(t *testing.T) {
	w := newWorld(t)
	r := w.inAssessment("Summer review")
	if _, err := w.saveAssessment("developer", r, complete(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.apply("central", r, "defer", request.Input{Text: "Later", ReviewOn: time.Date(2027, 6, 10, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	env := request.Env{Now: time.Date(2027, 6, 9, 23, 30, 0, 0, time.UTC), Calendar: w.cal} // 00:30 on 10 June in London
	moved, err := request.ReturnDueForReview(context.Background(), w.db, env, request.SystemViewer("ESR portal (review date)"))
	if err != nil || len(moved) != 1 {
		t.Errorf("moved %v (%v), want the request due today in London", moved, err)
	}
}
