package release_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/release"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/app/workday"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// world is a fresh database with organisations, a requester of the raising organisation, a requester
// of another organisation who supports requests, the central team and the development team.
type world struct {
	t   *testing.T
	db  *bun.DB
	env request.Env
	v   map[string]request.Viewer
	seq int
}

var people = []struct{ key, ods, role string }{
	{"raiser", "ZLN01", identity.RoleRequester},
	{"supporter", "ZMD01", identity.RoleRequester},
	{"central", "ZNC01", identity.RoleCentralTeam},
	{"developer", "ZNC01", identity.RoleDevelopmentTeam},
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	w := &world{t: t, db: d.DB, env: request.Env{Now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), Calendar: workday.New()},
		v: map[string]request.Viewer{}}
	if err := seed.Organisations(ctx, d.DB, w.env.Now); err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		org, err := organisation.GetByODS(ctx, d.DB, p.ods)
		if err != nil {
			t.Fatal(err)
		}
		u, err := identity.Create(ctx, d.DB, audit.Actor{Name: "test"}, w.env.Now, identity.NewUser{
			Email: p.key + "@test.nhs.uk", Name: "Test " + p.key, OrganisationID: org.ID, Roles: []string{p.role}, Password: "correct horse battery staple",
		})
		if err != nil {
			t.Fatal(err)
		}
		if w.v[p.key], err = request.ViewerFor(ctx, d.DB, u); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *world) actor(who string) audit.Actor {
	return audit.Actor{UserID: w.v[who].UserID, Name: w.v[who].Name}
}

