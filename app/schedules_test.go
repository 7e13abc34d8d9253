package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/nhs-esr/portal/app/identity"
)

var scheduleLocation = regexp.MustCompile(`^/schedules/(\d+)$`)

func scheduleForm(quarter, day, month, year string) url.Values {
	return url.Values{"quarter": {quarter}, "date-day": {day}, "date-month": {month}, "date-year": {year}}
}

func TestPublishingTheDevelopmentSchedule(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	requester := p.users[identity.RoleRequester]
	approved := approvedForRelease(t, p, requester, 1, "Add RSV to the national Immunisation and Vaccination values", 8)
	central := p.as(p.users[identity.RoleCentralTeam])
	reader := p.as(requester)

	res := central.get("/schedules/new")
	mustStatus(t, res, 200, "prepare a schedule")
	if !strings.Contains(res.body, `value="2026-Q3" checked`) || !strings.Contains(res.body, `value="20"`) {
		t.Errorf("the form does not start at today's quarter and date:\n%s", excerpt(res.body))
	}

	// A date that is not real, or outside the quarter, comes back with the values as typed.
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{scheduleForm("2026-Q3", "31", "2", "2026"), "The publication date must be a real date"},
		{scheduleForm("2026-Q3", "2", "1", "2027"), "The publication date must be between 1 July 2026 and 31 December 2026"},
		{scheduleForm("", "20", "11", "2026"), "Select the quarter the schedule is for"},
	} {
		res = central.get("/schedules/preview?" + tc.form.Encode())
		mustStatus(t, res, 422, tc.want)
		for _, want := range []string{"There is a problem", tc.want, `value="` + tc.form.Get("date-day") + `"`} {
			if !strings.Contains(res.body, want) {
				t.Errorf("preview of %v lacks %q", tc.form, want)
			}
		}
	}

	form := scheduleForm("2026-Q3", "20", "11", "2026")
	res = central.get("/schedules/preview?" + form.Encode())
	mustStatus(t, res, 200, "preview")
	for _, want := range []string{"Preview: not published yet", "ESR-DS-2026-Q3", approved.Reference, "Publish version 1", "From 20 May 2026 to 20 November 2026"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	res = central.get("/schedules/preview/pdf?" + form.Encode())
	mustStatus(t, res, 200, "preview PDF")
	if res.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(res.body, "%PDF-") {
		t.Errorf("preview PDF is %q starting %q", res.header.Get("Content-Type"), res.body[:min(8, len(res.body))])
	}

	publish := scheduleForm("2026-Q3", "20", "11", "2026")
	publish.Set("based", "0")
	res = central.post("/schedules", publish)
	mustStatus(t, res, 303, "publish")
	page := res.header.Get("Location")
	if !scheduleLocation.MatchString(page) {
		t.Fatalf("publishing went to %q", page)
	}
	res = central.get(page)
	mustStatus(t, res, 200, "published schedule")
	if !strings.Contains(res.body, "The Development Schedule for Quarter 3 2026/27 is published") || !strings.Contains(res.body, "Make it public") {
		t.Errorf("published page lacks the flash or the public button:\n%s", excerpt(res.body))
	}
	checksum := regexp.MustCompile(`[0-9a-f]{64}`).FindString(res.body)

	// Everyone signed in downloads the PDF, whose bytes match the checksum shown, and reads it back.
	res = reader.get(page + "/pdf")
	mustStatus(t, res, 200, "PDF")
	sum := sha256.Sum256([]byte(res.body))
	if checksum == "" || hex.EncodeToString(sum[:]) != checksum || res.header.Get("ETag") != `"`+checksum+`"` {
		t.Errorf("PDF's SHA-256 %x, page shows %q, ETag %s", sum, checksum, res.header.Get("ETag"))
	}
	if !strings.Contains(res.header.Get("Content-Disposition"), `filename="ESR-DS-2026-Q3-v1.pdf"`) || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("PDF headers %v", res.header)
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = strings.NewReader(res.body)
	text, err := cmd.Output()
	if err != nil {
		t.Fatalf("read the PDF back with pdftotext (apt-get install poppler-utils): %v", err)
	}
	for _, want := range []string{approved.Reference, "ESR-DS-2026-Q3", "Quarter 3 2026/27"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("the downloaded PDF does not read back %q", want)
		}
	}

	res = reader.get(page + "/csv")
	mustStatus(t, res, 200, "CSV")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\uFEFF"))).ReadAll()
	if err != nil || !strings.HasPrefix(res.body, "\uFEFF") {
		t.Fatalf("CSV: %v", err)
	}
	found := false
	for _, row := range rows[1:] {
		if row[0] == "Business justifications" && strings.Contains(strings.Join(row, "|"), approved.Reference+"|"+approved.Title) {
			found = strings.Contains(strings.Join(row, "|"), "Approved|2026-11-20|Worth doing")
		}
	}
	if rows[0][0] != "Section" || !found {
		t.Errorf("CSV lacks the approved justification with its decision:\n%s", res.body)
	}

	res = reader.get(page + "/xlsx")
	mustStatus(t, res, 200, "Excel")
	book, err := excelize.OpenReader(strings.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(book.GetSheetList(), ", "); got != "Releases, Business justifications, Delivered, Moved between releases" {
		t.Errorf("sheets %s", got)
	}
	if cell, _ := book.GetCellValue("Business justifications", "A2"); cell != approved.Reference {
		t.Errorf("first justification %q, want %s", cell, approved.Reference)
	}
	book.Close()

	// A preview made before version 1 was published gets a conflict and keeps the note typed.
	stale := scheduleForm("2026-Q3", "20", "11", "2026")
	stale.Set("based", "0")
	stale.Set("change_note", "My careful note")
	res = central.post("/schedules", stale)
	mustStatus(t, res, 409, "stale publish")
	for _, want := range []string{"Version 1 was published by Test Central team", "My careful note", "Publish version 2"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("conflict page lacks %q", want)
		}
	}
	correction := scheduleForm("2026-Q3", "20", "11", "2026")
	correction.Set("based", "1")
	res = central.post("/schedules", correction)
	mustStatus(t, res, 422, "correction without a note")
	if !strings.Contains(res.body, "Say what has changed since version 1") {
		t.Error("a correction without a note is not explained")
	}
	correction.Set("change_note", "R73 target date corrected.")
	res = central.post("/schedules", correction)
	mustStatus(t, res, 303, "correction")
	res = reader.get("/schedules")
	mustStatus(t, res, 200, "list")
	for _, want := range []string{"Quarter 3 2026/27", "Version 2", "Version 1", "Current", "Superseded", "What changed: R73 target date corrected."} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if strings.Contains(res.body, "Prepare a schedule") {
		t.Error("a requester is offered to prepare a schedule")
	}
	res = reader.get(page)
	mustStatus(t, res, 200, "superseded version")
	if !strings.Contains(res.body, "This version has been superseded") || strings.Contains(res.body, "Make it public") {
		t.Error("version 1 is not marked superseded, or a requester may make it public")
	}

	// Nobody outside sees a schedule until the central team makes one public.
	anonymous := p.anonymous()
	mustStatus(t, anonymous.get("/development-schedule"), 404, "no public schedule yet")
	res = central.post(page+"/public", url.Values{"public": {"yes"}})
	mustStatus(t, res, 303, "make public")
	res = anonymous.get("/development-schedule")
	mustStatus(t, res, 200, "public schedule")
	if !strings.Contains(res.body, approved.Reference) || strings.Contains(res.body, `href="/requests/`) || strings.Contains(res.body, checksum) {
		t.Error("the public page lacks the schedule, or links to requests and shows internals")
	}
	res = anonymous.get("/development-schedule/pdf")
	mustStatus(t, res, 200, "public PDF")
	if sum := sha256.Sum256([]byte(res.body)); hex.EncodeToString(sum[:]) != checksum {
		t.Error("the public PDF is not the published version 1")
	}
}

