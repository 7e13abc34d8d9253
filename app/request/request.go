// Package request holds the requests organisations raise — enhancement requests, supplementary role
// requests and national competency requests — with what they share: references, the lifecycle applied
// from one declarative transition table, the timeline, comments, supports, followers, and the rules of
// who may see what.
package request

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// Kinds of request.
const (
	KindEnhancement = "enhancement"
)

// Status is where a request stands in its lifecycle.
type Status string

// Enhancement request statuses (DESIGN §3).
const (
	StatusSubmitted                 Status = "submitted"
	StatusInTriage                  Status = "in_triage"
	StatusInformationRequested      Status = "information_requested"
	StatusAwaitingRequesterDecision Status = "awaiting_requester_decision"
	StatusNotTakenForward           Status = "not_taken_forward"
	StatusWithdrawn                 Status = "withdrawn"
	StatusRequirementsJustification Status = "requirements_and_justification"
	StatusImpactAssessment          Status = "impact_assessment"
	StatusApproved                  Status = "approved"
	StatusDeferred                  Status = "deferred"
	StatusNotApproved               Status = "not_approved"
	StatusAllocated                 Status = "allocated"
	StatusDelivered                 Status = "delivered"
)

// StatusInfo is how a status reads and looks.
type StatusInfo struct {
	Status Status
	Label  string
	Colour string // an NHS tag colour
}

// Statuses lists every status in lifecycle order, with its label and tag colour.
var Statuses = []StatusInfo{
	{StatusSubmitted, "Submitted", "grey"},
	{StatusInTriage, "In triage", "blue"},
	{StatusUnderReview, "Under review", "blue"},
	{StatusInformationRequested, "Information requested", "yellow"},
	{StatusAwaitingRequesterDecision, "Awaiting requester decision", "orange"},
	{StatusRequirementsJustification, "Requirements and justification", "purple"},
	{StatusImpactAssessment, "Impact assessment", "purple"},
	{StatusApproved, "Approved", "aqua-green"},
	{StatusDeferred, "Deferred", "yellow"},
	{StatusAllocated, "Allocated to a release", "aqua-green"},
	{StatusDelivered, "Delivered", "green"},
	{StatusNotApproved, "Not approved", "red"},
	{StatusNotTakenForward, "Not taken forward", "red"},
	{StatusRejected, "Rejected", "red"},
	{StatusWithdrawn, "Withdrawn", "white"},
}

// Info returns the label and colour of a status.
func (s Status) Info() StatusInfo {
	for _, i := range Statuses {
		if i.Status == s {
			return i
		}
	}
	return StatusInfo{Status: s, Label: string(s), Colour: "grey"}
}

// Label is the status in words.
func (s Status) Label() string { return s.Info().Label }

// Closed reports whether nothing more will happen to a request in this status.
func (s Status) Closed() bool {
	return s == StatusNotTakenForward || s == StatusWithdrawn || s == StatusNotApproved || s == StatusDelivered || s == StatusRejected
}

// Urgencies a requester can choose.
var Urgencies = []struct{ Value, Label, Hint string }{
	{"critical", "Critical", "A statutory or mandatory deadline depends on it"},
	{"high", "High", "Significant risk, cost or burden until it changes"},
	{"medium", "Medium", "A clear improvement that can wait for a normal release"},
	{"low", "Low", "Nice to have"},
}

// AffectedUsers are the groups of ESR users a change can affect.
var AffectedUsers = []struct{ Value, Label string }{
	{"employee", "Employees (Employee Self Service)"},
	{"manager", "Managers and supervisors (Manager Self Service)"},
	{"professional_user", "Professional users (core ESR forms)"},
}

// OutcomeReasons are why triage does not take a request forward.
var OutcomeReasons = []struct{ Value, Label, Hint string }{
	{"existing_functionality", "ESR already does this", "Explain how to do it with existing functionality"},
	{"defect", "It is a defect, not an enhancement", "The requester should log it with the Service Desk as a defect"},
	{"conflicts_with_policy", "It conflicts with national policy", "Say which policy"},
	{"duplicate", "It duplicates another request", "Its supporters are carried over to the original"},
	{"out_of_scope", "It is out of scope for ESR", ""},
}

