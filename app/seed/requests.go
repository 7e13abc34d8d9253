package seed

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/workday"
)

// demoRaisers are requesters in other organisations, so that demo requests come from across the
// regions. They sign in with DemoPassword too.
var demoRaisers = []struct{ email, name, ods string }{
	{"raiser.fenland@demo.esr-portal.example", "Oliver Marsh", "ZEA01"},
	{"raiser.charnwood@demo.esr-portal.example", "Sunita Kaur", "ZMD01"},
	{"raiser.humber@demo.esr-portal.example", "Callum Reid", "ZNE01"},
	{"raiser.pennine@demo.esr-portal.example", "Bethan Hughes", "ZNW01"},
	{"raiser.weald@demo.esr-portal.example", "Grace Adeyemi", "ZSE01"},
	{"raiser.cotswold@demo.esr-portal.example", "Tom Penrose", "ZSW01"},
	{"raiser.teifi@demo.esr-portal.example", "Rhiannon Price", "ZWA01"},
	// Two raisers with NHSmail-style addresses, on the default list of secure email domains, so that the
	// mail view shows both levels of email: theirs carry actions, everyone else's are summaries.
	{demoSecureHumber, "Jade Whitfield", "ZNE01"},
	{demoSecureCharnwood, "Ravi Mistry", "ZMD01"},
}

// The demo's NHSmail-style addresses (nhs.net, the default secure domain). Their local parts are made
// up for the demo; the demo sends no email unless SMTP is configured, and it must never be.
const (
	demoSecureHumber    = "esrportal.demo.humber@nhs.net"
	demoSecureCharnwood = "esrportal.demo.charnwood@nhs.net"
	demoSecureCentral   = "esrportal.demo.central@nhs.net"
)

// demoStep is a lifecycle transition, or one of the steps whose forms other pages own, done directly:
// "prepare" (an agreed requirement definition and a submitted business justification), "assess" (the
// development team's completed impact assessment) and "move" (to another release, the text its reason).
type demoStep struct {
	action    string
	text      string
	reason    string
	dup       int     // index of the original, for duplicates
	release   int     // the release number, to allocate or move to
	review    int     // days after the step when a deferred request comes back for assessment
	after     int     // days after the previous step (or the arrival); 0 is 26 hours
	effort    float64 // effort days, for "assess"
	recommend string  // approve, defer or not_approve, for "assess"
}

type demoRequest struct {
	raiser   string // email
	title    string
	area     string
	problem  string
	proposal string
	affected []string
	urgency  string
	why      string
	daysAgo  int
	steps    []demoStep
	supports []string // emails of raisers whose organisations support it
	raised   string   // the day it arrived, when it is fixed (for requests delivered in past releases); daysAgo otherwise
}

// assessed is the way from arrival to a completed impact assessment of effort days with a
// recommendation: triage, the requester's decision, the requirement definition and justification.
// It takes 31 days.
func assessed(effort float64, recommend, notes string) []demoStep {
	return []demoStep{
		{action: "acknowledge"},
		{action: "classify_enhancement", after: 3, text: "A national change that fits the roadmap for this functional area."},
		{action: "progress", after: 2},
		{action: "prepare", after: 14},
		{action: "submit_for_assessment", after: 1},
		{action: "assess", after: 10, effort: effort, recommend: recommend, text: notes},
	}
}

// allocatedTo is assessed, approved and allocated to a release, 38 days after arrival.
func allocatedTo(number int, effort float64) []demoStep {
	return append(assessed(effort, "approve", "Straightforward: no interface changes."),
		demoStep{action: "approve", after: 5, text: "Approved: clear benefits for many organisations at modest effort."},
		demoStep{action: "allocate", after: 2, release: number})
}

