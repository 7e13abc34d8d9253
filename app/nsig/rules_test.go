package nsig

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAppointmentRules(t *testing.T) {
	t.Parallel()
	today := date("2026-11-20")
	valid := func() AppointInput {
		return AppointInput{Position: Member, Email: "jo@test.nhs.uk", NominatingSIG: "London ESR SIG", NominatedOn: date("2026-10-01"),
			HowChosen: ChosenElection, TermStart: date("2026-11-01"), TermEnd: date("2028-10-31")}
	}
	jo := candidate{ID: 7, Name: "Jo Bloggs", Active: true, Organisation: "Thameside Royal Hospitals NHS Trust", RegionID: 2, RegionName: "London"}
	jd := candidate{ID: 8, Name: "Jan Davies", Active: true, Organisation: "Teifi Valley University Health Board", RegionID: 8, RegionName: "Wales"}
	empty := Seat{RegionID: 2, RegionName: "London"}
	withMember := Seat{RegionID: 2, RegionName: "London", Member: &Appointment{UserID: 9, UserName: "Sam Taylor"}}
	joIsMember := Seat{RegionID: 2, RegionName: "London", Member: &Appointment{UserID: 7, UserName: "Jo Bloggs"}}
	joIsDeputy := Seat{RegionID: 2, RegionName: "London", Deputy: &Appointment{UserID: 7, UserName: "Jo Bloggs"}}
	withDeputy := Seat{RegionID: 2, RegionName: "London", Deputy: &Appointment{UserID: 9, UserName: "Sam Taylor"}}
	tests := []struct {
		name    string
		change  func(in *AppointInput)
		seat    Seat
		who     candidate
		others  []string
		field   string // the rule broken; "" for none
		warning bool   // the multi-NSIG warning
		region  bool   // the out-of-region warning
		message string // part of the message
	}{
		{name: "a valid member", seat: empty, who: jo},
		{name: "a valid deputy beside another member", change: func(in *AppointInput) { in.Position = Deputy }, seat: withMember, who: jo},
		{name: "no position", change: func(in *AppointInput) { in.Position = "" }, seat: empty, who: jo, field: "position"},
		{name: "nobody with that email", seat: empty, field: "email", message: "portal account"},
		{name: "a disabled account", seat: empty, who: candidate{ID: 7, Name: "Jo Bloggs"}, field: "email", message: "disabled"},
		{name: "no nominating SIG", change: func(in *AppointInput) { in.NominatingSIG = "  " }, seat: empty, who: jo, field: "nominating_sig"},
		{name: "no nomination date", change: func(in *AppointInput) { in.NominatedOn = time.Time{} }, seat: empty, who: jo, field: "nominated_on-day"},
		{name: "nominated in the future", change: func(in *AppointInput) { in.NominatedOn = date("2026-12-01"); in.TermStart = date("2026-12-01") }, seat: empty, who: jo, field: "nominated_on-day"},
		{name: "no way of choosing", change: func(in *AppointInput) { in.HowChosen = "lottery" }, seat: empty, who: jo, field: "how_chosen"},
		{name: "no term start", change: func(in *AppointInput) { in.TermStart = time.Time{} }, seat: empty, who: jo, field: "term_start-day"},
		{name: "term starts before the nomination", change: func(in *AppointInput) { in.TermStart = date("2026-09-01") }, seat: empty, who: jo, field: "term_start-day", message: "on or after the nomination"},
		{name: "no term end", change: func(in *AppointInput) { in.TermEnd = time.Time{} }, seat: empty, who: jo, field: "term_end-day"},
		{name: "term ends when it starts", change: func(in *AppointInput) { in.TermEnd = in.TermStart }, seat: empty, who: jo, field: "term_end-day", message: "after it starts"},
		{name: "term ended already", change: func(in *AppointInput) { in.TermEnd = date("2026-11-20") }, seat: empty, who: jo, field: "term_end-day", message: "future"},
		{name: "term longer than four years", change: func(in *AppointInput) { in.TermEnd = date("2030-11-02") }, seat: empty, who: jo, field: "term_end-day", message: "4 years"},
		{name: "the seat has a member", seat: withMember, who: jo, field: "position", message: "already has a member, Sam Taylor"},
		{name: "the seat has a deputy", change: func(in *AppointInput) { in.Position = Deputy }, seat: withDeputy, who: jo, field: "position", message: "already has a deputy"},
		{name: "the member as deputy of the same seat", change: func(in *AppointInput) { in.Position = Deputy }, seat: joIsMember, who: jo, field: "email", message: "cannot be its deputy"},
		{name: "the deputy as member of the same seat", seat: joIsDeputy, who: jo, field: "email", message: "cannot be its member"},
		{name: "on another NSIG, not confirmed", seat: empty, who: jo, others: []string{"Payroll and Pensions"}, warning: true},
		{name: "on another NSIG, confirmed without a reason", change: func(in *AppointInput) { in.ConfirmOtherNSIG = true }, seat: empty, who: jo, others: []string{"Payroll and Pensions"}, field: "other_nsig_reason"},
		{name: "on another NSIG, confirmed with a reason", change: func(in *AppointInput) {
			in.ConfirmOtherNSIG = true
			in.OtherNSIGReason = "Nobody else in the region was nominated"
		}, seat: empty, who: jo, others: []string{"Payroll and Pensions"}},
		{name: "from another region, not confirmed", seat: empty, who: jd, region: true},
		{name: "from another region, confirmed without a reason", change: func(in *AppointInput) { in.ConfirmOtherRegion = true }, seat: empty, who: jd,
			field: "other_region_reason", message: "someone from Wales should hold the London seat"},
		{name: "from another region, confirmed with a reason", change: func(in *AppointInput) {
			in.ConfirmOtherRegion = true
			in.OtherRegionReason = "She works for London organisations through a shared service"
		}, seat: empty, who: jd},
		{name: "on another NSIG and from another region: both asked", change: func(in *AppointInput) {
			in.ConfirmOtherNSIG = true
			in.OtherNSIGReason = "Nobody else was nominated"
		}, seat: empty, who: jd, others: []string{"Payroll and Pensions"}, region: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			if tt.change != nil {
				tt.change(&in)
			}
			err := checkAppointment(&in, tt.seat, tt.who, tt.others, today)
			var rule *request.RuleError
			var warning *OtherNSIGWarning
			var region *OutOfRegionWarning
			switch {
			case tt.region:
				if !errors.As(err, &region) || region.Region != "Wales" || region.SeatRegion != "London" {
					t.Fatalf("%v, want the out-of-region warning", err)
				}
			case tt.warning:
				if !errors.As(err, &warning) || !strings.Contains(warning.Error(), "Payroll and Pensions") {
					t.Fatalf("%v, want the multi-NSIG warning", err)
				}
			case tt.field == "":
				if err != nil {
					t.Fatalf("%v, want no error", err)
				}
			case !errors.As(err, &rule) || rule.Field != tt.field:
				t.Fatalf("%v, want a rule on %s", err, tt.field)
			case !strings.Contains(rule.Message, tt.message):
				t.Fatalf("%q, want it to say %q", rule.Message, tt.message)
			}
		})
	}
}

