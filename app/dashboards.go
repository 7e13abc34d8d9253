package app

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/chart"
	"github.com/nhs-esr/portal/app/dashboard"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/schedule"
	"github.com/nhs-esr/portal/forms"
)

// The dashboards: the national one (/dashboard) for the central and development teams, a region's
// (/dashboard/regions/:region) for its functional account manager and the national teams, and an
// organisation's (/dashboard/organisations/:organisation) for its requesters. Every figure counts only
// the requests the viewer may see (request.Matching) and links to the list of exactly those; each
// dashboard downloads as a PDF and an Excel workbook of the same tables.

// periodForm is the dashboard's choice of dates: a quarter, or a range of dates.
type periodForm struct {
	Quarter                      string
	FromDay, FromMonth, FromYear string
	ToDay, ToMonth, ToYear       string
}

func readPeriodForm(c *fiber.Ctx) periodForm {
	q := func(name string) string { return strings.TrimSpace(c.Query(name)) }
	return periodForm{Quarter: q("quarter"), FromDay: q("from-day"), FromMonth: q("from-month"), FromYear: q("from-year"),
		ToDay: q("to-day"), ToMonth: q("to-month"), ToYear: q("to-year")}
}

// query is the period as a query string, for the report links.
func (pf periodForm) query() string {
	var parts []string
	for _, kv := range [][2]string{{"quarter", pf.Quarter}, {"from-day", pf.FromDay}, {"from-month", pf.FromMonth}, {"from-year", pf.FromYear},
		{"to-day", pf.ToDay}, {"to-month", pf.ToMonth}, {"to-year", pf.ToYear}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+url.QueryEscape(kv[1]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "?" + strings.Join(parts, "&")
}

// maxPeriodYears bounds a range of dates.
const maxPeriodYears = 5

// period reads the dates a dashboard is for: a range when either end is given, else a quarter, else
// this quarter up to today. Dates are London dates at midnight UTC.
func (a *App) period(pf periodForm) (dashboard.Period, forms.Errors) {
	today := request.Day(a.calendar.Date(a.now()))
	var errs forms.Errors
	from, hasFrom, okFrom := parseDate(pf.FromDay, pf.FromMonth, pf.FromYear)
	to, hasTo, okTo := parseDate(pf.ToDay, pf.ToMonth, pf.ToYear)
	if !okFrom {
		errs.Add("from-day", "The start date must be a real date, like 1 10 2026")
	}
	if !okTo {
		errs.Add("to-day", "The end date must be a real date, like 31 12 2026")
	}
	if errs.Any() {
		return dashboard.Period{}, errs
	}
	if hasFrom || hasTo {
		if !hasFrom {
			errs.Add("from-day", "Enter the start date")
		}
		if !hasTo {
			errs.Add("to-day", "Enter the end date")
		}
		if errs.Any() {
			return dashboard.Period{}, errs
		}
		from, to = request.Day(from), request.Day(to)
		switch {
		case to.Before(from):
			errs.Add("to-day", "The end date must be the same as or after the start date")
		case to.After(from.AddDate(maxPeriodYears, 0, 0)):
			errs.Add("to-day", fmt.Sprintf("Choose dates at most %d years apart", maxPeriodYears))
		}
		if errs.Any() {
			return dashboard.Period{}, errs
		}
		return dashboard.Period{From: from, To: to, Label: from.Format("2 January 2006") + " to " + to.Format("2 January 2006")}, nil
	}
	q := schedule.QuarterOf(today)
	if pf.Quarter != "" {
		parsed, err := schedule.ParseQuarter(pf.Quarter)
		if err != nil {
			errs.Add("quarter", "Select a quarter from the list")
			return dashboard.Period{}, errs
		}
		q = parsed
	}
	p := dashboard.Period{From: q.Start(), To: q.End(), Label: q.Label()}
	if !p.To.Before(today) && !p.From.After(today) {
		p.To = today
		p.Label += " (up to " + today.Format("2 January 2006") + ")"
	}
	return p, nil
}

// dashboardQuarters are this quarter and the seven before it.
func (a *App) dashboardQuarters() []Option {
	q := schedule.QuarterOf(a.calendar.Date(a.now()))
	out := []Option{{Value: "", Label: "This quarter (" + q.Label() + ")"}}
	for range 7 {
		q = q.Previous()
		out = append(out, Option{Value: q.String(), Label: q.Label()})
	}
	return out
}

// dashboardPage is any of the dashboards.
type dashboardPage struct {
	Page
	Caption      string // "National dashboard", "Region", "Organisation"
	Heading      string
	D            *dashboard.Dashboard
	Period       periodForm
	Quarters     []Option
	Action       string // the page's own path, where the period form goes
	PDFHref      string
	XLSXHref     string
	Sections     []dashSection
	RegionLinks  []NavItem // the regions' dashboards, on the national one
	AccessNote   string
	Definitions  []SummaryRow
	SlowestStage string
}

// dashboardScope reads the scope of the route: national, a region or an organisation.
func (a *App) dashboardScope(c *fiber.Ctx) (dashboard.Scope, string, error) {
	ctx := c.UserContext()
	switch {
	case c.Params("region") != "":
		id, err := strconv.ParseInt(c.Params("region"), 10, 16)
		if err != nil || id <= 0 {
			return dashboard.Scope{}, "", fmt.Errorf("region %q: %w", c.Params("region"), problem.ErrNotFound)
		}
		regions, err := organisation.Regions(ctx, a.db)
		if err != nil {
			return dashboard.Scope{}, "", err
		}
		for _, r := range regions {
			if int64(r.ID) == id {
				return dashboard.Scope{RegionID: r.ID, Name: r.Name}, "Region", nil
			}
		}
		return dashboard.Scope{}, "", fmt.Errorf("region %d: %w", id, problem.ErrNotFound)
	case c.Params("organisation") != "":
		id, err := strconv.ParseInt(c.Params("organisation"), 10, 64)
		if err != nil || id <= 0 {
			return dashboard.Scope{}, "", fmt.Errorf("organisation %q: %w", c.Params("organisation"), problem.ErrNotFound)
		}
		org, err := organisation.Get(ctx, a.db, id)
		if err != nil {
			return dashboard.Scope{}, "", err
		}
		return dashboard.Scope{OrganisationID: org.ID, Name: org.Name}, "Organisation", nil
	}
	return dashboard.Scope{}, "National dashboard", nil
}

// buildDashboard reads the route's scope and period and works out its figures for the signed-in user.
func (a *App) buildDashboard(c *fiber.Ctx) (*dashboard.Dashboard, *dashboardPage, forms.Errors, error) {
	scope, caption, err := a.dashboardScope(c)
	if err != nil {
		return nil, nil, nil, err
	}
	pf := readPeriodForm(c)
	heading := "National dashboard"
	switch {
	case scope.RegionID != 0:
		heading = scope.Name + " region"
	case scope.OrganisationID != 0:
		heading = scope.Name
	}
	p := &dashboardPage{Page: a.page(c, heading), Caption: caption, Heading: heading, Period: pf, Quarters: a.dashboardQuarters(),
		Action: c.Path()}
	period, errs := a.period(pf)
	if errs.Any() {
		return nil, p, errs, nil
	}
	v, err := a.viewer(c)
	if err != nil {
		return nil, nil, nil, err
	}
	d, err := dashboard.Build(c.UserContext(), a.db, v, scope, period, request.Day(a.calendar.Date(a.now())))
	if err != nil {
		return nil, nil, nil, err
	}
	return d, p, nil, nil
}

func (a *App) dashboardShow(c *fiber.Ctx) error {
	d, p, errs, err := a.buildDashboard(c)
	if err != nil {
		return err
	}
	if errs.Any() {
		return a.invalid(c, "dashboards/show", &p.Page, errs, p)
	}
	p.D = d
	base := strings.TrimSuffix(c.Path(), "/")
	p.PDFHref, p.XLSXHref = base+"/report.pdf"+p.Period.query(), base+"/report.xlsx"+p.Period.query()
	p.Sections = dashSections(d)
	p.AccessNote = "Every figure counts only the requests you may see. Each number and bar opens the list of exactly the requests it counts."
	p.Definitions = definitions()
	if d.Slowest >= 0 {
		s := d.Stages[d.Slowest]
		p.SlowestStage = fmt.Sprintf("Most time is lost in ‘%s’: %s in all for the %d %s that first entered it in the period (median %s, 90th percentile %s).",
			s.Stage.Label(), workingDays(s.TotalDays), s.Entered.Count, plural(s.Entered.Count, "request", "requests"), workingDays(s.Median), workingDays(s.P90))
	}
	if d.Scope.National() {
		regions, err := organisation.Regions(c.UserContext(), a.db)
		if err != nil {
			return err
		}
		for _, r := range regions {
			p.RegionLinks = append(p.RegionLinks, NavItem{Label: r.Name, Href: fmt.Sprintf("/dashboard/regions/%d%s", r.ID, p.Period.query())})
		}
	}
	return a.render(c, fiber.StatusOK, "dashboards/show", p)
}

// myDashboard is where "Dashboard" in the header takes each user: the national dashboard for the
// national teams, their region's for a functional account manager, their organisation's otherwise.
func myDashboard(u *identity.User) string {
	switch {
	case u.HasRole(identity.RoleCentralTeam) || u.HasRole(identity.RoleDevelopmentTeam):
		return "/dashboard"
	case u.HasRole(identity.RoleFunctionalAccountManager) && u.RegionID != 0:
		return fmt.Sprintf("/dashboard/regions/%d", u.RegionID)
	case u.HasRole(identity.RoleRequester) || u.HasRole(identity.RoleNSIGMember):
		return fmt.Sprintf("/dashboard/organisations/%d", u.OrganisationID)
	}
	return ""
}

// dashSection is one section of a dashboard: blocks of a chart and the table of the same figures.
type dashSection struct {
	ID     string
	Title  string
	Intro  string
	Blocks []dashBlock
}

// dashBlock is a chart with its table beside it (a short table) or under it, or either alone.
type dashBlock struct {
	Chart  *chart.Laid
	Table  *dashTable
	Beside bool
}

// Tables are the section's tables in order, for the reports.
func (s dashSection) Tables() []dashTable {
	var out []dashTable
	for _, b := range s.Blocks {
		if b.Table != nil {
			out = append(out, *b.Table)
		}
	}
	return out
}

// add appends a block.
func (s *dashSection) add(c *chart.Laid, t *dashTable, beside bool) {
	s.Blocks = append(s.Blocks, dashBlock{Chart: c, Table: t, Beside: beside})
}

func laid(l chart.Laid) *chart.Laid { return &l }

// dashTable is a table of a dashboard, as the page, the PDF and the workbook show it.
type dashTable struct {
	ID      string
	Caption string
	Sheet   string // the worksheet's name (at most 31 characters)
	Columns []dashColumn
	Rows    [][]dashCell
	Empty   string // said instead when there are no rows
}

type dashColumn struct {
	Title   string
	Numeric bool
	Width   float64 // relative width in the PDF
}

// dashCell is a cell: text for the page and the PDF, a value for the workbook, and a link when it
// counts requests (Figure) or names one (Href).
type dashCell struct {
	Text   string
	Value  any // int, float64, time.Time (a London date at midnight UTC) or string; nil leaves it blank
	Figure *dashboard.Figure
	Label  string // read after a figure: what it counts
	// Measure says what Text is when it is not the figure's count ("median", "p90"); the link lists the
	// requests measured.
	Measure string
	Href    string
	Header  bool
}

func textCell(s string) dashCell { return dashCell{Text: s, Value: s} }
func headCell(s string) dashCell { return dashCell{Text: s, Value: s, Header: true} }
func figureCell(f dashboard.Figure, label string) dashCell {
	return dashCell{Text: strconv.Itoa(f.Count), Value: f.Count, Figure: &f, Label: label}
}

// daysCell is a measure in working days of the requests f counts, or "–" when there is none (-1).
func daysCell(n int, f dashboard.Figure, measure, label string) dashCell {
	if n < 0 {
		return dashCell{Text: "–"}
	}
	return dashCell{Text: strconv.Itoa(n), Value: n, Figure: &f, Label: label, Measure: measure}
}

// dashSections lays out a dashboard: its charts and tables, section by section.
func dashSections(d *dashboard.Dashboard) []dashSection {
	var out []dashSection
	months := d.AckMonths
	ack := dashSection{ID: "acknowledgement", Title: "Acknowledgement within 5 working days",
		Intro: "The share of the requests received each month that were acknowledged within 5 working days, of those acknowledged or already overdue."}
	var cats []chart.Category
	t := dashTable{ID: "acknowledgement-table", Caption: "Acknowledgement by month received", Sheet: "Acknowledgement",
		Columns: []dashColumn{{"Month received", false, 22}, {"Acknowledged on time", true, 18}, {"Acknowledged late", true, 18},
			{"Not acknowledged, overdue", true, 20}, {"Acknowledged or overdue", true, 20}, {"On time (%)", true, 14}}}
	for _, m := range months {
		name := m.Month.Format("January 2006")
		pct := m.Percent()
		bar := chart.Bar{Href: requestsLink(m.Measured.Filter), Count: m.Measured.Count}
		pctCell := dashCell{Text: "–"}
		if pct >= 0 {
			bar.Value, bar.Text = float64(pct), strconv.Itoa(pct)+"%"
			bar.Label = fmt.Sprintf("%s: %d%% of %d %s acknowledged on time", name, pct, m.Measured.Count, plural(m.Measured.Count, "request", "requests"))
			pctCell = dashCell{Text: strconv.Itoa(pct) + "%", Value: float64(pct)}
		} else {
			bar.Text, bar.Label = "none", name+": none, as no request has reached its acknowledgement date"
		}
		cats = append(cats, chart.Category{Label: m.Month.Format("Jan"), Bars: []chart.Bar{bar}})
		t.Rows = append(t.Rows, []dashCell{
			{Text: name, Value: m.Month, Header: true},
			figureCell(m.OnTime, "acknowledged on time, received in "+name),
			figureCell(m.Late, "acknowledged late, received in "+name),
			figureCell(m.Overdue, "not acknowledged and overdue, received in "+name),
			figureCell(m.Measured, "acknowledged or overdue, received in "+name),
			pctCell,
		})
	}
	first, last := months[0].Month.Format("January 2006"), months[len(months)-1].Month.Format("January 2006")
	ack.add(laid(chart.Vertical(chart.Chart{ID: "chart-acknowledgement", Percent: true,
		Title:      "Share acknowledged within 5 working days, by month received",
		Desc:       fmt.Sprintf("Columns for each month from %s to %s, from 0 to 100%%. Each opens the requests it measures.", first, last),
		Categories: cats})), &t, false)
	ack.add(nil, &dashTable{ID: "overdue-now", Caption: "Not acknowledged and overdue today", Sheet: "Overdue now",
		Columns: []dashColumn{{"Requests", false, 60}, {"Count", true, 20}},
		Rows:    [][]dashCell{{headCell("Not acknowledged and past the due date"), figureCell(d.OverdueNow, "requests not acknowledged and past the due date")}}}, false)
	out = append(out, ack)

	// The pipeline and time in stage.
	pipe := dashSection{ID: "pipeline", Title: "Pipeline and time in stage",
		Intro: "Open requests in each stage now, and the working days spent in each stage by the requests that first entered it in the period (see how these figures are worked out, below)."}
	var open, times []chart.Category
	pt := dashTable{ID: "pipeline-table", Caption: "Open requests and time in stage", Sheet: "Pipeline",
		Columns: []dashColumn{{"Stage", false, 34}, {"Open now", true, 12}, {"First entered in the period", true, 16},
			{"Median (working days)", true, 14}, {"90th percentile (working days)", true, 14}, {"Over the 90th percentile", true, 14}}}
	for _, s := range d.Stages {
		label := s.Stage.Label()
		open = append(open, chart.Category{Label: label, Bars: []chart.Bar{{Value: float64(s.Open.Count), Text: strconv.Itoa(s.Open.Count),
			Href: requestsLink(s.Open.Filter), Count: s.Open.Count, Label: fmt.Sprintf("%s: %d open %s", label, s.Open.Count, plural(s.Open.Count, "request", "requests"))}}})
		if s.Median >= 0 {
			href := requestsLink(s.Entered.Filter)
			times = append(times, chart.Category{Label: label, Bars: []chart.Bar{
				{Value: float64(s.Median), Text: strconv.Itoa(s.Median), Href: href, Count: s.Entered.Count,
					Label: fmt.Sprintf("%s: median %s, of %d %s", label, workingDays(s.Median), s.Entered.Count, plural(s.Entered.Count, "request", "requests"))},
				{Value: float64(s.P90), Text: strconv.Itoa(s.P90), Href: href, Count: s.Entered.Count,
					Label: fmt.Sprintf("%s: 90th percentile %s, of %d %s", label, workingDays(s.P90), s.Entered.Count, plural(s.Entered.Count, "request", "requests"))},
			}})
		}
		row := []dashCell{headCell(label), figureCell(s.Open, "open requests in "+label), figureCell(s.Entered, "requests first in "+label+" in the period"),
			daysCell(s.Median, s.Entered, "median", "working days, the median of the requests first in "+label+" in the period"),
			daysCell(s.P90, s.Entered, "p90", "working days, the 90th percentile of the requests first in "+label+" in the period")}
		if s.P90 >= 0 {
			row = append(row, figureCell(s.OverP90, "requests more than "+workingDays(s.P90)+" in "+label))
		} else {
			row = append(row, dashCell{Text: "–"})
		}
		pt.Rows = append(pt.Rows, row)
	}
	pipe.add(laid(chart.Horizontal(chart.Chart{ID: "chart-pipeline", Title: "Open requests by stage",
		Desc: "A bar for each stage, as long as the number of open requests in it now.", Categories: open})), nil, false)
	if len(times) > 0 {
		pipe.add(laid(chart.Horizontal(chart.Chart{ID: "chart-stage-times", Title: "Time in stage, in working days",
			Desc:   "For each stage entered in the period, the median (solid) and the 90th percentile (hatched) of the working days spent in it.",
			Series: []chart.Series{{Name: "Median"}, {Name: "90th percentile"}}, Categories: times})), nil, false)
	}
	pipe.add(nil, &pt, false)
	out = append(out, pipe)

	// The backlog.
	backlog := dashSection{ID: "backlog", Title: "Backlog of open requests",
		Intro: fmt.Sprintf("The %d open requests (not yet delivered, withdrawn, not approved or not taken forward), by where they come from and who reviews them.", d.Open.Count)}
	sc := d.Scope
	for _, g := range []struct {
		id, title, sheet, column string
		groups                   []dashboard.Group
		shown                    bool
	}{
		{"region", "Open requests by region", "By region", "Region", d.ByRegion, sc.National()},
		{"organisation", fmt.Sprintf("Open requests by organisation (the %d with most)", dashboard.TopOrganisations), "By organisation", "Organisation", d.ByOrganisation, sc.OrganisationID == 0},
		{"area", "Open requests by functional area", "By functional area", "Functional area", d.ByArea, true},
		{"nsig", "Open requests by NSIG", "By NSIG", "NSIG", d.ByNSIG, sc.NSIGID == 0},
	} {
		if !g.shown {
			continue
		}
		backlog.Blocks = append(backlog.Blocks, groupBlock("backlog-"+g.id, g.title, g.sheet, g.column, "open requests", g.groups))
	}
	backlog.Blocks = append([]dashBlock{{Table: &dashTable{ID: "backlog-total", Caption: "Open requests", Sheet: "Open",
		Columns: []dashColumn{{"Requests", false, 60}, {"Count", true, 20}},
		Rows:    [][]dashCell{{headCell("Open requests"), figureCell(d.Open, "open requests")}}}}}, backlog.Blocks...)
	out = append(out, backlog)

	demand := dashSection{ID: "demand", Title: "Demand for the requests awaiting a decision",
		Intro: fmt.Sprintf("The %d %s accepted and not yet decided, by how many other organisations support %s and how many regions those organisations are in.",
			d.Awaiting.Count, plural(d.Awaiting.Count, "request", "requests"), plural(d.Awaiting.Count, "it", "them"))}
	demand.Blocks = append(demand.Blocks,
		groupBlock("demand-supporters", "Requests awaiting a decision by supporting organisations", "Demand by organisations", "Supported by", "requests awaiting a decision", d.BySupporters),
		groupBlock("demand-regions", "Requests awaiting a decision by regions supporting them", "Demand by regions", "Supporters in", "requests awaiting a decision", d.BySupportRegions))
	out = append(out, demand)

	out = append(out, decisionSection(d), releaseSection(d))
	if len(d.Coverage) > 0 {
		out = append(out, coverageSection(d))
	}
	return out
}

// groupBlock is a breakdown as a horizontal bar chart with its table beside it.
func groupBlock(id, title, sheet, column, counts string, groups []dashboard.Group) dashBlock {
	t := dashTable{ID: id + "-table", Caption: title, Sheet: sheet, Columns: []dashColumn{{column, false, 60}, {"Requests", true, 20}},
		Empty: "None."}
	var cats []chart.Category
	for _, g := range groups {
		cats = append(cats, chart.Category{Label: g.Label, Bars: []chart.Bar{{Value: float64(g.Figure.Count), Text: strconv.Itoa(g.Figure.Count),
			Href: requestsLink(g.Figure.Filter), Count: g.Figure.Count, Label: fmt.Sprintf("%s: %d %s", g.Label, g.Figure.Count, countLabel(g.Figure.Count, counts))}}})
		t.Rows = append(t.Rows, []dashCell{headCell(g.Label), figureCell(g.Figure, counts+": "+g.Label)})
	}
	b := dashBlock{Table: &t, Beside: true}
	if len(cats) > 0 {
		b.Chart = laid(chart.Horizontal(chart.Chart{ID: "chart-" + id, Title: title,
			Desc: "A bar for each, as long as its number of " + counts + ".", Categories: cats}))
	}
	return b
}

func decisionSection(d *dashboard.Dashboard) dashSection {
	s := dashSection{ID: "decisions", Title: "Decisions by quarter",
		Intro: "The central team's decisions after impact assessment, and the requests triage did not take forward, in each financial quarter. A request decided twice in a quarter (deferred, then approved) counts once under each decision."}
	series := []chart.Series{{Name: "Approved"}, {Name: "Deferred"}, {Name: "Not approved"}, {Name: "Not taken forward"}}
	t := dashTable{ID: "decisions-table", Caption: "Decisions by quarter", Sheet: "Decisions",
		Columns: []dashColumn{{"Quarter", false, 30}, {"Approved", true, 14}, {"Deferred", true, 14}, {"Not approved", true, 14}, {"Not taken forward", true, 16}}}
	r := dashTable{ID: "not-taken-forward-table", Caption: "Not taken forward, by reason", Sheet: "Not taken forward",
		Columns: []dashColumn{{"Quarter", false, 24}}}
	for _, reason := range request.OutcomeReasons {
		r.Columns = append(r.Columns, dashColumn{reason.Label, true, 14})
	}
	var cats []chart.Category
	for _, q := range d.Decisions {
		bar := func(name string, f dashboard.Figure) chart.Bar {
			return chart.Bar{Value: float64(f.Count), Text: strconv.Itoa(f.Count), Href: requestsLink(f.Filter), Count: f.Count,
				Label: fmt.Sprintf("%s, %s: %d", q.Label, name, f.Count)}
		}
		cats = append(cats, chart.Category{Label: shortQuarter(q.Label), Bars: []chart.Bar{
			bar("approved", q.Approved), bar("deferred", q.Deferred), bar("not approved", q.NotApproved), bar("not taken forward", q.NotTakenForward)}})
		t.Rows = append(t.Rows, []dashCell{{Text: q.Label, Value: q.Label, Header: true},
			figureCell(q.Approved, "approved in "+q.Label), figureCell(q.Deferred, "deferred in "+q.Label),
			figureCell(q.NotApproved, "not approved in "+q.Label), figureCell(q.NotTakenForward, "not taken forward in "+q.Label)})
		row := []dashCell{{Text: q.Label, Value: q.Label, Header: true}}
		for _, g := range q.Reasons {
			row = append(row, figureCell(g.Figure, "not taken forward in "+q.Label+": "+request.LowerFirst(g.Label)))
		}
		r.Rows = append(r.Rows, row)
	}
	s.add(laid(chart.Vertical(chart.Chart{ID: "chart-decisions", Title: "Decisions by quarter",
		Desc:   "For each quarter, columns for approved (solid), deferred (hatched), not approved (dotted) and not taken forward (cross-hatched).",
		Series: series, Categories: cats})), &t, false)
	s.add(nil, &r, false)
	return s
}

// shortQuarter writes "Quarter 3 2026/27" as "Q3 26/27", for a chart's axis.
func shortQuarter(label string) string {
	f := strings.Fields(label)
	if len(f) != 3 || len(f[2]) != 7 {
		return label
	}
	return "Q" + f[1] + " " + f[2][2:]
}

func releaseSection(d *dashboard.Dashboard) dashSection {
	s := dashSection{ID: "releases", Title: "Releases",
		Intro: "The releases not yet live, and those gone live in the period, with the changes allocated to each."}
	t := dashTable{ID: "releases-table", Caption: "Releases and their changes", Sheet: "Releases",
		Columns: []dashColumn{{"Release", false, 30}, {"Target date", false, 18}, {"Status", false, 16}, {"Changes", true, 12}}, Empty: "No releases are planned."}
	if d.ShowCapacity {
		s.Intro += " Capacity used is the effort assessed for those changes, in days."
		t.Columns = append(t.Columns, dashColumn{"Capacity used (days)", true, 14}, dashColumn{"Capacity (days)", true, 14})
	}
	var cats []chart.Category
	for _, rl := range d.Releases {
		title := fmt.Sprintf("Release %d: %s", rl.Number, rl.Name)
		target := time.Date(rl.TargetDate.Year(), rl.TargetDate.Month(), rl.TargetDate.Day(), 0, 0, 0, 0, time.UTC)
		row := []dashCell{headCell(title), {Text: target.Format("2 January 2006"), Value: target}, textCell(releaseStatusLabel(rl.Status)),
			figureCell(rl.Changes, "changes allocated to "+title)}
		href := requestsLink(rl.Changes.Filter)
		if d.ShowCapacity {
			row = append(row, dashCell{Text: days(rl.UsedDays), Value: rl.UsedDays})
			bars := []chart.Bar{{Value: rl.UsedDays, Text: days(rl.UsedDays), Href: href, Count: rl.Changes.Count,
				Label: fmt.Sprintf("%s: %s days used by %d %s", title, days(rl.UsedDays), rl.Changes.Count, plural(rl.Changes.Count, "change", "changes"))}}
			if rl.HasCapacity {
				row = append(row, dashCell{Text: days(rl.CapacityDays), Value: rl.CapacityDays})
				bars = append(bars, chart.Bar{Value: rl.CapacityDays, Text: days(rl.CapacityDays), Label: fmt.Sprintf("%s: capacity %s days", title, days(rl.CapacityDays))})
			} else {
				row = append(row, dashCell{Text: "Not set"})
				bars = append(bars, chart.Bar{Text: "not set", Label: title + ": capacity not set"})
			}
			cats = append(cats, chart.Category{Label: fmt.Sprintf("Release %d", rl.Number), Bars: bars})
		} else {
			cats = append(cats, chart.Category{Label: fmt.Sprintf("Release %d", rl.Number), Bars: []chart.Bar{{Value: float64(rl.Changes.Count),
				Text: strconv.Itoa(rl.Changes.Count), Href: href, Count: rl.Changes.Count, Label: fmt.Sprintf("%s: %d changes", title, rl.Changes.Count)}}})
		}
		t.Rows = append(t.Rows, row)
	}
	if len(cats) > 0 {
		c := chart.Chart{ID: "chart-releases", Title: "Changes allocated to each release", Desc: "A bar for each release, as long as its number of changes.", Categories: cats}
		if d.ShowCapacity {
			c.Title, c.Desc = "Capacity used against capacity, in days", "For each release, the effort assessed for its changes (solid) and its capacity (hatched)."
			c.Series = []chart.Series{{Name: "Capacity used"}, {Name: "Capacity"}}
		}
		s.add(laid(chart.Horizontal(c)), &t, false)
	} else {
		s.add(nil, &t, false)
	}
	m := dashTable{ID: "moves-table", Caption: "Changes moved between releases in the period", Sheet: "Moves",
		Columns: []dashColumn{{"Reference", false, 22}, {"Title", false, 40}, {"From", true, 10}, {"To", true, 10}, {"Moved on", false, 16}, {"Reason", false, 40}},
		Empty:   "No change was moved between releases in the period."}
	for _, mv := range d.Moves {
		on := request.Day(mv.MovedAt.In(london))
		m.Rows = append(m.Rows, []dashCell{{Text: mv.Reference, Value: mv.Reference, Href: "/requests/" + mv.Reference, Header: true}, textCell(mv.Title),
			{Text: "Release " + strconv.Itoa(mv.FromNumber), Value: mv.FromNumber}, {Text: "Release " + strconv.Itoa(mv.ToNumber), Value: mv.ToNumber},
			{Text: on.Format("2 January 2006"), Value: on}, textCell(mv.Reason)})
	}
	s.add(nil, &dashTable{ID: "moved-total", Caption: "Changes moved between releases", Sheet: "Moved",
		Columns: []dashColumn{{"Changes", false, 60}, {"Count", true, 20}},
		Rows:    [][]dashCell{{headCell("Moved between releases in the period"), figureCell(d.Moved, "changes moved between releases in the period")}}}, false)
	s.add(nil, &m, false)
	return s
}

func releaseStatusLabel(s string) string {
	switch s {
	case "planned":
		return "Planned"
	case "in_progress":
		return "In progress"
	case "released":
		return "Released"
	}
	return s
}

func days(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func coverageSection(d *dashboard.Dashboard) dashSection {
	s := dashSection{ID: "coverage", Title: "Regional views",
		Intro: "For each NSIG, its requests awaiting a decision and how many of them each region has given its view of."}
	t := dashTable{ID: "coverage-table", Caption: "Views given by region", Sheet: "Regional views",
		Columns: []dashColumn{{"NSIG", false, 30}, {"Awaiting a decision", true, 12}}}
	for _, rg := range d.Regions {
		t.Columns = append(t.Columns, dashColumn{rg.Name, true, 10})
	}
	for _, row := range d.Coverage {
		cells := []dashCell{headCell(row.Name), figureCell(row.Open, "requests of the "+row.Name+" NSIG awaiting a decision")}
		for i, g := range row.Given {
			cells = append(cells, figureCell(g, "with the view of the "+d.Regions[i].Name+" region, of the "+row.Name+" NSIG's requests awaiting a decision"))
		}
		t.Rows = append(t.Rows, cells)
	}
	s.add(nil, &t, false)
	return s
}

// definitions say how the figures are worked out, on the page and in the reports.
func definitions() []SummaryRow {
	return []SummaryRow{
		{Key: "Whose requests", Value: "Every figure counts only the enhancement requests you may see: before triage accepts a request, only its raising organisation, that region's functional account manager and the central team see it. Time in stage and triage's reasons count only requests you may see in full, and regional views only those you may see with internal notes."},
		{Key: "Working days", Value: "Monday to Friday, except bank holidays in England and Wales. Counting starts the working day after: a request received on a Monday and acknowledged on the Wednesday took 2 working days."},
		{Key: "Acknowledged on time", Value: "Acknowledged by its due date, 5 working days after it was received. The share on time is of the requests acknowledged, or still waiting to be acknowledged and already past their due date; requests still within their 5 days are not counted yet, and a request withdrawn before it was acknowledged is not counted."},
		{Key: "Time in stage", Value: "From the request's timeline: a request enters a stage when an event moves it there (raising puts it in ‘Submitted’) and leaves at the next event that moves it on. Its time in the stage is the working days from the day it entered to the day it left, or to today if it is still there. A request in a stage more than once, such as back in triage after answering a question or back in impact assessment after a deferral, has the times added together. A withdrawn request stops counting on the day it was withdrawn."},
		{Key: "The period's time in stage", Value: "The requests that first entered the stage in the period. The median is the time that half of them took no longer than; the 90th percentile, the time nine in ten took no longer than. Most time is lost in the stage with the most working days in all."},
		{Key: "Open", Value: "Not yet delivered, and not withdrawn, not approved or not taken forward."},
		{Key: "Awaiting a decision", Value: "Accepted by triage and not yet decided: waiting for the raising organisation to take it forward, in requirements and justification, in impact assessment, or deferred."},
		{Key: "Decisions", Value: "Decisions are counted in the quarter they were made: NHS financial quarters, so Quarter 1 is April to June."},
	}
}
