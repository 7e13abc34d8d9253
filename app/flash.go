package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// The success message of a change ("flash") travels with the redirect that reports the change, in a
// cookie: nothing is written to the database after the change has committed, so nothing can turn a
// change that was made into an error page. The cookie is signed with the session secret and bound to
// the session (before sign-in, to the form-token cookie), so it cannot be forged or carried to another
// browser; it expires after flashLifetime and is cleared by the next page that reads it.
const (
	flashLifetime = 2 * time.Minute
	// maxFlashBytes keeps the cookie well under the 4 KB browsers accept; messages are a sentence.
	maxFlashBytes = 600
)

func (a *App) flashCookieName() string {
	if a.cfg.Secure() {
		return "__Host-portal_flash"
	}
	return "portal_flash"
}

// flash leaves a success message for the next page this browser shows. It only sets a cookie on the
// response, so it cannot fail.
func (a *App) flash(c *fiber.Ctx, message string) {
	message = truncateUTF8(strings.TrimSpace(message), maxFlashBytes)
	if message == "" {
		return
	}
	payload := strconv.FormatInt(a.now().Add(flashLifetime).Unix(), 10) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(message))
	c.Cookie(&fiber.Cookie{
		Name: a.flashCookieName(), Value: payload + "." + a.flashMAC(visitOf(c).binding(), payload), Path: "/",
		MaxAge: int(flashLifetime / time.Second), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: a.cfg.Secure(),
	})
}

// flashLinkSep separates a success message from the link that follows it (see flashLink); it is a
// control character, which no message contains.
const flashLinkSep = "\x1f"

// flashLink leaves a success message followed by a link to a page of the portal (href must be a path
// on the portal, like /development-schedule), shown as a link in the banner.
func (a *App) flashLink(c *fiber.Ctx, message, href, text string) {
	a.flash(c, strings.TrimSpace(message)+flashLinkSep+href+flashLinkSep+text)
}

// splitFlash parses a success message left by flash or flashLink into the message and its link, if
// any. A link that is not a path on the portal is dropped.
func splitFlash(s string) (message, href, text string) {
	parts := strings.Split(s, flashLinkSep)
	if len(parts) != 3 {
		return strings.ReplaceAll(s, flashLinkSep, " "), "", ""
	}
	if !strings.HasPrefix(parts[1], "/") || strings.HasPrefix(parts[1], "//") || strings.HasPrefix(parts[1], "/\\") || parts[2] == "" {
		return parts[0], "", ""
	}
	return parts[0], parts[1], parts[2]
}

// takeFlash reads the success message left for this browser, if it is genuine, bound to this visit and
// not expired, and clears the cookie: a message is shown once.
func (a *App) takeFlash(c *fiber.Ctx, v *visit) {
	raw := c.Cookies(a.flashCookieName())
	if raw == "" {
		return
	}
	a.clearCookie(c, a.flashCookieName())
	// expiry "." message "." MAC, the message in unpadded base64url, which has no dots.
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return
	}
	expiry, text, mac := parts[0], parts[1], parts[2]
	payload := expiry + "." + text
	if !hmac.Equal([]byte(mac), []byte(a.flashMAC(v.binding(), payload))) {
		return
	}
	until, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || !a.now().Before(time.Unix(until, 0)) {
		return
	}
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || !utf8.Valid(b) {
		return
	}
	v.flash = string(b)
}

// flashMAC signs a flash cookie's payload for one binding (see visit.binding). The "flash" prefix keeps
// these MACs apart from form tokens, which sign the binding alone with the same secret.
func (a *App) flashMAC(binding, payload string) string {
	m := hmac.New(sha256.New, a.cfg.SessionSecret)
	m.Write([]byte("flash\x00" + binding + "\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
