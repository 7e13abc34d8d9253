package pdf

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/schedule"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/golden.txt from the rendered sample")
	sample = flag.String("sample", "", "also write the sample schedule PDF to this file")
)

// goldenItems is the size of the sample behind the golden text: enough rows for every table to span pages.
const goldenItems = 160

func render(t testing.TB, doc *schedule.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, doc); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.Bytes()
}

// needPoppler fails the test when the tools that read a PDF back are missing: make test needs them
// (.ci/run installs them), and a test that skips itself would count as passed without being run.
func needPoppler(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: the PDF tests read the PDF back with poppler-utils (apt-get install poppler-utils)", tool)
		}
	}
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "schedule.pdf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// pages is the text of each page as pdftotext reads it.
func pages(t *testing.T, path string) []string {
	t.Helper()
	text := run(t, "pdftotext", "-enc", "UTF-8", path, "-")
	ps := strings.Split(text, "\f")
	if len(ps) > 0 && strings.TrimSpace(ps[len(ps)-1]) == "" {
		ps = ps[:len(ps)-1]
	}
	return ps
}

var pdfinfoPages = regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`)

func pageCount(t *testing.T, path string) int {
	t.Helper()
	m := pdfinfoPages.FindStringSubmatch(run(t, "pdfinfo", path))
	if m == nil {
		t.Fatal("pdfinfo shows no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestRenderReadsBackEveryReferenceAndHeading(t *testing.T) {
	needPoppler(t)
	doc := sampleDocument(goldenItems)
	data := render(t, doc)
	if *sample != "" {
		if err := os.WriteFile(*sample, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := writeTemp(t, data)
	ps := pages(t, path)
	total := pageCount(t, path)
	if len(ps) != total {
		t.Fatalf("pdftotext read %d pages, pdfinfo counts %d", len(ps), total)
	}
	if total < 10 {
		t.Fatalf("the sample should take well over a page per table, got %d pages", total)
	}
	all := strings.Join(ps, "\n")
	for _, ref := range references(doc) {
		if !strings.Contains(all, ref) {
			t.Errorf("reference %s is not in the text", ref)
		}
	}
	for _, want := range []string{
		"ESR Development Schedule", "Quarter 3 2026/27", "21 November 2026", "ESR-DS-2026-Q3", "Contents",
		"What changed in version 2", "ESR Central Team",
		"1 " + titleReleases, "2 " + titleJustifications, "3 " + titleDelivered, "4 " + titleMoves, "5 " + titleHowToRaise,
		"Release 72 (R72)", "Release 73 (R73)", "Release 74 (R74)", "No changes are allocated to this release yet.",
		"Betsi Cadwaladr University Health Board", "Ysbyty Gwynedd", "Guy’s and St Thomas’", "£12,500", "ŵ and ŷ", "protégé",
		"interface file – deferred", "raised between 21 May 2026 and 21 November 2026",
	} {
		if !strings.Contains(squash(all), want) {
			t.Errorf("the text does not contain %q", want)
		}
	}
	for i, p := range ps {
		n := i + 1
		footer := fmt.Sprintf("Page %d of %d", n, total)
		if n == 1 {
			if strings.Contains(p, "Page 1 of") {
				t.Error("the cover has a page number")
			}
			continue
		}
		if !strings.Contains(p, footer) {
			t.Errorf("page %d does not say %q", n, footer)
		}
		if !strings.Contains(p, "Published 21 November 2026") || !strings.Contains(p, "ESR-DS-2026-Q3") {
			t.Errorf("page %d lacks the publication date or the document reference in its header and footer", n)
		}
	}
}

// squash folds runs of white space, as pdftotext breaks lines where the PDF wraps them.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestRenderContentsPageNumbers checks each contents entry against the page its heading is really on,
// with a short contents and with one long enough to take two pages.
func TestRenderContentsPageNumbers(t *testing.T) {
	needPoppler(t)
	t.Run("one page", func(t *testing.T) { checkContents(t, sampleDocument(goldenItems), 1) })
	t.Run("two pages", func(t *testing.T) {
		doc := sampleDocument(300)
		for n := 75; n < 115; n++ {
			rel := schedule.Release{Number: n, Name: fmt.Sprintf("Release %d", n), TargetDate: day(2027+(n-75)/4, time.March, 26), Status: "Planned"}
			if n%3 == 0 {
				rel.Changes = doc.Releases[0].Changes[:n%7+1]
			}
			doc.Releases = append(doc.Releases, rel)
		}
		checkContents(t, doc, 2)
	})
}

func checkContents(t *testing.T, doc *schedule.Document, contentsPages int) {
	ps := pages(t, writeTemp(t, render(t, doc)))
	hasLine := func(page, line string) bool { return slices.Contains(strings.Split(page, "\n"), line) }
	start := slices.IndexFunc(ps, func(p string) bool { return hasLine(p, "Contents") })
	if start < 0 {
		t.Fatal("no page is headed Contents")
	}
	first := start + 1 // the first page after the contents, counting from 0
	for first < len(ps) && hasLine(ps[first], "Contents (continued)") {
		first++
	}
	if got := first - start; got != contentsPages {
		t.Fatalf("the contents takes %d pages, want %d", got, contentsPages)
	}
	var contents string
	for _, p := range ps[start:first] {
		contents += " " + squash(p)
	}
	headings := []string{"1 " + titleReleases}
	for _, rel := range doc.Releases {
		headings = append(headings, releaseHeading(rel))
	}
	headings = append(headings, "2 "+titleJustifications, "3 "+titleDelivered, "4 "+titleMoves, "5 "+titleHowToRaise)
	last := first
	for _, h := range headings {
		m := regexp.MustCompile(regexp.QuoteMeta(h) + ` (\d+)`).FindStringSubmatch(contents)
		if m == nil {
			t.Errorf("the contents has no page number for %q: %s", h, contents)
			continue
		}
		listed, _ := strconv.Atoi(m[1])
		actual := 0
		for i := first; i < len(ps); i++ {
			// A table carried over repeats its heading as "(continued)"; that is not where it starts.
			if strings.Contains(squash(ps[i]), h) && !strings.Contains(ps[i], h+" (continued)") {
				actual = i + 1
				break
			}
		}
		if listed != actual {
			t.Errorf("the contents puts %q on page %d, it is on page %d", h, listed, actual)
		}
		if listed < last {
			t.Errorf("%q comes before the entry above it (page %d < %d)", h, listed, last)
		}
		last = listed
	}
}

func TestRenderGolden(t *testing.T) {
	needPoppler(t)
	got := strings.Join(pages(t, writeTemp(t, render(t, sampleDocument(goldenItems)))), "\f")
	golden := filepath.Join("testdata", "golden.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (regenerate with go test ./app/schedule/pdf -update)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("the text differs from %s at line %d:\n got: %q\nwant: %q\n(regenerate with go test ./app/schedule/pdf -update if the change is meant)", golden, i+1, g, w)
			}
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	doc := sampleDocument(goldenItems)
	first := render(t, doc)
	for i := 0; i < 4; i++ {
		if again := render(t, doc); !bytes.Equal(first, again) {
			t.Fatalf("render %d gave different bytes (%d and %d bytes)", i+2, len(first), len(again))
		}
	}
	if !bytes.Contains(first, []byte("/CreationDate (D:20261121000000)")) || !bytes.Contains(first, []byte("/ModDate (D:20261121000000)")) {
		t.Error("the creation and modification dates are not the publication date")
	}
	other := sampleDocument(goldenItems)
	other.Version = 3
	if bytes.Equal(first, render(t, other)) {
		t.Error("a different document gave the same bytes")
	}
}

func TestRenderMetadata(t *testing.T) {
	needPoppler(t)
	info := run(t, "pdfinfo", writeTemp(t, render(t, sampleDocument(20))))
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^Title:\s+ESR Development Schedule, Quarter 3 2026/27$`),
		regexp.MustCompile(`(?m)^Author:\s+ESR Central Team$`),
		regexp.MustCompile(`(?m)^Subject:\s+The changes allocated to ESR releases in the coming period`),
		regexp.MustCompile(`(?m)^Creator:\s+ESR Enhancement & NSIG Governance Portal$`),
		regexp.MustCompile(`(?m)^Keywords:\s+.*ESR-DS-2026-Q3`),
		regexp.MustCompile(`(?m)^CreationDate:\s+Sat Nov 21 00:00:00 2026`),
		regexp.MustCompile(`(?m)^Page size:\s+595\.28 x 841\.89 pts \(A4\)$`),
	} {
		if !want.MatchString(info) {
			t.Errorf("pdfinfo does not show %s:\n%s", want, info)
		}
	}
}

