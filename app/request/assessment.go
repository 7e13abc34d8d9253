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
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

// EffortSizes are the sizes an impact assessment puts on a change.
var EffortSizes = []struct{ Value, Label, Hint string }{
	{"S", "Small", "Up to about 10 days"},
	{"M", "Medium", "About 10 to 40 days"},
	{"L", "Large", "About 40 to 100 days"},
	{"XL", "Extra large", "More than about 100 days"},
}

// Recommendations are what the development team can recommend the central team decides.
var Recommendations = []struct{ Value, Label string }{
	{"approve", "Approve"},
	{"defer", "Defer"},
	{"not_approve", "Do not approve"},
}

// RecommendationLabel returns the words for a recommendation code.
func RecommendationLabel(code string) string {
	for _, r := range Recommendations {
		if r.Value == code {
			return r.Label
		}
	}
	return code
}

// EffortSizeLabel returns the words for an effort size, e.g. "M (Medium)".
func EffortSizeLabel(size string) string {
	for _, s := range EffortSizes {
		if s.Value == size {
			return s.Value + " (" + s.Label + ")"
		}
	}
	return size
}

// maxAssessmentText is the most characters a text answer of an assessment may hold.
const maxAssessmentText = 5000

// Assessment is the development team's impact assessment of a request. Version 0 is an assessment
// that has an assessor but no saved answers yet; a request with no row at all reads as the zero
// Assessment with its RequestID.
type Assessment struct {
	RequestID      int64     `bun:"request_id"`
	AssessorID     int64     `bun:"assessor_id"`
	AssessorName   string    `bun:"assessor_name"`
	EffortSize     string    `bun:"effort_size"`
	EffortDays     *float64  `bun:"effort_days"`
	Modules        []string  `bun:"modules,array"`
	Interfaces     string    `bun:"interfaces"`
	Risks          string    `bun:"risks"`
	Dependencies   string    `bun:"dependencies"`
	CostPence      *int64    `bun:"cost_pence"`
	Recommendation string    `bun:"recommendation"`
	Notes          string    `bun:"notes"`
	CompletedAt    time.Time `bun:"completed_at,nullzero"`
	Version        int       `bun:"version"`
	UpdatedByName  string    `bun:"updated_by_name"`
	UpdatedAt      time.Time `bun:"updated_at,nullzero"`
	// EnteredAt is when the request last came into impact assessment.
	EnteredAt time.Time `bun:"entered_at,nullzero"`
}

// Started reports whether anyone has saved answers.
func (a *Assessment) Started() bool { return a.Version > 0 }

// Completed reports whether the assessment has been completed.
func (a *Assessment) Completed() bool { return !a.CompletedAt.IsZero() }

// Outdated reports whether the assessment was completed before the request last came back into
// impact assessment (after a deferral), so the development team should look at it again.
func (a *Assessment) Outdated() bool {
	return a.Completed() && !a.EnteredAt.IsZero() && a.CompletedAt.Before(a.EnteredAt)
}

// assessmentSelect reads the assessment of a request with the names pages show; rows with no
// assessment yet come back with NULLs, which the COALESCEs turn into zero values.
const assessmentSelect = `SELECT r.id AS request_id,
	COALESCE(ia.assessor_id, 0) AS assessor_id, COALESCE(au.name, '') AS assessor_name,
	COALESCE(ia.effort_size, '') AS effort_size, ia.effort_days::float8 AS effort_days,
	COALESCE(ia.modules, '{}') AS modules, COALESCE(ia.interfaces, '') AS interfaces,
	COALESCE(ia.risks, '') AS risks, COALESCE(ia.dependencies, '') AS dependencies,
	(ia.cost_pounds * 100)::bigint AS cost_pence, COALESCE(ia.recommendation, '') AS recommendation,
	COALESCE(ia.notes, '') AS notes, ia.completed_at, COALESCE(ia.version, 0) AS version,
	COALESCE(ub.name, '') AS updated_by_name, ia.updated_at,
	(SELECT max(ev.occurred_at) FROM request_events AS ev WHERE ev.request_id = r.id AND ev.to_status = 'impact_assessment') AS entered_at,
	ia.request_id IS NOT NULL AS stored
FROM requests AS r
LEFT JOIN impact_assessments AS ia ON ia.request_id = r.id
LEFT JOIN users AS au ON au.id = ia.assessor_id
LEFT JOIN users AS ub ON ub.id = ia.updated_by
WHERE r.id = ?0`

