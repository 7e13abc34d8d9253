package request_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// fullJustification is a complete answer to every section.
func fullJustification() request.JustificationAnswers {
	return request.JustificationAnswers{
		About: &request.AboutAnswers{SRNumber: "SR1234567", RequesterName: "Test raiser", RequesterRole: "ESR lead",
			RequesterEmail: "raiser@test.nhs.uk", LeadNSIG: "Self Service and Portal"},
		Requirement: &request.RequirementAnswers{Title: "Expiry reminders", FunctionalArea: "Self Service", Problem: "Staff miss expiry.",
			Proposal: "Remind them.", AffectedUsers: []string{"employee"}},
		StrategicFit: &request.StrategicFitAnswers{Policy: "CSTF", Legislative: "no"},
		Benefits: &request.BenefitsAnswers{SavingsPence: 1250000, HoursPerMonth: 7.5, Organisations: 220, QualityBenefits: "Safer care",
			Baseline: "82% compliant", Target: "90% compliant"},
		Delivery: &request.DeliveryAnswers{Priority: "high", RequiredBy: "2027-03-31", RequiredByReason: "Audit", RisksOfDoing: "Email volume",
			RisksOfNotDoing: "Non-compliance", Workaround: "Manual chasing"},
		SignOff: &request.SignOffAnswers{Name: "Jo Sponsor", Date: "2026-11-19"},
	}
}

// only returns the answers with just one section's.
func only(section string, all request.JustificationAnswers) request.JustificationAnswers {
	var out request.JustificationAnswers
	switch section {
	case request.SectionAbout:
		out.About = all.About
	case request.SectionRequirement:
		out.Requirement = all.Requirement
	case request.SectionStrategicFit:
		out.StrategicFit = all.StrategicFit
	case request.SectionBenefits:
		out.Benefits = all.Benefits
	case request.SectionDelivery:
		out.Delivery = all.Delivery
	case request.SectionSignOff:
		out.SignOff = all.SignOff
	}
	return out
}

func (w *world) saveSection(who string, r *request.Request, version int, section string, answers request.JustificationAnswers) (*request.Justification, bool, error) {
	w.t.Helper()
	return request.SaveJustificationSection(context.Background(), w.db, w.v[who], audit.Actor{Name: who}, w.now, r.Reference,
		request.JustificationEdit{Version: version, Section: section, Answers: only(section, answers)})
}

func (w *world) submitJustification(who string, r *request.Request, version int) (*request.Justification, error) {
	w.t.Helper()
	return request.SubmitJustification(context.Background(), w.db, w.v[who], audit.Actor{Name: who}, w.now, r.Reference, version)
}

