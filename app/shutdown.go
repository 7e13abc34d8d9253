package app

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// How the portal stops without breaking a kept-alive connection. HTTP/1.1 gives a server one polite
// way to end a connection: answer a request on it with "Connection: close". So when asked to stop,
// the portal first drains: /readyz answers 503 at once, so that a load balancer stops sending it new
// requests, and every response closes its connection, so that every client that sends another
// request learns to open a new connection elsewhere. The listener stays open while requests keep
// coming (at most drainMax), and closes once none but health checks has arrived for drainQuiet (a
// quarter of that when no client holds a connection open).
// Then requests still in flight finish, their responses closing their connections too, and idle
// connections are closed; all within shutdownTimeout of the signal.
const (
	drainQuiet      = time.Second
	drainMax        = 5 * time.Second
	shutdownTimeout = 10 * time.Second
)

// drainState is what the HTTP layer knows about stopping.
type drainState struct {
	draining    atomic.Bool
	lastRequest atomic.Int64 // Unix nanoseconds when the last request other than a health check arrived

	quiet, max, timeout time.Duration
}

func newDrainState() *drainState {
	return &drainState{quiet: drainQuiet, max: drainMax, timeout: shutdownTimeout}
}

// isProbe reports whether path is a health check, which does not keep a drain going.
func isProbe(path string) bool {
	return path == "/healthz" || path == "/readyz"
}

// closeWhenDraining runs first for every request: it notes when requests arrive and, while the portal
// is stopping, marks the response to close its connection (checked again after the handler, since the
// drain may begin while it runs).
func (a *App) closeWhenDraining(c *fiber.Ctx) error {
	if !isProbe(c.Path()) {
		a.drain.lastRequest.Store(time.Now().UnixNano())
	}
	if a.drain.draining.Load() {
		c.Context().SetConnectionClose()
	}
	err := c.Next()
	if a.drain.draining.Load() {
		c.Context().SetConnectionClose()
	}
	return err
}

// shutdown drains and then stops the server (see the comment at the top of this file).
func (a *App) shutdown() error {
	began := time.Now()
	a.drain.draining.Store(true)
	a.log.Info("shutting down: readiness now fails and every response closes its connection")
	deadline, cancel := context.WithDeadline(context.Background(), began.Add(a.drain.timeout))
	defer cancel()
	a.awaitQuiet(began)
	a.log.Info("shutting down: no longer accepting connections; finishing in-flight requests",
		"drained_for", time.Since(began).Round(time.Millisecond).String())
	if err := a.fiber.ShutdownWithContext(deadline); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// awaitQuiet returns once no request but health checks has arrived for drain.quiet, or for a quarter
// of that with no connection open (nobody is left to tell), or drain.max after began.
func (a *App) awaitQuiet(began time.Time) {
	tick := time.NewTicker(min(a.drain.quiet/10, 50*time.Millisecond))
	defer tick.Stop()
	for now := range tick.C {
		last := time.Unix(0, a.drain.lastRequest.Load())
		if last.Before(began) {
			last = began
		}
		quiet := now.Sub(last)
		if quiet >= a.drain.quiet || now.Sub(began) >= a.drain.max ||
			(quiet >= a.drain.quiet/4 && a.fiber.Server().GetOpenConnectionsCount() == 0) {
			return
		}
	}
}