type storedAssessment struct {
	Assessment `bun:",extend"`
	Stored     bool `bun:"stored"`
}

// readAssessment returns the assessment of a request and whether its row exists.
func readAssessment(ctx context.Context, db bun.IDB, requestID int64) (*Assessment, bool, error) {
	var s storedAssessment
	// A fixed text with the request as its parameter, planned once a connection: the national teams'
	// request pages run it.
	if err := database.ScanPrepared(ctx, db, assessmentSelect, &s, requestID); err != nil {
		return nil, false, fmt.Errorf("read impact assessment of request %d: %w", requestID, err)
	}
	return &s.Assessment, s.Stored, nil
}

// mayReadAssessment: only the central and development teams see impact assessments.
func mayReadAssessment(v Viewer) bool {
	return v.Has(identity.RoleCentralTeam) || v.Has(identity.RoleDevelopmentTeam)
}

// GetAssessment returns the impact assessment of a request the viewer has already been allowed to see,
// for the central and development teams; anyone else gets problem.ErrForbidden. A request nobody has
// started assessing gives an Assessment of version 0 with no assessor.
func GetAssessment(ctx context.Context, db bun.IDB, v Viewer, requestID int64) (*Assessment, error) {
	if !mayReadAssessment(v) {
		return nil, fmt.Errorf("impact assessment of request %d: %w", requestID, problem.ErrForbidden)
	}
	a, _, err := readAssessment(ctx, db, requestID)
	return a, err
}

// AssessmentInput is what the impact assessment form sends, parsed.
type AssessmentInput struct {
	Version        int // the assessment's version the form was made from
	EffortSize     string
	EffortDays     *float64
	Modules        []string
	Interfaces     string
	Risks          string
	Dependencies   string
	CostPence      *int64
	Recommendation string
	Notes          string
	// Complete marks the assessment complete, which needs the effort size, a recommendation and the
	// risks; otherwise it is saved as a draft (and a completed one is reopened).
	Complete bool
}

// AssessmentConflict is a save made from an out-of-date form: someone else saved the assessment
// since, or the request has left impact assessment. Current is the assessment as it stands now.
type AssessmentConflict struct {
	Reference string
	Status    Status
	Current   *Assessment
}

func (e *AssessmentConflict) Error() string {
	return fmt.Sprintf("impact assessment of %s is at version %d and the request is %s", e.Reference, e.Current.Version, e.Status)
}

// Unwrap makes an AssessmentConflict a problem.ErrConflict.
func (e *AssessmentConflict) Unwrap() error { return problem.ErrConflict }

func (in *AssessmentInput) tidy() {
	in.EffortSize, in.Recommendation = strings.TrimSpace(in.EffortSize), strings.TrimSpace(in.Recommendation)
	in.Interfaces, in.Risks = strings.TrimSpace(in.Interfaces), strings.TrimSpace(in.Risks)
	in.Dependencies, in.Notes = strings.TrimSpace(in.Dependencies), strings.TrimSpace(in.Notes)
	mods := []string{} // never NULL: the column is NOT NULL
	for _, m := range in.Modules {
		if m = strings.TrimSpace(m); m != "" && !slices.Contains(mods, m) {
			mods = append(mods, m)
		}
	}
	in.Modules = mods
}

