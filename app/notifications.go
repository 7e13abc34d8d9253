package app

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

const (
	notificationsPerPage = 20
	mailPerPage          = 50
	// snippetLength is how much of a notification's text the list shows.
	snippetLength = 300
)

type notificationsIndexPage struct {
	Page
	Notifications []notificationRow
	Total         int
	Pagination    Pagination
}

// notificationRow is one notification in the list, its text cut short.
type notificationRow struct {
	notify.Notification
	Snippet string
}

func (a *App) notificationsIndex(c *fiber.Ctx) error {
	pageNo := max(1, c.QueryInt("page", 1))
	u := visitOf(c).user
	ns, total, err := notify.List(c.UserContext(), a.db, u.ID, notificationsPerPage, (pageNo-1)*notificationsPerPage)
	if err != nil {
		return err
	}
	rows := make([]notificationRow, 0, len(ns))
	for _, n := range ns {
		rows = append(rows, notificationRow{Notification: n, Snippet: snippet(n.Body, snippetLength)})
	}
	p := &notificationsIndexPage{Page: a.page(c, "Notifications"), Notifications: rows, Total: total}
	if p.Unread >= identity.UnreadCap { // the header's count stops there; this page says how many
		if p.Unread, err = notify.Unread(c.UserContext(), a.db, u.ID); err != nil {
			return err
		}
	}
	p.Pagination = paginate("/notifications", url.Values{}, pageNo, notificationsPerPage, total)
	return a.render(c, fiber.StatusOK, "notifications/index", p)
}

// snippet is the start of s, at most n characters, ending with "…" when cut.
func snippet(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}

// notificationRead marks one of the user's notifications read and opens what it is about.
func (a *App) notificationRead(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("notification %q: %w", c.Params("id"), problem.ErrNotFound)
	}
	u := visitOf(c).user
	n, err := notify.Get(c.UserContext(), a.db, u.ID, id)
	if err != nil {
		return err
	}
	if err := notify.MarkRead(c.UserContext(), a.db, u.ID, id, a.now()); err != nil {
		return err
	}
	if n.Link == "" {
		return c.Redirect("/notifications", fiber.StatusSeeOther)
	}
	return c.Redirect(safeNext(n.Link), fiber.StatusSeeOther)
}

func (a *App) notificationsReadAll(c *fiber.Ctx) error {
	if err := notify.MarkAllRead(c.UserContext(), a.db, visitOf(c).user.ID, a.now()); err != nil {
		return err
	}
	a.flash(c, "All your notifications are marked as read")
	return c.Redirect("/notifications", fiber.StatusSeeOther)
}

type notificationSettingsPage struct {
	Page
	Form          forms.NotificationSettings
	InAppOptions  []Option
	EmailOptions  []Option
	EmailsOptions []Option
}

// eventRoles are the roles that can receive an event which not everyone can: the settings page offers
// it only to someone holding one of them (a requester is never told of an NSIG meeting's agenda).
// Events not listed concern requests, which anyone may raise, follow or support.
var eventRoles = map[string][]string{
	notify.EventInformationRequested: {requester, nsigMember, central},
	notify.EventDecisionNeeded:       {requester, nsigMember},
	notify.EventNSIGSeat:             {nsigMember, central, admin},
	notify.EventNSIGAgenda:           {nsigMember, central},
	notify.EventProjectHandover:      {nsigMember, fam, central},
	notify.EventRegionalUpdate:       {nsigMember, fam, central},
	notify.EventRegionalView:         {central, nsigMember},
}

// eventsFor are the events the settings page offers the user: those that can reach them.
func eventsFor(u *identity.User) []notify.EventInfo {
	var out []notify.EventInfo
	for _, e := range notify.Events {
		who, limited := eventRoles[e.Key]
		if !limited || slices.ContainsFunc(who, u.HasRole) {
			out = append(out, e)
		}
	}
	return out
}

