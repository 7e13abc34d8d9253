package nsig_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/app/workday"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

type world struct {
	t     *testing.T
	db    *bun.DB
	now   time.Time
	users map[string]*identity.User
	nsigs map[string]int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	w := &world{t: t, db: d.DB, now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), users: map[string]*identity.User{}, nsigs: map[string]int64{}}
	if err := seed.Organisations(ctx, d.DB, w.now); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ key, ods, role string }{
		{"central", "ZNC01", identity.RoleCentralTeam},
		{"raiser", "ZLN01", identity.RoleRequester},
		{"wales", "ZWA01", identity.RoleRequester},
		{"london", "ZLN02", identity.RoleRequester},
		{"deputy", "ZWA02", identity.RoleRequester},
	} {
		org, err := organisation.GetByODS(ctx, d.DB, p.ods)
		if err != nil {
			t.Fatal(err)
		}
		u, err := identity.Create(ctx, d.DB, audit.Actor{Name: "test"}, w.now, identity.NewUser{
			Email: p.key + "@test.nhs.uk", Name: "Test " + p.key, OrganisationID: org.ID, Roles: []string{p.role}, Password: "correct horse battery staple",
		})
		if err != nil {
			t.Fatal(err)
		}
		w.users[p.key] = u
	}
	var rows []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := d.DB.NewSelect().Table("nsigs").Column("id", "name").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		w.nsigs[r.Name] = r.ID
	}
	return w
}

