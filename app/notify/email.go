package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"
)

// The portal's one set of email templates: a plain-text part and an HTML part in the NHS style (inline
// CSS only, since email programs drop style sheets; layout tables marked as presentation; real text,
// no images; links whose words make sense on their own), saying the same things with the same links.
//
//go:embed templates/email.html templates/email.txt
var templateFS embed.FS

var (
	htmlEmail = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/email.html"))
	textEmail = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/email.txt"))
)

// Link is a link in an email: words that make sense on their own, and an absolute URL.
type Link struct {
	Text string
	URL  string
}

// Email is what one email says. Render makes its plain-text and HTML parts from it.
type Email struct {
	ToName  string // for the greeting; "" for none
	Subject string // the subject line, and the heading of the HTML part
	// Body is the message in plain text: paragraphs separated by blank lines. A line that is a web
	// address on its own becomes a link in the HTML part.
	Body string
	// Actions are what the reader can do from the email, each a link to a page in the portal where they
	// confirm it; ActionsNote says how the links work (once, only for the reader, until when).
	Actions     []Link
	ActionsNote string
	// Withheld says why an email that could have carried actions does not (its address is not on the
	// secure list).
	Withheld    string
	Links       []Link // where to read more, e.g. "Open ENH-2026-0042 in the portal"
	Reply       *Link  // where to comment, since replies are not read
	SettingsURL string // the notification settings, named in every footer
}

// Render returns the email's plain-text and HTML parts.
func (e Email) Render() (text, html string, err error) {
	e.Body = strings.TrimSpace(e.Body)
	var tb, hb bytes.Buffer
	if err := textEmail.Execute(&tb, e); err != nil {
		return "", "", fmt.Errorf("email text: %w", err)
	}
	if err := htmlEmail.Execute(&hb, struct {
		Email
		Paragraphs [][]Link
	}{e, paragraphs(e.Body)}); err != nil {
		return "", "", fmt.Errorf("email HTML: %w", err)
	}
	return tb.String(), hb.String(), nil
}

// Text is the email's plain-text part.
func (e Email) Text() string {
	text, _, err := e.Render()
	if err != nil {
		return e.Body
	}
	return text
}

// paragraphs splits a plain-text body into paragraphs of lines; a line that is only a web address is
// a link (Link.URL set), any other line is text.
func paragraphs(body string) [][]Link {
	var out [][]Link
	for _, p := range blankLine.Split(strings.ReplaceAll(body, "\r\n", "\n"), -1) {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		var lines []Link
		for _, l := range strings.Split(p, "\n") {
			l = strings.TrimSpace(l)
			if webAddress.MatchString(l) {
				lines = append(lines, Link{Text: l, URL: l})
			} else {
				lines = append(lines, Link{Text: l})
			}
		}
		out = append(out, lines)
	}
	return out
}

var blankLine = regexp.MustCompile(`\n[ \t]*\n`)

var webAddress = regexp.MustCompile(`^https?://[^\s<>"]+$`)

// requestLink finds the reference of the request a link of the portal leads to.
var requestLink = regexp.MustCompile(`^/requests/([A-Z]{3}-[0-9]{4}-[0-9]{4,})(?:[/?#]|$)`)

// Email is the outbox email as its reader gets it, with the portal's address baseURL. links are the
// action links made for it, one for each of its Actions, working until expires; nil leaves the actions
// out and says why (a summary email).
func (e *OutboxEmail) Email(baseURL string, links []string, expires time.Time) Email {
	baseURL = strings.TrimRight(baseURL, "/")
	m := Email{ToName: strings.TrimSpace(e.ToName), Subject: e.Subject, Body: strings.TrimSpace(e.BodyText),
		SettingsURL: baseURL + "/account/notifications"}
	if m.Body == "" {
		m.Body = e.Subject
	}
	ref := ""
	if sub := requestLink.FindStringSubmatch(e.Link); sub != nil {
		ref = sub[1]
	}
	switch {
	case e.Link == "":
	case ref != "" && strings.HasPrefix(e.Link, "/requests/"+ref+"/"):
		m.Links = []Link{{Text: "Open it in the portal", URL: baseURL + e.Link}}
	case ref != "":
		m.Links = []Link{{Text: "Open " + ref + " in the portal", URL: baseURL + e.Link}}
	case e.Link == "/notifications":
		m.Links = []Link{{Text: "See your notifications in the portal", URL: baseURL + e.Link}}
	default:
		m.Links = []Link{{Text: "Open it in the portal", URL: baseURL + e.Link}}
	}
	if ref != "" {
		m.Reply = &Link{Text: "To comment on " + ref + ", add a comment on its page in the portal", URL: baseURL + "/requests/" + ref}
	} else {
		m.Reply = &Link{Text: "To get in touch, sign in to the portal", URL: baseURL + "/"}
	}
	switch {
	case len(e.Actions) == 0:
	case len(links) == len(e.Actions):
		for i, a := range e.Actions {
			m.Actions = append(m.Actions, Link{Text: a.Label, URL: links[i]})
		}
		m.ActionsNote = "These links are for you alone, and each works once."
		if !expires.IsZero() {
			m.ActionsNote = fmt.Sprintf("These links are for you alone, each works once, and they stop working on %s. You need to be signed in to the portal.",
				expires.In(london()).Format("2 January 2006 at 3:04pm"))
		}
	default:
		m.Withheld = "You can act on this in the portal. Emails to your address do not carry buttons to act from the email, because its domain is not on the portal's list of secure email domains."
	}
	return m
}

// london is the UK's time zone, for dates in emails; UTC when the zone database is missing.
func london() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}