// newRelease adds a release as the central team.
func (w *world) newRelease(number int, name, target string, capacity float64) *release.Release {
	w.t.Helper()
	day, err := time.Parse(time.DateOnly, target)
	if err != nil {
		w.t.Fatal(err)
	}
	r, err := release.Create(context.Background(), w.db, w.v["central"], w.actor("central"), w.env.Now, release.Input{
		Number: number, Name: name, TargetDate: day, Status: release.StatusPlanned, CapacityDays: sql.NullFloat64{Float64: capacity, Valid: capacity > 0},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) version(r *request.Request) int {
	w.t.Helper()
	var v int
	if err := w.db.NewSelect().Table("requests").Column("version").Where("id = ?", r.ID).Scan(context.Background(), &v); err != nil {
		w.t.Fatal(err)
	}
	return v
}

func (w *world) apply(who string, r *request.Request, action string, in request.Input) error {
	w.t.Helper()
	in.Version = w.version(r)
	if action == "classify_enhancement" && in.Summary == "" {
		in.Summary = "A change to ESR that every organisation may read about." // triage writes the public summary
	}
	_, err := request.Apply(context.Background(), w.db, w.env, w.v[who], w.actor(who), r.Reference, action, in)
	return err
}

// approved raises a request and takes it to approved, with an agreed requirement, a submitted
// justification and a completed impact assessment of effort days; the supporter's organisation
// supports it.
func (w *world) approved(title string, effort float64) *request.Request {
	w.t.Helper()
	ctx := context.Background()
	w.seq++
	r, err := request.RaiseEnhancement(ctx, w.db, w.env.Calendar, w.v["raiser"], w.actor("raiser"), w.env.Now, request.NewEnhancement{
		SRNumber: "SR1234567", Title: title, FunctionalArea: "Self Service", Problem: "The problem", Proposal: "The change",
		AffectedUsers: []string{"employee"}, Urgency: "medium", SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", w.seq),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range []struct{ who, action string }{{"central", "acknowledge"}, {"central", "classify_enhancement"}, {"raiser", "progress"}} {
		if err := w.apply(s.who, r, s.action, request.Input{}); err != nil {
			w.t.Fatalf("%s: %v", s.action, err)
		}
	}
	raiser, developer := w.v["raiser"].UserID, w.v["developer"].UserID
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO requirement_versions (request_id, version, body, author_id, created_at) VALUES (?, 1, 'The change', ?, now())`, []any{r.ID, raiser}},
		{`INSERT INTO requirement_agreements (request_id, side, version, user_id, agreed_at) VALUES (?, 'requester', 1, ?, now()), (?, 'development', 1, ?, now())`, []any{r.ID, raiser, r.ID, developer}},
		{`INSERT INTO business_justifications (request_id, submitted_at, updated_at) VALUES (?, now(), now())`, []any{r.ID}},
		{`INSERT INTO impact_assessments (request_id, effort_days, completed_at, updated_at) VALUES (?, ?, now(), now())`, []any{r.ID, effort}},
	} {
		if _, err := w.db.NewRaw(stmt.sql, stmt.args...).Exec(ctx); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.apply("raiser", r, "submit_for_assessment", request.Input{}); err != nil {
		w.t.Fatal(err)
	}
	if err := w.apply("central", r, "approve", request.Input{Text: "Worth doing"}); err != nil {
		w.t.Fatal(err)
	}
	if err := request.Support(ctx, w.db, w.v["supporter"], w.actor("supporter"), w.env.Now, r.Reference, "We need it too"); err != nil {
		w.t.Fatal(err)
	}
	return r
}

// allocated is approved, then allocated to the release.
func (w *world) allocated(title string, effort float64, rel *release.Release) *request.Request {
	w.t.Helper()
	r := w.approved(title, effort)
	if err := w.apply("central", r, "allocate", request.Input{ReleaseID: rel.ID}); err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) status(r *request.Request) request.Status {
	w.t.Helper()
	var s request.Status
	if err := w.db.NewSelect().Table("requests").Column("status").Where("id = ?", r.ID).Scan(context.Background(), &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) count(query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func wantRule(t *testing.T, err error, field string) {
	t.Helper()
	var rule *request.RuleError
	if !errors.As(err, &rule) || rule.Field != field {
		t.Fatalf("%v, want a rule error on %s", err, field)
	}
}

func TestCreateUpdateAndUniqueNumber(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r72 := w.newRelease(72, "December 2026", "2026-12-12", 45)
	if r72.Version != 1 || r72.Status != release.StatusPlanned || r72.Title() != "Release 72: December 2026" {
		t.Fatalf("created %+v", r72)
	}
	got, err := release.Get(ctx, w.db, r72.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TargetDate.Format(time.DateOnly) != "2026-12-12" || !got.CapacityDays.Valid || got.CapacityDays.Float64 != 45 {
		t.Errorf("stored target %s capacity %+v", got.TargetDate.Format(time.DateOnly), got.CapacityDays)
	}
	if _, err := release.Get(ctx, w.db, r72.ID+100); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("a missing release: %v, want not found", err)
	}

	in := release.Input{Number: 72, Name: "Again", TargetDate: got.TargetDate, Status: release.StatusPlanned}
	_, err = release.Create(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, in)
	wantRule(t, err, "number")
	if _, err := release.Create(ctx, w.db, w.v["developer"], w.actor("developer"), w.env.Now, release.Input{Number: 80, Name: "X", TargetDate: got.TargetDate, Status: release.StatusPlanned}); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("the development team created a release: %v", err)
	}
	_, err = release.Create(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, release.Input{Number: 81, Name: "X", TargetDate: got.TargetDate, Status: release.StatusReleased})
	wantRule(t, err, "status")

	r73 := w.newRelease(73, "March 2027", "2027-03-27", 0)
	upd := release.Input{Number: 72, Name: "December 2026 (Christmas)", TargetDate: got.TargetDate.AddDate(0, 0, -1), Status: release.StatusInProgress,
		CapacityDays: sql.NullFloat64{Float64: 50.5, Valid: true}}
	saved, err := release.Update(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, r72.ID, 1, upd)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != 2 || saved.Status != release.StatusInProgress || saved.Name != "December 2026 (Christmas)" {
		t.Errorf("saved %+v", saved)
	}
	if _, err := release.Update(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, r72.ID, 1, upd); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("a stale edit: %v, want a conflict", err)
	}
	taken := upd
	taken.Number = 73
	_, err = release.Update(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, r72.ID, 2, taken)
	wantRule(t, err, "number")
	live := upd
	live.Status = release.StatusReleased
	_, err = release.Update(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, r72.ID, 2, live)
	wantRule(t, err, "status")

	list, err := release.List(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != r73.ID || list[1].Version != 2 || list[1].CapacityDays.Float64 != 50.5 {
		t.Errorf("list %+v", list)
	}
	if n := w.count(`SELECT count(*) FROM audit_events WHERE action IN ('release.created', 'release.updated')`); n != 3 {
		t.Errorf("%d audit events, want 3", n)
	}
}

func TestMarkReleasedDeliversEveryAllocatedRequest(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r72 := w.newRelease(72, "December 2026", "2026-12-12", 30)
	r73 := w.newRelease(73, "March 2027", "2027-03-27", 100)
	a := w.allocated("Expiry reminders", 20, r72)
	b := w.allocated("Welsh payslips", 15.5, r72)
	later := w.allocated("Bank worker enrolments", 5, r73)
	waiting := w.approved("Not allocated yet", 3)

	got, err := release.Get(ctx, w.db, r72.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Changes != 2 || got.UsedDays != 35.5 || !got.OverCapacity() {
		t.Errorf("changes %d, used %v, over %v", got.Changes, got.UsedDays, got.OverCapacity())
	}
	changes, err := release.Changes(ctx, w.db, w.v["supporter"], r72.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Reference != a.Reference || changes[0].EffortDays.Float64 != 20 || changes[0].OrganisationName == "" {
		t.Errorf("changes %+v", changes)
	}

	if _, err := release.MarkReleased(ctx, w.db, w.env, w.v["developer"], w.actor("developer"), r72.ID, got.Version); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("the development team put a release live: %v", err)
	}
	if _, err := release.MarkReleased(ctx, w.db, w.env, w.v["central"], w.actor("central"), r72.ID, got.Version-1); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("a stale release: %v, want a conflict", err)
	}
	delivered, err := release.MarkReleased(ctx, w.db, w.env, w.v["central"], w.actor("central"), r72.ID, got.Version)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(delivered, ",") != a.Reference+","+b.Reference {
		t.Errorf("delivered %v", delivered)
	}
	for _, r := range []*request.Request{a, b} {
		if s := w.status(r); s != request.StatusDelivered {
			t.Errorf("%s is %s", r.Reference, s)
		}
		if n := w.count(`SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'deliver' AND summary = ?`,
			r.ID, "Delivered: Release 72: December 2026 has gone live."); n != 1 {
			t.Errorf("%s has %d delivery events", r.Reference, n)
		}
		if n := w.count(`SELECT count(*) FROM audit_events WHERE action = 'request.deliver' AND entity_id = ?`, r.Reference); n != 1 {
			t.Errorf("%s has %d delivery audit events", r.Reference, n)
		}
		for _, who := range []string{"raiser", "supporter"} {
			if n := w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND request_id = ? AND event = ?`,
				w.v[who].UserID, r.ID, notify.EventDelivered); n != 1 {
				t.Errorf("the %s has %d delivery notifications about %s", who, n, r.Reference)
			}
		}
	}
	if s := w.status(later); s != request.StatusAllocated {
		t.Errorf("a request in another release is %s", s)
	}
	if s := w.status(waiting); s != request.StatusApproved {
		t.Errorf("an unallocated request is %s", s)
	}
	got, err = release.Get(ctx, w.db, r72.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Released() || !got.ReleasedAt.Equal(w.env.Now) {
		t.Errorf("release status %s, released at %v", got.Status, got.ReleasedAt)
	}
	if _, err := release.MarkReleased(ctx, w.db, w.env, w.v["central"], w.actor("central"), r72.ID, got.Version); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("released twice: %v, want a conflict", err)
	}
	if n := w.count(`SELECT count(*) FROM audit_events WHERE action = 'release.released' AND entity_id = ?`, fmt.Sprint(r72.ID)); n != 1 {
		t.Errorf("%d release audit events", n)
	}

	// A release that has gone live takes no more requests, by allocation or by a move.
	err = w.apply("central", waiting, "allocate", request.Input{ReleaseID: r72.ID})
	wantRule(t, err, "release_id")
	_, err = release.Move(ctx, w.db, w.env, w.v["central"], w.actor("central"), later.Reference,
		release.MoveInput{Version: w.version(later), ReleaseID: r72.ID, Reason: "Ready early"})
	wantRule(t, err, "release_id")
	// And it cannot be edited back to planned.
	_, err = release.Update(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, r72.ID, got.Version, release.Input{
		Number: 72, Name: got.Name, TargetDate: got.TargetDate, Status: release.StatusPlanned})
	wantRule(t, err, "status")
	if _, err := release.Update(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, r72.ID, got.Version, release.Input{
		Number: 72, Name: "December 2026, live", TargetDate: got.TargetDate}); err != nil {
		t.Errorf("renaming a released release: %v", err)
	}
}