func (w *world) viewer(key string) request.Viewer {
	w.t.Helper()
	u, err := identity.Get(context.Background(), w.db, w.users[key].ID)
	if err != nil {
		w.t.Fatal(err)
	}
	v, err := request.ViewerFor(context.Background(), w.db, u)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

func (w *world) actor(key string) audit.Actor {
	return audit.Actor{UserID: w.users[key].ID, Name: w.users[key].Name}
}

func (w *world) appoint(nsigName string, region int16, who string, pos nsig.Position, confirm string) (*nsig.Appointment, error) {
	return nsig.Appoint(context.Background(), w.db, w.viewer("central"), w.actor("central"), w.now, w.nsigs[nsigName], region, nsig.AppointInput{
		Position: pos, Email: who + "@test.nhs.uk", NominatingSIG: "Regional ESR SIG", NominatedOn: w.now.AddDate(0, -1, 0),
		HowChosen: nsig.ChosenElection, TermStart: w.now.AddDate(0, 0, -7), TermEnd: w.now.AddDate(2, 0, 0),
		ConfirmOtherNSIG: confirm != "", OtherNSIGReason: confirm,
	})
}

func (w *world) count(query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

const (
	selfService = "Self Service and Portal"
	payroll     = "Payroll and Pensions"
	wales       = 8
	london      = 2
)

func TestAppointGivesRoleAndScopeAndEndingTakesThemAway(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	ap, err := w.appoint(selfService, wales, "wales", nsig.Member, "")
	if err != nil {
		t.Fatal(err)
	}
	v := w.viewer("wales")
	if !v.Has(identity.RoleNSIGMember) || !slices.Equal(v.NSIGIDs, []int64{w.nsigs[selfService]}) {
		t.Fatalf("after appointment: roles %v, NSIGs %v", v.Roles, v.NSIGIDs)
	}
	if n := w.count("SELECT count(*) FROM audit_events WHERE action IN ('nsig.appointed', 'user.roles_changed') AND entity_id IN (?, ?)", fmt.Sprint(ap.ID), fmt.Sprint(w.users["wales"].ID)); n != 2 {
		t.Fatalf("%d audit events for the appointment and the role, want 2", n)
	}
	if n := w.count("SELECT count(*) FROM notifications WHERE user_id = ? AND event = 'nsig_seat'", w.users["wales"].ID); n != 1 {
		t.Fatalf("%d notifications to the appointee, want 1", n)
	}

	// A deputy of the same seat must be someone else; the other position is taken.
	if _, err := w.appoint(selfService, wales, "wales", nsig.Deputy, ""); !isRule(err, "email") {
		t.Fatalf("the member as deputy: %v", err)
	}
	if _, err := w.appoint(selfService, wales, "deputy", nsig.Member, ""); !isRule(err, "position") {
		t.Fatalf("a second member: %v", err)
	}
	if _, err := w.appoint(selfService, london, "wales", nsig.Member, ""); !isRule(err, "email") {
		t.Fatalf("a second seat on the same NSIG: %v", err)
	}

	// A second NSIG needs confirming with a reason, which is kept.
	_, err = w.appoint(payroll, wales, "wales", nsig.Member, "")
	var warning *nsig.OtherNSIGWarning
	if !errors.As(err, &warning) || !slices.Equal(warning.NSIGs, []string{selfService}) {
		t.Fatalf("a second NSIG without confirming: %v", err)
	}
	second, err := w.appoint(payroll, wales, "wales", nsig.Member, "The only payroll lead in Wales")
	if err != nil {
		t.Fatal(err)
	}
	if second.OtherNSIGReason != "The only payroll lead in Wales" {
		t.Fatalf("reason %q", second.OtherNSIGReason)
	}

	// Ending one term keeps the role (another seat is held) but removes that NSIG's scope.
	if _, err := nsig.EndTerm(ctx, w.db, w.viewer("central"), w.actor("central"), w.now, ap.ID, nsig.EndInput{Reason: "Stood down"}); err != nil {
		t.Fatal(err)
	}
	v = w.viewer("wales")
	if !v.Has(identity.RoleNSIGMember) || !slices.Equal(v.NSIGIDs, []int64{w.nsigs[payroll]}) {
		t.Fatalf("after one term ended: roles %v, NSIGs %v", v.Roles, v.NSIGIDs)
	}
	if _, err := nsig.EndTerm(ctx, w.db, w.viewer("central"), w.actor("central"), w.now, ap.ID, nsig.EndInput{Reason: "Again"}); !errors.Is(err, problem.ErrConflict) {
		t.Fatalf("ending twice: %v", err)
	}
	// Ending the last removes the role, audited; the history stays.
	if _, err := nsig.EndTerm(ctx, w.db, w.viewer("central"), w.actor("central"), w.now, second.ID, nsig.EndInput{Reason: "Term over"}); err != nil {
		t.Fatal(err)
	}
	v = w.viewer("wales")
	if v.Has(identity.RoleNSIGMember) || len(v.NSIGIDs) != 0 || !v.Has(identity.RoleRequester) {
		t.Fatalf("after every term ended: roles %v, NSIGs %v", v.Roles, v.NSIGIDs)
	}
	if n := w.count("SELECT count(*) FROM audit_events WHERE action = 'user.roles_changed' AND entity_id = ?", fmt.Sprint(w.users["wales"].ID)); n != 2 {
		t.Fatalf("%d role changes audited, want 2 (granted and removed)", n)
	}
	history, err := nsig.SeatHistory(ctx, w.db, w.nsigs[selfService], wales)
	if err != nil || len(history) != 1 || history[0].Current() || history[0].EndReason != "Stood down" {
		t.Fatalf("history %+v, %v", history, err)
	}
	// The seat is free again.
	if _, err := w.appoint(selfService, wales, "deputy", nsig.Member, ""); err != nil {
		t.Fatal(err)
	}
}

func TestOnlyTheCentralTeamAppoints(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := nsig.Appoint(context.Background(), w.db, w.viewer("raiser"), w.actor("raiser"), w.now, w.nsigs[selfService], wales, nsig.AppointInput{})
	if !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("a requester appointing: %v", err)
	}
}

func isRule(err error, field string) bool {
	var rule *request.RuleError
	return errors.As(err, &rule) && rule.Field == field
}

// accepted raises a Self Service request from the raiser's organisation and accepts it as an
// enhancement, so that its NSIG reviews it.
func (w *world) accepted(title string) *request.Request {
	w.t.Helper()
	ctx := context.Background()
	env := request.Env{Now: w.now, Calendar: workday.New()}
	r, err := request.RaiseEnhancement(ctx, w.db, env.Calendar, w.viewer("raiser"), w.actor("raiser"), w.now, request.NewEnhancement{
		SRNumber: "SR1234567", Title: title, FunctionalArea: "Self Service", Problem: "The problem", Proposal: "The change",
		AffectedUsers: []string{"employee"}, Urgency: "medium", SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", len(title)),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, action := range []string{"acknowledge", "classify_enhancement"} {
		var version int
		if err := w.db.NewSelect().Table("requests").Column("version").Where("id = ?", r.ID).Scan(ctx, &version); err != nil {
			w.t.Fatal(err)
		}
		in := request.Input{Version: version}
		if action == "classify_enhancement" {
			in.Summary = "A change to ESR that every organisation may read about." // triage writes the public summary
		}
		if _, err := request.Apply(ctx, w.db, env, w.viewer("central"), w.actor("central"), r.Reference, action, in); err != nil {
			w.t.Fatalf("%s: %v", action, err)
		}
	}
	return r
}

func TestReviewQueueAndRegionalViews(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	r := w.accepted("Show the leave balance on the app")
	if _, err := w.appoint(selfService, wales, "wales", nsig.Member, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.appoint(selfService, wales, "deputy", nsig.Deputy, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.appoint(payroll, london, "london", nsig.Member, ""); err != nil {
		t.Fatal(err)
	}

	// Record-level access: a member sees their own NSIG's queue, not another's.
	queue, err := nsig.Queue(ctx, w.db, w.viewer("wales"), w.nsigs[selfService])
	if err != nil || len(queue) != 1 || queue[0].Reference != r.Reference {
		t.Fatalf("own queue %+v, %v", queue, err)
	}
	if _, err := nsig.Queue(ctx, w.db, w.viewer("london"), w.nsigs[selfService]); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("another NSIG's queue: %v", err)
	}
	if q, err := nsig.Queue(ctx, w.db, w.viewer("london"), w.nsigs[payroll]); err != nil || len(q) != 0 {
		t.Fatalf("payroll queue %+v, %v", q, err)
	}
	waiting, err := nsig.Waiting(ctx, w.db, w.viewer("wales"))
	if err != nil || len(waiting) != 1 || waiting[0].MyRegion != "Wales" {
		t.Fatalf("waiting %+v, %v", waiting, err)
	}

	// Only a seat holder of the request's NSIG gives a view.
	if _, err := nsig.RecordView(ctx, w.db, w.viewer("london"), w.actor("london"), w.now, r.Reference, nsig.ViewInput{View: nsig.Support}); err == nil {
		t.Fatal("a member of another NSIG gave a view")
	}
	if _, err := nsig.RecordView(ctx, w.db, w.viewer("deputy"), w.actor("deputy"), w.now, r.Reference, nsig.ViewInput{View: nsig.DoNotSupport}); !isRule(err, "comment") {
		t.Fatalf("do not support without a comment: %v", err)
	}
	if _, err := nsig.RecordView(ctx, w.db, w.viewer("deputy"), w.actor("deputy"), w.now, r.Reference, nsig.ViewInput{View: nsig.SupportWithConcerns, Comment: "Welsh language screens too"}); err != nil {
		t.Fatal(err)
	}
	// The member changes the region's view; one view per region, both on the timeline.
	if _, err := nsig.RecordView(ctx, w.db, w.viewer("wales"), w.actor("wales"), w.now.Add(time.Hour), r.Reference, nsig.ViewInput{View: nsig.Support}); err != nil {
		t.Fatal(err)
	}
	full, _, err := request.GetEnhancement(ctx, w.db, w.viewer("central"), r.Reference)
	if err != nil {
		t.Fatal(err)
	}
	cov, err := nsig.CoverageOf(ctx, w.db, &full.Request)
	if err != nil {
		t.Fatal(err)
	}
	if cov.Responded != 1 || len(cov.Rows) != nsig.Seats {
		t.Fatalf("coverage: %d responded in %d rows", cov.Responded, len(cov.Rows))
	}
	walesRow := cov.Rows[wales-1]
	if walesRow.View == nil || walesRow.View.View != nsig.Support || walesRow.Member != "Test wales" || walesRow.Deputy != "Test deputy" {
		t.Fatalf("Wales row %+v", walesRow)
	}
	if n := w.count("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'regional_view'", r.ID); n != 2 {
		t.Fatalf("%d regional views on the timeline, want 2", n)
	}
	if waiting, err := nsig.Waiting(ctx, w.db, w.viewer("wales")); err != nil || len(waiting) != 0 {
		t.Fatalf("still waiting %+v, %v", waiting, err)
	}
	d, err := nsig.DashboardOf(ctx, w.db, w.viewer("central"), w.nsigs[selfService], w.now)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ByStatus) != 1 || d.ByStatus[0].Count != 1 || len(d.Gaps) != 7 || !d.Gaps[0].Vacant {
		t.Fatalf("dashboard %+v", d)
	}
}

func TestMeetingFromAgendaToOutcome(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	r := w.accepted("Filter the compliance matrix")
	if _, err := w.appoint(selfService, wales, "wales", nsig.Member, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.appoint(selfService, wales, "deputy", nsig.Deputy, ""); err != nil {
		t.Fatal(err)
	}
	n, err := nsig.Get(ctx, w.db, w.viewer("central"), w.nsigs[selfService])
	if err != nil {
		t.Fatal(err)
	}
	start := w.now.Add(7 * 24 * time.Hour)
	if _, err := nsig.Schedule(ctx, w.db, w.viewer("wales"), w.actor("wales"), w.now, n.ID, nsig.MeetingInput{}); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("a member scheduling: %v", err)
	}
	m, err := nsig.Schedule(ctx, w.db, w.viewer("central"), w.actor("central"), w.now, n.ID, nsig.MeetingInput{
		StartsAt: start, DurationMinutes: 60, TeamsLink: "https://teams.microsoft.com/l/meetup-join/1", Purpose: nsig.PurposeMemberItems})
	if err != nil {
		t.Fatal(err)
	}
	// A member asks for an item about a request they can see; a member of no NSIG cannot ask.
	it, err := nsig.RequestItem(ctx, w.db, w.viewer("wales"), w.actor("wales"), w.now, n, m.ID, nsig.ItemInput{Title: "Compliance filters", References: r.Reference})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nsig.RequestItem(ctx, w.db, w.viewer("london"), w.actor("london"), w.now, n, m.ID, nsig.ItemInput{Title: "Mine"}); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("someone off the NSIG asking: %v", err)
	}
	if _, err := nsig.RequestItem(ctx, w.db, w.viewer("wales"), w.actor("wales"), w.now, n, m.ID, nsig.ItemInput{Title: "Other", References: "ENH-2026-0999"}); !isRule(err, "references") {
		t.Fatalf("an unknown request: %v", err)
	}
	// Only the chair or the central team accepts, and publishing needs an accepted item.
	if err := nsig.DecideItem(ctx, w.db, w.viewer("wales"), w.actor("wales"), w.now, n, m.ID, it.ID, true); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("a member who is not the chair accepting: %v", err)
	}
	if _, err := nsig.Publish(ctx, w.db, w.viewer("central"), w.actor("central"), w.now, n, m.ID); !isRule(err, "publish") {
		t.Fatalf("publishing an empty agenda: %v", err)
	}
	if err := nsig.DecideItem(ctx, w.db, w.viewer("central"), w.actor("central"), w.now, n, m.ID, it.ID, true); err != nil {
		t.Fatal(err)
	}
	told, err := nsig.Publish(ctx, w.db, w.viewer("central"), w.actor("central"), w.now, n, m.ID)
	if err != nil || told != 2 {
		t.Fatalf("published to %d, %v; want the member and the deputy", told, err)
	}
	if c := w.count("SELECT count(*) FROM notifications WHERE event = 'nsig_agenda' AND user_id IN (?, ?)", w.users["wales"].ID, w.users["deputy"].ID); c != 3 {
		t.Fatalf("%d agenda notifications, want 3 (accepted, and published to two)", c)
	}

	// After it starts: attendance, minutes with an outcome on the request's timeline, an action.
	later := start.Add(30 * time.Minute)
	if err := nsig.RecordAttendance(ctx, w.db, w.viewer("central"), w.actor("central"), later, n, m.ID, map[nsig.SeatKey]nsig.Position{{NSIGID: n.ID, RegionID: wales}: nsig.Deputy, {NSIGID: n.ID, RegionID: london}: nsig.Member}); !isRule(err, fmt.Sprintf("seat-%d-2", n.ID)) {
		t.Fatalf("attendance for a vacant seat: %v", err)
	}
	if err := nsig.RecordAttendance(ctx, w.db, w.viewer("central"), w.actor("central"), later, n, m.ID, map[nsig.SeatKey]nsig.Position{{NSIGID: n.ID, RegionID: wales}: nsig.Deputy}); err != nil {
		t.Fatal(err)
	}
	att, err := nsig.Attendance(ctx, w.db, m.ID)
	if err != nil || len(att) != 1 || att[0].Name != "Test deputy" {
		t.Fatalf("attendance %+v, %v", att, err)
	}
	if err := nsig.RecordMinutes(ctx, w.db, w.viewer("central"), w.actor("central"), later, n, m.ID, it.ID, nsig.MinutesInput{
		Minutes: "Every region wants it.", Outcome: "The NSIG supports it as a priority."}); err != nil {
		t.Fatal(err)
	}
	if c := w.count("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'nsig_outcome' AND detail = 'The NSIG supports it as a priority.'", r.ID); c != 1 {
		t.Fatalf("%d outcomes on the timeline", c)
	}
	a, err := nsig.AddAction(ctx, w.db, w.viewer("central"), w.actor("central"), later, n, m.ID, nsig.ActionInput{
		Description: "Ask the regions for examples", OwnerID: w.users["wales"].ID, DueOn: start.AddDate(0, 0, 14)})
	if err != nil {
		t.Fatal(err)
	}
	open, err := nsig.OpenActions(ctx, w.db, n.ID)
	if err != nil || len(open) != 1 {
		t.Fatalf("open actions %+v, %v", open, err)
	}
	if err := nsig.SetActionDone(ctx, w.db, w.viewer("deputy"), w.actor("deputy"), later, n, m.ID, a.ID, true); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("someone else's action marked done: %v", err)
	}
	if err := nsig.SetActionDone(ctx, w.db, w.viewer("wales"), w.actor("wales"), later, n, m.ID, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if open, err = nsig.OpenActions(ctx, w.db, n.ID); err != nil || len(open) != 0 {
		t.Fatalf("open actions after done %+v, %v", open, err)
	}
}