// OutcomeReasonLabel returns the words for an outcome reason code.
func OutcomeReasonLabel(code string) string {
	for _, r := range OutcomeReasons {
		if r.Value == code {
			return r.Label
		}
	}
	return code
}

// Request is what every kind of request shares.
type Request struct {
	bun.BaseModel `bun:"table:requests,alias:r"`

	ID              int64     `bun:"id,pk,autoincrement"`
	Kind            string    `bun:"kind"`
	Reference       string    `bun:"reference"`
	Title           string    `bun:"title"`
	Status          Status    `bun:"status"`
	OrganisationID  int64     `bun:"organisation_id"`
	RaisedByID      int64     `bun:"raised_by_id"`
	NSIGID          int64     `bun:"nsig_id,nullzero"`
	AssigneeID      int64     `bun:"assignee_id,nullzero"`
	ReceivedAt      time.Time `bun:"received_at"`
	AckDueOn        time.Time `bun:"ack_due_on,type:date"`
	AcknowledgedAt  time.Time `bun:"acknowledged_at,nullzero"`
	InfoDueOn       time.Time `bun:"info_due_on,type:date,nullzero"`
	DecidedAt       time.Time `bun:"decided_at,nullzero"`
	Accepted        bool      `bun:"accepted"`
	PublicSummary   string    `bun:"public_summary"`
	SubmissionToken string    `bun:"submission_token,type:uuid"`
	Version         int       `bun:"version"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`

	// Read with the request.
	OrganisationName string `bun:"organisation_name,scanonly"`
	RegionID         int16  `bun:"region_id,scanonly"`
	RegionName       string `bun:"region_name,scanonly"`
	RaisedByName     string `bun:"raised_by_name,scanonly"`
	NSIGName         string `bun:"nsig_name,scanonly"`
	AssigneeName     string `bun:"assignee_name,scanonly"`
	SupportCount     int    `bun:"support_count,scanonly"`
	SupportRegions   int    `bun:"support_regions,scanonly"`
}

// Enhancement is an enhancement request's own answers and triage outcome.
type Enhancement struct {
	bun.BaseModel `bun:"table:enhancement_requests,alias:e"`

	RequestID          int64    `bun:"request_id,pk"`
	SRNumber           string   `bun:"sr_number"`
	FunctionalArea     string   `bun:"functional_area"`
	Problem            string   `bun:"problem"`
	Proposal           string   `bun:"proposal"`
	AffectedUsers      []string `bun:"affected_users,array"`
	AffectedDetail     string   `bun:"affected_detail"`
	Urgency            string   `bun:"urgency"`
	UrgencyReason      string   `bun:"urgency_reason"`
	OutcomeReason      string   `bun:"outcome_reason,nullzero"`
	OutcomeExplanation string   `bun:"outcome_explanation"`
	DuplicateOfID      int64    `bun:"duplicate_of_id,nullzero"`

	DuplicateOfReference string `bun:"duplicate_of_reference,scanonly"`
}

// EnhancementRequest is a whole enhancement request.
type EnhancementRequest struct {
	Request
	Enhancement
}

// requestColumns are the columns of requests that Request holds: all but the search vector.
const requestColumns = `r.id, r.kind, r.reference, r.title, r.status, r.organisation_id, r.raised_by_id, r.nsig_id,
	r.assignee_id, r.received_at, r.ack_due_on, r.acknowledged_at, r.info_due_on, r.decided_at, r.accepted, r.public_summary,
	r.submission_token, r.version, r.created_at, r.updated_at`

