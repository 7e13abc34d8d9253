package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/forms"
)

// What a request may carry. PostgreSQL cannot store NUL or invalid UTF-8 (it fails the statement) and
// spreadsheets cannot hold other control characters, so they are stopped before any handler runs:
//   - in the path or the query string, where nobody types them, the request is refused (400);
//   - in a form's values, each becomes "�" (forms.Clean), so nothing can pass them to the database
//     or use them in a query while the page is shown again, and the form's check
//     (forms.Validator.Check) gives the field its error (422) with everything typed kept;
//   - in a form field's name, or in a body that is not a form, the request is refused (400, 415).

// errUnreadable is a request whose address or form holds what no browser sends from a page.
var errUnreadable = fiber.NewError(fiber.StatusBadRequest,
	"The web address or form you sent has characters in it that the portal cannot use. Go back, check what you typed or pasted, and try again.")

// errNotAForm is an unsafe request whose body is not an HTML form.
var errNotAForm = fiber.NewError(fiber.StatusUnsupportedMediaType,
	"The portal only accepts forms sent from its own pages. Go back, reload the page and try again.")

// refuseUnreadableURL answers 400 to a request whose path or query string, decoded, holds anything
// the portal cannot store.
func (a *App) refuseUnreadableURL(c *fiber.Ctx) error {
	uri := c.Request().URI()
	if !forms.Storable(string(uri.Path())) {
		return errUnreadable
	}
	for k, v := range uri.QueryArgs().All() {
		if !forms.Storable(string(k)) || !forms.Storable(string(v)) {
			return errUnreadable
		}
	}
	return c.Next()
}

// cleanForm makes the values of an unsafe request's form safe before its handler reads them (see
// above), and refuses a field name the portal cannot use or a body that is not a form.
func cleanForm(c *fiber.Ctx) error {
	ctype, _, _ := strings.Cut(strings.ToLower(string(c.Request().Header.ContentType())), ";")
	switch strings.TrimSpace(ctype) {
	case fiber.MIMEApplicationForm:
		args := c.Request().PostArgs()
		var pairs [][2]string
		dirty := false
		for k, v := range args.All() {
			name, value := string(k), string(v)
			if !forms.Storable(name) {
				return errUnreadable
			}
			if clean := forms.Clean(value); clean != value {
				value, dirty = clean, true
			}
			pairs = append(pairs, [2]string{name, value})
		}
		if dirty {
			args.Reset()
			for _, p := range pairs {
				args.Add(p[0], p[1])
			}
		}
	case fiber.MIMEMultipartForm:
		form, err := c.MultipartForm()
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "The form could not be read. Go back, reload the page and try again.")
		}
		for name, values := range form.Value {
			if !forms.Storable(name) {
				return errUnreadable
			}
			for i := range values {
				values[i] = forms.Clean(values[i])
			}
		}
	default:
		if len(c.Body()) > 0 {
			return errNotAForm
		}
	}
	return nil
}