func TestLinkedProjectHandover(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	cv := w.viewer("central")
	p, err := nsig.SaveProject(ctx, w.db, cv, w.actor("central"), w.now, 0, 0, nsig.ProjectInput{
		Name: "Digital staff passport", FunctionalArea: "Core HR", Status: nsig.ProjectInProgress})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		in    nsig.ProjectInput
		field string
	}{
		{"no name", nsig.ProjectInput{FunctionalArea: "Core HR", Status: nsig.ProjectPlanned}, "name"},
		{"an unknown area", nsig.ProjectInput{Name: "X", FunctionalArea: "Catering", Status: nsig.ProjectPlanned}, "functional_area"},
		{"straight into business as usual", nsig.ProjectInput{Name: "Y", FunctionalArea: "Core HR", Status: nsig.ProjectBAU}, "status"},
		{"a name taken", nsig.ProjectInput{Name: "Digital  staff passport", FunctionalArea: "Payroll", Status: nsig.ProjectPlanned}, "name"},
	}
	for _, tt := range tests {
		if _, err := nsig.SaveProject(ctx, w.db, cv, w.actor("central"), w.now, 0, 0, tt.in); !isRule(err, tt.field) {
			t.Errorf("%s: %v, want a rule on %s", tt.name, err, tt.field)
		}
	}
	hr := w.nsigs["HR and Recruitment"]
	if _, err := nsig.HandOver(ctx, w.db, cv, w.actor("central"), w.now, p.ID, p.Version, nsig.HandoverInput{NSIGID: hr, On: w.now}); !isRule(err, "note") {
		t.Fatalf("no note: %v", err)
	}
	if _, err := nsig.HandOver(ctx, w.db, cv, w.actor("central"), w.now, p.ID, p.Version-1, nsig.HandoverInput{NSIGID: hr, On: w.now, Note: "n"}); !errors.Is(err, problem.ErrConflict) {
		t.Fatalf("an old form: %v", err)
	}
	done, err := nsig.HandOver(ctx, w.db, cv, w.actor("central"), w.now, p.ID, p.Version, nsig.HandoverInput{NSIGID: hr, On: w.now, Note: "The NSIG reviews passport changes"})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != nsig.ProjectBAU {
		t.Fatalf("status %s", done.Status)
	}
	theirs, err := nsig.ProjectsOf(ctx, w.db, hr)
	if err != nil || len(theirs) != 1 || theirs[0].Name != "Digital staff passport" {
		t.Fatalf("HR's responsibilities %+v, %v", theirs, err)
	}
	if _, err := nsig.HandOver(ctx, w.db, cv, w.actor("central"), w.now, p.ID, done.Version, nsig.HandoverInput{NSIGID: hr, On: w.now, Note: "again"}); !isRule(err, "nsig_id") {
		t.Fatalf("handed over twice: %v", err)
	}
}

