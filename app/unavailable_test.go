package app

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
)

// outcome is one request of the load in TestDatabaseOutage.
type outcome struct {
	method      string
	began, done time.Time
	status      int
	retryAfter  string
	body        string
	comment     string // the comment a POST carried
	session     string // the session token it was sent with
}

// TestDatabaseOutage stops the test's own PostgreSQL under a small load of page views and comments,
// starts it again, and counts what users got: while it is away every page is the 503 "service
// unavailable" page with Retry-After and nothing technical, a comment comes back ready to be sent again,
// and the sign-in page keeps the email address; never a 500; from 2 s after the database is back every
// request succeeds.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	server, tdb := dbtest.NewServer(t)
	p := newTestPortalOn(t, tdb)
	raiserUser := userIn(t, p, "raiser@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	r := raiseFor(t, p, raiserUser, "Comments while the database restarts")
	path := "/requests/" + r.Reference

	var (
		mu       sync.Mutex
		outcomes []outcome
		posts    atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	send := func(token, method, target string, form url.Values) outcome {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(&http.Cookie{Name: p.app.sessionCookieName(), Value: token})
		o := outcome{method: method, began: time.Now()}
		res, err := p.app.Handler().Test(req, -1)
		if err != nil {
			o.status = -1
			o.body = err.Error()
			return o
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		o.done, o.status, o.retryAfter, o.body = time.Now(), res.StatusCode, res.Header.Get("Retry-After"), string(raw)
		return o
	}
	worker := func(writer bool) {
		defer wg.Done()
		token, err := identity.StartSession(t.Context(), p.db.DB, raiserUser.ID, p.clock.Now(), identity.Client{IP: "192.0.2.1"}, identity.PassedNow(p.clock.Now(), identity.VerifiedByTOTP))
		if err != nil {
			t.Error(err)
			return
		}
		csrf := p.app.csrfToken("session:" + token)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var o outcome
			if writer {
				text := fmt.Sprintf("Comment %d while the database comes and goes", posts.Add(1))
				o = send(token, "POST", path+"/comments", url.Values{"_csrf": {csrf}, "body": {text}})
				o.comment, o.session = text, token
			} else {
				o = send(token, "GET", []string{"/", path, "/requests"}[i%3], nil)
			}
			mu.Lock()
			outcomes = append(outcomes, o)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}
	for i := range 4 {
		wg.Add(1)
		go worker(i%2 == 0)
	}

	time.Sleep(500 * time.Millisecond)
	stopping := time.Now()
	if err := server.Stop(); err != nil {
		t.Fatalf("stop the database: %v", err)
	}
	down := time.Now()

	// Signing in needs the database; the sign-in page does not.
	anon := p.anonymous()
	anonToken := anon.csrf()
	res := anon.do("POST", "/sign-in", url.Values{"_csrf": {anonToken}, "email": {"priya@trust.nhs.uk"}, "password": {"typed while it was down"}})
	mustStatus(t, res, 503, "sign in while the database is away")
	if res.header.Get("Retry-After") == "" || !strings.Contains(res.body, `value="priya@trust.nhs.uk"`) ||
		!strings.Contains(res.body, "You cannot sign in at the moment") || strings.Contains(res.body, "typed while it was down") {
		t.Errorf("the sign-in page while the database is away does not keep the email, explain, or hide the password:\n%s", excerpt(res.body))
	}

	time.Sleep(1500 * time.Millisecond)
	starting := time.Now()
	if err := server.Start(t.Context()); err != nil {
		t.Fatalf("start the database again: %v", err)
	}
	up := time.Now()
	time.Sleep(2500 * time.Millisecond)
	close(stop)
	wg.Wait()

	statuses := map[int]int{}
	var outage, afterRecovery, unavailable int
	var lastFailure time.Time
	var retry *outcome
	for i := range outcomes {
		o := &outcomes[i]
		statuses[o.status]++
		ok := o.status == 200 || o.status == 303
		switch {
		case !ok && o.status != 503:
			t.Errorf("%s began %s after the stop: status %d\n%s", o.method, o.began.Sub(stopping).Round(time.Millisecond), o.status, excerpt(o.body))
			continue
		case ok:
		default:
			unavailable++
			if o.done.After(lastFailure) {
				lastFailure = o.done
			}
			checkUnavailablePage(t, o)
			if o.method == "POST" && retry == nil && o.began.After(down) {
				retry = o
			}
		}
		if o.began.After(down) && o.done.Before(starting) {
			outage++
			if ok {
				t.Errorf("%s answered %d while the database was stopped", o.method, o.status)
			}
		}
		if o.began.After(up.Add(2 * time.Second)) {
			afterRecovery++
			if !ok {
				t.Errorf("%s began %s after the database was back and answered %d", o.method, o.began.Sub(up).Round(time.Millisecond), o.status)
			}
		}
	}
	if outage == 0 || afterRecovery == 0 {
		t.Fatalf("%d requests during the outage and %d after recovery: the load did not cover both", outage, afterRecovery)
	}
	recovered := "at once"
	if lastFailure.After(up) {
		recovered = lastFailure.Sub(up).Round(time.Millisecond).String() + " after it was back"
	}
	t.Logf("statuses %v over %d requests; %d during the %s outage, all 503; %d from 2 s after recovery; last 503 %s",
		statuses, len(outcomes), outage, starting.Sub(down).Round(time.Millisecond), afterRecovery, recovered)

	// Every comment reported as saved was saved.
	var saved, reported int
	for _, o := range outcomes {
		if o.method == "POST" && o.status == 303 {
			reported++
		}
	}
	if err := p.db.DB.NewRaw("SELECT count(*) FROM request_comments WHERE body LIKE 'Comment % while the database comes and goes'").Scan(t.Context(), &saved); err != nil {
		t.Fatal(err)
	}
	if saved < reported {
		t.Errorf("%d comments were answered as saved but only %d are in the database", reported, saved)
	}

	// A comment sent while the database was away comes back as a form that sends it again.
	if retry == nil {
		t.Fatal("no comment was sent while the database was away")
	}
	action, fields := parseRetryForm(t, retry.body)
	if action != path+"/comments" || fields.Get("body") != retry.comment || fields.Get("_csrf") == "" {
		t.Fatalf("the retry form posts %v to %q; want the comment %q to %s", fields, action, retry.comment, path+"/comments")
	}
	b := p.as(raiserUser)
	b.cookies[p.app.sessionCookieName()] = retry.session
	res = b.do("POST", action, fields)
	mustStatus(t, res, 303, "trying again once the database is back")
	var again int
	if err := p.db.DB.NewRaw("SELECT count(*) FROM request_comments WHERE body = ?", retry.comment).Scan(t.Context(), &again); err != nil {
		t.Fatal(err)
	}
	if again != 1 {
		t.Errorf("the comment sent again is saved %d times, want 1", again)
	}
}

func checkUnavailablePage(t *testing.T, o *outcome) {
	t.Helper()
	if o.retryAfter == "" {
		t.Errorf("%s 503 without Retry-After", o.method)
	}
	if !strings.Contains(o.body, "Sorry, the service is unavailable") {
		t.Errorf("%s 503 is not the service unavailable page:\n%s", o.method, excerpt(o.body))
	}
	for _, leak := range []string{"SQLSTATE", "pgconn", "sql:", "dial ", "socket", ".go:", "goroutine", "panic"} {
		if strings.Contains(o.body, leak) {
			t.Errorf("%s 503 page shows %q:\n%s", o.method, leak, excerpt(o.body))
		}
	}
	if o.method == "POST" && (!strings.Contains(o.body, `id="try-again"`) || !strings.Contains(o.body, html.EscapeString(o.comment))) {
		t.Errorf("a comment's 503 page lacks the try-again form with what was typed:\n%s", excerpt(o.body))
	}
}

var (
	retryFormAction  = regexp.MustCompile(`<form action="([^"]+)" method="post" novalidate>`)
	retryHiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// parseRetryForm reads the try-again form of a 503 page.
func parseRetryForm(t *testing.T, body string) (string, url.Values) {
	t.Helper()
	i := strings.Index(body, `<main`)
	if i < 0 {
		t.Fatal("no main element")
	}
	body = body[i:]
	m := retryFormAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no retry form:\n%s", excerpt(body))
	}
	fields := url.Values{}
	for _, f := range retryHiddenField.FindAllStringSubmatch(body, -1) {
		fields.Add(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// TestRetryFormOnlyForTheBrowserThatSentIt: a form that fails for want of the database comes back as a
// try-again form only with the form token of the browser that sent it, never with a password, and never
// for a file upload or a page view.
func TestRetryFormOnlyForTheBrowserThatSentIt(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	// A route whose database is always away.
	p.app.fiber.All("/test/database-away", func(*fiber.Ctx) error {
		return fmt.Errorf("save: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"})
	})
	token, err := identity.StartSession(t.Context(), p.db.DB, p.users[identity.RoleRequester].ID, p.clock.Now(), identity.Client{IP: "192.0.2.1"}, identity.PassedNow(p.clock.Now(), identity.VerifiedByTOTP))
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, contentType, body, csrfCookie string) response {
		t.Helper()
		req := httptest.NewRequest(method, "/test/database-away?step=2", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if csrfCookie == "" {
			req.AddCookie(&http.Cookie{Name: p.app.sessionCookieName(), Value: token})
		} else {
			req.AddCookie(&http.Cookie{Name: p.app.csrfCookieName(), Value: csrfCookie})
		}
		res, err := p.app.Handler().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
			t.Fatalf("%s %s: status %d, Retry-After %q; want 503 with Retry-After", method, contentType, res.StatusCode, res.Header.Get("Retry-After"))
		}
		return response{status: res.StatusCode, body: string(raw)}
	}
	form := url.Values{
		"_csrf": {p.app.csrfToken("session:" + token)}, "version": {"7"}, "reason_text": {"Typed <carefully>\nover two lines"},
		"new_password": {"never shown again"}, "choice": {"a", "b"},
	}
	res := send("POST", "application/x-www-form-urlencoded", form.Encode(), "")
	action, fields := parseRetryForm(t, res.body)
	if action != "/test/database-away?step=2" {
		t.Errorf("the retry form posts to %q", action)
	}
	if fields.Get("_csrf") != form.Get("_csrf") || fields.Get("version") != "7" || fields.Get("reason_text") != form.Get("reason_text") ||
		strings.Join(fields["choice"], ",") != "a,b" {
		t.Errorf("the retry form carries %v, want the form as sent", fields)
	}
	if strings.Contains(res.body, "never shown again") || fields.Has("new_password") {
		t.Error("a password was sent back")
	}
	if !strings.Contains(res.body, `<dt class="nhsuk-summary-list__key">Reason text</dt>`) || strings.Contains(res.body, `<dt class="nhsuk-summary-list__key">Version</dt>`) {
		t.Errorf("what was typed is not shown, or what the page set is:\n%s", excerpt(res.body))
	}
	if !strings.Contains(res.body, `href="#try-again"`) || !strings.Contains(res.body, "Try again in a moment") {
		t.Errorf("no error summary leading to the try-again button:\n%s", excerpt(res.body))
	}

	// Before sign-in, the token is bound to the form-token cookie.
	anon := url.Values{"_csrf": {p.app.csrfToken("anonymous:cookie-value")}, "email": {"jo@example.nhs.uk"}}
	if res := send("POST", "application/x-www-form-urlencoded", anon.Encode(), "cookie-value"); !strings.Contains(res.body, `id="try-again"`) {
		t.Error("no retry form for a browser before sign-in")
	}

	for what, res := range map[string]response{
		"a form token of another session": send("POST", "application/x-www-form-urlencoded", url.Values{"_csrf": {p.app.csrfToken("session:someone else")}, "body": {"forged"}}.Encode(), ""),
		"no form token":                   send("POST", "application/x-www-form-urlencoded", "body=forged", ""),
		"a file upload":                   send("POST", "multipart/form-data; boundary=x", "--x--\r\n", ""),
		"a page view":                     send("GET", "", "", ""),
	} {
		if strings.Contains(res.body, `id="try-again"`) || strings.Contains(res.body, "forged") {
			t.Errorf("%s: the 503 page offers to send it again:\n%s", what, excerpt(res.body))
		}
		if !strings.Contains(res.body, "Sorry, the service is unavailable") {
			t.Errorf("%s: not the service unavailable page", what)
		}
	}
}

func TestFieldLabel(t *testing.T) {
	for name, want := range map[string]string{"body": "Body", "business_case": "Business case", "benefits[0].hours": "Benefits 0 hours", "_": "_"} {
		if got := fieldLabel(name); got != want {
			t.Errorf("fieldLabel(%q) = %q, want %q", name, got, want)
		}
	}
}