// check applies the rules a save must keep, in the order the form asks its questions.
func (in *AssessmentInput) check(ctx context.Context, tx bun.IDB) error {
	if in.EffortSize != "" && EffortSizeLabel(in.EffortSize) == in.EffortSize {
		return &RuleError{Field: "effort_size", Message: "Select the effort size from the list"}
	}
	if in.Complete && in.EffortSize == "" {
		return &RuleError{Field: "effort_size", Message: "Select the effort size"}
	}
	if in.EffortDays != nil && (*in.EffortDays < 0 || *in.EffortDays > 99999.9) {
		return &RuleError{Field: "effort_days", Message: "Effort in days must be between 0 and 99999.9"}
	}
	if len(in.Modules) > 0 {
		var known int
		if err := tx.NewSelect().Table("functional_areas").ColumnExpr("count(*)").Where("name IN (?)", bun.List(in.Modules)).Scan(ctx, &known); err != nil {
			return fmt.Errorf("check modules: %w", err)
		}
		if known != len(in.Modules) {
			return &RuleError{Field: "modules", Message: "Select the ESR modules from the list"}
		}
	}
	for _, f := range []struct{ field, name, value string }{
		{"interfaces", "Interfaces affected", in.Interfaces},
		{"risks", "Risks", in.Risks},
		{"dependencies", "Dependencies", in.Dependencies},
	} {
		if len([]rune(f.value)) > maxAssessmentText {
			return &RuleError{Field: f.field, Message: fmt.Sprintf("%s must be %d characters or fewer", f.name, maxAssessmentText)}
		}
	}
	if in.Complete && in.Risks == "" {
		return &RuleError{Field: "risks", Message: "Describe the risks"}
	}
	if in.CostPence != nil && (*in.CostPence < 0 || *in.CostPence > 999_999_999_999) {
		return &RuleError{Field: "cost", Message: "Cost must be between £0 and £9,999,999,999.99"}
	}
	if in.Recommendation != "" && RecommendationLabel(in.Recommendation) == in.Recommendation {
		return &RuleError{Field: "recommendation", Message: "Select your recommendation from the list"}
	}
	if in.Complete && in.Recommendation == "" {
		return &RuleError{Field: "recommendation", Message: "Select your recommendation"}
	}
	if len([]rune(in.Notes)) > maxAssessmentText {
		return &RuleError{Field: "notes", Message: fmt.Sprintf("Notes must be %d characters or fewer", maxAssessmentText)}
	}
	return nil
}

// SaveAssessment saves the development team's impact assessment of a request in impact assessment, as
// a draft or completed, in one transaction with its timeline event, audit record and notifications.
// Only the development team may save, and only the assessor once one is assigned (an unassigned
// assessment becomes the saver's). A form made from an older version, or a request that has left
// impact assessment, is an *AssessmentConflict carrying the assessment as it stands.
func SaveAssessment(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, in AssessmentInput) (*Assessment, error) {
	if !v.Has(identity.RoleDevelopmentTeam) {
		return nil, fmt.Errorf("save impact assessment of %s: %w", reference, problem.ErrForbidden)
	}
	in.tidy()
	var out *Assessment
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockByReference(ctx, tx, reference)
		if err != nil {
			return err
		}
		if r.Kind != KindEnhancement || v.AccessTo(r) < AccessInternal {
			return fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
		}
		cur, stored, err := readAssessment(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if r.Status != StatusImpactAssessment || cur.Version != in.Version {
			return &AssessmentConflict{Reference: r.Reference, Status: r.Status, Current: cur}
		}
		if cur.AssessorID != 0 && cur.AssessorID != v.UserID {
			return &RuleError{Field: "assessor_id", Message: "This assessment is assigned to " + cur.AssessorName + ": assign it to yourself to change it"}
		}
		if err := in.check(ctx, tx); err != nil {
			return err
		}
		var completed any
		if in.Complete {
			completed = now
		}
		var days, cost any
		if in.EffortDays != nil {
			days = *in.EffortDays
		}
		if in.CostPence != nil {
			cost = *in.CostPence
		}
		if !stored {
			_, err = tx.NewRaw(`INSERT INTO impact_assessments (request_id, assessor_id, effort_size, effort_days, modules, interfaces,
				risks, dependencies, cost_pounds, recommendation, notes, completed_at, version, updated_by, updated_at)
				VALUES (?, ?, NULLIF(?, ''), ?::numeric, ?, ?, ?, ?, ?::numeric / 100, NULLIF(?, ''), ?, ?, 1, ?, ?)`,
				r.ID, v.UserID, in.EffortSize, days, pgdialect.Array(in.Modules), in.Interfaces,
				in.Risks, in.Dependencies, cost, in.Recommendation, in.Notes, completed, v.UserID, now).Exec(ctx)
		} else {
			var res sql.Result
			res, err = tx.NewRaw(`UPDATE impact_assessments SET assessor_id = COALESCE(assessor_id, ?), effort_size = NULLIF(?, ''),
				effort_days = ?::numeric, modules = ?, interfaces = ?, risks = ?, dependencies = ?, cost_pounds = ?::numeric / 100,
				recommendation = NULLIF(?, ''), notes = ?, completed_at = ?, version = version + 1, updated_by = ?, updated_at = ?
				WHERE request_id = ? AND version = ?`,
				v.UserID, in.EffortSize, days, pgdialect.Array(in.Modules), in.Interfaces, in.Risks, in.Dependencies, cost,
				in.Recommendation, in.Notes, completed, v.UserID, now, r.ID, in.Version).Exec(ctx)
			if err == nil {
				if n, _ := res.RowsAffected(); n != 1 {
					return &AssessmentConflict{Reference: r.Reference, Status: r.Status, Current: cur}
				}
			}
		}
		if err != nil {
			return fmt.Errorf("save impact assessment of %s: %w", r.Reference, err)
		}
		if cur.AssessorID == 0 {
			if err := follow(ctx, tx, r.ID, v.UserID, now); err != nil {
				return err
			}
		}
		ev := Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
			Kind: "assessment_saved", Summary: "Impact assessment draft saved.", Internal: true}
		action := "request.assessment_saved"
		if in.Complete {
			ev.Kind, ev.Internal, action = "assessment_completed", false, "request.assessment_completed"
			ev.Summary = "Impact assessment completed: " + recommendationPhrase(in.Recommendation) + "."
		}
		if err := addEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: action, EntityType: "request", EntityID: r.Reference,
			Before: map[string]any{"version": cur.Version, "completed": cur.Completed(), "effort_size": cur.EffortSize, "recommendation": cur.Recommendation},
			After:  map[string]any{"version": in.Version + 1, "completed": in.Complete, "effort_size": in.EffortSize, "recommendation": in.Recommendation},
		}); err != nil {
			return err
		}
		if in.Complete {
			// The central team decides next: tell the triager, or the whole team when nobody triages it.
			ids, err := recipients(ctx, tx, r, toTriage)
			if err != nil {
				return err
			}
			// They may approve, defer or not approve it straight from the email.
			at := r.Version
			if err := Tell(ctx, tx, now, r, v.person(), ids, News{Event: notify.EventDecisionNeeded,
				Title: "%[1]s: the impact assessment is complete, ready for a decision", MinLevel: AccessInternal,
				Detail: "The development team's " + recommendationPhrase(in.Recommendation) + ".", DetailLevel: AccessInternal,
				Actions: []Offer{{"approve", at}, {"defer", at}, {"not_approve", at}}}); err != nil {
				return err
			}
		}
		out, _, err = readAssessment(ctx, tx, r.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("save impact assessment of %s: %w", reference, err)
	}
	return out, nil
}

