package app

// The request page's "What happens next", and the pages that confirm actions which close a request,
// in headless Chromium with axe on every page.

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// postAction sends the action's form as a page made before the action stopped being offered would:
// a form built in the page with its form token, then submitted, waiting for the answer.
func (tb *tab) postAction(ref, action string, version string) {
	tb.t.Helper()
	tb.load("post "+action+" from a stale page", chromedp.Evaluate[chromedp.Void](`(() => {
		const token = document.querySelector('input[name="_csrf"]').value;
		const f = document.createElement('form');
		f.method = 'post';
		f.action = '/requests/`+ref+`/actions/`+action+`';
		for (const [k, v] of [['_csrf', token], ['version', '`+version+`']]) {
			const i = document.createElement('input');
			i.type = 'hidden'; i.name = k; i.value = v;
			f.appendChild(i);
		}
		document.body.appendChild(f);
		f.submit();
	})()`))
	tb.check()
}

// TestBrowserWhatHappensNext walks the requests that used to dead-end: a request still being defined
// offers no "Send for impact assessment" and says what is missing, with links (and a stale form that
// sends it anyway is told why on the request page, its error linking to the panel); the requester
// answering a question sees the question; a decision is not offered before the impact assessment is
// complete; and marking a change delivered asks for confirmation, saying its release has not gone
// live and whom it tells.
func TestBrowserWhatHappensNext(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	var defining, definingVersion, asked, question, askedBy, allocated, assessing string
	for _, q := range []struct {
		sql  string
		dest []any
	}{
		{`SELECT r.reference, r.version::text FROM requests AS r JOIN users AS u ON u.organisation_id = r.organisation_id
			WHERE r.status = 'requirements_and_justification' AND u.email = ? ORDER BY 1 LIMIT 1`,
			[]any{&defining, &definingVersion}},
		{`SELECT r.reference, ev.detail, u.email FROM requests AS r JOIN request_events AS ev ON ev.request_id = r.id AND ev.kind = 'request_information'
			JOIN users AS u ON u.organisation_id = r.organisation_id JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = 'requester'
			WHERE r.status = 'information_requested' ORDER BY 1, ev.occurred_at DESC LIMIT 1`, []any{&asked, &question, &askedBy}},
		{`SELECT r.reference FROM requests AS r JOIN allocations AS al ON al.request_id = r.id JOIN releases AS rl ON rl.id = al.release_id
			WHERE r.status = 'allocated' AND rl.status <> 'released' ORDER BY 1 LIMIT 1`, []any{&allocated}},
		{`SELECT r.reference FROM requests AS r LEFT JOIN impact_assessments AS ia ON ia.request_id = r.id
			WHERE r.status = 'impact_assessment' AND ia.completed_at IS NULL ORDER BY 1 LIMIT 1`, []any{&assessing}},
	} {
		args := []any{}
		if strings.Contains(q.sql, "u.email = ?") {
			args = append(args, p.account(t, identity.RoleRequester).Email)
		}
		if err := p.db.NewRaw(q.sql, args...).Scan(t.Context(), q.dest...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}

	// The requester's request being defined.
	r := openTab(t, p)
	r.visit("/sign-in")
	r.signIn(p.account(t, identity.RoleRequester).Email, seed.DemoPassword)
	r.visit("/requests/" + defining)
	r.wantStatus(200, "a request being defined")
	r.wantText("#next-steps", "What happens next", "Before impact assessment can start", "requirement definition", "business justification")
	if got := r.allTexts(`#next-steps form[action$="/submit_for_assessment"]`); len(got) != 0 {
		t.Errorf("Send for impact assessment is offered before the requirement and justification are done")
	}
	links := strings.Join(r.attrs(`#next-steps a`, "href"), " ")
	for _, want := range []string{"/requests/" + defining + "/requirement", "/requests/" + defining + "/justification"} {
		if !strings.Contains(links, want) {
			t.Errorf("the panel links to %s, not %s", links, want)
		}
	}
	r.postAction(defining, "submit_for_assessment", definingVersion)
	r.wantStatus(422, "sending it for impact assessment anyway")
	r.wantText(".nhsuk-error-summary", "The requirement definition must be agreed")
	if got := r.attrs(".nhsuk-error-summary a", "href"); len(got) != 1 || got[0] != "#next-steps" {
		t.Errorf("the error links to %v, want [#next-steps]", got)
	}
	r.wantText("#next-steps", "Before impact assessment can start")

	// Answering the central team's question shows the question.
	a := openTab(t, p)
	a.visit("/sign-in")
	a.signIn(askedBy, seed.DemoPassword)
	a.visit("/requests/" + asked)
	a.wantText("#next-steps", "to answer the central team's question")
	a.submit(`#next-steps a[href$="/actions/answer"]`)
	a.wantStatus(200, "the answer page")
	a.wantText("main", "The central team's question", strings.TrimSpace(question))
	a.typeIntoTextarea("text", "All staff groups, from April.")
	a.submit(`main form button[type="submit"]`)
	a.wantStatus(200, "after answering")
	a.wantText(".nhsuk-notification-banner", asked+": your answer has been sent to the central team")

	// The central team: no decision before the assessment is complete; delivery is confirmed.
	c := openTab(t, p)
	c.visit("/sign-in")
	c.signIn(p.account(t, identity.RoleCentralTeam).Email, seed.DemoPassword)
	c.visit("/requests/" + assessing)
	c.wantText("#next-steps", "Before the central team can decide", "The impact assessment is complete")
	for _, action := range []string{"approve", "defer", "not_approve"} {
		if got := c.allTexts(`#next-steps a[href$="/actions/` + action + `"]`); len(got) != 0 {
			t.Errorf("%s is offered before the impact assessment is complete", action)
		}
	}
	c.visit("/requests/" + allocated)
	c.submit(`#next-steps a[href$="/actions/deliver"]`)
	c.wantStatus(200, "the page confirming delivery")
	c.wantText("main", "This release has not gone live")
	c.wantText("#consequences", "This cannot be undone", "The portal tells")
	c.submit(`main form[action$="/actions/deliver"] button[type="submit"]`)
	c.wantStatus(200, "after confirming delivery")
	c.wantText(".nhsuk-notification-banner", allocated+": marked as delivered")
	c.wantText(".portal-timeline", "Delivered ahead of Release")
}
