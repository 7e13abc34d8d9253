package app

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

const requestsPerPage = 25

// requestFilterForm is the requests list's filter, kept as typed so it can be shown back. The list and
// both exports read the same one from the query string.
type requestFilterForm struct {
	Query                        string
	Kind                         string
	Status                       string
	Area                         string
	NSIG                         string
	Region                       string
	Organisation                 string
	SLA                          string
	FromDay, FromMonth, FromYear string
	ToDay, ToMonth, ToYear       string
	Sort                         string
	Drill                        drillForm // a dashboard figure's conditions (requests_drill.go)
}

// slaOptions are the choices of the acknowledgement filter; their values are request.Filter's SLA.
var slaOptions = []Option{
	{Value: "", Label: "Any"},
	{Value: "overdue", Label: "Not acknowledged: overdue"},
	{Value: "due_today", Label: "Not acknowledged: due today"},
	{Value: "due", Label: "Not acknowledged: due later"},
	{Value: "acknowledged", Label: "Acknowledged"},
	{Value: request.SLAOnTime, Label: "Acknowledged on time"},
	{Value: request.SLALate, Label: "Acknowledged late"},
	{Value: request.SLAMeasured, Label: "Acknowledged, or not and overdue"},
	{Value: request.SLAReplyOverdue, Label: "Information requested: answer overdue"},
}

func readRequestFilter(c *fiber.Ctx) requestFilterForm {
	q := func(name string) string { return strings.TrimSpace(c.Query(name)) }
	ff := requestFilterForm{
		Query: q("q"), Kind: q("kind"), Status: q("status"), Area: q("area"), NSIG: q("nsig"), Region: q("region"),
		Organisation: q("organisation"), SLA: q("sla"), Sort: q("sort"),
		FromDay: q("from-day"), FromMonth: q("from-month"), FromYear: q("from-year"),
		ToDay: q("to-day"), ToMonth: q("to-month"), ToYear: q("to-year"),
		Drill: readDrill(c),
	}
	// Choices that are not on offer are dropped, so that the controls and the links agree with the list.
	if !knownStatus(ff.Status) && !hasOption(statusGroups, ff.Status) {
		ff.Status = ""
	}
	if !hasOption(kindOptions(), ff.Kind) {
		ff.Kind = ""
	}
	if !hasOption(slaOptions, ff.SLA) {
		ff.SLA = ""
	}
	if !hasOption(sortOptions(ff.Query), ff.Sort) {
		ff.Sort = ""
	}
	for _, id := range []*string{&ff.NSIG, &ff.Region, &ff.Organisation} {
		if n, err := strconv.ParseInt(*id, 10, 64); (err != nil || n <= 0) && !(id == &ff.NSIG && *id == nsigNone) {
			*id = ""
		}
	}
	return ff
}

// values is the filter as a query string, without its empty fields, for links.
func (ff requestFilterForm) values() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{
		"q": ff.Query, "kind": ff.Kind, "status": ff.Status, "area": ff.Area, "nsig": ff.NSIG, "region": ff.Region,
		"organisation": ff.Organisation, "sla": ff.SLA, "sort": ff.Sort,
		"from-day": ff.FromDay, "from-month": ff.FromMonth, "from-year": ff.FromYear,
		"to-day": ff.ToDay, "to-month": ff.ToMonth, "to-year": ff.ToYear,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	ff.Drill.values(q)
	return q
}

// filter turns the form into the list's filter; a date that is not real is an error on its field.
func (a *App) requestFilter(ff requestFilterForm) (request.Filter, forms.Errors) {
	f := request.Filter{
		Kind: ff.Kind, FunctionalArea: ff.Area, SLA: ff.SLA, Query: ff.Query, Sort: ff.Sort,
		Today: a.calendar.Date(a.now()),
	}
	if f.Sort == "" && f.Query != "" {
		f.Sort = "relevance"
	}
	f.Statuses = statusesOf(ff.Status)
	f.Drill, _ = ff.Drill.filter()
	f.NSIGID, _ = strconv.ParseInt(ff.NSIG, 10, 64)
	f.NoNSIG = ff.NSIG == nsigNone
	region, _ := strconv.ParseInt(ff.Region, 10, 16)
	f.RegionID = int16(region)
	f.OrganisationID, _ = strconv.ParseInt(ff.Organisation, 10, 64)

	var errs forms.Errors
	from, hasFrom, ok := parseDate(ff.FromDay, ff.FromMonth, ff.FromYear)
	if !ok {
		errs.Add("from-day", "Enter a real date for ‘raised from’, like 1 11 2026")
	} else if hasFrom {
		f.RaisedFrom = from
	}
	to, hasTo, ok := parseDate(ff.ToDay, ff.ToMonth, ff.ToYear)
	if !ok {
		errs.Add("to-day", "Enter a real date for ‘raised to’, like 30 11 2026")
	} else if hasTo {
		f.RaisedTo = to.AddDate(0, 0, 1) // the whole of the last day
	}
	if hasFrom && hasTo && to.Before(from) {
		errs.Add("to-day", "The ‘raised to’ date must be the same as or after the ‘raised from’ date")
	}
	return f, errs
}

// sortOptions are the orders the list offers. The first, "", is the default: the best match when
// searching, otherwise the newest first; so a search made from the list is sorted by best match.
func sortOptions(query string) []Option {
	out := []Option{{Value: "", Label: "Best match"}}
	if query == "" {
		out[0].Label = "Newest first"
	}
	for _, s := range request.Sorts {
		if s.Value == "newest" && query == "" {
			continue
		}
		out = append(out, Option{Value: s.Value, Label: s.Label})
	}
	return out
}