// recommendationPhrase words a recommendation for the timeline: "recommendation to approve".
func recommendationPhrase(code string) string {
	switch code {
	case "approve":
		return "recommendation to approve"
	case "defer":
		return "recommendation to defer"
	case "not_approve":
		return "recommendation not to approve"
	}
	return "recommendation " + code
}

// AssignAssessor sets who on the development team assesses a request in impact assessment (0: nobody),
// for the central or development team. from is the assessor the form showed: when someone changed it
// since, it is problem.ErrConflict rather than a silent overwrite. Assigning does not change the
// assessment's version, so an assessor's open form stays good. The new assessor follows the request
// and is told.
func AssignAssessor(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, from, to int64) error {
	if !mayReadAssessment(v) {
		return fmt.Errorf("assign assessor of %s: %w", reference, problem.ErrForbidden)
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockByReference(ctx, tx, reference)
		if err != nil {
			return err
		}
		if r.Kind != KindEnhancement || v.AccessTo(r) < AccessInternal {
			return fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
		}
		if r.Status != StatusImpactAssessment {
			return fmt.Errorf("request %s is %s, not in impact assessment: %w", reference, r.Status, problem.ErrConflict)
		}
		cur, _, err := readAssessment(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if cur.AssessorID != from {
			return fmt.Errorf("assessor of %s changed since the form was made: %w", reference, problem.ErrConflict)
		}
		var name string
		if to != 0 {
			err := tx.NewSelect().TableExpr("users AS u").Column("u.name").
				Join("JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?", identity.RoleDevelopmentTeam).
				Where("u.id = ? AND u.status = 'active'", to).Scan(ctx, &name)
			if errors.Is(err, sql.ErrNoRows) {
				return &RuleError{Field: "assessor_id", Message: "Select a member of the development team"}
			}
			if err != nil {
				return fmt.Errorf("check assessor: %w", err)
			}
		}
		if to == cur.AssessorID {
			return nil
		}
		// A new row has version 0: an assessor and no answers yet, so that a form opened before it
		// was assigned still saves.
		if _, err := tx.NewRaw(`INSERT INTO impact_assessments (request_id, assessor_id, version, updated_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (request_id) DO UPDATE SET assessor_id = EXCLUDED.assessor_id`, r.ID, database.NullID(to), now).Exec(ctx); err != nil {
			return fmt.Errorf("assign assessor of %s: %w", reference, err)
		}
		summary := "Nobody is assigned to the impact assessment now."
		if to != 0 {
			summary = "Impact assessment assigned to " + name + "."
			if err := follow(ctx, tx, r.ID, to, now); err != nil {
				return err
			}
		}
		if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
			Kind: "assessor_assigned", Summary: summary, Internal: true}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "request.assessor_assigned", EntityType: "request", EntityID: r.Reference,
			Before: map[string]any{"assessor_id": cur.AssessorID}, After: map[string]any{"assessor_id": to},
		}); err != nil {
			return err
		}
		if to == 0 || to == v.UserID {
			return nil
		}
		return notify.Queue(ctx, tx, now, notify.Message{UserID: to, Event: notify.EventDecisionNeeded, RequestID: r.ID,
			Title: fmt.Sprintf("%s asked you to assess the impact of %s", v.Name, r.Reference), Body: r.Title,
			Link: "/requests/" + r.Reference + "/assessment"})
	})
	if err != nil {
		return fmt.Errorf("assign assessor of %s: %w", reference, err)
	}
	return nil
}