func TestJustificationSectionsCompleteness(t *testing.T) {
	full := fullJustification()
	cases := []struct {
		name    string
		change  func(a *request.JustificationAnswers)
		section string // the section that is no longer complete; "" for none
	}{
		{"all complete", func(*request.JustificationAnswers) {}, ""},
		{"about not saved", func(a *request.JustificationAnswers) { a.About = nil }, request.SectionAbout},
		{"no requester role", func(a *request.JustificationAnswers) { c := *a.About; c.RequesterRole = " "; a.About = &c }, request.SectionAbout},
		{"title too long", func(a *request.JustificationAnswers) {
			c := *a.Requirement
			c.Title = strings.Repeat("t", 121)
			a.Requirement = &c
		}, request.SectionRequirement},
		{"nobody affected", func(a *request.JustificationAnswers) { c := *a.Requirement; c.AffectedUsers = nil; a.Requirement = &c }, request.SectionRequirement},
		{"legislative without reference", func(a *request.JustificationAnswers) {
			a.StrategicFit = &request.StrategicFitAnswers{Policy: "p", Legislative: "yes"}
		}, request.SectionStrategicFit},
		{"legislative with reference", func(a *request.JustificationAnswers) {
			a.StrategicFit = &request.StrategicFitAnswers{Policy: "p", Legislative: "yes", LegislativeReference: "Health and Care Act 2022"}
		}, ""},
		{"legislative not answered", func(a *request.JustificationAnswers) { a.StrategicFit = &request.StrategicFitAnswers{Policy: "p"} }, request.SectionStrategicFit},
		{"no organisations", func(a *request.JustificationAnswers) { c := *a.Benefits; c.Organisations = 0; a.Benefits = &c }, request.SectionBenefits},
		{"601 organisations", func(a *request.JustificationAnswers) { c := *a.Benefits; c.Organisations = 601; a.Benefits = &c }, request.SectionBenefits},
		{"600 organisations", func(a *request.JustificationAnswers) { c := *a.Benefits; c.Organisations = 600; a.Benefits = &c }, ""},
		{"no savings is fine", func(a *request.JustificationAnswers) { c := *a.Benefits; c.SavingsPence = 0; a.Benefits = &c }, ""},
		{"negative hours", func(a *request.JustificationAnswers) { c := *a.Benefits; c.HoursPerMonth = -1; a.Benefits = &c }, request.SectionBenefits},
		{"unknown priority", func(a *request.JustificationAnswers) { c := *a.Delivery; c.Priority = "urgent"; a.Delivery = &c }, request.SectionDelivery},
		{"date without reason", func(a *request.JustificationAnswers) { c := *a.Delivery; c.RequiredByReason = ""; a.Delivery = &c }, request.SectionDelivery},
		{"no date, no reason", func(a *request.JustificationAnswers) {
			c := *a.Delivery
			c.RequiredBy, c.RequiredByReason = "", ""
			a.Delivery = &c
		}, ""},
		{"not a date", func(a *request.JustificationAnswers) { c := *a.Delivery; c.RequiredBy = "31/03/2027"; a.Delivery = &c }, request.SectionDelivery},
		{"sign-off undated", func(a *request.JustificationAnswers) { a.SignOff = &request.SignOffAnswers{Name: "Jo"} }, request.SectionSignOff},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := full
			c.change(&a)
			j := &request.Justification{Answers: a, Version: 3}
			for _, st := range j.Sections() {
				wantComplete := st.Section.Key != c.section
				if (st.State == request.SectionCompleted) != wantComplete {
					t.Errorf("%s is %s (%v)", st.Section.Key, st.State, st.Problems)
				}
			}
			if missing := j.Missing(); (len(missing) == 0) != (c.section == "") {
				t.Errorf("missing %+v", missing)
			}
		})
	}

	// The sign-off cannot start until every other section is complete.
	a := full
	a.Benefits, a.SignOff = nil, nil
	j := &request.Justification{Answers: a}
	states := map[string]string{}
	for _, st := range j.Sections() {
		states[st.Section.Key] = st.State
	}
	if states[request.SectionBenefits] != request.SectionIncomplete || states[request.SectionSignOff] != request.SectionCannotStart {
		t.Errorf("states %v", states)
	}
	if j.CanStart(request.SectionSignOff) || !j.CanStart(request.SectionBenefits) {
		t.Error("sign-off may start before the benefits")
	}
	missing := j.Missing()
	if len(missing) != 2 || missing[0].Section.Key != request.SectionBenefits || missing[1].Section.Key != request.SectionSignOff {
		t.Errorf("missing %+v", missing)
	}
}

