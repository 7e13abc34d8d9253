package app

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/forms"
)

const usersPerPage = 25

type usersIndexPage struct {
	Page
	Users         []userRow
	Total         int
	Query         string
	Role          string
	Status        string
	RoleOptions   []Option
	StatusOptions []Option
	Pagination    Pagination
}

func (a *App) usersIndex(c *fiber.Ctx) error {
	pageNo := max(1, c.QueryInt("page", 1))
	f := identity.Filter{
		Query: c.Query("q"), Role: c.Query("role"), Status: c.Query("status"),
		Limit: usersPerPage, Offset: (pageNo - 1) * usersPerPage,
	}
	if f.Role != "" && !identity.IsRole(f.Role) {
		f.Role = ""
	}
	switch f.Status {
	case identity.StatusActive, identity.StatusPending, identity.StatusSuspended, identity.StatusLeft, identity.StatusDisabled:
	default:
		f.Status = ""
	}
	users, total, err := identity.List(c.UserContext(), a.db, f)
	if err != nil {
		return err
	}
	rows := make([]userRow, 0, len(users))
	for _, u := range users {
		rows = append(rows, userRow{User: u, RoleTitles: roleTitles(u.Roles)})
	}
	p := &usersIndexPage{
		Page: a.page(c, "Users"), Users: rows, Total: total, Query: f.Query, Role: f.Role, Status: f.Status,
		RoleOptions: append([]Option{{Value: "", Label: "Any role"}}, roleOptions()...),
		StatusOptions: []Option{{Value: "", Label: "Any status"}, {Value: identity.StatusActive, Label: "Active"}, {Value: identity.StatusPending, Label: statusTitle(identity.StatusPending)},
			{Value: identity.StatusSuspended, Label: statusTitle(identity.StatusSuspended)}, {Value: identity.StatusLeft, Label: statusTitle(identity.StatusLeft)}, {Value: identity.StatusDisabled, Label: "Disabled"}},
	}
	q := url.Values{"q": {f.Query}, "role": {f.Role}, "status": {f.Status}}
	p.Pagination = paginate("/admin/users", q, pageNo, usersPerPage, total)
	return a.render(c, fiber.StatusOK, "users/index", p)
}

// userRow is one line of the users table.
type userRow struct {
	identity.User
	RoleTitles string
}

func roleTitles(roles []string) string {
	titles := make([]string, 0, len(roles))
	for _, r := range roles {
		titles = append(titles, identity.RoleTitle(r))
	}
	return strings.Join(titles, ", ")
}

func roleOptions() []Option {
	out := make([]Option, 0, len(identity.Roles))
	for _, r := range identity.Roles {
		out = append(out, Option{Value: r.Name, Label: r.Title, Hint: r.Description})
	}
	return out
}

type userFormPage struct {
	Page
	Form                forms.User
	Subject             *identity.User // the user being changed; nil when adding one
	OrganisationOptions []Option
	RoleOptions         []Option
}

func (a *App) userFormPage(c *fiber.Ctx, title string, f forms.User, u *identity.User) (*userFormPage, error) {
	orgs, err := organisation.List(c.UserContext(), a.db)
	if err != nil {
		return nil, err
	}
	opts := []Option{{Value: "", Label: "Select an organisation"}}
	for _, o := range orgs {
		if o.MergedIntoID == 0 || (u != nil && u.OrganisationID == o.ID) {
			opts = append(opts, Option{Value: strconv.FormatInt(o.ID, 10), Label: fmt.Sprintf("%s (%s) – %s", o.Name, o.ODSCode, o.RegionName)})
		}
	}
	return &userFormPage{Page: a.page(c, title), Form: f, Subject: u, OrganisationOptions: opts, RoleOptions: roleOptions()}, nil
}

func (a *App) userNew(c *fiber.Ctx) error {
	p, err := a.userFormPage(c, "Add a user", forms.User{Roles: []string{identity.RoleRequester}}, nil)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "users/new", p)
}

type userCreatedPage struct {
	Page
	Subject  *identity.User
	Password string
}

