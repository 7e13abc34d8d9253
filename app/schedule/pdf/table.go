package pdf

import (
	"math"
	"slices"
	"strings"
)

// Table layout in millimetres and points.
const (
	tblSize    = 8.0 // body text, points
	tblLineH   = 3.8 // line height of body text
	tblPadY    = 1.7 // space above and below the text in a row
	tblHeadPt  = 8.0
	tblHeadH   = 3.8
	tblHeadPad = 2.0
)

// column is one table column: its heading, whether its text is bold (the reference) or kept on one line
// (references, dates, release labels), and its width, which fitColumns works out from the content.
type column struct {
	title  string
	bold   bool
	nowrap bool
	width  float64
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
	if len(cols) > 0 && cols[0].width == 0 {
		cols = r.fitColumns(cols, rows)
	}
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

// fitColumns works out the column widths from the content, as a browser lays out a table: every column is
// at least as wide as its longest word (so no word is ever split) and a column kept on one line as wide as
// its longest text; the rest of the text width is handed out a millimetre at a time to the column where it
// shortens the table most (the sum of its rows' heights, each row as tall as its most wrapped cell), so
// that a long rationale and a long title share the room instead of one wrapping to a dozen lines beside
// the other's one. Only when the longest words alone are wider than the page are the columns narrowed in
// proportion (and a word then split).
func (r *renderer) fitColumns(cols []column, rows []row) []column {
	n := len(cols)
	least := make([]float64, n)
	// text[k][i] are the widths of the parts of row k's cell i: the main text's lines, then the sub-text's.
	text := make([][][]float64, len(rows))
	measure := func(i int, style string, size float64, s string, into *[]float64) {
		r.f.SetFont(family, style, size)
		for _, line := range strings.Split(r.clean(s), "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if into != nil {
				*into = append(*into, r.f.GetStringWidth(line))
			}
			for _, word := range strings.Fields(line) {
				least[i] = max(least[i], r.f.GetStringWidth(word)+2*cellPad+0.2)
			}
		}
	}
	for i, c := range cols {
		var head []float64
		measure(i, "B", tblHeadPt, c.title, &head)
		style := ""
		if c.bold {
			style = "B"
		}
		for k, rw := range rows {
			if text[k] == nil {
				text[k] = make([][]float64, n)
			}
			if i < len(rw) {
				measure(i, style, tblSize, rw[i].text, &text[k][i])
				measure(i, "", tblSize, rw[i].sub, &text[k][i])
			}
		}
		if c.nowrap {
			for _, w := range head {
				least[i] = max(least[i], w+2*cellPad+0.2)
			}
			for k := range rows {
				for _, w := range text[k][i] {
					least[i] = max(least[i], w+2*cellPad+0.2)
				}
			}
		}
	}
	out := slices.Clone(cols)
	sumLeast := 0.0
	for _, w := range least {
		sumLeast += w
	}
	if sumLeast >= contentW {
		for i := range out {
			out[i].width = least[i] * contentW / sumLeast
		}
		return out
	}
	widths := slices.Clone(least)
	// lines is how many lines cell i of row k takes at width w, and spread how full its lines are (to
	// choose between columns when a millimetre shortens no row).
	lines := func(k, i int, w float64) (int, float64) {
		avail := w - 2*cellPad
		total, spread := 0, 0.0
		for _, t := range text[k][i] {
			total += max(1, int(math.Ceil(t/avail-0.001)))
			spread += t / avail
		}
		return total, spread
	}
	// cur[k][i] is how many lines cell i of row k takes now; first and second are each row's two largest
	// counts and firstCol the column of the first, so that a row's height without one column is known at once.
	cur := make([][]int, len(rows))
	first, second, firstCol := make([]int, len(rows)), make([]int, len(rows)), make([]int, len(rows))
	rank := func(k int) {
		first[k], second[k], firstCol[k] = 0, 0, -1
		for i, l := range cur[k] {
			switch {
			case l > first[k]:
				first[k], second[k], firstCol[k] = l, first[k], i
			case l > second[k]:
				second[k] = l
			}
		}
	}
	for k := range rows {
		cur[k] = make([]int, n)
		for i := range cols {
			cur[k][i], _ = lines(k, i, widths[i])
		}
		rank(k)
	}
	const step = 1.0
	for spare := contentW - sumLeast; spare > 0; spare -= step {
		give := min(step, spare)
		best, bestGain, bestSpread := -1, 0, 0.0
		for i, c := range cols {
			if c.nowrap {
				continue
			}
			gain, spread := 0, 0.0
			for k := range rows {
				others := first[k]
				if firstCol[k] == i {
					others = second[k]
				}
				after, s := lines(k, i, widths[i]+give)
				gain += max(others, cur[k][i]) - max(others, after)
				spread += s
			}
			if best < 0 || gain > bestGain || (gain == bestGain && spread > bestSpread) {
				best, bestGain, bestSpread = i, gain, spread
			}
		}
		if best < 0 {
			best = n - 1
		}
		widths[best] += give
		for k := range rows {
			cur[k][best], _ = lines(k, best, widths[best])
			rank(k)
		}
	}
	for i := range out {
		out[i].width = widths[i]
	}
	return out
}