func TestJustificationSaveSubmitAndChange(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.inRequirements("Justify me")
	full := fullJustification()

	// Three people write it: the raiser, the development team and the region's FAM.
	writers := map[string]string{
		request.SectionAbout: "raiser", request.SectionRequirement: "developer", request.SectionStrategicFit: "fam_region",
		request.SectionBenefits: "raiser", request.SectionDelivery: "developer",
	}
	version := 0
	for _, sec := range []string{request.SectionAbout, request.SectionRequirement, request.SectionStrategicFit} {
		j, cleared, err := w.saveSection(writers[sec], r, version, sec, full)
		if err != nil || cleared {
			t.Fatalf("save %s: %v (cleared %v)", sec, err, cleared)
		}
		version = j.Version
	}
	if version != 3 {
		t.Fatalf("version %d after three saves", version)
	}
	// Each writer follows the request from their first save, and the others who may read it in full
	// were told of the saves after they followed it; the writer is never told of their own save.
	for _, who := range []string{"raiser", "developer", "fam_region"} {
		if n := w.count("SELECT count(*) FROM request_followers WHERE request_id = ? AND user_id = ?", r.ID, w.v[who].UserID); n != 1 {
			t.Errorf("%s follows the request %d times after saving a section", who, n)
		}
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE request_id = ? AND user_id = ? AND title LIKE '%business justification changed (The requirement)%'`,
		r.ID, w.v["developer"].UserID); n != 0 {
		t.Errorf("the developer was told %d times of their own save", n)
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE request_id = ? AND user_id = ? AND title LIKE '%business justification changed (Strategic fit)%'`,
		r.ID, w.v["developer"].UserID); n != 1 {
		t.Errorf("the developer, following since their save, was told %d times of the FAM's save", n)
	}
	// The sign-off cannot start yet, and the justification cannot be submitted.
	if _, _, err := w.saveSection("raiser", r, version, request.SectionSignOff, full); !isRule(err) {
		t.Errorf("sign-off before the benefits and delivery: %v", err)
	}
	_, err := w.submitJustification("raiser", r, version)
	var incomplete *request.IncompleteError
	if !errors.As(err, &incomplete) || len(incomplete.Missing) != 3 {
		t.Fatalf("submitting an incomplete justification: %v", err)
	}
	for _, sec := range []string{request.SectionBenefits, request.SectionDelivery} {
		j, _, err := w.saveSection(writers[sec], r, version, sec, full)
		if err != nil {
			t.Fatalf("save %s: %v", sec, err)
		}
		version = j.Version
	}
	j, _, err := w.saveSection("raiser", r, version, request.SectionSignOff, full)
	if err != nil {
		t.Fatal(err)
	}
	version = j.Version
	if ok, _ := request.JustificationSubmitted(ctx, w.db, r.ID); ok {
		t.Fatal("submitted before anyone submitted it")
	}
	if _, err := w.submitJustification("fam_region", r, version); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("the FAM submits: %v", err)
	}
	if _, err := w.submitJustification("raiser", r, version-1); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("submit from an old version: %v", err)
	}
	j, err = w.submitJustification("developer", r, version)
	if err != nil || !j.Submitted() {
		t.Fatalf("submit: %v", err)
	}
	if ok, err := request.JustificationSubmitted(ctx, w.db, r.ID); !ok || err != nil {
		t.Fatalf("not submitted: %v", err)
	}

	// Saving the same answers again changes nothing; a change clears the submission.
	if _, cleared, err := w.saveSection("raiser", r, version, request.SectionBenefits, full); err != nil || cleared {
		t.Fatalf("unchanged save: cleared %v, %v", cleared, err)
	}
	changed := fullJustification()
	changed.Benefits.Organisations = 300
	j, cleared, err := w.saveSection("raiser", r, version, request.SectionBenefits, changed)
	if err != nil || !cleared || j.Submitted() {
		t.Fatalf("changed save: cleared %v, submitted %v, %v", cleared, j.Submitted(), err)
	}
	if ok, _ := request.JustificationSubmitted(ctx, w.db, r.ID); ok {
		t.Fatal("still submitted after a change")
	}
	stored, err := request.GetJustification(ctx, w.db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Answers.Benefits.Organisations != 300 || stored.Answers.Benefits.SavingsPence != 1250000 || stored.Answers.About.RequesterRole != "ESR lead" ||
		stored.UpdatedByName != "Test raiser" || stored.Version != version+1 {
		t.Errorf("stored %+v", stored)
	}

	// Timeline, audit and notifications for every save and the submission.
	if got := w.countRows("SELECT count(*) FROM request_events WHERE request_id = ? AND kind LIKE 'justification_%'", r.ID); got != 8 {
		t.Errorf("%d timeline events, want 8 (7 saves, 1 submission)", got)
	}
	if got := w.countRows("SELECT count(*) FROM audit_events WHERE entity_id = ? AND action LIKE 'justification.%'", r.Reference); got != 8 {
		t.Errorf("%d audit events, want 8", got)
	}
	if got := w.countRows("SELECT count(*) FROM notifications WHERE user_id = ? AND event = 'requirements' AND title LIKE '%submitted%'", w.v["raiser"].UserID); got != 1 {
		t.Errorf("the raiser was told of the submission %d times", got)
	}
}

func TestJustificationOptimisticLocking(t *testing.T) {
	w := newWorld(t)
	r := w.inRequirements("Two writers")
	full := fullJustification()
	if _, _, err := w.saveSection("raiser", r, 0, request.SectionAbout, full); err != nil {
		t.Fatal(err)
	}
	other := fullJustification()
	other.About.RequesterRole = "Workforce systems manager"
	_, _, err := w.saveSection("developer", r, 0, request.SectionAbout, other)
	var conflict *request.JustificationConflict
	if !errors.As(err, &conflict) || !errors.Is(err, problem.ErrConflict) {
		t.Fatalf("second save from version 0: %v", err)
	}
	if conflict.Current.Version != 1 || conflict.Current.Answers.About.RequesterRole != "ESR lead" {
		t.Errorf("conflict holds %+v", conflict.Current)
	}
}

