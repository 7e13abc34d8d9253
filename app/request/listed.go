package request

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/catalogue"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/workday"
)

// Supplementary role requests and national competency requests (DESIGN §4) ask for an addition to a
// national reference list (package catalogue). They share the request machinery — references,
// timeline, comments, followers, access rules, Apply — with their own answers in their own tables and
// a shorter lifecycle: submitted → under review → approved | rejected | information requested.

// Kinds of request that maintain a reference list.
const (
	KindSupplementaryRole  = "supplementary_role"
	KindNationalCompetency = "national_competency"
)

// Statuses only these kinds use.
const (
	StatusUnderReview Status = "under_review"
	StatusRejected    Status = "rejected"
)

// KindInfo is how a kind of request reads, and the prefix of its references.
type KindInfo struct {
	Kind   string
	Label  string
	Prefix string
}

// Kinds lists every kind of request.
var Kinds = []KindInfo{
	{KindEnhancement, "Enhancement request", "ENH"},
	{KindSupplementaryRole, "Supplementary role request", "SRR"},
	{KindNationalCompetency, "National competency request", "NCR"},
}

// KindOf is the kind of request a reference names, from its prefix; anything else is taken for an
// enhancement request, whose lookup then finds it or not.
func KindOf(reference string) string {
	prefix, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(reference)), "-")
	for _, k := range Kinds {
		if k.Prefix == prefix {
			return k.Kind
		}
	}
	return KindEnhancement
}

// KindLabel is a kind in words.
func KindLabel(kind string) string {
	for _, k := range Kinds {
		if k.Kind == kind {
			return k.Label
		}
	}
	return kind
}

// FinalFor reports whether nothing more will happen to a request of kind in status s: for the list
// kinds approval is the end of the road.
func FinalFor(kind string, s Status) bool {
	if kind != KindEnhancement && s == StatusApproved {
		return true
	}
	return s.Closed()
}

// listTransitions is the lifecycle of a kind that adds to a reference list; noun names the list.
func listTransitions(kind, list string, addToList func(ctx context.Context, tx bun.Tx, env Env, r *Request) error) []Transition {
	return []Transition{
		{
			Name: "acknowledge", Kind: kind, Label: "Start the review",
			From: []Status{StatusSubmitted}, To: StatusUnderReview, Who: []string{identity.RoleCentralTeam},
			Notify: []notice{{notify.EventAcknowledged, toFollowers, "%s is under review"}},
			summary: func(*Request, Viewer, Input) string {
				return "Acknowledged by the central team. The review has started."
			},
		},
		{
			Name: "request_information", Kind: kind, Label: "Ask the requester for information",
			From: []Status{StatusSubmitted, StatusUnderReview}, To: StatusInformationRequested, Who: []string{identity.RoleCentralTeam},
			NeedsText: true, TextLabel: "your question",
			Notify: []notice{{notify.EventInformationRequested, toRaisers, "The central team has a question about %s"}},
			Offers: []string{"answer"},
			summary: func(r *Request, _ Viewer, _ Input) string {
				return "The central team asked for more information, to be answered by " + r.InfoDueOn.Format("Monday 2 January 2006") + "."
			},
		},
		{
			Name: "answer", Kind: kind, Label: "Answer the question",
			From: []Status{StatusInformationRequested}, To: StatusUnderReview, Who: []string{Raiser},
			NeedsText: true, TextLabel: "your answer",
			Notify: []notice{{notify.EventAnswered, toTriage, "%s: the requester has answered"}},
			summary: func(*Request, Viewer, Input) string {
				return "The raising organisation answered the central team's question. The request is back under review."
			},
		},
		{
			Name: "approve", Kind: kind, Label: "Approve and add to the list",
			From: []Status{StatusUnderReview}, To: StatusApproved, Who: []string{identity.RoleCentralTeam},
			TextLabel: "a note for the requester (optional)", Decides: true, Accepts: true,
			effect: func(ctx context.Context, tx bun.Tx, env Env, _ Viewer, r *Request, _ Input) error {
				return addToList(ctx, tx, env, r)
			},
			Notify: []notice{{notify.EventDecided, toFollowers, "%s has been approved"}},
			summary: func(r *Request, _ Viewer, _ Input) string {
				return "Approved by the central team: " + r.Title + " is now on the " + list + "."
			},
		},
		{
			Name: "reject", Kind: kind, Label: "Reject",
			From: []Status{StatusUnderReview}, To: StatusRejected, Who: []string{identity.RoleCentralTeam},
			NeedsText: true, TextLabel: "the reason it is rejected", Decides: true,
			effect: recordListOutcome(kind),
			Notify: []notice{{notify.EventDecided, toFollowers, "%s has been rejected"}},
			summary: func(*Request, Viewer, Input) string {
				return "Rejected by the central team. The request is closed."
			},
		},
		{
			Name: "withdraw", Kind: kind, Label: "Withdraw this request",
			From: []Status{StatusSubmitted, StatusUnderReview, StatusInformationRequested},
			To:   StatusWithdrawn, Who: []string{Raiser},
			NeedsText: true, TextLabel: "why you are withdrawing it",
			Notify: []notice{
				{notify.EventWithdrawn, toFollowers, "%s has been withdrawn"},
				{notify.EventWithdrawn, toTriage, "%s has been withdrawn"},
			},
			summary: func(*Request, Viewer, Input) string { return "Withdrawn by the raising organisation." },
		},
	}
}

