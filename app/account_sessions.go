package app

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
)

type accountPage struct {
	Page
	TwoFactor bool
	Required  bool
	Sessions  int
}

// accountShow is the user's own account: password, two-factor authentication, signed-in devices and
// notification settings.
func (a *App) accountShow(c *fiber.Ctx) error {
	u := visitOf(c).user
	n, err := identity.CountSessions(c.UserContext(), a.db, u.ID, a.now(), a.sessionPolicy())
	if err != nil {
		return err
	}
	p := &accountPage{Page: a.page(c, "Your account"), TwoFactor: u.TwoFactor, Required: u.Elevated(), Sessions: n}
	return a.render(c, fiber.StatusOK, "account/show", p)
}

// sessionRow is one signed-in device as its owner sees it.
type sessionRow struct {
	ID       int64
	Device   string
	IP       string
	Started  string
	LastUsed string
	This     bool
}

type sessionsPage struct {
	Page
	Sessions []sessionRow
}

// device names a browser and system from a user agent, as people know them.
func device(ua string) string {
	browser := "A browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Microsoft Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"}, {"Mac OS X", "Mac"},
		{"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

func (a *App) sessionsIndex(c *fiber.Ctx) error {
	v := visitOf(c)
	list, err := identity.Sessions(c.UserContext(), a.db, v.user.ID, a.now(), a.sessionPolicy())
	if err != nil {
		return err
	}
	p := &sessionsPage{Page: a.page(c, "Where you are signed in")}
	for _, s := range list {
		p.Sessions = append(p.Sessions, sessionRow{
			ID: s.ID, Device: device(s.UserAgent), IP: s.IP,
			Started: s.CreatedAt.In(london).Format("2 January 2006 at 3:04pm"), LastUsed: s.LastSeenAt.In(london).Format("2 January 2006 at 3:04pm"),
			This: s.ID == v.session.ID,
		})
	}
	return a.render(c, fiber.StatusOK, "account/sessions", p)
}

// sessionEnd ends one of the user's own sessions; ending this one signs out.
func (a *App) sessionEnd(c *fiber.Ctx) error {
	v := visitOf(c)
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := identity.EndSession(c.UserContext(), a.db, a.actor(c), a.now(), v.user.ID, id); err != nil {
		return err
	}
	if id == v.session.ID {
		a.clearCookie(c, a.sessionCookieName())
		return c.Redirect("/sign-in?signed_out=1", fiber.StatusSeeOther)
	}
	a.flash(c, "That device has been signed out.")
	return c.Redirect("/account/sessions", fiber.StatusSeeOther)
}

// sessionsEndOthers signs the user out everywhere but here.
func (a *App) sessionsEndOthers(c *fiber.Ctx) error {
	v := visitOf(c)
	n, err := identity.EndOtherSessions(c.UserContext(), a.db, a.actor(c), a.now(), v.user.ID, v.token)
	if err != nil {
		return err
	}
	a.flash(c, fmt.Sprintf("You have been signed out on %s.", fmt.Sprintf("%d %s", n, plural(n, "other device", "other devices"))))
	return c.Redirect("/account/sessions", fiber.StatusSeeOther)
}

// userEndSessions is an administrator signing someone out everywhere.
func (a *App) userEndSessions(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	u, err := identity.Get(c.UserContext(), a.db, id)
	if err != nil {
		return err
	}
	n, err := identity.EndOtherSessions(c.UserContext(), a.db, a.actor(c), a.now(), u.ID, "")
	if err != nil {
		return err
	}
	if u.ID == visitOf(c).user.ID {
		a.clearCookie(c, a.sessionCookieName())
		return c.Redirect("/sign-in?signed_out=1", fiber.StatusSeeOther)
	}
	a.flash(c, fmt.Sprintf("%s has been signed out on %s.", u.Name, fmt.Sprintf("%d %s", n, plural(n, "device", "devices"))))
	return c.Redirect(fmt.Sprintf("/admin/users/%d", u.ID), fiber.StatusSeeOther)
}
