package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/forms"
)

// visit is what the guard learns about the browser behind a request.
type visit struct {
	token     string // session token from the cookie; "" when not signed in
	session   *identity.Session
	user      *identity.User
	flash     string // the success message left by the previous request (see flash.go)
	anon      string // before sign-in: the random form-token cookie
	csrf      string // the token forms must send back
	hadCookie bool   // a session cookie came with the request (it may have expired)
	unread    int    // unread notifications, for the header
}

const visitKey = "visit"

// binding is what form tokens and success messages are bound to: the session, or before sign-in the
// random form-token cookie.
func (v *visit) binding() string {
	if v.token != "" {
		return "session:" + v.token
	}
	return "anonymous:" + v.anon
}

func (a *App) sessionCookieName() string {
	if a.cfg.Secure() {
		return "__Host-portal_session"
	}
	return "portal_session"
}

func (a *App) csrfCookieName() string {
	if a.cfg.Secure() {
		return "__Host-portal_csrf"
	}
	return "portal_csrf"
}

// guard wraps a route's handler: it reads the session, enforces the route's access rule, checks the
// CSRF token on every unsafe method and marks signed-in pages as not to be stored.
func (a *App) guard(r route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if r.access.static {
			return r.handler(c)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		v, err := a.loadVisit(c)
		if err != nil {
			return err
		}
		if !r.access.public {
			if v.user == nil {
				return a.redirectToSignIn(c, v)
			}
			// The passcode, a password of one's own and an authenticator come before any page.
			if step := pendingStep(v); step != "" && !stepAllows(step, r.path) {
				return a.toStep(c, step)
			}
			if !allows(r.access, v.user) {
				return fmt.Errorf("%s %s needs one of the roles %v: %w", r.method, r.path, r.access.roles, problem.ErrForbidden)
			}
		}
		if !safeMethod(c.Method()) {
			if !a.csrfValid(c, v) {
				return errCSRF
			}
			if err := cleanForm(c); err != nil {
				return err
			}
			if until, on := a.readOnlyUntil(c.UserContext()); on && !writesDuringDowntime[r.path] {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(60, int(until.Sub(a.now()).Seconds()))))
				page := NewErrorPage(a.page(c, "The portal is read-only"), fiber.StatusServiceUnavailable)
				page.Heading = "The portal is read-only for planned maintenance"
				page.Message = "The portal is read-only for planned maintenance until " + until.In(london).Format("3:04pm on Monday 2 January") +
					". Nothing you sent has been changed: go back and try again after then."
				return a.render(c, fiber.StatusServiceUnavailable, "errors/error", &page)
			}
			if r.access.fresh && a.needsReconfirm(v) {
				if ok, err := a.reconfirm(c, v); !ok || err != nil {
					return err
				}
			}
		}
		return r.handler(c)
	}
}

// errCSRF is a form that came back without the token its page was given.
var errCSRF = fiber.NewError(fiber.StatusForbidden, "This form has expired or was not sent from the portal. Go back, reload the page and try again.")

func allows(ac access, u *identity.User) bool {
	if ac.public || ac.signedIn {
		return true
	}
	for _, r := range ac.roles {
		if u.HasRole(r) {
			return true
		}
	}
	return false
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

func (a *App) loadVisit(c *fiber.Ctx) (*visit, error) {
	v := &visit{token: c.Cookies(a.sessionCookieName())}
	v.hadCookie = v.token != ""
	if v.token != "" {
		s, u, err := identity.Lookup(c.UserContext(), a.db, v.token, a.now(), a.sessionPolicy())
		switch {
		case errors.Is(err, identity.ErrNoSession):
			v.token = ""
			a.clearCookie(c, a.sessionCookieName())
		case err != nil:
			return nil, err
		default:
			v.session, v.user, v.unread = s, u, u.Unread
		}
	}
	if v.user == nil {
		v.anon = c.Cookies(a.csrfCookieName())
		if v.anon == "" {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return nil, fmt.Errorf("csrf cookie: %w", err)
			}
			v.anon = base64.RawURLEncoding.EncodeToString(b)
			a.setCookie(c, a.csrfCookieName(), v.anon)
		}
	}
	v.csrf = a.csrfToken(v.binding())
	a.takeFlash(c, v)
	c.Locals(visitKey, v)
	return v, nil
}

func visitOf(c *fiber.Ctx) *visit {
	if v, ok := c.Locals(visitKey).(*visit); ok {
		return v
	}
	return &visit{}
}

