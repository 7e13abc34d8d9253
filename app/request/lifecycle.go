package request

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/workday"
)

// Raiser stands, in a transition's Who, for a requester (or NSIG member) of the raising organisation.
const Raiser = "raiser"

// InformationReplyDays is how many working days a requester has to answer the central team.
const InformationReplyDays = 10

// Recipient groups a transition notifies.
const (
	toFollowers  = "followers"  // everyone following the request
	toRaisers    = "raisers"    // followers from the raising organisation
	toTriage     = "triage"     // the assigned triager, or the whole central team when nobody is assigned
	toSupporters = "supporters" // the people who added their organisations' support
)

type notice struct {
	Event string
	To    string
	Title string // with %s for the reference
}

// Transition is one move of the lifecycle: from which statuses, to which, who may make it, what it
// requires, and whom it tells.
type Transition struct {
	Name      string
	Kind      string
	Label     string // the action's name on buttons and page headings
	From      []Status
	To        Status
	Who       []string // role names, or Raiser
	NeedsText bool     // a question, answer, explanation or reason is required
	TextLabel string   // what the text is
	NeedsCode bool     // an outcome reason code is required (and a duplicate's original when the code is "duplicate")
	Accepts   bool     // the request becomes visible in summary to every signed-in user
	// NeedsSummary: the public summary every organisation will read (see CheckPublicSummary).
	NeedsSummary bool
	Decides      bool // the request's triage outcome is decided
	// NeedsReviewDate: a date after today when a deferred request comes back for assessment.
	NeedsReviewDate bool
	// NeedsRelease: the release an approved request is allocated to.
	NeedsRelease bool
	Notify       []notice
	// Offers are what its messages let their recipients do next straight from the email, at the
	// request's new version: each recipient is offered only those the portal would let them take.
	Offers  []string
	summary func(r *Request, v Viewer, in Input) string
	// guard checks what must be true of the request besides its status, e.g. an agreed requirement
	// definition; it returns a RuleError to show the user.
	guard func(ctx context.Context, tx bun.Tx, r *Request) error
	// effect records what the transition changes besides the request's status, in its transaction.
	effect func(ctx context.Context, tx bun.Tx, env Env, v Viewer, r *Request, in Input) error
}

// Transitions is every kind's lifecycle: a transition applies to requests of its Kind only.
var Transitions = slices.Concat(enhancementTransitions,
	listTransitions(KindSupplementaryRole, "supplementary roles list", addRole),
	listTransitions(KindNationalCompetency, "competence list", addCompetence))

