package pdf

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nhs-esr/portal/app/schedule"
)

// Report is a short publication of the portal other than the Development Schedule (a regional SIG
// update): a title block, then sections of paragraphs and tables, in the schedule's type and colours,
// with the same running header, "Page X of Y" footers and fixed dates (the same Report gives the same
// bytes).
type Report struct {
	Title     string // "Regional SIG update"
	Subtitle  string // "South West, 1 September to 30 November 2026"
	Reference string // the document reference in the header and footer
	Author    string
	Subject   string
	Date      time.Time // the date it is as at; its creation date
	Intro     []string
	Sections  []ReportSection
}

// ReportSection is a heading with paragraphs and, optionally, a table (its first column kept on one line).
type ReportSection struct {
	Title      string
	Paragraphs []string
	Columns    []string
	Rows       [][]string
	Empty      string // said when the table has no rows
}

// RenderReport writes rep as a PDF to w.
func RenderReport(w io.Writer, rep *Report) error {
	if rep == nil {
		return errors.New("render report: no report")
	}
	doc := &schedule.Document{Title: rep.Title, QuarterLabel: rep.Subtitle, Reference: rep.Reference, PublicationDate: rep.Date, Author: rep.Author}
	r := newRenderer(doc)
	r.report = true
	if rep.Subject != "" {
		r.f.SetSubject(r.clean(rep.Subject), true)
	}
	r.f.SetKeywords(r.clean(strings.Join([]string{"ESR", "Electronic Staff Record", rep.Title, rep.Reference}, ", ")), true)
	r.newPage()
	r.font("B", 22, nhsBlue)
	for _, line := range r.split(rep.Title, contentW) {
		r.f.SetX(marginL)
		r.f.CellFormat(contentW, 10, line, "", 1, "L", false, 0, "")
	}
	if rep.Subtitle != "" {
		r.paragraph(rep.Subtitle, "", 13, textColour, 1)
	}
	var meta []string
	if !rep.Date.IsZero() {
		meta = append(meta, "As at "+rep.Date.Format(longDate))
	}
	if rep.Author != "" {
		meta = append(meta, rep.Author)
	}
	if len(meta) > 0 {
		r.paragraph(strings.Join(meta, "  ·  "), "", 9.5, greyText, 4)
	}
	for _, p := range rep.Intro {
		r.paragraph(p, "", 10, textColour, 2.5)
	}
	for i, s := range rep.Sections {
		// Keep a heading with what follows it.
		r.ensure(34)
		r.f.SetY(r.f.GetY() + 4)
		y := r.f.GetY()
		r.f.Bookmark(r.clean(s.Title), 0, y)
		r.paragraph(fmt.Sprintf("%d   %s", i+1, s.Title), "B", 14, nhsBlue, 1.5)
		for _, p := range s.Paragraphs {
			r.paragraph(p, "", 10, textColour, 2)
		}
		if len(s.Columns) == 0 {
			continue
		}
		if len(s.Rows) == 0 {
			if s.Empty != "" {
				r.paragraph(s.Empty, "I", 10, textColour, 2)
			}
			continue
		}
		cols := make([]column, len(s.Columns))
		for k, c := range s.Columns {
			cols[k] = column{title: c, bold: k == 0, nowrap: k == 0}
		}
		rows := make([]row, len(s.Rows))
		for k, cells := range s.Rows {
			rw := make(row, len(cols))
			for c := range cols {
				if c < len(cells) {
					rw[c] = cell{text: cells[c]}
				}
			}
			rows[k] = rw
		}
		r.table(cols, rows, s.Title)
	}
	r.footers()
	if err := r.f.Error(); err != nil {
		return fmt.Errorf("render report %s: %w", rep.Reference, err)
	}
	if err := r.f.Output(w); err != nil {
		return fmt.Errorf("render report %s: %w", rep.Reference, err)
	}
	return nil
}