func TestViewRules(t *testing.T) {
	t.Parallel()
	open := request.Request{NSIGID: 3, NSIGName: "Self Service and Portal", Accepted: true, Status: request.StatusImpactAssessment}
	seat := &Appointment{NSIGID: 3, RegionID: 8, Position: Deputy}
	tests := []struct {
		name      string
		r         request.Request
		seat      *Appointment
		in        ViewInput
		field     string
		forbidden bool
	}{
		{name: "support without a comment", r: open, seat: seat, in: ViewInput{View: Support}},
		{name: "no view without a comment", r: open, seat: seat, in: ViewInput{View: NoView}},
		{name: "concerns with a comment", r: open, seat: seat, in: ViewInput{View: SupportWithConcerns, Comment: "Only if it is optional"}},
		{name: "concerns without a comment", r: open, seat: seat, in: ViewInput{View: SupportWithConcerns, Comment: " "}, field: "comment"},
		{name: "do not support without a comment", r: open, seat: seat, in: ViewInput{View: DoNotSupport}, field: "comment"},
		{name: "no view chosen", r: open, seat: seat, in: ViewInput{}, field: "view"},
		{name: "an unknown view", r: open, seat: seat, in: ViewInput{View: "maybe"}, field: "view"},
		{name: "no seat", r: open, in: ViewInput{View: Support}, forbidden: true},
		{name: "a seat on another NSIG", r: open, seat: &Appointment{NSIGID: 4, RegionID: 8, Position: Member}, in: ViewInput{View: Support}, forbidden: true},
		{name: "an ended seat", r: open, seat: &Appointment{NSIGID: 3, RegionID: 8, Position: Member, EndedAt: date("2026-01-01")}, in: ViewInput{View: Support}, forbidden: true},
		{name: "a request not yet accepted", r: request.Request{NSIGID: 3, Status: request.StatusInTriage}, seat: seat, in: ViewInput{View: Support}, field: "view"},
		{name: "a decided request", r: request.Request{NSIGID: 3, Accepted: true, Status: request.StatusApproved}, seat: seat, in: ViewInput{View: Support}, field: "view"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkView(&tt.in, &tt.r, tt.seat)
			var rule *request.RuleError
			switch {
			case tt.forbidden:
				if !errors.Is(err, problem.ErrForbidden) {
					t.Fatalf("%v, want forbidden", err)
				}
			case tt.field == "":
				if err != nil {
					t.Fatalf("%v, want no error", err)
				}
			case !errors.As(err, &rule) || rule.Field != tt.field:
				t.Fatalf("%v, want a rule on %s", err, tt.field)
			}
		})
	}
}