// TestTermsEndOnTheirEndDate: a term that has run out is ended by the system the day after its end date
// — history kept, scope and role gone, the person told — and a second run (or another instance) does
// nothing more. A term ending today, and one already ended by hand, are left alone.
func TestTermsEndOnTheirEndDate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	expired, err := w.appoint(selfService, wales, "wales", nsig.Member, "")
	if err != nil {
		t.Fatal(err)
	}
	lastDay, err := w.appoint(selfService, london, "london", nsig.Member, "")
	if err != nil {
		t.Fatal(err)
	}
	// Their terms end on 19 and 20 November; the system runs on 20 November.
	if _, err := w.db.NewRaw("UPDATE nsig_appointments SET term_start = '2024-11-20', nominated_on = '2024-11-01', term_end = CASE id WHEN ? THEN date '2026-11-19' ELSE date '2026-11-20' END WHERE id IN (?, ?)",
		expired.ID, expired.ID, lastDay.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	system := request.SystemViewer("ESR portal (term end date)")
	actor := audit.Actor{Name: "ESR portal (term end date)"}
	today := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	counts := make([]int, 3)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := nsig.EndExpiredTerms(ctx, w.db, system, actor, w.now, today)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if total := counts[0] + counts[1] + counts[2]; total != 1 {
		t.Fatalf("ended %v terms across three runs, want 1 in all", counts)
	}
	ended, err := nsig.GetAppointment(ctx, w.db, expired.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Current() || ended.EndedBy != 0 || ended.EndReason != "The term ended on 19 November 2026." {
		t.Errorf("the run-out term: current %v, ended by %d, reason %q", ended.Current(), ended.EndedBy, ended.EndReason)
	}
	if v := w.viewer("wales"); v.Has(identity.RoleNSIGMember) || len(v.NSIGIDs) != 0 {
		t.Errorf("after their term ran out they still have %v on %v", v.Roles, v.NSIGIDs)
	}
	if v := w.viewer("london"); !v.Has(identity.RoleNSIGMember) {
		t.Error("a term ending today was ended")
	}
	if n := w.count("SELECT count(*) FROM notifications WHERE user_id = ? AND event = ?", w.users["wales"].ID, notify.EventNSIGSeat); n != 2 {
		t.Errorf("%d seat notifications to the Wales member, want 2 (appointed, ended)", n)
	}
	if n := w.count("SELECT count(*) FROM audit_events WHERE action = 'nsig.term_ended' AND actor_name = 'ESR portal (term end date)'"); n != 1 {
		t.Errorf("%d audited term ends by the system, want 1", n)
	}
}

// TestHandoverIsToldAndTrackedByRegion: handing a project to an NSIG tells its seat holders and every
// region's functional account manager, and waits on the NSIG's dashboard until each region's seat holder
// (or the central team) marks that its regional SIG has extended its membership.
func TestHandoverIsToldAndTrackedByRegion(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	cv := w.viewer("central")
	hr, payrollID := w.nsigs["HR and Recruitment"], w.nsigs[payroll]
	for _, a := range []struct {
		nsig   string
		region int16
		who    string
	}{{"HR and Recruitment", wales, "wales"}, {"HR and Recruitment", london, "london"}, {payroll, wales, "deputy"}} {
		if _, err := w.appoint(a.nsig, a.region, a.who, nsig.Member, ""); err != nil {
			t.Fatal(err)
		}
	}
	org, err := organisation.GetByODS(ctx, w.db, "ZLN01")
	if err != nil {
		t.Fatal(err)
	}
	fam, err := identity.Create(ctx, w.db, audit.Actor{Name: "test"}, w.now, identity.NewUser{Email: "fam@test.nhs.uk", Name: "Test fam",
		OrganisationID: org.ID, Roles: []string{identity.RoleFunctionalAccountManager}, Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := nsig.SaveProject(ctx, w.db, cv, w.actor("central"), w.now, 0, 0, nsig.ProjectInput{
		Name: "Digital staff passport", FunctionalArea: "Core HR", Status: nsig.ProjectInProgress})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nsig.HandOver(ctx, w.db, cv, w.actor("central"), w.now, p.ID, p.Version, nsig.HandoverInput{NSIGID: hr, On: w.now, Note: "Passport changes"}); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[int64]int{w.users["wales"].ID: 1, w.users["london"].ID: 1, fam.ID: 1, w.users["deputy"].ID: 0, w.users["raiser"].ID: 0} {
		if n := w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND event = ? AND title = 'Digital staff passport is handed to the HR and Recruitment NSIG'
			AND body LIKE '%extend its membership to cover Core HR%'`, who, notify.EventProjectHandover); n != want {
			t.Errorf("user %d told %d times, want %d", who, n, want)
		}
	}
	pending := func() []nsig.Handover {
		t.Helper()
		hs, err := nsig.PendingHandovers(ctx, w.db, hr)
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}
	if hs := pending(); len(hs) != 1 || hs[0].Pending != nsig.Seats || len(hs[0].Regions) != nsig.Seats {
		t.Fatalf("pending hand-overs %+v, want one waiting on all %d regions", hs, nsig.Seats)
	}
	if hs, err := nsig.PendingHandovers(ctx, w.db, payrollID); err != nil || len(hs) != 0 {
		t.Errorf("another NSIG's dashboard shows %+v, %v", hs, err)
	}
	if err := nsig.MarkExtended(ctx, w.db, w.viewer("wales"), w.actor("wales"), w.now, hr, p.ID, wales); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who    string
		nsigID int64
		region int16
		want   error
	}{
		{"wales", hr, london, problem.ErrForbidden},        // another region's part
		{"deputy", hr, wales, problem.ErrForbidden},        // a seat on another NSIG
		{"raiser", hr, london, problem.ErrForbidden},       // no seat at all
		{"wales", hr, wales, problem.ErrConflict},          // done already
		{"central", payrollID, wales, problem.ErrNotFound}, // not that NSIG's project
	} {
		if err := nsig.MarkExtended(ctx, w.db, w.viewer(tc.who), w.actor(tc.who), w.now, tc.nsigID, p.ID, tc.region); !errors.Is(err, tc.want) {
			t.Errorf("%s marking region %d: %v, want %v", tc.who, tc.region, err, tc.want)
		}
	}
	hs := pending()
	if len(hs) != 1 || hs[0].Pending != nsig.Seats-1 {
		t.Fatalf("after Wales: %+v", hs)
	}
	for _, r := range hs[0].Regions {
		if r.RegionID == wales && (!r.Done() || r.DoneBy != "Test wales") {
			t.Errorf("Wales shows %+v", r)
		}
		if !r.Done() {
			if err := nsig.MarkExtended(ctx, w.db, cv, w.actor("central"), w.now, hr, p.ID, r.RegionID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if hs := pending(); len(hs) != 0 {
		t.Errorf("every region done, still pending: %+v", hs)
	}
	if n := w.count(`SELECT count(*) FROM audit_events WHERE action = 'project.region_extended' AND entity_id = ?`, fmt.Sprint(p.ID)); n != nsig.Seats {
		t.Errorf("%d audit events, want %d", n, nsig.Seats)
	}
}

// TestJointSession: a meeting held by two NSIGs. Members of either ask for agenda items through their
// own NSIG; the agenda goes to every seat holder of both, each once; attendance is per NSIG and region;
// the actions are open on both dashboards and either NSIG's page reaches the meeting; a third NSIG does
// not.
func TestJointSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	for _, a := range []struct {
		nsig   string
		region int16
		who    string
		pos    nsig.Position
		why    string
	}{
		{selfService, wales, "wales", nsig.Member, ""},
		{payroll, london, "london", nsig.Member, ""},
		{payroll, wales, "deputy", nsig.Member, ""},
		{selfService, wales, "deputy", nsig.Deputy, "Covers both areas for Wales"}, // on both NSIGs: told once
	} {
		if _, err := w.appoint(a.nsig, a.region, a.who, a.pos, a.why); err != nil {
			t.Fatalf("%s: %v", a.who, err)
		}
	}
	cv := w.viewer("central")
	ss, err := nsig.Get(ctx, w.db, cv, w.nsigs[selfService])
	if err != nil {
		t.Fatal(err)
	}
	pp, err := nsig.Get(ctx, w.db, cv, w.nsigs[payroll])
	if err != nil {
		t.Fatal(err)
	}
	hr := w.nsigs["HR and Recruitment"]
	start := w.now.Add(7 * 24 * time.Hour)
	if _, err := nsig.Schedule(ctx, w.db, cv, w.actor("central"), w.now, ss.ID, nsig.MeetingInput{StartsAt: start, DurationMinutes: 60,
		TeamsLink: "https://teams.microsoft.com/l/meetup-join/2", Purpose: nsig.PurposeMemberItems, With: []int64{999999}}); !isRule(err, "with") {
		t.Fatalf("a joint session with no such NSIG: %v", err)
	}
	m, err := nsig.Schedule(ctx, w.db, cv, w.actor("central"), w.now, ss.ID, nsig.MeetingInput{StartsAt: start, DurationMinutes: 60,
		TeamsLink: "https://teams.microsoft.com/l/meetup-join/2", Purpose: nsig.PurposeMemberItems, With: []int64{pp.ID, ss.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{ss.ID, pp.ID} {
		got, err := nsig.GetMeeting(ctx, w.db, id, m.ID)
		if err != nil {
			t.Fatalf("NSIG %d cannot reach the joint meeting: %v", id, err)
		}
		if !got.Joint() || got.Holders() != "Payroll and Pensions and Self Service and Portal" {
			t.Errorf("the meeting is held by %v", got.NSIGNames)
		}
	}
	if _, err := nsig.GetMeeting(ctx, w.db, hr, m.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("a third NSIG reaches the meeting: %v", err)
	}
	// A Payroll member asks for an item through Payroll; the central team accepts it through Self Service.
	it, err := nsig.RequestItem(ctx, w.db, w.viewer("london"), w.actor("london"), w.now, pp, m.ID, nsig.ItemInput{Title: "Pay and self service"})
	if err != nil {
		t.Fatal(err)
	}
	if err := nsig.DecideItem(ctx, w.db, cv, w.actor("central"), w.now, ss, m.ID, it.ID, true); err != nil {
		t.Fatal(err)
	}
	told, err := nsig.Publish(ctx, w.db, cv, w.actor("central"), w.now, ss, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if told != 3 {
		t.Errorf("the agenda went to %d people, want 3 (the deputy on both NSIGs once)", told)
	}
	for who, link := range map[string]string{"wales": fmt.Sprintf("/nsigs/%d/meetings/%d", ss.ID, m.ID), "london": fmt.Sprintf("/nsigs/%d/meetings/%d", pp.ID, m.ID)} {
		if n := w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND event = ? AND link = ? AND title LIKE 'Agenda published: joint meeting of the Payroll and Pensions and Self Service and Portal NSIGs%'`,
			w.users[who].ID, notify.EventNSIGAgenda, link); n != 1 {
			t.Errorf("%s has %d agenda notifications linking to %s", who, n, link)
		}
	}
	later := start.Add(30 * time.Minute)
	att := map[nsig.SeatKey]nsig.Position{{NSIGID: ss.ID, RegionID: wales}: nsig.Member, {NSIGID: pp.ID, RegionID: london}: nsig.Member, {NSIGID: pp.ID, RegionID: wales}: nsig.Member}
	if err := nsig.RecordAttendance(ctx, w.db, cv, w.actor("central"), later, pp, m.ID, att); err != nil {
		t.Fatal(err)
	}
	got, err := nsig.Attendance(ctx, w.db, m.ID)
	if err != nil || len(got) != 3 {
		t.Fatalf("attendance %+v, %v", got, err)
	}
	a, err := nsig.AddAction(ctx, w.db, cv, w.actor("central"), later, ss, m.ID, nsig.ActionInput{Description: "Draft the joint paper", OwnerID: w.users["london"].ID, DueOn: later.AddDate(0, 0, 14)})
	if err != nil {
		t.Fatalf("an action for a Payroll member from the joint meeting: %v", err)
	}
	for _, id := range []int64{ss.ID, pp.ID} {
		open, err := nsig.OpenActions(ctx, w.db, id)
		if err != nil || len(open) != 1 || open[0].ID != a.ID {
			t.Errorf("NSIG %d's open actions %+v, %v", id, open, err)
		}
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND link = ?`, w.users["london"].ID, fmt.Sprintf("/nsigs/%d/meetings/%d", pp.ID, m.ID)); n != 2 {
		t.Errorf("the action's owner is not linked to the meeting through their own NSIG (%d)", n)
	}
	if err := nsig.SetActionDone(ctx, w.db, w.viewer("london"), w.actor("london"), later, pp, m.ID, a.ID, true); err != nil {
		t.Errorf("the owner marking it done through their NSIG: %v", err)
	}
}
