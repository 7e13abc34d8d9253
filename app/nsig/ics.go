package nsig

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Calendar is what a meeting's iCalendar file says.
type Calendar struct {
	UID         string // unique and stable for the meeting, e.g. "nsig-meeting-42@portal.example"
	Sequence    int    // goes up each time the agenda is republished, so calendars update the event
	Stamp       time.Time
	Start, End  time.Time
	Summary     string
	Description string
	Location    string
	URL         string
}

// WriteICS writes the meeting as an RFC 5545 calendar with one event: lines end in CRLF, text values
// are escaped, and lines longer than 75 octets are folded without splitting a character.
func WriteICS(w io.Writer, c Calendar) error {
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	lines := []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//NHS ESR//ESR Enhancement Portal//EN",
		"CALSCALE:GREGORIAN",
		"METHOD:PUBLISH",
		"BEGIN:VEVENT",
		"UID:" + escapeText(c.UID),
		fmt.Sprintf("SEQUENCE:%d", c.Sequence),
		"DTSTAMP:" + utc(c.Stamp),
		"DTSTART:" + utc(c.Start),
		"DTEND:" + utc(c.End),
		"SUMMARY:" + escapeText(c.Summary),
		"DESCRIPTION:" + escapeText(c.Description),
		"LOCATION:" + escapeText(c.Location),
	}
	if c.URL != "" {
		lines = append(lines, "URL:"+c.URL)
	}
	lines = append(lines, "END:VEVENT", "END:VCALENDAR")
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(fold(l))
		b.WriteString("\r\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeText escapes an iCalendar TEXT value (RFC 5545 §3.3.11).
func escapeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// fold splits a content line into lines of at most 75 octets, each continuation starting with a
// space (RFC 5545 §3.1), never inside a UTF-8 sequence.
func fold(line string) string {
	const limit = 75
	var b strings.Builder
	width := limit
	for len(line) > width {
		cut := width
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		width = limit - 1 // the leading space counts
	}
	b.WriteString(line)
	return b.String()
}