// enhancementTransitions is the enhancement request lifecycle (DESIGN §3).
var enhancementTransitions = []Transition{
	{
		Name: "acknowledge", Kind: KindEnhancement, Label: "Acknowledge",
		From: []Status{StatusSubmitted}, To: StatusInTriage, Who: []string{identity.RoleCentralTeam},
		Notify:  []notice{{notify.EventAcknowledged, toFollowers, "%s has been acknowledged"}},
		summary: func(*Request, Viewer, Input) string { return "Acknowledged by the central team. Triage has started." },
	},
	{
		Name: "request_information", Kind: KindEnhancement, Label: "Ask the requester for information",
		From: []Status{StatusSubmitted, StatusInTriage}, To: StatusInformationRequested, Who: []string{identity.RoleCentralTeam},
		NeedsText: true, TextLabel: "your question",
		Notify: []notice{{notify.EventInformationRequested, toRaisers, "The central team has a question about %s"}},
		Offers: []string{"answer"},
		summary: func(r *Request, _ Viewer, _ Input) string {
			return "The central team asked for more information, to be answered by " + r.InfoDueOn.Format("Monday 2 January 2006") + "."
		},
	},
	{
		Name: "answer", Kind: KindEnhancement, Label: "Answer the question",
		From: []Status{StatusInformationRequested}, To: StatusInTriage, Who: []string{Raiser},
		NeedsText: true, TextLabel: "your answer",
		Notify: []notice{{notify.EventAnswered, toTriage, "%s: the requester has answered"}},
		// Back in triage: the triager classifies it, closes it or asks again.
		Offers: []string{"classify_enhancement", "not_taken_forward", "request_information"},
		summary: func(*Request, Viewer, Input) string {
			return "The raising organisation answered the central team's question. The request is back in triage."
		},
	},
	{
		Name: "classify_enhancement", Kind: KindEnhancement, Label: "Classify as an enhancement",
		From: []Status{StatusInTriage}, To: StatusAwaitingRequesterDecision, Who: []string{identity.RoleCentralTeam},
		TextLabel: "a note for the requester", Accepts: true, NeedsSummary: true,
		Notify: []notice{
			{notify.EventDecisionNeeded, toRaisers, "%s is an enhancement: decide whether to take it forward"},
			{notify.EventClassified, toFollowers, "%s has been classified as an enhancement"},
		},
		Offers: []string{"progress", "decline"},
		summary: func(*Request, Viewer, Input) string {
			return "Classified as an enhancement. The raising organisation now decides whether to take it forward."
		},
	},
	{
		Name: "not_taken_forward", Kind: KindEnhancement, Label: "Do not take forward",
		From: []Status{StatusInTriage}, To: StatusNotTakenForward, Who: []string{identity.RoleCentralTeam},
		NeedsText: true, TextLabel: "an explanation for the requester", NeedsCode: true, Decides: true,
		Notify: []notice{{notify.EventClassified, toFollowers, "%s will not be taken forward"}},
		summary: func(_ *Request, _ Viewer, in Input) string {
			s := "Not taken forward: " + LowerFirst(OutcomeReasonLabel(in.Reason)) + "."
			switch {
			case in.Reason == "duplicate" && in.originalAccepted:
				s += " It duplicates " + strings.ToUpper(in.DuplicateOf) + ", which its supporters now support."
			case in.Reason == "duplicate":
				// The original is not yet open to other organisations: its reference is the central team's to tell.
				s += " It duplicates another request, which its supporters now support."
			}
			return s
		},
	},
	{
		Name: "progress", Kind: KindEnhancement, Label: "Take it forward",
		From: []Status{StatusAwaitingRequesterDecision}, To: StatusRequirementsJustification, Who: []string{Raiser},
		Decides: true,
		Notify:  []notice{{notify.EventClassified, toTriage, "%s: the requester is taking it forward"}},
		summary: func(_ *Request, v Viewer, _ Input) string {
			return "The raising organisation chose to take it forward. Next: the requirement definition and business justification, agreed with the development team."
		},
	},
	{
		Name: "decline", Kind: KindEnhancement, Label: "Do not take it forward",
		From: []Status{StatusAwaitingRequesterDecision}, To: StatusWithdrawn, Who: []string{Raiser},
		TextLabel: "why (optional)", Decides: true,
		Notify: []notice{{notify.EventWithdrawn, toTriage, "%s: the requester will not take it forward"}},
		summary: func(*Request, Viewer, Input) string {
			return "The raising organisation chose not to take it forward. The request is closed."
		},
	},
	{
		Name: "submit_for_assessment", Kind: KindEnhancement, Label: "Send for impact assessment",
		From: []Status{StatusRequirementsJustification}, To: StatusImpactAssessment,
		Who:    []string{Raiser, identity.RoleCentralTeam, identity.RoleDevelopmentTeam},
		guard:  readyForAssessment,
		Notify: []notice{{notify.EventRequirements, toFollowers, "%s is ready for impact assessment"}},
		summary: func(*Request, Viewer, Input) string {
			return "The requirement definition is agreed and the business justification is complete: impact assessment has started."
		},
	},
	{
		Name: "approve", Kind: KindEnhancement, Label: "Approve",
		From: []Status{StatusImpactAssessment}, To: StatusApproved, Who: []string{identity.RoleCentralTeam},
		NeedsText: true, TextLabel: "the rationale for the decision", Decides: true,
		guard: assessed, effect: recordDecision("approved"),
		Notify: []notice{{notify.EventDecided, toFollowers, "%s has been approved"}},
		summary: func(*Request, Viewer, Input) string {
			return "Approved by the central team. It will be allocated to a release."
		},
	},
	{
		Name: "defer", Kind: KindEnhancement, Label: "Defer",
		From: []Status{StatusImpactAssessment}, To: StatusDeferred, Who: []string{identity.RoleCentralTeam},
		NeedsText: true, TextLabel: "the rationale for the decision", NeedsReviewDate: true, Decides: true,
		guard: assessed, effect: recordDecision("deferred"),
		Notify: []notice{{notify.EventDecided, toFollowers, "%s has been deferred"}},
		summary: func(_ *Request, _ Viewer, in Input) string {
			return "Deferred by the central team. It comes back for assessment on " + in.ReviewOn.Format("Monday 2 January 2006") + "."
		},
	},
	{
		Name: "not_approve", Kind: KindEnhancement, Label: "Do not approve",
		From: []Status{StatusImpactAssessment}, To: StatusNotApproved, Who: []string{identity.RoleCentralTeam},
		NeedsText: true, TextLabel: "the reason it is not approved", Decides: true,
		guard: assessed, effect: recordDecision("not_approved"),
		Notify: []notice{{notify.EventDecided, toFollowers, "%s has not been approved"}},
		summary: func(*Request, Viewer, Input) string {
			return "Not approved by the central team. The request is closed."
		},
	},
	{
		Name: "review", Kind: KindEnhancement, Label: "Bring back for assessment",
		From: []Status{StatusDeferred}, To: StatusImpactAssessment, Who: []string{identity.RoleCentralTeam},
		Notify: []notice{{notify.EventDecided, toFollowers, "%s is back in impact assessment"}},
		summary: func(*Request, Viewer, Input) string {
			return "Its review date has come: it is back in impact assessment."
		},
	},
	{
		Name: "allocate", Kind: KindEnhancement, Label: "Allocate to a release",
		From: []Status{StatusApproved}, To: StatusAllocated, Who: []string{identity.RoleCentralTeam},
		NeedsRelease: true, effect: allocate,
		Notify: []notice{{notify.EventAllocated, toFollowers, "%s has been allocated to a release"}},
		summary: func(_ *Request, _ Viewer, in Input) string {
			return "Allocated to " + in.releaseName + "."
		},
	},
	{
		Name: "deliver", Kind: KindEnhancement, Label: "Mark as delivered",
		From: []Status{StatusAllocated}, To: StatusDelivered, Who: []string{identity.RoleCentralTeam},
		Notify: []notice{{notify.EventDelivered, toFollowers, "%s has been delivered"}, {notify.EventDelivered, toSupporters, "%s has been delivered"}},
		summary: func(_ *Request, _ Viewer, in Input) string {
			if !in.releaseLive {
				return "Delivered ahead of " + in.releaseName + ", which has not gone live yet."
			}
			return "Delivered: " + in.releaseName + " has gone live."
		},
	},
	{
		Name: "withdraw", Kind: KindEnhancement, Label: "Withdraw this request",
		From: []Status{StatusSubmitted, StatusInTriage, StatusInformationRequested, StatusAwaitingRequesterDecision,
			StatusRequirementsJustification, StatusImpactAssessment},
		To: StatusWithdrawn, Who: []string{Raiser},
		NeedsText: true, TextLabel: "why you are withdrawing it",
		Notify: []notice{
			{notify.EventWithdrawn, toFollowers, "%s has been withdrawn"},
			{notify.EventWithdrawn, toTriage, "%s has been withdrawn"},
		},
		summary: func(*Request, Viewer, Input) string { return "Withdrawn by the raising organisation." },
	},
}

