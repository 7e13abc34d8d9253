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

const demoNSIGMemberEmail = "nsig.member@demo.esr-portal.example"

// seatHolder names the k-th member (or deputy) of the demo seats; nobody is named twice.
func seatHolder(k int, deputy bool) (name, email string) {
	first, last := seatFirstNames[k%len(seatFirstNames)], seatSurnames[(k*7)%len(seatSurnames)]
	if deputy {
		first, last = seatFirstNames[(k+20)%len(seatFirstNames)], seatSurnames[(k*11+5)%len(seatSurnames)]
	}
	return first + " " + last, strings.ToLower(first+"."+last) + "@demo.esr-portal.example"
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
	appoint := func(nsigID int64, region int16, pos nsig.Position, email, name, ods string, k int, reason string) (*nsig.Appointment, error) {
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
			if _, err := appoint(g.ID, region, nsig.Deputy, demail, dname, regionODS[region][(k+1)%2], k+1, ""); err != nil {
				return fmt.Errorf("seed deputy of %s for region %d: %w", g.Name, region, err)
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

// Governance adds the demo NSIG activity that needs the demo requests: regional views.
func Governance(ctx context.Context, db *bun.DB, now time.Time) error {
	return RegionalViews(ctx, db, now)
}
