package schedule_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/schedule"
	"github.com/nhs-esr/portal/app/schedule/pdf"
)

func (f *fixture) publish(based int, note string) (*schedule.Publication, error) {
	return schedule.Publish(context.Background(), f.db, pdf.Render, schedule.Publisher{UserID: f.userID, Name: "Casey Central"},
		audit.Actor{UserID: f.userID, Name: "Casey Central"}, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
		schedule.PublishInput{Quarter: schedule.Quarter{Year: 2026, Q: 3}, PublicationDate: date(f.t, "2026-11-21"), ChangeNote: note, Based: based})
}

func TestPublishKeepsThePDFItsDataAndChecksum(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id, ref := f.request("Add RSV to the national Immunisation and Vaccination values", "approved")
	f.justification(id, at(t, "2026-10-01 09:00"))
	f.decision(id, "approved", "Needed for the winter programme.", at(t, "2026-11-01 10:00"), nil)
	// Two users asked to hear about new schedules (one in the portal only); a third never chose.
	listener, quiet := f.userID, f.user("quiet@test.nhs.uk")
	portalOnly := f.user("portal@test.nhs.uk")
	if err := notify.SavePreferences(ctx, f.db, audit.Actor{Name: "test"}, time.Now(), listener, false,
		[]notify.Preference{{Event: notify.EventSchedulePublished, InApp: true, Email: true}}); err != nil {
		t.Fatal(err)
	}
	if err := notify.SavePreferences(ctx, f.db, audit.Actor{Name: "test"}, time.Now(), portalOnly, false,
		[]notify.Preference{{Event: notify.EventSchedulePublished, InApp: true}}); err != nil {
		t.Fatal(err)
	}

	p, err := f.publish(0, "ignored for a first version")
	if err != nil {
		t.Fatal(err)
	}
	got, err := schedule.Get(ctx, f.db, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(got.PDF)
	if !bytes.Equal(sum[:], got.SHA256) || !got.Verify() || got.Checksum() != p.Checksum() {
		t.Fatalf("stored checksum %x does not match the stored PDF's %x", got.SHA256, sum)
	}
	if !bytes.HasPrefix(got.PDF, []byte("%PDF-")) || got.Size != len(got.PDF) {
		t.Errorf("stored PDF starts %q, size %d of %d", got.PDF[:8], got.Size, len(got.PDF))
	}
	if got.Version != 1 || got.ChangeNote != "" || got.Reference != "ESR-DS-2026-Q3" || got.Superseded() || got.Public() ||
		got.PublishedByName != "Casey Central" {
		t.Errorf("publication = v%d note %q ref %s superseded %v public %v by %q", got.Version, got.ChangeNote, got.Reference,
			got.Superseded(), got.Public(), got.PublishedByName)
	}
	// The snapshot is the document the PDF was built from, and building it again gives the same bytes.
	doc, err := got.Document()
	if err != nil {
		t.Fatal(err)
	}
	built, err := schedule.Build(ctx, f.db, schedule.Options{Quarter: schedule.Quarter{Year: 2026, Q: 3}, PublicationDate: date(t, "2026-11-21")})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc, built) {
		t.Errorf("snapshot\n%+v\nbuilt now\n%+v", doc, built)
	}
	if len(doc.Justifications) != 1 || doc.Justifications[0].Reference != ref {
		t.Errorf("snapshot justifications %+v", doc.Justifications)
	}
	var again bytes.Buffer
	if err := pdf.Render(&again, doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), got.PDF) {
		t.Error("rendering the stored snapshot again gives different bytes")
	}

	var told []struct {
		UserID int64 `bun:"user_id"`
		Link   string
	}
	if err := f.db.NewRaw("SELECT user_id, link FROM notifications WHERE event = ? ORDER BY user_id", notify.EventSchedulePublished).Scan(ctx, &told); err != nil {
		t.Fatal(err)
	}
	if len(told) != 2 || told[0].UserID != listener || told[1].UserID != portalOnly {
		t.Errorf("told %+v, want users %d and %d, not %d", told, listener, portalOnly, quiet)
	}
	var emails int
	if err := f.db.NewRaw("SELECT count(*) FROM email_outbox WHERE subject LIKE 'The Development Schedule for Quarter 3 2026/27%'").Scan(ctx, &emails); err != nil {
		t.Fatal(err)
	}
	if emails != 1 {
		t.Errorf("%d emails, want 1 (to the user who asked for email)", emails)
	}
	var audited int
	if err := f.db.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'schedule.published' AND entity_id = '2026-Q3 v1'").Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if audited != 1 {
		t.Errorf("%d audit events for the publication", audited)
	}
}

