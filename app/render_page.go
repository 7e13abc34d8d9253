package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/forms"
)

// page builds the part of every page that the layout needs.
func (a *App) page(c *fiber.Ctx, title string) Page {
	v := visitOf(c)
	p := Page{Title: title, CSRFToken: v.csrf, RequestID: requestID(c), Path: c.Path(), Notices: a.banners(c.UserContext())}
	p.Flash, p.FlashHref, p.FlashLink = splitFlash(v.flash)
	if u := v.user; u != nil {
		p.User = &CurrentUser{ID: u.ID, Name: u.Name, Email: u.Email, OrganisationName: u.OrganisationName, OrganisationID: u.OrganisationID, Roles: u.Roles}
		p.Nav = navFor(u, c.Path())
		p.Unread = v.unread
	}
	return p
}

// navFor is the header navigation a user's roles open. It is kept short enough to fit on one line on a
// desktop screen: the account links (notifications, password, sign out) are in the header's account area,
// and the less frequent queues are linked from the home page and their section's pages.
func navFor(u *identity.User, path string) []NavItem {
	items := []NavItem{{Label: "Home", Href: "/"}, {Label: "Requests", Href: "/requests"}}
	if u.HasRole(identity.RoleRequester) || u.HasRole(identity.RoleNSIGMember) {
		items = append(items, NavItem{Label: "Raise a request", Href: "/requests/new"})
	}
	if u.HasRole(identity.RoleCentralTeam) {
		items = append(items, NavItem{Label: "Triage", Href: "/triage"})
	}
	if href := myDashboard(u); href != "" {
		items = append(items, NavItem{Label: "Dashboard", Href: href})
	}
	items = append(items, NavItem{Label: "Roles and competences", Href: "/supplementary-roles"})
	if u.HasRole(identity.RoleDevelopmentTeam) {
		items = append(items, NavItem{Label: "Assessments", Href: "/assessments"})
	}
	if u.HasRole(identity.RoleCentralTeam) || u.HasRole(identity.RoleDevelopmentTeam) {
		items = append(items, NavItem{Label: "Releases", Href: "/releases"})
	}
	items = append(items, NavItem{Label: "Schedules", Href: "/schedules"})
	if u.HasRole(identity.RoleNSIGMember) || u.HasRole(identity.RoleCentralTeam) || u.HasRole(identity.RoleAdmin) {
		items = append(items, NavItem{Label: "NSIGs", Href: "/nsigs"})
	}
	if u.HasRole(identity.RoleAccessApprover) || u.HasRole(identity.RoleAdmin) {
		items = append(items, NavItem{Label: "Access", Href: "/access-requests"})
	}
	if u.HasRole(identity.RoleAdmin) {
		items = append(items, NavItem{Label: "Users", Href: "/admin/users"}, NavItem{Label: "Audit trail", Href: "/admin/audit"}, NavItem{Label: "Emails", Href: "/admin/mail"})
	}
	if strings.HasPrefix(path, "/requests/drafts/") {
		path = "/requests/new" // the question pages of raising a request
	}
	if path == "/competences" || strings.HasPrefix(path, "/competences/") {
		path = "/supplementary-roles" // one navigation item for both lists and their queues
	}
	for i := range items {
		h := items[i].Href
		items[i].Current = path == h || (h != "/" && len(path) > len(h) && path[:len(h)+1] == h+"/")
	}
	// The most specific match wins: on /requests/new only "Raise a request" is current.
	for i := range items {
		for j := range items {
			if i != j && items[i].Current && items[j].Current && len(items[j].Href) > len(items[i].Href) {
				items[i].Current = false
			}
		}
	}
	return items
}

// render writes a page with a status. The template runs into a buffer first, so a failure never
// sends half a page.
func (a *App) render(c *fiber.Ctx, status int, name string, data any) error {
	page, err := a.views.RenderBytes(name, data, contentBufferSize+layoutBufferSize)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(page)
}

// invalid re-renders a form's page with status 422 and its errors.
func (a *App) invalid(c *fiber.Ctx, name string, p *Page, errs forms.Errors, data any) error {
	p.Errors = errs
	return a.render(c, fiber.StatusUnprocessableEntity, name, data)
}