func (a *App) notificationSettingsPage(c *fiber.Ctx, f forms.NotificationSettings) *notificationSettingsPage {
	p := &notificationSettingsPage{Page: a.page(c, "Notification settings"), Form: f}
	for _, e := range eventsFor(visitOf(c).user) {
		p.InAppOptions = append(p.InAppOptions, Option{Value: e.Key, Label: e.Title, Hint: e.Description})
		p.EmailOptions = append(p.EmailOptions, Option{Value: e.Key, Label: e.Title})
	}
	p.EmailsOptions = []Option{
		{Value: forms.EmailsImmediately, Label: "Straight away", Hint: "One email for each update, as it happens"},
		{Value: forms.EmailsDaily, Label: "Once a day in a digest", Hint: "One email each morning listing the updates of the day before"},
	}
	return p
}

func (a *App) notificationSettingsEdit(c *fiber.Ctx) error {
	digest, prefs, err := notify.Preferences(c.UserContext(), a.db, visitOf(c).user.ID)
	if err != nil {
		return err
	}
	f := forms.NotificationSettings{InApp: []string{}, Email: []string{}, Emails: forms.EmailsImmediately}
	if digest {
		f.Emails = forms.EmailsDaily
	}
	for _, p := range prefs {
		if p.InApp {
			f.InApp = append(f.InApp, p.Event)
		}
		if p.Email {
			f.Email = append(f.Email, p.Event)
		}
	}
	return a.render(c, fiber.StatusOK, "notifications/settings", a.notificationSettingsPage(c, f))
}

func (a *App) notificationSettingsUpdate(c *fiber.Ctx) error {
	var f forms.NotificationSettings
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p := a.notificationSettingsPage(c, f)
	errs := a.validate.Check(&f)
	u := visitOf(c).user
	offered := eventsFor(u)
	for field, keys := range map[string][]string{"in_app": f.InApp, "email": f.Email} {
		for _, k := range keys {
			if !slices.ContainsFunc(offered, func(e notify.EventInfo) bool { return e.Key == k }) {
				errs.Add(field, "Select from the list")
			}
		}
	}
	if errs.Any() {
		return a.invalid(c, "notifications/settings", &p.Page, errs, p)
	}
	// The events not offered keep what was chosen before (or the default), for when a new role
	// brings them.
	_, before, err := notify.Preferences(c.UserContext(), a.db, u.ID)
	if err != nil {
		return err
	}
	prefs := make([]notify.Preference, 0, len(notify.Events))
	for _, e := range notify.Events {
		pref := notify.Preference{Event: e.Key, InApp: contains(f.InApp, e.Key), Email: contains(f.Email, e.Key)}
		if !slices.ContainsFunc(offered, func(o notify.EventInfo) bool { return o.Key == e.Key }) {
			for _, b := range before {
				if b.Event == e.Key {
					pref = b
				}
			}
		}
		prefs = append(prefs, pref)
	}
	if err := notify.SavePreferences(c.UserContext(), a.db, a.actor(c), a.now(), u.ID, f.Emails == forms.EmailsDaily, prefs); err != nil {
		return err
	}
	a.flash(c, "Your notification settings have been saved")
	return c.Redirect("/account/notifications", fiber.StatusSeeOther)
}

type mailIndexPage struct {
	Page
	Emails     []mailRow
	Total      int
	Pagination Pagination
}

// mailRow is one email in the administrators' mail view.
type mailRow struct {
	notify.OutboxEmail
	Status       string
	StatusColour string
	Error        string // the last error, cut short
	LevelName    string // the level it went out at, or would now
}

// levelName words an email level.
func levelName(level string) string {
	if level == notify.LevelAction {
		return "Approval and summary"
	}
	return "Summary"
}

// mailLevel is the level an email went out at, or, while it waits, the level it would go out at now.
func (a *App) mailLevel(e *notify.OutboxEmail) string {
	if e.Level != "" {
		return e.Level
	}
	return a.cfg.SecureEmailDomains.Level(e.ToAddress)
}

