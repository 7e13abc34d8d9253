package app

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/notify/mailtest"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
)

// mailWorld is a portal whose emails are sent, as in production, by the outbox sender to an SMTP
// server run by the test, and read back with a MIME parser.
type mailWorld struct {
	p      *testPortal
	smtp   *mailtest.Server
	sender *notify.Sender
	seen   int
}

func newMailWorld(t *testing.T, p *testPortal) *mailWorld {
	t.Helper()
	srv := mailtest.Start(t)
	cfg := &notify.SMTPConfig{Host: srv.Host, Port: srv.Port, From: notify.DefaultFrom, TLS: notify.TLSNone}
	s := notify.NewSender(p.db.DB, cfg, p.app.cfg.BaseURL.String(), nil, p.clock.Now).OfferActions(p.app.cfg.SecureEmailDomains, p.app.cfg.ActionLinkTTL)
	return &mailWorld{p: p, smtp: srv, sender: s}
}

// deliver sends every email waiting in the outbox and returns those the server received since the
// last call.
func (w *mailWorld) deliver(t *testing.T) []*mailtest.Mail {
	t.Helper()
	for {
		n, err := w.sender.RunOnce(t.Context())
		if err != nil {
			t.Fatalf("send the outbox: %v", err)
		}
		if n == 0 {
			break
		}
	}
	all := w.smtp.Received()
	got := all[w.seen:]
	w.seen = len(all)
	return got
}

// mailTo is the one email of mails to the address whose subject contains about.
func mailTo(t *testing.T, mails []*mailtest.Mail, address, about string) *mailtest.Mail {
	t.Helper()
	var found []*mailtest.Mail
	for _, m := range mails {
		if slices.Contains(m.To, address) && strings.Contains(m.Header.Get("Subject"), about) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		var subjects []string
		for _, m := range mails {
			subjects = append(subjects, fmt.Sprintf("%v: %s", m.To, m.Header.Get("Subject")))
		}
		t.Fatalf("%d emails to %s about %q; emails: %v", len(found), address, about, subjects)
	}
	return found[0]
}

// actionLabels are the words of the action links of an email, read from its HTML part, each checked
// against the plain-text part, which must carry the same words and the same link.
func actionLabels(t *testing.T, m *mailtest.Mail) []string {
	t.Helper()
	var labels []string
	for _, a := range m.HTMLLinks {
		if !strings.Contains(a.Href, actionlink.Prefix) {
			continue
		}
		labels = append(labels, a.Text)
		if !strings.Contains(m.Text, a.Text+":\n"+a.Href+"\n") {
			t.Errorf("the plain-text part lacks the link %q to %s:\n%s", a.Text, a.Href, m.Text)
		}
	}
	var textLinks int
	for _, l := range m.TextLinks {
		if strings.Contains(l, actionlink.Prefix) {
			textLinks++
		}
	}
	if textLinks != len(labels) {
		t.Errorf("%d action links in the text part, %d in the HTML part", textLinks, len(labels))
	}
	return labels
}

// linkPath is the path of the action link with the words label in an email.
func linkPath(t *testing.T, m *mailtest.Mail, label string) string {
	t.Helper()
	for _, a := range m.HTMLLinks {
		if a.Text == label && strings.Contains(a.Href, actionlink.Prefix) {
			u, err := url.Parse(a.Href)
			if err != nil {
				t.Fatal(err)
			}
			return u.Path
		}
	}
	t.Fatalf("no action link %q in the email %q (links %v)", label, m.Header.Get("Subject"), m.HTMLLinks)
	return ""
}