func TestJustificationWhoMayWriteAndWhen(t *testing.T) {
	w := newWorld(t)
	r := w.inRequirements("Who justifies me")
	full := fullJustification()
	for who, want := range map[string]error{
		"other_org":     problem.ErrNotFound,
		"fam_elsewhere": problem.ErrNotFound,
		"admin":         problem.ErrNotFound,
		"central":       problem.ErrForbidden,
		"nsig_member":   problem.ErrForbidden,
	} {
		if _, _, err := w.saveSection(who, r, 0, request.SectionAbout, full); !errors.Is(err, want) {
			t.Errorf("%s saves: %v, want %v", who, err, want)
		}
	}
	if _, _, err := w.saveSection("raiser", r, 0, "costs", full); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("an unknown section: %v", err)
	}
	bad := fullJustification()
	bad.Benefits.Organisations = 0
	if _, _, err := w.saveSection("raiser", r, 0, request.SectionBenefits, bad); !isRule(err) {
		t.Errorf("incomplete section answers: %v", err)
	}
	early := w.raise("Still in triage")
	if _, _, err := w.saveSection("raiser", early, 0, request.SectionAbout, full); !isRule(err) {
		t.Errorf("a save in triage: %v", err)
	}
}

func TestJustificationPrefill(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.inRequirements("Prefill me")
	er, _, err := request.GetEnhancement(ctx, w.db, w.v["raiser"], r.Reference)
	if err != nil {
		t.Fatal(err)
	}
	a, err := request.PrefillJustification(ctx, w.db, er)
	if err != nil {
		t.Fatal(err)
	}
	if a.About.SRNumber != "SR1234567" || a.About.RequesterEmail != "raiser@test.nhs.uk" || a.About.LeadNSIG != "Self Service and Portal" ||
		a.Requirement.Title != "Prefill me" || a.Requirement.FunctionalArea != "Self Service" || a.Delivery.Priority != "medium" {
		t.Errorf("prefilled %+v %+v %+v", a.About, a.Requirement, a.Delivery)
	}
}

