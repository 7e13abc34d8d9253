package app

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz answers while the process is up.
func (a *App) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 when the database is reachable and every migration is applied, 503 otherwise,
// and 503 from the moment the portal is asked to stop.
func (a *App) readyz(c *fiber.Ctx) error {
	if a.drain.draining.Load() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "shutting_down": true})
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := a.db.PingContext(ctx); err != nil {
		a.log.Warn("readiness: database unreachable", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": "unreachable"})
	}
	pending, err := a.migrator.Pending(ctx)
	if err != nil {
		a.log.Warn("readiness: migrations unreadable", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": "ok", "schema": "unknown"})
	}
	if pending > 0 {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": "ok", "schema": "behind", "pending_migrations": pending})
	}
	return c.JSON(fiber.Map{"status": "ok", "database": "ok", "schema": "current"})
}

func (a *App) favicon(c *fiber.Ctx) error {
	return c.Redirect(a.assets.Path("vendor/nhsuk/assets/images/favicon.ico"), fiber.StatusMovedPermanently)
}

// accessibility shows the accessibility statement.
func (a *App) accessibility(c *fiber.Ctx) error {
	p := a.page(c, "Accessibility statement")
	return a.render(c, fiber.StatusOK, "pages/accessibility", &p)
}
