package request

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

// The business justification is the benefits case for a change (DOMAIN.md "Business justification
// fields"), written in sections on a task list. Each section's answers are kept in one JSON document
// with a version for optimistic locking; submitting it records when it was complete, and any later
// change clears that, so it has to be submitted again.

// Sections of the business justification, by the last part of their page's path.
const (
	SectionAbout        = "about"
	SectionRequirement  = "requirement"
	SectionStrategicFit = "strategic-fit"
	SectionBenefits     = "benefits"
	SectionDelivery     = "delivery"
	SectionSignOff      = "sign-off"
)

// Section is one section of the business justification.
type Section struct {
	Key  string
	Name string
	Hint string
}

// JustificationSections are the sections in the order the task list shows them. Sign-off is last and
// cannot start until the others are complete.
var JustificationSections = []Section{
	{SectionAbout, "About the request", "Service Desk reference, who is asking and the lead NSIG"},
	{SectionRequirement, "The requirement", "What should change, for whom, and why"},
	{SectionStrategicFit, "Strategic fit", "National policy it supports and any legislative or mandatory reason"},
	{SectionBenefits, "Benefits", "Savings, time saved, organisations that benefit, and how you will measure them"},
	{SectionDelivery, "Delivery", "Priority, required-by date, dependencies, risks and workaround"},
	{SectionSignOff, "Sign-off", "The sponsoring manager or ESR lead who supports the case"},
}

// SectionNamed returns a section by its key.
func SectionNamed(key string) (Section, bool) {
	for _, s := range JustificationSections {
		if s.Key == key {
			return s, true
		}
	}
	return Section{}, false
}

// AboutAnswers: who is asking. The organisation and region are the request's own.
type AboutAnswers struct {
	SRNumber       string `json:"sr_number"`
	RequesterName  string `json:"requester_name"`
	RequesterRole  string `json:"requester_role"`
	RequesterEmail string `json:"requester_email"`
	LeadNSIG       string `json:"lead_nsig"`
}

// RequirementAnswers: the change asked for.
type RequirementAnswers struct {
	Title          string   `json:"title"`
	FunctionalArea string   `json:"functional_area"`
	Problem        string   `json:"problem"`
	Proposal       string   `json:"proposal"`
	AffectedUsers  []string `json:"affected_users"`
}

// StrategicFitAnswers: the policy the change supports.
type StrategicFitAnswers struct {
	Policy               string `json:"policy"`
	Legislative          string `json:"legislative"` // "yes" or "no"
	LegislativeReference string `json:"legislative_reference,omitempty"`
}

// MaxOrganisations is how many organisations ESR serves, about 600: the most that can benefit.
const MaxOrganisations = 600

// BenefitsAnswers: what the change is worth.
type BenefitsAnswers struct {
	SavingsPence    int64   `json:"savings_pence"`    // cashable savings a year, in pence
	HoursPerMonth   float64 `json:"hours_per_month"`  // staff hours saved a month per organisation
	Organisations   int     `json:"organisations"`    // organisations that would benefit, 1 to 600
	QualityBenefits string  `json:"quality_benefits"` // quality, safety and experience benefits
	Baseline        string  `json:"baseline"`         // how the benefits will be measured: from
	Target          string  `json:"target"`           // and to
}

// DeliveryAnswers: how soon and at what risk.
type DeliveryAnswers struct {
	Priority         string `json:"priority"`              // a value of Urgencies
	RequiredBy       string `json:"required_by,omitempty"` // a date, 2006-01-02; "" when there is none
	RequiredByReason string `json:"required_by_reason,omitempty"`
	Dependencies     string `json:"dependencies,omitempty"`
	RisksOfDoing     string `json:"risks_of_doing"`
	RisksOfNotDoing  string `json:"risks_of_not_doing"`
	Workaround       string `json:"workaround"`
}

// SignOffAnswers: who supports the case, and when they signed it off.
type SignOffAnswers struct {
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
	Date string `json:"date"` // 2006-01-02
}

// JustificationAnswers are the answers of every section saved so far; a section not yet saved is nil.
type JustificationAnswers struct {
	About        *AboutAnswers        `json:"about,omitempty"`
	Requirement  *RequirementAnswers  `json:"requirement,omitempty"`
	StrategicFit *StrategicFitAnswers `json:"strategic_fit,omitempty"`
	Benefits     *BenefitsAnswers     `json:"benefits,omitempty"`
	Delivery     *DeliveryAnswers     `json:"delivery,omitempty"`
	SignOff      *SignOffAnswers      `json:"sign_off,omitempty"`
}

