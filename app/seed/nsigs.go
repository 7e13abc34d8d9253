package seed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/request"
)

// Fictional seat holders' names: a person's first name and surname come from these lists by a number,
// so that every demo seat holder is someone different.
var (
	seatFirstNames = []string{"Alys", "Bernard", "Chloe", "Dev", "Elin", "Farah", "Gwilym", "Harriet", "Imran", "Jessica",
		"Kofi", "Lowri", "Mahesh", "Niamh", "Owain", "Philippa", "Qasim", "Rosalind", "Seren", "Tariq", "Ursula",
		"Vikram", "Wendy", "Xavier", "Yasmin", "Zac", "Amara", "Bryn", "Cerys", "Dominic", "Esther", "Felix", "Gemma",
		"Hamish", "Isla", "Jonah", "Keira", "Lewis", "Maya", "Nathan", "Olwen"}
	seatSurnames = []string{"Ashworth", "Bevan", "Chaudhry", "Dunmore", "Ellison", "Fairbairn", "Goodwin", "Hartley",
		"Iqbal", "Jenkins", "Kerrigan", "Lockwood", "Mensah", "Norbury", "Oduya", "Pritchard", "Quayle", "Rowntree",
		"Salisbury", "Thorne", "Upton", "Varley", "Whitfield", "Yardley", "Zielinski", "Abbott", "Blackmore", "Crane",
		"Dlamini", "Eastwood", "Fenwick", "Grainger", "Holloway", "Ingram", "Jarvis", "Kaplan", "Lyall", "Moreland",
		"Nwosu", "Oakley", "Pemberton", "Rees", "Stanton"}
	// regionODS are the demo organisations seat holders come from, two for each region.
	regionODS = map[int16][2]string{1: {"ZEA01", "ZEA02"}, 2: {"ZLN01", "ZLN02"}, 3: {"ZMD01", "ZMD02"}, 4: {"ZNE01", "ZNE02"},
		5: {"ZNW01", "ZNW02"}, 6: {"ZSE01", "ZSE02"}, 7: {"ZSW01", "ZSW02"}, 8: {"ZWA01", "ZWA02"}}
)

// vacantSeats are the demo seats without a member (and so without a deputy), by NSIG and region.
var vacantSeats = map[string][]int16{
	"HR and Recruitment":                              {7},
	"Payroll and Pensions":                            {4},
	"Business Intelligence and Workforce Information": {2, 8},
}

// twoNSIGs is the demo person who sits on two NSIGs, to show the warning and its recorded reason.
const (
	twoNSIGsFirst  = "HR and Recruitment"
	twoNSIGsSecond = "Payroll and Pensions"
	twoNSIGsRegion = 3
	twoNSIGsReason = "The Midlands regional SIG had no other nominee for Payroll and Pensions; agreed for one term while a successor is found."
)

// outOfRegion is the demo deputy whose organisation is in another region than the seat's, to show the
// confirmation and its recorded reason.
var outOfRegion = struct {
	nsig   string
	region int16
	ods    string
	reason string
}{"Learning and Development (OLM)", 6, "ZLN02", "Works for the South East's shared learning service, hosted by a London trust; nominated by the South East regional SIG."}

const demoNSIGMemberEmail = "nsig.member@demo.esr-portal.example"

// seatHolderDomain is the email domain of the demo seat holders, apart from the demo sign-ins (same
// password).
const seatHolderDomain = "nsig.demo.esr-portal.example"

// seatHolder names the k-th member (or deputy) of the demo seats; nobody is named twice.
func seatHolder(k int, deputy bool) (name, email string) {
	first, last := seatFirstNames[k%len(seatFirstNames)], seatSurnames[(k*7)%len(seatSurnames)]
	if deputy {
		first, last = seatFirstNames[(k+20)%len(seatFirstNames)], seatSurnames[(k*11+5)%len(seatSurnames)]
	}
	return first + " " + last, strings.ToLower(first+"."+last) + "@" + seatHolderDomain
}

