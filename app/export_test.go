package app

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/request"
)

const utf8BOM = "\uFEFF"

// readCSV parses an export, which must start with a byte order mark.
func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	if !strings.HasPrefix(body, utf8BOM) {
		t.Fatalf("the CSV does not start with a UTF-8 byte order mark: %q", body[:min(len(body), 20)])
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, utf8BOM))).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if len(records) == 0 || !slices.Equal(records[0], exportColumns) {
		t.Fatalf("the CSV's header is %v", records[:min(len(records), 1)])
	}
	return records
}

// csvColumn returns one column of an export's rows, without the header.
func csvColumn(t *testing.T, body string, col int) []string {
	t.Helper()
	var out []string
	for _, rec := range readCSV(t, body)[1:] {
		out = append(out, rec[col])
	}
	return out
}

func TestRequestsExportCSV(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	p := f.p
	welsh := raiseTestRequestAt(t, p, f.fenland, request.NewEnhancement{
		Title: "Dangos y slip cyflog yn Gymraeg: ŵ, ŷ a £ ar y sgrin", FunctionalArea: "Payroll", SRNumber: "SR1000005",
	}, londonTime(2026, 11, 19, 15))
	formula := raiseTestRequestAt(t, p, f.fenland, request.NewEnhancement{
		Title: `=HYPERLINK("http://example.com","Click me")`, FunctionalArea: "Core HR", SRNumber: "SR1000006",
	}, londonTime(2026, 11, 19, 16))

	res := f.centralBrowser.get("/requests/export.csv?area=Payroll&sort=oldest")
	mustStatus(t, res, 200, "CSV export")
	if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="requests-2026-11-20.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	records := readCSV(t, res.body)
	// The payslip request was received on Monday 5 October, in British Summer Time: its acknowledgement
	// is due five working days later, on Monday 12 October.
	want := [][]string{
		exportColumns,
		{f.payslip.Reference, "Welsh-language (Cymraeg) field labels on the online payslip", "In triage", "Payroll", "Payroll and Pensions",
			"Fenland Valley NHS Foundation Trust", "East of England", "SR1000001", "Medium", "2026-10-05", "2026-10-12", "2026-10-06", "0", "Enhancement request"},
		{f.p60.Reference, "Let employees download P60 as a PDF", "Submitted", "Payroll", "Payroll and Pensions",
			"Charnwood Heath NHS Foundation Trust", "Midlands", "SR1000004", "Low", "2026-11-18", "2026-11-25", "", "0", "Enhancement request"},
		{welsh.Reference, "Dangos y slip cyflog yn Gymraeg: ŵ, ŷ a £ ar y sgrin", "Submitted", "Payroll", "Payroll and Pensions",
			"Fenland Valley NHS Foundation Trust", "East of England", "SR1000005", "High", "2026-11-19", "2026-11-26", "", "0", "Enhancement request"},
	}
	if len(records) != len(want) {
		t.Fatalf("the CSV has %d rows, want %d:\n%v", len(records), len(want), records)
	}
	for i := range want {
		if !slices.Equal(records[i], want[i]) {
			t.Errorf("row %d:\n got %q\nwant %q", i, records[i], want[i])
		}
	}
	if !strings.Contains(res.body, "\r\n") {
		t.Error("the CSV's lines do not end with CRLF")
	}

	// A title that looks like a formula is written as text.
	res = f.centralBrowser.get("/requests/export.csv?q=" + formula.Reference)
	if got := csvColumn(t, res.body, 1); !slices.Equal(got, []string{`'=HYPERLINK("http://example.com","Click me")`}) {
		t.Errorf("a formula title is exported as %q", got)
	}

	// Another organisation's requester sees only what they may: the summary of an accepted request,
	// without its SR number or urgency, and never anyone's name.
	acceptTestRequest(t, p, f.p60.Reference, p.clock.Now())
	res = p.as(f.thameside).get("/requests/export.csv?sort=oldest")
	records = readCSV(t, res.body)
	var refs []string
	for _, rec := range records[1:] {
		refs = append(refs, rec[0])
		if rec[0] == f.p60.Reference && (rec[7] != "" || rec[8] != "") {
			t.Errorf("another organisation's export shows the SR number %q and urgency %q", rec[7], rec[8])
		}
		if rec[0] == f.expiry.Reference && rec[7] != "SR1000002" {
			t.Errorf("the raising organisation's export lacks its SR number: %q", rec)
		}
	}
	if !slices.Equal(refs, []string{f.expiry.Reference, f.matrix.Reference, f.p60.Reference}) {
		t.Errorf("Thameside's export holds %v", refs)
	}
	for _, name := range []string{"Theo Thameside", "Cara Charnwood", "Test Requester", "Test Central"} {
		if strings.Contains(res.body, name) {
			t.Errorf("the export names %s", name)
		}
	}
}