func TestRenderEmptySectionsSaySo(t *testing.T) {
	needPoppler(t)
	doc := sampleDocument(0)
	doc.Releases = nil
	doc.Version = 1
	doc.ChangeNote = ""
	doc.HowToRaise = nil
	text := squash(strings.Join(pages(t, writeTemp(t, render(t, doc))), "\n"))
	for _, want := range []string{
		"No releases are planned for the coming period.",
		"No business justifications were raised in this period.",
		"No changes were delivered in this period.",
		"No changes were moved between releases in this period.",
		"Contact the ESR central team to raise an enhancement.",
		"1 (first publication for the quarter)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text does not say %q", want)
		}
	}
	if strings.Contains(text, "What changed in version") {
		t.Error("a first version has a what-changed note")
	}
}

// TestRenderTableBreaks checks that a table carried over to another page repeats its header row under a
// "(continued)" caption, and that a row taller than a page is split rather than lost.
func TestRenderTableBreaks(t *testing.T) {
	needPoppler(t)
	doc := sampleDocument(60)
	long := strings.Repeat("The rationale runs on at great length, as a decision sometimes does. ", 90) + "Finis."
	doc.Justifications[3].Rationale = long
	doc.Justifications[4].Title = "Emoji 🚑 and a control\x07 character in a tab\tseparated title"
	path := writeTemp(t, render(t, doc))
	ps := pages(t, path)
	all := squash(strings.Join(ps, "\n"))
	if !strings.Contains(all, "Finis.") || strings.Count(all, "sometimes") != 90 {
		t.Error("the row taller than a page lost text")
	}
	tall := doc.Justifications[3].Reference
	if on := strings.Count(all, tall); on < 2 {
		t.Errorf("the reference of the row taller than a page is on %d pages; each part should name it", on)
	}
	if !strings.Contains(all, "Emoji ? and a control character in a tab separated title") {
		t.Error("a character the font lacks is not shown as ?")
	}
	continued := 0
	for _, p := range ps {
		if strings.Contains(p, titleJustifications+" (continued)") {
			continued++
			if !strings.Contains(p, "Reference") || !strings.Contains(p, "Rationale") {
				t.Errorf("a continuation page lacks the header row:\n%s", p)
			}
		}
	}
	if continued < 2 {
		t.Errorf("the justifications table continued on %d pages, want at least 2 (the tall row spans pages)", continued)
	}
}