// Seats fills the demo NSIGs' regional seats through the same appointments the central team makes, so
// that roles and NSIG scope follow from them: most seats have a member, several have no deputy, a few
// are vacant, some terms end within 90 days, one seat has a past member whose term ended, and one
// person sits on two NSIGs. The demo NSIG member is Wales's member on Self Service and Portal. It does
// nothing once any appointment exists.
func Seats(ctx context.Context, db *bun.DB, now time.Time) error {
	if any, err := db.NewSelect().Table("nsig_appointments").Exists(ctx); err != nil || any {
		return err
	}
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		return err
	}
	cv, err := request.ViewerFor(ctx, db, central)
	if err != nil {
		return err
	}
	actor := audit.Actor{UserID: central.ID, Name: central.Name, OrganisationID: central.OrganisationID}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	appoint := func(nsigID int64, region int16, pos nsig.Position, email, name, ods string, k int, reason string, regionReason ...string) (*nsig.Appointment, error) {
		if _, err := ensureUser(ctx, db, now, email, name, ods, identity.RoleRequester); err != nil {
			return nil, err
		}
		// Terms of two years, started at different times; every seventh ends within 90 days.
		start := today.AddDate(0, 0, -(60 + (k*37)%500))
		if k%7 == 3 {
			start = today.AddDate(-2, 0, 20+k%50)
		}
		return nsig.Appoint(ctx, db, cv, actor, now, nsigID, region, nsig.AppointInput{
			Position: pos, Email: email, NominatingSIG: regionName(region) + " ESR Regional SIG", NominatedOn: start.AddDate(0, 0, -21-k%20),
			HowChosen: []nsig.HowChosen{nsig.ChosenElection, nsig.ChosenUnopposed, nsig.ChosenConsensus}[k%3],
			TermStart: start, TermEnd: start.AddDate(2, 0, 0), ConfirmOtherNSIG: reason != "", OtherNSIGReason: reason,
			ConfirmOtherRegion: len(regionReason) > 0, OtherRegionReason: strings.Join(regionReason, ""),
		})
	}
	var groups []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := db.NewSelect().Table("nsigs").Column("id", "name").Order("name").Scan(ctx, &groups); err != nil {
		return fmt.Errorf("list NSIGs: %w", err)
	}
	var shared struct{ name, email string }
	for i, g := range groups {
		for region := int16(1); region <= nsig.Seats; region++ {
			if contains(vacantSeats[g.Name], region) {
				continue
			}
			k := i*nsig.Seats + int(region) - 1
			name, email := seatHolder(k, false)
			ods := regionODS[region][k%2]
			reason := ""
			switch {
			case g.Name == demoMemberNSIG && region == 8:
				name, email, ods = "Gareth Llewellyn", demoNSIGMemberEmail, "ZWA01"
			case g.Name == twoNSIGsFirst && region == twoNSIGsRegion:
				shared.name, shared.email = name, email
			case g.Name == twoNSIGsSecond && region == twoNSIGsRegion:
				name, email, reason = shared.name, shared.email, twoNSIGsReason
			case g.Name == twoNSIGsFirst && region == 1:
				// A past member whose term ended, kept in the seat's history.
				pname, pemail := seatHolder(k+2*len(seatFirstNames), false)
				past, err := appoint(g.ID, region, nsig.Member, pemail, pname, ods, k, "")
				if err != nil {
					return fmt.Errorf("seed past member of %s: %w", g.Name, err)
				}
				if _, err := nsig.EndTerm(ctx, db, cv, actor, now, past.ID, nsig.EndInput{Reason: "Stood down on moving to a national role."}); err != nil {
					return err
				}
			}
			if name == "" {
				return errors.New("seed seats: the person on two NSIGs must be seated on the first one first")
			}
			if _, err := appoint(g.ID, region, nsig.Member, email, name, ods, k, reason); err != nil {
				return fmt.Errorf("seed member of %s for region %d: %w", g.Name, region, err)
			}
			if (i+int(region))%3 == 0 {
				continue // no deputy
			}
			dname, demail := seatHolder(k, true)
			dods, why := regionODS[region][(k+1)%2], []string(nil)
			if g.Name == outOfRegion.nsig && region == outOfRegion.region {
				dods, why = outOfRegion.ods, []string{outOfRegion.reason}
			}
			if _, err := appoint(g.ID, region, nsig.Deputy, demail, dname, dods, k+1, "", why...); err != nil {
				return fmt.Errorf("seed deputy of %s for region %d: %w", g.Name, region, err)
			}
		}
		// The first region's member chairs the NSIG.
		n, err := nsig.Get(ctx, db, cv, g.ID)
		if err != nil {
			return err
		}
		seats, err := nsig.SeatsOf(ctx, db, g.ID)
		if err != nil {
			return err
		}
		for _, s := range seats {
			if s.Member != nil {
				if _, err := nsig.Update(ctx, db, cv, actor, now, n.ID, n.Version, nsig.Input{Name: n.Name, FunctionalAreas: n.FunctionalAreas,
					ChairUserID: s.Member.UserID, Status: n.Status}); err != nil {
					return fmt.Errorf("seed chair of %s: %w", g.Name, err)
				}
				break
			}
		}
	}
	return nil
}