// section returns a section's answers, nil when not saved, as an interface for comparison and JSON.
func (a *JustificationAnswers) section(key string) any {
	switch key {
	case SectionAbout:
		return a.About
	case SectionRequirement:
		return a.Requirement
	case SectionStrategicFit:
		return a.StrategicFit
	case SectionBenefits:
		return a.Benefits
	case SectionDelivery:
		return a.Delivery
	case SectionSignOff:
		return a.SignOff
	}
	return nil
}

// Saved reports whether a section has answers.
func (a *JustificationAnswers) Saved(key string) bool {
	switch key {
	case SectionAbout:
		return a.About != nil
	case SectionRequirement:
		return a.Requirement != nil
	case SectionStrategicFit:
		return a.StrategicFit != nil
	case SectionBenefits:
		return a.Benefits != nil
	case SectionDelivery:
		return a.Delivery != nil
	case SectionSignOff:
		return a.SignOff != nil
	}
	return false
}

// take copies the answers of one section from b into a.
func (a *JustificationAnswers) take(key string, b JustificationAnswers) {
	switch key {
	case SectionAbout:
		a.About = b.About
	case SectionRequirement:
		a.Requirement = b.Requirement
	case SectionStrategicFit:
		a.StrategicFit = b.StrategicFit
	case SectionBenefits:
		a.Benefits = b.Benefits
	case SectionDelivery:
		a.Delivery = b.Delivery
	case SectionSignOff:
		a.SignOff = b.SignOff
	}
}

// Problems lists what a section's answers lack, in words, empty when the section is complete. The
// forms check the same and more (formats, lengths) before anything is saved; these are the rules a
// justification must meet to be submitted, whatever wrote it.
func (a *JustificationAnswers) Problems(key string) []string {
	if !a.Saved(key) {
		return []string{"Not started"}
	}
	var out []string
	need := func(value, what string) {
		if strings.TrimSpace(value) == "" {
			out = append(out, what)
		}
	}
	switch key {
	case SectionAbout:
		s := a.About
		need(s.SRNumber, "Enter the Service Desk SR number")
		need(s.RequesterName, "Enter the requester's name")
		need(s.RequesterRole, "Enter the requester's role")
		need(s.RequesterEmail, "Enter the requester's email address")
		need(s.LeadNSIG, "Select the lead NSIG")
	case SectionRequirement:
		s := a.Requirement
		need(s.Title, "Enter a title")
		if utf8.RuneCountInString(s.Title) > 120 {
			out = append(out, "The title must be 120 characters or fewer")
		}
		need(s.FunctionalArea, "Select the functional area")
		need(s.Problem, "Describe the problem or current process")
		need(s.Proposal, "Describe the proposed change")
		if len(s.AffectedUsers) == 0 {
			out = append(out, "Select the users affected")
		}
	case SectionStrategicFit:
		s := a.StrategicFit
		need(s.Policy, "Enter the national policy or initiative it supports")
		if s.Legislative != "yes" && s.Legislative != "no" {
			out = append(out, "Say whether it is legislative or mandatory")
		}
		if s.Legislative == "yes" {
			need(s.LegislativeReference, "Enter the legislation or mandate")
		}
	case SectionBenefits:
		s := a.Benefits
		if s.SavingsPence < 0 {
			out = append(out, "Cashable savings cannot be less than £0")
		}
		if s.HoursPerMonth < 0 {
			out = append(out, "Staff hours saved cannot be less than 0")
		}
		if s.Organisations < 1 || s.Organisations > MaxOrganisations {
			out = append(out, fmt.Sprintf("The number of organisations that would benefit must be between 1 and %d", MaxOrganisations))
		}
		need(s.QualityBenefits, "Describe the quality, safety and experience benefits")
		need(s.Baseline, "Enter the baseline the benefits will be measured from")
		need(s.Target, "Enter the target the benefits will be measured against")
	case SectionDelivery:
		s := a.Delivery
		if !slices.ContainsFunc(Urgencies, func(u struct{ Value, Label, Hint string }) bool { return u.Value == s.Priority }) {
			out = append(out, "Select the priority")
		}
		if s.RequiredBy != "" {
			if _, err := time.Parse(time.DateOnly, s.RequiredBy); err != nil {
				out = append(out, "Enter a real required-by date")
			}
			need(s.RequiredByReason, "Explain why it is needed by that date")
		}
		need(s.RisksOfDoing, "Describe the risks of making the change")
		need(s.RisksOfNotDoing, "Describe the risks of not making the change")
		need(s.Workaround, "Describe the workaround in place, or say there is none")
	case SectionSignOff:
		s := a.SignOff
		need(s.Name, "Enter the name of the sponsoring manager or ESR lead")
		if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
			out = append(out, "Enter the date of the sign-off")
		}
	}
	return out
}

