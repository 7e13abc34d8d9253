package request_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/app/workday"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// world is a fresh database with organisations and one user for each kind of person the access
// rules tell apart.
type world struct {
	t   *testing.T
	db  *bun.DB
	tdb *dbtest.TestDB
	cal *workday.Calendar
	now time.Time
	v   map[string]request.Viewer
	seq int
}

const password = "correct horse battery staple"

// The people: a requester of the raising organisation (ZLN01, London), a requester of another
// organisation in another region, an NSIG member of the request's NSIG and one of another NSIG, the
// FAM of London and of another region, the central and development teams and an administrator.
var people = []struct {
	key, ods string
	roles    []string
	nsig     string
}{
	{"raiser", "ZLN01", []string{identity.RoleRequester}, ""},
	{"other_org", "ZMD01", []string{identity.RoleRequester}, ""},
	{"nsig_member", "ZWA01", []string{identity.RoleNSIGMember}, "Self Service and Portal"},
	{"other_nsig", "ZWA01", []string{identity.RoleNSIGMember}, "Payroll and Pensions"},
	{"fam_region", "ZLN02", []string{identity.RoleFunctionalAccountManager}, ""},
	{"fam_elsewhere", "ZNE01", []string{identity.RoleFunctionalAccountManager}, ""},
	{"central", "ZNC01", []string{identity.RoleCentralTeam}, ""},
	{"developer", "ZNC01", []string{identity.RoleDevelopmentTeam}, ""},
	{"admin", "ZNC01", []string{identity.RoleAdmin}, ""},
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	w := &world{t: t, db: d.DB, tdb: d, cal: workday.New(), now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), v: map[string]request.Viewer{}}
	if err := seed.Organisations(ctx, d.DB, w.now); err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		org, err := organisation.GetByODS(ctx, d.DB, p.ods)
		if err != nil {
			t.Fatal(err)
		}
		u, err := identity.Create(ctx, d.DB, audit.Actor{Name: "test"}, w.now, identity.NewUser{
			Email: p.key + "@test.nhs.uk", Name: "Test " + p.key, OrganisationID: org.ID, Roles: p.roles, Password: password,
		})
		if err != nil {
			t.Fatal(err)
		}
		if p.nsig != "" {
			if _, err := d.DB.NewRaw(`INSERT INTO user_nsigs (user_id, nsig_id, granted_at) SELECT ?, id, ? FROM nsigs WHERE name = ?`,
				u.ID, w.now, p.nsig).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		u, err = identity.Get(ctx, d.DB, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if w.v[p.key], err = request.ViewerFor(ctx, d.DB, u); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *world) raise(title string) *request.Request {
	w.t.Helper()
	w.seq++
	r, err := request.RaiseEnhancement(context.Background(), w.db, w.cal, w.v["raiser"], audit.Actor{Name: "test"}, w.now, request.NewEnhancement{
		SRNumber: "SR1234567", Title: title, FunctionalArea: "Self Service", Problem: "The problem " + title,
		Proposal: "The change", AffectedUsers: []string{"employee"}, Urgency: "medium",
		SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", w.seq),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) raiseRole(name string) *request.Request {
	w.t.Helper()
	w.seq++
	r, err := request.RaiseSupplementaryRole(context.Background(), w.db, w.cal, w.v["raiser"], audit.Actor{Name: "test"}, w.now, request.NewSupplementaryRole{
		RoleName: name, Duties: "Supports colleagues", InputLevel: "manager", Justification: "Needed nationally",
		Benefits: "Reporting", Organisations: "All acute trusts", SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", w.seq),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) raiseCompetence(name string) *request.Request {
	w.t.Helper()
	w.seq++
	r, err := request.RaiseNationalCompetency(context.Background(), w.db, w.cal, w.v["raiser"], audit.Actor{Name: "test"}, w.now, request.NewNationalCompetency{
		CompetenceName: name, Framework: "MAND", RenewalYears: 3, NationalInitiative: "A national initiative",
		StaffGroups: "All staff", Justification: "Statutory", SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", w.seq),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) apply(who string, r *request.Request, action string, in request.Input) (*request.Request, error) {
	w.t.Helper()
	if in.Version == 0 {
		if err := w.db.NewSelect().Table("requests").Column("version").Where("id = ?", r.ID).Scan(context.Background(), &in.Version); err != nil {
			w.t.Fatal(err)
		}
	}
	if action == "classify_enhancement" && in.Summary == "" {
		in.Summary = "A change to ESR that every organisation may read about." // triage writes the public summary
	}
	return request.Apply(context.Background(), w.db, request.Env{Now: w.now, Calendar: w.cal}, w.v[who], audit.Actor{Name: who}, r.Reference, action, in)
}

func TestRaiseSetsReferenceDueDateAndNSIG(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raise("Expiry reminders in Employee Self Service")
	if r.Reference != "ENH-2026-0001" {
		t.Errorf("reference %s, want ENH-2026-0001", r.Reference)
	}
	// Received Friday 20 November 2026: five working days later is Friday 27 November.
	if got := r.AckDueOn.Format("2006-01-02"); got != "2026-11-27" {
		t.Errorf("acknowledgement due %s, want 2026-11-27", got)
	}
	er, access, err := request.GetEnhancement(ctx, w.db, w.v["raiser"], r.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if access != request.AccessFull || er.NSIGName != "Self Service and Portal" || er.Status != request.StatusSubmitted {
		t.Errorf("access %v, NSIG %q, status %s", access, er.NSIGName, er.Status)
	}
	if got := er.AckDueOn.Format("2006-01-02"); got != "2026-11-27" {
		t.Errorf("stored acknowledgement due %s", got)
	}
	if second := w.raise("Another"); second.Reference != "ENH-2026-0002" {
		t.Errorf("second reference %s", second.Reference)
	}
}

func TestRaiseIsIdempotent(t *testing.T) {
	w := newWorld(t)
	in := request.NewEnhancement{SRNumber: "SR1", Title: "Double click", FunctionalArea: "Payroll", Problem: "p", Proposal: "q",
		AffectedUsers: []string{"manager"}, Urgency: "low", SubmissionToken: "00000000-0000-4000-9000-00000000abcd"}
	var wg sync.WaitGroup
	refs := make([]string, 4)
	errs := make([]error, 4)
	for i := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := request.RaiseEnhancement(context.Background(), w.db, w.cal, w.v["raiser"], audit.Actor{Name: "test"}, w.now, in)
			errs[i] = err
			if err == nil {
				refs[i] = r.Reference
			}
		}()
	}
	wg.Wait()
	for i := range refs {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		if refs[i] != refs[0] {
			t.Fatalf("the same form made %s and %s", refs[0], refs[i])
		}
	}
	var n int
	if err := w.db.NewSelect().Table("requests").ColumnExpr("count(*)").Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d requests made by four submissions of one form", n)
	}
}

// TestEveryTransitionForEveryRoleAndStatus tries every transition from every status as every kind of
// person: it succeeds exactly when the table says the status and the person allow it.
func TestEveryTransitionForEveryRoleAndStatus(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raise("The request every transition is tried on")
	// One request of each kind: a transition is tried on the request of its kind.
	byKind := map[string]*request.Request{
		request.KindEnhancement:        r,
		request.KindSupplementaryRole:  w.raiseRole("Transition Tester"),
		request.KindNationalCompetency: w.raiseCompetence("Transition Testing"),
	}
	// Accept them, so that NSIG members and other organisations may see them as they would.
	if _, err := w.db.NewUpdate().Table("requests").Set("accepted = true").Where("true").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	orig := w.raise("An original for duplicates")
	// What the later transitions' guards need: an agreed requirement definition, a submitted
	// justification, a completed impact assessment, and a release.
	raiser, developer := w.v["raiser"].UserID, w.v["developer"].UserID
	var releaseID int64
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO requirement_versions (request_id, version, body, author_id, created_at) VALUES (?, 1, 'The change', ?, now())`, []any{r.ID, raiser}},
		{`INSERT INTO requirement_agreements (request_id, side, version, user_id, agreed_at) VALUES (?, 'requester', 1, ?, now()), (?, 'development', 1, ?, now())`, []any{r.ID, raiser, r.ID, developer}},
		{`INSERT INTO business_justifications (request_id, submitted_at, updated_at) VALUES (?, now(), now())`, []any{r.ID}},
		{`INSERT INTO impact_assessments (request_id, completed_at, updated_at) VALUES (?, now(), now())`, []any{r.ID}},
	} {
		if _, err := w.db.NewRaw(stmt.sql, stmt.args...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.db.NewRaw(`INSERT INTO releases (number, name, target_date, created_at, updated_at) VALUES (72, 'December 2026', '2026-12-11', now(), now()) RETURNING id`).Scan(ctx, &releaseID); err != nil {
		t.Fatal(err)
	}
	for _, tr := range request.Transitions {
		r := byKind[tr.Kind]
		if r == nil {
			t.Fatalf("no request of kind %s to try %s on", tr.Kind, tr.Name)
		}
		for _, st := range request.Statuses {
			for _, p := range people {
				name := fmt.Sprintf("%s %s from %s as %s", tr.Kind, tr.Name, st.Status, p.key)
				t.Run(name, func(t *testing.T) {
					if tr.Name == "approve" && tr.Kind != request.KindEnhancement {
						// Approving adds to a list once; every try starts with the entry not yet there.
						for _, table := range []string{"supplementary_roles", "competences"} {
							if _, err := w.db.NewRaw("DELETE FROM "+table+" WHERE request_id = ?", r.ID).Exec(ctx); err != nil {
								t.Fatal(err)
							}
						}
					}
					if _, err := w.db.NewUpdate().Table("requests").Set("status = ?", st.Status).Where("id = ?", r.ID).Exec(ctx); err != nil {
						t.Fatal(err)
					}
					if _, err := w.db.NewRaw("DELETE FROM allocations WHERE request_id = ?", r.ID).Exec(ctx); err != nil {
						t.Fatal(err)
					}
					if tr.Name == "deliver" {
						if _, err := w.db.NewRaw("INSERT INTO allocations (request_id, release_id, allocated_by, allocated_at) VALUES (?, ?, ?, now())",
							r.ID, releaseID, w.v["central"].UserID).Exec(ctx); err != nil {
							t.Fatal(err)
						}
					}
					in := request.Input{Text: "Because", Reason: "duplicate", DuplicateOf: orig.Reference,
						ReviewOn: w.now.AddDate(0, 3, 0), ReleaseID: releaseID}
					want := containsStatus(tr.From, st.Status) && allowed(tr, p.key)
					_, err := w.apply(p.key, r, tr.Name, in)
					if want && err != nil {
						t.Fatalf("allowed but refused: %v", err)
					}
					if !want && err == nil {
						t.Fatal("forbidden but made")
					}
					if !want && !(errors.Is(err, problem.ErrForbidden) || errors.Is(err, problem.ErrConflict) || errors.Is(err, problem.ErrNotFound)) {
						t.Fatalf("refused with an unexpected error: %v", err)
					}
					if want {
						var got string
						if err := w.db.NewSelect().Table("requests").Column("status").Where("id = ?", r.ID).Scan(ctx, &got); err != nil {
							t.Fatal(err)
						}
						if got != string(tr.To) {
							t.Fatalf("status %s, want %s", got, tr.To)
						}
						if tr.Name == "approve" && tr.Kind != request.KindEnhancement {
							n, err := w.db.NewSelect().TableExpr("(SELECT request_id FROM supplementary_roles UNION ALL SELECT request_id FROM competences) AS l").
								Where("request_id = ?", r.ID).Count(ctx)
							if err != nil || n != 1 {
								t.Fatalf("approving added %d list entries (%v), want 1", n, err)
							}
						}
					}
				})
			}
		}
	}
}

func containsStatus(list []request.Status, s request.Status) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// allowed says who may make a transition, from the table's Who: the raiser stands for the requester
// of the raising organisation only (the NSIG member here belongs to another organisation).
func allowed(tr request.Transition, who string) bool {
	for _, role := range tr.Who {
		switch {
		case role == request.Raiser && who == "raiser":
			return true
		case role == identity.RoleCentralTeam && who == "central":
			return true
		case role == identity.RoleDevelopmentTeam && who == "developer":
			return true
		}
	}
	return false
}

func TestStaleVersionIsAConflict(t *testing.T) {
	w := newWorld(t)
	r := w.raise("Two triagers at once")
	if _, err := w.apply("central", r, "acknowledge", request.Input{Version: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := w.apply("central", r, "request_information", request.Input{Version: 1, Text: "Which report?"})
	if !errors.Is(err, problem.ErrConflict) {
		t.Fatalf("a form made from version 1 after a change: %v, want a conflict", err)
	}
}

func TestRequiredFields(t *testing.T) {
	w := newWorld(t)
	r := w.raise("Needs reasons")
	if _, err := w.apply("central", r, "acknowledge", request.Input{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		action string
		in     request.Input
		field  string
	}{
		{"request_information", request.Input{}, "text"},
		{"not_taken_forward", request.Input{Text: "x"}, "reason"},
		{"not_taken_forward", request.Input{Reason: "out_of_scope"}, "text"},
		{"not_taken_forward", request.Input{Reason: "duplicate", Text: "x"}, "duplicate_of"},
		{"not_taken_forward", request.Input{Reason: "duplicate", Text: "x", DuplicateOf: "ENH-2026-0999"}, "duplicate_of"},
		{"not_taken_forward", request.Input{Reason: "duplicate", Text: "x", DuplicateOf: r.Reference}, "duplicate_of"},
	}
	for _, c := range cases {
		_, err := w.apply("central", r, c.action, c.in)
		var rule *request.RuleError
		if !errors.As(err, &rule) || rule.Field != c.field {
			t.Errorf("%s %+v: %v, want a rule error on %s", c.action, c.in, err, c.field)
		}
	}
}

func TestLifecycleToRequesterDecisionWithNotifications(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raise("Follow it through")
	steps := []struct {
		who, action string
		in          request.Input
		to          request.Status
	}{
		{"central", "acknowledge", request.Input{}, request.StatusInTriage},
		{"central", "request_information", request.Input{Text: "Which staff groups?"}, request.StatusInformationRequested},
		{"raiser", "answer", request.Input{Text: "All of them."}, request.StatusInTriage},
		{"central", "classify_enhancement", request.Input{}, request.StatusAwaitingRequesterDecision},
		{"raiser", "progress", request.Input{}, request.StatusRequirementsJustification},
	}
	for _, s := range steps {
		got, err := w.apply(s.who, r, s.action, s.in)
		if err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
		if got.Status != s.to {
			t.Fatalf("%s: status %s, want %s", s.action, got.Status, s.to)
		}
	}
	entries, err := request.Timeline(ctx, w.db, r.ID, request.AccessFull)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1+len(steps) {
		t.Fatalf("%d timeline entries, want %d", len(entries), 1+len(steps))
	}
	if !strings.Contains(entries[2].Event.Summary, "asked for more information") || entries[2].Event.Detail != "Which staff groups?" {
		t.Errorf("information request entry: %+v", entries[2].Event)
	}
	var events []string
	if err := w.db.NewSelect().Table("notifications").Column("event").Where("user_id = ?", w.v["raiser"].UserID).Order("id").Scan(ctx, &events); err != nil {
		t.Fatal(err)
	}
	want := "acknowledged,information_requested,decision_needed"
	if strings.Join(events, ",") != want {
		t.Errorf("raiser was told %v, want %s", events, want)
	}
	var audited int
	if err := w.db.NewSelect().Table("audit_events").ColumnExpr("count(*)").Where("entity_id = ?", r.Reference).Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if audited != 1+len(steps) {
		t.Errorf("%d audit events for the request, want %d", audited, 1+len(steps))
	}
}

func TestAccessRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raise("Who may see me")
	want := map[string][2]request.Access{ // before acceptance, after
		"raiser":        {request.AccessFull, request.AccessFull},
		"other_org":     {request.AccessNone, request.AccessSummary},
		"nsig_member":   {request.AccessNone, request.AccessInternal},
		"other_nsig":    {request.AccessNone, request.AccessSummary},
		"fam_region":    {request.AccessFull, request.AccessFull},
		"fam_elsewhere": {request.AccessNone, request.AccessSummary},
		"central":       {request.AccessInternal, request.AccessInternal},
		"developer":     {request.AccessNone, request.AccessInternal},
		"admin":         {request.AccessNone, request.AccessSummary},
	}
	check := func(phase int) {
		for who, acc := range want {
			_, got, err := request.GetEnhancement(ctx, w.db, w.v[who], r.Reference)
			if acc[phase] == request.AccessNone {
				if !errors.Is(err, problem.ErrNotFound) {
					t.Errorf("phase %d: %s may see it: %v", phase, who, err)
				}
				continue
			}
			if err != nil || got != acc[phase] {
				t.Errorf("phase %d: %s has access %v (%v), want %v", phase, who, got, err, acc[phase])
			}
			rows, _, err := request.List(ctx, w.db, w.v[who], request.Filter{Kind: request.KindEnhancement})
			if err != nil || len(rows) != 1 {
				t.Errorf("phase %d: %s lists %d requests (%v), want 1", phase, who, len(rows), err)
			}
		}
	}
	check(0)
	if _, err := w.apply("central", r, "acknowledge", request.Input{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.apply("central", r, "classify_enhancement", request.Input{}); err != nil {
		t.Fatal(err)
	}
	check(1)
}

func TestInternalCommentsStayInternal(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raise("Comment on me")
	for _, a := range []string{"acknowledge", "classify_enhancement"} {
		if _, err := w.apply("central", r, a, request.Input{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := request.AddComment(ctx, w.db, w.v["central"], audit.Actor{Name: "c"}, w.now, r.Reference, "Shared: thanks for raising this", false); err != nil {
		t.Fatal(err)
	}
	if err := request.AddComment(ctx, w.db, w.v["central"], audit.Actor{Name: "c"}, w.now, r.Reference,
		"Internal: overlaps the Q3 work. @nsig_member@test.nhs.uk what does your region think?", true); err != nil {
		t.Fatal(err)
	}
	if err := request.AddComment(ctx, w.db, w.v["raiser"], audit.Actor{Name: "r"}, w.now, r.Reference, "Secret", true); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("a requester added an internal note: %v", err)
	}
	for who, wantInternal := range map[string]bool{"raiser": false, "fam_region": false, "central": true, "nsig_member": true} {
		_, access, err := request.GetEnhancement(ctx, w.db, w.v[who], r.Reference)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := request.Timeline(ctx, w.db, r.ID, access)
		if err != nil {
			t.Fatal(err)
		}
		sawInternal := false
		for _, e := range entries {
			if e.Comment != nil && strings.HasPrefix(e.Comment.Body, "Internal") {
				sawInternal = true
			}
		}
		if sawInternal != wantInternal {
			t.Errorf("%s sees the internal note: %v, want %v", who, sawInternal, wantInternal)
		}
	}
	// The mention told the NSIG member; the raiser, who follows the request, was told of the shared
	// comment only.
	var titles []string
	if err := w.db.NewSelect().Table("notifications").Column("title").Where("user_id = ?", w.v["nsig_member"].UserID).Scan(ctx, &titles); err != nil {
		t.Fatal(err)
	}
	if len(titles) != 1 || !strings.Contains(titles[0], "mentioned you") {
		t.Errorf("NSIG member notifications %v", titles)
	}
	var raiserComments int
	if err := w.db.NewSelect().Table("notifications").ColumnExpr("count(*)").Where("user_id = ? AND event = 'comment'", w.v["raiser"].UserID).Scan(ctx, &raiserComments); err != nil {
		t.Fatal(err)
	}
	if raiserComments != 1 {
		t.Errorf("raiser told of %d comments, want 1 (the shared one)", raiserComments)
	}
}

func TestSupportAndDuplicates(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	orig := w.raise("Original expiry reminders")
	dup := w.raise("Duplicate expiry reminders")
	for _, r := range []*request.Request{orig, dup} {
		for _, a := range []string{"acknowledge", "classify_enhancement"} {
			if _, err := w.apply("central", r, a, request.Input{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Reopen the duplicate to triage so it can be closed as a duplicate.
	if _, err := w.db.NewUpdate().Table("requests").Set("status = 'in_triage'").Where("id = ?", dup.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := request.Support(ctx, w.db, w.v["other_org"], audit.Actor{Name: "o"}, w.now, dup.Reference, "Us too"); err != nil {
		t.Fatal(err)
	}
	var rule *request.RuleError
	if err := request.Support(ctx, w.db, w.v["other_org"], audit.Actor{Name: "o"}, w.now, dup.Reference, ""); !errors.As(err, &rule) {
		t.Errorf("second support from one organisation: %v", err)
	}
	if err := request.Support(ctx, w.db, w.v["raiser"], audit.Actor{Name: "r"}, w.now, dup.Reference, ""); !errors.As(err, &rule) {
		t.Errorf("the raising organisation supported its own request: %v", err)
	}
	if _, err := w.apply("central", dup, "not_taken_forward", request.Input{Reason: "duplicate", DuplicateOf: strings.ToLower(orig.Reference), Text: "Same as the original"}); err != nil {
		t.Fatal(err)
	}
	sup, err := request.Supporters(ctx, w.db, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The duplicate's supporter carries over; its raising organisation is the original's own, so it
	// does not count as support.
	if len(sup) != 1 || !strings.Contains(sup[0].OrganisationName, "Charnwood") {
		t.Errorf("supporters of the original: %+v", sup)
	}
	er, _, err := request.GetEnhancement(ctx, w.db, w.v["central"], dup.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if er.DuplicateOfReference != orig.Reference || er.OutcomeReason != "duplicate" {
		t.Errorf("duplicate link %q reason %q", er.DuplicateOfReference, er.OutcomeReason)
	}
}

func TestSimilarAndSearch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.raise("Competence expiry reminder in Employee Self Service")
	w.raise("Welsh language payslip labels")
	got, err := request.FindSimilar(ctx, w.db, w.v["raiser"], request.KindEnhancement, "Reminders before a competence expires", 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0].Title, "Competence expiry") {
		t.Errorf("similar: %+v", got)
	}
	rows, n, err := request.List(ctx, w.db, w.v["raiser"], request.Filter{Kind: request.KindEnhancement, Query: "payslip", Sort: "relevance"})
	if err != nil || n != (request.Count{N: 1, Exact: true}) || rows[0].Title != "Welsh language payslip labels" {
		t.Errorf("search: %+v rows, %v", n, err)
	}
	// Another organisation sees neither until triage accepts them.
	if got, err := request.FindSimilar(ctx, w.db, w.v["other_org"], request.KindEnhancement, "competence expiry reminder", 0, 5); err != nil || len(got) != 0 {
		t.Errorf("another organisation sees unaccepted requests as similar: %+v %v", got, err)
	}
}

// TestDueDatesInSummerTime: midnight in London in summer is 23:00 UTC the day before, and the date
// column must still hold the London date.
func TestDueDatesInSummerTime(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.now = time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC) // Monday 5 October 2026, British Summer Time
	r := w.raise("Raised in summer time")
	var due string
	if err := w.db.NewSelect().Table("requests").ColumnExpr("ack_due_on::text").Where("id = ?", r.ID).Scan(ctx, &due); err != nil {
		t.Fatal(err)
	}
	if due != "2026-10-12" {
		t.Errorf("acknowledgement due stored as %s, want 2026-10-12", due)
	}
	if _, err := w.apply("central", r, "request_information", request.Input{Text: "Which staff?"}); err != nil {
		t.Fatal(err)
	}
	if err := w.db.NewSelect().Table("requests").ColumnExpr("info_due_on::text").Where("id = ?", r.ID).Scan(ctx, &due); err != nil {
		t.Fatal(err)
	}
	if due != "2026-10-19" {
		t.Errorf("reply due stored as %s, want 2026-10-19", due)
	}
}

// TestSyntheticRequestsTellTheirRaisers: the benchmarks' synthetic requests come with the notification
// each raiser had of its acknowledgement (read, unless it came in the last month), as a portal of that
// size would have: without them the notifications table is empty when the benchmarks analyse it, and
// every statement prepared then reads it whole for as long as a benchmark runs (the unread count in
// "who is visiting" went from 0.03 ms to 0.75 ms a page as saves added notifications).
func TestSyntheticRequestsTellTheirRaisers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := seed.Synthetic(ctx, w.db, w.now, 300, 3, nil); err != nil {
		t.Fatal(err)
	}
	var wrong []struct {
		Reference string `bun:"reference"`
		Told      int    `bun:"told"`
		Read      int    `bun:"read"`
	}
	if err := w.db.NewRaw(`SELECT r.reference, count(n.id) AS told, count(n.read_at) AS read
		FROM requests AS r LEFT JOIN notifications AS n ON n.request_id = r.id AND n.user_id = r.raised_by_id
			AND n.event = 'acknowledged' AND n.in_app AND n.link = '/requests/' || r.reference
		GROUP BY r.id
		HAVING count(n.id) <> (r.acknowledged_at IS NOT NULL)::int
			OR count(n.read_at) <> (r.acknowledged_at < ?::timestamptz - interval '1 month')::int`, w.now).Scan(ctx, &wrong); err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Errorf("requests whose raisers were not told of their acknowledgement once (read when older than a month): %+v", wrong)
	}
	var told, unread int
	if err := w.db.NewRaw(`SELECT count(*), count(*) FILTER (WHERE read_at IS NULL) FROM notifications`).Scan(ctx, &told, &unread); err != nil {
		t.Fatal(err)
	}
	if told < 200 || unread == 0 || unread == told {
		t.Errorf("%d notifications, %d unread: want most of 300 requests' acknowledgements, some read and some not", told, unread)
	}
}

// TestListCountsExactlyUpToTheCapThenEstimates: a list counts its matches exactly while there are at
// most request.CountCap of them, and past that gives the planner's estimate, said as "about".
func TestListCountsExactlyUpToTheCapThenEstimates(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := seed.Synthetic(ctx, w.db, w.now, request.CountCap+200, 7, nil); err != nil {
		t.Fatal(err)
	}
	// As autovacuum would; only the table's owner may.
	if _, err := w.tdb.Owner(t).ExecContext(ctx, "ANALYZE requests"); err != nil {
		t.Fatal(err)
	}
	_, all, err := request.List(ctx, w.db, w.v["central"], request.Filter{Limit: 25})
	if err != nil {
		t.Fatal(err)
	}
	if all.Exact || all.N < request.CountCap+1 || all.N > 2*(request.CountCap+200) || !strings.HasPrefix(all.Words(), "about ") {
		t.Errorf("%d requests counted as %+v (%s), want an estimate near %d", request.CountCap+200, all, all.Words(), request.CountCap+200)
	}
	w.raise("Exactly counted")
	_, one, err := request.List(ctx, w.db, w.v["raiser"], request.Filter{Query: "exactly counted"})
	if err != nil || one != (request.Count{N: 1, Exact: true}) || one.Words() != "1" || !one.One() {
		t.Errorf("one match counted as %+v (%s), %v", one, one.Words(), err)
	}
	for n, want := range map[int]string{1234: "about 1,200", 98765: "about 99,000", 100000: "about 100,000", 1001: "about 1,000"} {
		if got := (request.Count{N: n}).Words(); got != want {
			t.Errorf("Count{%d}.Words() = %q, want %q", n, got, want)
		}
	}
	// The newest matches of a search passed a lower cap: an estimate of them is never below it, and may
	// be below the list's.
	for n, want := range map[int]string{501: "about 500", 734: "about 730", 1234: "about 1,200"} {
		if got := (request.Count{N: n, Newest: true}).Words(); got != want {
			t.Errorf("Count{%d, Newest}.Words() = %q, want %q", n, got, want)
		}
	}
	// At the start of a heading or a sentence.
	for c, want := range map[request.Count]string{{N: 98765}: "About 99,000", {N: 12, Exact: true}: "12"} {
		if got := c.Sentence(); got != want {
			t.Errorf("%+v.Sentence() = %q, want %q", c, got, want)
		}
	}
}

// TestBestMatchesAreRankedAmongTheNewestMatches: a search sorted by best match that matches more than
// request.BestMatchCandidates requests ranks, under Filter.BestOfNewest (the list page), only the newest
// of them — exactly those, read across all three windows of ids — while an export ranks every match.
func TestBestMatchesAreRankedAmongTheNewestMatches(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// The best match of all, and the oldest: every synthetic request says its manual work "causes errors".
	oldest := w.raise("Errors, errors and more errors in payslip totals")
	if err := seed.Synthetic(ctx, w.db, w.now, request.BestMatchCandidates+400, 11, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.tdb.Owner(t).ExecContext(ctx, "ANALYZE requests"); err != nil {
		t.Fatal(err)
	}
	// Windows of 100, 150 and 200 ids, so that the newest 500 matches come from all four parts.
	request.SetMatchWindows(t, 100, 150, 200)

	// ranked is the oracle: the matches (the newest limit of them, when limit is not 0), best first.
	ranked := func(limit int) []int64 {
		t.Helper()
		newest := "ALL"
		if limit > 0 {
			newest = strconv.Itoa(limit)
		}
		var ids []int64
		if err := w.db.NewRaw(`SELECT id FROM (SELECT r.id, greatest(ts_rank(r.summary_search, q, 32), ts_rank(r.search, q, 32)) AS rank
			FROM requests AS r, websearch_to_tsquery('english', 'errors') AS q WHERE r.summary_search @@ q OR r.search @@ q
			ORDER BY r.id DESC LIMIT `+newest+`) AS m ORDER BY rank DESC, id DESC`).Scan(ctx, &ids); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	all := ranked(0)
	if len(all) <= request.BestMatchCandidates || all[0] != oldest.ID {
		t.Fatalf("%d requests match, best %v: want more than %d, best %d", len(all), all[:1], request.BestMatchCandidates, oldest.ID)
	}
	best := ranked(request.BestMatchCandidates)
	// Read both ways: "errors" is common (every request says it), so its newest matches are walked in
	// id order through the newest 250 ids and read through the indexes after; and, with no search taken
	// to be common, through the indexes in every part.
	for _, way := range []struct {
		name    string
		matches int64
	}{{"walked", 100}, {"through the indexes", 1001}} {
		request.SetCommonSearch(t, 1000, way.matches, 250)
		page := func(f request.Filter, offset int) ([]int64, request.Count) {
			t.Helper()
			f.Limit, f.Offset = 25, offset
			rows, n, err := request.List(ctx, w.db, w.v["central"], f)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(rows))
			for i, r := range rows {
				ids[i] = r.ID
			}
			return ids, n
		}
		list := request.Filter{Query: "errors", Sort: "relevance", BestOfNewest: true}
		for _, offset := range []int{0, 250, request.BestMatchCandidates - 25} {
			got, n := page(list, offset)
			if want := best[offset : offset+25]; !slices.Equal(got, want) {
				t.Errorf(way.name+": best matches among the newest, from %d: %v, want %v", offset, got, want)
			}
			// Every request matches, so the newest matches lie as densely as all of them: about 900.
			if !n.Capped() || n.Exact || n.Words() != "about 900" {
				t.Errorf(way.name+": %d matches counted as %+v (%s), want an estimate past the cap, about 900", len(all), n, n.Words())
			}
		}
		// Narrowed by anything besides the words, the count past the cap is the planner's estimate.
		if _, n := page(request.Filter{Query: "errors", Sort: "relevance", BestOfNewest: true, Kind: request.KindEnhancement}, 0); !n.Capped() || n.Exact || n.N <= request.BestMatchCandidates {
			t.Errorf(way.name+": narrowed to enhancements, counted as %+v, want an estimate past the cap", n)
		}
		// The same, with PostgreSQL keen to read in parallel: its Parallel Append would run the parts at
		// once and return their rows in any order, so that the limit kept matches that are not the newest.
		if err := database.RunInTx(ctx, w.db, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
				SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL min_parallel_index_scan_size = 0;
				SET LOCAL enable_gathermerge = off; SET LOCAL parallel_leader_participation = off`); err != nil {
				return err
			}
			rows, _, err := request.List(ctx, tx, w.v["central"], request.Filter{Query: "errors", Sort: "relevance", BestOfNewest: true, Limit: 25, Offset: 250})
			if err != nil {
				return err
			}
			got := make([]int64, len(rows))
			for i, r := range rows {
				got[i] = r.ID
			}
			if want := best[250:275]; !slices.Equal(got, want) {
				t.Errorf(way.name+": best matches among the newest, read with parallel workers allowed: %v, want %v", got, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got, _ := page(list, request.BestMatchCandidates); len(got) != 0 {
			t.Errorf(way.name+": past the newest %d matches the list still ranked %d", request.BestMatchCandidates, len(got))
		}
		if got, _ := page(list, 0); slices.Contains(got, oldest.ID) {
			t.Errorf(way.name+": the oldest match (%d) was ranked among the newest %d", oldest.ID, request.BestMatchCandidates)
		}
		// An export ranks every match, so the oldest and best comes first.
		list.BestOfNewest = false
		if got, _ := page(list, 0); !slices.Equal(got, all[:25]) {
			t.Errorf(way.name+": every match ranked: %v, want %v", got, all[:25])
		}
		// With fewer matches than candidates (or none), the newest are every match: the same page and the
		// same exact count as ranking them all, on the first page and past the last.
		for _, q := range []string{"Oliver McGowan", "right to work", "qzfoundnowhere"} {
			for _, offset := range []int{0, 25, 5000} {
				f := request.Filter{Query: q, Sort: "relevance"}
				want, wantN := page(f, offset)
				f.BestOfNewest = true
				got, gotN := page(f, offset)
				if !slices.Equal(got, want) || gotN != wantN || !gotN.Exact {
					t.Errorf(way.name+": %q from %d among the newest: %v counted %+v; every match ranked: %v counted %+v", q, offset, got, gotN, want, wantN)
				}
			}
		}
		// Sorted by newest first, the search is not bounded either.
		if got, _ := page(request.Filter{Query: "errors", Sort: "newest", BestOfNewest: true}, request.BestMatchCandidates); len(got) != 25 {
			t.Errorf(way.name+": newest first, past the first %d: %d requests, want 25", request.BestMatchCandidates, len(got))
		}

	}
}

// TestSearchAmongTheNewestFindsWhatTheViewerMayReadEitherWay: the list page's search (best matches
// among the newest) finds for every kind of viewer exactly what ranking every match finds — matching a
// request on its whole text only where the viewer may read it, on its summary elsewhere, and not at
// all where they may not see it — whether it walks the newest ids or reads through the indexes.
func TestSearchAmongTheNewestFindsWhatTheViewerMayReadEitherWay(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		w.raise(fmt.Sprintf("Unrelated request %d", i))
	}
	// Accepted, named so once as inTitle is, and saying it over and over where only its readers see:
	// for anyone else the two rank alike on their summaries, so the newer (inTitle) comes first; for
	// its readers, it comes first.
	w.seq++
	repeated, err := request.RaiseEnhancement(ctx, w.db, w.cal, w.v["raiser"], audit.Actor{Name: "test"}, w.now, request.NewEnhancement{
		SRNumber: "SR1234567", Title: "Establishment report for the quokka team", FunctionalArea: "Self Service",
		Problem: strings.Repeat("Quokka quokka quokka. ", 20), Proposal: "The change", AffectedUsers: []string{"employee"},
		Urgency: "medium", SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", w.seq),
	})
	if err != nil {
		t.Fatal(err)
	}
	inTitle := w.raise("Quokka counts on the establishment report") // accepted below: anyone may find it
	w.seq++
	inProblem, err := request.RaiseEnhancement(ctx, w.db, w.cal, w.v["raiser"], audit.Actor{Name: "test"}, w.now, request.NewEnhancement{
		SRNumber: "SR1234567", Title: "Establishment report totals", FunctionalArea: "Self Service", // accepted below
		Problem: "The totals leave out the quokka team", Proposal: "The change", AffectedUsers: []string{"employee"},
		Urgency: "medium", SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", w.seq),
	})
	if err != nil {
		t.Fatal(err)
	}
	notAccepted := w.raise("Quokka sightings on the establishment form") // another organisation may not see it
	for _, r := range []*request.Request{inTitle, inProblem, repeated} {
		for _, action := range []string{"acknowledge", "classify_enhancement"} {
			if _, err := w.apply("central", r, action, request.Input{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	found := map[string][]string{}
	for _, way := range []struct {
		name    string
		matches int64
	}{{"walked", 1}, {"through the indexes", 1001}} {
		request.SetCommonSearch(t, 1000, way.matches, 2) // the newest two walked, the rest through the indexes
		for who, v := range w.v {
			all, allN, err := request.List(ctx, w.db, v, request.Filter{Query: "quokka", Sort: "relevance"})
			if err != nil {
				t.Fatal(err)
			}
			newest, newestN, err := request.List(ctx, w.db, v, request.Filter{Query: "quokka", Sort: "relevance", BestOfNewest: true})
			if err != nil {
				t.Fatal(err)
			}
			var refs, want []string
			for _, r := range newest {
				refs = append(refs, r.Reference)
			}
			for _, r := range all {
				want = append(want, r.Reference)
			}
			if !slices.Equal(refs, want) || newestN != allN {
				t.Errorf("%s, %s finds %v counted %+v; ranking every match finds %v counted %+v", way.name, who, refs, newestN, want, allN)
			}
			found[who] = refs
		}
	}
	// Not vacuous: the raiser finds all four, another organisation only the two accepted ones named so.
	if len(found["raiser"]) != 4 || found["raiser"][0] != repeated.Reference || !slices.Equal(found["other_org"], []string{inTitle.Reference, repeated.Reference}) {
		t.Errorf("the raiser finds %v, another organisation %v; want all four, %s first, and %s then %s", found["raiser"], found["other_org"], repeated.Reference, inTitle.Reference, repeated.Reference)
	}
	if !slices.Contains(found["raiser"], notAccepted.Reference) {
		t.Errorf("the raiser does not find their own %s", notAccepted.Reference)
	}
}

// TestSimilarRequestsAreRankedByHowAlikeTheyAre: the most similar title comes first, then titles that
// share more of its words, whatever order the requests were raised in.
func TestSimilarRequestsAreRankedByHowAlikeTheyAre(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	titles := []string{
		"Payroll calendar dates for bank holidays",             // shares one word
		"Remind managers about upcoming DBS renewals",          // close
		"DBS checks for bank staff",                            // shares a word
		"Remind managers about DBS renewal dates",              // the same
		"Managers want a reminder before a DBS renewal is due", // shares several words
	}
	for _, title := range titles {
		w.raise(title)
	}
	got, err := request.FindSimilar(ctx, w.db, w.v["central"], request.KindEnhancement, "Remind managers about DBS renewal dates", 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range got {
		order = append(order, s.Title)
	}
	want := []string{titles[3], titles[1], titles[4]}
	if !slices.Equal(order, want) {
		t.Errorf("similar requests in the order\n%s\nwant first\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
}

// TestSimilarFindsTheAlikeTitleAmongManySharingItsWords raises the same title first and then more
// requests sharing all its words than FindSimilar scores for their text: the oldest, alike title still
// comes first, found among the nearest titles.
func TestSimilarFindsTheAlikeTitleAmongManySharingItsWords(t *testing.T) {
	w := newWorld(t)
	same := w.raise("Remind managers about DBS renewal dates")
	for i := range 110 {
		w.raise(fmt.Sprintf("Case %d: dates of renewal for DBS, and managers to remind", i+1))
	}
	got, err := request.FindSimilar(context.Background(), w.db, w.v["central"], request.KindEnhancement, "Remind managers about DBS renewal dates", 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[0].Reference != same.Reference {
		t.Errorf("similar requests %v, want %s (the same title) first of 5", got, same.Reference)
	}
}