func contains(list []int16, v int16) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

var regionNames = []string{"", "East of England", "London", "Midlands", "North East and Yorkshire", "North West", "South East", "South West", "Wales"}

func regionName(id int16) string { return regionNames[id] }

// demoViews are regional views given on the demo requests that their NSIGs are reviewing, by the
// request's position among them: each region's opinion and comment, in region order.
var demoViews = [][]struct {
	view    nsig.Opinion
	comment string
}{
	{{nsig.Support, "Our trusts would use this from day one."}, {nsig.SupportWithConcerns, "Support, but the reminder wording must be agreed with staff-side colleagues."}, {nsig.Support, ""}, {nsig.DoNotSupport, "Our organisations already do this through local reporting; it would duplicate effort."}, {nsig.Support, ""}},
	{{nsig.Support, "Saves our HR teams a great deal of manual checking."}, {nsig.NoView, ""}, {nsig.SupportWithConcerns, "Only if it can be switched off per organisation."}},
	{{nsig.Support, ""}, {nsig.Support, "Welcomed by every trust at the last regional SIG."}},
	{{nsig.SupportWithConcerns, "The interface change needs testing with our payroll bureau."}},
}

// RegionalViews gives demo regional views on several of the demo requests under NSIG review, from the
// seat holders of their NSIGs. It does nothing once any regional view exists.
func RegionalViews(ctx context.Context, db *bun.DB, now time.Time) error {
	if any, err := db.NewSelect().Table("regional_views").Exists(ctx); err != nil || any {
		return err
	}
	var reviewing []struct {
		Reference string `bun:"reference"`
		NSIGID    int64  `bun:"nsig_id"`
	}
	if err := db.NewSelect().TableExpr("requests AS r").Column("r.reference", "r.nsig_id").
		Where("r.accepted AND r.nsig_id IS NOT NULL AND r.status IN (?)", bun.List(nsig.OpenStatuses())).
		Order("r.reference").Scan(ctx, &reviewing); err != nil {
		return fmt.Errorf("list requests under review: %w", err)
	}
	for i, r := range reviewing {
		if i >= len(demoViews) {
			break
		}
		seats, err := nsig.SeatsOf(ctx, db, r.NSIGID)
		if err != nil {
			return err
		}
		given := 0
		for _, s := range seats {
			if given >= len(demoViews[i]) {
				break
			}
			holder := s.Member
			if holder == nil || (s.Deputy != nil && given%2 == 1) {
				holder = s.Deputy // the deputy stands in
			}
			if holder == nil {
				continue
			}
			u, err := identity.Get(ctx, db, holder.UserID)
			if err != nil {
				return err
			}
			v, err := request.ViewerFor(ctx, db, u)
			if err != nil {
				return err
			}
			d := demoViews[i][given]
			at := now.Add(-time.Duration(len(demoViews[i])-given) * 26 * time.Hour)
			if _, err := nsig.RecordView(ctx, db, v, audit.Actor{UserID: u.ID, Name: u.Name, OrganisationID: u.OrganisationID}, at, r.Reference,
				nsig.ViewInput{View: d.view, Comment: d.comment}); err != nil {
				return fmt.Errorf("seed view of %s: %w", r.Reference, err)
			}
			given++
		}
	}
	return nil
}