// Section states on the task list.
const (
	SectionCompleted   = "completed"
	SectionIncomplete  = "incomplete"
	SectionCannotStart = "cannot_start"
)

// SectionState is where one section stands.
type SectionState struct {
	Section  Section
	State    string
	Problems []string
}

// Missing is one thing a justification lacks before it can be submitted.
type Missing struct {
	Section Section
	Message string
}

// Justification is a request's business justification. Version 0 means none has been saved yet.
type Justification struct {
	bun.BaseModel `bun:"table:business_justifications,alias:bj"`

	RequestID   int64                `bun:"request_id,pk"`
	Answers     JustificationAnswers `bun:"answers,type:jsonb"`
	Version     int                  `bun:"version"`
	SubmittedAt time.Time            `bun:"submitted_at,nullzero"`
	// FirstSubmittedAt is when it was first submitted: the date the Development Schedule counts it from.
	FirstSubmittedAt time.Time `bun:"first_submitted_at,nullzero"`
	UpdatedBy        int64     `bun:"updated_by,nullzero"`
	UpdatedAt        time.Time `bun:"updated_at"`
	UpdatedByName    string    `bun:"updated_by_name,scanonly"`
}

// Submitted reports whether the justification has been submitted as complete since it last changed.
func (j *Justification) Submitted() bool { return !j.SubmittedAt.IsZero() }

// othersComplete reports whether every section but the sign-off is complete.
func (j *Justification) othersComplete() bool {
	for _, s := range JustificationSections {
		if s.Key != SectionSignOff && len(j.Answers.Problems(s.Key)) > 0 {
			return false
		}
	}
	return true
}

// Sections says where each section stands: the sign-off cannot start until the others are complete.
func (j *Justification) Sections() []SectionState {
	others := j.othersComplete()
	out := make([]SectionState, 0, len(JustificationSections))
	for _, s := range JustificationSections {
		st := SectionState{Section: s, Problems: j.Answers.Problems(s.Key)}
		switch {
		case len(st.Problems) == 0:
			st.State = SectionCompleted
		case s.Key == SectionSignOff && !others:
			st.State = SectionCannotStart
		default:
			st.State = SectionIncomplete
		}
		out = append(out, st)
	}
	return out
}

// CanStart reports whether a section may be written now.
func (j *Justification) CanStart(key string) bool {
	return key != SectionSignOff || j.othersComplete() || j.Answers.Saved(SectionSignOff)
}

// Missing lists what stops the justification being submitted, section by section; none when it is
// complete.
func (j *Justification) Missing() []Missing {
	var out []Missing
	for _, st := range j.Sections() {
		if st.State == SectionCompleted {
			continue
		}
		if !j.Answers.Saved(st.Section.Key) {
			out = append(out, Missing{st.Section, "Complete the section ‘" + st.Section.Name + "’"})
			continue
		}
		for _, p := range st.Problems {
			out = append(out, Missing{st.Section, st.Section.Name + ": " + p})
		}
	}
	return out
}

// Completed counts the sections that are complete.
func (j *Justification) Completed() int {
	n := 0
	for _, st := range j.Sections() {
		if st.State == SectionCompleted {
			n++
		}
	}
	return n
}

// justificationSQL is GetJustification's statement.
var justificationSQL database.FixedSQL

