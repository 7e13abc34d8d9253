package app

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/schedule"
	"github.com/nhs-esr/portal/app/schedule/pdf"
	"github.com/nhs-esr/portal/forms"
)

// publicationRow is one published version as the list shows it.
type publicationRow struct {
	*schedule.Publication
	QuarterLabel string
	SizeText     string
}

func newPublicationRow(p *schedule.Publication) publicationRow {
	return publicationRow{Publication: p, QuarterLabel: p.QuarterValue().Label(), SizeText: fileSize(p.Size)}
}

// quarterGroup is a quarter's versions, latest first.
type quarterGroup struct {
	Label    string
	Versions []publicationRow
}

type schedulesIndexPage struct {
	Page
	Quarters   []quarterGroup
	CanPublish bool
}

func (a *App) schedulesIndex(c *fiber.Ctx) error {
	list, err := schedule.List(c.UserContext(), a.db)
	if err != nil {
		return err
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	p := &schedulesIndexPage{Page: a.page(c, "Development Schedules"), CanPublish: v.Has("central_team")}
	for i := range list {
		row := newPublicationRow(&list[i])
		if n := len(p.Quarters); n == 0 || p.Quarters[n-1].Label != row.QuarterLabel {
			p.Quarters = append(p.Quarters, quarterGroup{Label: row.QuarterLabel})
		}
		g := &p.Quarters[len(p.Quarters)-1]
		g.Versions = append(g.Versions, row)
	}
	return a.render(c, fiber.StatusOK, "schedules/index", p)
}

// quarterOptions are the quarters the central team may publish: the one before today's, today's and the
// two after.
func (a *App) quarterOptions() []Option {
	q := schedule.QuarterOf(a.now().In(london))
	q = q.Previous()
	var out []Option
	for range 4 {
		out = append(out, Option{Value: q.String(), Label: q.Label(),
			Hint: q.Start().Format("January 2006") + " to " + q.End().Format("January 2006")})
		if q.Q == 4 {
			q = schedule.Quarter{Year: q.Year + 1, Q: 1}
		} else {
			q = schedule.Quarter{Year: q.Year, Q: q.Q + 1}
		}
	}
	return out
}

type scheduleNewPage struct {
	Page
	Form     forms.SchedulePreview
	Quarters []Option
}

func (a *App) scheduleNew(c *fiber.Ctx) error {
	today := a.now().In(london)
	f := forms.SchedulePreview{Quarter: schedule.QuarterOf(today).String(),
		Day: strconv.Itoa(today.Day()), Month: strconv.Itoa(int(today.Month())), Year: strconv.Itoa(today.Year())}
	return a.render(c, fiber.StatusOK, "schedules/new", &scheduleNewPage{Page: a.page(c, "Prepare a Development Schedule"), Form: f, Quarters: a.quarterOptions()})
}

// schedulePreviewInput reads and checks the quarter and publication date.
func (a *App) schedulePreviewInput(f *forms.SchedulePreview) (schedule.Quarter, time.Time, forms.Errors) {
	errs := a.validate.Check(f)
	q, qerr := schedule.ParseQuarter(f.Quarter)
	if qerr != nil && errs.Get("quarter") == "" {
		errs.Add("quarter", "Select the quarter the schedule is for")
	}
	d := dateField(&errs, "date", "publication date", f.Day, f.Month, f.Year)
	if errs.Get("date-day") == "" && qerr == nil {
		var rule *schedule.RuleError
		if err := schedule.CheckDate(q, d); errors.As(err, &rule) {
			errs.Add(rule.Field, rule.Message)
		}
	}
	return q, d, errs
}

type schedulePreviewPage struct {
	Page
	Form     forms.SchedulePublish
	Doc      *schedule.Document
	Next     int // the version publishing makes
	Latest   *schedule.Publication
	Query    string // the preview's query string, for the draft PDF link
	Conflict *schedule.Publication
	Details  []SummaryRow
	Told     int  // how many people publishing tells
	Past     bool // the publication date is before today
	Today    time.Time
}

func (a *App) schedulePreview(c *fiber.Ctx) error {
	var f forms.SchedulePreview
	if err := c.QueryParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	q, d, errs := a.schedulePreviewInput(&f)
	if errs.Any() {
		p := &scheduleNewPage{Page: a.page(c, "Prepare a Development Schedule"), Form: f, Quarters: a.quarterOptions()}
		return a.invalid(c, "schedules/new", &p.Page, errs, p)
	}
	p, err := a.previewPage(c, q, d, forms.SchedulePublish{SchedulePreview: f, Public: []string{"yes"}})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "schedules/preview", p)
}

