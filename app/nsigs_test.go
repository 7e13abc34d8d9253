package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/request"
)

func (p *testPortal) nsigID(name string) int64 {
	p.t.Helper()
	var id int64
	if err := p.db.DB.NewSelect().Table("nsigs").Column("id").Where("name = ?", name).Scan(context.Background(), &id); err != nil {
		p.t.Fatal(err)
	}
	return id
}

// seat appoints a user as a region's member on an NSIG, as the central team.
func (p *testPortal) seat(u *identity.User, nsigName string, region int16) {
	p.t.Helper()
	ctx := context.Background()
	central := p.users[central]
	cv, err := request.ViewerFor(ctx, p.db.DB, central)
	if err != nil {
		p.t.Fatal(err)
	}
	now := p.clock.Now()
	if _, err := nsig.Appoint(ctx, p.db.DB, cv, audit.Actor{UserID: central.ID, Name: central.Name}, now, p.nsigID(nsigName), region, nsig.AppointInput{
		Position: nsig.Member, Email: u.Email, NominatingSIG: "Regional ESR SIG", NominatedOn: now.AddDate(0, -1, 0),
		HowChosen: nsig.ChosenConsensus, TermStart: now.AddDate(0, 0, -1), TermEnd: now.AddDate(2, 0, 0),
		// Test people come from one organisation whatever the seat's region.
		ConfirmOtherRegion: true, OtherRegionReason: "Seated from the test organisation",
	}); err != nil {
		p.t.Fatal(err)
	}
}

// TestNSIGPagesRecordLevelAccess: a member opens their own NSIG's dashboard and review queue, and gets
// "page not found" for another NSIG's; the central team opens every NSIG's; the NSIG list shows a
// member only their own.
func TestNSIGPagesRecordLevelAccess(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	member := p.createUser("wales.member@test.nhs.uk", "Wales Member", identity.RoleRequester)
	p.seat(member, "Self Service and Portal", 8)
	own, other := p.nsigID("Self Service and Portal"), p.nsigID("Payroll and Pensions")

	m := p.as(member)
	for _, path := range []string{"/nsigs/%d", "/nsigs/%d/queue"} {
		mustStatus(t, m.get(fmt.Sprintf(path, own)), 200, "own NSIG "+path)
		mustStatus(t, m.get(fmt.Sprintf(path, other)), 404, "another NSIG "+path)
		mustStatus(t, p.as(p.users[central]).get(fmt.Sprintf(path, other)), 200, "central "+path)
	}
	list := m.get("/nsigs")
	mustStatus(t, list, 200, "the NSIG list")
	if !strings.Contains(list.body, "Self Service and Portal") || strings.Contains(list.body, "Payroll and Pensions") {
		t.Errorf("a member's NSIG list shows %s", excerpt(list.body))
	}
	// Someone holding the role but no seat reviews for no NSIG.
	mustStatus(t, p.as(p.users[nsigMember]).get(fmt.Sprintf("/nsigs/%d/queue", own)), 404, "a member without a seat")
}