// GetJustification reads a request's business justification; one not yet started has version 0 and
// no answers. It does not check who is looking: callers have read the request through GetEnhancement.
func GetJustification(ctx context.Context, db bun.IDB, requestID int64) (*Justification, error) {
	j := new(Justification)
	text := justificationSQL.Text(func() string {
		return db.NewSelect().Model(j).ColumnExpr("bj.*").ColumnExpr("COALESCE(u.name, '') AS updated_by_name").
			Join("LEFT JOIN users AS u ON u.id = bj.updated_by").
			Where("bj.request_id = ?", bun.Safe("?0")).String()
	})
	err := database.ScanPrepared(ctx, db, text, j, requestID)
	if errors.Is(err, sql.ErrNoRows) {
		return &Justification{RequestID: requestID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read business justification of request %d: %w", requestID, err)
	}
	return j, nil
}

// CanEditJustification reports whether the viewer writes the business justification: the raising
// organisation, the development team (co-author) and the functional account manager of the raising
// organisation's region (who helps write it).
func CanEditJustification(v Viewer, r *Request) bool {
	if v.AccessTo(r) < AccessFull {
		return false
	}
	return v.IsRaiser(r) || v.Has(identity.RoleDevelopmentTeam) || (v.Has(identity.RoleFunctionalAccountManager) && v.RegionID == r.RegionID)
}

// CanSubmitJustification reports whether the viewer may submit the business justification as
// complete: the raising organisation and the development team. The FAM helps write it and endorses it.
func CanSubmitJustification(v Viewer, r *Request) bool {
	return v.AccessTo(r) >= AccessFull && (v.IsRaiser(r) || v.Has(identity.RoleDevelopmentTeam))
}

// JustificationConflict is a change made from a version of the justification that is no longer
// current. It holds the current justification so the page can show both. It is a problem.ErrConflict.
type JustificationConflict struct {
	Current *Justification
	Based   int
}

func (e *JustificationConflict) Error() string {
	return fmt.Sprintf("business justification is at version %d, the form was made from version %d", e.Current.Version, e.Based)
}

// Unwrap makes the conflict a problem.ErrConflict.
func (e *JustificationConflict) Unwrap() error { return problem.ErrConflict }

// IncompleteError is a submission of a justification that is not complete: it lists what is missing.
type IncompleteError struct{ Missing []Missing }

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("business justification is not complete: %d things missing", len(e.Missing))
}

// JustificationEdit is a section's answers as a form sends them.
type JustificationEdit struct {
	Version int    // the version the form was made from; 0 when none had been saved
	Section string // the section's key
	Answers JustificationAnswers
}

// SaveJustificationSection saves one section's answers in one transaction with its timeline event,
// audit event and notifications. A form made from an older version is a *JustificationConflict and
// writes nothing. Answers identical to those saved write nothing. A change to a submitted
// justification clears its submission; the second result says whether it did.
func SaveJustificationSection(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, in JustificationEdit) (*Justification, bool, error) {
	sec, ok := SectionNamed(in.Section)
	if !ok {
		return nil, false, fmt.Errorf("justification section %q: %w", in.Section, problem.ErrNotFound)
	}
	if !in.Answers.Saved(sec.Key) {
		return nil, false, fmt.Errorf("save section %s of %s without its answers", sec.Key, reference)
	}
	var out *Justification
	var cleared bool
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockToEdit(ctx, tx, v, reference, "business justification", CanEditJustification)
		if err != nil {
			return err
		}
		j, err := GetJustification(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if j.Version != in.Version {
			return &JustificationConflict{Current: j, Based: in.Version}
		}
		if !j.CanStart(sec.Key) {
			return &RuleError{Field: "", Message: "Complete the other sections before the sign-off"}
		}
		if p := in.Answers.Problems(sec.Key); len(p) > 0 {
			return &RuleError{Field: "", Message: p[0]}
		}
		before, err := json.Marshal(j.Answers.section(sec.Key))
		if err != nil {
			return fmt.Errorf("encode answers: %w", err)
		}
		after, err := json.Marshal(in.Answers.section(sec.Key))
		if err != nil {
			return fmt.Errorf("encode answers: %w", err)
		}
		if bytes.Equal(before, after) {
			out = j
			return nil
		}
		cleared = j.Submitted()
		j.Answers.take(sec.Key, in.Answers)
		doc, err := json.Marshal(j.Answers)
		if err != nil {
			return fmt.Errorf("encode answers: %w", err)
		}
		if j.Version == 0 {
			_, err = tx.NewRaw(`INSERT INTO business_justifications (request_id, answers, version, updated_by, updated_at)
				VALUES (?, ?::jsonb, 1, ?, ?)`, r.ID, string(doc), v.UserID, now).Exec(ctx)
		} else {
			var n int64
			n, err = database.ExecPrepared(ctx, tx, `UPDATE business_justifications SET answers = ?0::jsonb, version = version + 1,
				submitted_at = NULL, updated_by = ?1, updated_at = ?2 WHERE request_id = ?3 AND version = ?4`,
				string(doc), v.UserID, now, r.ID, j.Version)
			if err == nil && n == 0 {
				return &JustificationConflict{Current: j, Based: in.Version}
			}
		}
		if err != nil {
			return fmt.Errorf("save justification of %s: %w", reference, err)
		}
		j.Version++
		j.SubmittedAt, j.UpdatedBy, j.UpdatedAt, j.UpdatedByName = time.Time{}, v.UserID, now, v.Name
		summary := fmt.Sprintf("‘%s’ was saved in the business justification.", sec.Name)
		if cleared {
			summary += " It had been submitted, so it needs to be submitted again."
		}
		if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
			Kind: "justification_saved", Summary: summary}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "justification.saved", EntityType: "request", EntityID: r.Reference,
			Before: map[string]any{"version": in.Version, "submitted": cleared},
			After:  map[string]any{"version": j.Version, "section": sec.Key},
		}); err != nil {
			return err
		}
		title := fmt.Sprintf("%s: the business justification changed (%s)", r.Reference, sec.Name)
		if err := followAndTellReaders(ctx, tx, now, r, v.person(), title, summary, "/requests/"+r.Reference+"/justification", nil); err != nil {
			return err
		}
		out = j
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("save justification of %s: %w", reference, err)
	}
	return out, cleared, nil
}

