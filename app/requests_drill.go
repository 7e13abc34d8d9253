package app

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
)

// The requests list's drill-down filters: the conditions a dashboard's figure adds to the list's own
// (request.Drill), read from and written to its address. Links from dashboards carry them; the list
// shows each one it applies under "Also filtered by", with a link that removes it. A value that does
// not parse is dropped, and so not shown as applied.

// Status groups the list's status filter offers besides single statuses.
const (
	statusOpen     = "open"
	statusAwaiting = "awaiting"
)

// statusGroups are the status filter's groups, as the select offers them.
var statusGroups = []Option{
	{Value: statusOpen, Label: "Any open status"},
	{Value: statusAwaiting, Label: "Awaiting a decision"},
}

// statusesOf is the statuses a status filter value stands for.
func statusesOf(value string) []request.Status {
	switch value {
	case "":
		return nil
	case statusOpen:
		return request.OpenStatuses()
	case statusAwaiting:
		return request.AwaitingDecision()
	}
	return []request.Status{request.Status(value)}
}

// statusValue is the status filter's value for a list of statuses: a group, one status, or "" (any).
func statusValue(ss []request.Status) (string, error) {
	switch {
	case len(ss) == 0:
		return "", nil
	case slices.Equal(ss, request.OpenStatuses()):
		return statusOpen, nil
	case slices.Equal(ss, request.AwaitingDecision()):
		return statusAwaiting, nil
	case len(ss) == 1:
		return string(ss[0]), nil
	}
	return "", fmt.Errorf("the list cannot filter by the statuses %v", ss)
}

// drillForm is the drill-down part of the list's filter, as written in the address.
type drillForm struct {
	Stage, StageFrom, StageTo, StageDays     string
	Decision, Reason, DecidedFrom, DecidedTo string
	Release                                  string
	Moved, MovedFrom, MovedTo                string
	Supporters, SupportRegions               string
	ViewRegion, View                         string
}

// drillParams names each field's parameter, in the order links write them.
func (d *drillForm) params() []struct {
	name  string
	value *string
} {
	return []struct {
		name  string
		value *string
	}{
		{"stage", &d.Stage}, {"stage-from", &d.StageFrom}, {"stage-to", &d.StageTo}, {"stage-days", &d.StageDays},
		{"decision", &d.Decision}, {"reason", &d.Reason}, {"decided-from", &d.DecidedFrom}, {"decided-to", &d.DecidedTo},
		{"release", &d.Release},
		{"moved", &d.Moved}, {"moved-from", &d.MovedFrom}, {"moved-to", &d.MovedTo},
		{"supporters", &d.Supporters}, {"support-regions", &d.SupportRegions},
		{"view-region", &d.ViewRegion}, {"view", &d.View},
	}
}

// readDrill reads the drill-down filters from the query string, dropping those that do not parse.
func readDrill(c *fiber.Ctx) drillForm {
	var d drillForm
	for _, p := range d.params() {
		*p.value = strings.TrimSpace(c.Query(p.name))
	}
	f, _ := d.filter()
	return formOfDrill(f)
}

// values adds the drill-down filters to a query string.
func (d drillForm) values(q url.Values) {
	for _, p := range d.params() {
		if *p.value != "" {
			q.Set(p.name, *p.value)
		}
	}
}

// isoDate reads a date written YYYY-MM-DD as midnight in London.
func isoDate(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, london)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return time.Time{}, false
	}
	return t, true
}

// dates reads an inclusive from–to pair as the instants [from, the day after to).
func dates(from, to string) (time.Time, time.Time) {
	f, _ := isoDate(from)
	t, ok := isoDate(to)
	if ok {
		t = t.AddDate(0, 0, 1)
	}
	return f, t
}

// isoDay writes an instant's London date, YYYY-MM-DD; the day before for the end of a window.
func isoDay(t time.Time, end bool) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(london)
	if end {
		t = t.AddDate(0, 0, -1)
	}
	return t.Format(time.DateOnly)
}

// readRange reads "2-4", "5-" (no upper end) or "0".
func readRange(s string) *request.Range {
	if s == "" {
		return nil
	}
	lo, hi, dash := strings.Cut(s, "-")
	min, err := strconv.Atoi(lo)
	if err != nil || min < 0 || min > 100000 {
		return nil
	}
	r := request.Range{Min: min, Max: min}
	if dash {
		r.Max = -1
		if hi != "" {
			if r.Max, err = strconv.Atoi(hi); err != nil || r.Max < min || r.Max > 100000 {
				return nil
			}
		}
	}
	return &r
}

func writeRange(r *request.Range) string {
	switch {
	case r == nil:
		return ""
	case r.Max < 0:
		return strconv.Itoa(r.Min) + "-"
	case r.Max == r.Min:
		return strconv.Itoa(r.Min)
	}
	return strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max)
}

