package schedule_test

import (
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/schedule"
)

func TestQuarters(t *testing.T) {
	for _, tc := range []struct {
		in, label, start, end, previous string
	}{
		{"2026-Q1", "Quarter 1 2026/27", "2026-04-01", "2026-06-30", "2025-Q4"},
		{"2026-Q3", "Quarter 3 2026/27", "2026-10-01", "2026-12-31", "2026-Q2"},
		{"2026-Q4", "Quarter 4 2026/27", "2027-01-01", "2027-03-31", "2026-Q3"},
		{"2099-Q2", "Quarter 2 2099/00", "2099-07-01", "2099-09-30", "2099-Q1"},
	} {
		q, err := schedule.ParseQuarter(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if q.String() != tc.in || q.Label() != tc.label || q.Start().Format(time.DateOnly) != tc.start ||
			q.End().Format(time.DateOnly) != tc.end || q.Previous().String() != tc.previous {
			t.Errorf("%s: %s %q %s..%s previous %s", tc.in, q, q.Label(), q.Start().Format(time.DateOnly), q.End().Format(time.DateOnly), q.Previous())
		}
		if got := schedule.QuarterOf(q.Start()); got != q {
			t.Errorf("quarter of %s = %s", tc.start, got)
		}
		if got := schedule.QuarterOf(q.End()); got != q {
			t.Errorf("quarter of %s = %s", tc.end, got)
		}
	}
	for _, bad := range []string{"", "2026-Q5", "2026-Q0", "26-Q1", "2026Q1", "2026-q1", "1999-Q1", " 2026-Q1"} {
		if _, err := schedule.ParseQuarter(bad); err == nil {
			t.Errorf("ParseQuarter(%q) accepted", bad)
		}
	}
}

func TestJustificationsFromIsSixCalendarMonthsBefore(t *testing.T) {
	for pub, want := range map[string]string{
		"2026-11-21": "2026-05-21",
		"2026-08-31": "2026-02-28",
		"2028-08-31": "2028-02-29",
		"2027-03-31": "2026-09-30",
		"2027-01-15": "2026-07-15",
		"2026-06-30": "2025-12-30",
	} {
		p, _ := time.Parse(time.DateOnly, pub)
		if got := schedule.JustificationsFrom(p).Format(time.DateOnly); got != want {
			t.Errorf("six months before %s = %s, want %s", pub, got, want)
		}
	}
}

func TestPublicationDateWithinTheQuarterOrTheOneBefore(t *testing.T) {
	q := schedule.Quarter{Year: 2026, Q: 3}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	for d, ok := range map[string]bool{"2026-06-30": false, "2026-07-01": true, "2026-11-21": true, "2026-12-31": true, "2027-01-01": false} {
		// A date read from a form is midnight in London: 1 July is 23:00 UTC on 30 June, and still in.
		for _, loc := range []*time.Location{time.UTC, london} {
			p, _ := time.ParseInLocation(time.DateOnly, d, loc)
			if err := schedule.CheckDate(q, p); (err == nil) != ok {
				t.Errorf("publication on %s (%s) for %s: %v", d, loc, q.Label(), err)
			}
		}
	}
}
