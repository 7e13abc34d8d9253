package app

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/request"
)

// TestDrillFiltersRoundTrip writes each kind of drill-down filter as the list's address and reads it
// back: the list applies exactly the filter the figure was counted with. What does not parse is dropped.
func TestDrillFiltersRoundTrip(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, london) }
	r := func(min, max int) *request.Range { return &request.Range{Min: min, Max: max} }
	for _, d := range []request.Drill{
		{Stage: request.StatusImpactAssessment, StageFrom: day(2026, 10, 1), StageTo: day(2027, 1, 1), StageMinDays: 12},
		{Stage: request.StatusDeferred},
		{Decision: request.DecisionApproved, DecidedFrom: day(2026, 7, 1), DecidedTo: day(2026, 10, 1)},
		{Decision: request.DecisionNotTakenForward, Reason: "duplicate", DecidedFrom: day(2026, 4, 1), DecidedTo: day(2026, 7, 1)},
		{ReleaseID: 72},
		{Moved: true, MovedFrom: day(2026, 3, 29), MovedTo: day(2026, 3, 30)}, // the clocks change on 29 March
		{Supporters: r(0, 0), SupportRegions: r(4, -1)},
		{Supporters: r(2, 4)},
		{ViewRegion: 8, View: request.ViewWaiting},
	} {
		q := url.Values{}
		formOfDrill(d).values(q)
		var back drillForm
		for _, p := range back.params() {
			*p.value = q.Get(p.name)
		}
		got, ok := back.filter()
		if !ok || !reflect.DeepEqual(got, d) {
			t.Errorf("%+v\nwritten as %s\nread back as %+v (ok %v)", d, q.Encode(), got, ok)
		}
	}
	for _, bad := range []drillForm{
		{Stage: "withdrawn"}, {Stage: "not-a-stage"}, {Decision: "maybe"},
	} {
		if f, ok := bad.filter(); ok || f.Stage != "" || f.Decision != "" {
			t.Errorf("%+v was read as %+v", bad, f)
		}
	}
	for _, s := range []string{"", "-", "x", "4-2", "-3", "1-x", "999999999"} {
		if r := readRange(s); r != nil {
			t.Errorf("the range %q was read as %+v", s, *r)
		}
	}
	// Status groups are written as the list's own values.
	for want, ss := range map[string][]request.Status{statusOpen: request.OpenStatuses(), statusAwaiting: request.AwaitingDecision(),
		"deferred": {request.StatusDeferred}, "": nil} {
		if got, err := statusValue(ss); err != nil || got != want {
			t.Errorf("statuses %v are written as %q, %v; want %q", ss, got, err, want)
		}
		if got := statusesOf(want); !reflect.DeepEqual(got, ss) {
			t.Errorf("%q is read as %v, want %v", want, got, ss)
		}
	}
	if _, err := statusValue([]request.Status{request.StatusDeferred, request.StatusApproved}); err == nil {
		t.Error("two statuses that make no group were written")
	}
}
