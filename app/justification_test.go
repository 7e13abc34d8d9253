package app

import (
	"html"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/request"
)

// justificationAnswers are valid answers to every section, as the forms send them.
func justificationAnswers() map[string]url.Values {
	return map[string]url.Values{
		"about": {"sr_number": {"SR7654321"}, "requester_name": {"Test raiser"}, "requester_role": {"ESR lead"},
			"requester_email": {"raiser@trust.nhs.uk"}, "lead_nsig": {"Self Service and Portal"}},
		"requirement": {"title": {"Expiry reminders"}, "functional_area": {"Self Service"}, "problem": {"Staff miss expiry dates."},
			"proposal": {"Remind them at 90, 60 and 30 days."}, "affected_users": {"employee", "manager"}},
		"strategic-fit": {"policy": {"Core Skills Training Framework"}, "legislative": {"no"}},
		"benefits": {"savings": {"12,500"}, "hours": {"7.5"}, "organisations": {"220"}, "quality_benefits": {"Fewer lapsed competences"},
			"baseline": {"82% compliant"}, "target": {"90% compliant"}},
		"delivery": {"priority": {"high"}, "required_by-day": {"31"}, "required_by-month": {"3"}, "required_by-year": {"2027"},
			"required_by_reason": {"Annual audit"}, "risks_of_doing": {"More emails"}, "risks_of_not_doing": {"Non-compliance"},
			"workaround": {"Managers chase by hand"}},
		"sign-off": {"name": {"Jo Sponsor"}, "role": {"Director of Workforce"}, "date-day": {"19"}, "date-month": {"11"}, "date-year": {"2026"}},
	}
}

// saveSection opens a section's page as b, to learn the version, and posts the answers.
func saveSection(t *testing.T, b *browser, base, section string, answers url.Values) response {
	t.Helper()
	page := b.get(base + "/" + section)
	mustStatus(t, page, 200, "section "+section)
	form := url.Values{}
	for k, v := range answers {
		form[k] = v
	}
	form.Set("version", formVersion(t, page.body))
	return b.post(base+"/"+section, form)
}

