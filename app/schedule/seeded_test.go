package schedule_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/schedule"
	"github.com/nhs-esr/portal/app/schedule/pdf"
	"github.com/nhs-esr/portal/app/seed"
)

// The demo's past schedules are true as at their dates: nothing in them happened after the end of their
// publication day, every release they list was not yet live then and stood as they say, every change is
// in the release it was in then, and building them again from today's data gives the same document.
func TestSeededSchedulesAreTrueAtTheirDates(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	if _, err := seed.Demo(ctx, d.DB, now); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Requests(ctx, d.DB, now); err != nil {
		t.Fatal(err)
	}
	if err := seed.Schedules(ctx, d.DB, now, pdf.Render); err != nil {
		t.Fatal(err)
	}
	list, err := schedule.List(ctx, d.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d seeded schedules, want 2", len(list))
	}
	one := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := d.DB.NewRaw(query, args...).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, meta := range list {
		p, err := schedule.Get(ctx, d.DB, meta.ID)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := p.Document()
		if err != nil {
			t.Fatal(err)
		}
		cut := schedule.EndOfDay(doc.PublicationDate)
		what := doc.Reference + " dated " + doc.PublicationDate.Format(time.DateOnly)
		if len(doc.Gaps) != 0 {
			t.Errorf("%s: the demo's history has gaps: %v", what, doc.Gaps)
		}
		if len(doc.Releases) == 0 {
			t.Errorf("%s lists no releases", what)
		}
		for _, rel := range doc.Releases {
			if n := one(`SELECT count(*) FROM releases WHERE number = ? AND released_at IS NOT NULL AND released_at < ?`, rel.Number, cut); n != 0 {
				t.Errorf("%s lists release %d, live by then", what, rel.Number)
			}
			if n := one(`SELECT count(*) FROM release_history AS h JOIN releases AS rl ON rl.id = h.release_id
				WHERE rl.number = ? AND h.valid_from < ? AND h.id = (SELECT h2.id FROM release_history AS h2 WHERE h2.release_id = rl.id
					AND h2.valid_from < ? ORDER BY h2.valid_from DESC, h2.id DESC LIMIT 1)
				AND CASE h.status WHEN 'planned' THEN 'Planned' WHEN 'in_progress' THEN 'In progress' END = ?`, rel.Number, cut, cut, rel.Status); n != 1 {
				t.Errorf("%s says release %d was %q", what, rel.Number, rel.Status)
			}
			for _, c := range rel.Changes {
				// Allocated by then, and in this release then: the release of its last move before then, or else
				// the one it was first allocated to.
				n := one(`SELECT count(*) FROM requests AS r JOIN allocations AS a ON a.request_id = r.id
					WHERE r.reference = ?0
					AND (SELECT min(occurred_at) FROM request_events WHERE request_id = r.id AND kind = 'allocate') < ?1
					AND (SELECT number FROM releases WHERE id = coalesce(
						(SELECT to_release_id FROM allocation_moves WHERE request_id = r.id AND moved_at < ?1 ORDER BY moved_at DESC LIMIT 1),
						(SELECT from_release_id FROM allocation_moves WHERE request_id = r.id ORDER BY moved_at LIMIT 1),
						a.release_id)) = ?2`, c.Reference, cut, rel.Number)
				if n != 1 {
					t.Errorf("%s lists %s in release %d, where it was not then", what, c.Reference, rel.Number)
				}
				if c.Status == "Delivered" {
					t.Errorf("%s shows %s delivered in a release not yet live", what, c.Reference)
				}
			}
		}
		for _, j := range doc.Justifications {
			if j.RaisedOn.After(doc.PublicationDate) || j.DecisionDate.After(doc.PublicationDate) {
				t.Errorf("%s lists %s raised %s, decided %s", what, j.Reference, j.RaisedOn, j.DecisionDate)
			}
		}
		for _, c := range doc.Delivered {
			if c.DeliveredOn.After(doc.PublicationDate) {
				t.Errorf("%s lists %s delivered on %s", what, c.Reference, c.DeliveredOn)
			}
		}
		for _, ref := range doc.References() {
			if n := one(`SELECT count(*) FROM requests WHERE reference = ? AND received_at >= ?`, ref, cut); n != 0 {
				t.Errorf("%s names %s, received after it", what, ref)
			}
		}
		again, err := schedule.Build(ctx, d.DB, schedule.Options{Quarter: doc.Quarter, PublicationDate: doc.PublicationDate, Version: doc.Version})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, doc) {
			t.Errorf("%s built again today differs:\n%+v\n%+v", what, again, doc)
		}
		t.Logf("%s: %d releases, %d justifications, %d delivered, %d moved", what, len(doc.Releases), len(doc.Justifications), len(doc.Delivered), len(doc.Moves))
	}
	public, err := schedule.LatestPublic(ctx, d.DB)
	if err != nil || public.Quarter != "2026-Q2" {
		t.Errorf("the public schedule is %v, %v; want Quarter 2", public, err)
	}
}
