package app

import (
	"crypto/hmac"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// While the database is unreachable every page answers 503 with the "service unavailable" page and a
// Retry-After header (see handleError). Only the sign-in page can be shown without the database: its
// form comes back with what was typed. Every other page needs the database to know who is signed in,
// so a form sent to it comes back on the 503 page as a "Try again" button that sends the same values
// again (files and passwords excepted), with what was typed shown beside it.

// retryAfterSeconds is the Retry-After of a 503: the private cluster restarts in well under a second,
// a managed database fails over in tens of seconds.
const retryAfterSeconds = "10"

// tryAgainMessage heads the error summary of a form that could not be saved for want of the database.
const tryAgainMessage = "The portal cannot save anything at the moment, so what you entered has not been saved yet. Try again in a moment"

// signInUnavailableMessage heads the sign-in page while the database is unavailable.
const signInUnavailableMessage = "You cannot sign in at the moment because the portal is unavailable. Try again in a moment"

// RetryForm sends a form again, with the values it was posted with.
type RetryForm struct {
	Action string
	Fields []RetryField // every value posted, in order, including the form token
	Shown  []SummaryRow // the values a person typed, shown so that they can be copied
}

// RetryField is one posted value.
type RetryField struct {
	Name  string
	Value string
}

// retryForm returns the form a POST that failed for want of the database can be sent again with, or nil
// when it cannot: not a URL-encoded form (a file cannot be kept), or not carrying the form token of the
// browser that sent it (which is checked here, as the guard may not have got that far).
func (a *App) retryForm(c *fiber.Ctx) *RetryForm {
	if c.Method() != fiber.MethodPost ||
		!strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationForm) {
		return nil
	}
	v := &visit{token: c.Cookies(a.sessionCookieName()), anon: c.Cookies(a.csrfCookieName())}
	if v.token == "" && v.anon == "" {
		return nil
	}
	sent := c.FormValue("_csrf")
	if sent == "" || !hmac.Equal([]byte(sent), []byte(a.csrfToken(v.binding()))) {
		return nil
	}
	r := &RetryForm{Action: c.OriginalURL()}
	for k, val := range c.Request().PostArgs().All() {
		name, value := string(k), string(val)
		if strings.Contains(strings.ToLower(name), "password") {
			continue
		}
		r.Fields = append(r.Fields, RetryField{Name: name, Value: value})
		if typed(name) && strings.TrimSpace(value) != "" {
			r.Shown = append(r.Shown, SummaryRow{Key: fieldLabel(name), Value: value})
		}
	}
	return r
}

// typed reports whether a field is one a person fills in, rather than one the page sets (the form
// token, the version a form was made from, a submission token).
func typed(name string) bool {
	n := strings.ToLower(name)
	return !strings.HasPrefix(n, "_") && n != "version" && !strings.Contains(n, "token")
}

// fieldLabel makes a form field's name readable: "business_case" reads "Business case".
func fieldLabel(name string) string {
	s := strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ", ".", " ", "[", " ", "]", "").Replace(name))
	if s == "" {
		return name
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
