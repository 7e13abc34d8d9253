package app

import (
	"slices"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/schedule"
	"github.com/nhs-esr/portal/app/seed"
)

// TestBrowserPublishDevelopmentSchedule has the central team prepare this quarter's Development Schedule
// (first with a date that is not real, and being told), preview it, publish it and make it public; a
// requester then finds it in the archive and anyone reads it without signing in. Every page is checked
// with axe.
func TestBrowserPublishDevelopmentSchedule(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	var allocated string
	if err := p.db.NewRaw(`SELECT r.reference FROM allocations AS a JOIN requests AS r ON r.id = a.request_id
		JOIN releases AS rl ON rl.id = a.release_id WHERE rl.released_at IS NULL ORDER BY 1 LIMIT 1`).Scan(t.Context(), &allocated); err != nil {
		t.Fatal(err)
	}
	quarter := schedule.QuarterOf(time.Now().In(london)).Label()

	central := openTab(t, p)
	central.visit("/sign-in")
	central.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	central.submit(`a.nhsuk-header__navigation-link[href="/schedules"]`)
	central.wantStatus(200, "development schedules")
	central.wantText("main", "No Development Schedule has been published yet")
	central.submit(`main a[href="/schedules/new"]`)
	central.wantStatus(200, "prepare a schedule")
	central.typeInto("date-day", "31")
	central.typeInto("date-month", "2")
	central.submit(`main form button[type="submit"]`)
	central.wantStatus(422, "a date that is not real")
	central.wantText(".nhsuk-error-summary", "There is a problem", "The publication date must be a real date")
	if got := central.value("date-day"); got != "31" {
		t.Errorf("the day typed is now %q", got)
	}
	today := time.Now().In(london)
	central.typeInto("date-day", today.Format("2"))
	central.typeInto("date-month", today.Format("1"))
	central.submit(`main form button[type="submit"]`)
	central.wantStatus(200, "the preview")
	central.wantText("main", "Preview: not published yet", "Development Schedule for "+quarter, allocated, "1. Releases in the coming period",
		"5. How to raise an enhancement", "told that it is published", "Make this version the public one")
	// The draft PDF link keeps the quarter and date the preview was made with.
	if got := central.fetchHref(`main a[href^="/schedules/preview/pdf"]`); got.Status != 200 || got.ContentType != "application/pdf" {
		t.Errorf("the preview's PDF link answered %d %q, want 200 application/pdf", got.Status, got.ContentType)
	}
	central.submit(`main form[action="/schedules"] button[type="submit"]`)
	central.wantStatus(200, "the published schedule")
	// "Make this version the public one" is ticked at first.
	central.wantText(".nhsuk-notification-banner", "The Development Schedule for "+quarter+" is published", "It is the version the public sees")
	central.wantText("main", "SHA-256 checksum of the PDF", "Download the PDF", allocated)
	central.submit(`main form[action$="/public"] button[type="submit"]`)
	central.wantStatus(200, "after taking it down")
	central.wantText(".nhsuk-notification-banner", "is no longer public")
	central.submit(`main form[action$="/public"] button[type="submit"]`)
	central.wantStatus(200, "after making it public")
	central.wantText(".nhsuk-notification-banner", "is public")
	if links := central.attrs(".nhsuk-notification-banner a", "href"); !slices.Equal(links, []string{"/development-schedule"}) {
		t.Errorf("the banner after making it public links to %v, want [/development-schedule]", links)
	}

	requester := openTab(t, p)
	requester.visit("/sign-in")
	requester.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)
	requester.submit(`a.nhsuk-header__navigation-link[href="/schedules"]`)
	requester.wantText("main", quarter, "Version 1", "Current", "Public", "PDF", "Excel", "CSV")
	requester.submit(`main table a[href^="/schedules/"]`)
	requester.wantStatus(200, "the schedule")
	requester.wantText("main", allocated, "Download its tables as an Excel spreadsheet")

	anyone := openTab(t, p)
	anyone.visit("/sign-in")
	anyone.submit(`main a[href="/development-schedule"]`)
	anyone.wantStatus(200, "the public schedule")
	anyone.wantText("h1", "Development Schedule for "+quarter)
	anyone.wantText("main", allocated)
	anyone.submit(`#raise ~ p a[href^="/sign-in"]`)
	anyone.wantPath("/sign-in", "how to raise an enhancement links to signing in")
}
