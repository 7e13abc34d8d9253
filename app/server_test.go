package app

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	res := p.anonymous().get("/sign-in")
	mustStatus(t, res, 200, "sign-in page")
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows unsafe-inline: %q", csp)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
	} {
		if got := res.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if res.header.Get("X-Request-Id") == "" {
		t.Error("no request id header")
	}
	for _, c := range res.cookies {
		if !c.HttpOnly || c.SameSite != 2 /* Lax */ {
			t.Errorf("cookie %s is not HttpOnly SameSite=Lax", c.Name)
		}
	}
}

func TestProbes(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		res := p.anonymous().get(path)
		mustStatus(t, res, 200, path)
		var body map[string]any
		if err := json.Unmarshal([]byte(res.body), &body); err != nil || body["status"] != "ok" {
			t.Errorf("%s answered %q", path, res.body)
		}
	}
	// With the schema behind, readiness fails.
	if _, err := p.db.DB.Exec("DELETE FROM bun_migrations WHERE id = (SELECT max(id) FROM bun_migrations)"); err != nil {
		t.Fatal(err)
	}
	res := p.anonymous().get("/readyz")
	mustStatus(t, res, 503, "readyz with a pending migration")
	if !strings.Contains(res.body, `"status":"unavailable"`) {
		t.Errorf("readyz body %q", res.body)
	}
}

func TestErrorPagesCarryRequestID(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	res := p.anonymous().get("/no/such/page")
	mustStatus(t, res, 404, "unknown page")
	id := res.header.Get("X-Request-Id")
	if id == "" || !strings.Contains(res.body, id) || !strings.Contains(res.body, "Page not found") {
		t.Errorf("404 page lacks its heading or request id %q", id)
	}
	res = p.as(p.users[requester]).get("/admin/users/999999")
	mustStatus(t, res, 403, "requester on an admin page")
	res = p.as(p.users[admin]).get("/admin/users/999999")
	mustStatus(t, res, 404, "unknown user")
}

func TestStaticFilesAreCached(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	url := p.app.assets.Path("css/portal.css")
	res := p.anonymous().get(url)
	mustStatus(t, res, 200, url)
	if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("fingerprinted file Cache-Control = %q", cc)
	}
}

func TestLogsNeverShowOneTimeLinkTokens(t *testing.T) {
	for path, want := range map[string]string{
		"/links/c2VjcmV0LXRva2Vu": "/links/[redacted]",
		"/requests/ENH-2026-0001": "/requests/ENH-2026-0001",
	} {
		if got := logPath(path); got != want {
			t.Errorf("logPath(%q) = %q, want %q", path, got, want)
		}
	}
}