func (a *App) userCreate(c *fiber.Ctx) error {
	var f forms.User
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.userFormPage(c, "Add a user", f, nil)
	if err != nil {
		return err
	}
	errs := a.validate.Check(&f)
	orgID, _ := strconv.ParseInt(f.OrganisationID, 10, 64)
	if errs.Get("organisation_id") == "" {
		if _, err := organisation.Get(c.UserContext(), a.db, orgID); errors.Is(err, problem.ErrNotFound) {
			errs.Add("organisation_id", "Select their organisation from the list")
		} else if err != nil {
			return err
		}
	}
	if errs.Any() {
		return a.invalid(c, "users/new", &p.Page, errs, p)
	}
	password, err := identity.GeneratePassword()
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(f.Reason)
	if reason == "" {
		reason = "New account"
	}
	u, err := identity.Create(c.UserContext(), a.db, a.actor(c), a.now(), identity.NewUser{
		Email: f.Email, Name: f.Name, OrganisationID: orgID, Roles: f.Roles, Password: password, MustChangePassword: true,
		Grant: &identity.RoleChange{Reason: reason, RequestedBy: f.RequestedBy},
	})
	if errors.Is(err, identity.ErrEmailTaken) {
		errs.Add("email", "A user with this email address already exists")
		return a.invalid(c, "users/new", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.choices.forget() // the triagers may have changed
	// The one-time password is shown once, on this response, and stored nowhere.
	return a.render(c, fiber.StatusOK, "users/created", &userCreatedPage{Page: a.page(c, "User added"), Subject: u, Password: password})
}

type userShowPage struct {
	Page
	Subject  *identity.User
	Details  []SummaryRow
	Sessions int
	Events   []auditEvent
	Elevated bool
	Grants   []identity.Grant
}

func (a *App) userFromParam(c *fiber.Ctx) (*identity.User, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("user %q: %w", c.Params("id"), problem.ErrNotFound)
	}
	return identity.Get(c.UserContext(), a.db, id)
}

func (a *App) userShow(c *fiber.Ctx) error {
	u, err := a.userFromParam(c)
	if err != nil {
		return err
	}
	n, err := identity.CountSessions(c.UserContext(), a.db, u.ID, a.now(), a.sessionPolicy())
	if err != nil {
		return err
	}
	events, _, err := audit.List(c.UserContext(), a.db, audit.Filter{EntityType: "user", EntityID: strconv.FormatInt(u.ID, 10), Limit: 10})
	if err != nil {
		return err
	}
	grants, err := identity.History(c.UserContext(), a.db, u.ID)
	if err != nil {
		return err
	}
	status := statusTitle(u.Status)
	lastSignIn := "Never"
	if !u.LastSignInAt.IsZero() {
		lastSignIn = u.LastSignInAt.In(london).Format("2 January 2006 at 3:04pm")
	}
	details := []SummaryRow{
		{Key: "Email address", Value: u.Email},
		{Key: "Organisation", Value: fmt.Sprintf("%s (%s)", u.OrganisationName, u.OrganisationODS)},
		{Key: "Region", Value: u.RegionName},
		{Key: "Roles", Value: roleTitles(u.Roles)},
		{Key: "Status", Value: status},
		{Key: "Last signed in", Value: lastSignIn},
		{Key: "User ID", Value: strconv.FormatInt(u.ID, 10)},
	}
	return a.render(c, fiber.StatusOK, "users/show", &userShowPage{Page: a.page(c, u.Name), Subject: u, Details: details, Sessions: n, Events: auditEvents(events), Elevated: u.Elevated(), Grants: grants})
}

func (a *App) userEdit(c *fiber.Ctx) error {
	u, err := a.userFromParam(c)
	if err != nil {
		return err
	}
	f := forms.User{Name: u.Name, Email: u.Email, OrganisationID: strconv.FormatInt(u.OrganisationID, 10), Roles: u.Roles, Version: u.Version}
	p, err := a.userFormPage(c, "Change "+u.Name, f, u)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "users/edit", p)
}