// recordListOutcome keeps the reason a list request was rejected with its answers.
func recordListOutcome(kind string) func(ctx context.Context, tx bun.Tx, env Env, v Viewer, r *Request, in Input) error {
	table := kindTable(kind)
	return func(ctx context.Context, tx bun.Tx, _ Env, _ Viewer, r *Request, in Input) error {
		if _, err := tx.NewUpdate().Table(table).Set("outcome_reason = ?", in.Text).Where("request_id = ?", r.ID).Exec(ctx); err != nil {
			return fmt.Errorf("record outcome of %s: %w", r.Reference, err)
		}
		return nil
	}
}

func kindTable(kind string) string {
	if kind == KindSupplementaryRole {
		return "supplementary_role_requests"
	}
	return "national_competency_requests"
}

// addRole is approving a supplementary role request: its role joins the supplementary roles list.
func addRole(ctx context.Context, tx bun.Tx, env Env, r *Request) error {
	a := new(SupplementaryRole)
	if err := tx.NewSelect().Model(a).Where("request_id = ?", r.ID).Scan(ctx); err != nil {
		return fmt.Errorf("read answers of %s: %w", r.Reference, err)
	}
	listed, exists, err := catalogue.RoleExists(ctx, tx, a.RoleName)
	if err != nil {
		return err
	}
	if !exists {
		_, err = catalogue.AddRole(ctx, tx, catalogue.Role{Name: a.RoleName, InputLevel: a.InputLevel, Wellbeing: a.Wellbeing,
			Duties: a.Duties, RequestID: r.ID, AddedAt: env.Now})
	}
	if exists || errors.Is(err, catalogue.ErrDuplicate) {
		return &RuleError{Field: "text", Message: fmt.Sprintf("“%s” is already on the supplementary roles list: reject this request and say so", orText(listed, a.RoleName))}
	}
	return err
}

// addCompetence is approving a national competency request: its competence joins the NHS MAND/CSTF
// competence list under its ESR label.
func addCompetence(ctx context.Context, tx bun.Tx, env Env, r *Request) error {
	a := new(NationalCompetency)
	if err := tx.NewSelect().Model(a).Where("request_id = ?", r.ID).Scan(ctx); err != nil {
		return fmt.Errorf("read answers of %s: %w", r.Reference, err)
	}
	exists, err := catalogue.CompetenceExists(ctx, tx, a.Label)
	if err != nil {
		return err
	}
	if !exists {
		_, err = catalogue.AddCompetence(ctx, tx, catalogue.Competence{Name: a.CompetenceName, Framework: a.Framework,
			RenewalYears: a.RenewalYears, RequestID: r.ID, AddedAt: env.Now})
	}
	if exists || errors.Is(err, catalogue.ErrDuplicate) {
		return &RuleError{Field: "text", Message: fmt.Sprintf("%s is already on the competence list: reject this request and say so", a.Label)}
	}
	return err
}

