// Package pdf renders a Development Schedule as the PDF the ESR central team publishes: an A4 cover, a
// contents page, the five sections with tables that break across pages under a repeated header row, and a
// running header and footer with the document reference, "Page X of Y" and the publication date.
//
// It takes a schedule.Document and nothing else, so a published version renders again from its stored
// snapshot, and the same Document always gives the same bytes. gofpdf (archived upstream, stable API)
// stays behind this package.
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

// Page geometry in millimetres (A4 portrait).
const (
	pageW    = 210.0
	pageH    = 297.0
	marginL  = 15.0
	marginR  = 15.0
	contentW = pageW - marginL - marginR
	bodyTop  = 26.0             // where content starts below the running header
	bodyEnd  = pageH - 20.0     // content never goes below this line; the footer sits under it
	cellPad  = 1.4              // left and right padding inside a table cell (gofpdf's cell margin)
	family   = "LiberationSans" // the embedded Liberation Sans
	creator  = "ESR Enhancement & NSIG Governance Portal"
	longDate = "2 January 2006"
	tblDate  = "2 Jan 2006"
)

type rgb struct{ r, g, b int }

// NHS identity colours.
var (
	nhsBlue     = rgb{0, 94, 184}    // #005EB8
	nhsDarkBlue = rgb{0, 48, 135}    // #003087
	textColour  = rgb{33, 43, 50}    // #212B32
	greyText    = rgb{76, 98, 114}   // #4C6272, secondary text
	paleGrey    = rgb{240, 244, 245} // #F0F4F5, zebra rows and panels
	ruleGrey    = rgb{216, 221, 224} // #D8DDE0, table rules
	white       = rgb{255, 255, 255}
	warmYellow  = rgb{255, 235, 59} // #FFEB3B, the draft mark
)

// Section titles, numbered in this order.
const (
	titleReleases       = "Releases in the coming period"
	titleJustifications = "Business justifications and decisions"
	titleDelivered      = "Changes delivered since the previous schedule"
	titleMoves          = "Changes moved between releases"
	titleHowToRaise     = "How to raise an enhancement"
	titleGaps           = "What this schedule cannot say"
)

// Render writes doc as a PDF to w.
func Render(w io.Writer, doc *schedule.Document) error {
	if doc == nil {
		return errors.New("render schedule: no document")
	}
	r := newRenderer(doc)
	r.cover()
	r.reserveContents()
	r.releases()
	r.justifications()
	r.delivered()
	r.moves()
	r.howToRaise()
	r.gaps()
	r.fillContents()
	r.footers()
	if err := r.f.Error(); err != nil {
		return fmt.Errorf("render schedule %s: %w", doc.Reference, err)
	}
	if err := r.f.Output(w); err != nil {
		return fmt.Errorf("render schedule %s: %w", doc.Reference, err)
	}
	return nil
}

// tocEntry is one line of the contents: a numbered section (level 0) or a release within section 1.
type tocEntry struct {
	number string
	title  string
	level  int
	page   int
	link   int
}

type renderer struct {
	f         *gofpdf.Fpdf
	doc       *schedule.Document
	title     string
	toc       []tocEntry
	tocFirst  int // the first contents page
	tocPages  int
	flowing   bool // a section has started: the next one follows on the same page when there is room
	report    bool // a report (RenderReport): no cover, so the first page has the running header and footer too
	available func(rune) bool
}

