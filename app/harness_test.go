package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/config"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/migrations"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// clock is a settable clock for session expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testPortal is the whole portal on a fresh database, called through its real router.
type testPortal struct {
	t     *testing.T
	app   *App
	db    *dbtest.TestDB
	clock *clock
	users map[string]*identity.User // one user per role, by role name
}

const testPassword = "correct horse battery staple"

func newTestPortal(t *testing.T) *testPortal {
	t.Helper()
	return newTestPortalOn(t, dbtest.New(t))
}

// newTestPortalOn is newTestPortal on a database the test made itself.
func newTestPortalOn(t *testing.T, tdb *dbtest.TestDB) *testPortal {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.SessionSecret = []byte(strings.Repeat("k", 32))
	cfg.TOTPKey = []byte(strings.Repeat("t", 32))
	migrator, err := database.NewMigrator(tdb.DB, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	a, err := New(Deps{Config: cfg, DB: tdb.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Migrator: migrator, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Organisations(ctx, tdb.DB, clk.Now()); err != nil {
		t.Fatal(err)
	}
	p := &testPortal{t: t, app: a, db: tdb, clock: clk, users: map[string]*identity.User{}}
	for _, r := range identity.Roles {
		p.users[r.Name] = p.createUser(r.Name+"@test.nhs.uk", "Test "+r.Title, r.Name)
		if r.Elevated {
			// Their authenticator holds testTOTPSecret (see passCode).
			if err := identity.EnrolWithSecret(ctx, tdb.DB, a.sealer, clk.Now(), p.users[r.Name].ID, testTOTPSecret); err != nil {
				t.Fatal(err)
			}
			p.users[r.Name].TwoFactor = true
		}
	}
	return p
}

func (p *testPortal) createUser(email, name string, roles ...string) *identity.User {
	p.t.Helper()
	ctx := context.Background()
	var orgID int64
	if err := p.db.DB.NewSelect().Table("organisations").Column("id").Order("id").Limit(1).Scan(ctx, &orgID); err != nil {
		p.t.Fatal(err)
	}
	u, err := identity.Create(ctx, p.db.DB, audit.Actor{Name: "test"}, p.clock.Now(), identity.NewUser{
		Email: email, Name: name, OrganisationID: orgID, Roles: roles, Password: testPassword,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return u
}

// browser keeps cookies between requests, like a browser.
type browser struct {
	p       *testPortal
	cookies map[string]string
}

func (p *testPortal) anonymous() *browser { return &browser{p: p, cookies: map[string]string{}} }

// as returns a browser already signed in as the user, without going through the sign-in form, and
// counted as having passed its second factor now (as a session an identity provider vouched for is):
// the sign-in, passcode and enrolment pages have their own tests.
func (p *testPortal) as(u *identity.User) *browser {
	p.t.Helper()
	token, err := identity.StartSession(context.Background(), p.db.DB, u.ID, p.clock.Now(), identity.Client{IP: "0.0.0.0"}, identity.PassedNow(p.clock.Now(), identity.VerifiedByTOTP))
	if err != nil {
		p.t.Fatal(err)
	}
	b := p.anonymous()
	b.cookies[p.app.sessionCookieName()] = token
	return b
}

type response struct {
	status  int
	header  http.Header
	body    string
	cookies []*http.Cookie
}

func (b *browser) do(method, path string, form url.Values) response {
	b.p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := b.p.app.Handler().Test(req, -1)
	if err != nil {
		b.p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.p.t.Fatal(err)
	}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: string(raw), cookies: res.Cookies()}
}

func (b *browser) get(path string) response { return b.do("GET", path, nil) }

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf fetches a page and returns the form token it carries.
func (b *browser) csrf() string {
	b.p.t.Helper()
	page := "/account/password" // every signed-in user may open it, even one who must change their password
	if b.cookies[b.p.app.sessionCookieName()] == "" {
		page = "/sign-in"
	}
	res := b.get(page)
	if loc := res.header.Get("Location"); res.status == 303 && loc != "" {
		page = loc // a step still owed: the passcode, or setting up an authenticator
		res = b.get(page)
	}
	m := csrfField.FindStringSubmatch(res.body)
	if m == nil {
		b.p.t.Fatalf("no CSRF token on %s (status %d)", page, res.status)
	}
	return m[1]
}

// post sends a form with a valid CSRF token.
func (b *browser) post(path string, form url.Values) response {
	b.p.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrf())
	return b.do("POST", path, form)
}

func (b *browser) signIn(email, password string) response {
	b.p.t.Helper()
	return b.post("/sign-in", url.Values{"email": {email}, "password": {password}})
}

// testTOTPSecret is the authenticator secret of the test users who hold elevated roles.
const testTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// passCode sends the passcode that the authenticator holding secret shows at the test clock's time
// plus offset (a code is accepted once, for a step within 30 seconds of now).
func (b *browser) passCode(secret string, offset time.Duration) response {
	b.p.t.Helper()
	code, err := identity.CodeAt(secret, b.p.clock.Now().Add(offset))
	if err != nil {
		b.p.t.Fatal(err)
	}
	return b.post("/sign-in/code", url.Values{"code": {code}})
}

func mustStatus(t *testing.T, res response, want int, what string) {
	t.Helper()
	if res.status != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, res.status, want, excerpt(res.body))
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 1500 {
		s = s[:1500]
	}
	return s
}

func userPath(u *identity.User, suffix string) string {
	return fmt.Sprintf("/admin/users/%d%s", u.ID, suffix)
}