// checkMIME checks what every email of the portal is: multipart text and HTML, from the portal, replies
// to a no-reply address, with the same links in both parts and a footer saying replies are not read.
func checkMIME(t *testing.T, m *mailtest.Mail) {
	t.Helper()
	subject := m.Header.Get("Subject")
	if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") || fmt.Sprint(m.Parts) != "[text/plain text/html]" {
		t.Errorf("%q is %s with parts %v, want multipart/alternative text and HTML", subject, ct, m.Parts)
	}
	if rt := m.Header.Get("Reply-To"); !strings.Contains(rt, "no-reply@esr-portal.example") {
		t.Errorf("%q replies to %q", subject, rt)
	}
	var hrefs []string
	for _, a := range m.HTMLLinks {
		hrefs = append(hrefs, html.UnescapeString(a.Href))
		if strings.TrimSpace(a.Text) == "" || strings.EqualFold(a.Text, "click here") || strings.EqualFold(a.Text, "here") {
			t.Errorf("%q has a link whose words make no sense alone: %+v", subject, a)
		}
	}
	slices.Sort(hrefs)
	text := slices.Clone(m.TextLinks)
	slices.Sort(text)
	if fmt.Sprint(slices.Compact(hrefs)) != fmt.Sprint(slices.Compact(text)) {
		t.Errorf("%q: the parts link to different places:\nHTML %v\ntext %v", subject, hrefs, text)
	}
	for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
		if !strings.Contains(body, "Please do not reply to this email: replies are not read.") {
			t.Errorf("%q: the %s part does not say replies are not read", subject, part)
		}
	}
	for _, want := range []string{`<html lang="en">`, "<title>", `role="presentation"`} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("%q: the HTML part lacks %s", subject, want)
		}
	}
	if strings.Contains(m.HTML, "<style") || strings.Contains(m.HTML, "<script") || strings.Contains(m.HTML, "<img") {
		t.Errorf("%q: the HTML part has a style sheet, script or image", subject)
	}
}