// Decision transitions record a row in request_decisions with the rationale (and review date).
func recordDecision(outcome string) func(ctx context.Context, tx bun.Tx, env Env, v Viewer, r *Request, in Input) error {
	return func(ctx context.Context, tx bun.Tx, env Env, v Viewer, r *Request, in Input) error {
		var review any
		if outcome == "deferred" {
			review = Day(in.ReviewOn)
		}
		if _, err := tx.NewRaw(`INSERT INTO request_decisions (request_id, outcome, rationale, review_on, decided_by, decided_at)
			VALUES (?, ?, ?, ?, ?, ?)`, r.ID, outcome, in.Text, review, v.UserID, env.Now).Exec(ctx); err != nil {
			return fmt.Errorf("record decision on %s: %w", r.Reference, err)
		}
		if _, err := tx.NewUpdate().Table("requests").Set("review_on = ?", review).Where("id = ?", r.ID).Exec(ctx); err != nil {
			return fmt.Errorf("set review date of %s: %w", r.Reference, err)
		}
		return nil
	}
}

// readyForAssessment: impact assessment cannot start until the requirement definition is agreed by
// both sides and the business justification is complete and submitted.
func readyForAssessment(ctx context.Context, tx bun.Tx, r *Request) error {
	agreed, err := RequirementAgreed(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	if !agreed {
		return &RuleError{Field: "next-steps", Message: "The requirement definition must be agreed by the requester and the development team first"}
	}
	submitted, err := JustificationSubmitted(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	if !submitted {
		return &RuleError{Field: "next-steps", Message: "The business justification must be complete and submitted first"}
	}
	return nil
}

// assessed: a decision needs the development team's completed impact assessment.
func assessed(ctx context.Context, tx bun.Tx, r *Request) error {
	done, err := tx.NewSelect().Table("impact_assessments").Where("request_id = ? AND completed_at IS NOT NULL", r.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("read impact assessment of %s: %w", r.Reference, err)
	}
	if !done {
		return &RuleError{Field: "impact-assessment", Message: "The development team must complete the impact assessment first"}
	}
	return nil
}

// allocate puts an approved request into a release that has not gone live.
func allocate(ctx context.Context, tx bun.Tx, env Env, v Viewer, r *Request, in Input) error {
	var status string
	err := tx.NewSelect().Table("releases").Column("status").Where("id = ?", in.ReleaseID).For("SHARE").Scan(ctx, &status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && status == "released") {
		return &RuleError{Field: "release_id", Message: "Select a release that has not gone live"}
	}
	if err != nil {
		return fmt.Errorf("read release %d: %w", in.ReleaseID, err)
	}
	if _, err := tx.NewRaw(`INSERT INTO allocations (request_id, release_id, allocated_by, allocated_at) VALUES (?, ?, ?, ?)`,
		r.ID, in.ReleaseID, v.UserID, env.Now).Exec(ctx); err != nil {
		return fmt.Errorf("allocate %s: %w", r.Reference, err)
	}
	return nil
}

// TransitionNamed returns a transition of a kind by name.
func TransitionNamed(kind, name string) (Transition, bool) {
	for _, t := range Transitions {
		if t.Kind == kind && t.Name == name {
			return t, true
		}
	}
	return Transition{}, false
}

// Allows reports whether the viewer may make the transition on r as it stands now.
func (t Transition) Allows(v Viewer, r *Request) bool {
	if t.Kind != r.Kind || !t.from(r.Status) {
		return false
	}
	for _, who := range t.Who {
		if who == Raiser && v.IsRaiser(r) {
			return true
		}
		if who != Raiser && v.Has(who) {
			return true
		}
	}
	return false
}

func (t Transition) from(s Status) bool {
	for _, f := range t.From {
		if f == s {
			return true
		}
	}
	return false
}

// Available lists the transitions the viewer may make on r now, in table order.
func Available(v Viewer, r *Request) []Transition {
	var out []Transition
	for _, t := range Transitions {
		if t.Allows(v, r) {
			out = append(out, t)
		}
	}
	return out
}

// Input is what a transition's form sends.
type Input struct {
	Version     int
	Text        string
	Reason      string    // outcome reason code
	DuplicateOf string    // reference of the original request, for a duplicate
	ReviewOn    time.Time // when a deferred request comes back (a London date)
	ReleaseID   int64     // the release an approved request is allocated to
	Summary     string    // the public summary, for a transition that NeedsSummary

	releaseName      string // filled in by Apply for the timeline
	releaseLive      bool   // filled in by Apply on delivery: the request's release has gone live
	originalAccepted bool   // filled in by Apply: a duplicate's original is open to every organisation
}

// RuleError is a domain rule an input breaks, tied to the form field to show it on.
type RuleError struct {
	Field   string
	Message string
}

func (e *RuleError) Error() string { return e.Message }

// Env is what state changes need besides the database: the time and the working-day calendar.
type Env struct {
	Now      time.Time
	Calendar *workday.Calendar
}

// Apply makes a transition on the request with the reference, in one transaction: it checks the
// viewer may see the request and make the move, that the form was made from the current version (a
// stale form is problem.ErrConflict), and what the transition requires; then it writes the new
// status, the timeline event, the audit event and the notifications.
func Apply(ctx context.Context, db *bun.DB, env Env, v Viewer, actor audit.Actor, reference, name string, in Input) (*Request, error) {
	var out *Request
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = ApplyInTx(ctx, tx, env, v, actor, reference, name, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, reference, err)
	}
	return out, nil
}

// ApplyInTx is Apply inside the caller's transaction, for changes that move several requests at once
// (a release going live delivers all of its requests).
func ApplyInTx(ctx context.Context, tx bun.Tx, env Env, v Viewer, actor audit.Actor, reference, name string, in Input) (*Request, error) {
	in.Text = strings.TrimSpace(in.Text)
	var out *Request
	err := func() error {
		r, err := lockByReference(ctx, tx, reference)
		if err != nil {
			return err
		}
		if v.AccessTo(r) < AccessFull {
			return fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
		}
		t, ok := TransitionNamed(r.Kind, name)
		if !ok {
			return fmt.Errorf("request %s has no action %q: %w", reference, name, problem.ErrNotFound)
		}
		if r.Version != in.Version {
			return fmt.Errorf("request %s is at version %d, the form was made from %d: %w", reference, r.Version, in.Version, problem.ErrConflict)
		}
		if !t.from(r.Status) {
			return fmt.Errorf("request %s is %s, so it cannot %s: %w", reference, r.Status, name, problem.ErrConflict)
		}
		if !t.Allows(v, r) {
			return fmt.Errorf("%s on %s: %w", name, reference, problem.ErrForbidden)
		}
		if err := t.check(in, env); err != nil {
			return err
		}
		if t.guard != nil {
			if err := t.guard(ctx, tx, r); err != nil {
				return err
			}
		}
		if t.NeedsRelease {
			if err := tx.NewSelect().Table("releases").ColumnExpr("'Release ' || number || ': ' || name").Where("id = ?", in.ReleaseID).Scan(ctx, &in.releaseName); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read release %d: %w", in.ReleaseID, err)
			}
		}
		if name == "deliver" {
			if err := tx.NewSelect().TableExpr("allocations AS al").ColumnExpr("'Release ' || rl.number || ': ' || rl.name").
				ColumnExpr("rl.status = 'released'").
				Join("JOIN releases AS rl ON rl.id = al.release_id").Where("al.request_id = ?", r.ID).Scan(ctx, &in.releaseName, &in.releaseLive); err != nil {
				return fmt.Errorf("read release of %s: %w", reference, err)
			}
		}
		before := r.Status
		upd := tx.NewUpdate().Table("requests").Where("id = ? AND version = ?", r.ID, r.Version).
			Set("status = ?", t.To).Set("version = version + 1").Set("updated_at = ?", env.Now)
		switch name {
		case "acknowledge":
			upd = upd.Set("acknowledged_at = ?", env.Now)
		case "request_information":
			due, err := env.Calendar.AddWorkingDays(env.Now, InformationReplyDays)
			if err != nil {
				return fmt.Errorf("reply due date: %w", err)
			}
			r.InfoDueOn = Day(due)
			upd = upd.Set("info_due_on = ?", r.InfoDueOn)
			if r.AcknowledgedAt.IsZero() {
				upd = upd.Set("acknowledged_at = ?", env.Now)
			}
		case "answer":
			upd = upd.Set("info_due_on = NULL")
		}
		if t.Accepts {
			upd = upd.Set("accepted = true")
			r.Accepted = true
		}
		if t.Decides {
			upd = upd.Set("decided_at = ?", env.Now)
		}
		if _, err := upd.Exec(ctx); err != nil {
			return fmt.Errorf("update request %s: %w", reference, err)
		}
		if t.NeedsSummary {
			if err := setPublicSummary(ctx, tx, r, in.Summary); err != nil {
				return err
			}
		}
		if name == "not_taken_forward" {
			if in.originalAccepted, err = recordOutcome(ctx, tx, env, v, r, in); err != nil {
				return err
			}
		}
		if t.effect != nil {
			if err := t.effect(ctx, tx, env, v, r, in); err != nil {
				return err
			}
		}
		r.Status, r.Version = t.To, r.Version+1
		detail := in.Text
		if name == "not_taken_forward" && in.Reason == "duplicate" {
			detail = strings.TrimSpace(detail)
		}
		if err := addEvent(ctx, tx, Event{
			RequestID: r.ID, OccurredAt: env.Now, ActorUserID: v.UserID, ActorName: v.Name, Kind: name,
			FromStatus: string(before), ToStatus: string(t.To), Summary: t.summary(r, v, in), Detail: detail,
		}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, env.Now, audit.Event{
			Actor: actor, Action: "request." + name, EntityType: "request", EntityID: r.Reference,
			Before: map[string]any{"status": before}, After: map[string]any{"status": t.To, "reason": in.Reason},
		}); err != nil {
			return err
		}
		if err := sendNotices(ctx, tx, env, r, v.person(), t, in.Text); err != nil {
			return err
		}
		out = r
		return nil
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t Transition) check(in Input, env Env) error {
	if t.NeedsReviewDate {
		if in.ReviewOn.IsZero() {
			return &RuleError{Field: "review_on-day", Message: "Enter the date it should come back for assessment"}
		}
		if !Day(in.ReviewOn).After(Day(env.Now.In(env.Calendar.Location()))) {
			return &RuleError{Field: "review_on-day", Message: "The review date must be in the future"}
		}
	}
	if t.NeedsRelease && in.ReleaseID == 0 {
		return &RuleError{Field: "release_id", Message: "Select the release"}
	}
	if t.NeedsSummary {
		if err := CheckPublicSummary("summary", in.Summary); err != nil {
			return err
		}
	}
	if t.NeedsCode {
		known := false
		for _, r := range OutcomeReasons {
			known = known || r.Value == in.Reason
		}
		if !known {
			return &RuleError{Field: "reason", Message: "Select why it is not being taken forward"}
		}
		if in.Reason == "duplicate" && strings.TrimSpace(in.DuplicateOf) == "" {
			return &RuleError{Field: "duplicate_of", Message: "Enter the reference of the request it duplicates, like ENH-2026-0012"}
		}
	}
	if t.NeedsText && in.Text == "" {
		return &RuleError{Field: "text", Message: "Enter " + t.TextLabel}
	}
	if len(in.Text) > 5000 {
		return &RuleError{Field: "text", Message: "Keep it to 5000 characters or fewer"}
	}
	return nil
}

// recordOutcome stores why a request is not taken forward; a duplicate is linked to its original,
// whose support grows by the duplicate's raising organisation and supporters, and whose followers
// grow by the duplicate's.
// recordOutcome records why a request is not taken forward; for a duplicate it links the original,
// carries supporters and followers over, and reports whether the original is accepted (open to every
// organisation).
func recordOutcome(ctx context.Context, tx bun.Tx, env Env, v Viewer, r *Request, in Input) (bool, error) {
	var dupID int64
	var accepted bool
	if in.Reason == "duplicate" {
		orig := new(Request)
		err := tx.NewSelect().Model(orig).ColumnExpr(requestColumns).Where("reference = ?", strings.ToUpper(strings.TrimSpace(in.DuplicateOf))).
			Where("kind = ?", r.Kind).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && orig.ID == r.ID) {
			return false, &RuleError{Field: "duplicate_of", Message: "Enter the reference of another existing request, like ENH-2026-0012"}
		}
		if err != nil {
			return false, fmt.Errorf("find original %s: %w", in.DuplicateOf, err)
		}
		dupID = orig.ID
		if _, err := tx.NewRaw(`INSERT INTO request_supports (request_id, organisation_id, user_id, note, created_at)
			SELECT ?::bigint, organisation_id, user_id, note, ?::timestamptz FROM request_supports WHERE request_id = ?
			UNION ALL SELECT ?::bigint, ?::bigint, ?::bigint, ?::text, ?::timestamptz
			ON CONFLICT DO NOTHING`,
			orig.ID, env.Now, r.ID, orig.ID, r.OrganisationID, r.RaisedByID, "Carried over from duplicate "+r.Reference, env.Now).Exec(ctx); err != nil {
			return false, fmt.Errorf("carry supporters over to %s: %w", orig.Reference, err)
		}
		if _, err := tx.NewRaw(`DELETE FROM request_supports WHERE request_id = ? AND organisation_id = ?`, orig.ID, orig.OrganisationID).Exec(ctx); err != nil {
			return false, fmt.Errorf("tidy supports of %s: %w", orig.Reference, err)
		}
		if _, err := tx.NewRaw(`INSERT INTO request_followers (request_id, user_id, created_at)
			SELECT ?, user_id, ? FROM request_followers WHERE request_id = ? ON CONFLICT DO NOTHING`,
			orig.ID, env.Now, r.ID).Exec(ctx); err != nil {
			return false, fmt.Errorf("carry followers over to %s: %w", orig.Reference, err)
		}
		if err := addEvent(ctx, tx, Event{
			RequestID: orig.ID, OccurredAt: env.Now, ActorUserID: v.UserID, ActorName: v.Name, Kind: "duplicate_linked",
			Summary: "Another request was found to duplicate this one; its raising organisation and supporters now support this one.",
		}); err != nil {
			return false, err
		}
		accepted = orig.Accepted
	}
	q := tx.NewUpdate().Table("enhancement_requests").Where("request_id = ?", r.ID).
		Set("outcome_reason = ?", in.Reason).Set("outcome_explanation = ?", in.Text)
	if dupID != 0 {
		q = q.Set("duplicate_of_id = ?", dupID)
	}
	if _, err := q.Exec(ctx); err != nil {
		return false, fmt.Errorf("record outcome of %s: %w", r.Reference, err)
	}
	return accepted, nil
}

