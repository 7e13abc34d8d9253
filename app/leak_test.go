package app

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
)

// The leak test: a canary word is planted in every field that some viewer must not see, in requests in
// every state of visibility; then, as each kind of viewer, everything every channel returns is
// collected — every GET route of the route table with every id, both exports, search with each canary
// as the query, similar-request search, the viewer's notifications and the emails written to them,
// calendar files and schedules (PDFs read back as text, workbooks unzipped) — and any canary the viewer
// must not see fails the test. Who may see each canary is written out by hand from DESIGN §1, apart from
// the code. A GET route with a parameter the test does not know how to fill fails it too, so a channel
// cannot be added without being covered.

// leakViewers are the kinds of viewer, by key.
var leakViewers = []string{"raiser", "other_org", "nsig_member", "other_nsig", "fam_region", "fam_elsewhere", "central", "developer", "admin"}

// canary is a word planted in one field, with who may see it and the request it belongs to (whose
// reference a search for the word must not return to anyone else).
type canary struct {
	Word    string
	Field   string
	Home    string // key of the request it belongs to; "" when it is not a request's
	Allowed []string
}

func (c canary) allows(who string) bool {
	for _, a := range c.Allowed {
		if a == who {
			return true
		}
	}
	return false
}

// leakWorld is the planted portal.
type leakWorld struct {
	p       *testPortal
	users   map[string]*identity.User
	refs    map[string]string // request key → reference
	ids     map[string]int64  // request key → id
	canary  []canary
	draftID string
	nsigIDs []int64
	region  int16 // the Wales seat's region
	params  map[string][]string
}

func TestNoChannelLeaksWhatAViewerMayNotSee(t *testing.T) {
	// Not parallel with other tests, whose writes would keep the content cache from being used (see
	// TestCachedPagesShowEveryChangeAtOnce): the cached pages are a channel it checks.
	w := plantLeakWorld(t)
	seen := map[string]bool{} // canary words some allowed viewer saw, to prove they were planted
	wordingReported := map[string]bool{}
	checks := 0
	for _, who := range leakViewers {
		b := w.p.as(w.users[who])
		report := func(channel, body string) {
			checks++
			for _, c := range w.canary {
				if !strings.Contains(body, c.Word) {
					continue
				}
				if c.allows(who) {
					seen[c.Word] = true
					continue
				}
				t.Errorf("%s sees %s (%q) through %s", who, c.Field, c.Word, channel)
			}
		}
		// Every GET route with every id.
		for _, path := range w.getPaths(t) {
			res := b.get(path)
			body := readable(t, res)
			report("GET "+path, body)
			if bad := badWording(body); bad != "" && !wordingReported[path] {
				wordingReported[path] = true
				t.Errorf("GET %s as %s reads %q", path, who, bad)
			}
		}
		// The pages the content cache keeps, opened again: now they come from the cache.
		for _, path := range w.getPaths(t) {
			if rest, ok := strings.CutPrefix(path, "/requests"); ok && (rest == "" || strings.Count(rest, "/") == 1 && !strings.ContainsAny(rest, "?")) {
				report("GET "+path+" (again, from the content cache)", readable(t, b.get(path)))
			}
		}
		// Search and similar requests with each canary: neither its text nor, for a viewer who may
		// not see it, its request may come back.
		for _, c := range w.canary {
			for _, path := range []string{
				"/requests?q=" + url.QueryEscape(c.Word),
				"/requests/export.csv?q=" + url.QueryEscape(c.Word),
				"/requests/export.xlsx?q=" + url.QueryEscape(c.Word),
				"/requests/similar?title=" + url.QueryEscape(c.Word+" "+c.Word),
			} {
				body := readable(t, b.get(path))
				// The search box shows back what was searched for: that is the viewer's own word.
				report("GET "+path, strings.ReplaceAll(body, c.Word, ""))
				if c.Home != "" && !c.allows(who) && strings.Contains(body, w.refs[c.Home]) {
					t.Errorf("%s finds %s by searching for %s (%q), which they may not see: %s", who, w.refs[c.Home], c.Field, c.Word, path)
				}
			}
		}
		// What the portal told them, in the portal and by email.
		var told []string
		if err := w.p.db.DB.NewRaw(`SELECT title || ' ' || body FROM notifications WHERE user_id = ?
			UNION ALL SELECT subject || ' ' || body_text || ' ' || link || ' ' || actions::text FROM email_outbox WHERE user_id = ?`,
			w.users[who].ID, w.users[who].ID).Scan(context.Background(), &told); err != nil {
			t.Fatal(err)
		}
		for i, m := range told {
			report(fmt.Sprintf("notification or email %d", i+1), m)
		}
	}
	for _, c := range w.canary {
		if !seen[c.Word] {
			t.Errorf("nobody allowed saw %s (%q): the canary was not planted or no channel shows it", c.Field, c.Word)
		}
	}
	if hits, _ := w.p.app.content.counts(); hits == 0 {
		t.Error("no page came from the content cache: its path was not checked")
	}
	t.Logf("%d viewers × %d canaries, %d responses and messages checked", len(leakViewers), len(w.canary), checks)
}