func newRenderer(doc *schedule.Document) *renderer {
	f := gofpdf.New("P", "mm", "A4", "")
	r := &renderer{f: f, doc: doc, title: doc.Title, available: glyphs().has}
	if r.title == "" {
		r.title = "ESR Development Schedule"
	}
	fonts := loadFonts()
	f.AddUTF8FontFromBytes(family, "", fonts.regular)
	f.AddUTF8FontFromBytes(family, "B", fonts.bold)
	f.AddUTF8FontFromBytes(family, "I", fonts.italic)
	// gofpdf writes its fonts (and other resources) in map order unless told to sort them: without this
	// the object numbers, and so the bytes, change from one render to the next.
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.SetMargins(marginL, bodyTop, marginR)
	f.SetAutoPageBreak(false, pageH-bodyEnd)
	f.SetCellMargin(cellPad)
	f.SetDisplayMode("fullwidth", "continuous")

	f.SetTitle(r.clean(r.fullTitle()), true)
	f.SetAuthor(r.clean(doc.Author), true)
	f.SetSubject(r.clean("The changes allocated to ESR releases in the coming period, the business justifications "+
		"raised in the previous six months with their decisions, and the changes delivered and moved since the previous schedule"), true)
	f.SetKeywords(r.clean(strings.Join([]string{"ESR", "Electronic Staff Record", "Development Schedule", doc.Reference, doc.QuarterLabel}, ", ")), true)
	f.SetCreator(creator, true)
	f.SetProducer(creator, true)
	// Fixed dates so that the same Document always gives the same bytes.
	stamp := doc.PublicationDate.UTC()
	if stamp.IsZero() {
		stamp = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	f.SetCreationDate(stamp)
	f.SetModificationDate(stamp)
	f.SetHeaderFuncMode(r.header, true)
	return r
}

// fullTitle is "ESR Development Schedule, Quarter 3 2026/27".
func (r *renderer) fullTitle() string {
	if r.doc.QuarterLabel == "" {
		return r.title
	}
	return r.title + ", " + r.doc.QuarterLabel
}

func (r *renderer) font(style string, size float64, c rgb) {
	r.f.SetFont(family, style, size)
	r.f.SetTextColor(c.r, c.g, c.b)
}

func (r *renderer) fill(c rgb) { r.f.SetFillColor(c.r, c.g, c.b) }
func (r *renderer) draw(c rgb) { r.f.SetDrawColor(c.r, c.g, c.b) }

// reenter makes the next font choice reach the page stream after SetPage: gofpdf skips a SetFont that
// matches its current state, which belongs to the page written last.
func (r *renderer) reenter(page int) {
	r.f.SetPage(page)
	r.f.SetFont(family, "", 1)
}

// header draws the running header on every page but the cover.
func (r *renderer) header() {
	if r.f.PageNo() == 1 && !r.report {
		return
	}
	r.font("B", 8.5, nhsBlue)
	r.f.SetXY(marginL, 10)
	r.f.CellFormat(contentW*0.6, 5, r.fit(r.fullTitle(), contentW*0.6-2*cellPad), "", 0, "L", false, 0, "")
	r.font("", 8.5, greyText)
	r.f.SetXY(marginL+contentW*0.6, 10)
	r.f.CellFormat(contentW*0.4, 5, r.fit(r.versionedReference(), contentW*0.4-2*cellPad), "", 0, "R", false, 0, "")
	r.draw(nhsBlue)
	r.f.SetLineWidth(0.4)
	r.f.Line(marginL, 16, marginL+contentW, 16)
	r.f.SetXY(marginL, bodyTop)
}

// versionedReference is "ESR-DS-2026-Q3, version 2".
func (r *renderer) versionedReference() string {
	if r.doc.Version <= 0 {
		return r.doc.Reference
	}
	return fmt.Sprintf("%s, version %d", r.doc.Reference, r.doc.Version)
}

// footers writes the footer of every page but the cover once the page count is known.
func (r *renderer) footers() {
	total := r.f.PageCount()
	published := "Published " + r.date(r.doc.PublicationDate, longDate)
	if r.report {
		published = "As at " + r.date(r.doc.PublicationDate, longDate)
	}
	if r.doc.Draft {
		published = "DRAFT: not published"
	}
	first := 2
	if r.report {
		first = 1
	}
	for n := first; n <= total; n++ {
		r.reenter(n)
		r.draw(ruleGrey)
		r.f.SetLineWidth(0.3)
		r.f.Line(marginL, pageH-15, marginL+contentW, pageH-15)
		r.font("", 8.5, greyText)
		r.f.SetXY(marginL, pageH-14)
		r.f.CellFormat(contentW/3, 5, r.fit(r.doc.Reference, contentW/3-2*cellPad), "", 0, "L", false, 0, "")
		r.f.CellFormat(contentW/3, 5, published, "", 0, "C", false, 0, "")
		r.font("B", 8.5, textColour)
		r.f.CellFormat(contentW/3, 5, fmt.Sprintf("Page %d of %d", n, total), "", 0, "R", false, 0, "")
	}
	r.f.SetPage(total)
}

func (r *renderer) date(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(layout)
}

// cover draws page 1.
func (r *renderer) cover() {
	f, doc := r.f, r.doc
	f.AddPage()
	// The blue band.
	r.fill(nhsBlue)
	f.Rect(0, 0, pageW, 112, "F")
	r.fill(nhsDarkBlue)
	f.Rect(0, 112, pageW, 3, "F")

	if doc.Draft {
		r.fill(warmYellow)
		r.font("B", 10, textColour)
		f.SetXY(pageW-marginL-52, 10)
		f.CellFormat(52, 8, "DRAFT: NOT PUBLISHED", "", 0, "C", true, 0, "")
	}
	r.font("B", 11, white)
	f.SetXY(marginL, 22)
	f.CellFormat(contentW, 6, "NHS Electronic Staff Record", "", 1, "L", false, 0, "")
	if doc.Author != "" {
		r.font("", 10, white)
		f.SetX(marginL)
		f.CellFormat(contentW, 5, r.clean(doc.Author), "", 1, "L", false, 0, "")
	}

	r.font("B", 30, white)
	f.SetXY(marginL, 52)
	for _, line := range r.split(r.title, contentW) {
		f.SetX(marginL)
		f.CellFormat(contentW, 13, line, "", 1, "L", false, 0, "")
	}
	if doc.QuarterLabel != "" {
		r.font("", 20, white)
		f.SetX(marginL)
		f.CellFormat(contentW, 10, r.clean(doc.QuarterLabel), "", 1, "L", false, 0, "")
	}
	if !doc.Quarter.Start().IsZero() && doc.Quarter.Q != 0 {
		r.font("", 12, white)
		f.SetX(marginL)
		period := doc.Quarter.Start().Format("January") + " to " + doc.Quarter.End().Format("January 2006")
		f.CellFormat(contentW, 7, period, "", 1, "L", false, 0, "")
	}

	// The document's particulars.
	y := 128.0
	rows := [][2]string{
		{"Published", r.date(doc.PublicationDate, longDate)},
		{"Document reference", doc.Reference},
		{"Version", versionText(doc.Version)},
		{"Published by", doc.Author},
	}
	for _, row := range rows {
		if row[1] == "" {
			continue
		}
		r.font("", 11, greyText)
		f.SetXY(marginL, y)
		f.CellFormat(52, 7, row[0], "", 0, "L", false, 0, "")
		r.font("B", 11, textColour)
		f.CellFormat(contentW-52, 7, r.clean(row[1]), "", 0, "L", false, 0, "")
		y += 8
		r.draw(ruleGrey)
		f.SetLineWidth(0.3)
		f.Line(marginL, y, marginL+contentW, y)
		y += 1
	}

	// What changed since the previous version of the quarter, as inset text; a note too long for the
	// cover goes on over the next page.
	var rest []string
	if doc.Version > 1 && strings.TrimSpace(doc.ChangeNote) != "" {
		y += 8
		r.font("", 10.5, textColour)
		lines := r.split(doc.ChangeNote, contentW-10)
		if room := int((pageH - 48 - y - 16) / 5.2); len(lines) > room {
			lines, rest = lines[:room-1], lines[room-1:]
		}
		h := 12 + float64(len(lines))*5.2 + 4
		if len(rest) > 0 {
			h += 5.2
		}
		r.fill(paleGrey)
		f.Rect(marginL, y, contentW, h, "F")
		r.fill(nhsBlue)
		f.Rect(marginL, y, 1.6, h, "F")
		r.font("B", 11.5, textColour)
		f.SetXY(marginL+6, y+4)
		f.CellFormat(contentW-10, 6, r.changeNoteTitle(), "", 1, "L", false, 0, "")
		r.font("", 10.5, textColour)
		f.SetY(y + 11)
		for _, line := range lines {
			f.SetX(marginL + 6)
			f.CellFormat(contentW-10, 5.2, line, "", 1, "L", false, 0, "")
		}
		if len(rest) > 0 {
			r.font("I", 10.5, textColour)
			f.SetX(marginL + 6)
			f.CellFormat(contentW-10, 5.2, "Continued on the next page.", "", 1, "L", false, 0, "")
		}
	}

	// What the document is, at the foot of the cover.
	r.font("", 9.5, greyText)
	about := "The Development Schedule is published every quarter. It lists the changes allocated to each ESR release " +
		"in the coming period, every business justification raised in the previous six months with its decision, " +
		"and the changes delivered and moved between releases since the previous schedule."
	lines := r.split(about, contentW)
	f.SetY(pageH - 22 - float64(len(lines))*4.6)
	for _, line := range lines {
		f.SetX(marginL)
		f.CellFormat(contentW, 4.6, line, "", 1, "L", false, 0, "")
	}

	if len(rest) > 0 {
		r.newPage()
		r.font("B", 14, textColour)
		f.CellFormat(contentW, 8, r.changeNoteTitle()+" (continued)", "", 1, "L", false, 0, "")
		f.SetY(f.GetY() + 2)
		for _, line := range rest {
			if f.GetY()+5.2 > bodyEnd {
				r.newPage()
			}
			r.font("", 10.5, textColour)
			f.SetX(marginL)
			f.CellFormat(contentW-10, 5.2, line, "", 1, "L", false, 0, "")
		}
	}
}

func (r *renderer) changeNoteTitle() string {
	return fmt.Sprintf("What changed in version %d", r.doc.Version)
}

func versionText(v int) string {
	switch {
	case v <= 0:
		return ""
	case v == 1:
		return "1 (first publication for the quarter)"
	default:
		return fmt.Sprintf("%d (replaces version %d)", v, v-1)
	}
}

// Contents layout.
const (
	tocTitleH  = 22.0
	tocLineH   = 8.0
	tocSubH    = 6.5
	tocMoreH   = 14.0 // the "Contents (continued)" title of a further contents page
	tocSummary = 70.0 // room kept under the contents for the summary
)

// tocItems is the contents in order, before page numbers are known.
func (r *renderer) tocItems() []tocEntry {
	items := []tocEntry{{number: "1", title: titleReleases}}
	for _, rel := range r.doc.Releases {
		items = append(items, tocEntry{title: releaseHeading(rel), level: 1})
	}
	items = append(items,
		tocEntry{number: "2", title: titleJustifications},
		tocEntry{number: "3", title: titleDelivered},
		tocEntry{number: "4", title: titleMoves},
		tocEntry{number: "5", title: titleHowToRaise},
	)
	if len(r.doc.Gaps) > 0 {
		items = append(items, tocEntry{number: "6", title: titleGaps})
	}
	for i := range items {
		items[i].link = r.f.AddLink()
	}
	return items
}

func entryHeight(e tocEntry) float64 {
	if e.level == 0 {
		return tocLineH
	}
	return tocSubH
}

// reserveContents adds the pages the contents will take; fillContents writes them once every section's
// page is known.
func (r *renderer) reserveContents() {
	r.toc = r.tocItems()
	pages := 1
	y := bodyTop + tocTitleH
	for _, e := range r.toc {
		if y+entryHeight(e) > bodyEnd {
			pages++
			y = bodyTop + tocMoreH
		}
		y += entryHeight(e)
	}
	if y+tocSummary > bodyEnd {
		pages++
	}
	r.tocFirst = r.f.PageCount() + 1
	r.tocPages = pages
	for i := 0; i < pages; i++ {
		r.f.AddPage()
		if i == 0 {
			r.font("B", 22, nhsBlue)
			r.f.Bookmark("Contents", 0, -1)
		}
	}
}

func (r *renderer) fillContents() {
	f := r.f
	page := r.tocFirst
	r.reenter(page)
	r.font("B", 22, nhsBlue)
	f.SetXY(marginL, bodyTop)
	f.CellFormat(contentW, 12, "Contents", "", 1, "L", false, 0, "")
	y := bodyTop + tocTitleH
	for _, e := range r.toc {
		h := entryHeight(e)
		if y+h > bodyEnd {
			page++
			r.reenter(page)
			r.tocContinued()
			y = bodyTop + tocMoreH
		}
		r.tocLine(e, y, h)
		y += h
	}
	if y+tocSummary > bodyEnd {
		page++
		r.reenter(page)
		r.tocContinued()
		y = bodyTop + tocMoreH
	}
	r.summary(y + 8)
}

func (r *renderer) tocContinued() {
	r.font("B", 14, nhsBlue)
	r.f.SetXY(marginL, bodyTop)
	r.f.CellFormat(contentW, 8, "Contents (continued)", "", 1, "L", false, 0, "")
}

// tocLine writes one contents entry: number, title, dot leader and page number, linked to the section.
func (r *renderer) tocLine(e tocEntry, y, h float64) {
	f := r.f
	numW, indent, pageNoW := 10.0, 0.0, 14.0
	size, style, colour := 12.0, "B", textColour
	if e.level > 0 {
		indent, size, style, colour = numW, 10.5, "", greyText
	}
	pageNo := fmt.Sprint(e.page)
	r.font(style, size, colour)
	x := marginL + indent
	f.SetXY(x, y)
	if e.level == 0 {
		r.font("B", size, nhsBlue)
		f.CellFormat(numW, h, e.number, "", 0, "L", false, 0, "")
		r.font(style, size, colour)
	}
	titleW := contentW - indent - pageNoW
	if e.level == 0 {
		titleW -= numW
	}
	title := r.fit(e.title, titleW-8)
	f.CellFormat(f.GetStringWidth(title)+2*cellPad, h, title, "", 0, "L", false, 0, "")
	// Dot leader up to the page number.
	lx := f.GetX() + 1
	rx := marginL + contentW - pageNoW
	r.draw(ruleGrey)
	f.SetLineWidth(0.3)
	f.SetDashPattern([]float64{0.3, 1.2}, 0)
	if rx > lx {
		f.Line(lx, y+h*0.68, rx, y+h*0.68)
	}
	f.SetDashPattern([]float64{}, 0)
	f.SetXY(rx, y)
	r.font(style, size, colour)
	f.CellFormat(pageNoW, h, pageNo, "", 0, "R", false, 0, "")
	f.Link(marginL, y, contentW, h, e.link)
}

// summary is "This schedule at a glance": the counts behind each section.
func (r *renderer) summary(y float64) {
	f, doc := r.f, r.doc
	changes := 0
	for _, rel := range doc.Releases {
		changes += len(rel.Changes)
	}
	outcomes := map[string]int{}
	for _, j := range doc.Justifications {
		outcomes[j.Outcome]++
	}
	undecided := len(doc.Justifications) - outcomes["Approved"] - outcomes["Deferred"] - outcomes["Not approved"]
	lines := []string{
		fmt.Sprintf("%s allocated to %s in the coming period", plural(changes, "change", "changes"), plural(len(doc.Releases), "release", "releases")),
		fmt.Sprintf("%s raised since %s: %d approved, %d deferred, %d not approved, %d not yet decided",
			plural(len(doc.Justifications), "business justification", "business justifications"),
			r.date(doc.JustificationsFrom, longDate), outcomes["Approved"], outcomes["Deferred"], outcomes["Not approved"], undecided),
		plural(len(doc.Delivered), "change", "changes") + " delivered since the previous schedule",
		plural(len(doc.Moves), "change", "changes") + " moved between releases",
	}
	if doc.JustificationsFrom.IsZero() {
		lines[1] = fmt.Sprintf("%s: %d approved, %d deferred, %d not approved, %d not yet decided",
			plural(len(doc.Justifications), "business justification", "business justifications"),
			outcomes["Approved"], outcomes["Deferred"], outcomes["Not approved"], undecided)
	}
	r.font("", 10.5, textColour)
	var wrapped [][]string
	h := 14.0
	for _, l := range lines {
		w := r.split(l, contentW-16)
		wrapped = append(wrapped, w)
		h += float64(len(w))*5.4 + 1.2
	}
	r.fill(paleGrey)
	f.Rect(marginL, y, contentW, h, "F")
	r.fill(nhsBlue)
	f.Rect(marginL, y, 1.6, h, "F")
	r.font("B", 12, textColour)
	f.SetXY(marginL+6, y+4)
	f.CellFormat(contentW-10, 6, "This schedule at a glance", "", 1, "L", false, 0, "")
	yy := y + 11.5
	for _, w := range wrapped {
		r.fill(nhsBlue)
		f.Circle(marginL+8.5, yy+2.7, 0.8, "F")
		r.font("", 10.5, textColour)
		for _, l := range w {
			f.SetXY(marginL+10, yy)
			f.CellFormat(contentW-16, 5.4, l, "", 0, "L", false, 0, "")
			yy += 5.4
		}
		yy += 1.2
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// sectionRoom is the room a section needs at the foot of a page to start there: its heading, its opening
// sentence and a table's header row with a row or two under it. A short section follows the one before on
// the same page; a longer one starts a new page rather than leave its heading alone at the foot.
const sectionRoom = 62.0

// section starts a numbered section, on the same page as the section before when there is room, and
// records where it is for the contents.
func (r *renderer) section(index int, number, title string) {
	r.sectionNeeding(index, number, title, sectionRoom)
}

// sectionNeeding starts a section that needs room millimetres under its heading to start on this page:
// a section of text alone asks for all of its height, so that a short one is never split.
func (r *renderer) sectionNeeding(index int, number, title string, room float64) {
	f := r.f
	if r.flowing && f.GetY()+10+room <= bodyEnd {
		f.SetY(f.GetY() + 8)
		r.draw(ruleGrey)
		f.SetLineWidth(0.3)
		f.Line(marginL, f.GetY()-4, marginL+contentW, f.GetY()-4)
	} else {
		f.AddPage()
		f.SetXY(marginL, bodyTop)
	}
	r.flowing = true
	r.font("B", 18, nhsBlue)
	f.SetX(marginL)
	y := f.GetY()
	f.Bookmark(number+"  "+title, 0, y)
	r.anchor(index, y)
	f.CellFormat(contentW, 10, r.clean(number+"   "+title), "", 1, "L", false, 0, "")
	f.SetY(f.GetY() + 1.5)
}

// anchor records the current page as the target of contents entry index.
func (r *renderer) anchor(index int, y float64) {
	r.toc[index].page = r.f.PageNo()
	r.f.SetLink(r.toc[index].link, y, -1)
}

// tocIndex finds the contents entry with the given section number.
func (r *renderer) tocIndex(number string) int {
	for i, e := range r.toc {
		if e.number == number {
			return i
		}
	}
	return 0
}

// paragraph writes wrapped text, breaking pages between lines.
func (r *renderer) paragraph(text, style string, size float64, colour rgb, after float64) {
	f := r.f
	lh := size * 0.3528 * 1.45
	r.font(style, size, colour)
	for _, line := range r.split(text, contentW) {
		if f.GetY()+lh > bodyEnd {
			r.newPage()
			r.font(style, size, colour)
		}
		f.SetX(marginL)
		f.CellFormat(contentW, lh, line, "", 1, "L", false, 0, "")
	}
	f.SetY(f.GetY() + after)
}

// textHeight is how tall paragraphs are in the regular font at size, with after millimetres below
// each, at most a page (a longer text goes where there is room and breaks between lines).
func (r *renderer) textHeight(paras []string, size, after float64) float64 {
	lh := size * 0.3528 * 1.45
	r.f.SetFont(family, "", size)
	h := 0.0
	for _, p := range paras {
		h += float64(len(r.split(p, contentW)))*lh + after
	}
	return min(h, bodyEnd-bodyTop-20)
}

func (r *renderer) newPage() {
	r.f.AddPage()
	r.f.SetXY(marginL, bodyTop)
}

// ensure starts a new page unless h millimetres remain on this one.
func (r *renderer) ensure(h float64) {
	if r.f.GetY()+h > bodyEnd {
		r.newPage()
	}
}

func releaseHeading(rel schedule.Release) string {
	name := strings.TrimSpace(rel.Name)
	plain := fmt.Sprintf("Release %d", rel.Number)
	if name == "" || strings.EqualFold(name, plain) {
		return plain + " (" + rel.Label() + ")"
	}
	return rel.Label() + ": " + name
}

func (r *renderer) releases() {
	doc := r.doc
	r.section(r.tocIndex("1"), "1", titleReleases)
	intro := "The ESR releases planned for the coming period and the changes allocated to each, with each change's status on " +
		r.date(doc.PublicationDate, longDate) + ". Allocations can still move between releases; section 4 lists the moves since the previous schedule."
	r.paragraph(intro, "", 10, textColour, 4)
	if len(doc.Releases) == 0 {
		r.paragraph("No releases are planned for the coming period.", "", 10, textColour, 4)
	}
	cols := releaseColumns()
	// One set of widths for every release's table, worked out from all their rows.
	var all []row
	for _, rel := range doc.Releases {
		all = append(all, releaseRows(rel)...)
	}
	cols = r.fitColumns(cols, all)
	for i, rel := range doc.Releases {
		// Keep the heading with its table header and first row, or with its "no changes" sentence.
		if len(rel.Changes) == 0 {
			r.ensure(28)
		} else {
			r.ensure(42)
		}
		if i > 0 {
			r.f.SetY(r.f.GetY() + 4)
		}
		heading := releaseHeading(rel)
		r.font("B", 14, textColour)
		y := r.f.GetY()
		r.f.Bookmark(r.clean(heading), 1, y)
		r.anchor(r.tocIndex("1")+1+i, y)
		r.paragraph(heading, "B", 14, textColour, 0.5)
		var meta []string
		if !rel.TargetDate.IsZero() {
			meta = append(meta, "Target date "+r.date(rel.TargetDate, longDate))
		}
		if rel.Status != "" {
			meta = append(meta, "Status: "+rel.Status)
		}
		meta = append(meta, plural(len(rel.Changes), "change", "changes"))
		r.paragraph(strings.Join(meta, "  ·  "), "", 9.5, greyText, 2)
		if len(rel.Changes) == 0 {
			r.paragraph("No changes are allocated to this release yet.", "I", 10, textColour, 4)
			continue
		}
		r.table(cols, releaseRows(rel), heading)
	}
}

func releaseColumns() []column {
	return []column{
		{title: "Reference", bold: true, nowrap: true},
		{title: "Title"},
		{title: "Functional area"},
		{title: "NSIG"},
		{title: "Requesting organisation"},
		{title: "Status"},
	}
}

func releaseRows(rel schedule.Release) []row {
	rows := make([]row, len(rel.Changes))
	for k, c := range rel.Changes {
		rows[k] = row{
			{text: c.Reference},
			{text: c.Title},
			{text: c.FunctionalArea},
			{text: c.NSIG},
			{text: c.Organisation, sub: c.Region},
			{text: c.Status},
		}
	}
	return rows
}

func (r *renderer) justifications() {
	doc := r.doc
	r.section(r.tocIndex("2"), "2", titleJustifications)
	var intro string
	if doc.JustificationsFrom.IsZero() {
		intro = "Every business justification raised up to " + r.date(doc.PublicationDate, longDate)
	} else {
		intro = "Every business justification raised between " + r.date(doc.JustificationsFrom, longDate) +
			" and " + r.date(doc.PublicationDate, longDate)
	}
	intro += ", with the central team's latest decision by then and its rationale, or where the request stood on that date while no decision had been made."
	r.paragraph(intro, "", 10, textColour, 4)
	if len(doc.Justifications) == 0 {
		r.paragraph("No business justifications were raised in this period.", "I", 10, textColour, 4)
		return
	}
	cols := []column{
		{title: "Reference", bold: true, nowrap: true},
		{title: "Title"},
		{title: "Organisation"},
		{title: "Raised on", nowrap: true},
		{title: "Outcome"},
		{title: "Decided on", nowrap: true},
		{title: "Rationale"},
	}
	rows := make([]row, len(doc.Justifications))
	for k, j := range doc.Justifications {
		rows[k] = row{
			{text: j.Reference},
			{text: j.Title},
			{text: j.Organisation, sub: j.Region},
			{text: r.date(j.RaisedOn, tblDate)},
			{text: j.Outcome},
			{text: r.date(j.DecisionDate, tblDate)},
			{text: j.Rationale},
		}
	}
	r.table(cols, rows, titleJustifications)
}

func (r *renderer) delivered() {
	doc := r.doc
	since := ", when the previous schedule was published"
	if !doc.SinceSchedule {
		since = " (three months before this schedule: no earlier schedule had been published)"
	}
	r.section(r.tocIndex("3"), "3", titleDelivered)
	var intro string
	if doc.Since.IsZero() {
		intro = "The changes delivered in ESR releases up to " + r.date(doc.PublicationDate, longDate) + "."
	} else {
		intro = "The changes delivered in ESR releases after " + r.date(doc.Since, longDate) +
			since + ", and up to " + r.date(doc.PublicationDate, longDate) + "."
	}
	r.paragraph(intro, "", 10, textColour, 4)
	if len(doc.Delivered) == 0 {
		r.paragraph("No changes were delivered in this period.", "I", 10, textColour, 4)
		return
	}
	cols := []column{
		{title: "Reference", bold: true, nowrap: true},
		{title: "Title"},
		{title: "Release", nowrap: true},
		{title: "Delivered on", nowrap: true},
		{title: "Requesting organisation"},
	}
	rows := make([]row, len(doc.Delivered))
	for k, c := range doc.Delivered {
		rows[k] = row{
			{text: c.Reference},
			{text: c.Title},
			{text: c.Release},
			{text: r.date(c.DeliveredOn, tblDate)},
			{text: c.Organisation, sub: c.Region},
		}
	}
	r.table(cols, rows, titleDelivered)
}

func (r *renderer) moves() {
	doc := r.doc
	r.section(r.tocIndex("4"), "4", titleMoves)
	var intro string
	if doc.Since.IsZero() {
		intro = "The changes moved from one release to another up to " + r.date(doc.PublicationDate, longDate) + ", and why."
	} else {
		intro = "The changes moved from one release to another after " + r.date(doc.Since, longDate) +
			" and up to " + r.date(doc.PublicationDate, longDate) + ", and why."
	}
	r.paragraph(intro, "", 10, textColour, 4)
	if len(doc.Moves) == 0 {
		r.paragraph("No changes were moved between releases in this period.", "I", 10, textColour, 4)
		return
	}
	cols := []column{
		{title: "Reference", bold: true, nowrap: true},
		{title: "Title"},
		{title: "From", nowrap: true},
		{title: "To", nowrap: true},
		{title: "Moved on", nowrap: true},
		{title: "Reason"},
	}
	rows := make([]row, len(doc.Moves))
	for k, m := range doc.Moves {
		rows[k] = row{
			{text: m.Reference},
			{text: m.Title},
			{text: m.From},
			{text: m.To},
			{text: r.date(m.MovedOn, tblDate)},
			{text: m.Reason},
		}
	}
	r.table(cols, rows, titleMoves)
}

func (r *renderer) howToRaise() {
	doc := r.doc
	r.sectionNeeding(r.tocIndex("5"), "5", titleHowToRaise, r.textHeight(doc.HowToRaise, 10.5, 3.5))
	paras := 0
	for _, p := range doc.HowToRaise {
		if strings.TrimSpace(p) == "" {
			continue
		}
		r.paragraph(p, "", 10.5, textColour, 3.5)
		paras++
	}
	if paras == 0 {
		r.paragraph("Contact the ESR central team to raise an enhancement.", "", 10.5, textColour, 3.5)
	}
}

// gaps lists what the history could not tell about the publication date, when there is anything.
func (r *renderer) gaps() {
	if len(r.doc.Gaps) == 0 {
		return
	}
	intro := "Every fact in this schedule is as it stood at the end of " + r.date(r.doc.PublicationDate, longDate) +
		". The portal's history does not tell the following for that day, so the tables say \"Not recorded\" rather than give a later value."
	paras := []string{intro}
	for _, g := range r.doc.Gaps {
		paras = append(paras, "•  "+g)
	}
	r.sectionNeeding(r.tocIndex("6"), "6", titleGaps, r.textHeight(paras, 10, 3))
	for i, p := range paras {
		after := 1.5
		if i == 0 {
			after = 3
		}
		r.paragraph(p, "", 10, textColour, after)
	}
}
