package request_test

import (
	"context"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/workday"
)

// TestWorkingDaysInSQLAgreeWithTheCalendar checks the SQL calendar (calendar_days and
// working_days_between) against workday.Calendar on every day it knows, and the working days between
// each day and the next sixty.
func TestWorkingDaysInSQLAgreeWithTheCalendar(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	var days []struct {
		Day     time.Time `bun:"day"`
		Working bool      `bun:"working"`
		Seq     int       `bun:"seq"`
	}
	if err := w.db.NewRaw(`SELECT day, working, seq FROM calendar_days ORDER BY day`).Scan(ctx, &days); err != nil {
		t.Fatal(err)
	}
	first := time.Date(workday.FirstYear, 1, 1, 12, 0, 0, 0, time.UTC)
	last := time.Date(workday.LastYear, 12, 31, 12, 0, 0, 0, time.UTC)
	if want := int(last.Sub(first).Hours()/24) + 1; len(days) != want {
		t.Fatalf("calendar_days has %d days, want %d (%d to %d)", len(days), want, workday.FirstYear, workday.LastYear)
	}
	for i, d := range days {
		at := time.Date(d.Day.Year(), d.Day.Month(), d.Day.Day(), 12, 0, 0, 0, time.UTC)
		if !at.Equal(first.AddDate(0, 0, i)) {
			t.Fatalf("day %d is %s, want %s", i, at.Format(time.DateOnly), first.AddDate(0, 0, i).Format(time.DateOnly))
		}
		working, err := w.cal.IsWorkingDay(at)
		if err != nil {
			t.Fatal(err)
		}
		if working != d.Working {
			t.Errorf("%s: SQL says working %v, the calendar %v", at.Format("Mon 2 Jan 2006"), d.Working, working)
		}
		for k := 0; k <= 60 && i+k < len(days); k++ {
			want, err := w.cal.WorkingDaysBetween(at, at.AddDate(0, 0, k))
			if err != nil {
				t.Fatal(err)
			}
			if got := days[i+k].Seq - d.Seq; got != want {
				t.Fatalf("working days after %s up to %s: SQL %d, the calendar %d", at.Format(time.DateOnly), at.AddDate(0, 0, k).Format(time.DateOnly), got, want)
			}
		}
	}
	// The function, across a bank holiday and a year end, and outside the calendar.
	var between, outside *int
	if err := w.db.NewRaw(`SELECT working_days_between('2026-12-17', '2027-01-05'), working_days_between('2019-12-31', '2020-01-02')`).
		Scan(ctx, &between, &outside); err != nil {
		t.Fatal(err)
	}
	if between == nil || *between != 10 || outside != nil {
		t.Fatalf("working_days_between: %v and %v, want 10 and NULL", between, outside)
	}
}

// step is one move of a hand-built history: when (UTC) and into which status.
type step struct {
	at     string
	status request.Status
}

