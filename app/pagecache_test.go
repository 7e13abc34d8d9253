package app

import (
	"compress/gzip"
	"context"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
)

func TestSnapshotXmax(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"795:799:795,797", 799, true},
		{"10:10:", 10, true},
		{"", 0, false},
		{"10:ten:", 0, false},
		{"10", 0, false},
	} {
		if got, ok := snapshotXmax(c.in); got != c.want || ok != c.ok {
			t.Errorf("snapshotXmax(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestContentCacheKeepsOnlyTheNewestSnapshot files content under snapshots and wants it found only
// under its own snapshot and key, older snapshots' content dropped or refused, and the memory bound
// kept.
func TestContentCacheKeepsOnlyTheNewestSnapshot(t *testing.T) {
	c := newContentCache(1 << 10)
	page := func(s string) cachedContent {
		return cachedContent{Title: s, Content: template.HTML("<p>" + s + "</p>")}
	}

	if _, ok := c.get("", "k"); ok {
		t.Error("found content without a snapshot")
	}
	c.put("", "k", page("none"))
	c.put("5:9:5,7", "k", page("nine"))
	c.put("5:9:5", "k", page("nine, 7 committed"))
	if e, ok := c.get("5:9:5,7", "k"); !ok || e.Title != "nine" {
		t.Errorf("snapshot 5:9:5,7 gives %q, %v", e.Title, ok)
	}
	if e, ok := c.get("5:9:5", "k"); !ok || e.Title != "nine, 7 committed" {
		t.Errorf("snapshot 5:9:5 gives %q, %v", e.Title, ok)
	}
	if _, ok := c.get("5:9:5,7", "other key"); ok {
		t.Error("found content under another key")
	}
	// A newer snapshot drops the older ones' content, and an older one is not kept.
	c.put("9:12:", "k", page("twelve"))
	if _, ok := c.get("5:9:5", "k"); ok {
		t.Error("an older snapshot's content outlived a newer snapshot")
	}
	c.put("5:9:5", "k", page("late"))
	if _, ok := c.get("5:9:5", "k"); ok {
		t.Error("content of a snapshot older than the newest was kept")
	}
	if e, ok := c.get("9:12:", "k"); !ok || e.Title != "twelve" {
		t.Errorf("snapshot 9:12: gives %q, %v", e.Title, ok)
	}
	// Past its bound the cache starts again; content larger than the bound is never kept.
	c.put("9:12:", "big", cachedContent{Content: template.HTML(strings.Repeat("x", 1000))})
	if _, ok := c.get("9:12:", "k"); ok {
		t.Error("the cache grew past its bound")
	}
	c.put("9:12:", "huge", cachedContent{Content: template.HTML(strings.Repeat("x", 2000))})
	if _, ok := c.get("9:12:", "huge"); ok || c.size > c.limit {
		t.Errorf("content larger than the bound was kept (%d bytes held of %d)", c.size, c.limit)
	}
	if hits, misses := c.counts(); hits == 0 || misses == 0 {
		t.Errorf("counted %d hits and %d misses", hits, misses)
	}
}

// TestCachedPagesShowEveryChangeAtOnce opens the requests list and a request page twice through a
// second portal instance, so that the second view comes from its content cache, and then changes the
// request through the first instance, and again behind both instances' backs in the database: the very
// next view through the second instance shows each change. Another organisation's requester, opening
// the same pages through the same instance, never sees what the cache holds for the central team.
//
// Not parallel with other tests: a page is kept under the database snapshot, which any transaction that
// writes anywhere in the cluster changes, so other tests' writes would keep the cache from being used.
func TestCachedPagesShowEveryChangeAtOnce(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	second, err := New(Deps{Config: p.app.cfg, DB: p.db.DB, Logger: p.app.log, Migrator: p.app.migrator, Now: p.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	other := *p
	other.app = second
	raiserUser := userIn(t, p, "raiser@trust.nhs.uk", "ZLN01", identity.RoleRequester)
	strangerUser := userIn(t, p, "stranger@trust.nhs.uk", "ZMD01", identity.RoleRequester)
	r := raiseFor(t, p, raiserUser, "Show payslips in Welsh")
	path := "/requests/" + r.Reference
	central := p.users[identity.RoleCentralTeam]
	onOne, onTwo := p.as(central), other.as(central)
	onTwo.cookies = onOne.cookies // the same browser, sent to either instance

	// view opens a page through the second instance and says whether it came from the cache.
	view := func(b *browser, target string) (string, bool) {
		t.Helper()
		hits, _ := second.content.counts()
		res := b.get(target)
		mustStatus(t, res, 200, "GET "+target)
		after, _ := second.content.counts()
		return res.body, after > hits
	}
	for _, target := range []string{"/requests", path} {
		first, cached := view(onTwo, target)
		if cached {
			t.Errorf("the first view of %s came from the cache", target)
		}
		// Nothing changes here, but anything that writes in the cluster (autovacuum's analyses) gives a
		// new snapshot: a few tries, so that one of them is made under an unchanged snapshot.
		var again string
		for try := 0; try < 5 && !cached; try++ {
			again, cached = view(onTwo, target)
		}
		if !cached {
			t.Errorf("the next views of %s, with nothing changed, were built again", target)
		}
		if strip(first) != strip(again) {
			t.Errorf("%s from the cache differs from the page built afresh:\n%s\n----\n%s", target, excerpt(strip(first)), excerpt(strip(again)))
		}
	}

	// A browser that takes gzip gets the same page, gzipped.
	plain := onTwo.get(path).body
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	for k, v := range onTwo.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := second.Handler().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatalf("GET %s with gzip: Content-Encoding %q: %v", path, res.Header.Get("Content-Encoding"), err)
	}
	unzipped, err := io.ReadAll(zr)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if strip(string(unzipped)) != strip(plain) || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("the gzipped page (Vary %q) differs from the page:\n%s", res.Header.Get("Vary"), excerpt(string(unzipped)))
	}

	// A change through the first instance shows at once through the second, with its success message
	// once only.
	mustStatus(t, onOne.post(path+"/comments", url.Values{"body": {"Looking at this with the payroll team"}}), 303, "comment through the first instance")
	body, _ := view(onTwo, path)
	if !strings.Contains(body, "Looking at this with the payroll team") {
		t.Errorf("the second instance does not show the comment made through the first:\n%s", excerpt(body))
	}
	if !strings.Contains(body, "Your comment has been added") {
		t.Errorf("the page after the comment does not say it was added:\n%s", excerpt(body))
	}
	if body, _ := view(onTwo, path); strings.Contains(body, "Your comment has been added") {
		t.Error("the success message was shown again on the next view")
	}
	// So does a change made in the database by neither instance.
	if _, err := p.db.DB.NewUpdate().Table("requests").Set("title = ?", "Show payslips in Welsh and English").Where("id = ?", r.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/requests", path} {
		if body, _ := view(onTwo, target); !strings.Contains(body, "Show payslips in Welsh and English") {
			t.Errorf("%s through the second instance does not show the new title:\n%s", target, excerpt(body))
		}
	}

	// Another organisation's requester, before the request is accepted, sees neither it nor anything
	// the central team's views left in the cache.
	stranger := other.as(strangerUser)
	for range 2 {
		if body, _ := view(stranger, "/requests"); strings.Contains(body, r.Reference) {
			t.Errorf("another organisation's requester sees %s in the list", r.Reference)
		}
		res := stranger.get(path)
		mustStatus(t, res, 404, "another organisation's requester opening the request")
	}
}

// strip removes from a page what differs between two views of it: the request ID.
func strip(body string) string {
	if i := strings.Index(body, "Request ID"); i >= 0 {
		return body[:i]
	}
	return body
}