// rowsDigest is a digest of every row of every table except sessions (a signed-in visit keeps its
// session's time of last use): equal digests mean no row was written, changed or removed.
func rowsDigest(t *testing.T, p *testPortal) string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	if err := p.db.DB.NewRaw(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'sessions' ORDER BY table_name`).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, name := range tables {
		var sum string
		if err := p.db.DB.NewRaw(`SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ? AS t`, bun.Ident(name)).Scan(ctx, &sum); err != nil {
			t.Fatalf("digest %s: %v", name, err)
		}
		fmt.Fprintf(&b, "%s=%s\n", name, sum)
	}
	return b.String()
}

// scan opens every link of every email as mail scanners do (signed out; and, as link checkers in the
// recipient's own browser do, signed in as the recipient and as someone else) and fails the test if any
// row of any table changed.
func (w *mailWorld) scan(t *testing.T, mails []*mailtest.Mail, people map[string]*identity.User, stranger *identity.User) int {
	t.Helper()
	before := rowsDigest(t, w.p)
	opened := 0
	for _, m := range mails {
		owner := people[m.To[0]]
		for _, l := range m.TextLinks {
			u, err := url.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			path := u.RequestURI()
			browsers := []*browser{w.p.anonymous(), w.p.as(stranger)}
			if owner != nil {
				browsers = append(browsers, w.p.as(owner))
			}
			for _, b := range browsers {
				res := b.get(path)
				if res.status >= 500 {
					t.Errorf("opening %s: %d", path, res.status)
				}
				opened++
			}
		}
	}
	if after := rowsDigest(t, w.p); after != before {
		t.Fatalf("opening the links of %d emails changed rows:\nbefore %s\nafter  %s", len(mails), before, after)
	}
	return opened
}

// TestActionEmailsThroughTheLifecycle takes a request from being raised to a decision, acting from
// the emails wherever one offers the action: each email is sent over SMTP and read back with a MIME
// parser; each carries exactly the actions its recipient may take, in both parts, when it goes to an
// address on the secure list, and none otherwise; every link of every email is opened as a mail scanner
// would, changing nothing; each link's page shows the request, what will happen and the fields the action
// needs, and only its confirmation takes the action, through the transition table.
func TestActionEmailsThroughTheLifecycle(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	w := newMailWorld(t, p)
	raiser := userIn(t, p, "rhian.raiser@nhs.net", "ZLN01", identity.RoleRequester)
	central := userIn(t, p, "cara.central@nhs.net", "ZNC01", identity.RoleCentralTeam)
	developer := userIn(t, p, "dev.eloper@nhs.net", "ZNC01", identity.RoleDevelopmentTeam)
	fam := userIn(t, p, "fran.fam@nhs.net", "ZLN02", identity.RoleFunctionalAccountManager)
	summaryCentral := p.users[identity.RoleCentralTeam] // central_team@test.nhs.uk: not a secure domain
	stranger := userIn(t, p, "owain.other@nhs.net", "ZMD01", identity.RoleRequester)
	people := map[string]*identity.User{}
	for _, u := range []*identity.User{raiser, central, developer, fam, summaryCentral, stranger} {
		people[u.Email] = u
	}
	opened := 0

	// Raised: the central team is asked to acknowledge it.
	r := raiseFor(t, p, raiser, "Remind staff before competences expire")
	ref, path := r.Reference, "/requests/"+r.Reference
	mails := w.deliver(t)
	opened += w.scan(t, mails, people, stranger)
	ack := mailTo(t, mails, central.Email, ref+" has been raised")
	checkMIME(t, ack)
	if got := actionLabels(t, ack); fmt.Sprint(got) != fmt.Sprint([]string{"Acknowledge " + ref}) {
		t.Errorf("the raised email offers %v", got)
	}
	// The same email to an address off the secure list is the summary email: no action links, and it
	// says why.
	summary := mailTo(t, mails, summaryCentral.Email, ref+" has been raised")
	checkMIME(t, summary)
	if strings.Contains(summary.Raw, actionlink.Prefix) || len(actionLabels(t, summary)) != 0 {
		t.Errorf("the summary email carries action links:\n%s", summary.Text)
	}
	mustContain(t, summary.Text, "summary email", "not on the portal's list of secure email domains", "Open "+ref+" in the portal:\nhttp://localhost:3000"+path)
	var levels []string
	if err := p.db.DB.NewRaw(`SELECT to_address || '=' || email_level FROM email_outbox ORDER BY to_address`).Scan(t.Context(), &levels); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(levels) != fmt.Sprint([]string{central.Email + "=action", summaryCentral.Email + "=summary"}) {
		t.Errorf("levels recorded on the outbox: %v", levels)
	}

	link := linkPath(t, ack, "Acknowledge "+ref)
	cara := p.as(central)
	res := cara.get(link)
	mustStatus(t, res, 200, "the acknowledge link")
	mustContain(t, res.body, "the acknowledge page", "Acknowledge "+ref+"?", "Remind staff before competences expire", "Thameside Royal Hospitals NHS Trust",
		"What will happen", "Nothing has changed yet", "Acknowledgement due", `action="`+link+`"`)
	mustStatus(t, cara.post(link, url.Values{}), 303, "acknowledge from the email")
	mustHaveStatus(t, p, ref, request.StatusInTriage)

	// The central team asks a question; the raiser answers it from the email, which shows it.
	mustStatus(t, cara.post(path+"/actions/request_information", url.Values{"version": {"2"}, "text": {"Which staff groups need the reminder?"}}), 303, "ask")
	mails = w.deliver(t)
	opened += w.scan(t, mails, people, stranger)
	question := mailTo(t, mails, raiser.Email, "The central team has a question about "+ref)
	checkMIME(t, question)
	if got := actionLabels(t, question); fmt.Sprint(got) != fmt.Sprint([]string{"Answer the question about " + ref}) {
		t.Errorf("the question email offers %v", got)
	}
	mustContain(t, question.Text, "question email", "Which staff groups need the reminder?")
	link = linkPath(t, question, "Answer the question about "+ref)
	rhian := p.as(raiser)
	res = rhian.get(link)
	mustStatus(t, res, 200, "the answer link")
	mustContain(t, res.body, "the answer page", "The central team's question", "Which staff groups need the reminder?", "Your answer", "Send your answer")
	res = rhian.post(link, url.Values{"text": {"  "}})
	mustStatus(t, res, 422, "an empty answer")
	mustContain(t, res.body, "the empty answer", "There is a problem", "Enter your answer", "Which staff groups need the reminder?")
	mustHaveStatus(t, p, ref, request.StatusInformationRequested)
	mustStatus(t, rhian.post(link, url.Values{"text": {"Every staff group with CSTF competences."}}), 303, "answer from the email")
	mustHaveStatus(t, p, ref, request.StatusInTriage)
	// The request page says what was done, not only where the request now is.
	res = rhian.get(path)
	mustContain(t, res.body, "the request page after answering from the email", ref+": your answer has been sent to the central team. The request is back in triage")

	// The answer is back with the central team, who may classify it, close it or ask again.
	mails = w.deliver(t)
	opened += w.scan(t, mails, people, stranger)
	answered := mailTo(t, mails, central.Email, "the requester has answered")
	want := []string{"Classify " + ref + " as an enhancement", "Close " + ref + ": not taken forward", "Ask about " + ref + " again"}
	if got := actionLabels(t, answered); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the answered email offers %v, want %v", got, want)
	}
	link = linkPath(t, answered, "Classify "+ref+" as an enhancement")
	res = cara.get(link)
	mustStatus(t, res, 200, "the classify link")
	mustContain(t, res.body, "the classify page", "Which staff groups need the reminder?", "Every staff group with CSTF competences.",
		"What it asks for, for every NHS organisation", ">Proposal text</textarea>")
	mustStatus(t, cara.post(link, url.Values{"summary": {"Remind staff before their competences expire."}}), 303, "classify from the email")
	mustHaveStatus(t, p, ref, request.StatusAwaitingRequesterDecision)

	// The raiser decides whether to take it forward.
	mails = w.deliver(t)
	opened += w.scan(t, mails, people, stranger)
	decide := mailTo(t, mails, raiser.Email, "decide whether to take it forward")
	if got := actionLabels(t, decide); fmt.Sprint(got) != fmt.Sprint([]string{"Take " + ref + " forward", "Do not take " + ref + " forward"}) {
		t.Errorf("the decision email offers %v", got)
	}
	mustStatus(t, rhian.post(linkPath(t, decide, "Take "+ref+" forward"), url.Values{}), 303, "take it forward from the email")
	mustHaveStatus(t, p, ref, request.StatusRequirementsJustification)
	// The other link of that email is now out of date: the request moved on.
	res = rhian.get(linkPath(t, decide, "Do not take "+ref+" forward"))
	mustStatus(t, res, 409, "the other decision link")
	mustContain(t, res.body, "the conflict page", "Someone else changed this request")

	// The requirement definition: each side is asked to agree each new version.
	dev := p.as(developer)
	mustStatus(t, dev.post(path+"/requirement", url.Values{"base_version": {"0"}, "body": {"Remind at 90, 60 and 30 days."}}), 303, "the developer writes version 1")
	mails = w.deliver(t)
	opened += w.scan(t, mails, people, stranger)
	saved := mailTo(t, mails, raiser.Email, "version 1 of the requirement definition was saved")
	if got := actionLabels(t, saved); fmt.Sprint(got) != fmt.Sprint([]string{"Agree version 1 of the requirement definition of " + ref}) {
		t.Errorf("the requirement email offers %v", got)
	}
	link = linkPath(t, saved, "Agree version 1 of the requirement definition of "+ref)
	mustContain(t, rhian.get(link).body, "the agree page", "The requirement definition you are agreeing", "Remind at 90, 60 and 30 days.")
	mustStatus(t, rhian.post(link, url.Values{}), 303, "agree from the email")
	mails = w.deliver(t)
	opened += w.scan(t, mails, people, stranger)
	agreed := mailTo(t, mails, developer.Email, "the requester agreed the requirement definition")
	if got := actionLabels(t, agreed); fmt.Sprint(got) != fmt.Sprint([]string{"Agree version 1 of the requirement definition of " + ref}) {
		t.Errorf("the development team's email offers %v", got)
	}
	res = dev.post(linkPath(t, agreed, "Agree version 1 of the requirement definition of "+ref), url.Values{})
	mustStatus(t, res, 303, "the development team agrees from the email")
	if loc := res.header.Get("Location"); loc != path+"/requirement" {
		t.Errorf("agreeing sends to %s", loc)
	}
	if ok, err := request.RequirementAgreed(t.Context(), p.db.DB, r.ID); err != nil || !ok {
		t.Fatalf("requirement agreed: %v, %v", ok, err)
	}

	// The business justification, once submitted, waits for the region's FAM to endorse it.
	base := path + "/justification"
	answers := justificationAnswers()
	for _, s := range []string{"about", "requirement", "strategic-fit", "benefits", "delivery", "sign-off"} {
		mustStatus(t, saveSection(t, rhian, base, s, answers[s]), 303, "section "+s)
	}
	mustStatus(t, rhian.post(base+"/submit", url.Values{"version": {formVersion(t, rhian.get(base+"/check").body)}}), 303, "submit the justification")
	mails = w.deliver(t)
	opened += w.scan(t, mails, people, stranger)
	endorse := mailTo(t, mails, fam.Email, "ready for your endorsement")
	if got := actionLabels(t, endorse); fmt.Sprint(got) != fmt.Sprint([]string{"Endorse the business justification of " + ref}) {
		t.Errorf("the endorsement email offers %v", got)
	}
	link = linkPath(t, endorse, "Endorse the business justification of "+ref)
	fran := p.as(fam)
	res = fran.get(link)
	mustContain(t, res.body, "the endorse page", "Which region are you endorsing it for?", `value="2" checked`, "As its functional account manager", "Your comment")
	mustStatus(t, fran.post(link, url.Values{"region": {"2"}}), 422, "an endorsement without a comment")
	mustStatus(t, fran.post(link, url.Values{"region": {"2"}, "text": {"London trusts all need this."}}), 303, "endorse from the email")
	if n := count(t, p, `SELECT count(*) FROM justification_endorsements WHERE request_id = ? AND user_id = ? AND comment = 'London trusts all need this.'`, r.ID, fam.ID); n != 1 {
		t.Errorf("%d endorsements recorded", n)
	}

	// Impact assessment, then the central team decides from the email.
	mustStatus(t, rhian.post(path+"/actions/submit_for_assessment", url.Values{"version": {fmt.Sprint(currentVersion(t, p, ref))}}), 303, "send for assessment")
	mustStatus(t, dev.post(path+"/assessment", completedAssessment(0)), 303, "complete the assessment")
	mails = w.deliver(t)
	opened += w.scan(t, mails, people, stranger)
	decision := mailTo(t, mails, central.Email, "ready for a decision")
	want = []string{"Approve " + ref, "Defer " + ref, "Do not approve " + ref}
	if got := actionLabels(t, decision); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the decision email offers %v, want %v", got, want)
	}
	if got := actionLabels(t, mailTo(t, mails, summaryCentral.Email, "ready for a decision")); len(got) != 0 {
		t.Errorf("the summary-level decision email offers %v", got)
	}
	link = linkPath(t, decision, "Defer "+ref)
	res = cara.get(link)
	due := p.clock.Now().In(london).AddDate(0, 3, 0)
	mustContain(t, res.body, "the defer page", "Impact assessment", "When should it come back for assessment?", "The rationale for the decision",
		fmt.Sprintf(`id="review_on-day" name="review_on-day" type="text" inputmode="numeric" value="%d"`, due.Day()))
	res = cara.post(link, url.Values{"review_on-day": {"31"}, "review_on-month": {"2"}, "review_on-year": {"2027"}, "text": {"Waiting for funding"}})
	mustStatus(t, res, 422, "a review date that does not exist")
	mustContain(t, res.body, "the bad date", "Enter a real date", "Waiting for funding")
	res = cara.post(link, url.Values{"review_on-day": {fmt.Sprint(due.Day())}, "review_on-month": {fmt.Sprint(int(due.Month()))}, "review_on-year": {fmt.Sprint(due.Year())},
		"text": {"Waiting for funding"}})
	mustStatus(t, res, 303, "defer from the email")
	mustHaveStatus(t, p, ref, request.StatusDeferred)
	mustStatus(t, cara.get(link), 410, "the used link")
	// Approve and not approve from the same email are out of date now.
	mustStatus(t, cara.post(linkPath(t, decision, "Approve "+ref), url.Values{"text": {"Go"}}), 409, "approve after deferring")
	mustHaveStatus(t, p, ref, request.StatusDeferred)

	// Every event came from the transition table, audited with who acted and that a link was used.
	if n := count(t, p, `SELECT count(*) FROM audit_events WHERE action = 'action_link.used' AND entity_id = ?`, ref); n != 8 {
		t.Errorf("%d action links audited as used, want 8", n)
	}
	t.Logf("%d links opened as a mail scanner would, changing nothing", opened)
}

func mustHaveStatus(t *testing.T, p *testPortal, ref string, want request.Status) {
	t.Helper()
	var got request.Status
	if err := p.db.DB.NewSelect().Table("requests").Column("status").Where("reference = ?", ref).Scan(t.Context(), &got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("%s is %s, want %s", ref, got, want)
	}
}

func currentVersion(t *testing.T, p *testPortal, ref string) int {
	t.Helper()
	var v int
	if err := p.db.DB.NewSelect().Table("requests").Column("version").Where("reference = ?", ref).Scan(t.Context(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func count(t *testing.T, p *testPortal, query string, args ...any) int {
	t.Helper()
	var n int
	if err := p.db.DB.NewRaw(query, args...).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestActionLinkRefusals: a link works only for the user it was sent to, once, for 7 days, at the
// version the email was written against, and while their address is on the secure list; anything else
// is refused, changes nothing and does not use the link up. The token is kept nowhere but in the email.
func TestActionLinkRefusals(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	w := newMailWorld(t, p)
	raiser := userIn(t, p, "rhian.raiser@nhs.net", "ZLN01", identity.RoleRequester)
	central := userIn(t, p, "cara.central@nhs.net", "ZNC01", identity.RoleCentralTeam)
	colleague := userIn(t, p, "colin.central@nhs.net", "ZNC01", identity.RoleCentralTeam)
	ackLink := func(title string) (string, string) {
		t.Helper()
		r := raiseFor(t, p, raiser, title)
		return linkPath(t, mailTo(t, w.deliver(t), central.Email, r.Reference+" has been raised"), "Acknowledge "+r.Reference), r.Reference
	}
	cara := p.as(central)

	// Another user, even of the same team, is refused and does not use it up.
	link, ref := ackLink("Other users may not use it")
	before := rowsDigest(t, p)
	for _, b := range []*browser{p.as(colleague), p.as(raiser)} {
		res := b.get(link)
		mustStatus(t, res, 410, "someone else's link")
		mustContain(t, res.body, "the refused link", "This link has expired or has already been used", "Nothing has changed")
		releaseMustNotContain(t, res.body, "the refused link", ref, "Other users may not use it")
		mustStatus(t, b.post(link, url.Values{}), 410, "someone else confirms the link")
	}
	if rowsDigest(t, p) != before {
		t.Error("someone else's link changed rows")
	}
	mustHaveStatus(t, p, ref, request.StatusSubmitted)
	// Signed out: sent to sign in, and back to the link afterwards.
	res := p.anonymous().get(link)
	mustStatus(t, res, 303, "the link signed out")
	if want := "/sign-in?next=" + url.QueryEscape(link); res.header.Get("Location") != want {
		t.Errorf("signed out, the link sends to %q, want %q", res.header.Get("Location"), want)
	}
	// Its owner uses it once; a second time it is refused, and so is opening it.
	mustStatus(t, cara.post(link, url.Values{}), 303, "the link")
	mustHaveStatus(t, p, ref, request.StatusInTriage)
	res = cara.post(link, url.Values{})
	mustStatus(t, res, 410, "the link used twice")
	mustContain(t, res.body, "the used link", "This link has expired or has already been used", `href="/requests/`+ref+`"`)
	mustStatus(t, cara.get(link), 410, "the used link opened")
	if n := count(t, p, `SELECT count(*) FROM audit_events WHERE action = 'request.acknowledge' AND entity_id = ?`, ref); n != 1 {
		t.Errorf("acknowledged %d times", n)
	}

	// Expired: it works until 7 days after it was sent, not after.
	link, ref = ackLink("Expired links do nothing")
	p.clock.Advance(7*24*time.Hour - time.Minute)
	cara = p.as(central) // signed in again: sessions last hours, links days
	mustStatus(t, cara.get(link), 200, "the link a minute before it expires")
	p.clock.Advance(2 * time.Minute)
	before = rowsDigest(t, p)
	mustStatus(t, cara.get(link), 410, "the expired link")
	mustStatus(t, cara.post(link, url.Values{}), 410, "the expired link confirmed")
	if rowsDigest(t, p) != before {
		t.Error("an expired link changed rows")
	}
	mustHaveStatus(t, p, ref, request.StatusSubmitted)

	// Another version: the request moved on after the email was written. Opening the link shows the
	// conflict page; confirming it changes nothing and leaves the link unused.
	link, ref = ackLink("Moved on since the email was sent")
	mustStatus(t, cara.post("/requests/"+ref+"/assign", url.Values{"version": {"1"}, "assignee_id": {fmt.Sprint(colleague.ID)}}), 303, "assign a triager")
	res = cara.get(link)
	mustStatus(t, res, 409, "a link to an older version")
	mustContain(t, res.body, "the conflict page", "Someone else changed this request", "Go back to "+ref)
	before = rowsDigest(t, p)
	mustStatus(t, cara.post(link, url.Values{}), 409, "a link to an older version confirmed")
	if rowsDigest(t, p) != before {
		t.Error("a link to an older version changed rows")
	}
	mustHaveStatus(t, p, ref, request.StatusSubmitted)

	// Wrong domain: an address off the secure list gets no link (see the lifecycle test); a link sent
	// to a secure address stops working when the address leaves the list.
	link, ref = ackLink("Addresses that leave the secure list")
	if _, err := p.db.DB.NewRaw(`UPDATE users SET email = 'cara.central@esr-portal.example' WHERE id = ?`, central.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	res = p.as(central).get(link)
	mustStatus(t, res, 410, "a link after the address left the secure list")
	mustContain(t, res.body, "the not-secure page", "This link no longer works for your email address")
	mustStatus(t, p.as(central).post(link, url.Values{}), 410, "confirmed after the address left the secure list")
	mustHaveStatus(t, p, ref, request.StatusSubmitted)

	// No token is kept: not in the outbox, the audit trail, the notifications or anywhere else.
	token := strings.TrimPrefix(link, actionlink.Prefix)
	var found int
	if err := p.db.DB.NewRaw(`SELECT count(*) FROM (
		SELECT id::text AS k, to_jsonb(e)::text AS v FROM email_outbox AS e
		UNION ALL SELECT id::text, to_jsonb(a)::text FROM audit_events AS a
		UNION ALL SELECT id::text, to_jsonb(n)::text FROM notifications AS n
		UNION ALL SELECT encode(token_hash, 'hex'), to_jsonb(l)::text FROM action_links AS l) AS rows
		WHERE v LIKE '%' || ? || '%'`, token).Scan(t.Context(), &found); err != nil {
		t.Fatal(err)
	}
	if found != 0 {
		t.Errorf("the token is stored in %d rows", found)
	}
	// Unknown tokens and links to pages of other kinds are refused the same way.
	mustStatus(t, cara.get(actionlink.Prefix+"not-a-token"), 410, "an unknown link")
	mustStatus(t, cara.post(actionlink.Prefix+"not-a-token", url.Values{}), 410, "an unknown link confirmed")
}

// TestPageLinksFromEarlierEmails: links to a page, made before action links, still work once for
// their user and are used by opening them.
func TestPageLinksFromEarlierEmails(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	raiserUser := userIn(t, p, "decider@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	colleague := userIn(t, p, "colleague@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	r := raiseFor(t, p, raiserUser, "Decide on the payslip labels")
	path := "/requests/" + r.Reference
	token, err := actionlink.Create(t.Context(), p.db.DB, raiserUser.ID, r.ID, path, p.clock.Now(), actionlink.TTL)
	if err != nil {
		t.Fatal(err)
	}
	link := actionlink.Prefix + token
	res := p.as(colleague).get(link)
	mustStatus(t, res, 410, "the link as someone else")
	releaseMustNotContain(t, res.body, "the refused link for someone else", r.Reference)
	mustStatus(t, p.as(colleague).post(link, url.Values{}), 410, "a page link posted to")
	raiser := p.as(raiserUser)
	res = raiser.get(link)
	mustStatus(t, res, 303, "the link")
	if got := res.header.Get("Location"); got != path {
		t.Errorf("the link sends to %q, want %s", got, path)
	}
	mustStatus(t, raiser.get(link), 410, "the link used twice")
	expired, err := actionlink.Create(t.Context(), p.db.DB, raiserUser.ID, r.ID, path, p.clock.Now().Add(-8*24*time.Hour), actionlink.TTL)
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, raiser.get(actionlink.Prefix+expired), 410, "an expired link")
}

// TestActionsOfferedOnlyToThoseAllowed: a message offers a recipient only the actions they may take:
// followers who are not the raising organisation are told a request was classified without the
// decision's links, and the in-portal notification never carries any.
func TestActionsOfferedOnlyToThoseAllowed(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	raiser := userIn(t, p, "rhian.raiser@nhs.net", "ZLN01", identity.RoleRequester)
	colleague := userIn(t, p, "ceri.colleague@nhs.net", "ZLN01", identity.RoleRequester)
	fam := userIn(t, p, "fran.fam@nhs.net", "ZLN02", identity.RoleFunctionalAccountManager)
	r := raiseFor(t, p, raiser, "Only the raisers decide")
	for _, u := range []*identity.User{colleague, fam} {
		mustStatus(t, p.as(u).post("/requests/"+r.Reference+"/follow", url.Values{"follow": {"1"}}), 303, "follow")
	}
	acceptTestRequest(t, p, r.Reference, p.clock.Now())
	var rows []struct {
		To      string `bun:"to_address"`
		Subject string `bun:"subject"`
		Actions string `bun:"actions"`
	}
	if err := p.db.DB.NewRaw(`SELECT to_address, subject, actions::text AS actions FROM email_outbox WHERE subject LIKE '%classified%' OR subject LIKE '%decide%' ORDER BY to_address`).Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range rows {
		got[row.To] = row.Actions
	}
	if !strings.Contains(got[raiser.Email], `"name": "progress"`) || !strings.Contains(got[colleague.Email], `"name": "decline"`) {
		t.Errorf("the raising organisation is not offered the decision: %v", got)
	}
	if got[fam.Email] != "[]" {
		t.Errorf("the FAM, who may not decide, is offered %s", got[fam.Email])
	}
	if n := count(t, p, `SELECT count(*) FROM notifications WHERE link LIKE '/links/%'`); n != 0 {
		t.Errorf("%d notifications link to action links", n)
	}
}

// TestDemoMailShowsBothLevels: the demo data's emails, kept for the mail view without SMTP, include
// action emails to its NHSmail-style addresses and summary emails to everyone else; the mail view shows
// each email's level and its actions, and its HTML part as sent, with no token anywhere.
func TestDemoMailShowsBothLevels(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := context.Background()
	if _, err := seed.Demo(ctx, p.db.DB, p.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Requests(ctx, p.db.DB, p.clock.Now()); err != nil {
		t.Fatal(err)
	}
	s := notify.NewSender(p.db.DB, nil, p.app.cfg.BaseURL.String(), nil, p.clock.Now).OfferActions(p.app.cfg.SecureEmailDomains, 0)
	for {
		n, err := s.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	var id int64
	if err := p.db.DB.NewRaw(`SELECT min(id) FROM email_outbox WHERE email_level = 'action' AND jsonb_array_length(actions) > 0
		AND to_address = 'esrportal.demo.central@nhs.net'`).Scan(ctx, &id); err != nil || id == 0 {
		t.Fatalf("no action email to the demo's NHSmail central team member: %v", err)
	}
	var levels []string
	if err := p.db.DB.NewRaw(`SELECT DISTINCT email_level FROM email_outbox ORDER BY 1`).Scan(ctx, &levels); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(levels) != "[action summary]" {
		t.Errorf("levels %v", levels)
	}
	if n := count(t, p, `SELECT count(*) FROM action_links`); n != 0 {
		t.Errorf("%d action links made for emails nobody receives", n)
	}
	// An administrator who is also on the central team reads every email's words (the mail view applies
	// the access rule to its reader).
	admin := p.as(userIn(t, p, "ada.admin@esr.nhs.uk", "ZNC01", identity.RoleAdmin, identity.RoleCentralTeam))
	res := admin.get("/admin/mail")
	mustStatus(t, res, 200, "the mail view")
	mustContain(t, res.body, "the mail view", "Approval and summary", "Summary")
	res = admin.get(fmt.Sprintf("/admin/mail/%d", id))
	mustStatus(t, res, 200, "an action email")
	mustContain(t, res.body, "an action email", "Approval and summary: the address is on the list of secure email domains", "Offered: Acknowledge ENH-",
		fmt.Sprintf(`<iframe class="portal-mail-frame" src="/admin/mail/%d/html"`, id), "sandbox", "/links/[hidden]")
	res = admin.get(fmt.Sprintf("/admin/mail/%d/html", id))
	mustStatus(t, res, 200, "an action email's HTML part")
	mustContain(t, res.body, "the HTML part", "What you can do from this email", ">Acknowledge ENH-", `href="http://localhost:3000/links/[hidden]"`)
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "sandbox") ||
		res.header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("the HTML part is served with %q, X-Frame-Options %q", csp, res.header.Get("X-Frame-Options"))
	}
}
