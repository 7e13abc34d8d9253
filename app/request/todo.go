package request

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
)

// ToDo is the enhancement requests waiting on a viewer, counted for their home page. Only requests the
// viewer may see are counted, by the access rule (Viewer.Where), and each count that needs more than
// the summary (a question, a justification) counts only requests the viewer sees in full.
type ToDo struct {
	// For the raising organisation (its requesters and NSIG members).
	Questions    int `bun:"questions"`    // the central team's questions to answer
	Decisions    int `bun:"decisions"`    // requests to decide whether to take forward
	Requirements int `bun:"requirements"` // requests whose requirement and justification are being written
	// For the central team.
	AckOverdue int `bun:"ack_overdue"` // not acknowledged by their due date
	ToTriage   int `bun:"to_triage"`   // submitted or in triage
	Assessing  int `bun:"assessing"`   // in impact assessment
	ToDecide   int `bun:"to_decide"`   // in impact assessment with the assessment complete
	ToAllocate int `bun:"to_allocate"` // approved, waiting for a release
	ReviewsDue int `bun:"reviews_due"` // deferred, their review date come
	// For the development team.
	AssessMine       int `bun:"assess_mine"`       // impact assessments assigned to the viewer, not complete
	AssessUnassigned int `bun:"assess_unassigned"` // impact assessments nobody has taken
	ToAgree          int `bun:"to_agree"`          // requirement definitions the development team has not agreed
	Defining         int `bun:"defining"`          // requests whose requirement and justification are being written
	// For functional account managers and NSIG members.
	ToEndorse int `bun:"to_endorse"` // submitted justifications the viewer may endorse and has not
}

// ToDoFor counts what waits on the viewer today (a London date) in one statement.
func ToDoFor(ctx context.Context, db bun.IDB, v Viewer, today time.Time) (*ToDo, error) {
	raiser := v.Has(identity.RoleRequester) || v.Has(identity.RoleNSIGMember)
	endorser := v.Has(identity.RoleFunctionalAccountManager) || v.Has(identity.RoleNSIGMember)
	out := new(ToDo)
	q := db.NewSelect().TableExpr("requests AS r").
		Join("LEFT JOIN impact_assessments AS ia ON ia.request_id = r.id").
		Join("LEFT JOIN business_justifications AS bj ON bj.request_id = r.id").
		Where("r.kind = ?", KindEnhancement).
		ColumnExpr("count(*) FILTER (WHERE ? AND r.organisation_id = ? AND r.status = ?) AS questions", raiser, v.OrganisationID, StatusInformationRequested).
		ColumnExpr("count(*) FILTER (WHERE ? AND r.organisation_id = ? AND r.status = ?) AS decisions", raiser, v.OrganisationID, StatusAwaitingRequesterDecision).
		ColumnExpr("count(*) FILTER (WHERE ? AND r.organisation_id = ? AND r.status = ?) AS requirements", raiser, v.OrganisationID, StatusRequirementsJustification)
	if v.Has(identity.RoleCentralTeam) {
		q = q.
			ColumnExpr("count(*) FILTER (WHERE r.acknowledged_at IS NULL AND r.ack_due_on < ?) AS ack_overdue", Day(today)).
			ColumnExpr("count(*) FILTER (WHERE r.status IN (?)) AS to_triage", bun.List([]Status{StatusSubmitted, StatusInTriage})).
			ColumnExpr("count(*) FILTER (WHERE r.status = ?) AS assessing", StatusImpactAssessment).
			ColumnExpr("count(*) FILTER (WHERE r.status = ? AND ia.completed_at IS NOT NULL) AS to_decide", StatusImpactAssessment).
			ColumnExpr("count(*) FILTER (WHERE r.status = ?) AS to_allocate", StatusApproved).
			ColumnExpr("count(*) FILTER (WHERE r.status = ? AND r.review_on <= ?) AS reviews_due", StatusDeferred, Day(today))
	}
	if v.Has(identity.RoleDevelopmentTeam) {
		q = q.
			ColumnExpr("count(*) FILTER (WHERE r.status = ? AND ia.assessor_id = ? AND ia.completed_at IS NULL) AS assess_mine", StatusImpactAssessment, v.UserID).
			ColumnExpr("count(*) FILTER (WHERE r.status = ? AND ia.assessor_id IS NULL) AS assess_unassigned", StatusImpactAssessment).
			ColumnExpr(`count(*) FILTER (WHERE r.status = ? AND EXISTS (SELECT FROM requirement_versions AS rv WHERE rv.request_id = r.id)
				AND NOT EXISTS (SELECT FROM requirement_agreements AS ra WHERE ra.request_id = r.id AND ra.side = 'development'
					AND ra.version = (SELECT max(version) FROM requirement_versions AS lv WHERE lv.request_id = r.id))) AS to_agree`,
				StatusRequirementsJustification).
			ColumnExpr("count(*) FILTER (WHERE r.status = ?) AS defining", StatusRequirementsJustification)
	}
	if endorser {
		cond, args := v.endorsable()
		q = q.ColumnExpr("count(*) FILTER (WHERE "+cond+") AS to_endorse", args...)
	}
	if err := v.Where(q, AccessSummary).Scan(ctx, out); err != nil {
		return nil, fmt.Errorf("count the work waiting on user %d: %w", v.UserID, err)
	}
	return out, nil
}

// endorsable is the condition, over requests r with their justification bj, that the viewer may
// endorse the request's business justification now and has not: they see it in full (the access
// rule), it is submitted and still open to endorsements, they are not from the raising organisation,
// and they may speak for a region (as its functional account manager, or holding an NSIG seat).
func (v Viewer) endorsable() (string, []any) {
	full, args := v.condition(AccessFull)
	return full + ` AND r.status IN (?) AND bj.submitted_at IS NOT NULL AND r.organisation_id <> ?
			AND NOT EXISTS (SELECT FROM justification_endorsements AS je WHERE je.request_id = r.id AND je.user_id = ?)
			AND (? OR EXISTS (SELECT FROM nsig_appointments AS ap WHERE ap.user_id = ? AND ap.ended_at IS NULL))`,
		append(args, bun.List([]Status{StatusRequirementsJustification, StatusImpactAssessment}), v.OrganisationID, v.UserID,
			v.Has(identity.RoleFunctionalAccountManager), v.UserID)
}

// ToEndorse lists, oldest first, up to limit requests whose business justification the viewer may
// endorse and has not (see ToDo.ToEndorse).
func ToEndorse(ctx context.Context, db bun.IDB, v Viewer, limit int) ([]Summary, error) {
	if !v.Has(identity.RoleFunctionalAccountManager) && !v.Has(identity.RoleNSIGMember) {
		return nil, nil
	}
	cond, args := v.endorsable()
	var out []Summary
	q := db.NewSelect().TableExpr("requests AS r").ColumnExpr("r.reference, r.title").
		Join("JOIN business_justifications AS bj ON bj.request_id = r.id").
		Where(cond, args...).OrderExpr("bj.submitted_at, r.id").Limit(int64(limit))
	if err := v.Where(q, AccessSummary).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list justifications user %d may endorse: %w", v.UserID, err)
	}
	return out, nil
}

// Summary is a request named by its reference and title.
type Summary struct {
	Reference string `bun:"reference"`
	Title     string `bun:"title"`
}
