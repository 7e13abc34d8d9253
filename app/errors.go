package app

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
)

// statusFor maps an error to the HTTP status of the page the user sees.
func statusFor(err error) int {
	var fe *fiber.Error
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return fiber.StatusNotFound
	case errors.Is(err, problem.ErrForbidden):
		return fiber.StatusForbidden
	case errors.Is(err, problem.ErrConflict):
		return fiber.StatusConflict
	case database.IsUnavailable(err):
		return fiber.StatusServiceUnavailable
	case errors.As(err, &fe):
		return fe.Code
	}
	return fiber.StatusInternalServerError
}

// handleError is the one place errors become pages: 404, 403, 409 and 422 name what went wrong in
// words; a database that cannot be reached is a 503 with Retry-After, and a form sent meanwhile comes
// back ready to be sent again (see unavailable.go); anything else is logged with its request id and
// shown as a 500 without details.
func (a *App) handleError(c *fiber.Ctx, err error) error {
	// The HTTP server calls this directly for a request it could not read (413, 431, 400): no
	// middleware has run, so the request id and the security headers are set here too.
	a.ensureRequestID(c)
	a.setSecurityHeaders(c)
	status := statusFor(err)
	unavailable := status == fiber.StatusServiceUnavailable
	if c.Locals(visitKey) == nil && !unavailable && !strings.HasPrefix(c.Path(), "/public/") && !strings.HasPrefix(c.Path(), "/assets/") {
		// An unknown URL never reached the guard: read the session so the page still shows who is signed in.
		if _, lerr := a.loadVisit(c); lerr != nil {
			a.log.Warn("read session for error page", "err", lerr)
		}
	}
	page := NewErrorPage(a.page(c, ""), status)
	if errors.Is(err, errCSRF) {
		page.Title, page.Heading, page.Message = "Your form could not be sent", "Your form could not be sent", errCSRF.Message
	}
	for _, known := range []*fiber.Error{errUnreadable, errNotAForm} {
		if errors.Is(err, known) {
			page.Message = known.Message
		}
	}
	if unavailable {
		c.Set(fiber.HeaderRetryAfter, retryAfterSeconds)
		if page.Retry = a.retryForm(c); page.Retry != nil {
			page.Errors.Add("try-again", tryAgainMessage)
		}
	}
	switch {
	case unavailable:
		a.log.Warn("service unavailable", "err", err, "method", c.Method(), "path", logPath(c.Path()), "request_id", requestID(c))
	case status >= 500:
		a.log.Error("request failed", "err", err, "method", c.Method(), "path", logPath(c.Path()), "request_id", requestID(c))
	case status != fiber.StatusNotFound:
		a.log.Info("request refused", "err", err.Error(), "status", status, "path", logPath(c.Path()), "request_id", requestID(c))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if rerr := a.render(c, status, "errors/error", &page); rerr != nil {
		a.log.Error("render error page", "err", rerr, "request_id", requestID(c))
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(page.Heading + "\n\nRequest ID: " + requestID(c) + "\n")
	}
	return nil
}