func orText(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

// SupplementaryRole is a supplementary role request's own answers.
type SupplementaryRole struct {
	bun.BaseModel `bun:"table:supplementary_role_requests,alias:srr"`

	RequestID     int64  `bun:"request_id,pk"`
	RoleName      string `bun:"role_name"`
	Duties        string `bun:"duties"`
	InputLevel    string `bun:"input_level"`
	Wellbeing     bool   `bun:"wellbeing"`
	Justification string `bun:"justification"`
	Benefits      string `bun:"benefits"`
	Organisations string `bun:"organisations"`
	OutcomeReason string `bun:"outcome_reason"`
}

// NationalCompetency is a national competency request's own answers.
type NationalCompetency struct {
	bun.BaseModel `bun:"table:national_competency_requests,alias:ncr"`

	RequestID          int64  `bun:"request_id,pk"`
	CompetenceName     string `bun:"competence_name"`
	Framework          string `bun:"framework"`
	RenewalYears       int    `bun:"renewal_years"`
	Label              string `bun:"label"`
	NationalLearning   string `bun:"national_learning"`
	NationalInitiative string `bun:"national_initiative"`
	StaffGroups        string `bun:"staff_groups"`
	Justification      string `bun:"justification"`
	OutcomeReason      string `bun:"outcome_reason"`
}

// SupplementaryRoleRequest is a whole supplementary role request.
type SupplementaryRoleRequest struct {
	Request
	SupplementaryRole
}

// NationalCompetencyRequest is a whole national competency request.
type NationalCompetencyRequest struct {
	Request
	NationalCompetency
}

// Get returns the request with the reference, whatever its kind, with what every kind shares, if the
// viewer may see it at all; otherwise problem.ErrNotFound.
func Get(ctx context.Context, db bun.IDB, v Viewer, reference string) (*Request, Access, error) {
	r := new(Request)
	err := selectRequests(db, r).Where("r.reference = ?", strings.ToUpper(strings.TrimSpace(reference))).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, AccessNone, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	if err != nil {
		return nil, AccessNone, fmt.Errorf("get request %s: %w", reference, err)
	}
	access := v.AccessTo(r)
	if access == AccessNone {
		return nil, AccessNone, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	return r, access, nil
}

// GetSupplementaryRole returns the supplementary role request with the reference, if the viewer may see it.
func GetSupplementaryRole(ctx context.Context, db bun.IDB, v Viewer, reference string) (*SupplementaryRoleRequest, Access, error) {
	r, access, err := Get(ctx, db, v, reference)
	if err != nil {
		return nil, AccessNone, err
	}
	if r.Kind != KindSupplementaryRole {
		return nil, AccessNone, fmt.Errorf("supplementary role request %s: %w", reference, problem.ErrNotFound)
	}
	out := &SupplementaryRoleRequest{Request: *r}
	if err := db.NewSelect().Model(&out.SupplementaryRole).Where("request_id = ?", r.ID).Scan(ctx); err != nil {
		return nil, AccessNone, fmt.Errorf("get supplementary role request %s: %w", reference, err)
	}
	return out, access, nil
}

// GetNationalCompetency returns the national competency request with the reference, if the viewer may see it.
func GetNationalCompetency(ctx context.Context, db bun.IDB, v Viewer, reference string) (*NationalCompetencyRequest, Access, error) {
	r, access, err := Get(ctx, db, v, reference)
	if err != nil {
		return nil, AccessNone, err
	}
	if r.Kind != KindNationalCompetency {
		return nil, AccessNone, fmt.Errorf("national competency request %s: %w", reference, problem.ErrNotFound)
	}
	out := &NationalCompetencyRequest{Request: *r}
	if err := db.NewSelect().Model(&out.NationalCompetency).Where("request_id = ?", r.ID).Scan(ctx); err != nil {
		return nil, AccessNone, fmt.Errorf("get national competency request %s: %w", reference, err)
	}
	return out, access, nil
}

// NewSupplementaryRole is what a requester tells us when they ask for a supplementary role.
type NewSupplementaryRole struct {
	RoleName, Duties, InputLevel string
	Wellbeing                    bool
	Justification, Benefits      string
	Organisations                string
	SubmissionToken              string
}

// NewNationalCompetency is what a requester tells us when they ask for a national competence.
type NewNationalCompetency struct {
	CompetenceName                       string
	Framework                            string
	RenewalYears                         int
	NationalLearning, NationalInitiative string
	StaffGroups, Justification           string
	SubmissionToken                      string
}

// RaiseSupplementaryRole records a supplementary role request for the viewer's organisation. The
// input-level rule holds here as well as on the form: employee input only for wellbeing roles.
func RaiseSupplementaryRole(ctx context.Context, db *bun.DB, cal *workday.Calendar, v Viewer, actor audit.Actor, now time.Time, in NewSupplementaryRole) (*Request, error) {
	a := &SupplementaryRole{
		RoleName: strings.TrimSpace(in.RoleName), Duties: strings.TrimSpace(in.Duties), InputLevel: in.InputLevel,
		Wellbeing: in.Wellbeing, Justification: strings.TrimSpace(in.Justification), Benefits: strings.TrimSpace(in.Benefits),
		Organisations: strings.TrimSpace(in.Organisations),
	}
	if msg := catalogue.CheckInputLevel(a.InputLevel, a.Wellbeing); msg != "" {
		return nil, &RuleError{Field: "input_level", Message: msg}
	}
	if a.RoleName == "" || a.Justification == "" || a.Benefits == "" {
		return nil, &RuleError{Field: "role_name", Message: "A supplementary role request needs a role name, a justification and its benefits"}
	}
	return raiseListed(ctx, db, cal, v, actor, now, KindSupplementaryRole, a.RoleName, in.SubmissionToken,
		func(ctx context.Context, tx bun.Tx, id int64) error {
			a.RequestID = id
			if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
				return fmt.Errorf("insert supplementary role request: %w", err)
			}
			return setSearch(ctx, tx, id, a.RoleName, a.Duties, a.Justification, a.Benefits, a.Organisations)
		},
		map[string]any{"input_level": a.InputLevel, "wellbeing": a.Wellbeing})
}

// RaiseNationalCompetency records a national competency request for the viewer's organisation. Its
// title is the ESR label the competence will have, which must be well formed.
func RaiseNationalCompetency(ctx context.Context, db *bun.DB, cal *workday.Calendar, v Viewer, actor audit.Actor, now time.Time, in NewNationalCompetency) (*Request, error) {
	a := &NationalCompetency{
		CompetenceName: strings.TrimSpace(in.CompetenceName), Framework: in.Framework, RenewalYears: in.RenewalYears,
		NationalLearning: strings.TrimSpace(in.NationalLearning), NationalInitiative: strings.TrimSpace(in.NationalInitiative),
		StaffGroups: strings.TrimSpace(in.StaffGroups), Justification: strings.TrimSpace(in.Justification),
	}
	if msg := catalogue.NameProblem(a.CompetenceName); msg != "" {
		return nil, &RuleError{Field: "competence_name", Message: msg}
	}
	if in.RenewalYears < catalogue.MinRenewalYears || in.RenewalYears > catalogue.MaxRenewalYears {
		return nil, &RuleError{Field: "renewal_years", Message: fmt.Sprintf("The renewal period must be between %d and %d years", catalogue.MinRenewalYears, catalogue.MaxRenewalYears)}
	}
	a.Label = catalogue.Label(a.Framework, a.CompetenceName, a.RenewalYears)
	if msg := catalogue.LabelProblem(a.Label); msg != "" || (a.Framework != "CSTF" && a.Framework != "MAND") {
		return nil, &RuleError{Field: "framework", Message: orText(msg, "Select the framework")}
	}
	if a.NationalLearning == "" && a.NationalInitiative == "" {
		return nil, &RuleError{Field: "national_learning", Message: "Enter the national learning or the national initiative it links to"}
	}
	if a.Justification == "" {
		return nil, &RuleError{Field: "justification", Message: "Enter the justification"}
	}
	return raiseListed(ctx, db, cal, v, actor, now, KindNationalCompetency, a.Label, in.SubmissionToken,
		func(ctx context.Context, tx bun.Tx, id int64) error {
			a.RequestID = id
			if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
				return fmt.Errorf("insert national competency request: %w", err)
			}
			return setSearch(ctx, tx, id, a.CompetenceName, a.Label, a.NationalLearning, a.NationalInitiative, a.StaffGroups, a.Justification)
		},
		map[string]any{"framework": a.Framework, "renewal_years": a.RenewalYears})
}