// SubmitJustification submits the business justification as complete, in one transaction with its
// timeline event, audit event and notifications. The form's version must be current (otherwise a
// *JustificationConflict) and every section complete (otherwise an *IncompleteError listing what is
// missing). Submitting one already submitted changes nothing.
func SubmitJustification(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, version int) (*Justification, error) {
	var out *Justification
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockToEdit(ctx, tx, v, reference, "business justification", CanSubmitJustification)
		if err != nil {
			return err
		}
		j, err := GetJustification(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if j.Version != version {
			return &JustificationConflict{Current: j, Based: version}
		}
		if j.Submitted() {
			out = j
			return nil
		}
		if missing := j.Missing(); len(missing) > 0 {
			return &IncompleteError{Missing: missing}
		}
		if _, err := tx.NewRaw(`UPDATE business_justifications SET submitted_at = ?, first_submitted_at = coalesce(first_submitted_at, ?)
			WHERE request_id = ? AND version = ?`, now, now, r.ID, version).Exec(ctx); err != nil {
			return fmt.Errorf("submit justification of %s: %w", reference, err)
		}
		j.SubmittedAt = now
		summary := "The business justification was submitted. Every section is complete."
		if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
			Kind: "justification_submitted", Summary: summary}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "justification.submitted", EntityType: "request", EntityID: r.Reference,
			After: map[string]any{"version": version},
		}); err != nil {
			return err
		}
		if err := follow(ctx, tx, r.ID, v.UserID, now); err != nil {
			return err
		}
		// Those who may endorse it (the region's FAM, the seat holders of its NSIG) are asked to, each
		// once; the other followers are told it was submitted.
		told, err := askEndorsers(ctx, tx, now, r, v.person(), j.Version)
		if err != nil {
			return err
		}
		title := fmt.Sprintf("%s: the business justification has been submitted", r.Reference)
		if err := tellReaders(ctx, tx, now, r, v.person(), title, summary, "/requests/"+r.Reference+"/justification", told); err != nil {
			return err
		}
		out = j
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("submit justification of %s: %w", reference, err)
	}
	return out, nil
}

// PrefillJustification returns answers for the sections not yet saved, taken from the request as it
// was raised: what the forms show until someone saves them.
func PrefillJustification(ctx context.Context, db bun.IDB, er *EnhancementRequest) (JustificationAnswers, error) {
	var raiser struct {
		Name  string `bun:"name"`
		Email string `bun:"email"`
	}
	if err := db.NewSelect().Table("users").Column("name", "email").Where("id = ?", er.RaisedByID).Scan(ctx, &raiser); err != nil {
		return JustificationAnswers{}, fmt.Errorf("read the raiser of %s: %w", er.Reference, err)
	}
	return JustificationAnswers{
		About: &AboutAnswers{SRNumber: er.SRNumber, RequesterName: raiser.Name, RequesterEmail: raiser.Email, LeadNSIG: er.NSIGName},
		Requirement: &RequirementAnswers{Title: er.Title, FunctionalArea: er.FunctionalArea, Problem: er.Problem, Proposal: er.Proposal,
			AffectedUsers: er.AffectedUsers},
		StrategicFit: &StrategicFitAnswers{},
		Benefits:     &BenefitsAnswers{},
		Delivery:     &DeliveryAnswers{Priority: er.Urgency},
		SignOff:      &SignOffAnswers{},
	}, nil
}