var demoRequests = []demoRequest{
	{"requester@demo.esr-portal.example", "Add a 30/60/90-day competence expiry reminder to Employee Self Service", "Self Service",
		"Staff only find out a competence has expired when their compliance turns red, and managers chase them by hand.",
		"Send employees a reminder in Employee Self Service, and by email, 90, 60 and 30 days before a competence expires.",
		[]string{"employee", "manager"}, "high", "Compliance with mandatory training dropped below 85% this year.", 62,
		[]demoStep{{action: "acknowledge"}, {action: "classify_enhancement", text: "A national change that many organisations have asked for."}, {action: "progress"}},
		[]string{"raiser.fenland@demo.esr-portal.example", "raiser.teifi@demo.esr-portal.example", "raiser.weald@demo.esr-portal.example"}, ""},
	{demoSecureCharnwood, "Let supervisors filter the Compliance Matrix by CSTF subject and staff group", "Learning Management (OLM)",
		"The Compliance Matrix shows every competence at once, so supervisors of large teams cannot see who is missing one CSTF subject.",
		"Add filters for CSTF subject and staff group to the Compliance Matrix.",
		[]string{"manager"}, "medium", "", 48,
		[]demoStep{{action: "acknowledge"}, {action: "classify_enhancement"}},
		[]string{"requester@demo.esr-portal.example"}, ""},
	{demoSecureHumber, "Show the outcome and review date on the flexible working requests portlet", "Self Service",
		"Employees cannot see the outcome of their flexible working request or when it will be reviewed.",
		"Show the outcome and review date on the portlet.", []string{"employee", "manager"}, "medium", "", 40,
		[]demoStep{{action: "acknowledge"}, {action: "request_information", text: "Which version of the flexible working portlet do you use, and is the review date held in ESR today?"}},
		nil, ""},
	{"raiser.pennine@demo.esr-portal.example", "Record the annual Fit and Proper Person Test self-attestation date for board members", "Core HR",
		"The Fit and Proper Person Test framework needs an annual self-attestation date for every board member, which we hold in a spreadsheet.",
		"Add a field for the annual self-attestation date on the person record, reportable in BI.",
		[]string{"professional_user"}, "critical", "The framework applies from this financial year and auditors ask for the evidence.", 45,
		allocatedTo(72, 18),
		[]string{"raiser.humber@demo.esr-portal.example"}, ""},
	{"raiser.weald@demo.esr-portal.example", "Add \"Date of last Right to Work check\" to the Employment Checklist BI report", "Business Intelligence",
		"Recruitment teams cannot report when Right to Work was last checked.",
		"Add the date of the last Right to Work check to the Employment Checklist report.",
		[]string{"professional_user"}, "high", "Home Office audits ask for it.", 30,
		[]demoStep{{action: "acknowledge"}, {action: "not_taken_forward", reason: "existing_functionality",
			text: "The date is already available in the Employment Checklist Detail report (column 'RTW Check Date'). The BI user guide, section 4.3, shows how to add it to your own version."}},
		nil, ""},
	{"raiser.cotswold@demo.esr-portal.example", "Transfer Oliver McGowan Tier 1 completion through Inter Authority Transfer on hire", "Inter Authority Transfer (IAT)",
		"New starters must repeat Oliver McGowan Tier 1 because the completion does not come across with the IAT.",
		"Include Oliver McGowan Tier 1 completion in the competences transferred through IAT.",
		[]string{"employee", "professional_user"}, "high", "Statutory training since the Health and Care Act 2022.", 26,
		[]demoStep{{action: "acknowledge"}}, nil, ""},
	{"raiser.teifi@demo.esr-portal.example", "Remind managers of AfC pay-step reviews 8 weeks before the pay progression date", "Payroll",
		"Pay progression reviews are missed because managers are not reminded in time.",
		"Notify managers 8 weeks before an employee's Agenda for Change pay progression date.",
		[]string{"manager"}, "medium", "", 21,
		[]demoStep{{action: "acknowledge"}, {action: "withdraw", text: "Our local workflow tool now does this for us."}}, nil, ""},
	{"raiser.fenland@demo.esr-portal.example", "Add RSV to the national Immunisation and Vaccination values", "Core HR",
		"Occupational health cannot record RSV vaccination in ESR.", "Add RSV to the national Immunisation and Vaccination list of values.",
		[]string{"professional_user"}, "medium", "", 0, allocatedTo(69, 3), nil, "2025-11-17"},
	{"raiser.charnwood@demo.esr-portal.example", "Oliver McGowan Mandatory Training compliance dashboard by tier", "Business Intelligence",
		"Boards ask for Oliver McGowan compliance by tier and we build it by hand every month.",
		"Add a dashboard of Oliver McGowan compliance by Tier 1 and Tier 2.", []string{"manager", "professional_user"}, "medium", "", 60,
		assessed(0, "", "")[:5], nil, ""}, // in impact assessment
	{"requester@demo.esr-portal.example", "Offer OLM class waiting-list places automatically and notify learners by email", "Learning Management (OLM)",
		"When a place on a class becomes free, administrators must offer it to the waiting list by hand.",
		"Offer freed places to the waiting list in order and email the learner.", []string{"employee", "professional_user"}, "low", "", 9, nil, nil, ""},
	{"raiser.humber@demo.esr-portal.example", "Add \"Cadet Force Adult Volunteer\" to the Armed Forces community values", "Core HR",
		"We cannot record staff who are Cadet Force Adult Volunteers.", "Add the value to the Armed Forces community list.",
		[]string{"employee", "professional_user"}, "low", "", 0, allocatedTo(68, 2), nil, "2025-08-04"},
	{"raiser.pennine@demo.esr-portal.example", "Let employees download P60 and P11D as PDF from the ESR app", "Self Service",
		"Employees ask payroll for copies of their P60 and P11D.", "Let employees download both as PDF from the ESR app.",
		[]string{"employee"}, "medium", "", 130,
		append(assessed(22, "defer", "Build it on the ESR app's new document service, due in 2027, rather than on the one being replaced."),
			demoStep{action: "defer", after: 6, review: 150,
				text: "Deferred until the ESR app's new document service is live: building it twice would cost more than waiting."}),
		nil, ""},
	{"raiser.teifi@demo.esr-portal.example", "Welsh-language (Cymraeg) field labels on the online payslip", "Payroll",
		"Welsh speakers cannot read their online payslip in Welsh, which the Welsh Language Standards ask us to offer.",
		"Offer Welsh (Cymraeg) labels on the online payslip — for example ‘Cyflog sylfaenol’ for basic pay.",
		[]string{"employee"}, "high", "Welsh Language Standards (No. 7) Regulations 2018.", 90, allocatedTo(73, 25),
		[]string{"raiser.fenland@demo.esr-portal.example"}, ""},
	{"raiser.weald@demo.esr-portal.example", "A \"Retire and Return\" leaving-reason sub-category for pension reporting", "Payroll",
		"Retire and return cases are hard to report for pensions.", "Add a Retire and Return sub-category to the leaving reasons.",
		[]string{"professional_user"}, "medium", "", 0, allocatedTo(70, 8), nil, "2026-01-19"},
	{"raiser.cotswold@demo.esr-portal.example", "Let bank workers view and confirm upcoming OLM enrolments in the ESR app", "Learning Management (OLM)",
		"Bank workers cannot see their OLM enrolments in the ESR app.", "Show upcoming enrolments in the app and let bank workers confirm them.",
		[]string{"employee"}, "medium", "", 1, nil, nil, ""},
	{"raiser.fenland@demo.esr-portal.example", "Remind staff before their mandatory training competences expire", "Self Service",
		"Our staff miss the expiry of their mandatory training.", "Remind staff by email before competences expire.",
		[]string{"employee"}, "medium", "", 20,
		[]demoStep{{action: "acknowledge"}, {action: "not_taken_forward", reason: "duplicate", dup: 0,
			text: "This is the same change as an earlier request that is further on; your organisation now supports that one."}},
		nil, ""},
	{"raiser.weald@demo.esr-portal.example", "Let employees change their bank details in Employee Self Service without payroll approval", "Payroll",
		"Payroll teams re-key every change of bank details that employees send on paper forms.",
		"Let employees change their own bank details in Employee Self Service, taking effect in the next payroll without a check by payroll.",
		[]string{"employee"}, "medium", "", 100,
		append(assessed(15, "not_approve", "Removing the second check on changes of bank details would open the main route of payroll mandate fraud."),
			demoStep{action: "not_approve", after: 7,
				text: "Not approved: NHS Counter Fraud Authority guidance asks for a second check on changes of bank details, and removing it would expose every organisation to mandate fraud. Employees can already ask for the change in Employee Self Service, and payroll verifies it."}),
		nil, ""},
	{"raiser.cotswold@demo.esr-portal.example", "Show Bradford Factor scores to managers in Manager Self Service", "Absence",
		"Managers work out Bradford Factor scores by hand from absence reports before return-to-work meetings.",
		"Calculate each employee's Bradford Factor score over a rolling 52 weeks and show it to their manager in Manager Self Service.",
		[]string{"manager"}, "medium", "", 0,
		append(allocatedTo(71, 30), demoStep{action: "move", after: 110, release: 72,
			text: "User acceptance testing found that the score counted bank holidays as absence days. The fix needs another test cycle, so it moves to the next release."}),
		[]string{"raiser.fenland@demo.esr-portal.example", "raiser.humber@demo.esr-portal.example"}, "2026-04-13"},
	{"raiser.teifi@demo.esr-portal.example", "Record a reasonable adjustments passport on the person record", "Core HR",
		"Staff who move between NHS organisations have to explain their agreed reasonable adjustments again at every move.",
		"Add a reasonable adjustments passport (the adjustments agreed and the date of their last review) to the person record, carried over by Inter Authority Transfer.",
		[]string{"employee", "manager"}, "high", "Supports the NHS Health Passport and the Workforce Disability Equality Standard.", 0, allocatedTo(71, 12),
		[]string{"requester@demo.esr-portal.example"}, "2026-03-09"},
	{"requester@demo.esr-portal.example", "Show each employee's remaining annual leave in the ESR app", "Self Service",
		"Staff phone HR to ask how much annual leave they have left, because the ESR app does not show it.",
		"Show the annual leave entitlement, the leave taken and the leave remaining for the current leave year on the ESR app's home screen.",
		[]string{"employee"}, "medium", "", 75,
		append(assessed(10, "approve", "Reuses the absence data the app already reads; no interface changes."),
			demoStep{action: "approve", after: 5, text: "Approved: it saves HR teams many calls at modest effort. It will be allocated to a release."}),
		[]string{"raiser.pennine@demo.esr-portal.example"}, ""},
}