func (f *fixture) user(email string) int64 {
	f.t.Helper()
	u, err := identity.Create(context.Background(), f.db, audit.Actor{Name: "test"}, time.Now(), identity.NewUser{
		Email: email, Name: email, OrganisationID: f.orgID, Roles: []string{identity.RoleRequester}, Password: "correct horse battery staple"})
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID
}

func TestCorrectionsAreNewVersions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v1, err := f.publish(0, "")
	if err != nil {
		t.Fatal(err)
	}
	// Someone who previewed before version 1 existed is told it now does.
	var conflict *schedule.Conflict
	if _, err := f.publish(0, ""); !errors.As(err, &conflict) || conflict.Latest.Version != 1 {
		t.Fatalf("publishing from a stale preview: %v", err)
	}
	var rule *schedule.RuleError
	if _, err := f.publish(1, "  "); !errors.As(err, &rule) || rule.Field != "change_note" {
		t.Fatalf("a correction without a note: %v", err)
	}
	v2, err := f.publish(1, "R73 target date corrected.")
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.ChangeNote != "R73 target date corrected." {
		t.Errorf("correction v%d %q", v2.Version, v2.ChangeNote)
	}
	doc, err := v2.Document()
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version != 2 || doc.ChangeNote != "R73 target date corrected." {
		t.Errorf("the correction's document says v%d %q", doc.Version, doc.ChangeNote)
	}
	list, err := schedule.List(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != v2.ID || list[0].Superseded() || list[1].ID != v1.ID || !list[1].Superseded() {
		t.Errorf("list %+v", list)
	}
	// Published versions never change and are never deleted.
	if _, err := f.db.NewRaw("UPDATE schedule_publications SET pdf = '\\x00' WHERE id = ?", v1.ID).Exec(ctx); err == nil {
		t.Error("a published PDF was changed")
	}
	if _, err := f.db.NewRaw("DELETE FROM schedule_publications WHERE id = ?", v1.ID).Exec(ctx); err == nil {
		t.Error("a published version was deleted")
	}
	old, err := schedule.Get(ctx, f.db, v1.ID)
	if err != nil || !old.Verify() {
		t.Fatalf("version 1 after the correction: %v", err)
	}
}

func TestOnlyOneOfTwoSimultaneousPublicationsWins(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.publish(0, "")
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		var conflict *schedule.Conflict
		var rule *schedule.RuleError
		switch {
		case err == nil:
			won++
		case errors.As(err, &conflict), errors.As(err, &rule):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d publications of version 1 succeeded, want 1", won)
	}
}

func TestMakingASchedulePublic(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := schedule.LatestPublic(ctx, f.db); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("public schedule before any: %v", err)
	}
	v1, err := f.publish(0, "")
	if err != nil {
		t.Fatal(err)
	}
	actor := audit.Actor{UserID: f.userID, Name: "Casey Central"}
	if _, err := schedule.SetPublic(ctx, f.db, actor, time.Now(), v1.ID, true); err != nil {
		t.Fatal(err)
	}
	v2, err := f.publish(1, "Corrected")
	if err != nil {
		t.Fatal(err)
	}
	// The public one stays version 1 until version 2 is made public.
	if p, err := schedule.LatestPublic(ctx, f.db); err != nil || p.ID != v1.ID {
		t.Fatalf("public schedule %v, %v; want version 1", p, err)
	}
	if _, err := schedule.SetPublic(ctx, f.db, actor, time.Now(), v2.ID, true); err != nil {
		t.Fatal(err)
	}
	if p, err := schedule.LatestPublic(ctx, f.db); err != nil || p.ID != v2.ID {
		t.Fatalf("public schedule %v, %v; want version 2", p, err)
	}
	if p, err := schedule.SetPublic(ctx, f.db, actor, time.Now(), v2.ID, false); err != nil || p.Public() {
		t.Fatalf("stop showing version 2: %v", err)
	}
	if p, err := schedule.LatestPublic(ctx, f.db); err != nil || p.ID != v1.ID {
		t.Fatalf("public schedule %v, %v; want version 1 again", p, err)
	}
	var audited int
	if err := f.db.NewRaw("SELECT count(*) FROM audit_events WHERE action IN ('schedule.made_public', 'schedule.made_private')").Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if audited != 3 {
		t.Errorf("%d audit events, want 3", audited)
	}
}