// previewPage builds the schedule as it would be published now, and the form that publishes it.
func (a *App) previewPage(c *fiber.Ctx, q schedule.Quarter, d time.Time, f forms.SchedulePublish) (*schedulePreviewPage, error) {
	ctx := c.UserContext()
	latest, err := schedule.LatestVersion(ctx, a.db, q)
	if err != nil {
		return nil, err
	}
	f.Based = latest
	doc, err := schedule.BuildSnapshot(ctx, a.db, schedule.Options{Quarter: q, PublicationDate: d, Version: latest + 1})
	if err != nil {
		return nil, err
	}
	p := &schedulePreviewPage{Page: a.page(c, "Preview: Development Schedule for "+q.Label()), Form: f, Doc: doc, Next: latest + 1,
		Query: fmt.Sprintf("quarter=%s&date-day=%d&date-month=%d&date-year=%d", q, d.Day(), int(d.Month()), d.Year())}
	version := strconv.Itoa(p.Next)
	if latest > 0 {
		version += fmt.Sprintf(" (a correction of version %d)", latest)
	}
	p.Details = []SummaryRow{
		{Key: "Document reference", Value: doc.Reference},
		{Key: "Version", Value: version},
		{Key: "Publication date", Value: d.Format("2 January 2006")},
		{Key: "Business justifications raised", Value: "From " + doc.JustificationsFrom.Format("2 January 2006") + " to " + d.Format("2 January 2006")},
		{Key: "Deliveries and moves", Value: "After " + doc.Since.Format("2 January 2006")},
		{Key: "Rows in its tables", Value: strconv.Itoa(doc.Items())},
	}
	if latest > 0 {
		if p.Latest, err = schedule.GetVersion(ctx, a.db, q, latest); err != nil {
			return nil, err
		}
	}
	told, err := schedule.Audience(ctx, a.db, doc)
	if err != nil {
		return nil, err
	}
	p.Told = len(told)
	today := a.now().In(london)
	p.Today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	p.Past = d.Before(p.Today)
	return p, nil
}

// schedulePreviewPDF sends the PDF the schedule would be if it were published now, marked as a draft on
// its cover and in every footer.
func (a *App) schedulePreviewPDF(c *fiber.Ctx) error {
	var f forms.SchedulePreview
	if err := c.QueryParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	q, d, errs := a.schedulePreviewInput(&f)
	if errs.Any() {
		return c.Redirect("/schedules/preview?"+string(c.Request().URI().QueryString()), fiber.StatusSeeOther)
	}
	latest, err := schedule.LatestVersion(c.UserContext(), a.db, q)
	if err != nil {
		return err
	}
	doc, err := schedule.BuildSnapshot(c.UserContext(), a.db, schedule.Options{Quarter: q, PublicationDate: d, Version: latest + 1})
	if err != nil {
		return err
	}
	doc.Draft = true
	var buf bytes.Buffer
	if err := pdf.Render(&buf, doc); err != nil {
		return err
	}
	return sendFile(c, "application/pdf", fmt.Sprintf("%s-v%d-preview.pdf", doc.Reference, doc.Version), buf.Bytes(), false)
}