func TestMoveRecordsHistoryAndReason(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r71 := w.newRelease(71, "September 2026", "2026-09-26", 0)
	r72 := w.newRelease(72, "December 2026", "2026-12-12", 0)
	r := w.allocated("Bradford Factor scores in Manager Self Service", 30, r71)
	version := w.version(r)

	cases := []struct {
		name  string
		who   string
		in    release.MoveInput
		field string
		is    error
	}{
		{"no reason", "central", release.MoveInput{Version: version, ReleaseID: r72.ID, Reason: "  "}, "reason", nil},
		{"no release", "central", release.MoveInput{Version: version, Reason: "Testing found a defect"}, "release_id", nil},
		{"the same release", "central", release.MoveInput{Version: version, ReleaseID: r71.ID, Reason: "Testing found a defect"}, "release_id", nil},
		{"an unknown release", "central", release.MoveInput{Version: version, ReleaseID: r72.ID + 100, Reason: "Testing found a defect"}, "release_id", nil},
		{"a stale form", "central", release.MoveInput{Version: version - 1, ReleaseID: r72.ID, Reason: "Testing found a defect"}, "", problem.ErrConflict},
		{"not the central team", "developer", release.MoveInput{Version: version, ReleaseID: r72.ID, Reason: "Testing found a defect"}, "", problem.ErrForbidden},
	}
	for _, c := range cases {
		_, err := release.Move(ctx, w.db, w.env, w.v[c.who], w.actor(c.who), r.Reference, c.in)
		if c.field != "" {
			var rule *request.RuleError
			if !errors.As(err, &rule) || rule.Field != c.field {
				t.Errorf("%s: %v, want a rule error on %s", c.name, err, c.field)
			}
		} else if !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want %v", c.name, err, c.is)
		}
	}

	const reason = "User acceptance testing found the score counted bank holidays as absence."
	m, err := release.Move(ctx, w.db, w.env, w.v["central"], w.actor("central"), strings.ToLower(r.Reference),
		release.MoveInput{Version: version, ReleaseID: r72.ID, Reason: " " + reason + " "})
	if err != nil {
		t.Fatal(err)
	}
	if m.FromNumber != 71 || m.ToNumber != 72 || m.Reason != reason || m.Reference != r.Reference {
		t.Errorf("move %+v", m)
	}
	al, err := release.AllocationOf(ctx, w.db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if al.ReleaseID != r72.ID || al.Number != 72 {
		t.Errorf("now allocated to %+v", al)
	}
	if v := w.version(r); v != version+1 {
		t.Errorf("request version %d, want %d", v, version+1)
	}
	if s := w.status(r); s != request.StatusAllocated {
		t.Errorf("status %s after a move", s)
	}
	if n := w.count(`SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'move' AND summary = ?`,
		r.ID, "Moved from Release 71 to Release 72: "+reason); n != 1 {
		t.Errorf("%d move events on the timeline", n)
	}
	if n := w.count(`SELECT count(*) FROM audit_events WHERE action = 'request.moved' AND entity_id = ?`, r.Reference); n != 1 {
		t.Errorf("%d move audit events", n)
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND request_id = ? AND event = ? AND title = ?`,
		w.v["raiser"].UserID, r.ID, notify.EventAllocated, r.Reference+" has moved to Release 72"); n != 1 {
		t.Errorf("the raiser has %d move notifications", n)
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE user_id = ? AND title LIKE '%moved%'`, w.v["central"].UserID); n != 0 {
		t.Errorf("the central team was told of its own move")
	}

	history, err := release.RequestMoves(ctx, w.db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || history[0].Summary() != "Moved from Release 71 to Release 72" || history[0].Reason != reason || history[0].MovedBy != "Test central" {
		t.Errorf("history %+v", history)
	}
	for _, rel := range []*release.Release{r71, r72} {
		moves, err := release.Moves(ctx, w.db, w.v["supporter"], rel.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(moves) != 1 || moves[0].ID != m.ID {
			t.Errorf("moves of release %d: %+v", rel.Number, moves)
		}
	}
	r71now, err := release.Get(ctx, w.db, r71.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r71now.Changes != 0 {
		t.Errorf("release 71 still counts %d changes", r71now.Changes)
	}

	// Only an allocated request moves.
	approved := w.approved("Approved only", 2)
	if _, err := release.Move(ctx, w.db, w.env, w.v["central"], w.actor("central"), approved.Reference,
		release.MoveInput{Version: w.version(approved), ReleaseID: r72.ID, Reason: "x"}); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("moving an unallocated request: %v, want a conflict", err)
	}
	if _, err := release.Move(ctx, w.db, w.env, w.v["central"], w.actor("central"), "ENH-2026-9999",
		release.MoveInput{Version: 1, ReleaseID: r72.ID, Reason: "x"}); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("moving a missing request: %v, want not found", err)
	}
}

func TestSeedReleases(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	if _, err := seed.Demo(ctx, d.DB, now); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if _, err := seed.Requests(ctx, d.DB, now); err != nil {
			t.Fatal(err)
		}
	}
	list, err := release.List(ctx, d.DB)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]release.Status{68: release.StatusReleased, 69: release.StatusReleased, 70: release.StatusReleased,
		71: release.StatusReleased, 72: release.StatusInProgress, 73: release.StatusPlanned}
	if len(list) != len(want) {
		t.Fatalf("%d releases, want %d", len(list), len(want))
	}
	for _, r := range list {
		if want[r.Number] != r.Status {
			t.Errorf("release %d is %s, want %s", r.Number, r.Status, want[r.Number])
		}
		if r.Changes == 0 && r.Number != 73 {
			t.Errorf("release %d has no changes", r.Number)
		}
	}
	var statuses []string
	if err := d.DB.NewRaw(`SELECT DISTINCT status FROM requests ORDER BY status`).Scan(ctx, &statuses); err != nil {
		t.Fatal(err)
	}
	for _, s := range []request.Status{request.StatusDelivered, request.StatusAllocated, request.StatusApproved, request.StatusImpactAssessment,
		request.StatusAwaitingRequesterDecision, request.StatusDeferred, request.StatusNotApproved, request.StatusWithdrawn, request.StatusInTriage,
		request.StatusSubmitted, request.StatusRequirementsJustification} {
		if !strings.Contains(","+strings.Join(statuses, ",")+",", ","+string(s)+",") {
			t.Errorf("no demo request is %s (there are %v)", s, statuses)
		}
	}
	var moves int
	if err := d.DB.NewRaw(`SELECT count(*) FROM allocation_moves`).Scan(ctx, &moves); err != nil {
		t.Fatal(err)
	}
	if moves != 1 {
		t.Errorf("%d demo moves, want 1", moves)
	}
	var deferredFuture bool
	if err := d.DB.NewRaw(`SELECT bool_and(review_on > ?) FROM requests WHERE status = 'deferred'`, now).Scan(ctx, &deferredFuture); err != nil {
		t.Fatal(err)
	}
	if !deferredFuture {
		t.Error("a deferred demo request's review date has passed")
	}
}

