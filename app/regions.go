package app

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/rsig"
	"github.com/nhs-esr/portal/app/schedule/pdf"
	"github.com/nhs-esr/portal/forms"
)

// regionOption is a region whose update the viewer may read.
type regionOption struct {
	ID   int16  `bun:"id"`
	Name string `bun:"name"`
}

type regionsIndexPage struct {
	Page
	Regions []regionOption
}

// regionsIndex lists the regions whose regional SIG updates the viewer may read.
func (a *App) regionsIndex(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	var all []regionOption
	if err := a.db.NewSelect().Table("regions").Column("id", "name").Order("name").Scan(c.UserContext(), &all); err != nil {
		return fmt.Errorf("list regions: %w", err)
	}
	p := &regionsIndexPage{Page: a.page(c, "Regional SIG updates")}
	for _, r := range all {
		ok, err := rsig.CanRead(c.UserContext(), a.db, v, r.ID)
		if err != nil {
			return err
		}
		if ok {
			p.Regions = append(p.Regions, r)
		}
	}
	return a.render(c, fiber.StatusOK, "regions/index", p)
}

type regionUpdatePage struct {
	Page
	Form    forms.RegionalUpdate
	Update  *rsig.Update
	Query   string
	CanSend bool
	Told    int // how many people sending tells
}

// regionUpdateInput reads the region and the period from the query string; a period not given is from
// the first of the month three months ago to today.
func (a *App) regionUpdateInput(c *fiber.Ctx) (int16, forms.RegionalUpdate, time.Time, time.Time, forms.Errors, error) {
	var f forms.RegionalUpdate
	var errs forms.Errors
	region, err := strconv.ParseInt(c.Params("region"), 10, 16)
	if err != nil || region <= 0 {
		return 0, f, time.Time{}, time.Time{}, errs, fmt.Errorf("region %q: %w", c.Params("region"), problem.ErrNotFound)
	}
	// The period is in the query string, for the page, its PDF and sending it alike.
	if err := c.QueryParser(&f); err != nil {
		return 0, f, time.Time{}, time.Time{}, errs, fiber.ErrBadRequest
	}
	if f.FromDay == "" && f.FromMonth == "" && f.FromYear == "" && f.ToDay == "" && f.ToMonth == "" && f.ToYear == "" {
		today := a.now().In(london)
		from := time.Date(today.Year(), today.Month()-3, 1, 0, 0, 0, 0, time.UTC)
		f = forms.RegionalUpdate{FromDay: strconv.Itoa(from.Day()), FromMonth: strconv.Itoa(int(from.Month())), FromYear: strconv.Itoa(from.Year()),
			ToDay: strconv.Itoa(today.Day()), ToMonth: strconv.Itoa(int(today.Month())), ToYear: strconv.Itoa(today.Year())}
	}
	from := dateField(&errs, "from", "start of the period", f.FromDay, f.FromMonth, f.FromYear)
	to := dateField(&errs, "to", "end of the period", f.ToDay, f.ToMonth, f.ToYear)
	if !errs.Any() {
		if rule, ok := ruleErrors(rsig.CheckPeriod(from, to)); ok {
			errs = rule
		}
	}
	return int16(region), f, from, to, errs, nil
}

// regionUpdate shows a region's update for a period.
func (a *App) regionUpdate(c *fiber.Ctx) error {
	p, status, err := a.regionUpdatePage(c)
	if err != nil {
		return err
	}
	return a.render(c, status, "regions/update", p)
}

func (a *App) regionUpdatePage(c *fiber.Ctx) (*regionUpdatePage, int, error) {
	v, err := a.viewer(c)
	if err != nil {
		return nil, 0, err
	}
	region, f, from, to, errs, err := a.regionUpdateInput(c)
	if err != nil {
		return nil, 0, err
	}
	p := &regionUpdatePage{Page: a.page(c, "Regional SIG update"), Form: f, CanSend: rsig.CanSend(v)}
	if errs.Any() {
		// Show the region's update for the default period under the errors, so the page still has its region.
		ok, err := rsig.CanRead(c.UserContext(), a.db, v, region)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			return nil, 0, fmt.Errorf("regional SIG update for region %d: %w", region, problem.ErrNotFound)
		}
		today := a.now().In(london)
		from, to = time.Date(today.Year(), today.Month()-3, 1, 0, 0, 0, 0, time.UTC), today
	}
	u, err := rsig.Build(c.UserContext(), a.db, v, region, from, to)
	if err != nil {
		return nil, 0, err
	}
	p.Update, p.Query = u, u.Query()
	p.Page.Title = "Regional SIG update for " + u.Region
	if p.CanSend {
		ids, err := rsig.Recipients(c.UserContext(), a.db, region)
		if err != nil {
			return nil, 0, err
		}
		p.Told = len(ids)
	}
	if errs.Any() {
		p.Errors = errs
		p.Page.Title = "Error: " + p.Page.Title
		return p, fiber.StatusUnprocessableEntity, nil
	}
	return p, fiber.StatusOK, nil
}