// selectRequests reads requests with the names pages show beside them.
func selectRequests(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).
		ColumnExpr(requestColumns).
		ColumnExpr("o.name AS organisation_name, o.region_id AS region_id, rg.name AS region_name").
		ColumnExpr("rb.name AS raised_by_name").
		ColumnExpr("COALESCE(n.name, '') AS nsig_name").
		ColumnExpr("COALESCE(a.name, '') AS assignee_name").
		ColumnExpr("(SELECT count(*) FROM request_supports AS s WHERE s.request_id = r.id) AS support_count").
		ColumnExpr(`(SELECT count(DISTINCT so.region_id) FROM request_supports AS s
			JOIN organisations AS so ON so.id = s.organisation_id WHERE s.request_id = r.id) AS support_regions`).
		Join("JOIN organisations AS o ON o.id = r.organisation_id").
		Join("JOIN regions AS rg ON rg.id = o.region_id").
		Join("JOIN users AS rb ON rb.id = r.raised_by_id").
		Join("LEFT JOIN nsigs AS n ON n.id = r.nsig_id").
		Join("LEFT JOIN users AS a ON a.id = r.assignee_id")
}

// enhancementRow is what GetEnhancement reads.
type enhancementRow struct {
	Request `bun:",extend"`
	E       Enhancement `bun:"embed:e_"`
}

// enhancementSQL is GetEnhancement's statement.
var enhancementSQL database.FixedSQL

// GetEnhancement returns the enhancement request with the reference, if the viewer may see it at all;
// otherwise problem.ErrNotFound, so that nobody learns which references exist. It is one statement.
func GetEnhancement(ctx context.Context, db bun.IDB, v Viewer, reference string) (*EnhancementRequest, Access, error) {
	var row enhancementRow
	// The same text every time, the reference a parameter: planned once a connection.
	text := enhancementSQL.Text(func() string {
		return selectRequests(db, &row).
			ColumnExpr(`e.request_id AS e_request_id, e.sr_number AS e_sr_number, e.functional_area AS e_functional_area,
			e.problem AS e_problem, e.proposal AS e_proposal, e.affected_users AS e_affected_users, e.affected_detail AS e_affected_detail,
			e.urgency AS e_urgency, e.urgency_reason AS e_urgency_reason, e.outcome_reason AS e_outcome_reason,
			e.outcome_explanation AS e_outcome_explanation, e.duplicate_of_id AS e_duplicate_of_id,
			COALESCE(d.reference, '') AS e_duplicate_of_reference`).
			Join("JOIN enhancement_requests AS e ON e.request_id = r.id").
			Join("LEFT JOIN requests AS d ON d.id = e.duplicate_of_id").
			Where("r.reference = ?", bun.Safe("?0")).Where("r.kind = ?", KindEnhancement).String()
	})
	err := database.ScanPrepared(ctx, db, text, &row, strings.ToUpper(strings.TrimSpace(reference)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, AccessNone, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	if err != nil {
		return nil, AccessNone, fmt.Errorf("get request %s: %w", reference, err)
	}
	er := &EnhancementRequest{Request: row.Request, Enhancement: row.E}
	access := v.AccessTo(&er.Request)
	if access == AccessNone {
		return nil, AccessNone, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	return er, access, nil
}

// FunctionalAreas lists ESR's functional areas in their usual order.
func FunctionalAreas(ctx context.Context, db bun.IDB) ([]string, error) {
	var names []string
	if err := db.NewSelect().Table("functional_areas").Column("name").Order("sort_order").Scan(ctx, &names); err != nil {
		return nil, fmt.Errorf("list functional areas: %w", err)
	}
	return names, nil
}

// NSIGFor returns the id of the active NSIG that covers a functional area, or 0 when none does.
func NSIGFor(ctx context.Context, db bun.IDB, area string) (int64, error) {
	var id int64
	err := db.NewSelect().Table("nsigs").Column("id").
		Where("status = 'active'").Where("? = ANY (functional_areas)", area).Order("id").Limit(1).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find NSIG for %s: %w", area, err)
	}
	return id, nil
}

// isRole is a shorthand for the identity role check on a list.
func hasRole(roles []string, role string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}