// raiseListed is what raising a list request shares with every kind: the next reference of its
// series, the acknowledgement due in five working days, the raiser following it, the timeline entry
// and the audit event, in one transaction with the kind's own answers. Submitting the same form
// twice returns the request the first submission made.
func raiseListed(ctx context.Context, db *bun.DB, cal *workday.Calendar, v Viewer, actor audit.Actor, now time.Time,
	kind, title, token string, answers func(ctx context.Context, tx bun.Tx, id int64) error, auditAfter map[string]any) (*Request, error) {
	if !v.Has(identity.RoleRequester) && !v.Has(identity.RoleNSIGMember) {
		return nil, fmt.Errorf("raise a request: %w", problem.ErrForbidden)
	}
	if existing, err := bySubmissionToken(ctx, db, token, v.UserID); err == nil {
		return existing, nil
	} else if !errors.Is(err, problem.ErrNotFound) {
		return nil, err
	}
	due, err := cal.AddWorkingDays(now, AcknowledgementDays)
	if err != nil {
		return nil, fmt.Errorf("acknowledgement due date: %w", err)
	}
	prefix := ""
	for _, k := range Kinds {
		if k.Kind == kind {
			prefix = k.Prefix
		}
	}
	r := &Request{
		Kind: kind, Title: title, Status: StatusSubmitted, OrganisationID: v.OrganisationID, RaisedByID: v.UserID,
		ReceivedAt: now, AckDueOn: Day(due), SubmissionToken: token, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		ref, err := nextReference(ctx, tx, prefix, now.In(cal.Location()).Year())
		if err != nil {
			return err
		}
		r.Reference = ref
		if _, err := tx.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("insert request: %w", err)
		}
		if err := answers(ctx, tx, r.ID); err != nil {
			return err
		}
		if err := follow(ctx, tx, r.ID, v.UserID, now); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, Event{
			RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name, Kind: "raised",
			ToStatus: string(StatusSubmitted),
			Summary:  fmt.Sprintf("Raised. Acknowledgement due by %s.", due.Format("Monday 2 January 2006")),
		}); err != nil {
			return err
		}
		if err := tellRaised(ctx, tx, now, r, v); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "request.raised", EntityType: "request", EntityID: r.Reference, After: auditAfter,
		})
	})
	if database.IsUniqueViolation(err, "requests_submission_token_key") {
		return bySubmissionToken(ctx, db, token, v.UserID)
	}
	if err != nil {
		return nil, fmt.Errorf("raise %s request: %w", strings.ReplaceAll(kind, "_", " "), err)
	}
	return r, nil
}

