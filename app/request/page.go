package request

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// Page is an enhancement request with everything its page shows beside the timeline and the NSIG's
// panel, read in one statement: the latest decision, the supporting organisations, whether the viewer
// follows it, where its requirement definition and justification stand, and its release.
type Page struct {
	EnhancementRequest
	Decision    Decision
	HasDecision bool
	Supporters  []Supporter
	Following   bool
	Work        WorkSummary
	Release     *PageRelease // nil when it is in no release
	// OriginalVisible: the viewer may see the request this one duplicates (its summary at least).
	OriginalVisible bool
}

// PageRelease is the release a request is allocated to (or was delivered in), with its moves.
type PageRelease struct {
	ID         int64
	Number     int
	Name       string
	TargetDate time.Time
	Status     string
	Moves      []PageMove
}

// PageMove is one move of a request between releases.
type PageMove struct {
	FromNumber int       `json:"from_number"`
	ToNumber   int       `json:"to_number"`
	Reason     string    `json:"reason"`
	MovedBy    string    `json:"moved_by"`
	MovedAt    time.Time `json:"moved_at"`
}

// pageRow is Page as the statement returns it.
type pageRow struct {
	Request `bun:",extend"`

	SRNumber           string   `bun:"sr_number"`
	FunctionalArea     string   `bun:"functional_area"`
	Problem            string   `bun:"problem"`
	Proposal           string   `bun:"proposal"`
	AffectedUsers      []string `bun:"affected_users,array"`
	AffectedDetail     string   `bun:"affected_detail"`
	Urgency            string   `bun:"urgency"`
	UrgencyReason      string   `bun:"urgency_reason"`
	OutcomeReason      string   `bun:"outcome_reason"`
	OutcomeExplanation string   `bun:"outcome_explanation"`
	DuplicateOfID      int64    `bun:"duplicate_of_id"`
	DuplicateOfRef     string   `bun:"duplicate_of_reference"`
	DuplicateAccepted  bool     `bun:"duplicate_of_accepted"`
	DuplicateOrgID     int64    `bun:"duplicate_of_organisation_id"`
	DuplicateRegionID  int16    `bun:"duplicate_of_region_id"`
	DuplicateNSIGID    int64    `bun:"duplicate_of_nsig_id"`

	DecisionOutcome   string    `bun:"decision_outcome"`
	DecisionRationale string    `bun:"decision_rationale"`
	DecisionReviewOn  time.Time `bun:"decision_review_on,type:date,nullzero"`
	DecisionBy        string    `bun:"decision_by"`
	DecisionAt        time.Time `bun:"decision_at,nullzero"`

	SupportersJSON []byte `bun:"supporters_json"`
	Following      bool   `bun:"following"`

	RequirementVersion   int                  `bun:"requirement_version"`
	AgreedSides          []string             `bun:"agreed_sides,array"`
	JustificationVersion int                  `bun:"justification_version"`
	Answers              JustificationAnswers `bun:"answers,type:jsonb"`
	SubmittedAt          time.Time            `bun:"submitted_at,nullzero"`
	Attachments          int                  `bun:"attachments"`
	Endorsements         int                  `bun:"endorsements"`

	ReleaseID     int64     `bun:"release_id"`
	ReleaseNumber int       `bun:"release_number"`
	ReleaseName   string    `bun:"release_name"`
	ReleaseTarget time.Time `bun:"release_target,type:date,nullzero"`
	ReleaseStatus string    `bun:"release_status"`
	MovesJSON     []byte    `bun:"moves_json"`
}

// pageSQL is GetPage's statement.
var pageSQL database.FixedSQL

