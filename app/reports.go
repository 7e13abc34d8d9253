package app

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/dashboard"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/schedule/pdf"
)

// Reports: every dashboard, and the filtered requests list, as a PDF in the Development Schedule's look
// (pdf.RenderReport) and as an Excel workbook with one worksheet a table, numbers as numbers and dates
// as dates. Both hold the tables the page shows, so they say no more than the page: the figures the
// viewer may see.

// reportFile is what a report is about, for its particulars and file name.
type reportFile struct {
	title    string
	subtitle string
	slug     string // the file name's middle: "dashboard-london"
	filters  []reportLine
	sections []dashSection
}

// reportLine is one of a report's particulars: "Period", "1 October 2026 to 31 December 2026".
type reportLine struct{ Key, Value string }

// whose says whose access a report's figures follow.
func whose(u *identity.User) reportLine {
	return reportLine{Key: "Counts", Value: "Only the requests " + u.Name + " may see, on the day it was generated"}
}

// slugOf makes a name safe for a file name: lower case letters, digits and hyphens.
func slugOf(s string) string {
	s = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 60 {
		s = strings.TrimRight(s[:60], "-")
	}
	return s
}

// dashboardReport is a dashboard as a report.
func (a *App) dashboardReport(c *fiber.Ctx, d *dashboard.Dashboard, p *dashboardPage) reportFile {
	slug := "dashboard-national"
	scope := "Every region and organisation"
	switch {
	case d.Scope.RegionID != 0:
		slug, scope = "dashboard-"+slugOf(d.Scope.Name), "The "+d.Scope.Name+" region's organisations"
	case d.Scope.OrganisationID != 0:
		slug, scope = "dashboard-"+slugOf(d.Scope.Name), d.Scope.Name
	}
	from, to := d.Period.From.Format("2 January 2006"), d.Period.To.Format("2 January 2006")
	return reportFile{
		title: p.Heading, subtitle: d.Period.Label, slug: slug, sections: dashSections(d),
		filters: []reportLine{
			{Key: "Period", Value: from + " to " + to},
			{Key: "Requests", Value: scope + ": enhancement requests"},
			whose(visitOf(c).user),
		},
	}
}

// pdfReport renders a report as a PDF with the pdf package's report (the regional SIG update's look):
// its particulars, when it was generated among them, then a numbered section a table.
func (a *App) pdfReport(rf reportFile) ([]byte, error) {
	now := a.now()
	generated := "Generated " + now.In(london).Format("2 January 2006 at 3:04pm")
	rep := &pdf.Report{Title: rf.title, Subtitle: rf.subtitle, Reference: generated, Date: now,
		Subject: rf.title + ": figures and tables from the ESR Enhancement Portal", Intro: []string{generated + "."}}
	for _, l := range rf.filters {
		rep.Intro = append(rep.Intro, l.Key+": "+l.Value)
	}
	for _, s := range rf.sections {
		for i, t := range s.Tables() {
			ps := pdf.ReportSection{Title: t.Caption, Empty: t.Empty}
			if i == 0 && s.Intro != "" {
				ps.Paragraphs = []string{s.Intro}
			}
			if ps.Title == "" {
				ps.Title = s.Title
			}
			if ps.Empty == "" {
				ps.Empty = "None."
			}
			for _, col := range t.Columns {
				ps.Columns = append(ps.Columns, col.Title)
			}
			for _, row := range t.Rows {
				cells := make([]string, len(row))
				for i, cell := range row {
					cells[i] = cell.Text
				}
				ps.Rows = append(ps.Rows, cells)
			}
			rep.Sections = append(rep.Sections, ps)
		}
	}
	var buf bytes.Buffer
	if err := pdf.RenderReport(&buf, rep); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// xlsxReport writes a report as a workbook: a first worksheet of its particulars, then one a table.
func (a *App) xlsxReport(rf reportFile) ([]byte, error) {
	now := a.now()
	about := sheet{Name: "About", Columns: []string{"Report", rf.title}, Widths: []float64{24, 90}}
	about.Rows = append(about.Rows, []any{"Generated", a.exportDate(now)}, []any{"Generated at (UK time)", now.In(london).Format("15:04")})
	if rf.subtitle != "" {
		about.Rows = append(about.Rows, []any{"For", rf.subtitle})
	}
	for _, l := range rf.filters {
		about.Rows = append(about.Rows, []any{l.Key, l.Value})
	}
	sheets := []sheet{about}
	used := map[string]bool{"About": true}
	for _, s := range rf.sections {
		for _, t := range s.Tables() {
			name := sheetName(t.Sheet, used)
			sh := sheet{Name: name}
			for _, col := range t.Columns {
				sh.Columns = append(sh.Columns, col.Title)
				sh.Widths = append(sh.Widths, max(col.Width*0.8, 10))
			}
			for _, row := range t.Rows {
				cells := make([]any, len(row))
				for i, cell := range row {
					cells[i] = cell.Value
				}
				sh.Rows = append(sh.Rows, cells)
			}
			sheets = append(sheets, sh)
		}
	}
	return workbook(excelize.DocProperties{Title: rf.title, Subject: rf.subtitle, Creator: "ESR Enhancement Portal",
		Created: now.UTC().Format(time.RFC3339)}, sheets...)
}

// sheetName is a worksheet name of at most 31 characters, without the characters Excel refuses, not
// yet used in the workbook.
func sheetName(name string, used map[string]bool) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, name)
	if name == "" {
		name = "Table"
	}
	if r := []rune(name); len(r) > 31 {
		name = string(r[:31])
	}
	base := name
	for i := 2; used[name]; i++ {
		suffix := " " + strconv.Itoa(i)
		r := []rune(base)
		if len(r)+len(suffix) > 31 {
			r = r[:31-len(suffix)]
		}
		name = string(r) + suffix
	}
	used[name] = true
	return name
}

