package app

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/request"
)

// exportLimit is the most requests one export holds.
const exportLimit = 10000

// exportColumns are the columns of both exports, in order. They hold what every viewer of a row may
// see: never internal notes, and never the names of people.
var exportColumns = []string{
	"Reference", "Title", "Status", "Functional area", "NSIG", "Raising organisation", "Region",
	"SR number", "Urgency", "Received", "Acknowledgement due", "Acknowledged", "Supporting organisations", "Type",
}

// exportLine is one request as the exports write it. Dates are calendar dates (Europe/London) at
// midnight UTC; a zero date is left blank.
type exportLine struct {
	Reference, Title, Status, FunctionalArea, NSIG, Organisation, Region, SRNumber, Urgency, Kind string
	Received, AckDue, Acknowledged                                                                time.Time
	Supporters                                                                                    int
}

// exportLines reads the requests the viewer may see that match the list's filter, up to exportLimit.
// A filter the list would refuse (a date that is not real) sends the browser back to the list, which
// shows why.
func (a *App) exportLines(c *fiber.Ctx) ([]exportLine, bool, error) {
	ctx := c.UserContext()
	ff := readRequestFilter(c)
	f, errs := a.requestFilter(ff)
	if errs.Any() {
		return nil, false, c.Redirect(withQuery("/requests", ff.values()), fiber.StatusSeeOther)
	}
	v, err := request.ViewerFor(ctx, a.db, visitOf(c).user)
	if err != nil {
		return nil, false, err
	}
	f.Limit, f.NoCount = exportLimit, true
	rows, _, err := request.List(ctx, a.db, v, f)
	if err != nil {
		return nil, false, err
	}
	lines := make([]exportLine, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		l := exportLine{
			Reference: r.Reference, Title: r.Title, Status: r.Status.Label(), FunctionalArea: r.FunctionalArea,
			NSIG: r.NSIGName, Organisation: r.OrganisationName, Region: r.RegionName,
			Received: a.exportDate(r.ReceivedAt), AckDue: a.exportDate(r.AckDueOn), Acknowledged: a.exportDate(r.AcknowledgedAt),
			Supporters: r.SupportCount, Kind: r.KindLabel(),
		}
		// The SR number and urgency are part of the whole request, not of the summary every signed-in
		// user may see of an accepted one.
		if v.AccessTo(&r.Request) >= request.AccessFull {
			l.SRNumber, l.Urgency = r.SRNumber, urgencyLabel(r.Urgency)
		}
		lines = append(lines, l)
	}
	return lines, true, nil
}

// exportDate is t's date in Europe/London as midnight UTC, which spreadsheets read as that date.
func (a *App) exportDate(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	d := a.calendar.Date(t)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

func urgencyLabel(code string) string {
	for _, u := range request.Urgencies {
		if u.Value == code {
			return u.Label
		}
	}
	return code
}

// exportFilename is e.g. requests-2026-11-20.csv: today's date, plain ASCII.
func (a *App) exportFilename(ext string) string {
	return "requests-" + a.calendar.Date(a.now()).Format("2006-01-02") + "." + ext
}

// sendFile sends a document: inline (a PDF opens in the browser) or as a download. The security headers
// every response gets (nosniff among them) apply.
func sendFile(c *fiber.Ctx, contentType, filename string, body []byte, inline bool) error {
	disposition := "attachment"
	if inline {
		disposition = "inline"
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, disposition+`; filename="`+filename+`"`)
	return c.Status(fiber.StatusOK).Send(body)
}

// exportSheet is the list's requests as both exports write them.
func exportSheet(lines []exportLine) sheet {
	s := sheet{Name: "Requests", Columns: exportColumns, Widths: exportColumnWidths}
	for _, l := range lines {
		s.Rows = append(s.Rows, []any{
			l.Reference, l.Title, l.Status, l.FunctionalArea, l.NSIG, l.Organisation, l.Region, l.SRNumber, l.Urgency,
			l.Received, l.AckDue, l.Acknowledged, l.Supporters, l.Kind,
		})
	}
	return s
}

// requestsExportCSV sends the list's requests as CSV (see csvFile).
func (a *App) requestsExportCSV(c *fiber.Ctx) error {
	lines, ok, err := a.exportLines(c)
	if !ok || err != nil {
		return err
	}
	body, err := csvFile(exportSheet(lines))
	if err != nil {
		return err
	}
	return sendFile(c, "text/csv; charset=utf-8", a.exportFilename("csv"), body, false)
}

// csvSafe stops a spreadsheet from running a cell as a formula: text that starts with = + - @ or a
// tab or carriage return gets a leading apostrophe (OWASP, "CSV injection").
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportColumnWidths are the widths of exportColumns, in characters.
var exportColumnWidths = []float64{16, 60, 30, 28, 40, 50, 26, 14, 10, 13, 13, 13, 14, 26}

// requestsExportXLSX sends the list's requests as an Excel workbook (see workbook).
func (a *App) requestsExportXLSX(c *fiber.Ctx) error {
	lines, ok, err := a.exportLines(c)
	if !ok || err != nil {
		return err
	}
	body, err := workbook(excelize.DocProperties{Title: "Requests", Creator: "ESR Enhancement Portal", Created: a.now().UTC().Format(time.RFC3339)},
		exportSheet(lines))
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return sendFile(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", a.exportFilename("xlsx"), body, false)
}
