package app

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/catalogue"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// The national reference lists: everyone signed in browses and searches them and downloads them as
// CSV or Excel; each entry links to the request that added it. The central team's queues of the
// requests that ask to add to them are here too.

type rolesIndexPage struct {
	Page
	Query             string
	Rows              []catalogue.Role
	CanRequest        bool
	CSVHref, XLSXHref string
}

func (a *App) rolesIndex(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	rows, err := catalogue.Roles(c.UserContext(), a.db, q)
	if err != nil {
		return err
	}
	p := &rolesIndexPage{Page: a.page(c, "Supplementary roles"), Query: q, Rows: rows, CanRequest: canRaise(visitOf(c).user)}
	p.CSVHref, p.XLSXHref = listExportHrefs("/supplementary-roles", map[string]string{"q": q})
	return a.render(c, fiber.StatusOK, "lists/roles", p)
}

type competencesIndexPage struct {
	Page
	Query             string
	Framework         string
	FrameworkOptions  []Option
	Rows              []catalogue.Competence
	CanRequest        bool
	CSVHref, XLSXHref string
}

func readFramework(c *fiber.Ctx) string {
	fw := c.Query("framework")
	if fw != "CSTF" && fw != "MAND" {
		return ""
	}
	return fw
}

func (a *App) competencesIndex(c *fiber.Ctx) error {
	q, fw := strings.TrimSpace(c.Query("q")), readFramework(c)
	rows, err := catalogue.Competences(c.UserContext(), a.db, q, fw)
	if err != nil {
		return err
	}
	p := &competencesIndexPage{Page: a.page(c, "NHS MAND competence list"), Query: q, Framework: fw, Rows: rows,
		CanRequest: canRaise(visitOf(c).user), FrameworkOptions: append([]Option{{Value: "", Label: "Any framework"}}, frameworkOptions()...)}
	p.CSVHref, p.XLSXHref = listExportHrefs("/competences", map[string]string{"q": q, "framework": fw})
	return a.render(c, fiber.StatusOK, "lists/competences", p)
}

func canRaise(u *identity.User) bool {
	return u.HasRole(identity.RoleRequester) || u.HasRole(identity.RoleNSIGMember)
}

func listExportHrefs(base string, filter map[string]string) (csvHref, xlsxHref string) {
	q := make(map[string][]string)
	for k, v := range filter {
		if v != "" {
			q[k] = []string{v}
		}
	}
	return withQuery(base+"/export.csv", q), withQuery(base+"/export.xlsx", q)
}

// listTable is a list as the exports write it: a header row and one row of cells per entry.
type listTable struct {
	Name    string // the file name's start and the sheet's title, e.g. "supplementary-roles"
	Title   string
	Columns []string
	Widths  []float64
	Rows    [][]any // string, int or time.Time (a date)
}

func (a *App) rolesTable(c *fiber.Ctx) (*listTable, error) {
	rows, err := catalogue.Roles(c.UserContext(), a.db, c.Query("q"))
	if err != nil {
		return nil, err
	}
	t := &listTable{Name: "supplementary-roles", Title: "Supplementary roles",
		Columns: []string{"Role", "Input level", "Linked to the wellbeing agenda", "Duties", "Request", "Added"},
		Widths:  []float64{40, 18, 16, 60, 16, 13}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []any{r.Name, catalogue.InputLevelLabel(r.InputLevel), yesNo(r.Wellbeing), r.Duties, r.RequestReference, a.exportDate(r.AddedAt)})
	}
	return t, nil
}

func (a *App) competencesTable(c *fiber.Ctx) (*listTable, error) {
	rows, err := catalogue.Competences(c.UserContext(), a.db, c.Query("q"), readFramework(c))
	if err != nil {
		return nil, err
	}
	t := &listTable{Name: "nhs-mand-competences", Title: "NHS MAND competences",
		Columns: []string{"ESR label", "Competence", "Framework", "Renewal period (years)", "Request", "Added"},
		Widths:  []float64{70, 50, 11, 12, 16, 13}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []any{r.Label, r.Name, r.Framework, r.RenewalYears, r.RequestReference, a.exportDate(r.AddedAt)})
	}
	return t, nil
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

