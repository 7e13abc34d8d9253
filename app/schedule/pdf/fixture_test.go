package pdf

import (
	"fmt"
	"time"

	"github.com/nhs-esr/portal/app/schedule"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

type organisation struct{ name, region string }

var organisations = []organisation{
	{"Betsi Cadwaladr University Health Board", "Wales"},
	{"Ysbyty Gwynedd, Betsi Cadwaladr University Health Board", "Wales"},
	{"Hywel Dda University Health Board", "Wales"},
	{"Guy’s and St Thomas’ NHS Foundation Trust", "London"},
	{"Fenland Valley NHS Foundation Trust", "East of England"},
	{"Charnwood Heath NHS Foundation Trust", "Midlands"},
	{"Tyne and Wear Community Health NHS Trust", "North East and Yorkshire"},
	{"Pennine Moors Mental Health NHS Foundation Trust", "North West"},
	{"Weald and Downs Hospitals NHS Trust", "South East"},
	{"Kernow Coast Healthcare NHS Trust", "South West"},
}

// titles are the example requests of the portal's demo data, with two of the schedule's own.
var titles = []string{
	"Add a 30/60/90-day competence expiry reminder to Employee Self Service",
	"Let supervisors filter the Compliance Matrix by CSTF subject and staff group",
	"Show the outcome and review date on the flexible working requests portlet",
	"Record the annual Fit and Proper Person Test self-attestation date for board members",
	"Add \"Date of last Right to Work check\" to the Employment Checklist BI report",
	"Transfer Oliver McGowan Tier 1 completion through Inter Authority Transfer on hire",
	"Remind managers of AfC pay-step reviews 8 weeks before the pay progression date",
	"Add RSV to the national Immunisation and Vaccination values",
	"Oliver McGowan Mandatory Training compliance dashboard by tier",
	"Offer OLM class waiting-list places automatically and notify learners by email",
	"Add \"Cadet Force Adult Volunteer\" to the Armed Forces community values",
	"Let employees download P60 and P11D as PDF from the ESR app",
	"Welsh-language (Cymraeg) field labels on the online payslip: “Cyflog”, ŵ and ŷ",
	"A \"Retire and Return\" leaving-reason sub-category for pension reporting",
	"Let bank workers view and confirm upcoming OLM enrolments in the ESR app",
	"Record the protégé and mentor on the Clinical Supervisor supplementary role",
}

var (
	areas    = []string{"Self Service", "Learning Management (OLM)", "Core HR", "Business Intelligence", "Payroll", "Inter Authority Transfer (IAT)", "Recruitment", "Absence"}
	nsigs    = []string{"Self Service and Portal", "Learning and Development (OLM)", "HR and Recruitment", "Business Intelligence and Workforce Information", "Payroll and Pensions"}
	statuses = []string{"Allocated to release", "In development", "In testing", "Ready for release"}
	reasons  = []string{
		"The development team needs the Release 72 capacity for the statutory pension changes; the change moves with the agreement of the requesting organisation.",
		"Brought forward: the NSIG agreed it should go with the related Employee Self Service changes.",
		"Supplier testing found a defect in the interface file – deferred until the fix is in.",
		"Depends on the national Inter Authority Transfer changes in the next release.",
	}
	rationales = map[string][]string{
		"Approved": {
			"Saves an estimated £12,500 a year across 14 organisations and removes a manual monthly report.",
			"Supports a statutory requirement (Health and Care Act 2022); benefits every organisation.",
			"Strong case from four regions; low effort; no interface changes.",
		},
		"Deferred": {
			"Worth doing, but depends on the Inter Authority Transfer redesign planned for 2027/28; to be reconsidered then.",
			"Deferred until the NSIG has agreed the national values with NHS Employers.",
		},
		"Not approved": {
			"Already possible with the existing Compliance Matrix filters; the central team will publish guidance instead.",
			"Benefits one organisation only (£800 a year) against a large effort.",
		},
	}
	undecided = []string{"Awaiting decision", "In impact assessment", "Requirement definition"}
)

// sampleDocument is a realistic published schedule with about items table rows spread over the sections:
// four tenths allocated to releases, three tenths business justifications, two tenths delivered and one
// tenth moved.
func sampleDocument(items int) *schedule.Document {
	q := schedule.Quarter{Year: 2026, Q: 3}
	pub := day(2026, time.November, 21)
	doc := &schedule.Document{
		Title:              "ESR Development Schedule",
		Reference:          "ESR-DS-2026-Q3",
		Quarter:            q,
		QuarterLabel:       q.Label(),
		PublicationDate:    pub,
		Version:            2,
		ChangeNote:         "Version 2 corrects the target date of Release 73 to 26 March 2027 and adds ENH-2026-0141, allocated to Release 72 on 20 November 2026. Nothing else has changed.",
		Author:             "ESR Central Team",
		JustificationsFrom: day(2026, time.May, 21),
		Since:              day(2026, time.August, 21), SinceSchedule: true,
		HowToRaise: []string{
			"Anyone in an NHS organisation that uses ESR can ask for an enhancement. First log a Service Request with the ESR Service Desk: the SR number becomes the request's reference with the central team.",
			"Then raise the request in the ESR Enhancement Portal and complete the business justification: the problem, the change you propose, who it affects, the benefits (cashable savings such as £12,500 a year, hours saved, how many organisations would benefit) and any statutory deadline.",
			"Your functional account manager can help you with the justification. The central team triages every request within ten working days, assesses the impact with the development team, and decides with the National Special Interest Group (NSIG) for the area. Decisions are published in this schedule every quarter.",
		},
	}
	nChanges := items * 4 / 10
	nJust := items * 3 / 10
	nDelivered := items * 2 / 10
	nMoves := items - nChanges - nJust - nDelivered
	seq := 0
	ref := func() string {
		seq++
		return fmt.Sprintf("ENH-2026-%04d", seq)
	}
	org := func(i int) organisation { return organisations[i%len(organisations)] }
	title := func(i int) string { return titles[i%len(titles)] }

	doc.Releases = []schedule.Release{
		{Number: 72, Name: "Release 72", TargetDate: day(2026, time.December, 11), Status: "In progress"},
		{Number: 73, Name: "Release 73", TargetDate: day(2027, time.March, 26), Status: "Planned"},
		{Number: 74, Name: "Release 74", TargetDate: day(2027, time.June, 25), Status: "Planned"},
	}
	for i := 0; i < nChanges; i++ {
		rel := 0
		if i >= nChanges*6/10 {
			rel = 1
		}
		o := org(i)
		doc.Releases[rel].Changes = append(doc.Releases[rel].Changes, schedule.Change{
			Reference: ref(), Title: title(i), FunctionalArea: areas[i%len(areas)], NSIG: nsigs[i%len(nsigs)],
			Organisation: o.name, Region: o.region, Status: statuses[i%len(statuses)], Release: doc.Releases[rel].Label(),
		})
	}
	outcomes := []string{"Approved", "Deferred", "Not approved", "Approved", ""}
	for i := 0; i < nJust; i++ {
		o := org(i + 3)
		raised := doc.JustificationsFrom.AddDate(0, 0, (i*7)%180)
		j := schedule.Justification{Reference: ref(), Title: title(i + 5), Organisation: o.name, Region: o.region, RaisedOn: raised}
		if out := outcomes[i%len(outcomes)]; out != "" {
			j.Outcome = out
			j.DecisionDate = raised.AddDate(0, 0, 28)
			if j.DecisionDate.After(pub) {
				j.DecisionDate = pub
			}
			rs := rationales[out]
			j.Rationale = rs[i%len(rs)]
		} else {
			j.Outcome = undecided[i%len(undecided)]
		}
		doc.Justifications = append(doc.Justifications, j)
	}
	for i := 0; i < nDelivered; i++ {
		o := org(i + 6)
		doc.Delivered = append(doc.Delivered, schedule.Change{
			Reference: ref(), Title: title(i + 9), FunctionalArea: areas[i%len(areas)], NSIG: nsigs[i%len(nsigs)],
			Organisation: o.name, Region: o.region, Status: "Delivered", Release: "R71", DeliveredOn: day(2026, time.September, 25),
		})
	}
	for i := 0; i < nMoves; i++ {
		from, to := "R72", "R73"
		if i%3 == 1 {
			from, to = "R73", "R72"
		}
		doc.Moves = append(doc.Moves, schedule.Move{
			Reference: ref(), Title: title(i + 2), From: from, To: to,
			MovedOn: doc.Since.AddDate(0, 0, 3+(i*5)%85), Reason: reasons[i%len(reasons)],
		})
	}
	if items > 0 {
		doc.Gaps = []string{
			"Release 69 existed on 21 November 2026, but its name, target date and status then are not recorded.",
			"Whether ENH-2025-0042 was allocated to a release on 21 November 2026, and to which, is not recorded.",
		}
	}
	return doc
}

// references lists every reference in the document's tables.
func references(doc *schedule.Document) []string {
	var refs []string
	for _, r := range doc.Releases {
		for _, c := range r.Changes {
			refs = append(refs, c.Reference)
		}
	}
	for _, j := range doc.Justifications {
		refs = append(refs, j.Reference)
	}
	for _, c := range doc.Delivered {
		refs = append(refs, c.Reference)
	}
	for _, m := range doc.Moves {
		refs = append(refs, m.Reference)
	}
	return refs
}