// WaitingRow is a request in impact assessment whose assessment is not done: not completed, or
// completed before the request came back from a deferral.
type WaitingRow struct {
	Reference        string    `bun:"reference"`
	Title            string    `bun:"title"`
	FunctionalArea   string    `bun:"functional_area"`
	OrganisationName string    `bun:"organisation_name"`
	AssessorID       int64     `bun:"assessor_id"`
	EnteredAt        time.Time `bun:"entered_at"`
	Version          int       `bun:"version"`
	UpdatedAt        time.Time `bun:"updated_at,nullzero"`
	CompletedAt      time.Time `bun:"completed_at,nullzero"`
}

// WaitingForAssessment returns the requests in impact assessment assigned to the assessor, and those
// assigned to nobody, whose assessment is not done, the longest waiting first.
func WaitingForAssessment(ctx context.Context, db bun.IDB, assessorID int64) ([]WaitingRow, error) {
	var rows []WaitingRow
	err := db.NewRaw(`SELECT r.reference, r.title, e.functional_area, o.name AS organisation_name,
			COALESCE(ia.assessor_id, 0) AS assessor_id, w.entered_at, COALESCE(ia.version, 0) AS version,
			ia.updated_at, ia.completed_at
		FROM requests AS r
		JOIN enhancement_requests AS e ON e.request_id = r.id
		JOIN organisations AS o ON o.id = r.organisation_id
		LEFT JOIN impact_assessments AS ia ON ia.request_id = r.id
		CROSS JOIN LATERAL (SELECT COALESCE(max(ev.occurred_at), r.updated_at) AS entered_at FROM request_events AS ev
			WHERE ev.request_id = r.id AND ev.to_status = 'impact_assessment') AS w
		WHERE r.status = 'impact_assessment'
		AND (ia.assessor_id = ? OR ia.assessor_id IS NULL)
		AND (ia.completed_at IS NULL OR ia.completed_at < w.entered_at)
		ORDER BY w.entered_at, r.id`, assessorID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("list requests waiting for assessment: %w", err)
	}
	return rows, nil
}

// Decision is the central team's decision on a request after impact assessment.
type Decision struct {
	Outcome       string    `bun:"outcome"` // approved, deferred or not_approved
	Rationale     string    `bun:"rationale"`
	ReviewOn      time.Time `bun:"review_on,type:date,nullzero"`
	DecidedByName string    `bun:"decided_by_name"`
	DecidedAt     time.Time `bun:"decided_at"`
}

