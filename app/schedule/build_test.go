package schedule_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/schedule"
	"github.com/nhs-esr/portal/app/seed"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}()

// at is a wall-clock time in London, written "2006-01-02 15:04".
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, london)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func date(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fixture writes requests, justifications, decisions, releases and moves with chosen dates straight into
// the tables the schedule reads.
type fixture struct {
	t      *testing.T
	db     *bun.DB
	orgID  int64
	userID int64
	seq    int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	if err := seed.Organisations(ctx, d.DB, now); err != nil {
		t.Fatal(err)
	}
	org, err := organisation.GetByODS(ctx, d.DB, "ZLN01")
	if err != nil {
		t.Fatal(err)
	}
	u, err := identity.Create(ctx, d.DB, audit.Actor{Name: "test"}, now, identity.NewUser{
		Email: "central@test.nhs.uk", Name: "Casey Central", OrganisationID: org.ID, Roles: []string{identity.RoleCentralTeam},
		Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, db: d.DB, orgID: org.ID, userID: u.ID}
}

func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	if _, err := f.db.NewRaw(query, args...).Exec(context.Background()); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
}

// request adds an enhancement request raised on 5 January 2026 and returns its id and reference. Its
// timeline says it was submitted then and reached status the next day, as the lifecycle records it.
func (f *fixture) request(title, status string) (int64, string) {
	f.t.Helper()
	f.seq++
	ref := fmt.Sprintf("ENH-2026-%04d", f.seq)
	var id int64
	err := f.db.NewRaw(`INSERT INTO requests (kind, reference, title, status, organisation_id, raised_by_id, received_at, ack_due_on,
			accepted, submission_token, created_at, updated_at)
		VALUES ('enhancement', ?, ?, ?, ?, ?, '2026-01-05 09:00+00', '2026-01-12', true, ?, now(), now()) RETURNING id`,
		ref, title, status, f.orgID, f.userID, fmt.Sprintf("00000000-0000-4000-8000-%012d", f.seq)).Scan(context.Background(), &id)
	if err != nil {
		f.t.Fatal(err)
	}
	f.exec(`INSERT INTO enhancement_requests (request_id, sr_number, functional_area, problem, proposal, affected_users, urgency)
		VALUES (?, 'SR1', 'Payroll', 'p', 'c', '{employee}', 'low')`, id)
	f.status(id, "raised", "submitted", at(f.t, "2026-01-05 09:00"))
	if status != "submitted" {
		f.status(id, "test", status, at(f.t, "2026-01-06 09:00"))
	}
	return id, ref
}

// status records on the timeline that the request reached a status, as a transition does.
func (f *fixture) status(id int64, kind, status string, when time.Time) {
	f.exec(`INSERT INTO request_events (request_id, occurred_at, actor_name, kind, to_status, summary) VALUES (?, ?, 'test', ?, ?, 'test')`,
		id, when, kind, status)
}

func (f *fixture) justification(id int64, firstSubmitted time.Time) {
	f.exec(`INSERT INTO business_justifications (request_id, submitted_at, first_submitted_at, updated_at) VALUES (?, ?, ?, ?)`,
		id, firstSubmitted.Add(24*time.Hour), firstSubmitted, firstSubmitted)
}

func (f *fixture) decision(id int64, outcome, rationale string, when time.Time, review any) {
	f.exec(`INSERT INTO request_decisions (request_id, outcome, rationale, review_on, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, outcome, rationale, review, f.userID, when)
	f.status(id, outcome, outcome, when)
}

// release adds a release created on 1 January 2026 and its history as the release package keeps it:
// planned (or in progress) from then, released when it went live.
func (f *fixture) release(number int, target string, status string, releasedAt any) int64 {
	f.t.Helper()
	var id int64
	err := f.db.NewRaw(`INSERT INTO releases (number, name, target_date, status, released_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, '2026-01-01', now()) RETURNING id`, number, fmt.Sprintf("Release %d name", number), target, status, releasedAt).
		Scan(context.Background(), &id)
	if err != nil {
		f.t.Fatal(err)
	}
	before := status
	if before == "released" {
		before = "in_progress"
	}
	f.exec(`INSERT INTO release_history (release_id, number, name, target_date, status, valid_from) SELECT id, number, name, target_date, ?, created_at
		FROM releases WHERE id = ?`, before, id)
	if releasedAt != nil {
		f.exec(`INSERT INTO release_history (release_id, number, name, target_date, status, valid_from) SELECT id, number, name, target_date, status, released_at
			FROM releases WHERE id = ?`, id)
	}
	return id
}

// allocate allocates a request to a release as the "allocate" transition does: the allocation and its
// timeline event.
func (f *fixture) allocate(requestID, releaseID int64, when time.Time) {
	f.exec(`INSERT INTO allocations (request_id, release_id, allocated_by, allocated_at) VALUES (?, ?, ?, ?)`, requestID, releaseID, f.userID, when)
	f.status(requestID, "allocate", "allocated", when)
}

func (f *fixture) move(requestID, from, to int64, when time.Time, reason string) {
	f.exec(`INSERT INTO allocation_moves (request_id, from_release_id, to_release_id, reason, moved_by, moved_at) VALUES (?, ?, ?, ?, ?, ?)`,
		requestID, from, to, reason, f.userID, when)
}

func references[T any](items []T, ref func(T) string) []string {
	out := []string{}
	for _, i := range items {
		out = append(out, ref(i))
	}
	return out
}

func TestJustificationsInTheSixMonthsBeforePublication(t *testing.T) {
	f := newFixture(t)
	pub := date(t, "2026-11-21")
	outBefore, refOutBefore := f.request("Raised six months and a day before", "impact_assessment")
	f.justification(outBefore, at(t, "2026-05-20 23:30")) // 22:30 UTC on the 20th
	onBoundary, refBoundary := f.request("Raised on the boundary day", "approved")
	f.justification(onBoundary, at(t, "2026-05-21 00:10")) // 23:10 UTC on the 20th: London's date counts
	f.decision(onBoundary, "approved", "Strong case across regions.", at(t, "2026-07-01 10:00"), nil)
	onPublication, refOnPublication := f.request("Raised on the publication day", "deferred")
	f.justification(onPublication, at(t, "2026-11-21 18:00"))
	f.decision(onPublication, "deferred", "Wait for the pay award.", at(t, "2026-11-21 19:00"), "2027-03-01")
	after, refAfter := f.request("Raised the day after publication", "impact_assessment")
	f.justification(after, at(t, "2026-11-22 00:30"))
	decidedLater, refDecidedLater := f.request("Decided after publication", "impact_assessment")
	f.justification(decidedLater, at(t, "2026-09-01 12:00"))
	f.decision(decidedLater, "not_approved", "Too costly.", at(t, "2026-11-22 09:00"), nil)
	noJustification, _ := f.request("Never justified", "requirements_and_justification")
	_ = noJustification

	doc, err := schedule.Build(context.Background(), f.db, schedule.Options{Quarter: schedule.Quarter{Year: 2026, Q: 3}, PublicationDate: pub})
	if err != nil {
		t.Fatal(err)
	}
	if want := date(t, "2026-05-21"); !doc.JustificationsFrom.Equal(want) {
		t.Errorf("justifications from %s, want %s", doc.JustificationsFrom.Format(time.DateOnly), want.Format(time.DateOnly))
	}
	got := references(doc.Justifications, func(j schedule.Justification) string { return j.Reference })
	want := []string{refBoundary, refDecidedLater, refOnPublication}
	if !slices.Equal(got, want) {
		t.Fatalf("justifications %v, want %v (out: %s before the window, %s after publication)", got, want, refOutBefore, refAfter)
	}
	byRef := map[string]schedule.Justification{}
	for _, j := range doc.Justifications {
		byRef[j.Reference] = j
	}
	if j := byRef[refBoundary]; j.Outcome != "Approved" || j.Rationale != "Strong case across regions." || !j.DecisionDate.Equal(date(t, "2026-07-01")) ||
		!j.RaisedOn.Equal(date(t, "2026-05-21")) {
		t.Errorf("boundary justification = %+v", j)
	}
	if j := byRef[refOnPublication]; j.Outcome != "Deferred, to be reviewed on 1 March 2027" || !j.DecisionDate.Equal(pub) {
		t.Errorf("deferred justification = %+v", j)
	}
	// A decision made after the publication date is not in the schedule: it shows where the request stood then.
	if j := byRef[refDecidedLater]; !j.DecisionDate.IsZero() || j.Rationale != "" || j.Outcome != "Not yet decided (Impact assessment)" {
		t.Errorf("justification decided after publication = %+v", j)
	}
}

func TestReleasesDeliveriesAndMoves(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pub := date(t, "2026-11-21")
	r68 := f.release(68, "2026-08-20", "released", at(t, "2026-08-20 18:00")) // before the previous schedule
	r71 := f.release(71, "2026-10-01", "released", at(t, "2026-10-01 18:00")) // since the previous schedule
	r72 := f.release(72, "2026-11-26", "released", at(t, "2026-11-26 18:00")) // live after publication: still coming
	r73 := f.release(73, "2027-02-25", "planned", nil)                        // coming
	f.release(74, "2027-05-27", "planned", nil)                               // coming, nothing allocated
	r69 := f.release(69, "2026-11-21", "released", at(t, "2026-11-21 23:30")) // live on the publication day
	oldDelivered, _ := f.request("Delivered long ago", "allocated")
	f.allocate(oldDelivered, r68, at(t, "2026-03-01 10:00"))
	f.status(oldDelivered, "deliver", "delivered", at(t, "2026-08-20 18:00"))
	delivered, refDelivered := f.request("Delivered since the last schedule", "allocated")
	f.allocate(delivered, r71, at(t, "2026-03-01 10:00"))
	f.status(delivered, "deliver", "delivered", at(t, "2026-10-01 18:00"))
	deliveredOnDay, refDeliveredOnDay := f.request("Delivered on the publication day", "allocated")
	f.allocate(deliveredOnDay, r69, at(t, "2026-03-01 10:00"))
	f.status(deliveredOnDay, "deliver", "delivered", at(t, "2026-11-21 23:30"))
	in72, ref72 := f.request("In release 72", "approved")
	f.allocate(in72, r72, at(t, "2026-06-01 10:00"))
	in73b, ref73b := f.request("Second in release 73", "approved")
	f.allocate(in73b, r73, at(t, "2026-06-01 10:00"))
	in73a, ref73a := f.request("First in release 73", "approved")
	f.allocate(in73a, r73, at(t, "2026-06-01 10:00"))
	allocatedLater, _ := f.request("Allocated after publication", "approved")
	f.allocate(allocatedLater, r73, at(t, "2026-11-27 10:00"))
	f.move(in73a, r72, r73, at(t, "2026-10-15 11:00"), "Testing capacity in R72 ran out.")
	f.move(in73b, r71, r72, at(t, "2026-08-10 11:00"), "Before the previous schedule.")
	f.move(in73b, r72, r73, at(t, "2026-11-22 08:00"), "After publication.")
	// The previous schedule (an earlier quarter) was published on 1 September.
	f.exec(`INSERT INTO schedule_publications (quarter, version, reference, publication_date, snapshot, items, pdf, sha256, published_by, published_at)
		VALUES ('2026-Q2', 1, 'ESR-DS-2026-Q2', '2026-09-01', '{}', 0, '\x25504446', sha256('\x25504446'), ?, now())`, f.userID)
	// A corrected version of this very quarter does not move the window.
	f.exec(`INSERT INTO schedule_publications (quarter, version, reference, publication_date, snapshot, items, pdf, sha256, published_by, published_at)
		VALUES ('2026-Q3', 1, 'ESR-DS-2026-Q3', '2026-11-02', '{}', 0, '\x25504446', sha256('\x25504446'), ?, now())`, f.userID)

	doc, err := schedule.Build(ctx, f.db, schedule.Options{Quarter: schedule.Quarter{Year: 2026, Q: 3}, PublicationDate: pub, Version: 2, ChangeNote: "Corrected"})
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Since.Equal(date(t, "2026-09-01")) || !doc.SinceSchedule {
		t.Errorf("since %s (a schedule's date: %v), want the previous schedule's 2026-09-01", doc.Since.Format(time.DateOnly), doc.SinceSchedule)
	}
	gotReleases := references(doc.Releases, func(r schedule.Release) string { return r.Label() })
	if want := []string{"R72", "R73", "R74"}; !slices.Equal(gotReleases, want) {
		t.Fatalf("releases %v, want %v", gotReleases, want)
	}
	// Each change is in the release it was in at the end of the publication date: the move after it and
	// the allocation after it are not in the schedule.
	if got := references(doc.Releases[0].Changes, func(c schedule.Change) string { return c.Reference }); !slices.Equal(got, []string{ref72, ref73b}) {
		t.Errorf("R72 changes %v, want %v in reference order", got, []string{ref72, ref73b})
	}
	if got := references(doc.Releases[1].Changes, func(c schedule.Change) string { return c.Reference }); !slices.Equal(got, []string{ref73a}) {
		t.Errorf("R73 changes %v, want %v", got, []string{ref73a})
	}
	c := doc.Releases[0].Changes[0]
	if c.Reference != ref72 || c.FunctionalArea != "Payroll" || c.Organisation != "Thameside Royal Hospitals NHS Trust" || c.Region != "London" ||
		c.Status != "Allocated to a release" {
		t.Errorf("R72 change = %+v", c)
	}
	if len(doc.Releases[2].Changes) != 0 {
		t.Errorf("R74 changes %v, want none", doc.Releases[2].Changes)
	}
	gotDelivered := references(doc.Delivered, func(c schedule.Change) string { return c.Reference + " " + c.Release })
	if want := []string{refDelivered + " R71", refDeliveredOnDay + " R69"}; !slices.Equal(gotDelivered, want) {
		t.Errorf("delivered %v, want %v", gotDelivered, want)
	}
	if !doc.Delivered[1].DeliveredOn.Equal(pub) {
		t.Errorf("delivered on %s, want the publication date", doc.Delivered[1].DeliveredOn)
	}
	if len(doc.Moves) != 1 || doc.Moves[0].Reference != ref73a || doc.Moves[0].From != "R72" || doc.Moves[0].To != "R73" ||
		doc.Moves[0].Reason != "Testing capacity in R72 ran out." || !doc.Moves[0].MovedOn.Equal(date(t, "2026-10-15")) {
		t.Errorf("moves = %+v", doc.Moves)
	}
	if doc.Reference != "ESR-DS-2026-Q3" || doc.Version != 2 || doc.QuarterLabel != "Quarter 3 2026/27" || doc.Items() != 6 {
		t.Errorf("document %s v%d %q items %d", doc.Reference, doc.Version, doc.QuarterLabel, doc.Items())
	}
}

func TestWithoutAPreviousScheduleDeliveriesCountFromThreeMonthsBefore(t *testing.T) {
	f := newFixture(t)
	doc, err := schedule.Build(context.Background(), f.db, schedule.Options{Quarter: schedule.Quarter{Year: 2026, Q: 3}, PublicationDate: date(t, "2026-11-30")})
	if err != nil {
		t.Fatal(err)
	}
	if want := date(t, "2026-08-30"); !doc.Since.Equal(want) || doc.SinceSchedule {
		t.Errorf("since %s, want %s", doc.Since.Format(time.DateOnly), want.Format(time.DateOnly))
	}
	if doc.Items() != 0 || len(doc.Releases) != 0 || len(doc.HowToRaise) == 0 {
		t.Errorf("empty schedule: %d items, %d releases, %d paragraphs on raising", doc.Items(), len(doc.Releases), len(doc.HowToRaise))
	}
}