// Requests adds the demo enhancement requests that are missing, spread over the whole lifecycle, with
// the central team's actions dated as if they had happened over the last months (or, for the requests
// delivered in past releases, on fixed days before those releases), then the demo releases
// (Releases), which delivers those, and then the reference lists and their requests (ReferenceLists).
func Requests(ctx context.Context, db *bun.DB, now time.Time) (int, error) {
	cal := workday.New()
	for _, r := range demoRaisers {
		if _, err := ensureUser(ctx, db, now, r.email, r.name, r.ods, identity.RoleRequester); err != nil {
			return 0, err
		}
	}
	// A second member of the central team, with an NHSmail-style address: the central team's emails
	// reach her with their actions and the demo central team without.
	if _, err := ensureUser(ctx, db, now, demoSecureCentral, "Amara Osei", "ZNC01", identity.RoleCentralTeam); err != nil {
		return 0, err
	}
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		return 0, err
	}
	centralViewer, err := request.ViewerFor(ctx, db, central)
	if err != nil {
		return 0, err
	}
	developer, err := identity.GetByEmail(ctx, db, "developer@demo.esr-portal.example")
	if err != nil {
		return 0, err
	}
	if err := addReleases(ctx, db, now); err != nil {
		return 0, err
	}
	// They arrive in date order, so that references count up with time.
	arrivals := make([]time.Time, len(demoRequests))
	order := make([]int, len(demoRequests))
	for i, d := range demoRequests {
		order[i] = i
		arrivals[i] = workingHour(now.AddDate(0, 0, -d.daysAgo))
		if d.raised != "" {
			day, err := time.Parse(time.DateOnly, d.raised)
			if err != nil {
				return 0, fmt.Errorf("seed %q: %w", d.title, err)
			}
			arrivals[i] = workingHour(day)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return arrivals[a].Compare(arrivals[b]) })
	made := 0
	refs := make([]string, len(demoRequests))
	for _, i := range order {
		d := demoRequests[i]
		token := fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		var existing string
		err := db.NewSelect().Table("requests").Column("reference").Where("submission_token = ?", token).Scan(ctx, &existing)
		if err == nil {
			refs[i] = existing
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
		at := arrivals[i]
		sr := fmt.Sprintf("SR%07d", 4100000+i*137)
		r, err := request.RaiseEnhancement(ctx, db, cal, v, System, at, request.NewEnhancement{
			SRNumber: sr, Title: d.title, FunctionalArea: d.area, Problem: d.problem,
			Proposal: d.proposal, AffectedUsers: d.affected, Urgency: d.urgency, UrgencyReason: d.why, SubmissionToken: token,
		})
		if err != nil {
			return made, fmt.Errorf("seed %q: %w", d.title, err)
		}
		refs[i] = r.Reference
		made++
		version := r.Version
		stepAt := at
		for _, s := range d.steps {
			if s.after > 0 {
				stepAt = stepAt.AddDate(0, 0, s.after)
			} else {
				stepAt = stepAt.Add(26 * time.Hour)
			}
			env := request.Env{Now: stepAt, Calendar: cal}
			switch s.action {
			case "prepare":
				if err := prepareDemo(ctx, db, r, d, sr, raiser, developer.ID, stepAt); err != nil {
					return made, err
				}
				continue
			case "assess":
				if err := assessDemo(ctx, db, r, d, s, developer.ID, stepAt); err != nil {
					return made, err
				}
				continue
			case "move":
				if version, err = moveDemo(ctx, db, env, centralViewer, r, version, s); err != nil {
					return made, err
				}
				continue
			}
			actor := centralViewer
			switch s.action {
			case "progress", "withdraw", "decline", "answer", "submit_for_assessment":
				actor = v
			}
			in := request.Input{Version: version, Text: s.text, Reason: s.reason}
			if s.reason == "duplicate" {
				if in.DuplicateOf = refs[s.dup]; in.DuplicateOf == "" {
					return made, fmt.Errorf("seed %q: its original arrives after it", d.title)
				}
			}
			if s.release != 0 {
				if in.ReleaseID, err = demoReleaseID(ctx, db, s.release); err != nil {
					return made, err
				}
			}
			if s.review != 0 {
				in.ReviewOn = stepAt.AddDate(0, 0, s.review)
			}
			if s.action == "classify_enhancement" {
				in.Summary = request.SuggestSummary(d.proposal)
			}
			out, err := request.Apply(ctx, db, env, actor, System, r.Reference, s.action, in)
			if err != nil {
				return made, fmt.Errorf("seed %s %s: %w", r.Reference, s.action, err)
			}
			version = out.Version
		}
		supportAt := stepAt.Add(26 * time.Hour)
		if supportAt.After(now) {
			supportAt = now
		}
		for _, sup := range d.supports {
			u, err := identity.GetByEmail(ctx, db, sup)
			if err != nil {
				return made, err
			}
			sv, err := request.ViewerFor(ctx, db, u)
			if err != nil {
				return made, err
			}
			if err := request.Support(ctx, db, sv, System, supportAt, r.Reference, "We need this too."); err != nil {
				return made, fmt.Errorf("seed support of %s: %w", r.Reference, err)
			}
		}
	}
	if err := Releases(ctx, db, now); err != nil {
		return made, err
	}
	if err := Governance(ctx, db, now); err != nil {
		return made, err
	}
	listed, err := ReferenceLists(ctx, db, now)
	return made + listed, err
}

// workingHour moves a time to 10:00 UTC on the same day, so that demo requests arrive in office hours.
func workingHour(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 10, 0, 0, 0, time.UTC)
}

func ensureUser(ctx context.Context, db *bun.DB, now time.Time, email, name, ods, role string) (*identity.User, error) {
	u, err := identity.GetByEmail(ctx, db, email)
	if err == nil {
		return u, nil
	}
	org, err := organisation.GetByODS(ctx, db, ods)
	if err != nil {
		return nil, err
	}
	return identity.Create(ctx, db, System, now, identity.NewUser{
		Email: email, Name: name, OrganisationID: org.ID, Roles: []string{role}, Password: DemoPassword,
	})
}
