package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/app/workday"
)

// Builders for tests of the pages that list requests.

// raiseTestRequest raises an enhancement request in Payroll as u, received now on the test clock.
func raiseTestRequest(t *testing.T, p *testPortal, u *identity.User, title string) *request.Request {
	t.Helper()
	return raiseTestRequestAt(t, p, u, request.NewEnhancement{Title: title}, p.clock.Now())
}

// raiseTestRequestAt raises an enhancement request as u, received at `at`. The fields of in left empty
// get plain defaults (Payroll, high urgency, SR0000000).
func raiseTestRequestAt(t *testing.T, p *testPortal, u *identity.User, in request.NewEnhancement, at time.Time) *request.Request {
	t.Helper()
	ctx := context.Background()
	v, err := request.ViewerFor(ctx, p.db.DB, u)
	if err != nil {
		t.Fatal(err)
	}
	if in.FunctionalArea == "" {
		in.FunctionalArea = "Payroll"
	}
	if in.SRNumber == "" {
		in.SRNumber = "SR0000000"
	}
	if in.Problem == "" {
		in.Problem = "The problem with " + in.Title
	}
	if in.Proposal == "" {
		in.Proposal = "A proposal"
	}
	if in.AffectedUsers == nil {
		in.AffectedUsers = []string{"employee"}
	}
	if in.Urgency == "" {
		in.Urgency = "high"
	}
	in.SubmissionToken = testUUID(t)
	r, err := request.RaiseEnhancement(ctx, p.db.DB, workday.New(), v, audit.Actor{Name: "test"}, at, in)
	if err != nil {
		t.Fatalf("raise %q: %v", in.Title, err)
	}
	return r
}