func TestRequestsExportXLSX(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	res := f.centralBrowser.get("/requests/export.xlsx?sort=oldest&status=submitted")
	mustStatus(t, res, 200, "Excel export")
	if ct := res.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="requests-2026-11-20.xlsx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	x, err := excelize.OpenReader(bytes.NewReader([]byte(res.body)))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer x.Close()
	if sheets := x.GetSheetList(); !slices.Equal(sheets, []string{"Requests"}) {
		t.Fatalf("sheets %v", sheets)
	}
	rows, err := x.GetRows("Requests")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], exportColumns) {
		t.Fatalf("the workbook has %d rows, header %v", len(rows), rows[0])
	}
	for i, r := range []*request.Request{f.expiry, f.matrix, f.p60} {
		if rows[i+1][0] != r.Reference || rows[i+1][1] != r.Title || rows[i+1][2] != "Submitted" {
			t.Errorf("row %d is %q, want %s %q", i+1, rows[i+1], r.Reference, r.Title)
		}
	}
	if got := rows[1][5:9]; !slices.Equal(got, []string{"Thameside Royal Hospitals NHS Trust", "London", "SR1000002", "High"}) {
		t.Errorf("row 1, organisation to urgency: %q", got)
	}

	// Dates are dates: numbers shown as dates, on the right day.
	for cell, want := range map[string]time.Time{
		"J2": time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC),
		"K2": time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC),
		"J4": time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC),
		"K4": time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
	} {
		raw, err := x.GetCellValue("Requests", cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		serial, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			t.Errorf("%s holds %q, not a date", cell, raw)
			continue
		}
		got, err := excelize.ExcelDateToTime(serial, false)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s is %v, want %v", cell, got, want)
		}
		if shown, _ := x.GetCellValue("Requests", cell); shown != want.Format("2 Jan 2006") {
			t.Errorf("%s shows %q, want %q", cell, shown, want.Format("2 Jan 2006"))
		}
	}
	if v, _ := x.GetCellValue("Requests", "L2"); v != "" {
		t.Errorf("an unacknowledged request's acknowledged date is %q", v)
	}
	if v, _ := x.GetCellValue("Requests", "M2", excelize.Options{RawCellValue: true}); v != "0" {
		t.Errorf("supporting organisations %q", v)
	}

	// The header is bold and stays in view; the columns are sized.
	styleID, err := x.GetCellStyle("Requests", "A1")
	if err != nil {
		t.Fatal(err)
	}
	style, err := x.GetStyle(styleID)
	if err != nil || style.Font == nil || !style.Font.Bold {
		t.Errorf("the header is not bold: %+v %v", style, err)
	}
	panes, err := x.GetPanes("Requests")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("the header row is not frozen: %+v %v", panes, err)
	}
	if w, err := x.GetColWidth("Requests", "B"); err != nil || w < 40 {
		t.Errorf("the title column is %v wide", w)
	}

	// A requester's workbook holds only what they may see: here, their own organisation's request.
	res = f.p.as(f.fenland).get("/requests/export.xlsx")
	mustStatus(t, res, 200, "a requester's Excel export")
	own, err := excelize.OpenReader(bytes.NewReader([]byte(res.body)))
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	rows, err = own.GetRows("Requests")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][0] != f.payslip.Reference || rows[1][7] != "SR1000001" {
		t.Errorf("the Fenland requester's workbook holds %q", rows)
	}
}

// TestRequestsExportNamesEachRequestsType: the list holds every kind of request, and the export says
// which each one is.
func TestRequestsExportNamesEachRequestsType(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	v, err := request.ViewerFor(t.Context(), f.p.db.DB, f.fenland)
	if err != nil {
		t.Fatal(err)
	}
	role, err := request.RaiseSupplementaryRole(t.Context(), f.p.db.DB, f.p.app.calendar, v, audit.Actor{Name: "test"}, f.p.clock.Now(),
		request.NewSupplementaryRole{RoleName: "Menopause Champion", Duties: "Signposts colleagues to support.", InputLevel: "employee",
			Wellbeing: true, Justification: "Staff ask for it.", Benefits: "Retention.", Organisations: "Every trust in the region",
			SubmissionToken: "00000000-0000-4000-a000-000000000077"})
	if err != nil {
		t.Fatal(err)
	}
	res := f.centralBrowser.get("/requests/export.csv?q=" + role.Reference)
	mustStatus(t, res, 200, "CSV export")
	records := readCSV(t, res.body)
	if len(records) != 2 || records[1][0] != role.Reference || records[1][len(exportColumns)-1] != "Supplementary role request" {
		t.Errorf("the export of %s is %q", role.Reference, records)
	}
	res = f.centralBrowser.get("/requests/export.csv?q=" + f.payslip.Reference)
	if records := readCSV(t, res.body); len(records) != 2 || records[1][len(exportColumns)-1] != "Enhancement request" {
		t.Errorf("the export of %s is %q", f.payslip.Reference, records)
	}
}
