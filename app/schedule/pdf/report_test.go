package pdf

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func sampleReport(rows int) *Report {
	var table [][]string
	for i := 1; i <= rows; i++ {
		table = append(table, []string{fmt.Sprintf("ENH-2026-%04d", i), fmt.Sprintf("Cais rhif %d: ŵ ŷ £%d", i, i*10), "In triage", fmt.Sprint(i)})
	}
	return &Report{
		Title: "National dashboard", Subtitle: "Quarter 3 2026/27",
		Generated: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
		Filters:   []ReportLine{{"Period", "1 October 2026 to 31 December 2026"}, {"Counts", "Only the requests Cara Central may see"}},
		Sections: []ReportSection{
			{Title: "Acknowledgement", Intro: "The share acknowledged within 5 working days.", Tables: []ReportTable{{
				Caption: "Requests by month", Columns: []ReportColumn{{"Reference", 25}, {"Title", 70}, {"Status", 30}, {"Count", 15}}, Rows: table,
			}}},
			{Title: "Releases", Tables: []ReportTable{{Caption: "Releases", Columns: []ReportColumn{{"Release", 1}}, Empty: "No releases are planned."}}},
		},
	}
}

// TestRenderReportReadsBack renders a report whose table spans pages and reads it back: the cover line,
// the filters, every row, the header row repeated under "(continued)", "Page X of Y" on every page, and
// the same bytes every time.
func TestRenderReportReadsBack(t *testing.T) {
	needPoppler(t)
	rep := sampleReport(150)
	var buf bytes.Buffer
	if err := RenderReport(&buf, rep); err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, buf.Bytes())
	ps := pages(t, path)
	n := pageCount(t, path)
	if n < 3 || len(ps) != n {
		t.Fatalf("%d pages (%d read back), want a table over several", n, len(ps))
	}
	first := squash(ps[0])
	for _, want := range []string{"National dashboard", "Quarter 3 2026/27", "Generated 20 November 2026 at 9:30am",
		"Period 1 October 2026 to 31 December 2026", "Only the requests Cara Central may see", "Acknowledgement", "Requests by month"} {
		if !strings.Contains(first, want) {
			t.Errorf("the first page lacks %q:\n%s", want, first)
		}
	}
	all := squash(strings.Join(ps, " "))
	for i := 1; i <= 150; i++ {
		if !strings.Contains(all, fmt.Sprintf("ENH-2026-%04d", i)) || !strings.Contains(all, fmt.Sprintf("£%d", i*10)) {
			t.Fatalf("row %d is missing", i)
		}
	}
	if !strings.Contains(all, "ŵ ŷ") || !strings.Contains(all, "No releases are planned.") {
		t.Error("the Welsh letters or the empty table's sentence are missing")
	}
	for i, p := range ps {
		p = squash(p)
		if !strings.Contains(p, fmt.Sprintf("Page %d of %d", i+1, n)) {
			t.Errorf("page %d has no 'Page %d of %d'", i+1, i+1, n)
		}
		if i > 0 && strings.Contains(p, "ENH-2026-") && !strings.Contains(p, "Requests by month (continued) Reference Title Status Count") {
			t.Errorf("page %d carries on the table without its header:\n%s", i+1, p)
		}
	}
	var again bytes.Buffer
	if err := RenderReport(&again, rep); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("the same report gave different bytes")
	}
	if err := RenderReport(&again, nil); err == nil {
		t.Error("no report rendered without an error")
	}
}