// filter turns the drill-down filters into request.Drill; the second value is false when one of them
// did not parse (and was left out).
func (d drillForm) filter() (request.Drill, bool) {
	var f request.Drill
	ok := true
	if d.Stage != "" {
		if slices.Contains(request.Stages(), request.Status(d.Stage)) {
			f.Stage = request.Status(d.Stage)
			f.StageFrom, f.StageTo = dates(d.StageFrom, d.StageTo)
			if n, err := strconv.Atoi(d.StageDays); err == nil && n > 0 && n < 100000 {
				f.StageMinDays = n
			}
		} else {
			ok = false
		}
	}
	switch d.Decision {
	case "":
	case request.DecisionApproved, request.DecisionDeferred, request.DecisionNotApproved, request.DecisionNotTakenForward:
		f.Decision = d.Decision
		f.DecidedFrom, f.DecidedTo = dates(d.DecidedFrom, d.DecidedTo)
		if d.Decision == request.DecisionNotTakenForward && request.OutcomeReasonLabel(d.Reason) != d.Reason {
			f.Reason = d.Reason
		}
	default:
		ok = false
	}
	if id, err := strconv.ParseInt(d.Release, 10, 64); err == nil && id > 0 {
		f.ReleaseID = id
	}
	if d.Moved == "yes" {
		f.Moved = true
		f.MovedFrom, f.MovedTo = dates(d.MovedFrom, d.MovedTo)
	}
	f.Supporters, f.SupportRegions = readRange(d.Supporters), readRange(d.SupportRegions)
	if id, err := strconv.ParseInt(d.ViewRegion, 10, 16); err == nil && id > 0 && (d.View == request.ViewGiven || d.View == request.ViewWaiting) {
		f.ViewRegion, f.View = int16(id), d.View
	}
	return f, ok
}

// formOfDrill writes request.Drill as the list's address holds it (NoNSIG is the NSIG filter's).
func formOfDrill(f request.Drill) drillForm {
	var d drillForm
	if f.Stage != "" {
		d.Stage, d.StageFrom, d.StageTo = string(f.Stage), isoDay(f.StageFrom, false), isoDay(f.StageTo, true)
		if f.StageMinDays > 0 {
			d.StageDays = strconv.Itoa(f.StageMinDays)
		}
	}
	if f.Decision != "" {
		d.Decision, d.Reason = f.Decision, f.Reason
		d.DecidedFrom, d.DecidedTo = isoDay(f.DecidedFrom, false), isoDay(f.DecidedTo, true)
	}
	if f.ReleaseID != 0 {
		d.Release = strconv.FormatInt(f.ReleaseID, 10)
	}
	if f.Moved {
		d.Moved, d.MovedFrom, d.MovedTo = "yes", isoDay(f.MovedFrom, false), isoDay(f.MovedTo, true)
	}
	d.Supporters, d.SupportRegions = writeRange(f.Supporters), writeRange(f.SupportRegions)
	if f.ViewRegion != 0 {
		d.ViewRegion, d.View = strconv.Itoa(int(f.ViewRegion)), f.View
	}
	return d
}

// requestsLink is the requests list filtered by f: the link of a dashboard's figure. It writes the
// filter as the list reads it, so that the list shows exactly the requests f matches.
func requestsLink(f request.Filter) string {
	q, err := filterValues(f)
	if err != nil {
		// A figure whose filter the list cannot take is a mistake in the dashboard, caught by its tests.
		panic(err)
	}
	return withQuery("/requests", q)
}

// filterValues writes f as the requests list's query string.
func filterValues(f request.Filter) (url.Values, error) {
	status, err := statusValue(f.Statuses)
	if err != nil {
		return nil, err
	}
	if f.AssigneeID != 0 || f.Query != "" {
		return nil, fmt.Errorf("the list's address cannot hold an assignee or a search: %+v", f)
	}
	ff := requestFilterForm{Kind: f.Kind, Status: status, Area: f.FunctionalArea, SLA: f.SLA, Sort: f.Sort, Drill: formOfDrill(f.Drill)}
	if f.NSIGID != 0 {
		ff.NSIG = strconv.FormatInt(f.NSIGID, 10)
	}
	if f.NoNSIG {
		ff.NSIG = nsigNone
	}
	if f.RegionID != 0 {
		ff.Region = strconv.Itoa(int(f.RegionID))
	}
	if f.OrganisationID != 0 {
		ff.Organisation = strconv.FormatInt(f.OrganisationID, 10)
	}
	if !f.RaisedFrom.IsZero() {
		d := f.RaisedFrom.In(london)
		ff.FromDay, ff.FromMonth, ff.FromYear = strconv.Itoa(d.Day()), strconv.Itoa(int(d.Month())), strconv.Itoa(d.Year())
	}
	if !f.RaisedTo.IsZero() {
		d := f.RaisedTo.In(london).AddDate(0, 0, -1)
		ff.ToDay, ff.ToMonth, ff.ToYear = strconv.Itoa(d.Day()), strconv.Itoa(int(d.Month())), strconv.Itoa(d.Year())
	}
	return ff.values(), nil
}