func (a *App) reportFilename(slug, ext string) string {
	return fmt.Sprintf("%s-%s.%s", slug, a.calendar.Date(a.now()).Format("2006-01-02"), ext)
}

// dashboardReportOf builds the route's dashboard for a report; a period the page would refuse sends
// the browser to the page, which shows why.
func (a *App) dashboardReportOf(c *fiber.Ctx) (reportFile, bool, error) {
	d, p, errs, err := a.buildDashboard(c)
	if err != nil {
		return reportFile{}, false, err
	}
	if errs.Any() {
		page := strings.TrimSuffix(strings.TrimSuffix(c.Path(), ".pdf"), ".xlsx")
		page = strings.TrimSuffix(page, "/report")
		return reportFile{}, false, c.Redirect(page+p.Period.query(), fiber.StatusSeeOther)
	}
	return a.dashboardReport(c, d, p), true, nil
}

func (a *App) dashboardPDF(c *fiber.Ctx) error {
	rf, ok, err := a.dashboardReportOf(c)
	if !ok || err != nil {
		return err
	}
	body, err := a.pdfReport(rf)
	if err != nil {
		return err
	}
	return sendFile(c, "application/pdf", a.reportFilename(rf.slug, "pdf"), body, false)
}

func (a *App) dashboardXLSX(c *fiber.Ctx) error {
	rf, ok, err := a.dashboardReportOf(c)
	if !ok || err != nil {
		return err
	}
	body, err := a.xlsxReport(rf)
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return sendFile(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", a.reportFilename(rf.slug, "xlsx"), body, false)
}

// requestsExportPDF sends the filtered requests list as a PDF report: the filters it was made with,
// then the requests, as the exports hold them.
func (a *App) requestsExportPDF(c *fiber.Ctx) error {
	lines, ok, err := a.exportLines(c)
	if !ok || err != nil {
		return err
	}
	ff := readRequestFilter(c)
	filters, err := a.filterLines(c, ff)
	if err != nil {
		return err
	}
	t := dashTable{Caption: "Requests", Columns: []dashColumn{{"Reference", false, 22}, {"Title", false, 48}, {"Status", false, 24},
		{"Raising organisation", false, 34}, {"Received", false, 18}, {"Supporting organisations", true, 14}}, Empty: "No requests match these filters."}
	for _, l := range lines {
		t.Rows = append(t.Rows, []dashCell{textCell(l.Reference), textCell(l.Title), textCell(l.Status),
			textCell(l.Organisation + ", " + l.Region), textCell(l.Received.Format("2 Jan 2006")), textCell(strconv.Itoa(l.Supporters))})
	}
	subtitle := fmt.Sprintf("%d %s", len(lines), plural(len(lines), "request", "requests"))
	if len(lines) == exportLimit {
		subtitle = fmt.Sprintf("The first %s requests that match", thousands(exportLimit))
	}
	rf := reportFile{title: "Requests", subtitle: subtitle, slug: "requests", filters: append(filters, whose(visitOf(c).user)),
		sections: []dashSection{{Title: "Requests", Intro: "The requests that match the filters, in the order the list shows them. It never includes internal notes or people's names.", Blocks: []dashBlock{{Table: &t}}}}}
	body, err := a.pdfReport(rf)
	if err != nil {
		return err
	}
	return sendFile(c, "application/pdf", a.exportFilename("pdf"), body, false)
}

// filterLines words the list's filters for a report's particulars.
func (a *App) filterLines(c *fiber.Ctx, ff requestFilterForm) ([]reportLine, error) {
	p := &requestsIndexPage{Filter: ff}
	if err := a.requestFilterOptions(c.UserContext(), p); err != nil {
		return nil, err
	}
	label := func(opts []Option, v string) string {
		for _, o := range opts {
			if o.Value == v {
				return o.Label
			}
		}
		return v
	}
	var out []reportLine
	add := func(key, value string) {
		if value != "" {
			out = append(out, reportLine{Key: key, Value: value})
		}
	}
	add("Search", ff.Query)
	if ff.Kind != "" {
		add("Type", label(p.KindOptions, ff.Kind))
	}
	if ff.Status != "" {
		add("Status", label(p.StatusOptions, ff.Status))
	}
	add("Functional area", ff.Area)
	if ff.NSIG != "" {
		add("NSIG", label(p.NSIGOptions, ff.NSIG))
	}
	if ff.Region != "" {
		add("Region", label(p.RegionOptions, ff.Region))
	}
	if ff.Organisation != "" {
		add("Raising organisation", label(p.OrganisationOptions, ff.Organisation))
	}
	if ff.SLA != "" {
		add("Acknowledgement", label(slaOptions, ff.SLA))
	}
	f, _ := a.requestFilter(ff)
	switch {
	case !f.RaisedFrom.IsZero() || !f.RaisedTo.IsZero():
		add("Raised", strings.TrimPrefix(between(f.RaisedFrom, f.RaisedTo), "between "))
	}
	tags, err := a.drillTags(c.UserContext(), ff)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		add("Also", t.Text)
	}
	if len(out) == 0 {
		add("Filters", "None: every request you may see")
	}
	add("Sorted by", label(sortOptions(ff.Query), ff.Sort))
	return out, nil
}

