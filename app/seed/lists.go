package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/catalogue"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/workday"
)

// The starting reference lists (DOMAIN.md) and demo requests that add to them.

var startingRoles = []struct {
	name, level string
	wellbeing   bool
	duties      string
}{
	{"Clinical Supervisor", catalogue.InputManager, false, "Provides clinical supervision to registered practitioners and students."},
	{"First Aider", catalogue.InputManager, false, "Gives first aid at work; holds a current First Aid at Work certificate."},
	{"Interpreter", catalogue.InputManager, false, "Interprets for patients and colleagues in a second language, including British Sign Language."},
	{"Fire Warden", catalogue.InputManager, false, "Checks their area is cleared in a fire evacuation and reports to the fire marshal."},
	{"Freedom to Speak Up Guardian", catalogue.InputProfessionalUser, false, "Supports staff to speak up and reports on themes to the board."},
	{"Health and Wellbeing Champion", catalogue.InputEmployee, true, "Promotes health and wellbeing offers to colleagues in their team."},
	{"Mental Health First Aider", catalogue.InputEmployee, true, "First point of contact for colleagues experiencing a mental health issue or emotional distress."},
	{"Wellbeing Guardian", catalogue.InputProfessionalUser, true, "Board-level role that makes sure the organisation puts staff wellbeing first."},
}

// startingCompetences are the CSTF subjects, with renewal periods held as data: sources differ.
var startingCompetences = []struct {
	name  string
	years int
}{
	{"Equality, Diversity and Human Rights", 3},
	{"Health, Safety and Welfare", 3},
	{"Conflict Resolution", 3},
	{"Fire Safety", 2},
	{"Infection Prevention and Control - Level 1", 3},
	{"Infection Prevention and Control - Level 2", 1},
	{"Moving and Handling - Level 1", 3},
	{"Moving and Handling - Level 2", 2},
	{"Safeguarding Adults - Level 1", 3},
	{"Safeguarding Adults - Level 2", 3},
	{"Safeguarding Adults - Level 3", 3},
	{"Preventing Radicalisation", 3},
	{"Safeguarding Children - Level 1", 3},
	{"Safeguarding Children - Level 2", 3},
	{"Safeguarding Children - Level 3", 3},
	{"Resuscitation - Level 1", 1},
	{"Information Governance and Data Security", 1},
	{"Violence and Aggression (Wales)", 3},
}

// demoListRequest is a demo supplementary role request (role set) or national competency request, and
// the central team's actions on it: acknowledge, request_information, answer, approve, reject, withdraw.
type demoListRequest struct {
	raiser  string
	daysAgo int
	role    *request.NewSupplementaryRole
	comp    *request.NewNationalCompetency
	steps   []demoStep
}

var demoListRequests = []demoListRequest{
	{raiser: "requester@demo.esr-portal.example", daysAgo: 40, role: &request.NewSupplementaryRole{
		RoleName: "Menopause Champion", InputLevel: catalogue.InputEmployee, Wellbeing: true,
		Duties:        "Signposts colleagues to menopause support, runs peer support sessions and raises awareness with managers.",
		Justification: "The NHS England menopause guidance asks organisations to support staff through the menopause; champions are how most trusts do it.",
		Benefits:      "Organisations can report how many champions they have and where, and staff can find one in their area.",
		Organisations: "Thameside Royal Hospitals and most acute trusts in London"},
		steps: []demoStep{{action: "acknowledge"}, {action: "approve", after: 4, text: "A clear wellbeing role that many organisations already use."}}},
	{raiser: "raiser.pennine@demo.esr-portal.example", daysAgo: 12, role: &request.NewSupplementaryRole{
		RoleName: "Armed Forces Champion", InputLevel: catalogue.InputManager,
		Duties:        "Supports veterans, reservists and armed forces families among staff and promotes the Armed Forces Covenant.",
		Justification: "The Armed Forces Covenant duty and the Veteran Aware accreditation ask for a named champion.",
		Benefits:      "Evidence for Veteran Aware accreditation without a separate spreadsheet.",
		Organisations: "Trusts in the North West working towards Veteran Aware accreditation"},
		steps: []demoStep{{action: "acknowledge"}, {action: "request_information", after: 2, text: "Is this the same as the Armed Forces Covenant lead role some trusts record locally?"}}},
	{raiser: "raiser.weald@demo.esr-portal.example", daysAgo: 3, role: &request.NewSupplementaryRole{
		RoleName: "Sustainability Champion", InputLevel: catalogue.InputManager,
		Duties:        "Leads green initiatives in their team and reports progress to the trust's sustainability lead.",
		Justification: "Delivering a Net Zero NHS asks every organisation for a green plan with staff champions.",
		Benefits:      "Green plan reporting of champion coverage by directorate.",
		Organisations: "Weald and Downs Healthcare and neighbouring trusts"}},
	{raiser: "raiser.humber@demo.esr-portal.example", daysAgo: 30, role: &request.NewSupplementaryRole{
		RoleName: "Tea Club Organiser", InputLevel: catalogue.InputProfessionalUser,
		Duties:        "Organises the team's tea rota.",
		Justification: "Helps team morale.",
		Benefits:      "A happier team.",
		Organisations: "Humber Dales Teaching Hospitals"},
		steps: []demoStep{{action: "acknowledge"}, {action: "reject", after: 3,
			text: "Supplementary roles are for duties that organisations need to report on nationally or that carry responsibility; a tea rota is better kept locally."}}},
	{raiser: "raiser.cotswold@demo.esr-portal.example", daysAgo: 50, comp: &request.NewNationalCompetency{
		CompetenceName: "Oliver McGowan Mandatory Training - Tier 1", Framework: "MAND", RenewalYears: 3,
		NationalLearning:   "The Oliver McGowan Mandatory Training on Learning Disability and Autism, Tier 1 (e-learning and interactive online session)",
		NationalInitiative: "Health and Care Act 2022: training on learning disability and autism for all CQC-registered providers",
		StaffGroups:        "All staff, clinical and non-clinical, who do not need Tier 2",
		Justification:      "Statutory since the Health and Care Act 2022; a national competence lets completion transfer between organisations."},
		steps: []demoStep{{action: "acknowledge"}, {action: "approve", after: 5, text: "Statutory training: added to the NHS MAND list so that it transfers between organisations."}}},
	{raiser: "raiser.cotswold@demo.esr-portal.example", daysAgo: 8, comp: &request.NewNationalCompetency{
		CompetenceName: "Oliver McGowan Mandatory Training - Tier 2", Framework: "MAND", RenewalYears: 3,
		NationalLearning:   "The Oliver McGowan Mandatory Training on Learning Disability and Autism, Tier 2 (e-learning and face-to-face session)",
		NationalInitiative: "Health and Care Act 2022",
		StaffGroups:        "Staff who provide care and support to autistic people or people with a learning disability",
		Justification:      "The second tier of the statutory training; Tier 1 is already on the list."},
		steps: []demoStep{{action: "acknowledge"}}},
	{raiser: "requester@demo.esr-portal.example", daysAgo: 2, comp: &request.NewNationalCompetency{
		CompetenceName: "Sepsis Awareness", Framework: "MAND", RenewalYears: 1,
		NationalLearning: "Sepsis awareness e-learning on the e-learning for healthcare hub",
		StaffGroups:      "Registered nurses, midwives, doctors and allied health professionals in acute settings",
		Justification:    "Recognising sepsis early saves lives; organisations already track it locally under different names, so national reporting is impossible."}},
	{raiser: "raiser.teifi@demo.esr-portal.example", daysAgo: 25, comp: &request.NewNationalCompetency{
		CompetenceName: "Welsh Language Awareness", Framework: "CSTF", RenewalYears: 3,
		NationalInitiative: "Welsh Language Standards (No. 7) Regulations 2018",
		StaffGroups:        "All staff in NHS Wales",
		Justification:      "Welsh health boards must offer Welsh language awareness training."},
		steps: []demoStep{{action: "acknowledge"}, {action: "withdraw", after: 6, text: "We will record it as a local competence for NHS Wales instead."}}},
}