// applyTestTransition makes a lifecycle transition on the request as u at `at`, from its current
// version.
func applyTestTransition(t *testing.T, p *testPortal, u *identity.User, reference, name string, at time.Time, in request.Input) *request.Request {
	t.Helper()
	ctx := context.Background()
	v, err := request.ViewerFor(ctx, p.db.DB, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.db.DB.NewSelect().Table("requests").Column("version").Where("reference = ?", reference).Scan(ctx, &in.Version); err != nil {
		t.Fatal(err)
	}
	if name == "classify_enhancement" && in.Summary == "" {
		in.Summary = "A change to ESR that every organisation may read about." // triage writes the public summary
	}
	r, err := request.Apply(ctx, p.db.DB, request.Env{Now: at, Calendar: workday.New()}, v, audit.Actor{Name: "test"}, reference, name, in)
	if err != nil {
		t.Fatalf("%s %s: %v", name, reference, err)
	}
	return r
}

// acceptTestRequest has the central team acknowledge a request and classify it as an enhancement, so
// that every signed-in user may see its summary.
func acceptTestRequest(t *testing.T, p *testPortal, reference string, at time.Time) {
	t.Helper()
	central := p.users[identity.RoleCentralTeam]
	applyTestTransition(t, p, central, reference, "acknowledge", at, request.Input{})
	applyTestTransition(t, p, central, reference, "classify_enhancement", at.Add(time.Hour), request.Input{})
}

// testUserAt adds a user of the organisation with the ODS code.
func testUserAt(t *testing.T, p *testPortal, email, name, ods string, roles ...string) *identity.User {
	t.Helper()
	ctx := context.Background()
	org, err := organisation.GetByODS(ctx, p.db.DB, ods)
	if err != nil {
		t.Fatal(err)
	}
	u, err := identity.Create(ctx, p.db.DB, audit.Actor{Name: "test"}, p.clock.Now(), identity.NewUser{
		Email: email, Name: name, OrganisationID: org.ID, Roles: roles, Password: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testOrganisation(t *testing.T, p *testPortal, ods string) *organisation.Organisation {
	t.Helper()
	o, err := organisation.GetByODS(context.Background(), p.db.DB, ods)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func testUUID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// london is a wall-clock time in Europe/London.
func londonTime(y int, m time.Month, d, hour int) time.Time {
	return time.Date(y, m, d, hour, 0, 0, 0, london)
}

var listedRef = regexp.MustCompile(`<a href="/requests/(ENH-\d{4}-\d{4})">`)

// listedRefs returns the references a list page links to, in order.
func listedRefs(body string) []string {
	var out []string
	for _, m := range listedRef.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func refsOf(rs ...*request.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Reference
	}
	return out
}

// wantListed checks that the list at path shows exactly the requests, in that order.
func wantListed(t *testing.T, b *browser, path string, want ...*request.Request) {
	t.Helper()
	res := b.get(path)
	mustStatus(t, res, 200, path)
	if got := listedRefs(res.body); !slices.Equal(got, refsOf(want...)) {
		t.Errorf("%s lists %v, want %v", path, got, refsOf(want...))
	}
}

func TestRequestsListVisibility(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	// The test users are in Fenland Valley (East of England); Broadmere is in the same region,
	// Thameside in London.
	fenland := p.users[identity.RoleRequester]
	broadmere := testUserAt(t, p, "req@broadmere.nhs.uk", "Bea Broadmere", "ZEA02", identity.RoleRequester)
	thameside := testUserAt(t, p, "req@thameside.nhs.uk", "Theo Thameside", "ZLN01", identity.RoleRequester)

	own := raiseTestRequest(t, p, fenland, "Fenland's own request, not yet triaged")
	sameRegion := raiseTestRequest(t, p, broadmere, "Broadmere's request, not yet triaged")
	hidden := raiseTestRequest(t, p, thameside, "Thameside's request, not yet triaged")
	accepted := raiseTestRequest(t, p, thameside, "Thameside's accepted enhancement")
	acceptTestRequest(t, p, accepted.Reference, p.clock.Now().Add(time.Minute))

	for _, tc := range []struct {
		who  string
		as   *identity.User
		want []*request.Request
	}{
		{"Fenland requester", fenland, []*request.Request{accepted, own}},
		{"Thameside requester", thameside, []*request.Request{accepted, hidden}},
		{"Broadmere requester", broadmere, []*request.Request{accepted, sameRegion}},
		{"East of England FAM", p.users[identity.RoleFunctionalAccountManager], []*request.Request{accepted, sameRegion, own}},
		{"central team", p.users[identity.RoleCentralTeam], []*request.Request{accepted, hidden, sameRegion, own}},
		// The development team sees a request once triage accepts it (and, like anyone, its own
		// organisation's: the test users all work at Fenland).
		{"development team", p.users[identity.RoleDevelopmentTeam], []*request.Request{accepted, own}},
		{"administrator", p.users[identity.RoleAdmin], []*request.Request{accepted, own}},
	} {
		t.Run(tc.who, func(t *testing.T) {
			b := p.as(tc.as)
			wantListed(t, b, "/requests?sort=title", sortedByTitle(tc.want)...)
			res := b.get("/requests/export.csv?sort=title")
			mustStatus(t, res, 200, "CSV")
			got := csvColumn(t, res.body, 0)
			if !slices.Equal(got, refsOf(sortedByTitle(tc.want)...)) {
				t.Errorf("the CSV export has %v, want %v", got, refsOf(sortedByTitle(tc.want)...))
			}
		})
	}

	// Nobody learns a hidden request exists by searching for its reference.
	wantListed(t, p.as(fenland), "/requests?q="+hidden.Reference)
	wantListed(t, p.as(thameside), "/requests?q="+hidden.Reference, hidden)
	mustStatus(t, p.anonymous().get("/requests"), 303, "signed out")
}

func sortedByTitle(rs []*request.Request) []*request.Request {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b *request.Request) int {
		return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
	})
	return out
}

// listFixture is four requests from three organisations across October and November 2026. The test
// clock says Friday 20 November 2026.
type listFixture struct {
	p                             *testPortal
	payslip, expiry, matrix       *request.Request
	p60                           *request.Request
	london, midlandsOrg           string // a region id and an organisation id, as the filter sends them
	payrollNSIG                   string
	centralBrowser                *browser
	fenland, thameside, charnwood *identity.User
}

func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	p := newTestPortal(t)
	f := &listFixture{p: p, centralBrowser: p.as(p.users[identity.RoleCentralTeam])}
	f.fenland = p.users[identity.RoleRequester]
	f.thameside = testUserAt(t, p, "req@thameside.nhs.uk", "Theo Thameside", "ZLN01", identity.RoleRequester)
	f.charnwood = testUserAt(t, p, "req@charnwood.nhs.uk", "Cara Charnwood", "ZMD01", identity.RoleRequester)

	// Received Monday 5 October, acknowledged the next day.
	f.payslip = raiseTestRequestAt(t, p, f.fenland, request.NewEnhancement{
		Title: "Welsh-language (Cymraeg) field labels on the online payslip", SRNumber: "SR1000001", Urgency: "medium",
	}, londonTime(2026, 10, 5, 10))
	applyTestTransition(t, p, p.users[identity.RoleCentralTeam], f.payslip.Reference, "acknowledge", londonTime(2026, 10, 6, 11), request.Input{})
	// Received Monday 9 November: due Monday 16th, overdue.
	f.expiry = raiseTestRequestAt(t, p, f.thameside, request.NewEnhancement{
		Title: "Competence expiry reminders in Employee Self Service", FunctionalArea: "Self Service", SRNumber: "SR1000002",
	}, londonTime(2026, 11, 9, 10))
	// Received Friday 13 November: due today.
	f.matrix = raiseTestRequestAt(t, p, f.thameside, request.NewEnhancement{
		Title: "Filter the Compliance Matrix by staff group", FunctionalArea: "Learning Management (OLM)", SRNumber: "SR1000003",
	}, londonTime(2026, 11, 13, 10))
	// Received Wednesday 18 November: due Wednesday 25th.
	f.p60 = raiseTestRequestAt(t, p, f.charnwood, request.NewEnhancement{
		Title: "Let employees download P60 as a PDF", SRNumber: "SR1000004", Urgency: "low",
	}, londonTime(2026, 11, 18, 10))

	f.london = fmt.Sprint(testOrganisation(t, p, "ZLN01").RegionID)
	f.midlandsOrg = fmt.Sprint(testOrganisation(t, p, "ZMD01").ID)
	nsig, err := request.NSIGFor(context.Background(), p.db.DB, "Payroll")
	if err != nil || nsig == 0 {
		t.Fatalf("no NSIG for Payroll: %v", err)
	}
	f.payrollNSIG = fmt.Sprint(nsig)
	return f
}

func TestRequestsListFilters(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	b := f.centralBrowser

	for _, tc := range []struct {
		query string
		want  []*request.Request
	}{
		{"", []*request.Request{f.p60, f.matrix, f.expiry, f.payslip}},
		{"sort=oldest", []*request.Request{f.payslip, f.expiry, f.matrix, f.p60}},
		{"sort=due", []*request.Request{f.expiry, f.matrix, f.p60, f.payslip}},
		{"status=in_triage", []*request.Request{f.payslip}},
		{"status=submitted", []*request.Request{f.p60, f.matrix, f.expiry}},
		{"status=any-nonsense", []*request.Request{f.p60, f.matrix, f.expiry, f.payslip}},
		{"area=Payroll", []*request.Request{f.p60, f.payslip}},
		{"area=" + url.QueryEscape("Learning Management (OLM)"), []*request.Request{f.matrix}},
		{"nsig=" + f.payrollNSIG, []*request.Request{f.p60, f.payslip}},
		{"region=" + f.london, []*request.Request{f.matrix, f.expiry}},
		{"organisation=" + f.midlandsOrg, []*request.Request{f.p60}},
		{"sla=overdue", []*request.Request{f.expiry}},
		{"sla=due_today", []*request.Request{f.matrix}},
		{"sla=due", []*request.Request{f.p60}},
		{"sla=acknowledged", []*request.Request{f.payslip}},
		{"from-day=1&from-month=11&from-year=2026&to-day=12&to-month=11&to-year=2026", []*request.Request{f.expiry}},
		{"from-day=13&from-month=11&from-year=2026", []*request.Request{f.p60, f.matrix}},
		{"to-day=13&to-month=11&to-year=2026", []*request.Request{f.matrix, f.expiry, f.payslip}},
		{"q=payslip", []*request.Request{f.payslip}},
		{"q=" + url.QueryEscape("competence reminders"), []*request.Request{f.expiry}},
		{"q=" + strings.ToLower(f.matrix.Reference), []*request.Request{f.matrix}},
		{"q=SR1000004", []*request.Request{f.p60}},
		{"q=nothing+like+this", nil},
		{"area=Payroll&sla=due", []*request.Request{f.p60}},
		{"region=" + f.london + "&sla=due_today", []*request.Request{f.matrix}},
	} {
		wantListed(t, b, "/requests?"+tc.query, tc.want...)
	}

	// A row: reference, title, functional area, organisation and region, status tag, received date,
	// supporters; the filters come back as chosen.
	res := b.get("/requests?status=in_triage&area=Payroll&sort=oldest")
	for _, want := range []string{
		`<a href="/requests/` + f.payslip.Reference + `">` + f.payslip.Reference + `</a>`,
		"Welsh-language (Cymraeg) field labels on the online payslip", "Fenland Valley NHS Foundation Trust", "East of England",
		`<strong class="nhsuk-tag nhsuk-tag--blue">In triage</strong>`, "5 October 2026",
		`<option value="in_triage" selected>`, `<option value="Payroll" selected>`, `<option value="oldest" selected>`,
		"1 request</h2>",
		`href="/requests/export.csv?area=Payroll&amp;sort=oldest&amp;status=in_triage"`,
		`href="/requests/export.xlsx?area=Payroll&amp;sort=oldest&amp;status=in_triage"`,
		"up to 10,000 requests",
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the filtered list lacks %q", want)
		}
	}
	if strings.Contains(res.body, "Test Requester") {
		t.Error("the list names the person who raised a request")
	}

	// Searching offers, and defaults to, the best match; the newest first is the default otherwise.
	res = b.get("/requests?q=payslip")
	if !strings.Contains(res.body, `<option value="" selected>Best match</option>`) || !strings.Contains(res.body, `<option value="newest">Newest first</option>`) {
		t.Error("a search is not sorted by best match")
	}
	res = b.get("/requests")
	if strings.Contains(res.body, "Best match") || !strings.Contains(res.body, `<option value="" selected>Newest first</option>`) {
		t.Error("best match is offered without a search")
	}
}

func TestRequestsListBadDates(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	b := f.centralBrowser

	res := b.get("/requests?q=payslip&status=in_triage&from-day=31&from-month=2&from-year=2026&to-day=1&to-month=12&to-year=2026")
	mustStatus(t, res, 422, "an impossible date")
	for _, want := range []string{
		"<title>Error: Requests", "There is a problem", `href="#from-day"`, "Enter a real date for ‘raised from’",
		`id="from-error"`, `value="31"`, `value="2"`, `value="payslip"`, `<option value="in_triage" selected>`,
		`id="to-day" name="to-day" type="text" inputmode="numeric" value="1"`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the 422 page lacks %q", want)
		}
	}
	if len(listedRefs(res.body)) != 0 || strings.Contains(res.body, "export.csv") {
		t.Error("the 422 page lists requests or offers an export")
	}

	res = b.get("/requests?from-day=20&from-month=11&from-year=2026&to-day=1&to-month=11&to-year=2026")
	mustStatus(t, res, 422, "to before from")
	if !strings.Contains(res.body, `href="#to-day"`) || !strings.Contains(res.body, "must be the same as or after") {
		t.Errorf("no error for a range that ends before it starts:\n%s", excerpt(res.body))
	}
	res = b.get("/requests?from-day=x&from-month=11&from-year=2026")
	mustStatus(t, res, 422, "a day that is not a number")

	// An export with a bad date goes back to the list, which says why.
	res = b.get("/requests/export.csv?from-day=31&from-month=2&from-year=2026")
	mustStatus(t, res, 303, "export with an impossible date")
	if loc := res.header.Get("Location"); loc != "/requests?from-day=31&from-month=2&from-year=2026" {
		t.Errorf("the export sent the browser to %s", loc)
	}
}

