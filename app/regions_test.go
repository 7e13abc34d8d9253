package app

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/request"
)

// TestRegionalSIGUpdate: a region's update for a period shows the NSIG meetings and how the region was
// represented, its views (never their comments), the decisions on its organisations' requests and the
// coming releases; the NSIGs' minutes only to those who sit on them; its seat holders and FAM read it,
// other regions' do not; the PDF reads back; the central team sends it to the region's seat holders and
// FAM, each once.
func TestRegionalSIGUpdate(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	requester := p.users[requester]
	var region int16
	if err := p.db.DB.NewRaw(`SELECT o.region_id FROM organisations AS o WHERE o.id = ?`, requester.OrganisationID).Scan(ctx, &region); err != nil {
		t.Fatal(err)
	}
	other := region%8 + 1
	member := p.createUser("seat.member@test.nhs.uk", "Seat Member", identity.RoleRequester)
	p.seat(member, "Payroll and Pensions", region)
	elsewhere := p.createUser("other.member@test.nhs.uk", "Other Member", identity.RoleRequester)
	p.seat(elsewhere, "Self Service and Portal", other)

	r := approvedForRelease(t, p, requester, 1, "Regional payroll change", 5)
	// The region's view, given while the request was under review (written as RecordView writes it).
	if _, err := p.db.DB.NewRaw(`INSERT INTO regional_views (request_id, nsig_id, region_id, view, comment, position, recorded_by, recorded_at)
		VALUES (?, ?, ?, 'support', 'Qzviewcomment in full', 'member', ?, ?)`, r.ID, p.nsigID("Payroll and Pensions"), region, member.ID, p.clock.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	central := p.users[central]
	cv, err := request.ViewerFor(ctx, p.db.DB, central)
	if err != nil {
		t.Fatal(err)
	}
	payroll, err := nsig.Get(ctx, p.db.DB, cv, p.nsigID("Payroll and Pensions"))
	if err != nil {
		t.Fatal(err)
	}
	start := p.clock.Now().Add(time.Hour)
	m, err := nsig.Schedule(ctx, p.db.DB, cv, audit.Actor{Name: "central"}, p.clock.Now(), payroll.ID, nsig.MeetingInput{StartsAt: start, DurationMinutes: 60,
		TeamsLink: "https://teams.microsoft.com/l/meetup-join/rsig", Purpose: nsig.PurposeCentralUpdate})
	if err != nil {
		t.Fatal(err)
	}
	it, err := nsig.RequestItem(ctx, p.db.DB, cv, audit.Actor{Name: "central"}, p.clock.Now(), payroll, m.ID, nsig.ItemInput{Title: "Payroll roadmap"})
	if err != nil {
		t.Fatal(err)
	}
	if err := nsig.DecideItem(ctx, p.db.DB, cv, audit.Actor{Name: "central"}, p.clock.Now(), payroll, m.ID, it.ID, true); err != nil {
		t.Fatal(err)
	}
	after := start.Add(30 * time.Minute)
	if err := nsig.RecordAttendance(ctx, p.db.DB, cv, audit.Actor{Name: "central"}, after, payroll, m.ID,
		map[nsig.SeatKey]nsig.Position{{NSIGID: payroll.ID, RegionID: region}: nsig.Member}); err != nil {
		t.Fatal(err)
	}
	if err := nsig.RecordMinutes(ctx, p.db.DB, cv, audit.Actor{Name: "central"}, after, payroll, m.ID, it.ID, nsig.MinutesInput{Minutes: "Qzminutes agreed"}); err != nil {
		t.Fatal(err)
	}
	p.clock.Advance(after.Add(time.Hour).Sub(p.clock.Now()))

	path := fmt.Sprintf("/regions/%d/update", region)
	res := p.as(member).get(path)
	mustStatus(t, res, 200, "the region's seat holder")
	for _, want := range []string{"Payroll and Pensions: member", "Payroll roadmap", "Qzminutes agreed", r.Reference, "Support", "Approved", "Coming releases"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the update lacks %q", want)
		}
	}
	if strings.Contains(res.body, "Qzviewcomment") {
		t.Error("the update shows a view's comment")
	}
	res = p.as(p.users[fam]).get(path)
	mustStatus(t, res, 200, "the region's FAM")
	if strings.Contains(res.body, "Qzminutes") || !strings.Contains(res.body, "1 agenda items: the agenda and minutes are for the NSIG") {
		t.Error("the FAM, who does not sit on the NSIG, reads its minutes or is not told there are some")
	}
	mustStatus(t, p.as(elsewhere).get(path), 404, "another region's seat holder")
	mustStatus(t, p.as(requester).get(path), 403, "a requester")
	res = p.as(member).get(path + "?from-day=31&from-month=2&from-year=2026&to-day=1&to-month=1&to-year=2026")
	mustStatus(t, res, 422, "a date that is not real")
	if !strings.Contains(res.body, "The start of the period must be a real date") {
		t.Errorf("the period error: %s", excerpt(res.body))
	}

	res = p.as(member).get(path + "/pdf")
	mustStatus(t, res, 200, "the PDF")
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = strings.NewReader(res.body)
	text, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Regional SIG update", r.Reference, "Payroll roadmap", "Page 1 of"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the PDF does not read back %q", want)
		}
	}

	mustStatus(t, p.as(member).post(path+"/send", nil), 403, "a seat holder sending")
	res = p.as(central).post(path+"/send", nil)
	mustStatus(t, res, 303, "the central team sending")
	var told []int64
	if err := p.db.DB.NewRaw(`SELECT user_id FROM notifications WHERE event = ? ORDER BY user_id`, notify.EventRegionalUpdate).Scan(ctx, &told); err != nil {
		t.Fatal(err)
	}
	want := []int64{p.users[fam].ID, member.ID}
	if len(told) != 2 || !(told[0] == min(want[0], want[1]) && told[1] == max(want[0], want[1])) {
		t.Errorf("told %v, want the seat holder and the FAM %v once each", told, want)
	}
	var body string
	if err := p.db.DB.NewRaw(`SELECT body FROM notifications WHERE event = ? LIMIT 1`, notify.EventRegionalUpdate).Scan(ctx, &body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, r.Reference) || strings.Contains(body, "Qzminutes") || strings.Contains(body, "Qzviewcomment") {
		t.Errorf("the email says %q", body)
	}
}
