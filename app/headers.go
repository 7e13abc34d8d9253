package app

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// contentSecurityPolicy allows only the portal's own scripts, styles, fonts and images, no framing and
// forms that post only to the portal.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"

// securityHeaders are on every response the portal writes.
var securityHeaders = [][2]string{
	{fiber.HeaderContentSecurityPolicy, contentSecurityPolicy},
	{fiber.HeaderXFrameOptions, "DENY"},
	{fiber.HeaderXContentTypeOptions, "nosniff"},
	{fiber.HeaderReferrerPolicy, "same-origin"},
	{fiber.HeaderPermissionsPolicy, "camera=(), microphone=(), geolocation=(), payment=()"},
	{"Cross-Origin-Embedder-Policy", "require-corp"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"Origin-Agent-Cluster", "?1"},
	{"X-DNS-Prefetch-Control", "off"},
	{"X-Download-Options", "noopen"},
	{"X-Permitted-Cross-Domain-Policies", "none"},
	{fiber.HeaderXXSSProtection, "0"},
}

// hsts is sent when PORTAL_BASE_URL is https, whatever a request says about how it arrived.
const hsts = "max-age=63072000; includeSubDomains" // two years

// setSecurityHeaders puts the security headers on c's response. The front door does it for every
// request that reaches the router; the error handler does it again for the responses the HTTP server
// makes itself when it cannot read a request (413, 431, 400), which no middleware sees.
func (a *App) setSecurityHeaders(c *fiber.Ctx) {
	for _, h := range securityHeaders {
		c.Set(h[0], h[1])
	}
	if a.cfg.Secure() {
		c.Set(fiber.HeaderStrictTransportSecurity, hsts)
	}
}

// requestIDPattern is a request id the portal accepts from a trusted proxy: short, and safe in logs,
// audit rows and pages.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// requestIDKey is where a request's id is kept in its context.
const requestIDKey = "requestid"

// ensureRequestID gives the request its id, once: the X-Request-ID a trusted proxy sent when it is
// short and safe, otherwise a new one. The response carries it.
func (a *App) ensureRequestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(requestIDKey).(string); ok && id != "" {
		return id
	}
	id := c.Get(fiber.HeaderXRequestID)
	if !a.fromTrustedProxy(c) || !requestIDPattern.MatchString(id) {
		id = uuid.NewString()
	}
	c.Locals(requestIDKey, id)
	c.Set(fiber.HeaderXRequestID, id)
	return id
}

// frontDoor is the first middleware after recovery: the request's id and the security headers.
func (a *App) frontDoor(c *fiber.Ctx) error {
	a.ensureRequestID(c)
	a.setSecurityHeaders(c)
	return c.Next()
}

// trusted reports whether addr is one of PORTAL_TRUSTED_PROXIES.
func (a *App) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// remoteAddr is the address of the connection's other end.
func remoteAddr(c *fiber.Ctx) netip.Addr {
	addr, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return addr.Unmap()
}

// fromTrustedProxy reports whether the request came straight from a trusted proxy, so that its
// X-Forwarded-* and X-Request-ID headers are believed.
func (a *App) fromTrustedProxy(c *fiber.Ctx) bool {
	return len(a.cfg.TrustedProxies) > 0 && a.trusted(remoteAddr(c))
}

// clientIP is the address of the browser behind the request: the connection's, or, when that is a
// trusted proxy, the nearest address in X-Forwarded-For that is not a trusted proxy. X-Forwarded-For is
// read from the right because each proxy appends the address it received from: the addresses to the
// left of the first untrusted one are whatever the client sent.
func (a *App) clientIP(c *fiber.Ctx) string {
	remote := remoteAddr(c)
	if !a.fromTrustedProxy(c) {
		return remote.String()
	}
	var hops []string
	for _, h := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		hops = append(hops, strings.Split(string(h), ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // not an address: nothing further left can be believed
		}
		if !a.trusted(addr) {
			return addr.Unmap().String()
		}
	}
	return remote.String()
}