func TestJustificationPages(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	who := newRJPeople(t, p)
	r := rjRequest(t, p, who.raiser, "Expiry reminders for competences")
	base := "/requests/" + r.Reference + "/justification"
	raiser, developer, fam := p.as(who.raiser), p.as(who.developer), p.as(who.famLondon)
	answers := justificationAnswers()

	res := raiser.get(base)
	mustStatus(t, res, 200, "task list")
	mustContain(t, res.body, "task list", "Not started", "About the request", "Incomplete", "Cannot start yet", "Check your answers and submit")
	if strings.Contains(res.body, `href="`+base+`/sign-off"`) {
		t.Error("the sign-off links before it can start")
	}

	// About is prefilled from the request.
	res = raiser.get(base + "/about")
	mustContain(t, res.body, "about page", `value="SR7654321"`, `value="raiser@trust.nhs.uk"`, "Thameside Royal Hospitals NHS Trust (London)",
		`<option value="Self Service and Portal" selected>`)
	// Delivery's priority is prefilled from the urgency the request was raised with (high).
	res = raiser.get(base + "/delivery")
	mustContain(t, res.body, "delivery page", `name="priority" type="radio" value="high" checked`)
	mustStatus(t, saveSection(t, raiser, base, "about", answers["about"]), 303, "about")
	mustStatus(t, saveSection(t, developer, base, "requirement", answers["requirement"]), 303, "requirement, by the development team")
	mustStatus(t, saveSection(t, fam, base, "strategic-fit", answers["strategic-fit"]), 303, "strategic fit, by the region's FAM")

	// One mistake: savings in words. 422, the error linked to its field, everything typed kept.
	bad := url.Values{}
	for k, v := range answers["benefits"] {
		bad[k] = v
	}
	bad.Set("savings", "twelve pounds")
	res = saveSection(t, raiser, base, "benefits", bad)
	mustStatus(t, res, 422, "benefits with savings in words")
	mustContain(t, res.body, "benefits 422", `href="#savings"`, "Cashable savings must be an amount in pounds, like 12,500 or 12500.50",
		`value="twelve pounds"`, `value="7.5"`, `value="220"`, "Fewer lapsed competences", "<title>Error: ")
	mustStatus(t, saveSection(t, raiser, base, "benefits", answers["benefits"]), 303, "benefits")

	// The sign-off cannot start yet; submitting now lists what is missing.
	mustContain(t, raiser.get(base+"/sign-off").body, "sign-off page", "You cannot start the sign-off yet")
	res = raiser.get(base + "/check")
	mustContain(t, res.body, "check page", "It cannot be submitted yet", "Complete the section ‘Delivery’", "£12,500", "Fewer lapsed competences")
	res = raiser.post(base+"/submit", url.Values{"version": {formVersionOr(res.body, "4")}})
	mustStatus(t, res, 422, "submit an incomplete justification")
	mustContain(t, res.body, "submit 422", "There is a problem", `href="#delivery"`, `href="#sign-off"`)

	mustStatus(t, saveSection(t, developer, base, "delivery", answers["delivery"]), 303, "delivery")
	mustStatus(t, saveSection(t, raiser, base, "sign-off", answers["sign-off"]), 303, "sign-off")

	// Check your answers, with Change links, then submit.
	res = raiser.get(base + "/check")
	mustContain(t, res.body, "complete check page", "Submit justification", `href="`+base+`/benefits?return=check"`, "31 March 2027", "Jo Sponsor",
		"Change<span class=\"nhsuk-u-visually-hidden\"> Cashable savings a year")
	if strings.Contains(res.body, "It cannot be submitted yet") {
		t.Error("a complete justification is still said to be missing something")
	}
	version := formVersion(t, res.body)
	mustStatus(t, p.as(who.famLondon).post(base+"/submit", url.Values{"version": {version}}), 403, "the FAM submits")
	mustStatus(t, raiser.post(base+"/submit", url.Values{"version": {version}}), 303, "submit")
	res = raiser.get(base)
	mustContain(t, res.body, "submitted", "The business justification has been submitted", "Submitted on",
		"No endorsements yet. A region's functional account manager")
	if strings.Contains(res.body, "Once the justification is submitted") || strings.Contains(res.body, "Complete each section") {
		t.Error("a submitted justification still asks for it to be completed and submitted")
	}
	mustContain(t, raiser.get("/requests/"+r.Reference).body, "request page", "Submitted on")

	// Two people change the same section: the second sees both versions and keeps what they typed.
	page := developer.get(base + "/benefits")
	stale := formVersion(t, page.body)
	mustStatus(t, saveSection(t, raiser, base, "benefits", withValue(answers["benefits"], "organisations", "300")), 303, "raiser changes the benefits")
	res = raiser.get(base)
	mustContain(t, res.body, "after the change", "The justification had been submitted: check your answers and submit it again.", "Not submitted")
	theirs := withValue(answers["benefits"], "organisations", "450")
	theirs.Set("version", stale)
	res = developer.post(base+"/benefits", theirs)
	mustStatus(t, res, 409, "stale benefits")
	mustContain(t, res.body, "conflict page", "Someone else changed the business justification", "Their answers, saved now", "Your answers",
		"<dd class=\"nhsuk-summary-list__value portal-keep-line-breaks\">300</dd>", "<dd class=\"nhsuk-summary-list__value portal-keep-line-breaks\">450</dd>",
		`name="organisations" value="450"`, `name="savings" value="12,500"`, "Save my answers instead")
	current := formVersion(t, raiser.get(base+"/check").body)
	if !strings.Contains(res.body, `name="version" value="`+current+`"`) {
		t.Errorf("the conflict page's form is not made from the current version %s", current)
	}

	// Read only for those who may not write it; nothing at all for those who may not see it in full.
	res = p.as(who.central).get(base + "/benefits")
	mustStatus(t, res, 303, "the central team opens a section")
	if loc := res.header.Get("Location"); loc != base+"/check#benefits" {
		t.Errorf("the central team is sent to %s", loc)
	}
	mustStatus(t, p.as(who.central).get(base+"/check"), 200, "the central team reads it")
	mustStatus(t, p.as(who.central).post(base+"/benefits", answers["benefits"]), 403, "the central team saves a section")
	for name, u := range map[string]*browser{"another organisation's requester": p.as(who.otherOrg), "the FAM of another region": p.as(who.famElsewhere)} {
		mustStatus(t, u.get(base), 404, name+" opens the justification")
		mustStatus(t, u.get(base+"/check"), 404, name+" opens check your answers")
		mustStatus(t, u.get(base+"/about"), 404, name+" opens a section")
	}
	mustStatus(t, raiser.get(base+"/costs"), 404, "a section that does not exist")

	// Once the request has moved on, a save — valid or not — changes nothing and sends the writer to
	// check your answers, as opening the section does.
	if _, err := p.db.DB.NewRaw("UPDATE requests SET status = ? WHERE id = ?", request.StatusImpactAssessment, r.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	versionNow := func() string {
		t.Helper()
		var v int
		if err := p.db.DB.NewRaw("SELECT version FROM business_justifications WHERE request_id = ?", r.ID).Scan(t.Context(), &v); err != nil {
			t.Fatal(err)
		}
		return strconv.Itoa(v)
	}
	before := versionNow()
	for name, form := range map[string]url.Values{"valid": withValue(answers["benefits"], "organisations", "500"), "invalid": withValue(answers["benefits"], "savings", "lots")} {
		form.Set("version", before)
		res = raiser.post(base+"/benefits", form)
		mustStatus(t, res, 303, "a "+name+" save after the request moved on")
		if loc := res.header.Get("Location"); loc != base+"/check#benefits" {
			t.Errorf("a %s save after the request moved on is sent to %s", name, loc)
		}
	}
	if after := versionNow(); after != before {
		t.Errorf("the justification went from version %s to %s after the request moved on", before, after)
	}
}

func formVersionOr(body, fallback string) string {
	if m := hiddenVersion.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return fallback
}

func withValue(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	out.Set(key, value)
	return out
}

// appointTo gives u a current seat on an NSIG for a region, as the central team, and returns it.
func appointTo(t *testing.T, p *testPortal, u *identity.User, nsigName string, region int16, pos nsig.Position) *nsig.Appointment {
	t.Helper()
	ctx := t.Context()
	central := p.users[identity.RoleCentralTeam]
	cv, err := request.ViewerFor(ctx, p.db.DB, central)
	if err != nil {
		t.Fatal(err)
	}
	now := p.clock.Now()
	ap, err := nsig.Appoint(ctx, p.db.DB, cv, audit.Actor{UserID: central.ID, Name: central.Name}, now, p.nsigID(nsigName), region, nsig.AppointInput{
		Position: pos, Email: u.Email, NominatingSIG: "Regional ESR SIG", NominatedOn: now.AddDate(0, -1, 0),
		HowChosen: nsig.ChosenConsensus, TermStart: now.AddDate(0, 0, -1), TermEnd: now.AddDate(2, 0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// TestJustificationEndorsements: a region's FAM endorses as FAM, and a holder of a region's NSIG seat for
// its regional SIG, chosen from a select of the regions they may speak for. Each refusal is tested: a
// missing or foreign region and a missing comment (422, with what was typed kept), someone without a
// seat, a former seat holder, anyone from the raising organisation even with a seat, a second
// endorsement for the same regional SIG, and those who may not see the request or use the route.
func TestJustificationEndorsements(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	who := newRJPeople(t, p)
	r := rjRequest(t, p, who.raiser, "Endorse the expiry reminders")
	base := "/requests/" + r.Reference + "/justification"
	raiser, fam, member := p.as(who.raiser), p.as(who.famLondon), p.as(who.nsig)
	const ssp, london, wales = "Self Service and Portal", "2", "8"

	if strings.Contains(fam.get(base).body, "/justification/endorse") {
		t.Error("the FAM may endorse before the justification is submitted")
	}
	mustStatus(t, fam.post(base+"/endorse", url.Values{"region": {london}, "comment": {"Too early"}}), 422, "endorsing before submission")
	for _, s := range []string{"about", "requirement", "strategic-fit", "benefits", "delivery", "sign-off"} {
		mustStatus(t, saveSection(t, raiser, base, s, justificationAnswers()[s]), 303, s)
	}
	mustStatus(t, raiser.post(base+"/submit", url.Values{"version": {formVersion(t, raiser.get(base+"/check").body)}}), 303, "submit")

	// The FAM speaks for London only: the select offers it alone, chosen.
	res := fam.get(base)
	mustContain(t, res.body, "FAM's page", "Endorse the business justification", `<select class="nhsuk-select" id="region" name="region"`,
		`<option value="2" selected>London</option>`)
	if strings.Contains(res.body, ">Wales</option>") {
		t.Error("the FAM of London is offered Wales")
	}
	res = fam.post(base+"/endorse", url.Values{"region": {london}, "comment": {""}})
	mustStatus(t, res, 422, "endorsement without a comment")
	mustContain(t, res.body, "422", `href="#comment"`, "Enter your comment", `<option value="2" selected>London</option>`)
	for _, region := range []string{wales, "0", "99", "-2", "2; DROP TABLE regions", "London", "２"} {
		res = fam.post(base+"/endorse", url.Values{"region": {region}, "comment": {"Every London trust needs this."}})
		mustStatus(t, res, 422, "the FAM endorses for region "+region)
		mustContain(t, res.body, "422 "+region, `href="#region"`, html.EscapeString(request.NotYourRegion), "Every London trust needs this.")
	}
	mustStatus(t, fam.post(base+"/endorse", url.Values{"region": {london}, "comment": {"Every London trust needs this."}}), 303, "the FAM endorses")
	mustStatus(t, fam.post(base+"/endorse", url.Values{"region": {london}, "comment": {"Again"}}), 422, "the FAM endorses twice")

	// An NSIG member without a seat speaks for no region.
	if strings.Contains(member.get(base).body, "/justification/endorse") {
		t.Error("an NSIG member without a seat is offered the endorsement form")
	}
	mustStatus(t, member.post(base+"/endorse", url.Values{"region": {wales}, "comment": {"Wales supports it"}}), 403, "an NSIG member without a seat endorses")

	// With the Wales member's seat they endorse for the Wales regional SIG, and no other.
	appointTo(t, p, who.nsig, ssp, 8, nsig.Member)
	mustContain(t, member.get(base).body, "member's page", `<option value="8" selected>Wales</option>`)
	res = member.post(base+"/endorse", url.Values{"comment": {"Wales supports it"}})
	mustStatus(t, res, 422, "an endorsement without the region")
	mustContain(t, res.body, "422", `href="#region"`, "Select the region whose SIG you are endorsing it for", "Wales supports it")
	res = member.post(base+"/endorse", url.Values{"region": {london}, "comment": {"Wales supports it"}})
	mustStatus(t, res, 422, "the Wales member endorses for London")
	mustContain(t, res.body, "422", html.EscapeString(request.NotYourRegion), "Wales supports it")
	mustStatus(t, member.post(base+"/endorse", url.Values{"region": {wales}, "comment": {"Wales supports it"}}), 303, "the Wales member endorses")

	// The Wales deputy finds the Wales regional SIG has endorsed it already.
	deputy := userIn(t, p, "wales.deputy@trust.nhs.uk", "ZWA02", identity.RoleRequester)
	appointTo(t, p, deputy, ssp, 8, nsig.Deputy)
	res = p.as(deputy).post(base+"/endorse", url.Values{"region": {wales}, "comment": {"Me too"}})
	mustStatus(t, res, 422, "the Wales deputy endorses after the member")
	mustContain(t, res.body, "422", "has already endorsed it for the Wales regional SIG", "Me too")

	// Someone from the raising organisation may not endorse its justification, even holding a seat.
	colleague := userIn(t, p, "seated.colleague@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	appointTo(t, p, colleague, ssp, 2, nsig.Member)
	c := p.as(colleague)
	if body := c.get(base).body; !strings.Contains(body, "Endorsements") || strings.Contains(body, "/justification/endorse") {
		t.Error("a seat holder from the raising organisation is offered the endorsement form")
	}
	mustStatus(t, c.post(base+"/endorse", url.Values{"region": {london}, "comment": {"Our own"}}), 403, "a seat holder from the raising organisation endorses")

	// A former seat holder speaks for the region no longer.
	former := userIn(t, p, "former.member@trust.nhs.uk", "ZSW01", identity.RoleRequester)
	ap := appointTo(t, p, former, ssp, 7, nsig.Member)
	central := p.users[identity.RoleCentralTeam]
	cv, err := request.ViewerFor(t.Context(), p.db.DB, central)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nsig.EndTerm(t.Context(), p.db.DB, cv, audit.Actor{UserID: central.ID, Name: central.Name}, p.clock.Now(), ap.ID, nsig.EndInput{Reason: "Moved on"}); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, p.as(former).post(base+"/endorse", url.Values{"region": {"7"}, "comment": {"Once"}}), 403, "a former seat holder endorses")

	res = raiser.get(base)
	mustContain(t, res.body, "endorsements", "Every London trust needs this.", "Functional account manager, London", "On behalf of the Wales regional SIG", "Wales supports it")
	mustContain(t, raiser.get("/requests/"+r.Reference).body, "timeline", "The business justification was endorsed on behalf of the Wales regional SIG", "2 endorsements")
	mustStatus(t, raiser.post(base+"/endorse", url.Values{"region": {london}, "comment": {"Ours"}}), 403, "the raiser endorses")
	mustStatus(t, p.as(who.famElsewhere).post(base+"/endorse", url.Values{"region": {"4"}, "comment": {"Yes"}}), 404, "the FAM of another region endorses")
	mustStatus(t, p.as(who.developer).post(base+"/endorse", url.Values{"region": {london}, "comment": {"Yes"}}), 403, "the development team endorses")
	if n := p.eventCount("justification.endorsed"); n != 2 {
		t.Errorf("%d justification.endorsed audit events, want 2", n)
	}
}

func TestAttachmentUploadAndDownload(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	who := newRJPeople(t, p)
	r := rjRequest(t, p, who.raiser, "Attach the business case")
	base := "/requests/" + r.Reference
	raiser := p.as(who.raiser)
	pdf := []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"), make([]byte, 40)...)
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 200)...)

	res := raiser.get(base + "/justification")
	mustContain(t, res.body, "justification page", `enctype="multipart/form-data"`, `name="_csrf"`, `type="file"`)
	mustStatus(t, raiser.upload(base+"/attachments", "Évaluation “final”.pdf", pdf), 303, "upload a PDF")

	for _, c := range []struct{ name, file, want string }{
		{"an executable renamed .pdf", "invoice.pdf", "The file must be a PDF"},
		{"a PNG called .pdf", "chart.pdf", "it is a PNG image"},
		{"no file", "", "Select a file"},
	} {
		content := exe
		if c.name == "a PNG called .pdf" {
			content = png
		}
		res := raiser.upload(base+"/attachments", c.file, content)
		mustStatus(t, res, 422, c.name)
		mustContain(t, res.body, c.name, `href="#file"`, c.want)
	}

	res = raiser.get(base + "/justification")
	mustContain(t, res.body, "list", "Évaluation “final”.pdf", "PDF, ")
	m := strings.Index(res.body, base+"/attachments/")
	if m < 0 {
		t.Fatal("no download link")
	}
	link := res.body[m:]
	link = link[:strings.Index(link, `"`)]

	res = p.as(who.famLondon).get(link)
	mustStatus(t, res, 200, "the region's FAM downloads it")
	if res.body != string(pdf) {
		t.Error("the download is not the file uploaded")
	}
	for header, want := range map[string]string{
		"Content-Type":           "application/pdf",
		"Content-Disposition":    `attachment; filename="_valuation _final_.pdf"; filename*=UTF-8''%C3%89valuation%20%E2%80%9Cfinal%E2%80%9D.pdf`,
		"X-Content-Type-Options": "nosniff",
	} {
		if got := res.header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	mustStatus(t, p.as(who.otherOrg).get(link), 404, "another organisation's requester downloads it")
	mustStatus(t, p.as(who.famElsewhere).get(link), 404, "the FAM of another region downloads it")
	mustStatus(t, p.as(who.otherOrg).upload(base+"/attachments", "x.pdf", pdf), 404, "another organisation's requester uploads")
	mustStatus(t, p.as(who.nsig).upload(base+"/attachments", "x.pdf", pdf), 403, "an NSIG member of another organisation uploads")
	mustStatus(t, p.as(who.nsig).get(link), 200, "the request's NSIG downloads it")
	mustStatus(t, raiser.get(base+"/attachments/999999"), 404, "an attachment that does not exist")
	mustStatus(t, raiser.get(base+"/attachments/x"), 404, "an attachment id that is not a number")
	mustContain(t, raiser.get(base).body, "request page", "1 supporting document", "A supporting document was added")

	// Removing it: only the person who added it (or the central team) may, and the request says so.
	remove := link + "/remove"
	mustContain(t, raiser.get(base+"/justification").body, "the uploader's list", `action="`+remove+`"`)
	if body := p.as(who.famLondon).get(base + "/justification").body; strings.Contains(body, remove) {
		t.Error("the region's FAM, who did not add it, is offered to remove it")
	}
	mustStatus(t, p.as(who.famLondon).post(remove, url.Values{}), 403, "the region's FAM removes another's document")
	mustStatus(t, p.as(who.otherOrg).post(remove, url.Values{}), 404, "another organisation's requester removes it")
	res = raiser.post(remove, url.Values{})
	mustStatus(t, res, 303, "the uploader removes it")
	mustContain(t, raiser.get(base+"/justification").body, "after removing", "‘Évaluation “final”.pdf’ has been removed", "No supporting documents yet")
	mustStatus(t, raiser.get(link), 404, "the removed document")
	mustStatus(t, raiser.post(remove, url.Values{}), 404, "removing it again")
	mustContain(t, raiser.get(base).body, "request page", "A supporting document was removed: Évaluation “final”.pdf.")
}