// Endorsement is support for a business justification on behalf of a region: by its functional
// account manager, or by a holder of one of its NSIG seats for its regional SIG.
type Endorsement struct {
	bun.BaseModel `bun:"table:justification_endorsements,alias:je"`

	ID        int64     `bun:"id,pk,autoincrement"`
	RequestID int64     `bun:"request_id"`
	UserID    int64     `bun:"user_id"`
	Endorser  string    `bun:"endorser"`           // EndorserFAM or EndorserRegionalSIG
	RegionID  int16     `bun:"region_id,nullzero"` // the region it speaks for; 0 only for a regional SIG named as text before regions were chosen
	SIGName   string    `bun:"sig_name"`           // that earlier free text; empty since
	Comment   string    `bun:"comment"`
	CreatedAt time.Time `bun:"created_at"`

	UserName         string    `bun:"user_name,scanonly"`
	OrganisationName string    `bun:"organisation_name,scanonly"`
	ForRegion        string    `bun:"for_region,scanonly"` // the name of RegionID's region
	UserOrg          PersonOrg `bun:"embed:user_"`
}

// By is who endorsed it.
func (e *Endorsement) By() Person { return e.UserOrg.Person(e.UserID, e.UserName) }

// On whose behalf an endorsement speaks, as the page says it: "Functional account manager, London",
// "On behalf of the Wales regional SIG".
func (e *Endorsement) On() string {
	switch {
	case e.Endorser == EndorserFAM:
		return "Functional account manager, " + e.ForRegion
	case e.ForRegion != "":
		return "On behalf of the " + e.ForRegion + " regional SIG"
	}
	return "On behalf of " + e.SIGName
}

// Who endorses.
const (
	EndorserFAM         = "functional_account_manager"
	EndorserRegionalSIG = "regional_sig"
)

// EndorsingRegion is a region the viewer may endorse a justification on behalf of, and how.
type EndorsingRegion struct {
	ID       int16  `bun:"id"`
	Name     string `bun:"name"`
	Endorser string `bun:"endorser"` // EndorserFAM or EndorserRegionalSIG
}

// EndorsingRegions returns the regions on whose behalf the viewer may endorse the request's business
// justification, in the regions' order: the region whose functional account manager they are, and each
// region where they hold a current NSIG seat (member or deputy), for its regional SIG. It is empty for
// anyone from the raising organisation, which may not endorse its own justification, and for anyone who
// may not see the request in full.
func EndorsingRegions(ctx context.Context, db bun.IDB, v Viewer, r *Request) ([]EndorsingRegion, error) {
	fam, seated := v.Has(identity.RoleFunctionalAccountManager), v.Has(identity.RoleNSIGMember)
	if v.AccessTo(r) < AccessFull || v.OrganisationID == r.OrganisationID || (!fam && !seated) {
		return nil, nil
	}
	var out []EndorsingRegion
	err := db.NewRaw(`SELECT rg.id, rg.name,
			CASE WHEN ? AND rg.id = ? THEN ? ELSE ? END AS endorser
		FROM regions AS rg
		WHERE (? AND rg.id = ?)
		   OR (? AND EXISTS (SELECT FROM nsig_appointments AS ap
		                     WHERE ap.region_id = rg.id AND ap.user_id = ? AND ap.ended_at IS NULL))
		ORDER BY rg.sort_order`,
		fam, v.RegionID, EndorserFAM, EndorserRegionalSIG, fam, v.RegionID, seated, v.UserID).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("read the regions user %d may endorse for: %w", v.UserID, err)
	}
	return out, nil
}

// Endorsable reports whether endorsements are taken now: from requirements and justification until
// the decision.
func Endorsable(r *Request) bool {
	return r.Status == StatusRequirementsJustification || r.Status == StatusImpactAssessment
}

// EndorsementInput is what the endorsement form sends.
type EndorsementInput struct {
	Comment  string
	RegionID int16 // the region on whose behalf they endorse, one of EndorsingRegions
	// Version is the version of the justification the endorser read (from an email's link): when it is
	// no longer the submitted version, the endorsement is a *JustificationConflict. 0 checks nothing.
	Version int
}

// Endorse records the viewer's endorsement of a submitted business justification on behalf of a region
// they may speak for (EndorsingRegions), in one transaction with its timeline event, audit event and
// notifications. Each person endorses a request once, and each regional SIG once.
func Endorse(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, in EndorsementInput) error {
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		return endorse(ctx, tx, v, actor, now, reference, in)
	})
	if err != nil {
		return fmt.Errorf("endorse %s: %w", reference, err)
	}
	return nil
}