// TestAppointAndEndTermThroughForms drives the appointment and end-of-term forms: bad dates are shown
// against their fields with what was typed; the person gets the role and scope; ending the term takes
// them away.
func TestAppointAndEndTermThroughForms(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	person := p.createUser("jo.bloggs@test.nhs.uk", "Jo Bloggs", identity.RoleRequester)
	id := p.nsigID("Payroll and Pensions")
	c := p.as(p.users[central])
	form := url.Values{"position": {"member"}, "email": {"jo.bloggs@test.nhs.uk"}, "nominating_sig": {"London ESR SIG"},
		"nominated_on-day": {"1"}, "nominated_on-month": {"10"}, "nominated_on-year": {"2026"}, "how_chosen": {"election"},
		"term_start-day": {"1"}, "term_start-month": {"11"}, "term_start-year": {"2026"},
		"term_end-day": {"30"}, "term_end-month": {"9"}, "term_end-year": {"2026"}}
	res := c.post(fmt.Sprintf("/nsigs/%d/seats/2/appoint", id), form)
	mustStatus(t, res, 422, "a term that ends before it starts")
	if !strings.Contains(res.body, "The term must end after it starts") || !strings.Contains(res.body, `value="London ESR SIG"`) {
		t.Fatalf("the form says %s", excerpt(res.body))
	}
	form.Set("term_end-year", "2028")
	// Jo's organisation is not in London: the appointment needs confirming, with why.
	res = c.post(fmt.Sprintf("/nsigs/%d/seats/2/appoint", id), form)
	mustStatus(t, res, 422, "someone from another region")
	for _, want := range []string{"They are from another region", "is from Fenland Valley NHS Foundation Trust, in East of England", "confirm_other_region", `value="London ESR SIG"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the out-of-region warning lacks %q: %s", want, excerpt(res.body))
		}
	}
	form.Set("confirm_other_region", "yes")
	res = c.post(fmt.Sprintf("/nsigs/%d/seats/2/appoint", id), form)
	mustStatus(t, res, 422, "confirmed without a reason")
	if !strings.Contains(res.body, "Enter why someone from") {
		t.Errorf("no reason asked for: %s", excerpt(res.body))
	}
	form.Set("other_region_reason", "Covers London's payroll shared service")
	res = c.post(fmt.Sprintf("/nsigs/%d/seats/2/appoint", id), form)
	mustStatus(t, res, 303, "the appointment")
	res = c.get("/nsigs/membership")
	if !strings.Contains(res.body, "Seats held by someone from another region (1)") || !strings.Contains(res.body, "Covers London&#39;s payroll shared service") {
		t.Errorf("the membership page does not list the seat held from another region: %s", excerpt(res.body))
	}
	u, err := identity.Get(context.Background(), p.db.DB, person.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !u.HasRole(identity.RoleNSIGMember) {
		t.Fatalf("roles after appointment: %v", u.Roles)
	}
	mustStatus(t, p.as(person).get(fmt.Sprintf("/nsigs/%d/queue", id)), 200, "the appointee's queue")

	var apID int64
	if err := p.db.DB.NewSelect().Table("nsig_appointments").Column("id").Where("user_id = ?", person.ID).Scan(context.Background(), &apID); err != nil {
		t.Fatal(err)
	}
	end := fmt.Sprintf("/nsigs/%d/appointments/%d/end", id, apID)
	mustStatus(t, c.get(end), 200, "the end-of-term form")
	mustStatus(t, c.post(end, url.Values{}), 422, "no reason")
	mustStatus(t, c.post(end, url.Values{"reason": {"Stood down"}}), 303, "ending the term")
	if u, err = identity.Get(context.Background(), p.db.DB, person.ID); err != nil || u.HasRole(identity.RoleNSIGMember) {
		t.Fatalf("roles after the term ended: %v, %v", u.Roles, err)
	}
	mustStatus(t, p.as(person).get(fmt.Sprintf("/nsigs/%d/queue", id)), 403, "the former member's queue")
	mustStatus(t, c.get(end), 404, "the form of an ended term")
	seatPage := c.get(fmt.Sprintf("/nsigs/%d/seats/2", id))
	if !strings.Contains(seatPage.body, "Stood down") || !strings.Contains(seatPage.body, "Jo Bloggs") {
		t.Errorf("the seat's history: %s", excerpt(seatPage.body))
	}
}

// TestScheduleMeetingAndCalendar schedules a meeting through the form (first with a link that is not
// Teams) and downloads its calendar file.
func TestScheduleMeetingAndCalendar(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	id := p.nsigID("Payroll and Pensions")
	c := p.as(p.users[central])
	form := url.Values{"date-day": {"3"}, "date-month": {"12"}, "date-year": {"2026"}, "time": {"2pm"}, "duration": {"90"},
		"teams_link": {"https://zoom.us/j/1"}, "purpose": {"central_update"}}
	res := c.post(fmt.Sprintf("/nsigs/%d/meetings", id), form)
	mustStatus(t, res, 422, "a link that is not Teams")
	if !strings.Contains(res.body, "Enter a Microsoft Teams meeting link") || !strings.Contains(res.body, `value="2pm"`) {
		t.Fatalf("the form says %s", excerpt(res.body))
	}
	form.Set("teams_link", "https://teams.microsoft.com/l/meetup-join/abc")
	res = c.post(fmt.Sprintf("/nsigs/%d/meetings", id), form)
	mustStatus(t, res, 303, "scheduling")
	meeting := res.header.Get("Location")
	mustStatus(t, p.as(p.users[nsigMember]).get(meeting), 404, "a member of no NSIG")
	ics := c.get(meeting + "/calendar.ics")
	mustStatus(t, ics, 200, "the calendar file")
	if ct := ics.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
		t.Errorf("content type %q", ct)
	}
	for _, want := range []string{"BEGIN:VEVENT\r\n", "DTSTART:20261203T140000Z\r\n", "DTEND:20261203T153000Z\r\n", "SUMMARY:Payroll and Pensions NSIG meeting\r\n"} {
		if !strings.Contains(ics.body, want) {
			t.Errorf("the calendar lacks %q:\n%s", want, ics.body)
		}
	}
}

// TestLinkedProjectThroughForms adds a project and hands it to an NSIG, whose dashboard then lists it.
func TestLinkedProjectThroughForms(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	c := p.as(p.users[central])
	res := c.post("/projects", url.Values{"name": {"ESR app rollout"}, "functional_area": {"Self Service"}, "status": {"in_progress"}})
	mustStatus(t, res, 303, "adding a project")
	var id int64
	if err := p.db.DB.NewSelect().Table("linked_projects").Column("id").Where("name = 'ESR app rollout'").Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/projects/%d/handover", id)
	mustStatus(t, c.get(path), 200, "the hand-over form")
	nsigID := p.nsigID("Self Service and Portal")
	form := url.Values{"version": {"1"}, "nsig_id": {fmt.Sprint(nsigID)}, "on-day": {"1"}, "on-month": {"12"}, "on-year": {"2026"}}
	res = c.post(path, form)
	mustStatus(t, res, 422, "no note")
	if !strings.Contains(res.body, "Enter a hand-over note") {
		t.Fatalf("the form says %s", excerpt(res.body))
	}
	form.Set("note", "The NSIG gathers feedback on the app")
	mustStatus(t, c.post(path, form), 303, "the hand-over")
	dash := c.get(fmt.Sprintf("/nsigs/%d", nsigID))
	if !strings.Contains(dash.body, "ESR app rollout") || !strings.Contains(dash.body, "The NSIG gathers feedback on the app") {
		t.Errorf("the dashboard's responsibilities: %s", excerpt(dash.body))
	}
}

// TestNSIGFormsAndConflict adds an NSIG, then changes it from a stale form: the conflict page keeps
// what was typed.
func TestNSIGFormsAndConflict(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	c := p.as(p.users[central])
	res := c.post("/nsigs", url.Values{"name": {"Workforce Planning"}, "status": {"active"}})
	mustStatus(t, res, 422, "no functional areas")
	if !strings.Contains(res.body, "Select the functional areas the NSIG covers") {
		t.Fatalf("the form says %s", excerpt(res.body))
	}
	res = c.post("/nsigs", url.Values{"name": {"Workforce Planning"}, "status": {"active"}, "functional_areas": {"Work Structures", "Business Intelligence"}})
	mustStatus(t, res, 303, "adding an NSIG")
	path := res.header.Get("Location")
	form := url.Values{"name": {"Workforce Planning and Rostering"}, "status": {"active"}, "functional_areas": {"Work Structures"}, "version": {"1"}}
	mustStatus(t, c.post(path, form), 303, "changing it")
	form.Set("name", "Workforce Planning, Rostering and Job Planning")
	res = c.post(path, form)
	mustStatus(t, res, 409, "a stale form")
	if !strings.Contains(res.body, "Someone else changed this NSIG") || !strings.Contains(res.body, "Workforce Planning, Rostering and Job Planning") {
		t.Fatalf("the conflict page says %s", excerpt(res.body))
	}
	// Seats follow: the new NSIG has eight, all vacant.
	dash := c.get(path)
	if n := strings.Count(dash.body, ">Vacant<"); n != 8 {
		t.Errorf("%d vacant seats on the new NSIG, want 8", n)
	}
	// With nothing open, nobody is said to have given a view of everything, on the page or in its report.
	mustContain(t, dash.body, "the new NSIG's dashboard", "No request is open for the regions' views.")
	report := c.get(path + "/report.pdf")
	mustStatus(t, report, 200, "the new NSIG's report")
	text := pdfText(t, []byte(report.body))
	if !strings.Contains(text, "No request is open for the regions' views.") || strings.Contains(text, "Every region has given") {
		t.Errorf("the new NSIG's report says: %s", text)
	}
}

// TestNSIGMemberRoleCannotBeTakenFromASeatHolder: the role follows from seats, so the user page refuses
// to remove it while the person holds one, and says where to end the term instead.
func TestNSIGMemberRoleCannotBeTakenFromASeatHolder(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	member := p.createUser("seated.member@test.nhs.uk", "Seated Member", identity.RoleRequester)
	p.seat(member, "Self Service and Portal", 8)
	seated, err := identity.Get(context.Background(), p.db.DB, member.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !seated.HasRole(identity.RoleNSIGMember) {
		t.Fatal("appointing did not give the NSIG member role")
	}
	admin := p.as(p.users[identity.RoleAdmin])
	form := url.Values{"name": {seated.Name}, "email": {seated.Email}, "organisation_id": {fmt.Sprint(seated.OrganisationID)},
		"roles": {identity.RoleRequester}, "version": {fmt.Sprint(seated.Version)}}
	res := admin.post(fmt.Sprintf("/admin/users/%d", seated.ID), form)
	mustStatus(t, res, 422, "removing the role of a seat holder")
	for _, want := range []string{"There is a problem", "Seated Member sits on Self Service and Portal (Wales member)", "End their term on the NSIG"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the refusal lacks %q", want)
		}
	}
	after, err := identity.Get(context.Background(), p.db.DB, member.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.HasRole(identity.RoleNSIGMember) {
		t.Error("the role was removed all the same")
	}
	// Other changes to a seat holder still save.
	form.Set("roles", identity.RoleNSIGMember)
	form.Add("roles", identity.RoleRequester)
	form.Set("name", "Seated Member-Jones")
	mustStatus(t, admin.post(fmt.Sprintf("/admin/users/%d", seated.ID), form), 303, "renaming a seat holder")
}

// TestHandoverOnTheDashboard: a project handed to an NSIG waits on its dashboard, region by region; a
// region's member marks their own region done (and only theirs), and the central team any.
func TestHandoverOnTheDashboard(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	member := p.createUser("wales.member@test.nhs.uk", "Wales Member", identity.RoleRequester)
	p.seat(member, "Self Service and Portal", 8)
	id := p.nsigID("Self Service and Portal")
	central := p.users[central]
	cv, err := request.ViewerFor(ctx, p.db.DB, central)
	if err != nil {
		t.Fatal(err)
	}
	actor := audit.Actor{UserID: central.ID, Name: central.Name}
	proj, err := nsig.SaveProject(ctx, p.db.DB, cv, actor, p.clock.Now(), 0, 0, nsig.ProjectInput{Name: "ESR app refresh", FunctionalArea: "Self Service", Status: nsig.ProjectInProgress})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nsig.HandOver(ctx, p.db.DB, cv, actor, p.clock.Now(), proj.ID, proj.Version, nsig.HandoverInput{NSIGID: id, On: p.clock.Now(), Note: "The app's screens"}); err != nil {
		t.Fatal(err)
	}
	m := p.as(member)
	res := m.get(fmt.Sprintf("/nsigs/%d", id))
	mustStatus(t, res, 200, "the dashboard")
	if !strings.Contains(res.body, "Hand-overs waiting for regional SIGs") || !strings.Contains(res.body, "ESR app refresh") ||
		!strings.Contains(res.body, "8 of 8 regions to go") || !strings.Contains(res.body, "Mark Wales done") || strings.Contains(res.body, "Mark London done") {
		t.Fatalf("the member's dashboard: %s", excerpt(res.body))
	}
	mustStatus(t, m.post(fmt.Sprintf("/nsigs/%d/handovers/%d/regions/2", id, proj.ID), nil), 403, "another region's part")
	mustStatus(t, m.post(fmt.Sprintf("/nsigs/%d/handovers/%d/regions/8", id, proj.ID), nil), 303, "their own region")
	mustStatus(t, m.post(fmt.Sprintf("/nsigs/%d/handovers/%d/regions/8", id, proj.ID), nil), 409, "twice")
	mustStatus(t, m.post(fmt.Sprintf("/nsigs/%d/handovers/%d/regions/x", id, proj.ID), nil), 404, "no such region")
	res = m.get(fmt.Sprintf("/nsigs/%d", id))
	if !strings.Contains(res.body, "7 of 8 regions to go") || !strings.Contains(res.body, "by Wales Member") {
		t.Errorf("after marking Wales: %s", excerpt(res.body))
	}
	c := p.as(central)
	for region := 1; region <= 7; region++ {
		mustStatus(t, c.post(fmt.Sprintf("/nsigs/%d/handovers/%d/regions/%d", id, proj.ID, region), nil), 303, "the central team")
	}
	if res := c.get(fmt.Sprintf("/nsigs/%d", id)); strings.Contains(res.body, "Hand-overs waiting") {
		t.Error("every region done, the hand-over still waits on the dashboard")
	}
}

// TestScheduleAJointSession: the central team schedules a meeting held by two NSIGs; a member of the
// second reaches it through their own NSIG, and a member of neither does not.
func TestScheduleAJointSession(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	payrollID, selfID := p.nsigID("Payroll and Pensions"), p.nsigID("Self Service and Portal")
	member := p.createUser("wales.member@test.nhs.uk", "Wales Member", identity.RoleRequester)
	p.seat(member, "Self Service and Portal", 8)
	c := p.as(p.users[central])
	res := c.get(fmt.Sprintf("/nsigs/%d/meetings/new", payrollID))
	mustStatus(t, res, 200, "the meeting form")
	if !strings.Contains(res.body, "A joint session with other NSIGs?") || !strings.Contains(res.body, fmt.Sprintf(`value="%d"`, selfID)) {
		t.Fatalf("the form offers no joint session: %s", excerpt(res.body))
	}
	form := url.Values{"date-day": {"3"}, "date-month": {"12"}, "date-year": {"2026"}, "time": {"2pm"}, "duration": {"90"},
		"teams_link": {"https://teams.microsoft.com/l/meetup-join/joint"}, "purpose": {"member_items"}, "with": {fmt.Sprint(selfID)}}
	res = c.post(fmt.Sprintf("/nsigs/%d/meetings", payrollID), form)
	mustStatus(t, res, 303, "scheduling a joint session")
	meeting := strings.TrimPrefix(res.header.Get("Location"), fmt.Sprintf("/nsigs/%d", payrollID))
	res = p.as(member).get(fmt.Sprintf("/nsigs/%d%s", selfID, meeting))
	mustStatus(t, res, 200, "the joint meeting through the member's own NSIG")
	if !strings.Contains(res.body, "Joint meeting on") || !strings.Contains(res.body, "Held jointly by") || !strings.Contains(res.body, "Request an agenda item") {
		t.Errorf("the joint meeting page: %s", excerpt(res.body))
	}
	mustStatus(t, p.as(member).get(fmt.Sprintf("/nsigs/%d%s", payrollID, meeting)), 404, "through an NSIG they do not sit on")
	form.Set("with", "not-a-number")
	mustStatus(t, c.post(fmt.Sprintf("/nsigs/%d/meetings", payrollID), form), 422, "a joint NSIG that is not a number")
}