// csrfToken binds a form token to the session (or, before sign-in, to a random cookie) with the
// session secret, so nothing needs storing.
func (a *App) csrfToken(binding string) string {
	m := hmac.New(sha256.New, a.cfg.SessionSecret)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *App) csrfValid(c *fiber.Ctx, v *visit) bool {
	sent := c.FormValue("_csrf")
	if sent == "" {
		sent = c.Get("X-CSRF-Token")
	}
	if v.user == nil && c.Cookies(a.csrfCookieName()) == "" {
		return false
	}
	return sent != "" && hmac.Equal([]byte(sent), []byte(v.csrf))
}

func (a *App) setCookie(c *fiber.Ctx, name, value string) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: value, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: a.cfg.Secure(),
	})
}

func (a *App) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: a.cfg.Secure(),
		Expires: time.Unix(0, 0), MaxAge: -1,
	})
}

func (a *App) redirectToSignIn(c *fiber.Ctx, v *visit) error {
	q := url.Values{}
	if c.Method() == fiber.MethodGet && c.Path() != "/" {
		q.Set("next", c.OriginalURL())
	}
	if v.hadCookie {
		q.Set("expired", "1")
	}
	target := "/sign-in"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// safeNext returns next when a browser would read it as a path on the portal's own origin, and "/"
// otherwise. Browsers remove tabs and newlines anywhere in a URL and control characters and spaces at
// its ends, read a backslash as a slash, and some servers and proxies decode percent-escapes once
// more; so next is checked as it is and as each decoding of it reads, and must start with one slash
// followed by something other than a slash in every form. What is returned is next re-encoded from
// its parsed path and query, so that what the browser follows is what was checked.
func safeNext(next string) string {
	const home, maxNext = "/", 2048
	if next == "" || len(next) > maxNext {
		return home
	}
	for form, i := next, 0; ; i++ {
		if !localPath(form) {
			return home
		}
		decoded, err := url.PathUnescape(form)
		if err != nil || decoded == form {
			break
		}
		if i == 3 { // still changing after three decodings: nobody links like that
			return home
		}
		form = decoded
	}
	u, err := url.Parse(browserClean(next))
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !localPath(u.EscapedPath()) {
		return home
	}
	// A space left raw in the query would be cut off at the end by a browser: escape it as it would.
	query := strings.ReplaceAll(u.RawQuery, " ", "%20")
	out := (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: query, Fragment: u.Fragment}).String()
	if len(out) > maxNext || !localPath(out) {
		return home
	}
	return out
}

// browserClean is s as a browser's URL parser first sees it: leading and trailing C0 controls and
// spaces removed, every tab and newline removed, backslashes read as slashes.
func browserClean(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(s)
	return s
}

// localPath reports whether s holds no control characters (nor invalid UTF-8) and, read as a browser
// reads it, is an absolute path without an authority: "/" and then anything but a second slash.
func localPath(s string) bool {
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == utf8.RuneError }) {
		return false
	}
	s = browserClean(s)
	return strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//")
}

// actor is who is making this request, for the audit trail.
func (a *App) actor(c *fiber.Ctx) audit.Actor {
	act := audit.Actor{Name: "anonymous", IP: a.clientIP(c), RequestID: requestID(c)}
	if u := visitOf(c).user; u != nil {
		act.UserID, act.Name, act.OrganisationID = u.ID, u.Name, u.OrganisationID
	}
	return act
}

func (a *App) client(c *fiber.Ctx) identity.Client {
	return identity.Client{IP: a.clientIP(c), UserAgent: forms.Clean(c.Get(fiber.HeaderUserAgent))}
}

func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(requestIDKey).(string); ok {
		return id
	}
	return c.GetRespHeader(fiber.HeaderXRequestID)
}

// logPath is a request path as the logs may show it: the token of a one-time link is a secret.
func logPath(path string) string {
	if strings.HasPrefix(path, "/links/") {
		return "/links/[redacted]"
	}
	return path
}

// accessLog writes one structured line a request: never the query string, which may hold tokens.
func (a *App) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		// The error handler has not run yet; report the status it will choose.
		status = statusFor(err)
	}
	attrs := []any{
		"method", c.Method(), "path", logPath(c.Path()), "status", status,
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "request_id", requestID(c), "ip", a.clientIP(c),
	}
	if u := visitOf(c).user; u != nil {
		attrs = append(attrs, "user_id", u.ID)
	}
	a.log.Info("request", attrs...)
	return err
}
