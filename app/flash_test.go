package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
)

// TestSuccessMessageNeedsNoDatabaseWrite: once a change has committed, reporting it writes nothing
// to the database. With every write to the sessions table refused, a comment is still answered with
// the redirect, and the next page says it was added.
func TestSuccessMessageNeedsNoDatabaseWrite(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	raiserUser := userIn(t, p, "raiser@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	r := raiseFor(t, p, raiserUser, "Flash survives a broken session write")
	path := "/requests/" + r.Reference
	raiser := p.as(raiserUser)

	if _, err := p.db.Owner(t).Exec(` -- only the owner may add a trigger
		CREATE FUNCTION refuse_session_writes() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'the sessions table is read-only in this test'; END $$;
		CREATE TRIGGER sessions_read_only BEFORE INSERT OR UPDATE OR DELETE ON sessions
			FOR EACH ROW EXECUTE FUNCTION refuse_session_writes();`); err != nil {
		t.Fatal(err)
	}

	res := raiser.post(path+"/comments", url.Values{"body": {"Written while sessions cannot change"}})
	mustStatus(t, res, 303, "comment with the sessions table read-only")
	if loc := res.header.Get("Location"); loc != path+"#timeline" {
		t.Errorf("redirect to %q, want %q", loc, path+"#timeline")
	}
	cookie := findCookie(res.cookies, p.app.flashCookieName())
	if cookie == nil {
		t.Fatalf("no %s cookie on the redirect; cookies %v", p.app.flashCookieName(), res.cookies)
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" ||
		cookie.MaxAge <= 0 || cookie.MaxAge > int(flashLifetime/time.Second) {
		t.Errorf("flash cookie %+v: want HttpOnly, SameSite=Lax, Path=/, short-lived", cookie)
	}
	if strings.Contains(cookie.Value, "Your comment") {
		t.Errorf("flash cookie holds the message in clear text: %q", cookie.Value)
	}
	var saved int
	if err := p.db.DB.NewRaw("SELECT count(*) FROM request_comments WHERE body = ?", "Written while sessions cannot change").Scan(t.Context(), &saved); err != nil {
		t.Fatal(err)
	}
	if saved != 1 {
		t.Fatalf("%d comments saved, want 1", saved)
	}
	signed := cookie.Value

	res = raiser.get(path)
	mustStatus(t, res, 200, "the page the redirect leads to")
	if !strings.Contains(res.body, "Your comment has been added") {
		t.Errorf("the next page lacks the success message:\n%s", excerpt(res.body))
	}
	if c := findCookie(res.cookies, p.app.flashCookieName()); c == nil || c.MaxAge >= 0 {
		t.Errorf("the page that showed the message did not clear its cookie: %+v", c)
	}
	if res := raiser.get(path); strings.Contains(res.body, "Your comment has been added") {
		t.Error("the success message was shown twice")
	}

	if _, err := p.db.Owner(t).Exec("DROP TRIGGER sessions_read_only ON sessions"); err != nil {
		t.Fatal(err)
	}
	shows := func(b *browser, value string) bool {
		t.Helper()
		b.cookies[p.app.flashCookieName()] = value
		res := b.get(path)
		mustStatus(t, res, 200, "request page")
		return strings.Contains(res.body, "notification-banner--success")
	}
	// The same cookie in another session, altered, or too old, shows nothing.
	other := p.as(raiserUser)
	if shows(other, signed) {
		t.Error("a message bound to one session was shown in another")
	}
	parts := strings.Split(signed, ".")
	forged := parts[0] + "." + strings.TrimRight(parts[1], "=") + "QQ." + parts[2]
	if shows(raiser, forged) {
		t.Error("an altered message was shown")
	}
	p.clock.Advance(flashLifetime + time.Second)
	if shows(raiser, signed) {
		t.Error("an expired message was shown")
	}
}

func TestTruncateUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"ŵŷé", 5, "ŵŷ"},
		{"ŵŷé", 3, "ŵ"},
		{"abc", 0, ""},
	} {
		if got := truncateUTF8(tc.in, tc.n); got != tc.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}
