// Package app is the portal's HTTP layer: the one route table, middleware, the error handler,
// rendering, and the handlers for each resource. Domain rules live in the packages below app/.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/config"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/workday"
	"github.com/nhs-esr/portal/forms"
	"github.com/nhs-esr/portal/public"
	"github.com/nhs-esr/portal/views"
)

// Deps are what the portal's HTTP layer needs, built in main.
type Deps struct {
	Config   *config.Config
	DB       *bun.DB
	Logger   *slog.Logger
	Migrator *database.Migrator
	// Now is the clock; nil means time.Now. Tests move it to expire sessions.
	Now func() time.Time
	// Throttle limits failed sign-ins; the zero value means identity.DefaultThrottle.
	Throttle identity.Throttle
	// Calendar is the working-day calendar; nil means the England and Wales one.
	Calendar *workday.Calendar
}

// App is the portal's web application.
type App struct {
	cfg      *config.Config
	db       *bun.DB
	log      *slog.Logger
	migrator *database.Migrator
	now      func() time.Time
	throttle identity.Throttle
	calendar *workday.Calendar
	validate *forms.Validator
	views    *Renderer
	assets   *Assets
	fiber    *fiber.App
	routes   []route
}

// New builds the application: it parses every template (a broken one is an error) and registers the
// route table.
func New(d Deps) (*App, error) {
	if d.Config == nil || d.DB == nil || d.Logger == nil || d.Migrator == nil {
		return nil, errors.New("app: Config, DB, Logger and Migrator are required")
	}
	if len(d.Config.SessionSecret) < 32 {
		return nil, errors.New("app: the session secret must be at least 32 bytes")
	}
	a := &App{
		cfg:      d.Config,
		db:       d.DB,
		log:      d.Logger,
		migrator: d.Migrator,
		now:      d.Now,
		throttle: d.Throttle,
		calendar: d.Calendar,
		validate: forms.NewValidator(),
	}
	if a.calendar == nil {
		a.calendar = workday.New()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.throttle == (identity.Throttle{}) {
		a.throttle = identity.DefaultThrottle
	}
	var err error
	if a.assets, err = NewAssets(public.FS); err != nil {
		return nil, err
	}
	if a.views, err = NewRenderer(views.FS, a.assets); err != nil {
		return nil, err
	}
	a.fiber = fiber.New(fiber.Config{
		Immutable:               true,
		AppName:                 "ESR Enhancement Portal",
		DisableStartupMessage:   true,
		ErrorHandler:            a.handleError,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             90 * time.Second,
		BodyLimit:               6 << 20, // a supporting document of up to 5 MiB, with its form
		EnableTrustedProxyCheck: len(d.Config.TrustedProxies) > 0,
		TrustedProxies:          d.Config.TrustedProxies,
		ProxyHeader:             proxyHeader(d.Config.TrustedProxies),
	})
	a.fiber.Use(recover.New())
	a.fiber.Use(requestid.New())
	a.fiber.Use(a.accessLog)
	a.fiber.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
		XFrameOptions:             "DENY",
		ReferrerPolicy:            "same-origin",
		HSTSMaxAge:                hstsMaxAge(d.Config),
		PermissionPolicy:          "camera=(), microphone=(), geolocation=(), payment=()",
		CrossOriginEmbedderPolicy: "require-corp",
	}))
	a.fiber.Use(compress.New(compress.Config{Level: compress.LevelDefault}))
	a.routes = a.routeTable()
	for _, r := range a.routes {
		a.fiber.Add(r.method, r.path, a.guard(r))
	}
	return a, nil
}

func proxyHeader(trusted []string) string {
	if len(trusted) > 0 {
		return fiber.HeaderXForwardedFor
	}
	return ""
}

func hstsMaxAge(c *config.Config) int {
	if c.Secure() {
		return 63072000 // two years
	}
	return 0
}

// Handler is the fiber application, for tests that call it directly.
func (a *App) Handler() *fiber.App { return a.fiber }

// Serve listens on the configured address until ctx is cancelled, then lets in-flight requests finish
// (up to 30 seconds) before it returns.
func (a *App) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	return a.ServeListener(ctx, ln)
}

// ServeListener serves on ln until ctx is cancelled, then shuts down gracefully.
func (a *App) ServeListener(ctx context.Context, ln net.Listener) error {
	go a.sweepSessions(ctx)
	go a.returnDueForReview(ctx)
	go a.sealAuditTrail(ctx)
	errc := make(chan error, 1)
	go func() { errc <- a.fiber.Listener(ln) }()
	a.log.Info("portal listening", "addr", ln.Addr().String(), "base_url", a.cfg.BaseURL.String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.fiber.ShutdownWithContext(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// sweepSessions removes expired sessions every ten minutes until ctx ends.
func (a *App) sweepSessions(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := identity.Sweep(ctx, a.db, a.now(), a.sessionPolicy())
			if err != nil {
				a.log.Error("sweep sessions", "err", err)
				continue
			}
			if n > 0 {
				a.log.Debug("swept expired sessions", "count", n)
			}
		}
	}
}

func (a *App) sessionPolicy() identity.SessionPolicy {
	return identity.SessionPolicy{Idle: a.cfg.SessionIdle, Absolute: a.cfg.SessionAbsolute}
}