func (a *App) rolesExportCSV(c *fiber.Ctx) error       { return a.listExportCSV(c, a.rolesTable) }
func (a *App) rolesExportXLSX(c *fiber.Ctx) error      { return a.listExportXLSX(c, a.rolesTable) }
func (a *App) competencesExportCSV(c *fiber.Ctx) error { return a.listExportCSV(c, a.competencesTable) }
func (a *App) competencesExportXLSX(c *fiber.Ctx) error {
	return a.listExportXLSX(c, a.competencesTable)
}

func (t *listTable) sheet() sheet {
	return sheet{Name: t.Title, Columns: t.Columns, Widths: t.Widths, Rows: t.Rows}
}

// listExportCSV sends a list as CSV the way the requests export does (see csvFile).
func (a *App) listExportCSV(c *fiber.Ctx, table func(*fiber.Ctx) (*listTable, error)) error {
	t, err := table(c)
	if err != nil {
		return err
	}
	body, err := csvFile(t.sheet())
	if err != nil {
		return err
	}
	return sendFile(c, "text/csv; charset=utf-8", t.Name+"-"+a.calendar.Date(a.now()).Format("2006-01-02")+".csv", body, false)
}

// listExportXLSX sends a list as an Excel workbook (see workbook).
func (a *App) listExportXLSX(c *fiber.Ctx, table func(*fiber.Ctx) (*listTable, error)) error {
	t, err := table(c)
	if err != nil {
		return err
	}
	body, err := workbook(excelize.DocProperties{Title: t.Title, Creator: "ESR Enhancement Portal", Created: a.now().UTC().Format(time.RFC3339)}, t.sheet())
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return sendFile(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		t.Name+"-"+a.calendar.Date(a.now()).Format("2006-01-02")+".xlsx", body, false)
}

// listQueuePage is the central team's queue of one kind of list request.
type listQueuePage struct {
	Page
	AckQueue
	Kind      string
	Heading   string
	Lede      string
	Total     request.Count
	Truncated bool
	Tabs      []NavItem
}

// listQueueStatuses are the statuses of list requests waiting on the central team.
var listQueueStatuses = []request.Status{request.StatusSubmitted, request.StatusUnderReview, request.StatusInformationRequested}

func (a *App) rolesQueue(c *fiber.Ctx) error {
	return a.listQueue(c, request.KindSupplementaryRole, "Supplementary role requests",
		"Requests for new supplementary roles waiting for the central team, the most urgent first. Approving one adds the role to the supplementary roles list.")
}

func (a *App) competencesQueue(c *fiber.Ctx) error {
	return a.listQueue(c, request.KindNationalCompetency, "National competency requests",
		"Requests for additions to the NHS MAND competence list waiting for the central team, the most urgent first. Approving one adds the competence to the list under its ESR label.")
}

func (a *App) listQueue(c *fiber.Ctx, kind, heading, lede string) error {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	rows, total, err := request.List(ctx, a.db, v, request.Filter{Kind: kind, Statuses: listQueueStatuses, Sort: "due", Limit: triageLimit})
	if err != nil {
		return err
	}
	p := &listQueuePage{Page: a.page(c, heading), Kind: kind, Heading: heading, Lede: lede, Total: total, Truncated: total.N > len(rows)}
	for _, href := range []struct{ label, href string }{
		{"Supplementary role requests", "/supplementary-roles/queue"}, {"National competency requests", "/competences/queue"},
	} {
		p.Tabs = append(p.Tabs, NavItem{Label: href.label, Href: href.href, Current: href.href == c.Path()})
	}
	if p.AckQueue, err = a.ackQueue(ctx, "queue", kind, rows); err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "lists/queue", p)
}