// seat gives the person a seat (member or deputy) on the request's NSIG for a region; ended makes it a
// term that has ended.
func (w *world) seat(who string, region int16, position string, ended bool) {
	w.t.Helper()
	var endedAt any
	if ended {
		endedAt = w.now.Add(-time.Hour)
	}
	if _, err := w.db.NewRaw(`INSERT INTO nsig_appointments (nsig_id, region_id, position, user_id, nominating_sig, nominated_on,
			how_chosen, term_start, term_end, appointed_by, appointed_at, ended_at)
		SELECT id, ?, ?, ?, 'Regional ESR SIG', '2026-01-01', 'consensus', '2026-01-02', '2028-01-01', ?, ?, ?
		FROM nsigs WHERE name = 'Self Service and Portal'`,
		region, position, w.v[who].UserID, w.v["central"].UserID, w.now, endedAt).Exec(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// person adds someone to the world: a user of the organisation with the roles, reviewing the request's
// NSIG.
func (w *world) person(key, ods string, roles ...string) {
	w.t.Helper()
	ctx := context.Background()
	org, err := organisation.GetByODS(ctx, w.db, ods)
	if err != nil {
		w.t.Fatal(err)
	}
	u, err := identity.Create(ctx, w.db, audit.Actor{Name: "test"}, w.now, identity.NewUser{
		Email: key + "@test.nhs.uk", Name: "Test " + key, OrganisationID: org.ID, Roles: roles, Password: password,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.NewRaw(`INSERT INTO user_nsigs (user_id, nsig_id, granted_at) SELECT ?, id, ? FROM nsigs WHERE name = 'Self Service and Portal'`,
		u.ID, w.now).Exec(ctx); err != nil {
		w.t.Fatal(err)
	}
	if u, err = identity.Get(ctx, w.db, u.ID); err != nil {
		w.t.Fatal(err)
	}
	if w.v[key], err = request.ViewerFor(ctx, w.db, u); err != nil {
		w.t.Fatal(err)
	}
}

// TestEndorsements: a region's FAM, and a current holder of a region's NSIG seat for its regional SIG,
// endorse on behalf of that region only; nobody from the raising organisation, nobody without a current
// seat, and each regional SIG once.
func TestEndorsements(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.inRequirements("Endorse me")
	const london, wales, southWest int16 = 2, 8, 7
	endorse := func(who, comment string, region int16) error {
		return request.Endorse(ctx, w.db, w.v[who], audit.Actor{Name: who}, w.now, r.Reference, request.EndorsementInput{Comment: comment, RegionID: region})
	}
	ruleOn := func(err error, field string) bool {
		var rule *request.RuleError
		return errors.As(err, &rule) && rule.Field == field
	}
	if err := endorse("fam_region", "Strongly supported", london); !isRule(err) {
		t.Errorf("endorsing before the justification is submitted: %v", err)
	}
	full := fullJustification()
	version := 0
	for _, s := range request.JustificationSections {
		j, _, err := w.saveSection("raiser", r, version, s.Key, full)
		if err != nil {
			t.Fatal(err)
		}
		version = j.Version
	}
	if _, err := w.submitJustification("raiser", r, version); err != nil {
		t.Fatal(err)
	}
	// Seat holders: the Wales member, a Wales deputy of another organisation, a London member from the
	// raising organisation, and someone whose South West term has ended.
	w.seat("nsig_member", wales, "member", false)
	w.person("wales_deputy", "ZWA02", identity.RoleNSIGMember)
	w.seat("wales_deputy", wales, "deputy", false)
	w.person("seated_colleague", "ZLN01", identity.RoleNSIGMember, identity.RoleRequester)
	w.seat("seated_colleague", london, "member", false)
	w.person("former", "ZSW01", identity.RoleNSIGMember)
	w.seat("former", southWest, "member", true)
	w.person("unseated", "ZSE01", identity.RoleNSIGMember)

	for who, want := range map[string]error{
		"raiser":           problem.ErrForbidden,
		"seated_colleague": problem.ErrForbidden, // the raising organisation, though seated
		"developer":        problem.ErrForbidden,
		"central":          problem.ErrForbidden,
		"former":           problem.ErrForbidden, // the term has ended
		"unseated":         problem.ErrForbidden,
		"fam_elsewhere":    problem.ErrNotFound,
		"other_org":        problem.ErrNotFound,
		"other_nsig":       problem.ErrNotFound,
	} {
		if err := endorse(who, "Yes", london); !errors.Is(err, want) {
			t.Errorf("%s endorses: %v, want %v", who, err, want)
		}
	}
	current, _, err := request.GetEnhancement(ctx, w.db, w.v["central"], r.Reference)
	if err != nil {
		t.Fatal(err)
	}
	regions := func(who string) []request.EndorsingRegion {
		t.Helper()
		got, err := request.EndorsingRegions(ctx, w.db, w.v[who], &current.Request)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := regions("fam_region"); len(got) != 1 || got[0].ID != london || got[0].Endorser != request.EndorserFAM {
		t.Errorf("the London FAM may endorse for %+v, want London as FAM", got)
	}
	if got := regions("nsig_member"); len(got) != 1 || got[0].ID != wales || got[0].Endorser != request.EndorserRegionalSIG {
		t.Errorf("the Wales member may endorse for %+v, want the Wales regional SIG", got)
	}
	for _, who := range []string{"raiser", "seated_colleague", "former", "unseated", "developer"} {
		if got := regions(who); len(got) != 0 {
			t.Errorf("%s may endorse for %+v, want none", who, got)
		}
	}

	if err := endorse("fam_region", "  ", london); !ruleOn(err, "comment") {
		t.Errorf("no comment: %v", err)
	}
	if err := endorse("fam_region", "For Wales", wales); !ruleOn(err, "region") {
		t.Errorf("the London FAM endorses for Wales: %v", err)
	}
	if err := endorse("fam_region", "Strongly supported by London trusts", london); err != nil {
		t.Fatal(err)
	}
	if err := endorse("fam_region", "Again", london); !isRule(err) {
		t.Errorf("endorsing twice: %v", err)
	}
	// A seat holder endorses for their region's SIG, which they must choose.
	if err := endorse("nsig_member", "Wales supports it", 0); !ruleOn(err, "region") {
		t.Errorf("no region: %v", err)
	}
	if err := endorse("nsig_member", "London supports it", london); !ruleOn(err, "region") {
		t.Errorf("the Wales member endorses for London: %v", err)
	}
	if err := endorse("nsig_member", "Wales supports it", wales); err != nil {
		t.Fatal(err)
	}
	if err := endorse("wales_deputy", "Wales again", wales); !ruleOn(err, "region") {
		t.Errorf("a second endorsement for the Wales regional SIG: %v", err)
	}
	list, err := request.Endorsements(ctx, w.db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Endorser != request.EndorserFAM || list[0].RegionID != london || list[0].On() != "Functional account manager, London" ||
		list[1].Endorser != request.EndorserRegionalSIG || list[1].RegionID != wales || list[1].On() != "On behalf of the Wales regional SIG" ||
		list[1].UserName != "Test nsig_member" {
		t.Errorf("endorsements %+v", list)
	}
	if got := w.countRows("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'justification_endorsed'", r.ID); got != 2 {
		t.Errorf("%d endorsement events, want 2", got)
	}
	if got := w.countRows("SELECT count(*) FROM audit_events WHERE action = 'justification.endorsed' AND entity_id = ?", r.Reference); got != 2 {
		t.Errorf("%d endorsement audit events, want 2", got)
	}
}