// lockSQL is lockByReference's statement.
var lockSQL database.FixedSQL

func lockByReference(ctx context.Context, tx bun.Tx, reference string) (*Request, error) {
	r := new(Request)
	text := lockSQL.Text(func() string {
		return tx.NewSelect().Model(r).ColumnExpr(requestColumns).ColumnExpr("o.region_id AS region_id").
			Join("JOIN organisations AS o ON o.id = r.organisation_id").
			Where("r.reference = ?", bun.Safe("?0")).For("UPDATE OF r").String()
	})
	err := database.ScanPrepared(ctx, tx, text, r, strings.ToUpper(strings.TrimSpace(reference)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lock request %s: %w", reference, err)
	}
	return r, nil
}

// sendNotices queues a transition's notifications, each worded for what its recipient may see of the
// request (tell): the transition's text (a question, answer, reason or explanation) only for those who
// may see the whole request. The actor is never told of their own action, and nobody is told twice.
// Each email offers its recipient what of the transition's Offers they may take next.
func sendNotices(ctx context.Context, tx bun.Tx, env Env, r *Request, actor Person, t Transition, text string) error {
	var offers []Offer
	for _, name := range t.Offers {
		offers = append(offers, Offer{Name: name, Version: r.Version})
	}
	seen := map[int64]bool{actor.UserID: true}
	for _, n := range t.Notify {
		ids, err := recipients(ctx, tx, r, n.To)
		if err != nil {
			return err
		}
		var fresh []int64
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				fresh = append(fresh, id)
			}
		}
		nw := News{Event: n.Event, Title: strings.ReplaceAll(n.Title, "%s", "%[1]s"), Detail: text, Actions: offers}
		if err := Tell(ctx, tx, env.Now, r, actor, fresh, nw); err != nil {
			return err
		}
	}
	return nil
}

