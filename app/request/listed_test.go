package request_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/catalogue"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

func TestListRequestReferencesAndLabel(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	role := w.raiseRole("Menopause Champion")
	comp := w.raiseCompetence("Oliver McGowan Mandatory Training - Tier 1")
	if role.Reference != "SRR-2026-0001" || comp.Reference != "NCR-2026-0001" {
		t.Errorf("references %s and %s, want SRR-2026-0001 and NCR-2026-0001", role.Reference, comp.Reference)
	}
	// The acknowledgement clock applies to every kind: Friday 20 November 2026 + 5 working days.
	if got := role.AckDueOn.Format("2006-01-02"); got != "2026-11-27" {
		t.Errorf("acknowledgement due %s", got)
	}
	nc, access, err := request.GetNationalCompetency(ctx, w.db, w.v["raiser"], comp.Reference)
	if err != nil || access != request.AccessFull {
		t.Fatalf("raiser reads the competency request: %v %v", access, err)
	}
	want := "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 3 Years|"
	if nc.Label != want || nc.Title != want {
		t.Errorf("label %q, title %q, want %q", nc.Label, nc.Title, want)
	}
	if _, _, err := request.GetSupplementaryRole(ctx, w.db, w.v["raiser"], comp.Reference); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("a competency request read as a role request: %v", err)
	}
	if request.KindOf("srr-2026-0001") != request.KindSupplementaryRole || request.KindOf(comp.Reference) != request.KindNationalCompetency ||
		request.KindOf("ENH-2026-0001") != request.KindEnhancement {
		t.Error("KindOf does not follow the reference prefixes")
	}
}

// TestInputLevelRuleWhenRaising: employee input is only for roles linked to the wellbeing agenda.
func TestInputLevelRuleWhenRaising(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		level     string
		wellbeing bool
		ok        bool
	}{
		{"employee", false, false},
		{"employee", true, true},
		{"manager", false, true},
		{"manager", true, true},
		{"professional_user", false, true},
		{"professional_user", true, true},
		{"supervisor", true, false},
		{"", false, false},
	}
	for i, c := range cases {
		_, err := request.RaiseSupplementaryRole(context.Background(), w.db, w.cal, w.v["raiser"], audit.Actor{Name: "t"}, w.now, request.NewSupplementaryRole{
			RoleName: "Role " + c.level, Duties: "d", InputLevel: c.level, Wellbeing: c.wellbeing, Justification: "j", Benefits: "b",
			SubmissionToken: "00000000-0000-4000-9000-00000000010" + string(rune('0'+i)),
		})
		var rule *request.RuleError
		switch {
		case c.ok && err != nil:
			t.Errorf("%s input, wellbeing %v: refused: %v", c.level, c.wellbeing, err)
		case !c.ok && (!errors.As(err, &rule) || rule.Field != "input_level"):
			t.Errorf("%s input, wellbeing %v: %v, want a rule error on input_level", c.level, c.wellbeing, err)
		case !c.ok && c.level == "employee" && !strings.Contains(rule.Message, "wellbeing agenda"):
			t.Errorf("the refusal does not explain the rule: %q", rule.Message)
		}
	}
	// The database holds the rule too.
	_, err := w.db.NewRaw(`INSERT INTO supplementary_roles (name, input_level, wellbeing, added_at) VALUES ('Sneaky', 'employee', false, now())`).Exec(context.Background())
	if err == nil {
		t.Error("the list took an employee-input role not linked to wellbeing")
	}
}

