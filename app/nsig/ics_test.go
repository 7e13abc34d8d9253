package nsig

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestWriteICS(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	var b strings.Builder
	err := WriteICS(&b, Calendar{
		UID: "nsig-meeting-7@portal.example", Sequence: 2, Stamp: start.Add(-48 * time.Hour), Start: start, End: start.Add(90 * time.Minute),
		Summary:     "Payroll and Pensions NSIG; agenda, notes",
		Description: "Agenda:\n- Pension tiers: the 2027 change\\rates\n- Ymgynghoriad ar y gyfradd – cyflogau’r GIG yng Nghymru, a’r holl newidiadau i’r system",
		Location:    "Microsoft Teams", URL: "https://teams.microsoft.com/l/meetup-join/abc",
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") || !strings.HasSuffix(out, "END:VEVENT\r\nEND:VCALENDAR\r\n") {
		t.Fatalf("not a calendar:\n%q", out)
	}
	if strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\r") {
		t.Fatal("a bare line break")
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("a fold split a character: %q", l)
		}
	}
	unfolded := strings.ReplaceAll(out, "\r\n ", "")
	for _, want := range []string{
		"DTSTART:20261203T140000Z\r\n", "DTEND:20261203T153000Z\r\n", "DTSTAMP:20261201T140000Z\r\n", "SEQUENCE:2\r\n",
		`SUMMARY:Payroll and Pensions NSIG\; agenda\, notes` + "\r\n",
		`DESCRIPTION:Agenda:\n- Pension tiers: the 2027 change\\rates\n- Ymgynghoriad ar y gyfradd – cyflogau’r GIG yng Nghymru\, a’r holl newidiadau i’r system` + "\r\n",
		"UID:nsig-meeting-7@portal.example\r\n",
	} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("missing %q in\n%s", want, unfolded)
		}
	}
}
