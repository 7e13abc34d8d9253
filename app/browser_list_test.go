package app

// The central team's journey through the triage queue and the requests list, in headless Chromium with
// axe-core on every page (see browser_harness_test.go).

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// allTexts returns the visible text of every element matching the CSS selector.
func (tb *tab) allTexts(selector string) []string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+jsString(selector)+`), e => e.innerText.trim())`))
	if err != nil {
		tb.t.Fatalf("read %s on %s: %v", selector, tb.url, err)
	}
	return out
}

// fetchHeader fetches a path of the portal from the page, with its cookies, and returns the status and
// one header of the response, e.g. "200 attachment; filename=…".
func (tb *tab) fetchHeader(path, header string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(`+jsString(path)+`).then(r => r.status + ' ' + r.headers.get(`+jsString(header)+`))`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("fetch %s from %s: %v", path, tb.url, err)
	}
	return s
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

const (
	listRefs     = `main table tbody td:first-child a`
	listStatuses = `main table tbody td:nth-child(4)`
	listTitles   = `main table tbody td:nth-child(2)`
)

// TestBrowserCentralTeamTriageAndRequests opens the triage queue and the requests list as the central
// team, filters both, searches, sends a bad date, and checks the export links.
func TestBrowserCentralTeamTriageAndRequests(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	acc := p.account(t, identity.RoleCentralTeam)
	tb := openTab(t, p)
	tb.visit("/sign-in")
	tb.signIn(acc.Email, seed.DemoPassword)

	// The triage queue: a headline, then the requests waiting, each with its clock.
	tb.submit(`a.nhsuk-header__navigation-link[href="/triage"]`)
	tb.wantPath("/triage", "the Triage menu link")
	tb.wantStatus(200, "triage")
	tb.wantText("h1", "Triage")
	tb.wantText("#triage-on-time", "acknowledged within 5 working days")
	queue := tb.attrs(listRefs, "href")
	if len(queue) == 0 {
		t.Fatal("the demo data leaves nothing waiting for triage")
	}
	for _, clock := range tb.allTexts(`main table tbody td:nth-child(5) .nhsuk-tag`) {
		if !strings.HasPrefix(clock, "Due") && !strings.HasPrefix(clock, "Overdue") && clock != "Acknowledged" && !strings.HasPrefix(clock, "Reply due") && !strings.HasPrefix(clock, "Answer overdue") {
			t.Errorf("a request in the queue shows the clock %q", clock)
		}
	}
	tb.step("tick assigned to me", chromedp.Click(chromedp.ID("assigned")))
	tb.submit(`form[action="/triage"] button[type="submit"]`)
	tb.wantPath("/triage?assigned=me", "assigned to me")
	tb.wantStatus(200, "assigned to me")
	tb.wantText("main", "assigned to you")
	if !tb.checked("assigned") {
		t.Error("the filter is not kept ticked")
	}

	// The requests list, unfiltered.
	tb.submit(`a.nhsuk-header__navigation-link[href="/requests"]`)
	tb.wantPath("/requests", "the Requests menu link")
	tb.wantStatus(200, "requests")
	tb.wantText("h1", "Requests")
	all := tb.attrs(listRefs, "href")
	if len(all) < len(queue) {
		t.Fatalf("the list shows %d requests, fewer than the %d waiting for triage", len(all), len(queue))
	}

	// Filtered by the first row's status: every row has it.
	status := tb.allTexts(listStatuses)[0]
	tb.choose("status", status)
	tb.submit(`form.portal-filter button[type="submit"]`)
	tb.wantStatus(200, "filtered by status")
	if !strings.Contains(tb.url, "status=") {
		t.Errorf("the filter is not in the address: %s", tb.url)
	}
	got := tb.allTexts(listStatuses)
	if len(got) == 0 || len(got) > len(all) {
		t.Fatalf("filtering by %q shows %d requests", status, len(got))
	}
	for _, s := range got {
		if s != status {
			t.Errorf("filtering by %q shows a request that is %q", status, s)
		}
	}
	if sel := tb.selected("status"); sel != status {
		t.Errorf("the status filter shows %q after filtering", sel)
	}
	csv := tb.attrs(`main a[href^="/requests/export.csv"]`, "href")
	if len(csv) != 1 || !strings.Contains(csv[0], "status=") {
		t.Fatalf("the CSV link is %v", csv)
	}
	if got := tb.fetchHeader(csv[0], "Content-Disposition"); !strings.HasPrefix(got, `200 attachment; filename="requests-`) {
		t.Errorf("the CSV export answers %q", got)
	}
	xlsx := tb.attrs(`main a[href^="/requests/export.xlsx"]`, "href")
	if len(xlsx) != 1 {
		t.Fatalf("the Excel link is %v", xlsx)
	}
	if got := tb.fetchHeader(xlsx[0], "Content-Type"); got != "200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("the Excel export answers %q", got)
	}

	// Searching for a request's title finds it first, sorted by best match.
	tb.choose("status", "Any status")
	title := strings.SplitN(tb.allTexts(listTitles)[0], "\n", 2)[0]
	tb.typeInto("q", title)
	tb.submit(`form.portal-filter button[type="submit"]`)
	tb.wantStatus(200, "search")
	if titles := tb.allTexts(listTitles); len(titles) == 0 || !strings.HasPrefix(titles[0], title) {
		t.Errorf("searching for %q lists %v first", title, titles)
	}
	if sel := tb.selected("sort"); sel != "Best match" {
		t.Errorf("a search is sorted by %q", sel)
	}

	// A date that does not exist: the error summary, the inline error, what was typed.
	tb.typeInto("from-day", "31")
	tb.typeInto("from-month", "2")
	tb.typeInto("from-year", "2026")
	tb.submit(`form.portal-filter button[type="submit"]`)
	tb.wantStatus(422, "an impossible date")
	tb.wantText(".nhsuk-error-summary", "There is a problem", "Enter a real date")
	if links := tb.attrs(".nhsuk-error-summary a", "href"); len(links) != 1 || links[0] != "#from-day" {
		t.Errorf("the error summary links to %v", links)
	}
	tb.wantText("#from-error", "Enter a real date")
	if tb.value("from-day") != "31" || tb.value("q") != title {
		t.Errorf("the form lost what was typed: day %q, search %q", tb.value("from-day"), tb.value("q"))
	}
	if !strings.HasPrefix(tb.title(), "Error: ") {
		t.Errorf("the title %q does not start with Error:", tb.title())
	}

	// Clearing the filters shows the whole list again.
	tb.submit(`main a[href="/requests"]`)
	tb.wantStatus(200, "filters cleared")
	if n := len(tb.attrs(listRefs, "href")); n != len(all) {
		t.Errorf("after clearing the filters the list shows %d requests, want %d", n, len(all))
	}
}
