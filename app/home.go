package app

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
)

// roleCard says on the home page what one of the user's roles lets them do.
type roleCard struct {
	Role  string
	Title string
	Can   []string
	Links []NavItem
}

type homePage struct {
	Page
	Cards  []roleCard
	ToDo   *todo
	Region string // the region a functional account manager covers
}

// roleAbilities is what each role may do, in the words of DESIGN §1.
var roleAbilities = map[string][]string{
	identity.RoleRequester: {
		"Raise enhancement requests for your organisation",
		"See your organisation's requests and answer questions about them",
		"Decide whether to take forward a request the central team classifies as an enhancement",
		"Support other organisations' requests",
		"Ask for new supplementary roles and national competences",
	},
	identity.RoleNSIGMember: {
		"Everything a requester can do",
		"See and comment on requests in your NSIG's functional area",
		"Record your region's view on requests",
		"Request agenda items and see your NSIG's meetings",
	},
	identity.RoleFunctionalAccountManager: {
		"See requests from organisations in your region",
		"Help write and endorse business justifications",
	},
	identity.RoleCentralTeam: {
		"Acknowledge, triage and classify requests",
		"Request information, record decisions and manage releases",
		"Publish the quarterly Development Schedule",
		"Manage NSIGs, meetings and reference lists",
	},
	identity.RoleDevelopmentTeam: {
		"Agree requirement definitions with requesters",
		"Co-author business justifications",
		"Carry out impact assessments and propose release allocations",
	},
	identity.RoleAccessApprover: {
		"Approve or refuse access for your organisation's people",
		"Set leaving dates and remove access at once when needed",
		"Review who has access every six months",
	},
	identity.RoleAdmin: {
		"Create users, change their details and roles, disable them and reset passwords",
		"See the audit trail",
	},
}

// roleLinks are where each role's work starts.
var roleLinks = map[string][]NavItem{
	identity.RoleRequester: {
		{Label: "Raise an enhancement request", Href: "/requests/new"},
		{Label: "See requests", Href: "/requests"},
		{Label: "Ask for a new supplementary role", Href: "/supplementary-roles/request"},
		{Label: "Ask for a national competence", Href: "/competences/request"},
	},
	identity.RoleNSIGMember: {
		{Label: "Requests waiting for your region's view", Href: "/nsigs/waiting"},
		{Label: "Your NSIGs", Href: "/nsigs"},
		{Label: "See requests", Href: "/requests"},
		{Label: "Raise an enhancement request", Href: "/requests/new"},
	},
	identity.RoleFunctionalAccountManager: {
		{Label: "See requests", Href: "/requests"},
		{Label: "Regional SIG updates", Href: "/regions"},
		{Label: "Access reviews of organisations without an access approver", Href: "/access-reviews"},
	},
	identity.RoleCentralTeam: {
		{Label: "Open the triage queue", Href: "/triage"},
		{Label: "See all requests", Href: "/requests"},
		{Label: "Review supplementary role and competency requests", Href: "/supplementary-roles/queue"},
		{Label: "See deferred requests due for review", Href: "/reviews"},
		{Label: "Prepare the quarterly Development Schedule", Href: "/schedules/new"},
	},
	identity.RoleDevelopmentTeam: {
		{Label: "Impact assessments waiting", Href: "/assessments"},
		{Label: "Requirement definitions being written", Href: todoLink("status", "requirements_and_justification")},
		{Label: "See all requests", Href: "/requests"},
	},
	identity.RoleAccessApprover: {{Label: "Access requests", Href: "/access-requests"}, {Label: "People and leavers", Href: "/people"}, {Label: "Access reviews", Href: "/access-reviews"}},
	identity.RoleAdmin: {
		{Label: "Manage users", Href: "/admin/users"},
		{Label: "Access reviews", Href: "/access-reviews"},
		{Label: "See the audit trail", Href: "/admin/audit"},
		{Label: "Read the emails the portal sent", Href: "/admin/mail"},
	},
}

// dashboardLabel names the dashboard each role's card links to.
var dashboardLabel = map[string]string{
	identity.RoleRequester:                "See your organisation's dashboard",
	identity.RoleNSIGMember:               "See your organisation's dashboard",
	identity.RoleFunctionalAccountManager: "See your region's dashboard",
	identity.RoleCentralTeam:              "See the national dashboard",
	identity.RoleDevelopmentTeam:          "See the national dashboard",
}

// dashboardFor is the dashboard a role's card links to.
func dashboardFor(u *identity.User, role string) string {
	switch role {
	case identity.RoleCentralTeam, identity.RoleDevelopmentTeam:
		return "/dashboard"
	case identity.RoleFunctionalAccountManager:
		if u.RegionID != 0 {
			return fmt.Sprintf("/dashboard/regions/%d", u.RegionID)
		}
	case identity.RoleRequester, identity.RoleNSIGMember:
		return fmt.Sprintf("/dashboard/organisations/%d", u.OrganisationID)
	}
	return ""
}

func (a *App) home(c *fiber.Ctx) error {
	u := visitOf(c).user
	p := &homePage{Page: a.page(c, "Home")}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	if p.ToDo, err = a.todoFor(c.UserContext(), u, v); err != nil {
		return err
	}
	if u.HasRole(identity.RoleFunctionalAccountManager) {
		p.Region = u.RegionName
	}
	for _, r := range identity.Roles {
		if !u.HasRole(r.Name) {
			continue
		}
		card := roleCard{Role: r.Name, Title: r.Title, Can: roleAbilities[r.Name], Links: roleLinks[r.Name]}
		if href := dashboardFor(u, r.Name); href != "" {
			card.Links = append(card.Links, NavItem{Label: dashboardLabel[r.Name], Href: href})
		}
		p.Cards = append(p.Cards, card)
	}
	return a.render(c, fiber.StatusOK, "home/index", p)
}