// The preview says how many people publishing tells, starts with "make this version the public one"
// ticked, and warns when the publication date is in the past; publishing with the box unticked keeps
// the public version as it was.
func TestSchedulePreviewCirculationAndPastDates(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	requester := p.users[identity.RoleRequester]
	approvedForRelease(t, p, requester, 1, "Welsh-language field labels on the online payslip", 5)
	central := p.as(p.users[identity.RoleCentralTeam])

	res := central.get("/schedules/preview?" + scheduleForm("2026-Q3", "20", "11", "2026").Encode())
	mustStatus(t, res, 200, "preview")
	told := regexp.MustCompile(`(\d+) (?:people are|person is) told that it is published`).FindStringSubmatch(res.body)
	if told == nil || told[1] == "0" {
		t.Errorf("the preview does not say how many people are told:\n%s", excerpt(res.body))
	}
	if !strings.Contains(res.body, `name="public" type="checkbox" value="yes" checked`) {
		t.Error("make this version the public one is not ticked at first")
	}
	if strings.Contains(res.body, "This schedule is dated in the past") {
		t.Error("today's schedule is warned about as dated in the past")
	}
	res = central.get("/schedules/preview?" + scheduleForm("2026-Q3", "1", "10", "2026").Encode())
	mustStatus(t, res, 200, "preview dated in the past")
	if !strings.Contains(res.body, "This schedule is dated in the past") || !strings.Contains(res.body, "It is dated 1 October 2026, before today (20 November 2026)") {
		t.Errorf("no warning for a date in the past:\n%s", excerpt(res.body))
	}

	form := scheduleForm("2026-Q3", "1", "10", "2026")
	form.Set("based", "0")
	res = central.post("/schedules", form)
	mustStatus(t, res, 303, "publish unticked")
	res = central.get(res.header.Get("Location"))
	if !strings.Contains(res.body, "people were told") && !strings.Contains(res.body, "person was told") {
		t.Errorf("the flash does not say how many were told:\n%s", excerpt(res.body))
	}
	if res := p.anonymous().get("/development-schedule"); res.status != 404 {
		t.Errorf("a version published without the box ticked is public: %d", res.status)
	}
	form.Set("based", "1")
	form.Set("change_note", "Dated as circulated")
	form.Set("public", "yes")
	res = central.post("/schedules", form)
	mustStatus(t, res, 303, "publish ticked")
	if res := p.anonymous().get("/development-schedule"); res.status != 200 || !strings.Contains(res.body, "Dated as circulated") {
		t.Errorf("the version published with the box ticked is not the public one: %d", res.status)
	}
}