// history replaces r's timeline with hand-built moves (and a comment, which is no move).
func (w *world) history(r *request.Request, steps ...step) {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.db.NewDelete().TableExpr("request_events").Where("request_id = ?", r.ID).Exec(ctx); err != nil {
		w.t.Fatal(err)
	}
	from := ""
	var events []request.Event
	for i, s := range steps {
		at, err := time.Parse(time.RFC3339, s.at)
		if err != nil {
			w.t.Fatal(err)
		}
		events = append(events, request.Event{RequestID: r.ID, OccurredAt: at, ActorName: "Test", Kind: "status",
			FromStatus: from, ToStatus: string(s.status), Summary: "Moved."})
		if i == 0 {
			// Something that is not a move, on the day of the first: it ends no spell.
			events = append(events, request.Event{RequestID: r.ID, OccurredAt: at.Add(time.Hour), ActorName: "Test", Kind: "note", Summary: "A note."})
		}
		from = string(s.status)
	}
	if _, err := w.db.NewInsert().Model(&events).Exec(ctx); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.NewUpdate().Table("requests").Set("status = ?", from).Where("id = ?", r.ID).Exec(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// TestTimeInStageFromTheTimeline works out time in stage on hand-built histories: a request answered a
// question and then withdrawn, one deferred over Christmas and back in impact assessment, and one
// raised late on a summer evening (already the next day in London).
func TestTimeInStageFromTheTimeline(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	withdrawn := w.raise("Answered, then withdrawn")
	w.history(withdrawn,
		step{"2026-11-02T10:00:00Z", request.StatusSubmitted},            // Monday
		step{"2026-11-04T09:00:00Z", request.StatusInTriage},             // Wednesday: 2 working days submitted
		step{"2026-11-05T15:00:00Z", request.StatusInformationRequested}, // Thursday: 1 in triage
		step{"2026-11-19T11:00:00Z", request.StatusInTriage},             // Thursday fortnight: 10 waiting for the answer
		step{"2026-11-23T16:00:00Z", request.StatusWithdrawn},            // Monday: 2 more in triage
	)
	deferred := w.raise("Deferred over Christmas")
	w.history(deferred,
		step{"2026-12-01T10:00:00Z", request.StatusSubmitted},
		step{"2026-12-15T10:00:00Z", request.StatusImpactAssessment}, // Tuesday
		step{"2026-12-17T10:00:00Z", request.StatusDeferred},         // Thursday: 2 in assessment
		step{"2027-01-05T08:00:00Z", request.StatusImpactAssessment}, // back: 10 deferred (25 and 28 December, 1 January are holidays)
		step{"2027-01-08T10:00:00Z", request.StatusApproved},         // Friday: 3 more in assessment
		step{"2027-01-11T10:00:00Z", request.StatusAllocated},        // Monday: 1 approved; allocated until today
	)
	// Accepted, so that everyone may see its summary: only those who may see it in full see its time.
	if _, err := w.db.NewUpdate().Table("requests").Set("accepted = true").Where("id = ?", deferred.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	evening := w.raise("Raised on a summer evening")
	w.history(evening,
		step{"2026-06-30T23:30:00Z", request.StatusSubmitted}, // 00:30 on Wednesday 1 July in London
		step{"2026-07-02T08:00:00Z", request.StatusInTriage},  // Thursday: 1 working day, not 2
	)

	cases := []struct {
		r     *request.Request
		today string
		want  []request.StageTime
	}{
		{withdrawn, "2026-11-30", []request.StageTime{
			{Stage: request.StatusSubmitted, WorkingDays: 2},
			{Stage: request.StatusInTriage, WorkingDays: 3},
			{Stage: request.StatusInformationRequested, WorkingDays: 10},
			{Stage: request.StatusWithdrawn, WorkingDays: 5},
		}},
		{deferred, "2027-01-20", []request.StageTime{
			{Stage: request.StatusSubmitted, WorkingDays: 10},
			{Stage: request.StatusImpactAssessment, WorkingDays: 5},
			{Stage: request.StatusDeferred, WorkingDays: 10},
			{Stage: request.StatusApproved, WorkingDays: 1},
			{Stage: request.StatusAllocated, WorkingDays: 7},
		}},
		{evening, "2026-07-02", []request.StageTime{
			{Stage: request.StatusSubmitted, WorkingDays: 1},
			{Stage: request.StatusInTriage, WorkingDays: 0},
		}},
	}
	for _, c := range cases {
		got, err := request.TimeInStage(ctx, w.db, c.r.ID, day(c.today))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: %+v, want %+v", c.r.Title, got, c.want)
		}
		for i := range got {
			if got[i].Stage != c.want[i].Stage || got[i].WorkingDays != c.want[i].WorkingDays {
				t.Errorf("%s: %s %d working days, want %s %d", c.r.Title, got[i].Stage, got[i].WorkingDays, c.want[i].Stage, c.want[i].WorkingDays)
			}
		}
	}
	// Impact assessment was first entered on 15 December, whatever the second spell.
	got, err := request.TimeInStage(ctx, w.db, deferred.ID, day("2027-01-20"))
	if err != nil {
		t.Fatal(err)
	}
	if !got[1].FirstEntered.Equal(time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("impact assessment first entered %s", got[1].FirstEntered)
	}

	// A change to the timeline changes the times: withdrawn a day later, it was in triage a day longer.
	if _, err := w.db.NewRaw(`UPDATE request_events SET occurred_at = occurred_at + interval '1 day' WHERE request_id = ? AND to_status = ?`,
		withdrawn.ID, request.StatusWithdrawn).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := request.TimeInStage(ctx, w.db, withdrawn.ID, day("2026-11-30")); err != nil || len(got) != 4 || got[1].WorkingDays != 4 || got[3].WorkingDays != 4 {
		t.Errorf("after moving the withdrawal a day later: %+v, %v", got, err)
	}

	// The list's stage filter asks the same definition, over what each viewer may see in full.
	london := w.cal.Location()
	f := request.Filter{Kind: request.KindEnhancement, Today: day("2027-01-20"), Drill: request.Drill{
		Stage: request.StatusImpactAssessment, StageFrom: time.Date(2026, 12, 1, 0, 0, 0, 0, london), StageTo: time.Date(2027, 1, 1, 0, 0, 0, 0, london),
	}}
	for _, c := range []struct {
		min  int
		who  string
		want int
	}{
		{0, "raiser", 1}, {5, "raiser", 1}, {6, "raiser", 0}, {0, "fam_region", 1}, {0, "central", 1}, {0, "developer", 1},
		// They see its summary, not its timeline.
		{0, "other_org", 0}, {0, "fam_elsewhere", 0}, {0, "admin", 0},
	} {
		f.StageMinDays = c.min
		_, n, err := request.List(ctx, w.db, w.v[c.who], f)
		if err != nil {
			t.Fatal(err)
		}
		if !n.Exact || n.N != c.want {
			t.Errorf("in impact assessment from December for at least %d working days, as %s: %+v, want %d", c.min, c.who, n, c.want)
		}
	}
	// Entered in January: the first spell was in December, so no.
	f.StageFrom, f.StageTo, f.StageMinDays = time.Date(2027, 1, 1, 0, 0, 0, 0, london), time.Date(2027, 2, 1, 0, 0, 0, 0, london), 0
	if _, n, err := request.List(ctx, w.db, w.v["central"], f); err != nil || n.N != 0 {
		t.Errorf("first entered impact assessment in January: %+v, %v; want none", n, err)
	}
}