func TestRequestsListPagination(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	start := londonTime(2026, 11, 2, 9)
	var raised []*request.Request
	for i := range 27 {
		raised = append(raised, raiseTestRequestAt(t, p, u, request.NewEnhancement{Title: fmt.Sprintf("Paged request %02d", i+1)}, start.Add(time.Duration(i)*time.Hour)))
	}
	acceptTestRequest(t, p, raised[0].Reference, p.clock.Now())
	b := p.as(p.users[identity.RoleCentralTeam])

	res := b.get("/requests?status=submitted&sort=oldest")
	mustStatus(t, res, 200, "page 1")
	if got := listedRefs(res.body); !slices.Equal(got, refsOf(raised[1:26]...)) {
		t.Errorf("page 1 lists %v", got)
	}
	if !strings.Contains(res.body, "26 requests</h2>") {
		t.Error("page 1 does not say how many requests match")
	}
	if !strings.Contains(res.body, `href="/requests?page=2&amp;sort=oldest&amp;status=submitted"`) || strings.Contains(res.body, `rel="prev"`) {
		t.Errorf("page 1's links do not keep the filters:\n%s", excerpt(res.body[strings.Index(res.body, "<h2"):]))
	}
	// The export links carry the filter, never the page.
	if !strings.Contains(res.body, `href="/requests/export.csv?sort=oldest&amp;status=submitted"`) {
		t.Error("the export link does not carry the filter")
	}

	res = b.get("/requests?page=2&sort=oldest&status=submitted")
	if got := listedRefs(res.body); !slices.Equal(got, refsOf(raised[26])) {
		t.Errorf("page 2 lists %v", got)
	}
	if !strings.Contains(res.body, `href="/requests?page=1&amp;sort=oldest&amp;status=submitted"`) || strings.Contains(res.body, `rel="next"`) {
		t.Error("page 2's links are wrong")
	}

	// The export holds every match, not one page.
	res = b.get("/requests/export.csv?status=submitted&sort=oldest")
	if got := csvColumn(t, res.body, 0); !slices.Equal(got, refsOf(raised[1:]...)) {
		t.Errorf("the export holds %d requests, want 26", len(got))
	}
}