// mailStatus words where an email stands, with the colour of its tag.
func mailStatus(e *notify.OutboxEmail) (string, string) {
	switch {
	case e.Sent() && e.Transport == notify.TransportLocal:
		return "Kept here", "grey"
	case e.Sent():
		return "Sent", "green"
	case e.GaveUp():
		return "Failed", "red"
	case e.Attempts > 0 && e.LastError != "":
		return "Retrying", "orange"
	default:
		return "Waiting", "blue"
	}
}

// withheldSubject stands for the subject and words of an email the administrator may not read.
const withheldSubject = "Withheld: about a request you may not see"

// mailReadable withholds, in place, the words of the emails that need more access to a request than the
// administrator reading the mail view has themselves (the access rule applies to the mail view as to
// every channel), and hides one-time link tokens, which are their recipients' alone.
func (a *App) mailReadable(c *fiber.Ctx, es []notify.OutboxEmail) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	var ids []int64
	for _, e := range es {
		if e.RequestID != 0 {
			ids = append(ids, e.RequestID)
		}
	}
	levels, err := request.AccessLevels(c.UserContext(), a.db, v, ids)
	if err != nil {
		return err
	}
	for i := range es {
		e := &es[i]
		readable := e.Access <= int(request.AccessSummary)
		if e.RequestID != 0 {
			readable = int(levels[e.RequestID]) >= e.Access && levels[e.RequestID] > request.AccessNone
		}
		if !readable {
			e.Subject, e.BodyText, e.Link = withheldSubject, "The words of this email are about a request that your own access does not cover, so they are not shown here. Its recipient, status and delivery are.", ""
			e.Actions = nil // their words name the request
		}
		e.Link = linkTokens.ReplaceAllString(e.Link, actionlink.Prefix+"[hidden]")
		e.BodyText = linkTokens.ReplaceAllString(e.BodyText, actionlink.Prefix+"[hidden]")
	}
	return nil
}

// linkTokens finds one-time link tokens in a path or text.
var linkTokens = regexp.MustCompile(regexp.QuoteMeta(actionlink.Prefix) + `[A-Za-z0-9_-]+`)

func (a *App) mailIndex(c *fiber.Ctx) error {
	pageNo := max(1, c.QueryInt("page", 1))
	es, total, err := notify.ListOutbox(c.UserContext(), a.db, mailPerPage, (pageNo-1)*mailPerPage)
	if err != nil {
		return err
	}
	if err := a.mailReadable(c, es); err != nil {
		return err
	}
	rows := make([]mailRow, 0, len(es))
	for _, e := range es {
		status, colour := mailStatus(&e)
		rows = append(rows, mailRow{OutboxEmail: e, Status: status, StatusColour: colour, Error: snippet(e.LastError, 120), LevelName: levelName(a.mailLevel(&e))})
	}
	p := &mailIndexPage{Page: a.page(c, "Emails"), Emails: rows, Total: total}
	p.Pagination = paginate("/admin/mail", url.Values{}, pageNo, mailPerPage, total)
	return a.render(c, fiber.StatusOK, "mail/index", p)
}

type mailShowPage struct {
	Page
	Email        *notify.OutboxEmail
	Headers      []SummaryRow
	Text         string
	Status       string
	StatusColour string
}

// mailReadableOne reads one email of the outbox as the administrator may see it (mailReadable).
func (a *App) mailReadableOne(c *fiber.Ctx) (*notify.OutboxEmail, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("email %q: %w", c.Params("id"), problem.ErrNotFound)
	}
	e, err := notify.GetOutbox(c.UserContext(), a.db, id)
	if err != nil {
		return nil, err
	}
	one := []notify.OutboxEmail{*e}
	if err := a.mailReadable(c, one); err != nil {
		return nil, err
	}
	return &one[0], nil
}

