package app

import (
	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
)

// access says who may use a route. Deny by default: a route whose access names nobody is refused to
// everyone, signed in or not.
type access struct {
	public   bool     // anyone, signed in or not
	signedIn bool     // anyone signed in
	roles    []string // anyone signed in holding one of these roles
	static   bool     // a file: no session is read and no Cache-Control: no-store is added
}

var (
	anyone     = access{public: true}
	staticFile = access{public: true, static: true}
	signedIn   = access{signedIn: true}
)

func roles(names ...string) access { return access{roles: names} }

const (
	requester  = identity.RoleRequester
	nsigMember = identity.RoleNSIGMember
	fam        = identity.RoleFunctionalAccountManager
	central    = identity.RoleCentralTeam
	devTeam    = identity.RoleDevelopmentTeam
	admin      = identity.RoleAdmin
)

// route is one entry of the route table.
type route struct {
	method  string
	path    string
	access  access
	handler fiber.Handler
}

// routeTable is every URL the portal answers, top to bottom: method, path, who may use it, handler.
func (a *App) routeTable() []route {
	return []route{
		// Probes and files.
		{"GET", "/healthz", anyone, a.healthz},
		{"GET", "/readyz", anyone, a.readyz},
		{"GET", "/public/*", staticFile, a.assets.Handler()},
		{"GET", "/assets/*", staticFile, a.assets.NHSAssetsHandler()},
		{"GET", "/favicon.ico", staticFile, a.favicon},

		// Pages anyone can read.
		{"GET", "/accessibility", anyone, a.accessibility},

		// Signing in and out.
		{"GET", "/sign-in", anyone, a.signInShow},
		{"POST", "/sign-in", anyone, a.signInCreate},
		{"POST", "/sign-out", signedIn, a.signOut},

		// Everyone signed in.
		{"GET", "/", signedIn, a.home},
		{"GET", "/account/password", signedIn, a.passwordEdit},
		{"POST", "/account/password", signedIn, a.passwordUpdate},

		// Administration.
		{"GET", "/admin/users", roles(admin), a.usersIndex},
		{"GET", "/admin/users/new", roles(admin), a.userNew},
		{"POST", "/admin/users", roles(admin), a.userCreate},
		{"GET", "/admin/users/:id", roles(admin), a.userShow},
		{"GET", "/admin/users/:id/edit", roles(admin), a.userEdit},
		{"POST", "/admin/users/:id", roles(admin), a.userUpdate},
		{"POST", "/admin/users/:id/disable", roles(admin), a.userDisable},
		{"POST", "/admin/users/:id/enable", roles(admin), a.userEnable},
		{"POST", "/admin/users/:id/reset-password", roles(admin), a.userResetPassword},
		{"GET", "/admin/audit", roles(admin), a.auditIndex},
	}
}

// RouteInfo describes one registered route and who may use it, for the authorization test.
type RouteInfo struct {
	Method, Path string
	Public       bool
	SignedIn     bool
	Roles        []string
}

// Routes lists the route table.
func (a *App) Routes() []RouteInfo {
	out := make([]RouteInfo, 0, len(a.routes))
	for _, r := range a.routes {
		out = append(out, RouteInfo{Method: r.method, Path: r.path, Public: r.access.public, SignedIn: r.access.signedIn, Roles: r.access.roles})
	}
	return out
}
