package app

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// Supporting documents: uploaded from the business justification page (a multipart form, whose CSRF
// field the guard reads like any other), stored in PostgreSQL, and downloaded only by those who see the
// request in full.

func (a *App) attachmentCreate(c *fiber.Ctx) error {
	er, v, err := a.requestInFull(c)
	if err != nil {
		return err
	}
	var name string
	var content []byte
	if fh, ferr := c.FormFile("file"); ferr == nil {
		name = fh.Filename
		f, err := fh.Open()
		if err != nil {
			return fmt.Errorf("open the uploaded file: %w", err)
		}
		defer f.Close()
		// One byte more than the limit is enough to know the file is too large.
		if content, err = io.ReadAll(io.LimitReader(f, request.MaxAttachmentBytes+1)); err != nil {
			return fmt.Errorf("read the uploaded file: %w", err)
		}
	}
	added, err := request.AddAttachment(c.UserContext(), a.db, v, a.actor(c), a.now(), er.Reference, name, content)
	var rule *request.RuleError
	if errors.As(err, &rule) {
		var errs forms.Errors
		errs.Add(ruleField(rule.Field, "file"), rule.Message)
		return a.justificationInvalid(c, er, v, errs, nil)
	}
	if err != nil {
		return err
	}
	a.flash(c, "‘"+added.Filename+"’ has been added")
	return c.Redirect(justificationPath(er.Reference)+"#attachments", fiber.StatusSeeOther)
}

// attachmentRemove removes a supporting document: its uploader or the central team may, while the
// request is open.
func (a *App) attachmentRemove(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fmt.Errorf("attachment %q: %w", c.Params("id"), problem.ErrNotFound)
	}
	ref := strings.ToUpper(strings.TrimSpace(c.Params("ref")))
	name, err := request.RemoveAttachment(c.UserContext(), a.db, v, a.actor(c), a.now(), ref, id)
	if err != nil {
		return err
	}
	a.flash(c, "‘"+name+"’ has been removed")
	return c.Redirect(justificationPath(ref)+"#attachments", fiber.StatusSeeOther)
}

func (a *App) attachmentShow(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fmt.Errorf("attachment %q: %w", c.Params("id"), problem.ErrNotFound)
	}
	f, err := request.GetAttachment(c.UserContext(), a.db, v, c.Params("ref"), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(f.Filename))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Send(f.Content)
}

// contentDisposition makes a download's Content-Disposition: "attachment" with the name twice, as
// plain ASCII for old clients (anything else, and quotes and backslashes, become underscores) and in
// full as RFC 5987 UTF-8 for the rest.
func contentDisposition(name string) string {
	var ascii strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	var enc strings.Builder
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}

// isAttrChar reports whether b may stand for itself in an RFC 5987 value.
func isAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
