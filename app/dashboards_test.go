package app

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/release"
	"github.com/nhs-esr/portal/app/request"
)

// plantDashboardWorld is the leak test's world (every state of visibility, nine kinds of viewer) with
// requests through the rest of the lifecycle as well: acknowledged late, approved and allocated then
// moved between releases, deferred, not approved, not taken forward for a reason, supported from other
// regions; some of them months ago, so that the months and quarters of the dashboards differ.
func plantDashboardWorld(t *testing.T) *leakWorld {
	t.Helper()
	w := plantLeakWorld(t)
	ctx := context.Background()
	p := w.p
	seq := 0
	tick := func() time.Time { p.clock.Advance(time.Minute); return p.clock.Now() }
	viewer := func(who string) request.Viewer {
		t.Helper()
		v, err := request.ViewerFor(ctx, p.db.DB, w.users[who])
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	apply := func(who, key, action string, in request.Input) {
		t.Helper()
		if err := p.db.DB.NewSelect().Table("requests").Column("version").Where("id = ?", w.ids[key]).Scan(ctx, &in.Version); err != nil {
			t.Fatal(err)
		}
		if _, err := request.Apply(ctx, p.db.DB, request.Env{Now: tick(), Calendar: p.app.calendar}, viewer(who), audit.Actor{Name: who}, w.refs[key], action, in); err != nil {
			t.Fatalf("%s %s (%s): %v", action, key, who, err)
		}
	}
	raise := func(who, key, title, area string) {
		t.Helper()
		seq++
		r, err := request.RaiseEnhancement(ctx, p.db.DB, p.app.calendar, viewer(who), audit.Actor{Name: who}, tick(), request.NewEnhancement{
			SRNumber: fmt.Sprintf("SR%07d", 8880000+seq), Title: title, FunctionalArea: area, Problem: "The problem of " + title,
			Proposal: "The change", AffectedUsers: []string{"manager"}, Urgency: "high", SubmissionToken: fmt.Sprintf("00000000-0000-4000-c000-%012d", seq),
		})
		if err != nil {
			t.Fatal(err)
		}
		w.refs[key], w.ids[key] = r.Reference, r.ID
	}
	// toAssessment takes an accepted request through requirements and justification into impact
	// assessment and completes its assessment.
	toAssessment := func(raiser, key string, effort float64) {
		t.Helper()
		apply(raiser, key, "progress", request.Input{})
		if _, err := request.SaveRequirement(ctx, p.db.DB, viewer(raiser), audit.Actor{Name: raiser}, tick(), w.refs[key], 0, "The change in full"); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{raiser, "developer"} {
			if _, _, err := request.AgreeRequirement(ctx, p.db.DB, viewer(who), audit.Actor{Name: who}, tick(), w.refs[key], 1); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := request.SaveJustificationSection(ctx, p.db.DB, viewer(raiser), audit.Actor{Name: raiser}, tick(), w.refs[key], request.JustificationEdit{
			Section: request.SectionStrategicFit, Answers: request.JustificationAnswers{StrategicFit: &request.StrategicFitAnswers{Policy: "The NHS People Plan", Legislative: "no"}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.db.DB.NewRaw(`UPDATE business_justifications SET submitted_at = ? WHERE request_id = ?`, tick(), w.ids[key]).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		apply("central", key, "submit_for_assessment", request.Input{})
		if _, err := request.SaveAssessment(ctx, p.db.DB, viewer("developer"), audit.Actor{Name: "developer"}, tick(), w.refs[key], request.AssessmentInput{
			EffortSize: "M", EffortDays: &effort, Risks: "Few", Recommendation: "approve", Complete: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	accept := func(key string) {
		apply("central", key, "acknowledge", request.Input{})
		apply("central", key, "classify_enhancement", request.Input{Summary: "What " + key + " asks for"})
	}

	var rels []int64
	for i, r := range []struct {
		number   int
		name     string
		capacity float64
	}{{72, "December 2026", 30}, {73, "March 2027", 60}} {
		rel, err := release.Create(ctx, p.db.DB, viewer("central"), audit.Actor{Name: "central"}, tick(), release.Input{
			Number: r.number, Name: r.name, TargetDate: time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC).AddDate(0, 3*i, 0),
			Status: release.StatusPlanned, CapacityDays: sql.NullFloat64{Float64: r.capacity, Valid: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel.ID)
	}

	// R7: the raiser's, approved, allocated and moved to the next release.
	raise("raiser", "r7", "Dashboard seven is allocated", "Payroll")
	accept("r7")
	toAssessment("raiser", "r7", 20)
	apply("central", "r7", "approve", request.Input{Text: "Worth doing"})
	apply("central", "r7", "allocate", request.Input{ReleaseID: rels[0]})
	var version int
	if err := p.db.DB.NewSelect().Table("requests").Column("version").Where("id = ?", w.ids["r7"]).Scan(ctx, &version); err != nil {
		t.Fatal(err)
	}
	if _, err := release.Move(ctx, p.db.DB, request.Env{Now: tick(), Calendar: p.app.calendar}, viewer("central"), audit.Actor{Name: "central"}, w.refs["r7"],
		release.MoveInput{Version: version, ReleaseID: rels[1], Reason: "December is full"}); err != nil {
		t.Fatal(err)
	}
	// R8: another organisation's, deferred, supported by the raiser's organisation and a Welsh one.
	raise("other_org", "r8", "Dashboard eight is deferred", "Self Service")
	accept("r8")
	for _, who := range []string{"raiser", "nsig_member"} {
		if err := request.Support(ctx, p.db.DB, viewer(who), audit.Actor{Name: who}, tick(), w.refs["r8"], "We want it"); err != nil {
			t.Fatal(err)
		}
	}
	toAssessment("other_org", "r8", 5)
	apply("central", "r8", "defer", request.Input{Text: "Not this year", ReviewOn: p.clock.Now().AddDate(0, 2, 0)})
	// R9: the Welsh organisation's, not taken forward because ESR already does it.
	raise("nsig_member", "r9", "Dashboard nine exists already", "Core HR")
	apply("central", "r9", "acknowledge", request.Input{})
	apply("central", "r9", "not_taken_forward", request.Input{Reason: "existing_functionality", Text: "Use the existing report"})
	// R10: another organisation's, not approved; R11 the raiser's, just raised and left overdue.
	raise("other_org", "r10", "Dashboard ten is not approved", "Payroll")
	accept("r10")
	toAssessment("other_org", "r10", 8)
	apply("central", "r10", "not_approve", request.Input{Text: "Too costly"})
	raise("raiser", "r11", "Dashboard eleven waits for acknowledgement", "Absence")
	// R11's area had no active NSIG when it was raised.
	if _, err := p.db.DB.NewRaw(`UPDATE requests SET nsig_id = NULL WHERE id = ?`, w.ids["r11"]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// R12: another organisation's, for the Payroll NSIG to review.
	raise("other_org", "r12", "Dashboard twelve awaits its raiser", "Payroll")
	accept("r12")

	// Move some of them back in time, everything about them at once.
	shift := func(key string, days int) {
		t.Helper()
		id, d := w.ids[key], fmt.Sprintf("%d days", days)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE requests SET received_at = received_at - ?::interval, ack_due_on = ack_due_on - ?::interval,
				acknowledged_at = acknowledged_at - ?::interval, decided_at = decided_at - ?::interval WHERE id = ?`, []any{d, d, d, d, id}},
			{`UPDATE request_events SET occurred_at = occurred_at - ?::interval WHERE request_id = ?`, []any{d, id}},
			{`UPDATE request_decisions SET decided_at = decided_at - ?::interval WHERE request_id = ?`, []any{d, id}},
			{`UPDATE allocation_moves SET moved_at = moved_at - ?::interval WHERE request_id = ?`, []any{d, id}},
		} {
			if _, err := p.db.DB.NewRaw(q.sql, q.args...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	shift("r8", 100)
	shift("r10", 200)
	shift("r9", 40)
	// R11 is overdue: received a fortnight ago. R7 was acknowledged late.
	shift("r11", 14)
	if _, err := p.db.DB.NewRaw(`UPDATE requests SET received_at = received_at - interval '20 days', ack_due_on = ack_due_on - interval '20 days' WHERE id = ?`,
		w.ids["r7"]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

var (
	figureLink = regexp.MustCompile(`<a\s[^>]*?href="(/requests\?[^"]*)"[^>]*?data-count="(\d+)"[^>]*>`)
	figureText = regexp.MustCompile(`<a class="portal-figure" href="[^"]*" data-count="(\d+)">(\d+)<`)
	listTotal  = regexp.MustCompile(`<h2 class="nhsuk-heading-m" id="requests-total">(\d+) requests?</h2>`)
)

// checkFigures opens a dashboard as b and every figure's list: each count must be the length of the
// list it links to. It returns how many figures it checked and how many were not zero.
func checkFigures(t *testing.T, b *browser, who, page string, lists map[string]int) (int, int) {
	t.Helper()
	res := b.get(page)
	mustStatus(t, res, 200, who+" opens "+page)
	links := figureLink.FindAllStringSubmatch(res.body, -1)
	if len(links) == 0 {
		t.Fatalf("%s: %s shows no figures", who, page)
	}
	for _, m := range figureText.FindAllStringSubmatch(res.body, -1) {
		if m[1] != m[2] {
			t.Errorf("%s: %s shows %s for a figure that counts %s", who, page, m[2], m[1])
		}
	}
	nonZero := 0
	for _, m := range links {
		href := html.UnescapeString(m[1])
		want, _ := strconv.Atoi(m[2])
		if want > 0 {
			nonZero++
		}
		got, seen := lists[href]
		if !seen {
			list := b.get(href)
			mustStatus(t, list, 200, who+" follows "+href)
			total := listTotal.FindStringSubmatch(list.body)
			if total == nil {
				t.Fatalf("%s: %s shows no total\n%s", who, href, excerpt(list.body))
			}
			got, _ = strconv.Atoi(total[1])
			lists[href] = got
		}
		if got != want {
			q, _ := url.ParseQuery(strings.TrimPrefix(href, "/requests?"))
			t.Errorf("%s on %s: a figure shows %d, its list %s has %d (%v)", who, page, want, href, got, q)
		}
	}
	return len(links), nonZero
}

// TestEveryFigureCountsItsList opens each dashboard as each kind of viewer who may open it, follows
// every figure and every bar to the requests list, and checks that the list has as many requests as
// the figure said: a figure never counts more, or less, than the viewer may see.
func TestEveryFigureCountsItsList(t *testing.T) {
	t.Parallel()
	w := plantDashboardWorld(t)
	ctx := context.Background()
	org := func(ods string) int64 {
		o, err := organisation.GetByODS(ctx, w.p.db.DB, ods)
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	raiserOrg, walesOrg := org("ZLN01"), org("ZWA01")
	london, err := organisation.GetByODS(ctx, w.p.db.DB, "ZLN01")
	if err != nil {
		t.Fatal(err)
	}
	var selfService, payroll int64
	for _, id := range w.nsigIDs {
		n, err := nsig.Get(ctx, w.p.db.DB, request.SystemViewer("test"), id)
		if err != nil {
			t.Fatal(err)
		}
		switch n.Name {
		case "Self Service and Portal":
			selfService = id
		case "Payroll and Pensions":
			payroll = id
		}
	}
	year := "?from-day=1&from-month=1&from-year=2026&to-day=20&to-month=11&to-year=2026"
	pages := map[string][]string{
		"central":       {"/dashboard" + year, "/dashboard", fmt.Sprintf("/dashboard/regions/%d%s", london.RegionID, year), fmt.Sprintf("/nsigs/%d", selfService)},
		"developer":     {"/dashboard" + year},
		"fam_region":    {fmt.Sprintf("/dashboard/regions/%d%s", london.RegionID, year)},
		"fam_elsewhere": {fmt.Sprintf("/dashboard/regions/%d%s", london.RegionID, year)},
		"raiser":        {fmt.Sprintf("/dashboard/organisations/%d%s", raiserOrg, year)},
		"other_org":     {fmt.Sprintf("/dashboard/organisations/%d%s", raiserOrg, year)},
		"nsig_member":   {fmt.Sprintf("/dashboard/organisations/%d%s", walesOrg, year), fmt.Sprintf("/nsigs/%d", selfService)},
		"other_nsig":    {fmt.Sprintf("/nsigs/%d", payroll), fmt.Sprintf("/dashboard/organisations/%d%s", walesOrg, year)},
		"admin":         {fmt.Sprintf("/nsigs/%d", selfService)},
	}
	figures, viewers := 0, 0
	for _, who := range leakViewers {
		b := w.p.as(w.users[who])
		lists := map[string]int{}
		viewers++
		nonZero := 0
		for _, page := range pages[who] {
			n, nz := checkFigures(t, b, who, page, lists)
			figures += n
			nonZero += nz
		}
		if nonZero == 0 {
			t.Errorf("%s sees no figure above zero: the world planted nothing they may count", who)
		}
		if who == "central" {
			// Every kind of figure counted something somewhere, so none was checked only at zero.
			for _, param := range []string{"sla=on_time", "sla=late", "sla=overdue", "stage=", "stage-days=", "decision=approved", "decision=deferred",
				"decision=not_approved", "reason=existing_functionality", "release=", "moved=yes", "supporters=", "support-regions=", "view=given",
				"nsig=none", "status=awaiting", "status=open", "area=", "region=", "organisation="} {
				found := false
				for href, n := range lists {
					found = found || (n > 0 && strings.Contains(href, param))
				}
				if !found {
					t.Errorf("no figure with %s counted any request for the central team", param)
				}
			}
			// A reason inside a sentence keeps its acronym: "ESR already does this", never "esr …".
			res := b.get("/dashboard" + year)
			mustContain(t, res.body, "the dashboard", "not taken forward in ")
			if strings.Contains(strings.ToLower(res.body), "esr already does this") && !strings.Contains(res.body, "ESR already does this") ||
				strings.Contains(res.body, "esr already does this") {
				t.Errorf("the dashboard lower-cases ESR:\n%s", excerpt(res.body))
			}
			res = b.get("/requests?decision=not_taken_forward&reason=existing_functionality")
			mustContain(t, res.body, "the list of requests ESR already does", "Not taken forward: ESR already does this")
		}
	}
	t.Logf("%d figures and bars checked against their lists, over %d kinds of viewer", figures, viewers)
}
