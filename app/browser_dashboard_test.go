package app

// The dashboards in headless Chromium with axe-core on every page: the national dashboard as the
// central team, a figure and a bar followed to their lists, the period form, its PDF and workbook read
// back, the filtered list's PDF; then a region's dashboard as its functional account manager, an
// organisation's as a requester, and an NSIG's as a member, with a drill-down from each.

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// download fetches a path of the portal from the page shown, with its cookies, and returns the body.
func (tb *tab) download(path string) []byte {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+jsString(path)+`).then(r => {
		if (!r.ok) { throw new Error('status ' + r.status); }
		return r.arrayBuffer();
	}).then(b => { const u = new Uint8Array(b); let s = ''; for (let i = 0; i < u.length; i++) { s += String.fromCharCode(u[i]); } return btoa(s); })`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("download %s from %s: %v", path, tb.url, err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		tb.t.Fatal(err)
	}
	return b
}

// pdfText is a PDF's text as pdftotext reads it.
func pdfText(t *testing.T, body []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "download.pdf")
	if err := os.WriteFile(f, body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (poppler-utils must be installed)", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

var listTotalText = regexp.MustCompile(`^(\d+) requests?$`)

// followFigure clicks the figure or bar matching selector and checks that the list it opens has as many
// requests as the figure counted.
func (tb *tab) followFigure(selector string) string {
	tb.t.Helper()
	counts := tb.attrs(selector, "data-count")
	if len(counts) == 0 {
		tb.t.Fatalf("no figure matches %s on %s", selector, tb.url)
	}
	tb.submit(selector)
	tb.wantStatus(200, "the list of "+selector)
	m := listTotalText.FindStringSubmatch(tb.text("#requests-total"))
	if m == nil || m[1] != counts[0] {
		tb.t.Errorf("%s counts %s; its list %s says %q", selector, counts[0], tb.url, tb.text("#requests-total"))
	}
	return counts[0]
}

func TestBrowserDashboardsDrillDownAndDownloads(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	tb := openTab(t, p)
	tb.visit("/sign-in")
	tb.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)

	// The national dashboard from the menu: every chart has its title, description and links.
	tb.submit(`a.nhsuk-header__navigation-link[href="/dashboard"]`)
	tb.wantStatus(200, "national dashboard")
	tb.wantText("h1", "National dashboard")
	tb.wantText("main", "Acknowledgement within 5 working days", "Pipeline and time in stage", "Backlog of open requests",
		"Demand for the requests awaiting a decision", "Decisions by quarter", "Releases", "How these figures are worked out")
	charts := tb.attrs("svg.portal-chart__svg", "aria-labelledby")
	if len(charts) < 6 {
		t.Fatalf("the dashboard has %d charts", len(charts))
	}
	for _, ids := range charts {
		for _, id := range strings.Fields(ids) {
			if tb.text("#"+id) == "" {
				t.Errorf("a chart is labelled by #%s, which says nothing", id)
			}
		}
	}
	if descs := tb.attrs("svg.portal-chart__svg desc", "id"); len(descs) != len(charts) {
		t.Errorf("%d charts, %d descriptions", len(charts), len(descs))
	}

	// A bar followed to its list, then a figure of the table with a drill-down filter.
	bar := `#chart-pipeline a.portal-chart__link:not([data-count="0"])`
	tb.followFigure(bar)
	tb.visit("/dashboard")
	var staged string
	for _, href := range tb.attrs(`#pipeline-table a.portal-figure:not([data-count="0"])`, "href") {
		if strings.Contains(href, "stage=") {
			staged = href
			break
		}
	}
	if staged == "" {
		t.Fatal("no figure of time in stage counts a request")
	}
	tb.followFigure(`#pipeline-table a.portal-figure[href="` + staged + `"]`)
	tb.wantText("#drill-filters", "Also filtered by", "First in the stage")
	// Removing the drill-down filter widens the list.
	tb.submit(`#drill-filters a`)
	tb.wantStatus(200, "the list without the stage")
	if strings.Contains(tb.html(), `id="drill-filters"`) {
		t.Error("removing the only drill-down filter left it shown")
	}

	// The filtered list as a PDF, read back.
	tb.visit("/requests?kind=enhancement&status=open")
	pdfLink := tb.attrs(`main a[href^="/requests/export.pdf"]`, "href")
	if len(pdfLink) != 1 {
		t.Fatalf("the list's PDF link is %v", pdfLink)
	}
	text := pdfText(t, tb.download(pdfLink[0]))
	total := listTotalText.FindStringSubmatch(tb.text("#requests-total"))
	for _, want := range []string{"Requests", "Status: Any open status", "Type: Enhancement requests", total[1] + " requests", "Page 1 of", "Generated"} {
		if !strings.Contains(text, want) {
			t.Errorf("the list's PDF lacks %q:\n%s", want, text[:min(len(text), 800)])
		}
	}

	// Another quarter, then dates that do not work.
	tb.visit("/dashboard")
	quarters := tb.attrs("#quarter option", "value")
	if len(quarters) < 2 {
		t.Fatalf("the quarters offered are %v", quarters)
	}
	tb.choose("quarter", tb.allTexts("#quarter option")[1])
	tb.submit(`#period-form button[type="submit"]`)
	tb.wantStatus(200, "the previous quarter")
	if !strings.Contains(tb.url, "quarter="+quarters[1]) {
		t.Errorf("the quarter is not in the address: %s", tb.url)
	}
	tb.visit("/dashboard?from-day=31&from-month=12&from-year=2026&to-day=1&to-month=10&to-year=2026")
	tb.wantStatus(422, "dates the wrong way round")
	tb.wantText(".nhsuk-error-summary", "There is a problem", "The end date must be the same as or after the start date")

	// The dashboard's PDF and workbook, read back.
	tb.visit("/dashboard")
	text = pdfText(t, tb.download(tb.attrs(`main a[href^="/dashboard/report.pdf"]`, "href")[0]))
	for _, want := range []string{"National dashboard", "Generated", "Period", "Only the requests Daniel Okafor may see",
		"Acknowledgement by month received", "Open requests and time in stage", "Decisions by quarter", "Page 1 of"} {
		if !strings.Contains(text, want) {
			t.Errorf("the dashboard's PDF lacks %q", want)
		}
	}
	x, err := excelize.OpenReader(bytes.NewReader(tb.download(tb.attrs(`main a[href^="/dashboard/report.xlsx"]`, "href")[0])))
	if err != nil {
		t.Fatal(err)
	}
	sheets := x.GetSheetList()
	for _, want := range []string{"About", "Acknowledgement", "Pipeline", "By region", "Decisions", "Releases"} {
		if !slices.Contains(sheets, want) {
			t.Errorf("the workbook has no sheet %q: %v", want, sheets)
		}
	}
	for _, c := range []struct{ sheet, cell string }{{"Pipeline", "B2"}, {"Acknowledgement", "A2"}, {"About", "B2"}} {
		raw, err := x.GetCellValue(c.sheet, c.cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			t.Errorf("%s!%s is %q, not a number or a date", c.sheet, c.cell, raw)
		}
	}
	if shown, _ := x.GetCellValue("Acknowledgement", "A2"); !regexp.MustCompile(`^\d{1,2} [A-Z][a-z]{2} 20\d\d$`).MatchString(shown) {
		t.Errorf("the month received shows as %q, not as a date", shown)
	}
	x.Close()

	// The region's dashboard as its functional account manager, and a figure followed.
	tb.submit(".nhsuk-header__account-button")
	tb.signIn(p.account(t, identity.RoleFunctionalAccountManager).Email, seed.DemoPassword)
	tb.submit(`a.nhsuk-header__navigation-link[href^="/dashboard/regions/"]`)
	tb.wantStatus(200, "region dashboard")
	tb.wantText(".nhsuk-caption-l", "Region")
	tb.followFigure(`#card-open a.portal-figure`)

	// An organisation's dashboard as a requester.
	tb.submit(".nhsuk-header__account-button")
	tb.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)
	tb.submit(`a.nhsuk-header__navigation-link[href^="/dashboard/organisations/"]`)
	tb.wantStatus(200, "organisation dashboard")
	tb.wantText(".nhsuk-caption-l", "Organisation")
	tb.followFigure(`#card-open a.portal-figure`)

	// An NSIG's dashboard as its member: a count of its open requests followed to its list.
	tb.submit(".nhsuk-header__account-button")
	tb.signIn(p.account(t, identity.RoleNSIGMember).Email, seed.DemoPassword)
	tb.submit(`a.nhsuk-header__navigation-link[href="/nsigs"]`)
	nsigs := tb.attrs(`main a[href^="/nsigs/"]:not([href$="/waiting"])`, "href")
	if len(nsigs) == 0 {
		t.Fatal("the NSIG member sees no NSIG")
	}
	tb.visit(nsigs[0])
	tb.wantText("h2", "Open requests")
	tb.followFigure(`main a.portal-figure`)
	nsigPDF := pdfText(t, tb.download(nsigs[0]+"/report.pdf"))
	if !strings.Contains(nsigPDF, "Open requests by status") || !strings.Contains(nsigPDF, "Regional seats") {
		t.Errorf("the NSIG's PDF lacks its tables:\n%s", nsigPDF[:min(len(nsigPDF), 600)])
	}
}