// OpenLike is an open list request that asks for the same or a similar entry.
type OpenLike struct {
	Reference        string `bun:"reference"`
	Title            string `bun:"title"`
	Status           Status `bun:"status"`
	OrganisationName string `bun:"organisation_name"`
}

// openStatuses are the statuses of list requests still waiting for a decision.
var openStatuses = []Status{StatusSubmitted, StatusUnderReview, StatusInformationRequested}

// OpenSimilar returns the open requests of a list kind that the viewer may see whose titles match
// title exactly (case aside) or look like it. Requests the viewer may not see are neither shown nor
// counted: that another organisation has asked for something is theirs to tell until a decision.
func OpenSimilar(ctx context.Context, db bun.IDB, v Viewer, kind, title string) ([]OpenLike, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return nil, nil
	}
	var seen []OpenLike
	q := db.NewSelect().TableExpr("requests AS r").
		ColumnExpr("r.reference, r.title, r.status, o.name AS organisation_name").
		Join("JOIN organisations AS o ON o.id = r.organisation_id").
		Where("r.kind = ?", kind).Where("r.status IN (?)", bun.List(openStatuses)).
		Where("(lower(r.title) = lower(?) OR similarity(r.title, ?) > 0.5)", title, title)
	if err := v.visible(q).OrderExpr("r.received_at").Limit(10).Scan(ctx, &seen); err != nil {
		return nil, fmt.Errorf("find open requests like %q: %w", title, err)
	}
	return seen, nil
}

// KindLabel is the request's kind in words.
func (r Request) KindLabel() string { return KindLabel(r.Kind) }