// Publishing circulates the schedule, by default, to every NSIG seat holder and to the requesters,
// supporters and followers of every request it names, each once; anyone who turned it off is not told,
// and nobody else is. The new version becomes the public one when the central team says so.
func TestPublishingCirculatesTheSchedule(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	named, _ := f.request("Named in the schedule", "impact_assessment")
	f.justification(named, at(t, "2026-10-01 09:00"))
	notNamed, _ := f.request("Justified too long ago", "impact_assessment")
	f.justification(notNamed, at(t, "2025-01-01 09:00"))
	seat, deputy, ended := f.user("seat@test.nhs.uk"), f.user("deputy@test.nhs.uk"), f.user("ended@test.nhs.uk")
	supporter, follower, optedOut := f.user("supporter@test.nhs.uk"), f.user("follower@test.nhs.uk"), f.user("out@test.nhs.uk")
	bystander, elsewhere := f.user("bystander@test.nhs.uk"), f.user("elsewhere@test.nhs.uk")
	var nsigID int64
	if err := f.db.NewRaw("SELECT min(id) FROM nsigs").Scan(ctx, &nsigID); err != nil {
		t.Fatal(err)
	}
	for i, a := range []struct {
		user     int64
		position string
		ended    any
	}{{seat, "member", nil}, {deputy, "deputy", nil}, {ended, "member", "2026-06-01"}} {
		f.exec(`INSERT INTO nsig_appointments (nsig_id, region_id, position, user_id, nominating_sig, nominated_on, how_chosen, term_start, term_end,
			appointed_by, appointed_at, ended_at) VALUES (?, ?, ?, ?, 'London SIG', '2026-01-01', 'election', '2026-01-02', '2028-01-01', ?, now(), ?)`,
			nsigID, 1+i%2, a.position, a.user, f.userID, a.ended)
	}
	f.exec(`INSERT INTO request_supports (request_id, organisation_id, user_id, created_at) VALUES (?, ?, ?, now())`, named, f.orgID, supporter)
	for _, u := range []int64{follower, seat, optedOut} { // the seat holder follows it too: told once
		f.exec(`INSERT INTO request_followers (request_id, user_id, created_at) VALUES (?, ?, now())`, named, u)
	}
	f.exec(`INSERT INTO request_followers (request_id, user_id, created_at) VALUES (?, ?, now())`, notNamed, elsewhere)
	if err := notify.SavePreferences(ctx, f.db, audit.Actor{Name: "test"}, time.Now(), optedOut, false,
		[]notify.Preference{{Event: notify.EventSchedulePublished}}); err != nil {
		t.Fatal(err)
	}

	doc, err := schedule.Build(ctx, f.db, schedule.Options{Quarter: schedule.Quarter{Year: 2026, Q: 3}, PublicationDate: date(t, "2026-11-21")})
	if err != nil {
		t.Fatal(err)
	}
	audience, err := schedule.Audience(ctx, f.db, doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{f.userID, seat, deputy, supporter, follower} // f.userID raised both requests
	slices.Sort(want)
	if !slices.Equal(audience, want) {
		t.Errorf("audience %v, want %v (not the ended seat %d, the opted out %d, the bystander %d, the follower of an unnamed request %d)",
			audience, want, ended, optedOut, bystander, elsewhere)
	}
	p, err := schedule.Publish(ctx, f.db, pdf.Render, schedule.Publisher{UserID: f.userID, Name: "Casey Central"}, audit.Actor{UserID: f.userID, Name: "Casey Central"},
		time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
		schedule.PublishInput{Quarter: schedule.Quarter{Year: 2026, Q: 3}, PublicationDate: date(t, "2026-11-21"), Public: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Told != len(want) {
		t.Errorf("told %d, want %d", p.Told, len(want))
	}
	var told []int64
	if err := f.db.NewRaw("SELECT user_id FROM notifications WHERE event = ? AND link = ? ORDER BY user_id", notify.EventSchedulePublished,
		fmt.Sprintf("/schedules/%d", p.ID)).Scan(ctx, &told); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(told, want) {
		t.Errorf("notified %v, want %v, each once", told, want)
	}
	var emails int
	if err := f.db.NewRaw("SELECT count(*) FROM email_outbox WHERE subject = 'The Development Schedule for Quarter 3 2026/27 is published'").Scan(ctx, &emails); err != nil {
		t.Fatal(err)
	}
	if emails != len(want) {
		t.Errorf("%d emails, want %d", emails, len(want))
	}
	public, err := schedule.LatestPublic(ctx, f.db)
	if err != nil || public.ID != p.ID {
		t.Errorf("public schedule %v, %v; want the new version", public, err)
	}
}
