package pdf

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jung-kurt/gofpdf"

	"github.com/nhs-esr/portal/app/schedule"
)

// Report is a document of tables in the Development Schedule's look, for the portal's other downloads
// (dashboards, the requests list): a cover line in NHS Blue with the title, when it was generated and
// the filters it was made with, then sections of tables that break across pages under a repeated
// header row, with "Page X of Y" in every footer.
type Report struct {
	Title     string       // "National dashboard"
	Subtitle  string       // "Quarter 3 2026/27"
	Generated time.Time    // when it was made: shown, and the PDF's creation date
	Filters   []ReportLine // what it covers: period, scope, filters, whose access
	Sections  []ReportSection
}

// ReportLine is one line of the report's particulars: "Period", "1 October to 31 December 2026".
type ReportLine struct{ Key, Value string }

// ReportSection is a heading with an optional introduction and its tables.
type ReportSection struct {
	Title  string
	Intro  string
	Tables []ReportTable
}

// ReportTable is a table: its caption (repeated over its continuation on a later page), columns and
// rows of text, one cell a column.
type ReportTable struct {
	Caption string
	Columns []ReportColumn
	Rows    [][]string
	Empty   string // said instead of the table when it has no rows
}

// ReportColumn is a column's heading and relative width (the widths are scaled to the page).
type ReportColumn struct {
	Title string
	Width float64
}

// RenderReport writes the report as a PDF to w. The same report always gives the same bytes.
func RenderReport(w io.Writer, rep *Report) error {
	if rep == nil {
		return errors.New("render report: no report")
	}
	rr := newReportRenderer(rep)
	r := rr.renderer
	rr.coverLine()
	for _, s := range rep.Sections {
		rr.section(s)
	}
	rr.footers()
	if err := r.f.Error(); err != nil {
		return fmt.Errorf("render report %q: %w", rep.Title, err)
	}
	if err := r.f.Output(w); err != nil {
		return fmt.Errorf("render report %q: %w", rep.Title, err)
	}
	return nil
}

// reportRenderer draws a Report with the schedule's renderer: its fonts, tables and text.
type reportRenderer struct {
	*renderer
	rep *Report
}

func newReportRenderer(rep *Report) *reportRenderer {
	f := gofpdf.New("P", "mm", "A4", "")
	r := &renderer{f: f, doc: &schedule.Document{}, title: rep.Title, available: glyphs().has}
	fonts := loadFonts()
	f.AddUTF8FontFromBytes(family, "", fonts.regular)
	f.AddUTF8FontFromBytes(family, "B", fonts.bold)
	f.AddUTF8FontFromBytes(family, "I", fonts.italic)
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.SetMargins(marginL, bodyTop, marginR)
	f.SetAutoPageBreak(false, pageH-bodyEnd)
	f.SetCellMargin(cellPad)
	f.SetDisplayMode("fullwidth", "continuous")
	f.SetTitle(r.clean(reportTitle(rep)), true)
	f.SetSubject(r.clean(rep.Title+": figures and tables from the ESR Enhancement Portal"), true)
	f.SetKeywords("ESR, Electronic Staff Record, report", true)
	f.SetCreator(creator, true)
	f.SetProducer(creator, true)
	stamp := rep.Generated.UTC()
	if stamp.IsZero() {
		stamp = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	f.SetCreationDate(stamp)
	f.SetModificationDate(stamp)
	rr := &reportRenderer{renderer: r, rep: rep}
	f.SetHeaderFuncMode(rr.header, true)
	return rr
}

// reportTitle is "National dashboard, Quarter 3 2026/27".
func reportTitle(rep *Report) string {
	if rep.Subtitle == "" {
		return rep.Title
	}
	return rep.Title + ", " + rep.Subtitle
}

// generated is "Generated 4 December 2026 at 10:15am" in London.
func (rr *reportRenderer) generated() string {
	if rr.rep.Generated.IsZero() {
		return ""
	}
	return "Generated " + rr.rep.Generated.In(londonZone()).Format("2 January 2006 at 3:04pm")
}

func londonZone() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}

// header draws the running header on every page after the first.
func (rr *reportRenderer) header() {
	r := rr.renderer
	if r.f.PageNo() == 1 {
		return
	}
	r.font("B", 8.5, nhsBlue)
	r.f.SetXY(marginL, 10)
	r.f.CellFormat(contentW*0.6, 5, r.fit(reportTitle(rr.rep), contentW*0.6-2*cellPad), "", 0, "L", false, 0, "")
	r.font("", 8.5, greyText)
	r.f.SetXY(marginL+contentW*0.6, 10)
	r.f.CellFormat(contentW*0.4, 5, r.fit(rr.generated(), contentW*0.4-2*cellPad), "", 0, "R", false, 0, "")
	r.draw(nhsBlue)
	r.f.SetLineWidth(0.4)
	r.f.Line(marginL, 16, marginL+contentW, 16)
	r.f.SetXY(marginL, bodyTop)
}