func TestRenderNoDocument(t *testing.T) {
	if err := Render(&bytes.Buffer{}, nil); err == nil {
		t.Error("rendering no document did not fail")
	}
	// A document with nothing in it still renders: a cover, the contents and one page on which the five
	// sections, each saying it has nothing, follow one another.
	data := render(t, &schedule.Document{})
	if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data, []byte("/Count 3")) {
		t.Errorf("an empty document did not give a three-page PDF")
	}
}

// TestRenderConcurrently renders from several goroutines at once (the portal serves downloads in
// parallel); with -race it checks that renders share no mutable state (gofpdf writes into the font file
// it is given, so each render has its own copy), and each must give the same bytes.
func TestRenderConcurrently(t *testing.T) {
	doc := sampleDocument(40)
	want := render(t, doc)
	results := make(chan []byte, 4)
	for i := 0; i < cap(results); i++ {
		go func() {
			var buf bytes.Buffer
			if err := Render(&buf, doc); err != nil {
				t.Error(err)
			}
			results <- buf.Bytes()
		}()
	}
	for i := 0; i < cap(results); i++ {
		if got := <-results; !bytes.Equal(got, want) {
			t.Error("a concurrent render gave different bytes")
		}
	}
}

// TestRenderRowsStayWhole checks that a row that fits on a page is never split between two: each move's
// reference and the last words of its long reason are on the same page.
func TestRenderRowsStayWhole(t *testing.T) {
	needPoppler(t)
	doc := sampleDocument(0)
	for i := 0; i < 120; i++ {
		doc.Moves = append(doc.Moves, schedule.Move{
			Reference: fmt.Sprintf("ENH-2025-%04d", i), Title: titles[i%len(titles)], From: "R72", To: "R73",
			MovedOn: day(2026, time.October, 1+i%30),
			Reason:  strings.Repeat("The supplier asked for more time to test the interface changes. ", 1+i%5) + fmt.Sprintf("Closing note %d.", i),
		})
	}
	ps := pages(t, writeTemp(t, render(t, doc)))
	pageOf := func(s string) []int {
		var on []int
		for i, p := range ps {
			if strings.Contains(squash(p), s) {
				on = append(on, i+1)
			}
		}
		return on
	}
	for i, m := range doc.Moves {
		ref, end := pageOf(m.Reference), pageOf(fmt.Sprintf("Closing note %d.", i))
		if len(ref) != 1 || len(end) != 1 || ref[0] != end[0] {
			t.Errorf("the row of %s is split: its reference is on pages %v and the end of its reason on pages %v", m.Reference, ref, end)
		}
	}
}

