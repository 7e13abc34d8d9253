package app

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/config"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/migrations"
)

// servedPortal is the portal with the given settings, served on a loopback port until the test ends.
type servedPortal struct {
	addr string
	app  *App
	db   *dbtest.TestDB
}

func servePortal(t *testing.T, env map[string]string) *servedPortal {
	t.Helper()
	tdb := dbtest.New(t)
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.SessionSecret = []byte(strings.Repeat("k", 32))
	cfg.TOTPKey = []byte(strings.Repeat("t", 32))
	migrator, err := database.NewMigrator(tdb.DB, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Deps{Config: cfg, DB: tdb.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Migrator: migrator})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("portal: %v", err)
		}
	})
	return &servedPortal{addr: ln.Addr().String(), app: a, db: tdb}
}

// raw sends bytes on a new connection and reads the one response.
func (s *servedPortal) raw(t *testing.T, request string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// The server may answer before it has read everything, so write in the background.
	go func() { _, _ = io.WriteString(conn, request) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the response to %.60q: %v", request, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(strings.NewReader(string(body)))
	return res
}

func wantSecurityHeaders(t *testing.T, what string, res *http.Response, hstsWanted bool) {
	t.Helper()
	for _, h := range securityHeaders {
		if got := res.Header.Get(h[0]); got != h[1] {
			t.Errorf("%s (%d): %s = %q, want %q", what, res.StatusCode, h[0], got, h[1])
		}
	}
	if got := res.Header.Get("Strict-Transport-Security"); (got != "") != hstsWanted {
		t.Errorf("%s (%d): Strict-Transport-Security = %q, want it %v", what, res.StatusCode, got, hstsWanted)
	}
	if id := res.Header.Get("X-Request-Id"); !requestIDPattern.MatchString(id) {
		t.Errorf("%s (%d): request id %q", what, res.StatusCode, id)
	}
}

// TestHeadersOnEveryResponse sends, over a real connection, requests the router answers and requests
// the HTTP server itself refuses before any middleware runs: every response carries the security
// headers, and HSTS whenever the portal's base URL is https, whatever the request claims.
func TestHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"https://esr-portal.example.nhs.uk", "http://localhost:3000"} {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			s := servePortal(t, map[string]string{"PORTAL_BASE_URL": base})
			secure := strings.HasPrefix(base, "https")
			oversize := strings.Repeat("a", 7<<20) // over the 6 MiB body limit
			cases := []struct {
				what    string
				request string
				status  int
			}{
				{"a page", "GET /sign-in HTTP/1.1\r\nHost: x\r\n\r\n", 200},
				{"a page, claiming https from an untrusted client", "GET /sign-in HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Ssl: on\r\n\r\n", 200},
				{"an unknown page", "GET /no/such/page HTTP/1.1\r\nHost: x\r\n\r\n", 404},
				{"a probe", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200},
				{"a static file", "GET /public/css/portal.css HTTP/1.1\r\nHost: x\r\n\r\n", 200},
				{"a bad query string", "GET /requests?q=%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
				{"a form without its token", "POST /sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b", 403},
				{"an oversize body", fmt.Sprintf("POST /sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(oversize), oversize), 413},
				{"an oversize chunked body", "POST /sign-in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(oversize), oversize), 413},
				{"oversize headers", "GET /sign-in HTTP/1.1\r\nHost: x\r\nX-Padding: " + strings.Repeat("p", 64<<10) + "\r\n\r\n", 431},
				{"a malformed request", "GET /sign-in HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400},
			}
			for _, tc := range cases {
				res := s.raw(t, tc.request)
				if res.StatusCode != tc.status {
					t.Errorf("%s: status %d, want %d", tc.what, res.StatusCode, tc.status)
				}
				wantSecurityHeaders(t, tc.what, res, secure)
				body, _ := io.ReadAll(res.Body)
				if heading := NewErrorPage(Page{}, tc.status).Heading; tc.status >= 400 && tc.status != 403 && !strings.Contains(string(body), html.EscapeString(heading)) {
					t.Errorf("%s: the page does not say %q", tc.what, heading)
				}
			}
		})
	}
}

// TestForwardedHeadersBelievedOnlyFromTrustedProxies: the client's address and request id come from
// X-Forwarded-For and X-Request-ID only when the connection is from PORTAL_TRUSTED_PROXIES, and a
// request id is taken only when it is short and safe.
func TestForwardedHeadersBelievedOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	failedSignIn := func(t *testing.T, s *servedPortal, headers string) (*http.Response, audit.Row) {
		t.Helper()
		p := &testPortal{t: t, app: s.app, db: s.db}
		b := p.anonymous()
		token := b.csrf()
		form := "email=nobody%40test.nhs.uk&password=wrong&_csrf=" + token
		var cookies []string
		for k, v := range b.cookies {
			cookies = append(cookies, k+"="+v)
		}
		res := s.raw(t, "POST /sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nCookie: "+strings.Join(cookies, "; ")+
			"\r\n"+headers+fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(form), form))
		if res.StatusCode != 422 {
			t.Fatalf("failed sign-in: %d", res.StatusCode)
		}
		rows, _, err := audit.List(t.Context(), s.db.DB, audit.Filter{Action: "session.sign_in_failed"})
		if err != nil || len(rows) == 0 {
			t.Fatalf("no audit row: %v", err)
		}
		return res, rows[0]
	}
	spoof := "X-Forwarded-For: 203.0.113.9\r\nX-Request-ID: chosen-by-client\r\n"

	t.Run("no trusted proxy", func(t *testing.T) {
		t.Parallel()
		s := servePortal(t, nil)
		res, row := failedSignIn(t, s, spoof)
		if row.IP != "127.0.0.1" {
			t.Errorf("audited address %q, want the connection's 127.0.0.1", row.IP)
		}
		if id := res.Header.Get("X-Request-Id"); id == "chosen-by-client" || row.RequestID != id {
			t.Errorf("request id %q (audited %q): a client's own was taken", id, row.RequestID)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		s := servePortal(t, map[string]string{"PORTAL_TRUSTED_PROXIES": "127.0.0.0/8, 10.1.2.3"})
		// The client made up the first address; the proxies appended the rest.
		res, row := failedSignIn(t, s, "X-Forwarded-For: 198.51.100.1, 203.0.113.9, 10.1.2.3\r\nX-Request-ID: req-42.a_b\r\n")
		if row.IP != "203.0.113.9" {
			t.Errorf("audited address %q, want 203.0.113.9 (the nearest untrusted hop)", row.IP)
		}
		if id := res.Header.Get("X-Request-Id"); id != "req-42.a_b" || row.RequestID != id {
			t.Errorf("request id %q (audited %q), want the proxy's req-42.a_b", id, row.RequestID)
		}
		for _, unsafe := range []string{"<script>alert(1)</script>", strings.Repeat("a", 65), "id with spaces", "-leading-dash", "a\"b"} {
			res, row := failedSignIn(t, s, "X-Request-ID: "+unsafe+"\r\n")
			if id := res.Header.Get("X-Request-Id"); id == unsafe || !requestIDPattern.MatchString(id) || row.RequestID != id {
				t.Errorf("unsafe request id %q: got %q (audited %q)", unsafe, id, row.RequestID)
			}
		}
	})
}

// TestThrottleUsesTheRealClientAddress: behind a trusted proxy, a client cannot escape the throttle by
// making up X-Forwarded-For addresses.
func TestThrottleUsesTheRealClientAddress(t *testing.T) {
	t.Parallel()
	s := servePortal(t, map[string]string{"PORTAL_TRUSTED_PROXIES": "127.0.0.1"})
	u, err := identity.Create(t.Context(), s.db.DB, audit.Actor{Name: "test"}, time.Now(), identity.NewUser{
		Email: "jo@test.nhs.uk", Name: "Jo", OrganisationID: firstOrgOrNew(t, s), Roles: []string{identity.RoleRequester}, Password: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &testPortal{t: t, app: s.app, db: s.db}
	statuses := []int{}
	for i := range identity.DefaultThrottle.PerAccountAddress + 1 {
		b := p.anonymous()
		token := b.csrf()
		var cookies []string
		for k, v := range b.cookies {
			cookies = append(cookies, k+"="+v)
		}
		form := "email=jo%40test.nhs.uk&password=wrong+guess&_csrf=" + token
		res := s.raw(t, fmt.Sprintf("POST /sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nCookie: %s\r\n"+
			"X-Forwarded-For: 192.0.2.%d, 198.51.100.7\r\nContent-Length: %d\r\n\r\n%s", strings.Join(cookies, "; "), i+1, len(form), form))
		statuses = append(statuses, res.StatusCode)
	}
	if last := statuses[len(statuses)-1]; last != 429 {
		t.Errorf("statuses %v: made-up addresses escaped the throttle of %s", statuses, u.Email)
	}
}

func firstOrgOrNew(t *testing.T, s *servedPortal) int64 {
	t.Helper()
	var id int64
	if err := s.db.DB.NewRaw("INSERT INTO organisations (name, ods_code, region_id) VALUES ('Test Hospital NHS Trust', 'RTEST', 2) RETURNING id").
		Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}