// regionUpdatePDF sends a region's update for a period as a PDF.
func (a *App) regionUpdatePDF(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	region, _, from, to, errs, err := a.regionUpdateInput(c)
	if err != nil {
		return err
	}
	if errs.Any() {
		return c.Redirect(fmt.Sprintf("/regions/%d/update?%s", region, c.Request().URI().QueryString()), fiber.StatusSeeOther)
	}
	u, err := rsig.Build(c.UserContext(), a.db, v, region, from, to)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := pdf.RenderReport(&buf, updateReport(u)); err != nil {
		return err
	}
	name := fmt.Sprintf("regional-sig-update-%s-%s-to-%s.pdf", strings.ToLower(strings.ReplaceAll(u.Region, " ", "-")),
		u.From.Format(time.DateOnly), u.To.Format(time.DateOnly))
	return sendFile(c, "application/pdf", name, buf.Bytes(), false)
}

// regionUpdateSend emails a region's update for a period to its seat holders and functional account
// managers.
func (a *App) regionUpdateSend(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	region, _, from, to, errs, err := a.regionUpdateInput(c)
	if err != nil {
		return err
	}
	if errs.Any() {
		p, _, err := a.regionUpdatePage(c)
		if err != nil {
			return err
		}
		return a.invalid(c, "regions/update", &p.Page, errs, p)
	}
	told, err := rsig.Send(c.UserContext(), a.db, v, a.actor(c), a.now(), region, from, to)
	if err != nil {
		return err
	}
	u, err := rsig.Build(c.UserContext(), a.db, v, region, from, to)
	if err != nil {
		return err
	}
	a.flash(c, fmt.Sprintf("The update for %s, %s, was sent to %d %s", u.Region, u.Period(), told, plural(told, "person", "people")))
	return c.Redirect(fmt.Sprintf("/regions/%d/update?%s", region, u.Query()), fiber.StatusSeeOther)
}

// updateReport is a regional SIG update as a PDF report.
func updateReport(u *rsig.Update) *pdf.Report {
	date := func(t time.Time) string { return t.Format("2 Jan 2006") }
	rep := &pdf.Report{Title: "Regional SIG update", Subtitle: u.Region + ", " + u.Period(), Author: "NHS ESR Central Team",
		Reference: fmt.Sprintf("ESR-RSIG-%d-%s", u.RegionID, u.To.Format("20060102")), Date: u.To,
		Subject: "What the NSIGs did for the " + u.Region + " regional SIG: meetings, views, decisions and coming releases",
		Intro: []string{"The NSIGs feed back to the regional SIGs that nominate their members. This update covers " + u.Period() +
			": the NSIG meetings held and how " + u.Region + " was represented, the views the region gave on requests, the decisions on its organisations' requests and the changes in the coming releases."}}
	meetings := pdf.ReportSection{Title: "NSIG meetings", Columns: []string{"Date", "NSIG", u.Region + " represented by", "Agenda, outcomes and minutes"},
		Empty: "No NSIG meetings were held in this period."}
	for _, m := range u.Meetings {
		rep := "Not represented"
		if len(m.Represented) > 0 {
			rep = strings.Join(m.Represented, "\n")
		}
		var items []string
		if !m.Readable {
			items = append(items, fmt.Sprintf("%d agenda items: the agenda and minutes are for the NSIG's members", m.ItemCount))
		}
		for _, it := range m.Items {
			line := it.Title
			if len(it.References) > 0 {
				line += " (" + strings.Join(it.References, ", ") + ")"
			}
			if it.Outcome != "" {
				line += "\nOutcome: " + it.Outcome
			}
			if it.Minutes != "" {
				line += "\nMinutes: " + it.Minutes
			}
			items = append(items, line)
		}
		meetings.Rows = append(meetings.Rows, []string{date(m.On), m.NSIGs, rep, strings.Join(items, "\n")})
	}
	views := pdf.ReportSection{Title: "The " + u.Region + " region's views on requests", Columns: []string{"Reference", "Title", "NSIG", "View", "Given"},
		Empty: "The region gave no views in this period."}
	for _, v := range u.Views {
		views.Rows = append(views.Rows, []string{v.Reference, v.Title, v.NSIG, v.View, date(v.On)})
	}
	decisions := pdf.ReportSection{Title: "Decisions on the region's requests", Columns: []string{"Reference", "Title", "Organisation", "Decision", "Decided", "Rationale"},
		Empty: "No requests from the region's organisations were decided in this period."}
	for _, d := range u.Decisions {
		decisions.Rows = append(decisions.Rows, []string{d.Reference, d.Title, d.Organisation, d.Outcome, date(d.On), d.Rationale})
	}
	rep.Sections = append(rep.Sections, meetings, views, decisions)
	for _, r := range u.Releases {
		s := pdf.ReportSection{Title: fmt.Sprintf("Release %d: %s", r.Number, r.Name), Columns: []string{"Reference", "Title", "Organisation", "Region"},
			Paragraphs: []string{fmt.Sprintf("Target date %s · %s · %d %s, %d from %s", r.TargetDate.Format("2 January 2006"), r.Status, len(r.Changes), plural(len(r.Changes), "change", "changes"), r.Ours(), u.Region)},
			Empty:      "No changes are allocated to this release yet."}
		for _, ch := range r.Changes {
			s.Rows = append(s.Rows, []string{ch.Reference, ch.Title, ch.Organisation, ch.Region})
		}
		rep.Sections = append(rep.Sections, s)
	}
	return rep
}