// kindOptions are the choices of the list's type filter: every kind, or one.
func kindOptions() []Option {
	out := []Option{{Value: "", Label: "Any type"}}
	for _, k := range request.Kinds {
		out = append(out, Option{Value: k.Kind, Label: k.Label + "s"})
	}
	return out
}

func knownStatus(s string) bool {
	for _, i := range request.Statuses {
		if string(i.Status) == s {
			return true
		}
	}
	return false
}

func hasOption(opts []Option, value string) bool {
	for _, o := range opts {
		if o.Value == value {
			return true
		}
	}
	return false
}

type requestsIndexPage struct {
	Page
	Filter              requestFilterForm
	Rows                []request.Row
	Total               request.Count
	StatusOptions       []Option
	KindOptions         []Option
	AreaOptions         []Option
	NSIGOptions         []Option
	RegionOptions       []Option
	OrganisationOptions []Option
	SLAOptions          []Option
	SortOptions         []Option
	Pagination          Pagination
	DrillTags           []drillTag // the drill-down filters applied, in words
	CSVHref, XLSXHref   string
	PDFHref             string
	ExportLimit         string // "10,000"
	OverExportLimit     bool   // more requests match than an export holds
	// BestOfNewest is how many of the newest matches the best matches were chosen from ("500"), when
	// more than that match a search sorted by best match; empty otherwise.
	BestOfNewest string
}

func (a *App) requestsIndex(c *fiber.Ctx) error {
	ctx := c.UserContext()
	pageNo := max(1, c.QueryInt("page", 1))
	ff := readRequestFilter(c)
	f, errs := a.requestFilter(ff)
	if errs.Any() {
		p := &requestsIndexPage{Page: a.page(c, "Requests"), Filter: ff, ExportLimit: thousands(exportLimit)}
		if err := a.requestsIndexChoices(ctx, p, ff); err != nil {
			return err
		}
		return a.invalid(c, "requests/index", &p.Page, errs, p)
	}
	// The list is the same for everyone with the same access who asks the same of it while the
	// database is unchanged: it is kept by the content cache.
	key, err := a.contentKey(ctx, visitOf(c), "requests/index", ff.values().Encode(), strconv.Itoa(pageNo))
	if err != nil {
		return err
	}
	return a.showCached(c, "requests/index", key, func() (any, *Page, error) {
		p := &requestsIndexPage{Page: a.page(c, "Requests"), Filter: ff, ExportLimit: thousands(exportLimit)}
		if err := a.requestsIndexChoices(ctx, p, ff); err != nil {
			return nil, nil, err
		}
		v, err := request.ViewerFor(ctx, a.db, visitOf(c).user)
		if err != nil {
			return nil, nil, err
		}
		f.Limit, f.Offset = requestsPerPage, (pageNo-1)*requestsPerPage
		f.BestOfNewest = true
		rows, total, err := request.List(ctx, a.db, v, f)
		if err != nil {
			return nil, nil, err
		}
		p.Rows, p.Total, p.OverExportLimit = rows, total, total.N > exportLimit
		q := ff.values()
		pages := total.N
		if total.Capped() {
			// The best matches were ranked among the newest of them; the pages go as far as those.
			p.BestOfNewest, pages = thousands(request.BestMatchCandidates), request.BestMatchCandidates
		}
		p.Pagination = paginate("/requests", q, pageNo, requestsPerPage, pages)
		p.CSVHref, p.XLSXHref = withQuery("/requests/export.csv", q), withQuery("/requests/export.xlsx", q)
		p.PDFHref = withQuery("/requests/export.pdf", q)
		return p, &p.Page, nil
	})
}

// requestsIndexChoices fills the list's filter choices and the dashboard filters it was opened with.
func (a *App) requestsIndexChoices(ctx context.Context, p *requestsIndexPage, ff requestFilterForm) error {
	if err := a.requestFilterOptions(ctx, p); err != nil {
		return err
	}
	var err error
	p.DrillTags, err = a.drillTags(ctx, ff)
	return err
}

// requestFilterOptions fills the filter's choices, the ones held in the database included.
func (a *App) requestFilterOptions(ctx context.Context, p *requestsIndexPage) error {
	p.KindOptions = kindOptions()
	p.StatusOptions = append([]Option{{Value: "", Label: "Any status"}}, statusGroups...)
	for _, s := range request.Statuses {
		p.StatusOptions = append(p.StatusOptions, Option{Value: string(s.Status), Label: s.Label})
	}
	lists, err := a.choices.get(ctx, a)
	if err != nil {
		return err
	}
	p.AreaOptions = []Option{{Value: "", Label: "Any functional area"}}
	for _, name := range lists.Areas {
		p.AreaOptions = append(p.AreaOptions, Option{Value: name, Label: name})
	}
	p.NSIGOptions = append(lists.nsigOptions(), Option{Value: nsigNone, Label: "No NSIG"})
	p.RegionOptions = []Option{{Value: "", Label: "Any region"}}
	for _, r := range lists.Regions {
		p.RegionOptions = append(p.RegionOptions, Option{Value: strconv.Itoa(int(r.ID)), Label: r.Name})
	}
	p.OrganisationOptions = []Option{{Value: "", Label: "Any organisation"}}
	for _, o := range lists.Organisations {
		p.OrganisationOptions = append(p.OrganisationOptions, Option{Value: strconv.FormatInt(o.ID, 10), Label: o.Name})
	}
	p.SLAOptions = slaOptions
	p.SortOptions = sortOptions(p.Filter.Query)
	return nil
}

// nsigChoice is one NSIG as a filter offers it.
type nsigChoice struct {
	ID     int64  `bun:"id"`
	Name   string `bun:"name"`
	Status string `bun:"status"`
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// thousands writes a count with commas: 10000 → "10,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