func TestApprovingAddsToTheListInTheSameTransaction(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	role := w.raiseRole("Menopause Champion")
	again := w.raiseRole("menopause champion")
	comp := w.raiseCompetence("Oliver McGowan Mandatory Training - Tier 1")
	for _, r := range []*request.Request{role, again, comp} {
		if _, err := w.apply("central", r, "acknowledge", request.Input{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.apply("central", role, "approve", request.Input{Text: "Welcome addition"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.apply("central", comp, "approve", request.Input{}); err != nil {
		t.Fatal(err)
	}
	roles, err := catalogue.Roles(ctx, w.db, "menopause")
	if err != nil || len(roles) != 1 || roles[0].RequestReference != role.Reference || roles[0].InputLevel != "manager" {
		t.Fatalf("roles list after approval: %+v %v", roles, err)
	}
	comps, err := catalogue.Competences(ctx, w.db, "McGowan", "")
	if err != nil || len(comps) != 1 || comps[0].Label != "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 3 Years|" || comps[0].RequestReference != comp.Reference {
		t.Fatalf("competence list after approval: %+v %v", comps, err)
	}
	// A second request for the same role cannot be approved: the whole transition rolls back.
	_, err = w.apply("central", again, "approve", request.Input{})
	var rule *request.RuleError
	if !errors.As(err, &rule) || !strings.Contains(rule.Message, "already on the supplementary roles list") {
		t.Fatalf("approving a role already listed: %v", err)
	}
	var status string
	if err := w.db.NewSelect().Table("requests").Column("status").Where("id = ?", again.ID).Scan(ctx, &status); err != nil {
		t.Fatal(err)
	}
	if status != string(request.StatusUnderReview) {
		t.Errorf("a refused approval left the request %s", status)
	}
	// Rejecting needs a reason, which is kept with the answers and shown to the requester.
	if _, err := w.apply("central", again, "reject", request.Input{}); !errors.As(err, &rule) || rule.Field != "text" {
		t.Fatalf("reject without a reason: %v", err)
	}
	if _, err := w.apply("central", again, "reject", request.Input{Text: "Already on the list as Menopause Champion."}); err != nil {
		t.Fatal(err)
	}
	sr, _, err := request.GetSupplementaryRole(ctx, w.db, w.v["raiser"], again.Reference)
	if err != nil || sr.OutcomeReason != "Already on the list as Menopause Champion." || sr.Status != request.StatusRejected {
		t.Errorf("rejected request: %+v %v", sr, err)
	}
}

func TestListRequestLifecycleWithNotifications(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raiseCompetence("Sepsis Awareness")
	steps := []struct {
		who, action string
		in          request.Input
		to          request.Status
	}{
		{"central", "acknowledge", request.Input{}, request.StatusUnderReview},
		{"central", "request_information", request.Input{Text: "Which national course?"}, request.StatusInformationRequested},
		{"raiser", "answer", request.Input{Text: "The e-learning for healthcare course."}, request.StatusUnderReview},
		{"central", "approve", request.Input{}, request.StatusApproved},
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
	var events []string
	if err := w.db.NewSelect().Table("notifications").Column("event").Where("user_id = ?", w.v["raiser"].UserID).Order("id").Scan(ctx, &events); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(events, ","); got != "acknowledged,information_requested,decided" {
		t.Errorf("raiser was told %s", got)
	}
	entries, err := request.Timeline(ctx, w.db, r.ID, request.AccessFull)
	if err != nil || len(entries) != 1+len(steps) {
		t.Fatalf("%d timeline entries (%v)", len(entries), err)
	}
	if s := entries[len(entries)-1].Event.Summary; !strings.Contains(s, "NHS|MAND|Sepsis Awareness - 3 Years|") {
		t.Errorf("approval entry %q does not name the label", s)
	}
	var audited int
	if err := w.db.NewSelect().Table("audit_events").ColumnExpr("count(*)").Where("entity_id = ?", r.Reference).Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if audited != 1+len(steps) {
		t.Errorf("%d audit events, want %d", audited, 1+len(steps))
	}
}

// TestListRequestAccess: before a decision only the raising organisation, its region's FAM and the
// central team see a list request; once approved, everyone signed in sees its summary, because the
// list links to it.
func TestListRequestAccess(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raiseRole("Armed Forces Champion")
	want := map[string][2]request.Access{ // before approval, after
		"raiser":        {request.AccessFull, request.AccessFull},
		"other_org":     {request.AccessNone, request.AccessSummary},
		"nsig_member":   {request.AccessNone, request.AccessSummary},
		"other_nsig":    {request.AccessNone, request.AccessSummary},
		"fam_region":    {request.AccessFull, request.AccessFull},
		"fam_elsewhere": {request.AccessNone, request.AccessSummary},
		"central":       {request.AccessInternal, request.AccessInternal},
		"developer":     {request.AccessNone, request.AccessInternal},
		"admin":         {request.AccessNone, request.AccessSummary},
	}
	check := func(phase int) {
		for who, acc := range want {
			_, got, err := request.GetSupplementaryRole(ctx, w.db, w.v[who], r.Reference)
			if acc[phase] == request.AccessNone {
				if !errors.Is(err, problem.ErrNotFound) {
					t.Errorf("phase %d: %s may see it: %v", phase, who, err)
				}
			} else if err != nil || got != acc[phase] {
				t.Errorf("phase %d: %s has access %v (%v), want %v", phase, who, got, err, acc[phase])
			}
			rows, _, err := request.List(ctx, w.db, w.v[who], request.Filter{Kind: request.KindSupplementaryRole})
			if wantRows := map[bool]int{true: 1, false: 0}[acc[phase] != request.AccessNone]; err != nil || len(rows) != wantRows {
				t.Errorf("phase %d: %s lists %d requests (%v), want %d", phase, who, len(rows), err, wantRows)
			}
		}
	}
	check(0)
	// Nobody but the raising organisation may act for it, and only the central team decides.
	if _, err := w.apply("other_org", r, "withdraw", request.Input{Text: "not mine"}); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("another organisation withdrew it: %v", err)
	}
	if _, err := w.apply("fam_region", r, "acknowledge", request.Input{}); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("the FAM started the review: %v", err)
	}
	for _, a := range []string{"acknowledge", "approve"} {
		if _, err := w.apply("central", r, a, request.Input{}); err != nil {
			t.Fatal(err)
		}
	}
	check(1)
}

// TestOpenSimilarShowsOnlyWhatTheViewerMaySee: an open list request is the raising organisation's until
// a decision, so another organisation typing a similar name learns nothing of it, not even a count.
func TestOpenSimilarShowsOnlyWhatTheViewerMaySee(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.raiseRole("Menopause Champion")
	seen, err := request.OpenSimilar(ctx, w.db, w.v["raiser"], request.KindSupplementaryRole, "menopause champion")
	if err != nil || len(seen) != 1 {
		t.Errorf("the raiser's own open request: %+v, %v", seen, err)
	}
	seen, err = request.OpenSimilar(ctx, w.db, w.v["other_org"], request.KindSupplementaryRole, "Menopause Champions")
	if err != nil || len(seen) != 0 {
		t.Errorf("another organisation's open request: %+v, %v", seen, err)
	}
	seen, err = request.OpenSimilar(ctx, w.db, w.v["central"], request.KindSupplementaryRole, "Menopause Champions")
	if err != nil || len(seen) != 1 {
		t.Errorf("the central team sees every open request: %+v, %v", seen, err)
	}
	if seen, err = request.OpenSimilar(ctx, w.db, w.v["raiser"], request.KindSupplementaryRole, "Fire Warden"); err != nil || len(seen) != 0 {
		t.Errorf("an unrelated role: %+v, %v", seen, err)
	}
}

// TestListRequestsCannotBeSupported: support is for enhancement requests; a list request, once
// approved and visible to all, is not one.
func TestListRequestsCannotBeSupported(t *testing.T) {
	w := newWorld(t)
	r := w.raiseRole("Digital Champion")
	for _, a := range []string{"acknowledge", "approve"} {
		if _, err := w.apply("central", r, a, request.Input{}); err != nil {
			t.Fatal(err)
		}
	}
	var rule *request.RuleError
	if err := request.Support(context.Background(), w.db, w.v["other_org"], audit.Actor{Name: "o"}, w.now, r.Reference, ""); !errors.As(err, &rule) {
		t.Errorf("another organisation supported a role request: %v", err)
	}
}