// Governance adds the demo NSIG activity that needs the demo requests: regional views and meetings.
func Governance(ctx context.Context, db *bun.DB, now time.Time) error {
	if err := RegionalViews(ctx, db, now); err != nil {
		return err
	}
	if err := Meetings(ctx, db, now); err != nil {
		return err
	}
	return Projects(ctx, db, now)
}

// demoProjects are linked projects: one handed to an NSIG, one still running.
var demoProjects = []struct {
	name, description, area string
	status                  nsig.ProjectStatus
	handTo, note            string
	handedDaysAgo           int
}{
	{"ESR app rollout", "The national rollout of the ESR mobile app to every NHS organisation in England and Wales.", "Self Service", nsig.ProjectInProgress,
		demoMemberNSIG, "The NSIG now gathers users' feedback on the app and reviews requests to change it. The rollout team's lessons-learned report is on the ESR Hub.", 45},
	{"Oliver McGowan training data feed", "A national feed of Oliver McGowan Mandatory Training completions from the learning platform into ESR.", "Interfaces", nsig.ProjectInProgress, "", "", 0},
}

// Projects adds the demo linked projects that are missing, handing the first to its NSIG.
func Projects(ctx context.Context, db *bun.DB, now time.Time) error {
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		return err
	}
	cv, err := request.ViewerFor(ctx, db, central)
	if err != nil {
		return err
	}
	actor := audit.Actor{UserID: central.ID, Name: central.Name, OrganisationID: central.OrganisationID}
	for _, d := range demoProjects {
		if exists, err := db.NewSelect().Table("linked_projects").Where("name = ?", d.name).Exists(ctx); err != nil || exists {
			if err != nil {
				return err
			}
			continue
		}
		p, err := nsig.SaveProject(ctx, db, cv, actor, now, 0, 0, nsig.ProjectInput{Name: d.name, Description: d.description, FunctionalArea: d.area, Status: d.status})
		if err != nil {
			return fmt.Errorf("seed project %s: %w", d.name, err)
		}
		if d.handTo == "" {
			continue
		}
		var id int64
		if err := db.NewSelect().Table("nsigs").Column("id").Where("name = ?", d.handTo).Scan(ctx, &id); err != nil {
			return fmt.Errorf("find NSIG %s: %w", d.handTo, err)
		}
		if _, err := nsig.HandOver(ctx, db, cv, actor, now, p.ID, p.Version, nsig.HandoverInput{NSIGID: id, On: now.AddDate(0, 0, -d.handedDaysAgo), Note: d.note}); err != nil {
			return fmt.Errorf("seed hand-over of %s: %w", d.name, err)
		}
	}
	return nil
}

// demoMeeting is a demo NSIG meeting: when (days from now, at 2pm UK time), what was asked for, and
// for a past meeting what happened.
type demoMeeting struct {
	nsig    string
	days    int
	purpose nsig.Purpose
	publish bool
	items   []demoItem
	actions []demoAction
}

type demoItem struct {
	by, title, description string
	about                  string // words in the title of the demo request it concerns; "" for none
	accept                 bool
	decided                bool
	minutes, outcome       string
}