// endorse is Endorse in the caller's transaction.
func endorse(ctx context.Context, tx bun.Tx, v Viewer, actor audit.Actor, now time.Time, reference string, in EndorsementInput) error {
	in.Comment = tidyText(in.Comment)
	r, err := lockForWork(ctx, tx, v, reference)
	if err != nil {
		return err
	}
	if v.OrganisationID == r.OrganisationID {
		return fmt.Errorf("endorse %s: the raising organisation may not endorse its own justification: %w", reference, problem.ErrForbidden)
	}
	regions, err := EndorsingRegions(ctx, tx, v, r)
	if err != nil {
		return err
	}
	if len(regions) == 0 {
		return fmt.Errorf("endorse %s: neither a functional account manager nor an NSIG seat holder: %w", reference, problem.ErrForbidden)
	}
	var region *EndorsingRegion
	for i := range regions {
		if regions[i].ID == in.RegionID {
			region = &regions[i]
		}
	}
	switch {
	case in.RegionID == 0:
		return &RuleError{Field: "region", Message: "Select the region whose SIG you are endorsing it for"}
	case region == nil:
		return &RuleError{Field: "region", Message: NotYourRegion}
	case in.Comment == "":
		return &RuleError{Field: "comment", Message: "Enter your comment"}
	case utf8.RuneCountInString(in.Comment) > 2000:
		return &RuleError{Field: "comment", Message: "Your comment must be 2000 characters or fewer"}
	case !Endorsable(r):
		return &RuleError{Field: "comment", Message: "The business justification can be endorsed only until a decision is made"}
	}
	j, err := GetJustification(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	if in.Version != 0 && (j.Version != in.Version || !j.Submitted()) {
		return &JustificationConflict{Current: j, Based: in.Version}
	}
	if !j.Submitted() {
		return &RuleError{Field: "comment", Message: "You can endorse the business justification once it has been submitted"}
	}
	var earlier []Endorsement
	if err := tx.NewSelect().Model(&earlier).ColumnExpr("je.*, u.name AS user_name").
		Join("JOIN users AS u ON u.id = je.user_id").
		Where("je.request_id = ?", r.ID).
		Where("je.user_id = ? OR (je.endorser = ? AND je.region_id = ?)", v.UserID, EndorserRegionalSIG, region.ID).Scan(ctx); err != nil {
		return fmt.Errorf("read endorsements of %s: %w", reference, err)
	}
	for _, e := range earlier {
		if e.UserID == v.UserID {
			return &RuleError{Field: "comment", Message: "You have already endorsed this business justification"}
		}
		if region.Endorser == EndorserRegionalSIG {
			return &RuleError{Field: "region", Message: fmt.Sprintf("%s has already endorsed it for the %s regional SIG", e.UserName, region.Name)}
		}
	}
	e := &Endorsement{RequestID: r.ID, UserID: v.UserID, Endorser: region.Endorser, RegionID: region.ID, Comment: in.Comment, CreatedAt: now, ForRegion: region.Name}
	if _, err := tx.NewInsert().Model(e).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("endorse %s: %w", reference, err)
	}
	summary := "The functional account manager for " + region.Name + " endorsed the business justification."
	if region.Endorser == EndorserRegionalSIG {
		summary = "The business justification was endorsed on behalf of the " + region.Name + " regional SIG."
	}
	if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
		Kind: "justification_endorsed", Summary: summary, Detail: in.Comment}); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, now, audit.Event{
		Actor: actor, Action: "justification.endorsed", EntityType: "request", EntityID: r.Reference,
		After: map[string]any{"endorsement_id": e.ID, "endorser": region.Endorser, "region_id": region.ID, "region": region.Name},
	}); err != nil {
		return err
	}
	title := fmt.Sprintf("%s: the business justification has been endorsed", r.Reference)
	return followAndTellReaders(ctx, tx, now, r, v.person(), title, summary+"\n\n"+in.Comment, "/requests/"+r.Reference+"/justification", nil)
}

// NotYourRegion is why an endorsement for a region the endorser may not speak for is refused.
const NotYourRegion = "Select a region whose NSIG seat you hold, or whose functional account manager you are"

// Endorsements lists a request's endorsements, oldest first.
func Endorsements(ctx context.Context, db bun.IDB, requestID int64) ([]Endorsement, error) {
	var out []Endorsement
	err := db.NewSelect().Model(&out).ColumnExpr("je.*").
		ColumnExpr("u.name AS user_name, o.name AS organisation_name, coalesce(rg.name, '') AS for_region").
		ColumnExpr(personColumns("u", "user")).
		Join("JOIN users AS u ON u.id = je.user_id").
		Join("JOIN organisations AS o ON o.id = u.organisation_id").
		Join("LEFT JOIN regions AS rg ON rg.id = je.region_id").
		Where("je.request_id = ?", requestID).Order("je.created_at", "je.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list endorsements of request %d: %w", requestID, err)
	}
	return out, nil
}