func (a *App) userUpdate(c *fiber.Ctx) error {
	u, err := a.userFromParam(c)
	if err != nil {
		return err
	}
	var f forms.User
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.userFormPage(c, "Change "+u.Name, f, u)
	if err != nil {
		return err
	}
	errs := a.validate.Check(&f)
	orgID, _ := strconv.ParseInt(f.OrganisationID, 10, 64)
	if errs.Get("organisation_id") == "" {
		if _, err := organisation.Get(c.UserContext(), a.db, orgID); errors.Is(err, problem.ErrNotFound) {
			errs.Add("organisation_id", "Select their organisation from the list")
		} else if err != nil {
			return err
		}
	}
	if u.ID == visitOf(c).user.ID && !contains(f.Roles, identity.RoleAdmin) {
		errs.Add("roles", "You cannot remove your own administrator role")
	}
	// The NSIG member role follows from seats: it goes when the last term ends.
	if u.HasRole(identity.RoleNSIGMember) && !contains(f.Roles, identity.RoleNSIGMember) && errs.Get("roles") == "" {
		seats, err := nsig.SeatsHeldBy(c.UserContext(), a.db, u.ID)
		if err != nil {
			return err
		}
		if len(seats) > 0 {
			where := make([]string, len(seats))
			for i, s := range seats {
				where[i] = fmt.Sprintf("%s (%s %s)", s.NSIGName, s.RegionName, strings.ToLower(s.Position.Label()))
			}
			errs.Add("roles", fmt.Sprintf("%s sits on %s. End their %s on the NSIG's seat page instead: the NSIG member role goes when their last term ends",
				u.Name, strings.Join(where, " and "), plural(len(seats), "term", "terms")))
		}
	}
	if errs.Get("roles") == "" && !sameRoleSet(u.Roles, f.Roles) && strings.TrimSpace(f.Reason) == "" {
		errs.Add("reason", "Enter why their roles change")
	}
	if errs.Any() {
		return a.invalid(c, "users/edit", &p.Page, errs, p)
	}
	after, err := identity.Update(c.UserContext(), a.db, a.actor(c), a.now(), u.ID, f.Version, identity.Changes{
		Name: f.Name, Email: f.Email, OrganisationID: orgID, Roles: f.Roles,
		Grant: identity.RoleChange{Reason: f.Reason, RequestedBy: f.RequestedBy},
	})
	if errors.Is(err, identity.ErrAlreadyPending) {
		errs.Add("roles", "A change of one of these roles is already waiting for a second administrator")
		return a.invalid(c, "users/edit", &p.Page, errs, p)
	}
	if errors.Is(err, identity.ErrEmailTaken) {
		errs.Add("email", "Another user already has this email address")
		return a.invalid(c, "users/edit", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.choices.forget() // the triagers may have changed
	msg := "Changes to " + strings.TrimSpace(f.Name) + " saved"
	if len(after.PendingRoles) > 0 {
		msg += ". " + roleTitles(after.PendingRoles) + " needs a second administrator to authorise it on the access requests page"
	}
	a.flash(c, msg)
	return c.Redirect(fmt.Sprintf("/admin/users/%d", u.ID), fiber.StatusSeeOther)
}

func (a *App) userSetStatus(c *fiber.Ctx, status, done string) error {
	u, err := a.userFromParam(c)
	if err != nil {
		return err
	}
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return fiber.ErrBadRequest
	}
	if err := identity.SetStatus(c.UserContext(), a.db, a.actor(c), a.now(), u.ID, version, status); err != nil {
		return err
	}
	a.choices.forget() // the triagers may have changed
	a.flash(c, u.Name+" "+done)
	return c.Redirect(fmt.Sprintf("/admin/users/%d", u.ID), fiber.StatusSeeOther)
}

func (a *App) userDisable(c *fiber.Ctx) error {
	return a.userSetStatus(c, identity.StatusDisabled, "has been disabled and signed out everywhere")
}

func (a *App) userEnable(c *fiber.Ctx) error {
	return a.userSetStatus(c, identity.StatusActive, "can sign in again")
}

type passwordResetPage struct {
	Page
	Subject  *identity.User
	Password string
}

func (a *App) userResetPassword(c *fiber.Ctx) error {
	u, err := a.userFromParam(c)
	if err != nil {
		return err
	}
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return fiber.ErrBadRequest
	}
	password, err := identity.ResetPassword(c.UserContext(), a.db, a.actor(c), a.now(), u.ID, version)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "users/password_reset", &passwordResetPage{Page: a.page(c, "Password reset"), Subject: u, Password: password})
}

// sameRoleSet reports whether two lists hold the same roles, in any order.
func sameRoleSet(a, b []string) bool {
	for _, r := range a {
		if !contains(b, r) {
			return false
		}
	}
	for _, r := range b {
		if !contains(a, r) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// accountStatus is an account's status as a tag: its name and colour.
func accountStatus(status string) map[string]any {
	colour := "grey"
	switch status {
	case identity.StatusActive:
		colour = "green"
	case identity.StatusPending:
		colour = "yellow"
	case identity.StatusSuspended:
		colour = "orange"
	}
	return map[string]any{"Text": statusTitle(status), "Colour": colour}
}

// statusTitle is how a page names an account's status.
func statusTitle(status string) string {
	switch status {
	case identity.StatusActive:
		return "Active"
	case identity.StatusPending:
		return "Waiting for approval"
	case identity.StatusLeft:
		return "Left: access ended"
	case identity.StatusSuspended:
		return "Suspended: access review not confirmed"
	}
	return "Disabled"
}
