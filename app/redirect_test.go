package app

import (
	"net/url"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
)

// TestSafeNextKeepsRedirectsOnThePortal: the post-sign-in target is kept only when a browser would
// read it as a path on the portal itself. The bypasses are the known family: protocol-relative URLs
// hidden by tabs, newlines, backslashes and percent-escapes, schemes, and control characters.
func TestSafeNextKeepsRedirectsOnThePortal(t *testing.T) {
	t.Parallel()
	kept := map[string]string{
		"/":                                    "/",
		"/requests":                            "/requests",
		"/requests/ENH-2026-0001":              "/requests/ENH-2026-0001",
		"/requests?q=payroll&status=triage":    "/requests?q=payroll&status=triage",
		"/requests?q=%2F%2Fevil.example":       "/requests?q=%2F%2Fevil.example",
		"/requests?next=//evil.example":        "/requests?next=//evil.example",
		"/requests#timeline":                   "/requests#timeline",
		"/schedules/2026-Q3/v1":                "/schedules/2026-Q3/v1",
		"/requests/ENH%2D2026%2D0001":          "/requests/ENH%2D2026%2D0001",
		"/lists/roles?q=caf%C3%A9":             "/lists/roles?q=caf%C3%A9",
		"/a b":                                 "/a%20b",
		"/requests?q=a b":                      "/requests?q=a%20b",
		"/? #":                                 "/?%20",
		"/.//evil.example":                     "/.//evil.example", // a path: /./ then /evil.example on the portal
		"/requests/" + strings.Repeat("a", 40): "/requests/" + strings.Repeat("a", 40),
	}
	for next, want := range kept {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
	refused := []string{
		"",
		"//evil.example",
		"///evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"\\/evil.example",
		"/\t/evil.example",
		"/\n/evil.example",
		"/\r\n/evil.example",
		"\t//evil.example",
		" //evil.example",
		"\x00//evil.example",
		"/%09/evil.example",
		"/%0a/evil.example",
		"/%0D%0A/evil.example",
		"/%2F/evil.example",
		"/%2f%2fevil.example",
		"/%5Cevil.example",
		"/%5cevil.example",
		"%2F%2Fevil.example",
		"/%252F%252Fevil.example",
		"/%25252F%25252Fevil.example",
		"/%2525252F%2525252Fevil.example",
		"https://evil.example",
		"https:evil.example",
		"https:/evil.example",
		"http:\\\\evil.example",
		"HTTPS://evil.example",
		"javascript:alert(1)",
		"java\nscript:alert(1)",
		"java\tscript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"evil.example",
		"requests",
		"./requests",
		"../requests",
		"?next=/",
		"#top",
		"/requests\x00",
		"/requests%00",
		"/requests\x7f",
		"/caf\xe9",
		"/%zz",
		"/" + strings.Repeat("a", 3000),
		"@evil.example",
	}
	for _, next := range refused {
		got := safeNext(next)
		if got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", next, got)
		}
	}
	// Whatever is kept, read as a browser reads it against the portal, stays on the portal.
	base, _ := url.Parse("https://esr-portal.example.nhs.uk/")
	for next := range kept {
		u, err := url.Parse(browserClean(safeNext(next)))
		if err != nil {
			t.Fatalf("%q: %v", next, err)
		}
		if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
			t.Errorf("safeNext(%q) leads to %s", next, r)
		}
	}
}

// TestSignInRedirectStaysOnThePortal drives the bypass that was found through the sign-in form.
func TestSignInRedirectStaysOnThePortal(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	u := p.users[identity.RoleRequester]
	for next, want := range map[string]string{"/%09/evil.example": "/", "/\\evil.example": "/", "/requests?q=x": "/requests?q=x"} {
		b := p.anonymous()
		res := b.post("/sign-in", url.Values{"email": {u.Email}, "password": {testPassword}, "next": {next}})
		mustStatus(t, res, 303, "sign in with next "+next)
		if got := res.header.Get("Location"); got != want {
			t.Errorf("next %q: redirected to %q, want %q", next, got, want)
		}
		res = b.get("/sign-in?next=" + url.QueryEscape(next))
		if got := res.header.Get("Location"); res.status != 303 || got != want {
			t.Errorf("signed in, /sign-in?next=%q: %d to %q, want %q", next, res.status, got, want)
		}
	}
}