// TestRequestsListBestMatchesAmongTheNewest: a search sorted by best match that matches more requests
// than are ranked says that its best matches come from the most recent of them, and its pages go as far
// as those; sorted by newest first, every match is paged and nothing is said.
func TestRequestsListBestMatchesAmongTheNewest(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	// Every synthetic request says its manual work "causes errors".
	if err := seed.Synthetic(ctx, p.db.DB, p.clock.Now(), request.BestMatchCandidates+100, 5, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.db.Owner(t).ExecContext(ctx, "ANALYZE requests"); err != nil {
		t.Fatal(err)
	}
	b := p.as(p.users[identity.RoleCentralTeam])
	const note = "Best matches from the 500 most recent of these."
	pages := request.BestMatchCandidates / requestsPerPage

	res := b.get("/requests?q=errors")
	mustStatus(t, res, 200, "a search matching more than are ranked")
	if !strings.Contains(res.body, note) || !strings.Contains(res.body, fmt.Sprintf("2 of %d", pages)) {
		t.Errorf("the search does not say where its best matches come from, or pages past them:\n%s", excerpt(res.body[strings.Index(res.body, `id="requests-total"`):]))
	}
	if got := listedRefs(res.body); len(got) != requestsPerPage {
		t.Errorf("page 1 lists %d requests", len(got))
	}
	res = b.get(fmt.Sprintf("/requests?q=errors&page=%d", pages))
	if got := listedRefs(res.body); len(got) != requestsPerPage || strings.Contains(res.body, `rel="next"`) {
		t.Errorf("the last page of best matches lists %d requests and links on: %v", len(got), strings.Contains(res.body, `rel="next"`))
	}
	res = b.get(fmt.Sprintf("/requests?q=errors&sort=newest&page=%d", pages+1))
	if got := listedRefs(res.body); len(got) == 0 || strings.Contains(res.body, note) {
		t.Errorf("newest first, page %d lists %d requests (note shown: %v)", pages+1, len(got), strings.Contains(res.body, note))
	}
	res = b.get("/requests?q=" + url.QueryEscape("Oliver McGowan"))
	if strings.Contains(res.body, note) || len(listedRefs(res.body)) == 0 {
		t.Errorf("a search matching fewer than are ranked says its matches were bounded, or found none")
	}
}