// ReferenceLists adds the starting supplementary roles and CSTF competences that are missing, and the
// demo requests that add to them, spread over their lifecycle. It returns how many requests it made.
func ReferenceLists(ctx context.Context, db *bun.DB, now time.Time) (int, error) {
	start := now.AddDate(0, -6, 0)
	for _, r := range startingRoles {
		if _, exists, err := catalogue.RoleExists(ctx, db, r.name); err != nil || exists {
			if err != nil {
				return 0, err
			}
			continue
		}
		if _, err := catalogue.AddRole(ctx, db, catalogue.Role{Name: r.name, InputLevel: r.level, Wellbeing: r.wellbeing, Duties: r.duties, AddedAt: start}); err != nil {
			return 0, err
		}
	}
	for _, c := range startingCompetences {
		if exists, err := catalogue.CompetenceExists(ctx, db, catalogue.Label("CSTF", c.name, c.years)); err != nil || exists {
			if err != nil {
				return 0, err
			}
			continue
		}
		if _, err := catalogue.AddCompetence(ctx, db, catalogue.Competence{Name: c.name, Framework: "CSTF", RenewalYears: c.years, AddedAt: start}); err != nil {
			return 0, err
		}
	}
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		return 0, err
	}
	centralViewer, err := request.ViewerFor(ctx, db, central)
	if err != nil {
		return 0, err
	}
	cal := workday.New()
	made := 0
	for i, d := range demoListRequests {
		token := fmt.Sprintf("00000000-0000-4000-8000-1%011d", i+1)
		if exists, err := db.NewSelect().Table("requests").Where("submission_token = ?", token).Exists(ctx); err != nil || exists {
			if err != nil {
				return made, err
			}
			continue
		}
		raiser, err := identity.GetByEmail(ctx, db, d.raiser)
		if err != nil {
			return made, err
		}
		v, err := request.ViewerFor(ctx, db, raiser)
		if err != nil {
			return made, err
		}
		at := workingHour(now.AddDate(0, 0, -d.daysAgo))
		var r *request.Request
		if d.role != nil {
			in := *d.role
			in.SubmissionToken = token
			r, err = request.RaiseSupplementaryRole(ctx, db, cal, v, System, at, in)
		} else {
			in := *d.comp
			in.SubmissionToken = token
			r, err = request.RaiseNationalCompetency(ctx, db, cal, v, System, at, in)
		}
		if err != nil {
			return made, fmt.Errorf("seed list request %d: %w", i+1, err)
		}
		made++
		version, stepAt := r.Version, at
		for _, s := range d.steps {
			if s.after > 0 {
				stepAt = stepAt.AddDate(0, 0, s.after)
			} else {
				stepAt = stepAt.Add(26 * time.Hour)
			}
			actor := centralViewer
			if s.action == "answer" || s.action == "withdraw" {
				actor = v
			}
			out, err := request.Apply(ctx, db, request.Env{Now: stepAt, Calendar: cal}, actor, System, r.Reference, s.action, request.Input{Version: version, Text: s.text})
			if err != nil {
				return made, fmt.Errorf("seed %s %s: %w", r.Reference, s.action, err)
			}
			version = out.Version
		}
	}
	return made, nil
}