func TestMeetingRules(t *testing.T) {
	t.Parallel()
	now := date("2026-11-20").Add(9 * time.Hour)
	tests := []struct {
		name  string
		in    MeetingInput
		field string
	}{
		{"valid", MeetingInput{StartsAt: now.Add(72 * time.Hour), DurationMinutes: 60, TeamsLink: "https://teams.microsoft.com/l/meetup-join/19%3a", Purpose: PurposeMemberItems}, ""},
		{"Teams for personal use", MeetingInput{StartsAt: now.Add(time.Hour), DurationMinutes: 90, TeamsLink: " https://teams.live.com/meet/123 ", Purpose: PurposeCentralUpdate}, ""},
		{"no date", MeetingInput{DurationMinutes: 60, TeamsLink: "https://teams.microsoft.com/l/x", Purpose: PurposeMemberItems}, "date-day"},
		{"in the past", MeetingInput{StartsAt: now.Add(-time.Minute), DurationMinutes: 60, TeamsLink: "https://teams.microsoft.com/l/x", Purpose: PurposeMemberItems}, "date-day"},
		{"too long", MeetingInput{StartsAt: now.Add(time.Hour), DurationMinutes: 600, TeamsLink: "https://teams.microsoft.com/l/x", Purpose: PurposeMemberItems}, "duration"},
		{"no link", MeetingInput{StartsAt: now.Add(time.Hour), DurationMinutes: 60, Purpose: PurposeMemberItems}, "teams_link"},
		{"not Teams", MeetingInput{StartsAt: now.Add(time.Hour), DurationMinutes: 60, TeamsLink: "https://zoom.us/j/1", Purpose: PurposeMemberItems}, "teams_link"},
		{"a look-alike host", MeetingInput{StartsAt: now.Add(time.Hour), DurationMinutes: 60, TeamsLink: "https://teams.microsoft.com.example.org/x", Purpose: PurposeMemberItems}, "teams_link"},
		{"not https", MeetingInput{StartsAt: now.Add(time.Hour), DurationMinutes: 60, TeamsLink: "http://teams.microsoft.com/l/x", Purpose: PurposeMemberItems}, "teams_link"},
		{"no purpose", MeetingInput{StartsAt: now.Add(time.Hour), DurationMinutes: 60, TeamsLink: "https://teams.microsoft.com/l/x"}, "purpose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkMeeting(&tt.in, now)
			var rule *request.RuleError
			if tt.field == "" && err != nil || tt.field != "" && (!errors.As(err, &rule) || rule.Field != tt.field) {
				t.Fatalf("%v, want a rule on %q", err, tt.field)
			}
		})
	}
}

func TestAgendaItemRules(t *testing.T) {
	t.Parallel()
	now := date("2026-11-20").Add(9 * time.Hour)
	upcoming := &Meeting{StartsAt: now.Add(48 * time.Hour), DurationMinutes: 60}
	started := &Meeting{StartsAt: now.Add(-10 * time.Minute), DurationMinutes: 60}
	tests := []struct {
		name  string
		m     *Meeting
		in    ItemInput
		field string
		refs  []string
	}{
		{"no links", upcoming, ItemInput{Title: "  Pension  tiers "}, "", nil},
		{"links in any form", upcoming, ItemInput{Title: "Leave", References: "enh-2026-0004, ENH-2026-0008;ENH-2026-0004\nSRR-2026-0001"}, "", []string{"ENH-2026-0004", "ENH-2026-0008", "SRR-2026-0001"}},
		{"not a reference", upcoming, ItemInput{Title: "Leave", References: "ENH-2026-0004, 42"}, "references", nil},
		{"no title", upcoming, ItemInput{Title: " "}, "title", nil},
		{"too long a title", upcoming, ItemInput{Title: strings.Repeat("x", 201)}, "title", nil},
		{"the meeting has started", started, ItemInput{Title: "Late item"}, "title", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, err := checkItem(&tt.in, tt.m, now)
			var rule *request.RuleError
			if tt.field == "" && err != nil || tt.field != "" && (!errors.As(err, &rule) || rule.Field != tt.field) {
				t.Fatalf("%v, want a rule on %q", err, tt.field)
			}
			if tt.field == "" && strings.Join(refs, " ") != strings.Join(tt.refs, " ") {
				t.Fatalf("references %v, want %v", refs, tt.refs)
			}
		})
	}
}

// TestTermNotStarted: a term whose start is still to come is not yet current, and ending it before it
// starts reads as cancelled, not as ending before it began.
func TestTermNotStarted(t *testing.T) {
	t.Parallel()
	ap := &Appointment{TermStart: date("2027-01-04"), TermEnd: date("2029-01-03")}
	// 23:30 UTC on 3 January 2027 is still 3 January in London (GMT).
	if ap.StartedBy(time.Date(2027, 1, 3, 23, 30, 0, 0, time.UTC)) {
		t.Error("a term starting on 4 January has started on 3 January")
	}
	if !ap.StartedBy(time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)) {
		t.Error("a term starting on 4 January has not started that day")
	}
	ap.EndedAt = time.Date(2026, 12, 10, 9, 0, 0, 0, time.UTC)
	if !ap.Cancelled() {
		t.Error("a term ended before it started is not cancelled")
	}
	ap.EndedAt = time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC)
	if ap.Cancelled() {
		t.Error("a term ended while it ran is cancelled")
	}
}