// mailAsSent is the email as its recipient got it (or would, if it waits), with every action link in
// place but its token hidden: the tokens exist only in the emails themselves.
func (a *App) mailAsSent(e *notify.OutboxEmail) notify.Email {
	base := a.cfg.BaseURL.String()
	var links []string
	if a.mailLevel(e) == notify.LevelAction {
		for range e.Actions {
			links = append(links, base+actionlink.Prefix+"[hidden]")
		}
	}
	return e.Email(base, links, time.Time{})
}

func (a *App) mailShow(c *fiber.Ctx) error {
	e, err := a.mailReadableOne(c)
	if err != nil {
		return err
	}
	to := e.ToAddress
	if e.ToName != "" {
		to = fmt.Sprintf("%s <%s>", e.ToName, e.ToAddress)
	}
	from := e.SentFrom
	if from == "" {
		from = "Not sent over SMTP"
	}
	status, colour := mailStatus(e)
	sent := "Not yet"
	if e.Sent() {
		sent = e.SentAt.In(london).Format("2 January 2006 at 3:04:05pm")
	}
	transport := map[string]string{notify.TransportSMTP: "SMTP", notify.TransportLocal: "None: SMTP is not configured, so the email was kept here"}[e.Transport]
	headers := []SummaryRow{
		{Key: "From", Value: from},
		{Key: "To", Value: to},
		{Key: "Subject", Value: e.Subject},
		{Key: "Date", Value: e.CreatedAt.In(london).Format("2 January 2006 at 3:04:05pm")},
		{Key: "Message-ID", Value: e.MessageIDHeader()},
		{Key: "Sent", Value: sent},
		{Key: "Sent by", Value: transport},
		{Key: "Attempts", Value: strconv.Itoa(e.Attempts)},
	}
	level := a.mailLevel(e)
	levelWhy := "the address is on the list of secure email domains, so the email carries the actions it offers"
	if level == notify.LevelSummary {
		levelWhy = "the address is not on the list of secure email domains, so the email carries no actions"
	}
	if e.Level == "" {
		levelWhy += " (decided when it is sent)"
	}
	headers = append(headers, SummaryRow{Key: "Level", Value: levelName(level) + ": " + levelWhy})
	if len(e.Actions) > 0 {
		var names []string
		for _, act := range e.Actions {
			names = append(names, act.Label)
		}
		what := "Offered: "
		if level == notify.LevelSummary {
			what = "Not in this email (summary level): "
		}
		headers = append(headers, SummaryRow{Key: "Actions", Value: what + strings.Join(names, "; ") +
			". Each link is made when the email is sent, for its recipient alone; its token is never kept and shows here as [hidden]."})
	}
	if e.LastError != "" {
		headers = append(headers, SummaryRow{Key: "Last error", Value: e.LastError})
	}
	if !e.Sent() && !e.GaveUp() {
		headers = append(headers, SummaryRow{Key: "Next attempt", Value: e.NextAttemptAt.In(london).Format("2 January 2006 at 3:04:05pm")})
	}
	return a.render(c, fiber.StatusOK, "mail/show", &mailShowPage{
		Page: a.page(c, e.Subject), Email: e, Headers: headers, Text: a.mailAsSent(e).Text(), Status: status, StatusColour: colour,
	})
}

// mailHTMLPolicy lets the HTML part of an email show in the mail view's frame, and nothing more: its
// inline styles; no scripts, forms, pop-ups or requests anywhere; framed only by the portal's own pages.
// The sandbox keeps the portal's origin (allow-same-origin) because the pages are cross-origin isolated
// (Cross-Origin-Embedder-Policy), under which a frame with an opaque origin would not be shown at all.
const mailHTMLPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self'; base-uri 'none'; sandbox allow-same-origin"

// mailHTML is the HTML part of an email as its recipient sees it, for the frame on its mail view page.
func (a *App) mailHTML(c *fiber.Ctx) error {
	e, err := a.mailReadableOne(c)
	if err != nil {
		return err
	}
	_, html, err := a.mailAsSent(e).Render()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentSecurityPolicy, mailHTMLPolicy)
	c.Set(fiber.HeaderXFrameOptions, "SAMEORIGIN")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(html)
}
