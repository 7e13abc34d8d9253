package app

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/request"
)

// requestEnv is what the request lifecycle needs from the portal for a change made now: the clock, the
// working-day calendar, and one-time links for the emails that ask someone to decide.
func (a *App) requestEnv() request.Env {
	now := a.now()
	return request.Env{Now: now, Calendar: a.calendar,
		Links: func(ctx context.Context, tx bun.Tx, userID, requestID int64, path string) (string, error) {
			token, err := actionlink.Create(ctx, tx, userID, requestID, path, now, actionlink.TTL)
			if err != nil {
				return "", err
			}
			return actionlink.Prefix + token, nil
		}}
}

// linkRefusedPage explains why a link from an email did not work, and where to go instead.
type linkRefusedPage struct {
	Page
	Reference string // the request the link was for, when it was the user's own link
}

// linkFollow uses a one-time link from an email: the user it was made for, signed in, is sent on to
// its page; anyone else, or a used or expired link, gets a page saying so.
func (a *App) linkFollow(c *fiber.Ctx) error {
	path, err := actionlink.Use(c.UserContext(), a.db, a.actor(c), c.Params("token"), visitOf(c).user.ID, a.now())
	var refused *actionlink.RefusedError
	if errors.As(err, &refused) {
		p := &linkRefusedPage{Page: a.page(c, "This link has expired or has already been used"), Reference: refused.Reference}
		return a.render(c, fiber.StatusGone, "links/refused", p)
	}
	if err != nil {
		return err
	}
	return c.Redirect(safeNext(path), fiber.StatusSeeOther)
}
