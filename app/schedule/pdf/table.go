package pdf

// Table layout in millimetres and points.
const (
	tblSize    = 8.0 // body text, points
	tblLineH   = 3.8 // line height of body text
	tblPadY    = 1.7 // space above and below the text in a row
	tblHeadPt  = 8.0
	tblHeadH   = 3.8
	tblHeadPad = 2.0
)

// column is one table column: its heading, width and whether its text is bold (the reference).
type column struct {
	title string
	width float64
	bold  bool
}

// cell is a table cell's text, with an optional second part on its own line in grey (the region under
// an organisation).
type cell struct {
	text string
	sub  string
}

type row []cell

// laidCell is a cell split into lines for its column; the first main lines are in the body colour and
// the rest are the grey second part.
type laidCell struct {
	lines []string
	main  int
}

// table draws rows under a header row; when a row does not fit it goes to the next page, where the header
// row is repeated under "caption (continued)". A row taller than a whole page is split between pages.
func (r *renderer) table(cols []column, rows []row, caption string) {
	f := r.f
	cols = fitColumns(cols)
	headH := r.headerHeight(cols)
	r.ensure(headH + tblLineH + 2*tblPadY)
	r.tableHeader(cols, headH)
	laid := make([]laidCell, len(cols))
	for i, rw := range rows {
		height := 0
		for c, col := range cols {
			laid[c] = r.layCell(rw[c], col)
			if n := len(laid[c].lines); n > height {
				height = n
			}
		}
		if height == 0 {
			height = 1
		}
		zebra := i%2 == 1
		need := float64(height)*tblLineH + 2*tblPadY
		fresh := bodyEnd - bodyTop - 8 - headH // room for rows on a continuation page
		if f.GetY()+need > bodyEnd && need <= fresh {
			r.continueTable(cols, headH, caption)
		}
		// Draw the row, splitting it between pages only when it is taller than a page.
		from := 0
		for from < height {
			room := int((bodyEnd - f.GetY() - 2*tblPadY) / tblLineH)
			if room < 1 {
				r.continueTable(cols, headH, caption)
				continue
			}
			to := min(height, from+room)
			r.drawRow(cols, laid, from, to, zebra)
			from = to
			if from < height {
				r.continueTable(cols, headH, caption)
			}
		}
	}
	f.SetY(f.GetY() + 4)
}

// continueTable starts a new page and repeats the caption and header row there.
func (r *renderer) continueTable(cols []column, headH float64, caption string) {
	r.newPage()
	r.font("I", 9, greyText)
	r.f.SetX(marginL)
	r.f.CellFormat(contentW, 6, r.clean(caption)+" (continued)", "", 1, "L", false, 0, "")
	r.f.SetY(r.f.GetY() + 2)
	r.tableHeader(cols, headH)
}

func (r *renderer) headerHeight(cols []column) float64 {
	r.font("B", tblHeadPt, white)
	n := 1
	for _, c := range cols {
		n = max(n, len(r.split(c.title, c.width)))
	}
	return float64(n)*tblHeadH + 2*tblHeadPad
}

// tableHeader draws the header row in white on NHS Blue.
func (r *renderer) tableHeader(cols []column, h float64) {
	f := r.f
	y := f.GetY()
	r.fill(nhsBlue)
	f.Rect(marginL, y, contentW, h, "F")
	r.font("B", tblHeadPt, white)
	x := marginL
	for _, c := range cols {
		for k, line := range r.split(c.title, c.width) {
			f.SetXY(x, y+tblHeadPad+float64(k)*tblHeadH)
			f.CellFormat(c.width, tblHeadH, line, "", 0, "L", false, 0, "")
		}
		x += c.width
	}
	f.SetXY(marginL, y+h)
}

func (r *renderer) layCell(c cell, col column) laidCell {
	style := ""
	if col.bold {
		style = "B"
	}
	r.f.SetFont(family, style, tblSize)
	lines := r.split(c.text, col.width)
	main := len(lines)
	if c.sub != "" {
		r.f.SetFont(family, "", tblSize)
		lines = append(lines, r.split(c.sub, col.width)...)
	}
	return laidCell{lines: lines, main: main}
}

// drawRow draws lines [from, to) of a laid-out row at the current position.
func (r *renderer) drawRow(cols []column, laid []laidCell, from, to int, zebra bool) {
	f := r.f
	y := f.GetY()
	h := float64(to-from)*tblLineH + 2*tblPadY
	if zebra {
		r.fill(paleGrey)
		f.Rect(marginL, y, contentW, h, "F")
	}
	x := marginL
	for c, col := range cols {
		lc := laid[c]
		if c == 0 && from > 0 {
			// The rest of a row taller than a page: name the row again, in grey.
			r.font("", tblSize, greyText)
			for k := 0; k < to-from && k < len(lc.lines); k++ {
				f.SetXY(x, y+tblPadY+float64(k)*tblLineH)
				f.CellFormat(col.width, tblLineH, lc.lines[k], "", 0, "L", false, 0, "")
			}
			x += col.width
			continue
		}
		for k := from; k < to && k < len(lc.lines); k++ {
			switch {
			case k >= lc.main:
				r.font("", tblSize, greyText)
			case col.bold:
				r.font("B", tblSize, textColour)
			default:
				r.font("", tblSize, textColour)
			}
			f.SetXY(x, y+tblPadY+float64(k-from)*tblLineH)
			f.CellFormat(col.width, tblLineH, lc.lines[k], "", 0, "L", false, 0, "")
		}
		x += col.width
	}
	r.draw(ruleGrey)
	f.SetLineWidth(0.25)
	f.Line(marginL, y+h, marginL+contentW, y+h)
	f.SetXY(marginL, y+h)
}

// fitColumns scales the column widths so that the table fills the text width exactly.
func fitColumns(cols []column) []column {
	sum := 0.0
	for _, c := range cols {
		sum += c.width
	}
	out := make([]column, len(cols))
	for i, c := range cols {
		c.width = c.width * contentW / sum
		out[i] = c
	}
	return out
}