func recipients(ctx context.Context, tx bun.IDB, r *Request, group string) ([]int64, error) {
	var ids []int64
	var err error
	switch group {
	case toFollowers:
		err = tx.NewSelect().Table("request_followers").Column("user_id").Where("request_id = ?", r.ID).Order("user_id").Scan(ctx, &ids)
	case toRaisers:
		err = tx.NewSelect().TableExpr("request_followers AS f").Column("f.user_id").
			Join("JOIN users AS u ON u.id = f.user_id").
			Where("f.request_id = ?", r.ID).Where("u.organisation_id = ?", r.OrganisationID).Order("f.user_id").Scan(ctx, &ids)
	case toSupporters:
		err = tx.NewSelect().Table("request_supports").Column("user_id").Where("request_id = ?", r.ID).Order("user_id").Scan(ctx, &ids)
	case toTriage:
		if r.AssigneeID != 0 {
			return []int64{r.AssigneeID}, nil
		}
		err = tx.NewSelect().TableExpr("users AS u").Column("u.id").
			Join("JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?", identity.RoleCentralTeam).
			Where("u.status = 'active'").Order("u.id").Scan(ctx, &ids)
	default:
		return nil, fmt.Errorf("unknown recipients %q", group)
	}
	if err != nil {
		return nil, fmt.Errorf("find %s of %s: %w", group, r.Reference, err)
	}
	return ids, nil
}

// LowerFirst puts the first word of a label in lower case to go inside a sentence, unless it is an
// acronym such as ESR: "It is a defect" becomes "it is a defect", "ESR already does this" stays.
func LowerFirst(s string) string {
	word, _, _ := strings.Cut(s, " ")
	if len(word) > 1 && strings.ToUpper(word) == word {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