// readable is what a response shows a person: HTML and text as they are, a PDF as its text, a workbook
// as the text of its parts.
func readable(t *testing.T, res response) string {
	t.Helper()
	ct := res.header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/pdf"):
		f := filepath.Join(t.TempDir(), "read.pdf")
		if err := os.WriteFile(f, []byte(res.body), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", "-enc", "UTF-8", f, "-").Output()
		if err != nil {
			// Not a PDF the portal made (a supporting document as uploaded): its bytes as they are.
			return res.body
		}
		return string(out) + res.body
	case strings.Contains(ct, "spreadsheetml"):
		zr, err := zip.NewReader(bytes.NewReader([]byte(res.body)), int64(len(res.body)))
		if err != nil {
			t.Fatalf("read workbook: %v", err)
		}
		var b strings.Builder
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(&b, rc); err != nil {
				t.Fatal(err)
			}
			rc.Close()
		}
		return b.String()
	}
	return res.body
}

// getPaths is every GET route of the route table with its parameters filled in every way the planted
// world allows. A route with a parameter the test cannot fill fails the test.
func (w *leakWorld) getPaths(t *testing.T) []string {
	t.Helper()
	// Routes that carry nothing of any request.
	skip := map[string]string{
		"/public/*":    "static files",
		"/assets/*":    "static files",
		"/favicon.ico": "a static file",
	}
	param := regexp.MustCompile(`:[a-z]+`)
	var out []string
	for _, r := range w.p.app.Routes() {
		if r.Method != "GET" {
			continue
		}
		if _, ok := skip[r.Path]; ok {
			continue
		}
		paths := []string{r.Path}
		for _, name := range param.FindAllString(r.Path, -1) {
			key := paramKey(r.Path, name)
			values, ok := w.params[key]
			if !ok {
				t.Fatalf("GET %s: the leak test does not know how to fill %s; add the ids it takes to plantLeakWorld", r.Path, name)
			}
			var next []string
			for _, p := range paths {
				for _, v := range values {
					next = append(next, strings.Replace(p, name, url.PathEscape(v), 1))
				}
			}
			paths = next
		}
		out = append(out, paths...)
	}
	// Pages that read their subject from the query string.
	out = append(out, "/schedules/preview?quarter=2026-Q3&date-day=20&date-month=11&date-year=2026",
		"/schedules/preview/pdf?quarter=2026-Q3&date-day=20&date-month=11&date-year=2026")
	sort.Strings(out)
	return out
}

// paramKey names the ids a route parameter takes: ":id" by what the path is about, any other
// parameter by its own name.
func paramKey(path, name string) string {
	switch {
	case name != ":id":
		return name[1:]
	case strings.HasPrefix(path, "/requests/drafts/"):
		return "draft"
	case strings.HasPrefix(path, "/requests/:ref/attachments/"):
		return "attachment"
	case strings.HasPrefix(path, "/admin/"):
		return strings.SplitN(strings.TrimPrefix(path, "/admin/"), "/", 2)[0]
	}
	return strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)[0]
}