func (a *App) schedulePublish(c *fiber.Ctx) error {
	var f forms.SchedulePublish
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	q, d, errs := a.schedulePreviewInput(&f.SchedulePreview)
	if errs.Any() {
		p := &scheduleNewPage{Page: a.page(c, "Prepare a Development Schedule"), Form: f.SchedulePreview, Quarters: a.quarterOptions()}
		return a.invalid(c, "schedules/new", &p.Page, errs, p)
	}
	errs = a.validate.Check(&f)
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	var published *schedule.Publication
	if !errs.Any() {
		published, err = schedule.Publish(c.UserContext(), a.db, pdf.Render, schedule.Publisher{UserID: v.UserID, Name: v.Name}, a.actor(c), a.now(),
			schedule.PublishInput{Quarter: q, PublicationDate: d, ChangeNote: f.ChangeNote, Based: f.Based, Public: f.MakesPublic()})
	}
	var rule *schedule.RuleError
	var conflict *schedule.Conflict
	switch {
	case errs.Any() || errors.As(err, &rule) || errors.As(err, &conflict):
		if rule != nil {
			errs.Add(rule.Field, rule.Message)
		}
		status := fiber.StatusUnprocessableEntity
		p, perr := a.previewPage(c, q, d, f)
		if perr != nil {
			return perr
		}
		if conflict != nil {
			status = fiber.StatusConflict
			p.Conflict = conflict.Latest
			errs.Add("change_note", fmt.Sprintf("Version %d was published by %s while you were looking at this preview. Check it, then say what this version changes",
				conflict.Latest.Version, conflict.Latest.PublishedByName))
		}
		p.Errors = errs
		return a.render(c, status, "schedules/preview", p)
	case err != nil:
		return err
	}
	msg := fmt.Sprintf("The Development Schedule for %s is published", q.Label())
	if published.Version > 1 {
		msg = fmt.Sprintf("Version %d of the Development Schedule for %s is published", published.Version, q.Label())
	}
	msg += fmt.Sprintf("; %d %s told", published.Told, plural(published.Told, "person was", "people were"))
	if published.Public() {
		a.flashLink(c, msg+". It is the version the public sees", "/development-schedule", "Read the public Development Schedule")
	} else {
		a.flash(c, msg)
	}
	return c.Redirect(fmt.Sprintf("/schedules/%d", published.ID), fiber.StatusSeeOther)
}

func (a *App) publicationFromParam(c *fiber.Ctx) (*schedule.Publication, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("development schedule %q: %w", c.Params("id"), problem.ErrNotFound)
	}
	return schedule.Get(c.UserContext(), a.db, id)
}

type scheduleShowPage struct {
	Page
	Publication publicationRow
	Doc         *schedule.Document
	Details     []SummaryRow
	CanPublish  bool
	PublicView  bool // the page anyone may read, without sign-in
	Base        string
}

func (a *App) scheduleShowPage(c *fiber.Ctx, pub *schedule.Publication, public bool) (*scheduleShowPage, error) {
	doc, err := pub.Document()
	if err != nil {
		return nil, err
	}
	row := newPublicationRow(pub)
	p := &scheduleShowPage{Page: a.page(c, "Development Schedule for "+row.QuarterLabel), Publication: row, Doc: doc, PublicView: public,
		Base: fmt.Sprintf("/schedules/%d", pub.ID)}
	if public {
		p.Base = "/development-schedule"
	} else {
		v, err := a.viewer(c)
		if err != nil {
			return nil, err
		}
		p.CanPublish = v.Has("central_team")
	}
	p.Details = []SummaryRow{
		{Key: "Document reference", Value: pub.Reference},
		{Key: "Version", Value: strconv.Itoa(pub.Version)},
		{Key: "Publication date", Value: pub.PublicationDate.Format("2 January 2006")},
	}
	if pub.ChangeNote != "" {
		p.Details = append(p.Details, SummaryRow{Key: "What changed", Value: pub.ChangeNote})
	}
	if !public {
		p.Details = append(p.Details,
			SummaryRow{Key: "Published", Value: pub.PublishedAt.In(london).Format("2 January 2006 at 3:04pm") + " by " + pub.PublishedByName},
			SummaryRow{Key: "SHA-256 checksum of the PDF", Value: pub.Checksum()})
	}
	return p, nil
}

func (a *App) scheduleShow(c *fiber.Ctx) error {
	pub, err := a.publicationFromParam(c)
	if err != nil {
		return err
	}
	p, err := a.scheduleShowPage(c, pub, false)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "schedules/show", p)
}

func (a *App) schedulePDF(c *fiber.Ctx) error {
	pub, err := a.publicationFromParam(c)
	if err != nil {
		return err
	}
	return sendPublicationPDF(c, pub)
}