// Every change of a release is kept in its history, so that a schedule dated in the past reads the
// release as it stood then.
func TestReleaseHistoryKeepsEveryChange(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	created := w.env.Now
	r := w.newRelease(74, "June 2027", "2027-06-26", 50)
	w.env.Now = created.Add(48 * time.Hour)
	if _, err := release.Update(ctx, w.db, w.v["central"], w.actor("central"), w.env.Now, r.ID, 1, release.Input{
		Number: 74, Name: "June 2027", TargetDate: time.Date(2027, 7, 3, 0, 0, 0, 0, time.UTC), Status: release.StatusInProgress}); err != nil {
		t.Fatal(err)
	}
	w.env.Now = created.Add(96 * time.Hour)
	if _, err := release.MarkReleased(ctx, w.db, w.env, w.v["central"], w.actor("central"), r.ID, 2); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Number     int       `bun:"number"`
		Name       string    `bun:"name"`
		TargetDate time.Time `bun:"target_date"`
		Status     string    `bun:"status"`
		ValidFrom  time.Time `bun:"valid_from"`
	}
	if err := w.db.NewRaw(`SELECT number, name, target_date, status, valid_from FROM release_history WHERE release_id = ? ORDER BY valid_from, id`, r.ID).
		Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range rows {
		got = append(got, fmt.Sprintf("%d %s %s %s %s", h.Number, h.Name, h.TargetDate.Format(time.DateOnly), h.Status, h.ValidFrom.UTC().Format(time.RFC3339)))
	}
	want := []string{
		"74 June 2027 2027-06-26 planned 2026-11-20T09:00:00Z",
		"74 June 2027 2027-07-03 in_progress 2026-11-22T09:00:00Z",
		"74 June 2027 2027-07-03 released 2026-11-24T09:00:00Z",
	}
	if !slices.Equal(got, want) {
		t.Errorf("history\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
