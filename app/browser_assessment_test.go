package app

import (
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/app/workday"
)

// demoRequestInAssessment takes the first demo request waiting for its requirement definition and
// justification into impact assessment: the agreed definition and the submitted justification are
// written directly (their pages are not part of this test), then the central team sends it on.
func demoRequestInAssessment(t *testing.T, db *bun.DB) string {
	t.Helper()
	ctx := t.Context()
	var r struct {
		ID        int64  `bun:"id"`
		Reference string `bun:"reference"`
		RaisedBy  int64  `bun:"raised_by_id"`
	}
	if err := db.NewSelect().Table("requests").Column("id", "reference", "raised_by_id").
		Where("status = ?", request.StatusRequirementsJustification).Order("id").Limit(1).Scan(ctx, &r); err != nil {
		t.Fatalf("find a demo request in requirements and justification: %v", err)
	}
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := identity.GetByEmail(ctx, db, "developer@demo.esr-portal.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO requirement_versions (request_id, version, body, author_id, created_at)
			SELECT ?, COALESCE(max(version), 0) + 1, 'Remind employees 90, 60 and 30 days before a competence expires.', ?, now()
			FROM requirement_versions WHERE request_id = ?`, []any{r.ID, r.RaisedBy, r.ID}},
		{`INSERT INTO requirement_agreements (request_id, side, version, user_id, agreed_at)
			SELECT ?, side, (SELECT max(version) FROM requirement_versions WHERE request_id = ?), u, now()
			FROM (VALUES ('requester', ?::bigint), ('development', ?::bigint)) AS s (side, u)
			ON CONFLICT (request_id, side) DO UPDATE SET version = EXCLUDED.version, user_id = EXCLUDED.user_id`,
			[]any{r.ID, r.ID, r.RaisedBy, dev.ID}},
		{`INSERT INTO business_justifications (request_id, submitted_at, updated_at) VALUES (?, now(), now())
			ON CONFLICT (request_id) DO UPDATE SET submitted_at = now()`, []any{r.ID}},
	} {
		if _, err := db.NewRaw(stmt.sql, stmt.args...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	v, err := request.ViewerFor(ctx, db, central)
	if err != nil {
		t.Fatal(err)
	}
	var version int
	if err := db.NewSelect().Table("requests").Column("version").Where("id = ?", r.ID).Scan(ctx, &version); err != nil {
		t.Fatal(err)
	}
	if _, err := request.Apply(ctx, db, request.Env{Now: time.Now(), Calendar: workday.New()}, v, audit.Actor{Name: "test"},
		r.Reference, "submit_for_assessment", request.Input{Version: version}); err != nil {
		t.Fatal(err)
	}
	return r.Reference
}

// TestBrowserAssessmentAndDecision: the development team finds a demo request in its queue and
// completes the impact assessment, after a cost the form cannot read; the central team reads the
// assessment on the decision page and approves the request with a rationale. Every page is checked
// with axe.
func TestBrowserAssessmentAndDecision(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	db := p.db
	ref := demoRequestInAssessment(t, db)
	assessment := "/requests/" + ref + "/assessment"
	complete := `form[action="` + assessment + `"] button[name="action"][value="complete"]`

	dev := openTab(t, p)
	dev.visit("/sign-in")
	dev.signIn(p.account(t, identity.RoleDevelopmentTeam).Email, seed.DemoPassword)
	dev.visit("/assessments")
	dev.wantStatus(200, "the development team's queue")
	dev.wantText("main", "Waiting for my assessment", ref, "Not started")
	dev.submit(`main table a[href="` + assessment + `"]`)
	dev.wantStatus(200, "the assessment form")
	dev.wantText("h1", "Impact assessment")

	dev.tick("effort_size", "M")
	dev.typeInto("effort_days", "8.5")
	dev.tick("modules", "Self Service")
	dev.typeIntoTextarea("interfaces", "None: the reminder uses the existing notification framework.")
	dev.typeIntoTextarea("risks", "Reminder volumes at month end; none if we do not make it.")
	dev.typeInto("cost", "12.500,00")
	dev.tick("recommendation", "approve")
	dev.submit(complete)
	dev.wantStatus(422, "a cost the form cannot read")
	dev.wantText(".nhsuk-error-summary", "Enter the cost in pounds, like 12,500 or 12500.50")
	if got := dev.value("risks"); !strings.Contains(got, "Reminder volumes") {
		t.Errorf("the risks typed are now %q", got)
	}
	if !dev.checked("effort_size-2") || !dev.checked("recommendation") {
		t.Error("the effort size or the recommendation chosen was lost")
	}

	dev.typeInto("cost", "12,500")
	dev.submit(complete)
	dev.wantStatus(200, "after completing")
	dev.wantPath("/requests/"+ref, "after completing")
	dev.wantText("main", "Impact assessment completed: recommendation to approve.", "M (Medium), 8.5 days", "£12,500")

	central := openTab(t, p)
	central.visit("/sign-in")
	central.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	central.visit("/requests/" + ref)
	central.wantText("main", "Impact assessment", "Approve")
	central.submit(`a[href="/requests/` + ref + `/actions/approve"]`)
	central.wantStatus(200, "the approve page")
	central.wantText("main", "M (Medium), 8.5 days", "£12,500", "Reminder volumes at month end")
	central.typeIntoTextarea("text", "Clear benefits for every organisation at modest effort.")
	central.submit(`form[action="/requests/` + ref + `/actions/approve"] button[type="submit"]`)
	central.wantStatus(200, "after approving")
	central.wantText("main", "Approved", "Clear benefits for every organisation at modest effort.")

	central.visit("/reviews")
	central.wantStatus(200, "the review queue")
	central.wantText("h1", "Due for review")
}