// coverLine draws the top of the first page: a band in NHS Blue with the title, then what the report
// covers; the first section follows on the same page.
func (rr *reportRenderer) coverLine() {
	r, f := rr.renderer, rr.f
	f.AddPage()
	r.fill(nhsBlue)
	f.Rect(0, 0, pageW, 42, "F")
	r.fill(nhsDarkBlue)
	f.Rect(0, 42, pageW, 1.5, "F")
	r.font("B", 9.5, white)
	f.SetXY(marginL, 9)
	f.CellFormat(contentW, 5, "NHS Electronic Staff Record · ESR Enhancement Portal", "", 1, "L", false, 0, "")
	r.font("B", 20, white)
	f.SetXY(marginL, 16)
	f.CellFormat(contentW, 10, r.fit(rr.rep.Title, contentW-2*cellPad), "", 1, "L", false, 0, "")
	if rr.rep.Subtitle != "" {
		r.font("", 12, white)
		f.SetX(marginL)
		f.CellFormat(contentW, 7, r.fit(rr.rep.Subtitle, contentW-2*cellPad), "", 1, "L", false, 0, "")
	}
	y := 49.0
	lines := append([]ReportLine{{Key: "Generated", Value: strings.TrimPrefix(rr.generated(), "Generated ")}}, rr.rep.Filters...)
	for _, l := range lines {
		if strings.TrimSpace(l.Value) == "" {
			continue
		}
		r.font("", 9.5, textColour)
		wrapped := r.split(l.Value, contentW-48)
		h := float64(max(len(wrapped), 1)) * 4.8
		r.font("", 9.5, greyText)
		f.SetXY(marginL, y)
		f.CellFormat(48, 4.8, r.fit(l.Key, 48-2*cellPad), "", 0, "L", false, 0, "")
		r.font("B", 9.5, textColour)
		for k, line := range wrapped {
			f.SetXY(marginL+48, y+float64(k)*4.8)
			f.CellFormat(contentW-48, 4.8, line, "", 0, "L", false, 0, "")
		}
		y += h + 1
		r.draw(ruleGrey)
		f.SetLineWidth(0.25)
		f.Line(marginL, y, marginL+contentW, y)
		y += 1.5
	}
	f.SetXY(marginL, y+4)
}

// section writes a heading, its introduction and its tables, keeping the heading with what follows.
func (rr *reportRenderer) section(s ReportSection) {
	r, f := rr.renderer, rr.f
	r.ensure(30)
	r.font("B", 14, nhsBlue)
	y := f.GetY()
	f.Bookmark(r.clean(s.Title), 0, y)
	r.paragraph(s.Title, "B", 14, nhsBlue, 1.5)
	if strings.TrimSpace(s.Intro) != "" {
		r.paragraph(s.Intro, "", 9.5, textColour, 2.5)
	}
	for _, t := range s.Tables {
		if t.Caption != "" {
			r.ensure(22)
			r.paragraph(t.Caption, "B", 10.5, textColour, 1.5)
		}
		if len(t.Rows) == 0 {
			text := t.Empty
			if text == "" {
				text = "None."
			}
			r.paragraph(text, "I", 9.5, textColour, 4)
			continue
		}
		cols := make([]column, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = column{title: c.Title, width: c.Width, bold: i == 0}
		}
		rows := make([]row, len(t.Rows))
		for i, cells := range t.Rows {
			rw := make(row, len(cols))
			for k := range cols {
				if k < len(cells) {
					rw[k] = cell{text: cells[k]}
				}
			}
			rows[i] = rw
		}
		caption := t.Caption
		if caption == "" {
			caption = s.Title
		}
		r.table(cols, rows, caption)
	}
	f.SetY(f.GetY() + 2)
}

// footers writes every page's footer once the page count is known.
func (rr *reportRenderer) footers() {
	r := rr.renderer
	total := r.f.PageCount()
	for n := 1; n <= total; n++ {
		r.reenter(n)
		r.draw(ruleGrey)
		r.f.SetLineWidth(0.3)
		r.f.Line(marginL, pageH-15, marginL+contentW, pageH-15)
		r.font("", 8.5, greyText)
		r.f.SetXY(marginL, pageH-14)
		r.f.CellFormat(contentW/3, 5, r.fit(rr.rep.Title, contentW/3-2*cellPad), "", 0, "L", false, 0, "")
		r.f.CellFormat(contentW/3, 5, r.fit(rr.generated(), contentW/3-2*cellPad), "", 0, "C", false, 0, "")
		r.font("B", 8.5, textColour)
		r.f.CellFormat(contentW/3, 5, fmt.Sprintf("Page %d of %d", n, total), "", 0, "R", false, 0, "")
	}
	r.f.SetPage(total)
}