// nsigNone is the NSIG filter's value for requests no NSIG reviews.
const nsigNone = "none"

// drillTag is one drill-down filter the list applies, in words, with the list without it.
type drillTag struct {
	Text       string
	RemoveHref string
}

// drillTags words the drill-down filters of ff, each with a link to the list without it.
func (a *App) drillTags(ctx context.Context, ff requestFilterForm) ([]drillTag, error) {
	d, _ := ff.Drill.filter()
	var out []drillTag
	add := func(text string, params ...string) {
		q := ff.values()
		for _, p := range params {
			q.Del(p)
		}
		out = append(out, drillTag{Text: text, RemoveHref: withQuery("/requests", q)})
	}
	if d.Stage != "" {
		stage := d.Stage.Label()
		window, days := !d.StageFrom.IsZero() || !d.StageTo.IsZero(), d.StageMinDays > 0
		// Removing the last part of a stage filter removes the stage too.
		alone := func(params ...string) []string {
			if !window || !days {
				params = append(params, "stage")
			}
			return params
		}
		if window {
			add("First in the stage ‘"+stage+"’ "+between(d.StageFrom, d.StageTo), alone("stage-from", "stage-to")...)
		}
		if days {
			add(fmt.Sprintf("At least %s in the stage ‘%s’", workingDays(d.StageMinDays), stage), alone("stage-days")...)
		}
		if !window && !days {
			add("Has been in the stage ‘"+stage+"’", "stage")
		}
	}
	if d.Decision != "" {
		text := map[string]string{
			request.DecisionApproved: "Approved", request.DecisionDeferred: "Deferred",
			request.DecisionNotApproved: "Not approved", request.DecisionNotTakenForward: "Not taken forward",
		}[d.Decision]
		if d.Reason != "" {
			text += ": " + request.LowerFirst(request.OutcomeReasonLabel(d.Reason))
		}
		if !d.DecidedFrom.IsZero() || !d.DecidedTo.IsZero() {
			text += " " + between(d.DecidedFrom, d.DecidedTo)
		}
		add(text, "decision", "reason", "decided-from", "decided-to")
	}
	if d.ReleaseID != 0 {
		var title string
		if err := a.db.NewSelect().Table("releases").ColumnExpr("'Release ' || number || ': ' || name").Where("id = ?", d.ReleaseID).
			Scan(ctx, &title); err != nil {
			title = "a release that does not exist"
		}
		add("Allocated to "+title, "release")
	}
	if d.Moved {
		add("Moved from one release to another "+between(d.MovedFrom, d.MovedTo), "moved", "moved-from", "moved-to")
	}
	if d.Supporters != nil {
		add("Supported by "+rangeText(*d.Supporters, "other organisation", "other organisations"), "supporters")
	}
	if d.SupportRegions != nil {
		add("Supporting organisations in "+rangeText(*d.SupportRegions, "region", "regions"), "support-regions")
	}
	if d.ViewRegion != 0 {
		regions, err := organisation.Regions(ctx, a.db)
		if err != nil {
			return nil, err
		}
		name := "an unknown region"
		for _, r := range regions {
			if r.ID == d.ViewRegion {
				name = r.Name
			}
		}
		if d.View == request.ViewGiven {
			add("The "+name+" region has given its view on the request's NSIG", "view-region", "view")
		} else {
			add("Waiting for the view of the "+name+" region on the request's NSIG", "view-region", "view")
		}
	}
	return out, nil
}

// between words a window of instants [from, to) as inclusive dates.
func between(from, to time.Time) string {
	const layout = "2 January 2006"
	switch {
	case from.IsZero():
		return "up to " + to.In(london).AddDate(0, 0, -1).Format(layout)
	case to.IsZero():
		return "from " + from.In(london).Format(layout)
	}
	return "between " + from.In(london).Format(layout) + " and " + to.In(london).AddDate(0, 0, -1).Format(layout)
}

func rangeText(r request.Range, one, many string) string {
	word := func(n int) string {
		if n == 1 {
			return one
		}
		return many
	}
	switch {
	case r.Max < 0:
		return fmt.Sprintf("%d or more %s", r.Min, many)
	case r.Max == r.Min && r.Min == 0:
		return "no " + word(0)
	case r.Max == r.Min:
		return fmt.Sprintf("%d %s", r.Min, word(r.Min))
	}
	return fmt.Sprintf("%d to %d %s", r.Min, r.Max, many)
}

func workingDays(n int) string {
	if n == 1 {
		return "1 working day"
	}
	return strconv.Itoa(n) + " working days"
}

// Hidden is the drill-down filters as the hidden fields that keep them when the list's form is sent:
// each Option's Value is a parameter's name, its Label the value.
func (d drillForm) Hidden() []Option {
	var out []Option
	for _, p := range d.params() {
		if *p.value != "" {
			out = append(out, Option{Value: p.name, Label: *p.value})
		}
	}
	return out
}