// GetPage returns the enhancement request with the reference and what its page shows, if the viewer
// may see it at all; otherwise problem.ErrNotFound. Only what the access allows is filled in beyond
// the summary: the rest stays empty.
func GetPage(ctx context.Context, db bun.IDB, v Viewer, reference string) (*Page, Access, error) {
	var row pageRow
	// The same text every time, with the reference and the viewer as parameters: planned once a
	// connection.
	text := pageSQL.Text(func() string {
		return selectRequests(db, &row).
			ColumnExpr(`e.sr_number, e.functional_area, e.problem, e.proposal, e.affected_users, e.affected_detail, e.urgency,
				e.urgency_reason, COALESCE(e.outcome_reason, '') AS outcome_reason, e.outcome_explanation,
				COALESCE(e.duplicate_of_id, 0) AS duplicate_of_id, COALESCE(d.reference, '') AS duplicate_of_reference,
				COALESCE(d.accepted, false) AS duplicate_of_accepted, COALESCE(d.organisation_id, 0) AS duplicate_of_organisation_id,
				COALESCE(dorg.region_id, 0) AS duplicate_of_region_id, COALESCE(d.nsig_id, 0) AS duplicate_of_nsig_id`).
			ColumnExpr(`COALESCE(dec.outcome, '') AS decision_outcome, COALESCE(dec.rationale, '') AS decision_rationale,
				dec.review_on AS decision_review_on, COALESCE(dec.decided_by_name, '') AS decision_by, dec.decided_at AS decision_at`).
			ColumnExpr(`COALESCE((SELECT json_agg(json_build_object('organisation_id', s.organisation_id, 'organisation_name', so.name,
					'region_name', srg.name, 'note', s.note, 'created_at', s.created_at) ORDER BY so.name)
				FROM request_supports AS s JOIN organisations AS so ON so.id = s.organisation_id JOIN regions AS srg ON srg.id = so.region_id
				WHERE s.request_id = r.id), '[]') AS supporters_json`).
			ColumnExpr("EXISTS (SELECT 1 FROM request_followers AS f WHERE f.request_id = r.id AND f.user_id = ?) AS following", bun.Safe("?1")).
			ColumnExpr(`COALESCE(lv.version, 0) AS requirement_version,
				ARRAY(SELECT ra.side FROM requirement_agreements AS ra WHERE ra.request_id = r.id AND ra.version = lv.version ORDER BY ra.side) AS agreed_sides,
				COALESCE(bj.version, 0) AS justification_version, COALESCE(bj.answers, '{}'::jsonb) AS answers, bj.submitted_at,
				(SELECT count(*) FROM attachments AS at WHERE at.request_id = r.id) AS attachments,
				(SELECT count(*) FROM justification_endorsements AS je WHERE je.request_id = r.id) AS endorsements`).
			ColumnExpr(`COALESCE(al.release_id, 0) AS release_id, COALESCE(rl.number, 0) AS release_number, COALESCE(rl.name, '') AS release_name,
				rl.target_date AS release_target, COALESCE(rl.status, '') AS release_status,
				CASE WHEN al.release_id IS NULL THEN '[]'::json ELSE COALESCE((SELECT json_agg(json_build_object('from_number', fr.number,
					'to_number', tr.number, 'reason', m.reason, 'moved_by', mu.name, 'moved_at', m.moved_at) ORDER BY m.moved_at, m.id)
					FROM allocation_moves AS m JOIN releases AS fr ON fr.id = m.from_release_id JOIN releases AS tr ON tr.id = m.to_release_id
					JOIN users AS mu ON mu.id = m.moved_by WHERE m.request_id = r.id), '[]') END AS moves_json`).
			Join("JOIN enhancement_requests AS e ON e.request_id = r.id").
			Join("LEFT JOIN requests AS d ON d.id = e.duplicate_of_id").
			Join("LEFT JOIN organisations AS dorg ON dorg.id = d.organisation_id").
			Join(`LEFT JOIN LATERAL (SELECT dd.outcome, dd.rationale, dd.review_on, du.name AS decided_by_name, dd.decided_at
				FROM request_decisions AS dd JOIN users AS du ON du.id = dd.decided_by
				WHERE dd.request_id = r.id ORDER BY dd.decided_at DESC, dd.id DESC LIMIT 1) AS dec ON true`).
			Join("LEFT JOIN LATERAL (SELECT max(version) AS version FROM requirement_versions WHERE request_id = r.id) AS lv ON true").
			Join("LEFT JOIN business_justifications AS bj ON bj.request_id = r.id").
			Join("LEFT JOIN allocations AS al ON al.request_id = r.id AND r.status IN ('allocated', 'delivered')").
			Join("LEFT JOIN releases AS rl ON rl.id = al.release_id").
			Where("r.reference = ?", bun.Safe("?0")).Where("r.kind = ?", KindEnhancement).String()
	})
	err := database.ScanPrepared(ctx, db, text, &row, strings.ToUpper(strings.TrimSpace(reference)), v.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, AccessNone, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	if err != nil {
		return nil, AccessNone, fmt.Errorf("get the page of request %s: %w", reference, err)
	}
	access := v.AccessTo(&row.Request)
	if access == AccessNone {
		return nil, AccessNone, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	p := &Page{
		EnhancementRequest: EnhancementRequest{Request: row.Request, Enhancement: Enhancement{
			RequestID: row.ID, SRNumber: row.SRNumber, FunctionalArea: row.FunctionalArea, Problem: row.Problem, Proposal: row.Proposal,
			AffectedUsers: row.AffectedUsers, AffectedDetail: row.AffectedDetail, Urgency: row.Urgency, UrgencyReason: row.UrgencyReason,
			OutcomeReason: row.OutcomeReason, OutcomeExplanation: row.OutcomeExplanation, DuplicateOfID: row.DuplicateOfID,
			DuplicateOfReference: row.DuplicateOfRef,
		}},
		Following: row.Following,
		Work: WorkSummary{RequirementVersion: row.RequirementVersion, AgreedSides: row.AgreedSides, JustificationVersion: row.JustificationVersion,
			Answers: row.Answers, SubmittedAt: row.SubmittedAt, Attachments: row.Attachments, Endorsements: row.Endorsements},
	}
	if row.DecisionOutcome != "" {
		p.HasDecision = true
		p.Decision = Decision{Outcome: row.DecisionOutcome, Rationale: row.DecisionRationale, ReviewOn: row.DecisionReviewOn,
			DecidedByName: row.DecisionBy, DecidedAt: row.DecisionAt}
	}
	if row.DuplicateOfID != 0 {
		orig := Request{ID: row.DuplicateOfID, Accepted: row.DuplicateAccepted, OrganisationID: row.DuplicateOrgID,
			RegionID: row.DuplicateRegionID, NSIGID: row.DuplicateNSIGID}
		p.OriginalVisible = v.AccessTo(&orig) >= AccessSummary
	}
	if err := json.Unmarshal(row.SupportersJSON, &p.Supporters); err != nil {
		return nil, AccessNone, fmt.Errorf("read supporters of %s: %w", reference, err)
	}
	if row.ReleaseID != 0 {
		p.Release = &PageRelease{ID: row.ReleaseID, Number: row.ReleaseNumber, Name: row.ReleaseName, TargetDate: row.ReleaseTarget, Status: row.ReleaseStatus}
		if err := json.Unmarshal(row.MovesJSON, &p.Release.Moves); err != nil {
			return nil, AccessNone, fmt.Errorf("read moves of %s: %w", reference, err)
		}
	}
	return p, access, nil
}