// plantLeakWorld raises requests in every state of visibility with a canary in every field that some
// viewer must not see.
func plantLeakWorld(t *testing.T) *leakWorld {
	t.Helper()
	ctx := context.Background()
	p := newTestPortal(t)
	w := &leakWorld{p: p, users: map[string]*identity.User{}, refs: map[string]string{}, ids: map[string]int64{}}
	people := []struct {
		key, name, email, ods string
		roles                 []string
	}{
		{"raiser", "Rhian Qzraisername", "qzraisermail@thameside.nhs.uk", "ZLN01", []string{identity.RoleRequester}},
		{"other_org", "Owain Qzothername", "qzothermail@charnwood.nhs.uk", "ZMD01", []string{identity.RoleRequester}},
		{"nsig_member", "Nia Qznsigname", "qznsigmail@teifi.wales.nhs.uk", "ZWA01", []string{identity.RoleRequester}},
		{"other_nsig", "Osian Qzpayrollname", "qzpayrollmail@teifi.wales.nhs.uk", "ZWA01", []string{identity.RoleRequester}},
		{"fam_region", "Fran Regional", "fam.london@esr.nhs.uk", "ZLN02", []string{identity.RoleFunctionalAccountManager}},
		{"fam_elsewhere", "Fergus Elsewhere", "fam.ne@esr.nhs.uk", "ZNE01", []string{identity.RoleFunctionalAccountManager}},
		{"central", "Cara Central", "cara.central@esr.nhs.uk", "ZNC01", []string{identity.RoleCentralTeam}},
		{"developer", "Dev Eloper", "dev.eloper@esr.nhs.uk", "ZNC01", []string{identity.RoleDevelopmentTeam}},
		{"admin", "Ada Admin", "ada.admin@esr.nhs.uk", "ZNC01", []string{identity.RoleAdmin}},
	}
	for _, pp := range people {
		org, err := organisation.GetByODS(ctx, p.db.DB, pp.ods)
		if err != nil {
			t.Fatal(err)
		}
		u, err := identity.Create(ctx, p.db.DB, audit.Actor{Name: "test"}, p.clock.Now(), identity.NewUser{
			Email: pp.email, Name: pp.name, OrganisationID: org.ID, Roles: pp.roles, Password: testPassword,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.users[pp.key] = u
	}
	viewer := func(who string) request.Viewer {
		t.Helper()
		u, err := identity.Get(ctx, p.db.DB, w.users[who].ID)
		if err != nil {
			t.Fatal(err)
		}
		w.users[who] = u
		v, err := request.ViewerFor(ctx, p.db.DB, u)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tick := func() time.Time { p.clock.Advance(time.Minute); return p.clock.Now() }
	env := func() request.Env { return request.Env{Now: tick(), Calendar: p.app.calendar} }
	apply := func(who, key, action string, in request.Input) {
		t.Helper()
		if err := p.db.DB.NewSelect().Table("requests").Column("version").Where("id = ?", w.ids[key]).Scan(ctx, &in.Version); err != nil {
			t.Fatal(err)
		}
		if _, err := request.Apply(ctx, p.db.DB, env(), viewer(who), audit.Actor{Name: who}, w.refs[key], action, in); err != nil {
			t.Fatalf("%s %s (%s): %v", action, key, who, err)
		}
	}
	seq := 0
	raise := func(who, key, title, problem, proposal string) {
		t.Helper()
		seq++
		r, err := request.RaiseEnhancement(ctx, p.db.DB, p.app.calendar, viewer(who), audit.Actor{Name: who}, tick(), request.NewEnhancement{
			SRNumber: fmt.Sprintf("SR%07d", 9990000+seq), Title: title, FunctionalArea: "Self Service", Problem: problem, Proposal: proposal,
			AffectedUsers: []string{"employee"}, Urgency: "medium", SubmissionToken: fmt.Sprintf("00000000-0000-4000-b000-%012d", seq),
		})
		if err != nil {
			t.Fatal(err)
		}
		w.refs[key], w.ids[key] = r.Reference, r.ID
	}
	plant := func(word, field, home string, allowed ...string) {
		w.canary = append(w.canary, canary{Word: word, Field: field, Home: home, Allowed: allowed})
	}
	everyone := leakViewers
	central := "central"

	// NSIG seats: the member sits for Wales on the NSIG that reviews Self Service; the other on Payroll.
	var nsigs []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := p.db.DB.NewSelect().Table("nsigs").Column("id", "name").Order("id").Scan(ctx, &nsigs); err != nil {
		t.Fatal(err)
	}
	wales, err := organisation.GetByODS(ctx, p.db.DB, "ZWA01")
	if err != nil {
		t.Fatal(err)
	}
	w.region = wales.RegionID
	for _, seat := range []struct{ who, nsig string }{{"nsig_member", "Self Service and Portal"}, {"other_nsig", "Payroll and Pensions"}} {
		for _, n := range nsigs {
			if n.Name != seat.nsig {
				continue
			}
			if _, err := nsig.Appoint(ctx, p.db.DB, viewer(central), audit.Actor{Name: central}, tick(), n.ID, wales.RegionID, nsig.AppointInput{
				Position: nsig.Member, Email: w.users[seat.who].Email, NominatingSIG: "Wales regional SIG", NominatedOn: p.clock.Now().AddDate(0, 0, -7),
				HowChosen: nsig.ChosenElection, TermStart: p.clock.Now().AddDate(0, 0, -1), TermEnd: p.clock.Now().AddDate(2, 0, 0),
			}); err != nil {
				t.Fatalf("appoint %s: %v", seat.who, err)
			}
		}
	}
	for _, n := range nsigs {
		w.nsigIDs = append(w.nsigIDs, n.ID)
	}
	full3 := []string{"raiser", "fam_region", "nsig_member", central, "developer"}
	notAccepted := []string{"raiser", "fam_region", central}

	// R1: raised, not yet accepted: only the raising organisation, its FAM and the central team.
	raise("raiser", "r1", "Qzonetitle for the first request", "qzoneproblem today", "qzoneproposal instead")
	plant("Qzonetitle", "the title of a request not yet accepted", "r1", notAccepted...)
	plant("qzoneproblem", "the problem of a request not yet accepted", "r1", notAccepted...)
	plant("qzoneproposal", "the proposal of a request not yet accepted", "r1", notAccepted...)

	// R2: a question and its answer, before acceptance.
	raise("raiser", "r2", "Qztwotitle for the second request", "The problem of two", "The proposal of two")
	plant("Qztwotitle", "the title of a request in triage", "r2", notAccepted...)
	apply(central, "r2", "acknowledge", request.Input{})
	apply(central, "r2", "request_information", request.Input{Text: "qzquestiontext: which staff groups?"})
	apply("raiser", "r2", "answer", request.Input{Text: "qzanswertext: all of them"})
	plant("qzquestiontext", "an information question", "r2", notAccepted...)
	plant("qzanswertext", "an information answer", "r2", notAccepted...)

	// R3: accepted, with its NSIG's regional view, comments, requirement, justification, a supporting
	// document and an impact assessment.
	raise("raiser", "r3", "Leak three shows its title to everyone", "qzthreeproblem today", "qzthreeproposal instead")
	plant("qzthreeproblem", "the problem of an accepted request", "r3", full3...)
	plant("qzthreeproposal", "the proposal of an accepted request", "r3", full3...)
	apply(central, "r3", "acknowledge", request.Input{})
	apply(central, "r3", "classify_enhancement", request.Input{Summary: "qzpublicsummary: what it asks for", Text: "qzclassifynote for the requester"})
	plant("qzpublicsummary", "the public summary", "", everyone...)
	plant("qzclassifynote", "the note to the requester at classification", "r3", full3...)
	if _, err := nsig.RecordView(ctx, p.db.DB, viewer("nsig_member"), audit.Actor{Name: "nsig_member"}, tick(), w.refs["r3"],
		nsig.ViewInput{View: nsig.SupportWithConcerns, Comment: "qzregionalcomment about payroll"}); err != nil {
		t.Fatal(err)
	}
	plant("qzregionalcomment", "a region's view", "r3", full3...)
	for _, c := range []struct {
		who, body string
		internal  bool
	}{{"raiser", "qzsharedcomment from the raiser", false}, {central, "qzinternalnote for the teams", true}} {
		if err := request.AddComment(ctx, p.db.DB, viewer(c.who), audit.Actor{Name: c.who}, tick(), w.refs["r3"], c.body, c.internal); err != nil {
			t.Fatal(err)
		}
	}
	plant("qzsharedcomment", "a shared comment", "r3", full3...)
	plant("qzinternalnote", "an internal note", "r3", "nsig_member", central, "developer")
	apply("raiser", "r3", "progress", request.Input{})
	if _, err := request.SaveRequirement(ctx, p.db.DB, viewer("raiser"), audit.Actor{Name: "raiser"}, tick(), w.refs["r3"], 0, "qzrequirementtext: the change in full"); err != nil {
		t.Fatal(err)
	}
	plant("qzrequirementtext", "the requirement definition", "r3", full3...)
	for _, who := range []string{"raiser", "developer"} {
		if _, _, err := request.AgreeRequirement(ctx, p.db.DB, viewer(who), audit.Actor{Name: who}, tick(), w.refs["r3"], 1); err != nil {
			t.Fatalf("agree as %s: %v", who, err)
		}
	}
	if _, _, err := request.SaveJustificationSection(ctx, p.db.DB, viewer("raiser"), audit.Actor{Name: "raiser"}, tick(), w.refs["r3"], request.JustificationEdit{
		Section: request.SectionStrategicFit, Answers: request.JustificationAnswers{StrategicFit: &request.StrategicFitAnswers{
			Policy: "qzjustificationtext: the NHS People Plan", Legislative: "no"}},
	}); err != nil {
		t.Fatal(err)
	}
	plant("qzjustificationtext", "the business justification", "r3", full3...)
	if _, err := request.AddAttachment(ctx, p.db.DB, viewer("raiser"), audit.Actor{Name: "raiser"}, tick(), w.refs["r3"], "qzattachmentname.pdf",
		[]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")); err != nil {
		t.Fatal(err)
	}
	plant("qzattachmentname", "a supporting document's name", "r3", full3...)
	// The rest of the justification is taken as complete, so that the request can be assessed.
	if _, err := p.db.DB.NewRaw(`UPDATE business_justifications SET submitted_at = ? WHERE request_id = ?`, tick(), w.ids["r3"]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	apply(central, "r3", "submit_for_assessment", request.Input{})
	days := 12.5
	if _, err := request.SaveAssessment(ctx, p.db.DB, viewer("developer"), audit.Actor{Name: "developer"}, tick(), w.refs["r3"], request.AssessmentInput{
		EffortSize: "M", EffortDays: &days, Risks: "qzassessmentrisk in March", Recommendation: "approve", Notes: "Straightforward",
	}); err != nil {
		t.Fatal(err)
	}
	plant("qzassessmentrisk", "the impact assessment", "r3", central, "developer")

	// R4: accepted and supported by another organisation, then withdrawn with a reason.
	raise("raiser", "r4", "Leak four is withdrawn", "The problem of four", "The proposal of four")
	apply(central, "r4", "acknowledge", request.Input{})
	apply(central, "r4", "classify_enhancement", request.Input{Summary: "The fourth change"})
	if err := request.Support(ctx, p.db.DB, viewer("other_org"), audit.Actor{Name: "other_org"}, tick(), w.refs["r4"], "qzsupportnote: we need it too"); err != nil {
		t.Fatal(err)
	}
	plant("qzsupportnote", "a supporting organisation's note", "r4", append([]string{"other_org"}, full3...)...)
	apply("raiser", "r4", "withdraw", request.Input{Text: "qzwithdrawreason: ring me on 01632 960123"})
	plant("qzwithdrawreason", "a withdrawal reason", "r4", full3...)

	// R5: another organisation's request, closed as a duplicate of R1, which is not yet accepted. Its
	// raiser follows R1 now, and must not be told of it.
	raise("other_org", "r5", "Qzfivetitle from another organisation", "qzfiveproblem of theirs", "Their proposal")
	plant("Qzfivetitle", "another organisation's request not yet accepted", "r5", "other_org", central)
	plant("qzfiveproblem", "another organisation's problem", "r5", "other_org", central)
	apply(central, "r5", "acknowledge", request.Input{})
	apply(central, "r5", "not_taken_forward", request.Input{Reason: "duplicate", DuplicateOf: w.refs["r1"], Text: "qzfiveexplanation: see the original"})
	plant("qzfiveexplanation", "the explanation to another organisation", "r5", "other_org", central)
	apply(central, "r1", "acknowledge", request.Input{})

	// R6: a supplementary role request under review.
	seq++
	role, err := request.RaiseSupplementaryRole(ctx, p.db.DB, p.app.calendar, viewer("raiser"), audit.Actor{Name: "raiser"}, tick(), request.NewSupplementaryRole{
		RoleName: "Qzsixrolename Champion", Duties: "qzroleduties of the role", InputLevel: "manager", Justification: "Needed", Benefits: "Reporting",
		Organisations: "All", SubmissionToken: fmt.Sprintf("00000000-0000-4000-b000-%012d", seq),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.refs["r6"], w.ids["r6"] = role.Reference, role.ID
	apply(central, "r6", "acknowledge", request.Input{})
	plant("Qzsixrolename", "a role request not yet decided", "r6", notAccepted...)
	plant("qzroleduties", "a role request's duties", "r6", notAccepted...)

	// A draft, the raiser's alone.
	id, err := request.NewDraft(ctx, p.db.DB, audit.Actor{Name: "raiser"}, w.users["raiser"].ID, request.KindEnhancement, tick())
	if err != nil {
		t.Fatal(err)
	}
	if err := request.SaveDraft(ctx, p.db.DB, audit.Actor{Name: "raiser"}, w.users["raiser"].ID, id, request.EnhancementDraft{Title: "Qzdrafttitle not yet sent"}, tick()); err != nil {
		t.Fatal(err)
	}
	w.draftID = id
	plant("Qzdrafttitle", "a draft", "", "raiser")

	// People: never named to other organisations.
	plant("Qzraisername", "the raiser's name", "", "raiser", "fam_region", "nsig_member", central, "developer", "admin")
	plant("qzraisermail", "the raiser's email address", "", "raiser", "fam_region", "nsig_member", central, "developer", "admin")
	plant("Qznsigname", "an NSIG member's name", "", "nsig_member", central, "developer", "admin")
	plant("qznsigmail", "an NSIG member's email address", "", "nsig_member", central, "developer", "admin")

	// An NSIG meeting whose agenda links the accepted request; the one not yet accepted is refused.
	var selfService int64
	for _, n := range nsigs {
		if n.Name == "Self Service and Portal" {
			selfService = n.ID
		}
	}
	n, err := nsig.Get(ctx, p.db.DB, viewer(central), selfService)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nsig.Schedule(ctx, p.db.DB, viewer(central), audit.Actor{Name: central}, tick(), selfService, nsig.MeetingInput{
		StartsAt: p.clock.Now().AddDate(0, 0, 14), DurationMinutes: 60, TeamsLink: "https://teams.microsoft.com/l/meetup-join/leak", Purpose: nsig.PurposeMemberItems,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nsig.RequestItem(ctx, p.db.DB, viewer(central), audit.Actor{Name: central}, tick(), n, m.ID, nsig.ItemInput{
		Title: "A request not yet accepted", References: w.refs["r1"]}); err == nil {
		t.Errorf("the central team put %s, not yet accepted, on an NSIG agenda", w.refs["r1"])
	}
	item, err := nsig.RequestItem(ctx, p.db.DB, viewer("nsig_member"), audit.Actor{Name: "nsig_member"}, tick(), n, m.ID, nsig.ItemInput{
		Title: "The accepted request", References: w.refs["r3"]})
	if err != nil {
		t.Fatal(err)
	}
	if err := nsig.DecideItem(ctx, p.db.DB, viewer(central), audit.Actor{Name: central}, tick(), n, m.ID, item.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := nsig.Publish(ctx, p.db.DB, viewer(central), audit.Actor{Name: central}, tick(), n, m.ID); err != nil {
		t.Fatal(err)
	}

	// Alerts, summaries and reports the portal sends by itself: a request left waiting to be
	// acknowledged, a question left unanswered, an assessment left waiting, on the days after; the
	// central team's summary of new requests; each region's monthly report.
	raise("raiser", "ra", "Qzalerttitle left waiting", "qzalertproblem today", "Its proposal")
	plant("Qzalerttitle", "the title of a request the central team is alerted about", "ra", notAccepted...)
	raise("raiser", "rb", "Qzreplytitle with a question", "qzreplyproblem today", "Its proposal")
	plant("Qzreplytitle", "the title of a request whose raiser is alerted about an answer", "rb", notAccepted...)
	apply(central, "rb", "request_information", request.Input{Text: "qzalertquestion: which forms?"})
	plant("qzalertquestion", "a question whose answer falls due", "rb", notAccepted...)
	if err := notify.SavePreferences(ctx, p.db.DB, audit.Actor{Name: central}, tick(), w.users[central].ID, false,
		[]notify.Preference{{Event: notify.EventNewRequestsDaily, InApp: true, Email: true}}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"2026-11-21", "2026-11-26", "2026-11-30", "2026-12-02", "2026-12-07", "2026-12-08"} {
		day, err := time.Parse(time.DateOnly, d)
		if err != nil {
			t.Fatal(err)
		}
		env := request.Env{Now: day.Add(8 * time.Hour), Calendar: p.app.calendar}
		if _, err := request.RunAlerts(ctx, p.db.DB, env, day, request.AlertPolicy{}); err != nil {
			t.Fatal(err)
		}
		if _, err := request.SendNewRequestsSummary(ctx, p.db.DB, env, day); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.app.sendRegionReports(ctx, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	if err := p.db.DB.NewRaw(`SELECT DISTINCT kind FROM request_alerts ORDER BY kind`).Scan(ctx, &kinds); err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ",") != "ack_due_tomorrow,ack_overdue,assessment_waiting,reply_due_soon,reply_overdue" {
		t.Fatalf("the alerts planted are %v", kinds)
	}

	// A published Development Schedule.
	pub := p.as(w.users[central]).post("/schedules", url.Values{"quarter": {"2026-Q3"}, "date-day": {"20"}, "date-month": {"11"}, "date-year": {"2026"}, "based": {"0"}})
	mustStatus(t, pub, 303, "publish the schedule")

	// The ids each route parameter takes.
	strs := func(ids ...int64) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = fmt.Sprint(id)
		}
		return out
	}
	var userIDs, mailIDs, scheduleIDs, appointmentIDs, attachmentIDs, orgIDs []int64
	for _, q := range []struct {
		sql  string
		dest *[]int64
	}{
		{"SELECT id FROM users ORDER BY id", &userIDs},
		{"SELECT id FROM email_outbox ORDER BY id", &mailIDs},
		{"SELECT id FROM schedule_publications ORDER BY id", &scheduleIDs},
		{"SELECT id FROM nsig_appointments ORDER BY id", &appointmentIDs},
		{"SELECT id FROM attachments ORDER BY id", &attachmentIDs},
		{"SELECT DISTINCT organisation_id FROM requests ORDER BY 1", &orgIDs},
	} {
		if err := p.db.DB.NewRaw(q.sql).Scan(ctx, q.dest); err != nil {
			t.Fatal(err)
		}
	}
	// Every action any email offers gets its link, made as the sender makes it for an address on the
	// secure list (every planted address is on it here), so that each confirmation page is read too.
	secure, err := notify.ParseSecureDomains("thameside.nhs.uk, charnwood.nhs.uk, teifi.wales.nhs.uk, esr.nhs.uk")
	if err != nil {
		t.Fatal(err)
	}
	p.app.cfg.SecureEmailDomains = secure
	var offered []notify.OutboxEmail
	if err := p.db.DB.NewSelect().Model(&offered).Where("jsonb_array_length(actions) > 0").Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	pages := 0 // confirmation pages their owners can open (the others' requests have moved on)
	for _, e := range offered {
		owner, err := identity.Get(ctx, p.db.DB, e.UserID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range e.Actions {
			token, err := actionlink.CreateAction(ctx, p.db.DB, e.UserID, e.RequestID, a.Name, a.Version, p.clock.Now(), actionlink.TTL)
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, token)
			if p.as(owner).get(actionlink.Prefix+token).status == 200 {
				pages++
			}
		}
	}
	if len(tokens) < 8 || pages < 3 {
		t.Fatalf("%d action links planted, %d of whose pages open: the emails offer fewer actions than they should", len(tokens), pages)
	}
	t.Logf("%d action links planted, %d of whose confirmation pages open for their owners", len(tokens), pages)
	// Every organisation's access review is open, for its approver, its region's FAM or an administrator.
	if _, err := identity.OpenReviews(ctx, p.db.DB, p.clock.Now(), london, p.app.reviewPolicy()); err != nil {
		t.Fatal(err)
	}
	var reviewIDs []int64
	if err := p.db.DB.NewSelect().Table("access_reviews").Column("id").Order("id").Scan(ctx, &reviewIDs); err != nil {
		t.Fatal(err)
	}
	for _, id := range reviewIDs {
		if res := p.as(w.users["admin"]).get(fmt.Sprintf("/access-reviews/%d", id)); res.status != 200 {
			t.Fatalf("the administrator cannot read access review %d: %d", id, res.status)
		}
	}
	if len(reviewIDs) < 3 {
		t.Fatalf("%d access reviews opened", len(reviewIDs))
	}
	refs := []string{"ENH-2099-0001"}
	for _, k := range []string{"r1", "r2", "r3", "r4", "r5", "r6"} {
		refs = append(refs, w.refs[k])
	}
	var actions []string
	seenAction := map[string]bool{}
	for _, tr := range request.Transitions {
		if !seenAction[tr.Name] {
			seenAction[tr.Name] = true
			actions = append(actions, tr.Name)
		}
	}
	var sections []string
	for _, s := range request.JustificationSections {
		sections = append(sections, s.Key)
	}
	w.params = map[string][]string{
		"ref":             refs,
		"draft":           {w.draftID},
		"releases":        {"1"},
		"schedules":       strs(scheduleIDs...),
		"nsigs":           strs(w.nsigIDs...),
		"projects":        {"1"},
		"users":           strs(userIDs...),
		"mail":            strs(mailIDs...),
		"token":           append(tokens, "not-a-token"),
		"v":               {"1"},
		"section":         sections,
		"attachment":      strs(attachmentIDs...),
		"name":            actions,
		"region":          {fmt.Sprint(w.region)},
		"appointment":     strs(appointmentIDs...),
		"meeting":         {fmt.Sprint(m.ID)},
		"provider":        {"sso", "none"},
		"organisations":   {"1"},
		"organisation":    strs(orgIDs...),
		"people":          strs(userIDs...),
		"downtime":        {"1"},
		"access-requests": {"1"},
		"access-reviews":  strs(reviewIDs...),
	}
	return w
}

// Wording the portal must never show: a bare possessive on a name ending in s ("Midlands's view",
// "Wales's"), a count of one with a plural noun ("1 requests"), ESR lower-cased inside a sentence.
var (
	barePossessive = regexp.MustCompile(`\b[A-Z][A-Za-z]*s(?:'|&#39;|’)s\b`)
	pluralOfOne    = regexp.MustCompile(`(?:^|[^0-9.,£])\b1 (?:requests|regions|organisations|events|people|views|comments|supporters|supports|members|seats|changes|days|working days|items|meetings|actions|releases|documents|notifications|questions|sessions|devices|endorsements|answers)\b`)
	lowerESR       = regexp.MustCompile(`\besr already\b`)
)

// badWording returns the first wording fault in a page's text, with the text around it, or "".
func badWording(body string) string {
	for _, re := range []*regexp.Regexp{barePossessive, pluralOfOne, lowerESR} {
		if loc := re.FindStringIndex(body); loc != nil {
			return body[max(0, loc[0]-80):min(len(body), loc[1]+40)]
		}
	}
	return ""
}