// WorkSummary is where a request's requirement definition, business justification and attachments
// stand, for the request page.
type WorkSummary struct {
	RequirementVersion   int                  `bun:"requirement_version"`
	AgreedSides          []string             `bun:"agreed_sides,array"` // the sides that agreed the latest version
	JustificationVersion int                  `bun:"justification_version"`
	Answers              JustificationAnswers `bun:"answers,type:jsonb"`
	SubmittedAt          time.Time            `bun:"submitted_at,nullzero"`
	Attachments          int                  `bun:"attachments"`
	Endorsements         int                  `bun:"endorsements"`
}

// Justification is the summary's justification, for its section states.
func (w *WorkSummary) Justification() *Justification {
	return &Justification{Answers: w.Answers, Version: w.JustificationVersion, SubmittedAt: w.SubmittedAt}
}

// Started reports whether anything has been written yet.
func (w *WorkSummary) Started() bool {
	return w.RequirementVersion > 0 || w.JustificationVersion > 0 || w.Attachments > 0
}

// GetWorkSummary reads, in one query, where a request's requirement definition, justification and
// attachments stand.
func GetWorkSummary(ctx context.Context, db bun.IDB, requestID int64) (*WorkSummary, error) {
	w := new(WorkSummary)
	err := db.NewRaw(`SELECT
		COALESCE(lv.version, 0) AS requirement_version,
		ARRAY(SELECT a.side FROM requirement_agreements AS a WHERE a.request_id = r.id AND a.version = lv.version ORDER BY a.side) AS agreed_sides,
		COALESCE(bj.version, 0) AS justification_version,
		COALESCE(bj.answers, '{}'::jsonb) AS answers,
		bj.submitted_at,
		(SELECT count(*) FROM attachments AS at WHERE at.request_id = r.id) AS attachments,
		(SELECT count(*) FROM justification_endorsements AS je WHERE je.request_id = r.id) AS endorsements
		FROM requests AS r
		LEFT JOIN LATERAL (SELECT max(version) AS version FROM requirement_versions WHERE request_id = r.id) AS lv ON true
		LEFT JOIN business_justifications AS bj ON bj.request_id = r.id
		WHERE r.id = ?`, requestID).Scan(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("read the work on request %d: %w", requestID, err)
	}
	return w, nil
}

// askEndorsers asks those who may endorse the submitted business justification of r and have not yet
// (the functional account managers of the raising organisation's region, and the current seat holders of
// its NSIG), each once, to endorse it; their email offers ActionEndorse at the justification's version.
// It returns whom it told.
func askEndorsers(ctx context.Context, tx bun.Tx, now time.Time, r *Request, actor Person, version int) (map[int64]bool, error) {
	var ids []int64
	err := tx.NewRaw(`SELECT u.id FROM users AS u
		WHERE u.status = 'active' AND u.organisation_id <> ?
		  AND (EXISTS (SELECT 1 FROM user_roles AS ur JOIN organisations AS o ON o.id = u.organisation_id
		               WHERE ur.user_id = u.id AND ur.role = ? AND o.region_id = ?)
		       OR EXISTS (SELECT 1 FROM nsig_appointments AS ap WHERE ap.user_id = u.id AND ap.ended_at IS NULL AND ap.nsig_id = ?))
		  AND NOT EXISTS (SELECT 1 FROM justification_endorsements AS je WHERE je.request_id = ? AND je.user_id = u.id)
		ORDER BY u.id`, r.OrganisationID, identity.RoleFunctionalAccountManager, r.RegionID, r.NSIGID, r.ID).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find who may endorse %s: %w", r.Reference, err)
	}
	msgs, err := compose(ctx, tx, r, actor, ids, News{Event: notify.EventEndorsementNeeded,
		Title: "%[1]s: the business justification is ready for your endorsement", MinLevel: AccessFull,
		Link: "/requests/" + r.Reference + "/justification", Actions: []Offer{{ActionEndorse, version}}, OnlyActors: true})
	if err != nil {
		return nil, err
	}
	told := make(map[int64]bool, len(msgs))
	for _, m := range msgs {
		told[m.UserID] = true
	}
	return told, notify.Queue(ctx, tx, now, msgs...)
}