// OutcomeLabel is the decision in words.
func (d Decision) OutcomeLabel() string {
	switch d.Outcome {
	case "approved":
		return "Approved"
	case "deferred":
		return "Deferred"
	case "not_approved":
		return "Not approved"
	}
	return d.Outcome
}

// LatestDecision returns the latest decision on a request, and false when none has been made.
func LatestDecision(ctx context.Context, db bun.IDB, requestID int64) (Decision, bool, error) {
	var d Decision
	err := db.NewRaw(`SELECT d.outcome, d.rationale, d.review_on, u.name AS decided_by_name, d.decided_at
		FROM request_decisions AS d JOIN users AS u ON u.id = d.decided_by
		WHERE d.request_id = ? ORDER BY d.decided_at DESC, d.id DESC LIMIT 1`, requestID).Scan(ctx, &d)
	if errors.Is(err, sql.ErrNoRows) {
		return Decision{}, false, nil
	}
	if err != nil {
		return Decision{}, false, fmt.Errorf("read decision on request %d: %w", requestID, err)
	}
	return d, true, nil
}

// DeferredRow is a deferred request with the date it comes back for assessment.
type DeferredRow struct {
	Reference        string    `bun:"reference"`
	Title            string    `bun:"title"`
	OrganisationName string    `bun:"organisation_name"`
	ReviewOn         time.Time `bun:"review_on,type:date"`
	DeferredAt       time.Time `bun:"deferred_at,nullzero"`
	Rationale        string    `bun:"rationale"`
}

// Deferred returns the deferred requests, the soonest review date first, with the latest decision's
// date and rationale.
func Deferred(ctx context.Context, db bun.IDB) ([]DeferredRow, error) {
	var rows []DeferredRow
	err := db.NewRaw(`SELECT r.reference, r.title, o.name AS organisation_name, r.review_on,
			d.decided_at AS deferred_at, COALESCE(d.rationale, '') AS rationale
		FROM requests AS r
		JOIN organisations AS o ON o.id = r.organisation_id
		LEFT JOIN LATERAL (SELECT decided_at, rationale FROM request_decisions
			WHERE request_id = r.id ORDER BY decided_at DESC, id DESC LIMIT 1) AS d ON true
		WHERE r.status = 'deferred' AND r.review_on IS NOT NULL
		ORDER BY r.review_on, r.id`).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("list deferred requests: %w", err)
	}
	return rows, nil
}

// SystemViewer is the portal itself acting as a central team member, for jobs that make transitions
// on their own, such as bringing deferred requests back on their review dates.
func SystemViewer(name string) Viewer {
	return Viewer{Name: name, Roles: []string{identity.RoleCentralTeam}}
}

// ReturnDueForReview brings every deferred request whose review date has come (on or before today in
// London) back into impact assessment with the review transition, each in its own transaction, as the
// system viewer. It returns the references it moved. It is idempotent and safe to run on several
// instances at once: each request is locked and its status checked again before it moves, so a
// request another run has moved is skipped. A request that fails is reported, and the rest still move.
func ReturnDueForReview(ctx context.Context, db *bun.DB, env Env, system Viewer) ([]string, error) {
	today := env.Calendar.Date(env.Now).Format("2006-01-02")
	var due []string
	if err := db.NewSelect().Table("requests").Column("reference").
		Where("kind = ? AND status = ? AND review_on <= ?::date", KindEnhancement, StatusDeferred, today).Order("review_on", "id").Scan(ctx, &due); err != nil {
		return nil, fmt.Errorf("find requests due for review: %w", err)
	}
	actor := audit.Actor{UserID: system.UserID, Name: system.Name}
	var moved []string
	var errs []error
	for _, ref := range due {
		done := false
		err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
			var version int
			err := tx.NewSelect().Table("requests").Column("version").
				Where("reference = ? AND status = ? AND review_on <= ?::date", ref, StatusDeferred, today).For("UPDATE").Scan(ctx, &version)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // another run has brought it back already
			}
			if err != nil {
				return fmt.Errorf("lock %s: %w", ref, err)
			}
			if _, err := ApplyInTx(ctx, tx, env, system, actor, ref, "review", Input{Version: version}); err != nil {
				return err
			}
			done = true
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("bring %s back for review: %w", ref, err))
			continue
		}
		if done {
			moved = append(moved, ref)
		}
	}
	return moved, errors.Join(errs...)
}