// TestRenderLongNames checks that text longer than its place (a release name in the contents, a document
// reference in the footer) is shortened or wrapped rather than drawn over its neighbours, and that the
// render stays quick.
func TestRenderLongNames(t *testing.T) {
	needPoppler(t)
	doc := sampleDocument(20)
	doc.Releases[0].Name = "Winter release: " + strings.Repeat("payroll and pensions changes ", 400) + "the end"
	doc.Reference = "ESR-DS-2026-Q3-" + strings.Repeat("X", 200)
	start := time.Now()
	ps := pages(t, writeTemp(t, render(t, doc)))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("rendering long names took %s", took)
	}
	contents := squash(ps[1])
	if !strings.Contains(contents, "R72: Winter release: payroll and pensions changes") || !strings.Contains(contents, "… 3") {
		t.Errorf("the long release name is not shortened in the contents:\n%s", contents)
	}
	if all := squash(strings.Join(ps, " ")); !strings.Contains(all, "payroll and pensions changes the end") {
		t.Error("the release heading lost the end of its long name")
	}
}

// TestRenderLongChangeNote checks that a change note too long for the cover goes on over the next page
// rather than being cut short, and that the contents still gives the right pages.
func TestRenderLongChangeNote(t *testing.T) {
	needPoppler(t)
	doc := sampleDocument(40)
	var note []string
	for i := 1; i <= 60; i++ {
		note = append(note, fmt.Sprintf("Correction %d: the target date of a change was wrong in version 1.", i))
	}
	doc.ChangeNote = strings.Join(note, " ")
	ps := pages(t, writeTemp(t, render(t, doc)))
	all := squash(strings.Join(ps, " "))
	for i := 1; i <= 60; i++ {
		if !strings.Contains(all, fmt.Sprintf("Correction %d:", i)) {
			t.Errorf("correction %d of the change note is missing", i)
		}
	}
	if !strings.Contains(squash(ps[0]), "Continued on the next page.") || !strings.Contains(ps[1], "What changed in version 2 (continued)") {
		t.Error("the long change note does not say it continues on the next page")
	}
	if !strings.Contains(ps[1], "Page 2 of") {
		t.Error("the change note's continuation page has no page number")
	}
	checkContents(t, doc, 1)
}