type demoAction struct {
	description string
	dueDays     int // after the meeting
	done        bool
}

var demoMeetings = []demoMeeting{
	{nsig: demoMemberNSIG, days: -21, purpose: nsig.PurposeMemberItems, publish: true,
		items: []demoItem{
			{by: "member", title: "Payslip and P60 downloads in the app", description: "Several health boards report staff cannot find their P60 after leaving.", about: "P60", accept: true, decided: true,
				minutes: "Every region present sees the same calls to payroll teams. Wales and the North West shared their local guidance.",
				outcome: "The NSIG supports the request as a priority for Self Service and asks for it to cover leavers' access."},
			{by: "central", title: "Self Service usage figures for the last quarter", accept: true, decided: true,
				minutes: "The central team shared usage by region; mobile use is now above desktop in five regions."},
		},
		actions: []demoAction{
			{"Share the regional Self Service usage figures with the regional SIGs", 7, true},
			{"Collect examples of leavers unable to reach their payslips", 28, false},
		}},
	{nsig: demoMemberNSIG, days: 12, purpose: nsig.PurposeMemberItems, publish: true,
		items: []demoItem{
			{by: "member", title: "Competence expiry reminders", description: "Agree a single view on the 30/60/90-day reminder proposal.", about: "competence expiry", accept: true, decided: true},
			{by: "central", title: "Release 72 changes to Self Service", accept: true, decided: true},
			{by: "deputy", title: "Welsh language screens in the ESR app", description: "Progress on bilingual screens for NHS Wales staff."},
		}},
	{nsig: "Payroll and Pensions", days: 20, purpose: nsig.PurposeCentralUpdate,
		items: []demoItem{{by: "central", title: "2027 pension tier changes", description: "What the central team knows about the April 2027 tier changes and their testing."}}},
}

