// Package app is the portal's HTTP layer: the one route table, middleware, the error handler,
// rendering, and the handlers for each resource. Domain rules live in the packages below app/.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/config"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/sso"
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
	// Throttle limits password guesses; the zero value means identity.DefaultThrottle.
	Throttle identity.Throttle
	// Calendar is the working-day calendar; nil means the England and Wales one.
	Calendar *workday.Calendar
	// Providers are the OpenID Connect identity providers people may sign in with; none for none.
	Providers []*sso.Provider
	// ChoicesTTL is how long the reference lists that filters and forms offer are kept in memory; zero
	// means choicesTTL.
	ChoicesTTL time.Duration
	// ContentCacheBytes bounds the memory of the content cache (pagecache.go); zero means
	// contentCacheLimit, and a negative number keeps nothing, so that every page is built afresh.
	ContentCacheBytes int
}

// App is the portal's web application.
type App struct {
	cfg       *config.Config
	db        *bun.DB
	log       *slog.Logger
	migrator  *database.Migrator
	now       func() time.Time
	throttle  identity.Throttle
	calendar  *workday.Calendar
	sealer    *identity.Sealer
	providers []*sso.Provider
	validate  *forms.Validator
	choices   *choices
	content   *contentCache // rendered pages by database snapshot (pagecache.go)
	notices   *notices
	views     *Renderer
	assets    *Assets
	fiber     *fiber.App
	routes    []route
	drain     *drainState
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
		cfg:       d.Config,
		db:        d.DB,
		log:       d.Logger,
		migrator:  d.Migrator,
		now:       d.Now,
		throttle:  d.Throttle,
		calendar:  d.Calendar,
		validate:  forms.NewValidator(),
		choices:   &choices{ttl: d.ChoicesTTL},
		content:   newContentCache(cmp.Or(d.ContentCacheBytes, contentCacheLimit)),
		notices:   &notices{},
		drain:     newDrainState(),
		providers: d.Providers,
	}
	var err error
	if a.sealer, err = identity.NewSealer(d.Config.TOTPKey); err != nil {
		return nil, fmt.Errorf("app: %w (PORTAL_TOTP_KEY)", err)
	}
	if a.choices.ttl <= 0 {
		a.choices.ttl = choicesTTL
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
	if a.assets, err = NewAssets(public.FS); err != nil {
		return nil, err
	}
	if a.views, err = NewRenderer(views.FS, a.assets); err != nil {
		return nil, err
	}
	// X-Forwarded-* is believed only from PORTAL_TRUSTED_PROXIES (none by default), and clientIP reads
	// the client's address.
	a.fiber = fiber.New(fiber.Config{
		Immutable:               true,
		AppName:                 "ESR Enhancement Portal",
		DisableStartupMessage:   true,
		ErrorHandler:            a.handleError,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             90 * time.Second,
		BodyLimit:               6 << 20, // a supporting document of up to 5 MiB, with its form
		EnableTrustedProxyCheck: true,
		TrustedProxies:          proxyList(d.Config.TrustedProxies),
	})
	// Responses written while the server shuts down close their connections (see shutdown.go).
	a.fiber.Server().CloseOnShutdown = true
	a.fiber.Use(a.closeWhenDraining)
	a.fiber.Use(recover.New())
	a.fiber.Use(a.frontDoor)
	a.fiber.Use(a.accessLog)
	a.fiber.Use(a.refuseUnreadableURL)
	// The fastest level: pages are HTML that compresses well at any level, and the time saved is the
	// server's, on every page.
	a.fiber.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	a.routes = a.routeTable()
	for _, r := range a.routes {
		a.fiber.Add(r.method, r.path, a.guard(r))
	}
	return a, nil
}

func proxyList(prefixes []netip.Prefix) []string {
	out := make([]string, 0, len(prefixes))
	for _, p := range prefixes {
		out = append(out, p.String())
	}
	return out
}

// Handler is the fiber application, for tests that call it directly.
func (a *App) Handler() *fiber.App { return a.fiber }

// Serve listens on the configured address until ctx is cancelled, then drains and shuts down (see
// shutdown.go) before it returns, within ten seconds.
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
	go a.runScheduled(ctx)
	go a.endLeavers(ctx)
	errc := make(chan error, 1)
	go func() { errc <- a.fiber.Listener(ln) }()
	a.log.Info("portal listening", "addr", ln.Addr().String(), "base_url", a.cfg.BaseURL.String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return a.shutdown()
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

// endLeavers ends the access of people whose leaving date has come, and does the access reviews' work
// (opening, escalating, suspending), at start and every ten minutes until ctx ends; whichever instance
// gets there first does each thing, once.
func (a *App) endLeavers(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		n, err := identity.EndLeavers(ctx, a.db, a.now(), london)
		if err != nil && ctx.Err() == nil {
			a.log.Error("end leavers' access", "err", err)
		} else if n > 0 {
			a.log.Info("ended leavers' access", "count", n)
			a.choices.forget()
		}
		a.accessReviewsOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *App) sessionPolicy() identity.SessionPolicy {
	return identity.SessionPolicy{Idle: a.cfg.SessionIdle, Absolute: a.cfg.SessionAbsolute}
}