// nsigReport is an NSIG's dashboard as a report: its open requests by status, the regions' views still
// awaited, and its seats.
func (a *App) nsigReport(c *fiber.Ctx) (reportFile, error) {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return reportFile{}, err
	}
	n, err := a.nsigFromParam(c, v)
	if err != nil {
		return reportFile{}, err
	}
	today := request.Day(a.calendar.Date(a.now()))
	d, err := nsig.DashboardOf(ctx, a.db, v, n.ID, today)
	if err != nil {
		return reportFile{}, err
	}
	seats, err := nsig.SeatsOf(ctx, a.db, n.ID)
	if err != nil {
		return reportFile{}, err
	}
	byStatus := dashTable{Caption: "Open requests by status", Sheet: "Open requests", Columns: []dashColumn{{"Status", false, 60}, {"Requests", true, 20}},
		Empty: "No requests are under review by this NSIG."}
	for _, s := range d.ByStatus {
		byStatus.Rows = append(byStatus.Rows, []dashCell{headCell(s.Status.Label()), {Text: strconv.Itoa(s.Count), Value: s.Count}})
	}
	byStatus.Rows = append(byStatus.Rows, []dashCell{headCell("All open requests"), {Text: strconv.Itoa(d.OpenN), Value: d.OpenN}})
	gaps := dashTable{Caption: "Requests waiting for each region's view", Sheet: "Coverage gaps",
		Columns: []dashColumn{{"Region", false, 50}, {"Waiting", true, 15}, {"Member", false, 20}}, Empty: "Every region has given its view of every open request."}
	switch {
	case !d.SeesCoverage:
		gaps.Empty = "Which regions have given their view is shown to the NSIG's members and the national teams."
	case d.OpenN == 0:
		gaps.Empty = "No request is open for the regions' views."
	}
	for _, g := range d.Gaps {
		member := "Seated"
		if g.Vacant {
			member = "Vacant"
		}
		gaps.Rows = append(gaps.Rows, []dashCell{headCell(g.RegionName), {Text: strconv.Itoa(g.Waiting), Value: g.Waiting}, textCell(member)})
	}
	seatTable := dashTable{Caption: "Regional seats", Sheet: "Seats", Columns: []dashColumn{{"Region", false, 30}, {"Member", false, 35}, {"Deputy", false, 35}}}
	holder := func(ap *nsig.Appointment, empty string) dashCell {
		if ap == nil {
			return textCell(empty)
		}
		return textCell(ap.UserName + ", " + ap.OrganisationName + ", term ends " + ap.TermEnd.Format("2 January 2006"))
	}
	for _, s := range seats {
		seatTable.Rows = append(seatTable.Rows, []dashCell{headCell(s.RegionName), holder(s.Member, "Vacant"), holder(s.Deputy, "No deputy")})
	}
	u := visitOf(c).user
	return reportFile{title: n.Name + " NSIG", subtitle: "Dashboard on " + today.Format("2 January 2006"), slug: "nsig-" + slugOf(n.Name),
		filters: []reportLine{{Key: "Requests", Value: "The NSIG's enhancement requests accepted and not yet decided"}, whose(u)},
		sections: []dashSection{{Title: "Open requests", Blocks: []dashBlock{{Table: &byStatus}}},
			{Title: "Coverage gaps", Intro: "Regions that have not given their view of every open request.", Blocks: []dashBlock{{Table: &gaps}}},
			{Title: "Regional seats", Blocks: []dashBlock{{Table: &seatTable}}}}}, nil
}

func (a *App) nsigReportPDF(c *fiber.Ctx) error {
	rf, err := a.nsigReport(c)
	if err != nil {
		return err
	}
	body, err := a.pdfReport(rf)
	if err != nil {
		return err
	}
	return sendFile(c, "application/pdf", a.reportFilename(rf.slug, "pdf"), body, false)
}

func (a *App) nsigReportXLSX(c *fiber.Ctx) error {
	rf, err := a.nsigReport(c)
	if err != nil {
		return err
	}
	body, err := a.xlsxReport(rf)
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return sendFile(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", a.reportFilename(rf.slug, "xlsx"), body, false)
}