// Meetings adds the demo NSIG meetings, through the same steps people take, dated as if they had
// happened: a past meeting of the demo member's NSIG with its agenda, attendance, minutes (an outcome
// on a linked request's timeline) and actions; an upcoming one with a published agenda and an item
// waiting for a decision; and an upcoming central team update on another NSIG. It does nothing once
// any meeting exists.
func Meetings(ctx context.Context, db *bun.DB, now time.Time) error {
	if any, err := db.NewSelect().Table("nsig_meetings").Exists(ctx); err != nil || any {
		return err
	}
	central, err := identity.GetByEmail(ctx, db, "central@demo.esr-portal.example")
	if err != nil {
		return err
	}
	cv, err := request.ViewerFor(ctx, db, central)
	if err != nil {
		return err
	}
	cActor := audit.Actor{UserID: central.ID, Name: central.Name, OrganisationID: central.OrganisationID}
	for _, dm := range demoMeetings {
		var id int64
		if err := db.NewSelect().Table("nsigs").Column("id").Where("name = ?", dm.nsig).Scan(ctx, &id); err != nil {
			return fmt.Errorf("find NSIG %s: %w", dm.nsig, err)
		}
		n, err := nsig.Get(ctx, db, cv, id)
		if err != nil {
			return err
		}
		seats, err := nsig.SeatsOf(ctx, db, n.ID)
		if err != nil {
			return err
		}
		// Items come from Wales's seat holders (the demo member and their deputy) when there are any.
		holder := map[string]*nsig.Appointment{}
		for _, s := range seats {
			if s.Member != nil && (holder["member"] == nil || s.RegionID == 8) {
				holder["member"] = s.Member
			}
			if s.Deputy != nil && (holder["deputy"] == nil || s.RegionID == 8) {
				holder["deputy"] = s.Deputy
			}
		}
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, dm.days)
		for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			day = day.AddDate(0, 0, 1) // NSIGs meet on working days
		}
		starts := time.Date(day.Year(), day.Month(), day.Day(), 14, 0, 0, 0, london)
		planned := starts.AddDate(0, 0, -30)
		m, err := nsig.Schedule(ctx, db, cv, cActor, planned, n.ID, nsig.MeetingInput{StartsAt: starts, DurationMinutes: 90,
			TeamsLink: fmt.Sprintf("https://teams.microsoft.com/l/meetup-join/19%%3ameeting_demo%d%%40thread.v2/0", n.ID*100+int64(dm.days+100)), Purpose: dm.purpose})
		if err != nil {
			return fmt.Errorf("seed meeting of %s: %w", dm.nsig, err)
		}
		var accepted []*nsig.AgendaItem
		var items []demoItem
		for i, di := range dm.items {
			v, actor := cv, cActor
			if ap := holder[di.by]; di.by != "central" && ap != nil {
				u, err := identity.Get(ctx, db, ap.UserID)
				if err != nil {
					return err
				}
				if v, err = request.ViewerFor(ctx, db, u); err != nil {
					return err
				}
				actor = audit.Actor{UserID: u.ID, Name: u.Name, OrganisationID: u.OrganisationID}
			}
			linked := ""
			if di.about != "" {
				if err := db.NewSelect().Table("requests").Column("reference").Where("title ILIKE ?", "%"+di.about+"%").
					Order("reference").Limit(1).Scan(ctx, &linked); err != nil {
					return fmt.Errorf("find the request about %s: %w", di.about, err)
				}
			}
			it, err := nsig.RequestItem(ctx, db, v, actor, planned.Add(time.Duration(i+1)*24*time.Hour), n, m.ID,
				nsig.ItemInput{Title: di.title, Description: di.description, References: linked})
			if err != nil {
				return fmt.Errorf("seed agenda item %q: %w", di.title, err)
			}
			if di.decided {
				if err := nsig.DecideItem(ctx, db, cv, cActor, planned.AddDate(0, 0, 7), n, m.ID, it.ID, di.accept); err != nil {
					return err
				}
			}
			if di.accept {
				accepted = append(accepted, it)
				items = append(items, di)
			}
		}
		if dm.publish {
			if _, err := nsig.Publish(ctx, db, cv, cActor, planned.AddDate(0, 0, 10), n, m.ID); err != nil {
				return fmt.Errorf("seed publishing %s meeting: %w", dm.nsig, err)
			}
		}
		if dm.days >= 0 {
			continue
		}
		after := starts.Add(2 * time.Hour)
		attended := map[nsig.SeatKey]nsig.Position{}
		for _, s := range seats {
			switch {
			case s.Member != nil && s.RegionID%3 != 0:
				attended[nsig.SeatKey{NSIGID: s.NSIGID, RegionID: s.RegionID}] = nsig.Member
			case s.Deputy != nil:
				attended[nsig.SeatKey{NSIGID: s.NSIGID, RegionID: s.RegionID}] = nsig.Deputy // standing in for the member
			}
		}
		if err := nsig.RecordAttendance(ctx, db, cv, cActor, after, n, m.ID, attended); err != nil {
			return err
		}
		for i, it := range accepted {
			if err := nsig.RecordMinutes(ctx, db, cv, cActor, after, n, m.ID, it.ID, nsig.MinutesInput{Minutes: items[i].minutes, Outcome: items[i].outcome}); err != nil {
				return fmt.Errorf("seed minutes of %q: %w", it.Title, err)
			}
		}
		for _, da := range dm.actions {
			owner := central.ID
			if ap := holder["member"]; ap != nil && !da.done {
				owner = ap.UserID
			}
			a, err := nsig.AddAction(ctx, db, cv, cActor, after, n, m.ID, nsig.ActionInput{Description: da.description, OwnerID: owner, DueOn: starts.AddDate(0, 0, da.dueDays)})
			if err != nil {
				return fmt.Errorf("seed action: %w", err)
			}
			if da.done {
				if err := nsig.SetActionDone(ctx, db, cv, cActor, starts.AddDate(0, 0, da.dueDays-2), n, m.ID, a.ID, true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}()