// TestRenderDraftIsMarkedOnEveryPage: a preview says on its cover and in every footer that it is not
// published; a published version says neither.
func TestRenderDraftIsMarkedOnEveryPage(t *testing.T) {
	needPoppler(t)
	doc := sampleDocument(60)
	doc.Draft = true
	draft := pages(t, writeTemp(t, render(t, doc)))
	if !strings.Contains(draft[0], "DRAFT: NOT PUBLISHED") {
		t.Errorf("the draft's cover does not say so:\n%s", draft[0])
	}
	for i, p := range draft[1:] {
		if !strings.Contains(p, "DRAFT: not published") || strings.Contains(p, "Published 21 November 2026") {
			t.Errorf("page %d of the draft is not marked as one", i+2)
		}
	}
	doc.Draft = false
	for i, p := range pages(t, writeTemp(t, render(t, doc))) {
		if strings.Contains(strings.ToUpper(p), "DRAFT") {
			t.Errorf("page %d of the published version says draft", i+1)
		}
	}
}

// TestColumnsFitEveryWord: the widths worked out from the content leave room for every word of every
// cell on one line, so no word is split ("Requirements" never becomes "Requirement" and "s"), a column
// kept on one line holds its longest text, and the columns fill the text width exactly.
func TestColumnsFitEveryWord(t *testing.T) {
	doc := sampleDocument(goldenItems)
	doc.Justifications[0].Outcome = "Not yet decided (Requirements and justification)"
	doc.Releases[0].Changes[0].Status = "Requirements and justification"
	r := newRenderer(doc)
	type table struct {
		Name    string
		cols    []column
		rows    []row
		Columns []string
		Rows    [][]any
	}
	var release table
	release.Name, release.cols = "Releases", releaseColumns()
	for _, rel := range doc.Releases {
		release.rows = append(release.rows, releaseRows(rel)...)
	}
	tables := []table{release}
	for _, tbl := range doc.Tables()[1:] { // the releases' export has more columns than their PDF tables
		tables = append(tables, table{Name: tbl.Name, Columns: tbl.Columns, Rows: tbl.Rows})
	}
	for _, tbl := range tables {
		if tbl.cols != nil {
			checkColumns(t, r, tbl.Name, tbl.cols, tbl.rows)
			continue
		}
		cols := make([]column, len(tbl.Columns))
		for i, c := range tbl.Columns {
			cols[i] = column{title: c, bold: i == 0, nowrap: c == "Reference"}
		}
		var rows []row
		for _, cells := range tbl.Rows {
			var rw row
			for _, c := range cells {
				s := fmt.Sprint(c)
				if tm, ok := c.(time.Time); ok {
					s = tm.Format(tblDate)
				}
				rw = append(rw, cell{text: s})
			}
			rows = append(rows, rw)
		}
		checkColumns(t, r, tbl.Name, cols, rows)
	}
}

func checkColumns(t *testing.T, r *renderer, name string, cols []column, rows []row) {
	t.Helper()
	fitted := r.fitColumns(cols, rows)
	sum := 0.0
	for i, c := range fitted {
		sum += c.width
		style := ""
		if c.bold {
			style = "B"
		}
		r.f.SetFont(family, style, tblSize)
		for _, rw := range rows {
			for _, word := range strings.Fields(rw[i].text) {
				if w := r.f.GetStringWidth(word); w > c.width-2*cellPad {
					t.Errorf("%s, column %q (%.1f mm): the word %q (%.1f mm) does not fit", name, c.title, c.width, word, w)
				}
			}
			if c.nowrap && r.f.GetStringWidth(rw[i].text) > c.width-2*cellPad {
				t.Errorf("%s, column %q: %q does not fit on one line", name, c.title, rw[i].text)
			}
		}
		r.f.SetFont(family, "B", tblHeadPt)
		for _, word := range strings.Fields(c.title) {
			if w := r.f.GetStringWidth(word); w > c.width-2*cellPad {
				t.Errorf("%s: the heading word %q does not fit its column", name, word)
			}
		}
	}
	if sum < contentW-0.01 || sum > contentW+0.01 {
		t.Errorf("%s: the columns add up to %.2f mm, want %.2f", name, sum, contentW)
	}
}