func sendPublicationPDF(c *fiber.Ctx, pub *schedule.Publication) error {
	c.Set(fiber.HeaderETag, `"`+pub.Checksum()+`"`)
	c.Set("Digest", "sha-256="+pub.Checksum())
	return sendFile(c, "application/pdf", pub.FileName("pdf"), pub.PDF, true)
}

func (a *App) scheduleCSV(c *fiber.Ctx) error {
	pub, err := a.publicationFromParam(c)
	if err != nil {
		return err
	}
	doc, err := pub.Document()
	if err != nil {
		return err
	}
	body, err := scheduleCSV(doc)
	if err != nil {
		return err
	}
	return sendFile(c, "text/csv; charset=utf-8", pub.FileName("csv"), body, false)
}

// scheduleCSV writes every table of a schedule into one CSV file: a Section column, then the columns of
// all the tables (each row fills its own).
func scheduleCSV(doc *schedule.Document) ([]byte, error) {
	tables := doc.Tables()
	all := sheet{Columns: []string{"Section"}}
	index := map[string]int{}
	for _, t := range tables {
		for _, col := range t.Columns {
			if _, ok := index[col]; !ok {
				index[col] = len(all.Columns)
				all.Columns = append(all.Columns, col)
			}
		}
	}
	for _, t := range tables {
		for _, row := range t.Rows {
			line := make([]any, len(all.Columns))
			line[0] = t.Name
			for i, cell := range row {
				line[index[t.Columns[i]]] = cell
			}
			all.Rows = append(all.Rows, line)
		}
	}
	return csvFile(all)
}

func (a *App) scheduleXLSX(c *fiber.Ctx) error {
	pub, err := a.publicationFromParam(c)
	if err != nil {
		return err
	}
	doc, err := pub.Document()
	if err != nil {
		return err
	}
	body, err := scheduleWorkbook(doc)
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return sendFile(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", pub.FileName("xlsx"), body, false)
}

// scheduleWorkbook writes a schedule's tables as an Excel workbook, one worksheet each (see workbook).
func scheduleWorkbook(doc *schedule.Document) ([]byte, error) {
	var sheets []sheet
	for _, t := range doc.Tables() {
		sheets = append(sheets, sheet{Name: t.Name, Columns: t.Columns, Widths: t.Widths, Rows: t.Rows})
	}
	return workbook(excelize.DocProperties{Title: doc.Title + " " + doc.QuarterLabel, Creator: doc.Author,
		Subject: schedule.Subject, Created: doc.PublicationDate.Format(time.RFC3339)}, sheets...)
}

func (a *App) schedulePublic(c *fiber.Ctx) error {
	pub, err := a.publicationFromParam(c)
	if err != nil {
		return err
	}
	public := c.FormValue("public") == "yes"
	if _, err := schedule.SetPublic(c.UserContext(), a.db, a.actor(c), a.now(), pub.ID, public); err != nil {
		return err
	}
	if public {
		a.flashLink(c, fmt.Sprintf("Version %d of the schedule for %s is public: anyone can read it without signing in", pub.Version, pub.QuarterValue().Label()),
			"/development-schedule", "Read the public Development Schedule")
	} else {
		a.flash(c, fmt.Sprintf("Version %d of the schedule for %s is no longer public", pub.Version, pub.QuarterValue().Label()))
	}
	return c.Redirect(fmt.Sprintf("/schedules/%d", pub.ID), fiber.StatusSeeOther)
}

// latestPublic is the schedule anyone may read: the newest one the central team has made public.
func (a *App) latestPublic(c *fiber.Ctx) (*schedule.Publication, error) {
	pub, err := schedule.LatestPublic(c.UserContext(), a.db)
	if errors.Is(err, problem.ErrNotFound) {
		return nil, fmt.Errorf("no Development Schedule has been made public yet: %w", problem.ErrNotFound)
	}
	return pub, err
}

func (a *App) publicSchedule(c *fiber.Ctx) error {
	pub, err := a.latestPublic(c)
	if err != nil {
		return err
	}
	p, err := a.scheduleShowPage(c, pub, true)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "schedules/show", p)
}

func (a *App) publicSchedulePDF(c *fiber.Ctx) error {
	pub, err := a.latestPublic(c)
	if err != nil {
		return err
	}
	return sendPublicationPDF(c, pub)
}
