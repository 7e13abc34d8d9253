package app

// Reflow (WCAG 2.2, 1.4.10): every list page read at 320 CSS pixels wide, as on a small phone or at
// 400% zoom, fits the viewport, its lists shown as the design system's responsive tables; at tablet
// and desktop widths no table sticks out of the page's content column.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
)

// setWidth makes the tab's viewport width CSS pixels wide (and 900 high) until it is set again.
func (tb *tab) setWidth(width int64) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 768}); err != nil {
		tb.t.Fatalf("set the viewport to %d px: %v", width, err)
	}
}

// layout is how the page shown fits its viewport.
type layout struct {
	Viewport    int    `json:"viewport"`    // the viewport's width
	Page        int    `json:"page"`        // how wide the page scrolls
	TableOver   int    `json:"tableOver"`   // how far the widest table goes past the content column's right edge
	Widest      string `json:"widest"`      // the element that goes furthest right, when the page is too wide
	CardHeading bool   `json:"cardHeading"` // a table's cells show their column's heading (the card layout)
}

func (tb *tab) layout() layout {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](`(() => {
		const vw = document.documentElement.clientWidth;
		const main = document.querySelector('main').getBoundingClientRect();
		let over = 0, widest = '', far = vw;
		document.querySelectorAll('main table').forEach(t => { over = Math.max(over, Math.round(t.getBoundingClientRect().right - main.right)); });
		document.querySelectorAll('body *').forEach(e => {
			const r = e.getBoundingClientRect().right;
			if (r > far + 1) { far = r; widest = e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ': ' + (e.innerText || '').slice(0, 40); }
		});
		const h = document.querySelector('main table .nhsuk-table__heading');
		return {viewport: vw, page: document.documentElement.scrollWidth, tableOver: over, widest: widest,
			cardHeading: !!h && getComputedStyle(h).display !== 'none'};
	})()`))
	if err != nil {
		tb.t.Fatalf("measure %s: %v", tb.url, err)
	}
	return l
}

// wantReflow fails the test when the page shown is wider than its viewport, or one of its tables
// sticks out of the content column by more than the 4 px by which the design system makes a table
// wider than its container.
func (tb *tab) wantReflow() {
	tb.t.Helper()
	l := tb.layout()
	if l.Page > l.Viewport {
		tb.t.Errorf("%s at %d px: the page is %d px wide (furthest right: %s)", tb.url, l.Viewport, l.Page, l.Widest)
	}
	if l.TableOver > 4 {
		tb.t.Errorf("%s at %d px: a table sticks out of the content column by %d px", tb.url, l.Viewport, l.TableOver)
	}
}

// TestBrowserListPagesReflow opens every list page, as a role that sees it, at 320 px (a small phone),
// 800 px (a tablet) and 1280 px (a desktop): none is wider than the screen or has a table sticking out
// of the content column, and at 320 px the lists are cards whose cells name their column. axe checks
// every page at every width.
func TestBrowserListPagesReflow(t *testing.T) {
	t.Parallel()
	p := startLivePortal(t)
	var nsigID, regionID, releaseID int64
	if err := p.db.NewRaw(`SELECT n.id, rg.id FROM nsigs AS n, regions AS rg ORDER BY n.id, rg.id LIMIT 1`).Scan(t.Context(), &nsigID, &regionID); err != nil {
		t.Fatal(err)
	}
	if err := p.db.NewRaw(`SELECT release_id FROM allocations GROUP BY release_id ORDER BY count(*) DESC, release_id LIMIT 1`).Scan(t.Context(), &releaseID); err != nil {
		t.Fatal(err)
	}
	if _, err := identity.OpenReviews(t.Context(), p.db, time.Now(), london, identity.DefaultReviewPolicy(6)); err != nil {
		t.Fatal(err)
	}
	var reviewID int64
	if err := p.db.NewRaw(`SELECT id FROM access_reviews ORDER BY id LIMIT 1`).Scan(t.Context(), &reviewID); err != nil {
		t.Fatal(err)
	}
	var memberID int64
	if err := p.db.NewRaw(`SELECT id FROM users WHERE email = ?`, p.account(t, identity.RoleNSIGMember).Email).Scan(t.Context(), &memberID); err != nil {
		t.Fatal(err)
	}
	var assessed string // a request the NSIG reviews: its page has the regional views and the forms under them
	if err := p.db.NewRaw(`SELECT reference FROM requests WHERE status = 'impact_assessment' ORDER BY id LIMIT 1`).Scan(t.Context(), &assessed); err != nil {
		t.Fatal(err)
	}
	pages := map[string][]string{
		identity.RoleCentralTeam: {"/", "/requests", "/triage", "/reviews", "/releases", fmt.Sprintf("/releases/%d", releaseID), "/schedules",
			"/nsigs", fmt.Sprintf("/nsigs/%d", nsigID), fmt.Sprintf("/nsigs/%d/queue", nsigID), "/nsigs/membership",
			fmt.Sprintf("/nsigs/%d/seats/%d", nsigID, regionID), "/supplementary-roles", "/competences", "/supplementary-roles/queue",
			"/competences/queue", "/projects", "/regions", fmt.Sprintf("/regions/%d/update", regionID), "/notifications",
			"/dashboard", fmt.Sprintf("/dashboard/regions/%d", regionID), "/account/sessions"},
		identity.RoleAdmin: {"/admin/users", "/admin/audit", "/admin/mail", "/admin/organisations", "/downtime", "/access-reviews", fmt.Sprintf("/access-reviews/%d", reviewID),
			fmt.Sprintf("/admin/users/%d", memberID)},
		identity.RoleAccessApprover:  {"/", "/people", "/access-requests", "/access-reviews"},
		identity.RoleNSIGMember:      {"/", "/nsigs/waiting", "/requests", "/requests/" + assessed},
		identity.RoleDevelopmentTeam: {"/", "/assessments"},
		identity.RoleRequester:       {"/", "/requests", "/releases"},
	}
	// At 1280 px only the lists with the most columns, which used to stick out of the content column.
	wide := map[string]bool{"/requests": true, "/triage": true, fmt.Sprintf("/releases/%d", releaseID): true,
		"/competences/queue": true, "/admin/audit": true, "/admin/mail": true}
	for _, role := range []string{identity.RoleCentralTeam, identity.RoleAdmin, identity.RoleAccessApprover, identity.RoleNSIGMember, identity.RoleDevelopmentTeam, identity.RoleRequester} {
		tb := openTab(t, p, withTimeLimit(4*time.Minute))
		tb.visit("/sign-in")
		tb.signIn(p.account(t, role).Email, seed.DemoPassword)
		for _, width := range []int64{320, 800, 1280} {
			tb.setWidth(width)
			for _, path := range pages[role] {
				if width == 1280 && !wide[path] {
					continue
				}
				tb.visit(path)
				tb.wantStatus(200, role+" opens "+path)
				tb.wantReflow()
				if width == 320 && path == "/requests" && !tb.layout().CardHeading {
					t.Errorf("%s at 320 px: the list's cells do not show their column's heading", path)
				}
			}
		}
	}
}
