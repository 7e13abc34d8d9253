package app

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/request"
)

// TestMonthlyRegionReport: on the first of the month each functional account manager gets their
// region's dashboard for the month before, once, with links to its PDF and workbook that they may
// open; one who turned the report off gets nothing.
func TestMonthlyRegionReport(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	london := testUserAt(t, p, "fam.london@esr.nhs.uk", "Fran London", "ZLN02", identity.RoleFunctionalAccountManager)
	quiet := testUserAt(t, p, "fam.quiet@esr.nhs.uk", "Quentin Quiet", "ZLN02", identity.RoleFunctionalAccountManager)
	if err := notify.SavePreferences(ctx, p.db.DB, audit.Actor{Name: "quiet"}, p.clock.Now(), quiet.ID, false,
		[]notify.Preference{{Event: notify.EventRegionReport}}); err != nil {
		t.Fatal(err)
	}
	raiser := testUserAt(t, p, "req@thameside.nhs.uk", "Theo Thameside", "ZLN01", identity.RoleRequester)
	late := raiseTestRequestAt(t, p, raiser, request.NewEnhancement{Title: "Acknowledged late"}, londonTime(2026, 11, 2, 10))
	applyTestTransition(t, p, p.users[identity.RoleCentralTeam], late.Reference, "acknowledge", londonTime(2026, 11, 16, 10), request.Input{})
	onTime := raiseTestRequestAt(t, p, raiser, request.NewEnhancement{Title: "Acknowledged on time"}, londonTime(2026, 11, 3, 10))
	applyTestTransition(t, p, p.users[identity.RoleCentralTeam], onTime.Reference, "acknowledge", londonTime(2026, 11, 4, 10), request.Input{})

	today := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	n, err := p.app.sendRegionReports(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("%d reports written, want one for each functional account manager", n)
	}
	var got []struct {
		UserID int64  `bun:"user_id"`
		Title  string `bun:"title"`
		Body   string `bun:"body"`
		Link   string `bun:"link"`
	}
	if err := p.db.DB.NewRaw(`SELECT user_id, title, body, link FROM notifications WHERE event = ? ORDER BY id`, notify.EventRegionReport).Scan(ctx, &got); err != nil {
		t.Fatal(err)
	}
	var mine string
	for _, m := range got {
		if m.UserID == quiet.ID {
			t.Errorf("the manager who turned the report off got %q", m.Title)
		}
		if m.UserID == london.ID {
			if m.Title != "London region: the monthly report for November 2026" {
				t.Errorf("the London report is titled %q", m.Title)
			}
			mine = m.Body
			if !strings.HasPrefix(m.Link, "/dashboard/regions/2?") {
				t.Errorf("the report links to %s", m.Link)
			}
		}
	}
	for _, want := range []string{"Acknowledged within 5 working days: 1 of the 2 requests received in November 2026 whose clock has run out (50%).",
		"Open requests now: 2, of which 0 await a decision."} {
		if !strings.Contains(mine, want) {
			t.Errorf("the London report lacks %q:\n%s", want, mine)
		}
	}
	pdfLink := regexp.MustCompile(`http://localhost:3000(/dashboard/regions/2/report\.pdf\?\S+)`).FindStringSubmatch(mine)
	if pdfLink == nil {
		t.Fatalf("the report has no PDF link:\n%s", mine)
	}
	res := p.as(london).get(pdfLink[1])
	mustStatus(t, res, 200, "the report's PDF")
	if !strings.HasPrefix(res.header.Get("Content-Type"), "application/pdf") || !strings.Contains(readable(t, res), "November 2026") {
		t.Errorf("the report's PDF is not the month's: %s", res.header.Get("Content-Type"))
	}
	if n, err := p.app.sendRegionReports(ctx, today.AddDate(0, 0, 3)); err != nil || n != 0 {
		t.Errorf("a second run in December wrote %d reports, %v", n, err)
	}
}
