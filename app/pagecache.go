package app

import (
	"bytes"
	"context"
	"html/template"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/klauspost/compress/gzip"
)

// contentCache keeps the rendered content of the pages that cost most to build — the requests list and
// the request page — for as long as the database they were read from is unchanged.
//
// An entry is filed under the database snapshot of the visit that built it (pg_current_snapshot, read
// by the session lookup that every signed-in page makes anyway) and a key naming everything else the
// content depends on: the page and what was asked of it, the viewer (their user, roles, organisation
// and NSIGs: who may know what, DESIGN §1), the minute, and the reading of the reference lists. Two
// statements under the same snapshot see the same committed rows, and any transaction that writes,
// on any instance, gives every later statement a new snapshot. So a page from the cache is never older
// than what the visitor's own session lookup saw: there is nothing to invalidate, on one instance or
// several. What an entry holds may have been read a moment after its snapshot (by the statements that
// built it), never before.
type contentCache struct {
	mu      sync.Mutex
	xmax    uint64 // the newest snapshot's first unassigned transaction: older snapshots' entries are dropped
	entries map[string]cachedContent
	size    int // bytes held
	limit   int // bytes held at most; past it the cache starts again
	hits    int64
	misses  int64
}

// cachedContent is a page's title, its content and what comes before it (a back link); or, for a whole
// page kept for one session, the page as sent, as it is and gzipped.
type cachedContent struct {
	Title           string
	Before, Content template.HTML
	Page, Gzip      []byte
}

// contentCacheLimit bounds the memory the cache holds (a requests list is about 50 kB of HTML).
const contentCacheLimit = 16 << 20

func newContentCache(limit int) *contentCache {
	return &contentCache{entries: map[string]cachedContent{}, limit: limit}
}

// snapshotXmax reads the xmax of a snapshot written "xmin:xmax:xip,…"; ok is false for anything else.
func snapshotXmax(snapshot string) (uint64, bool) {
	parts := strings.SplitN(snapshot, ":", 3)
	if len(parts) != 3 {
		return 0, false
	}
	n, err := strconv.ParseUint(parts[1], 10, 64)
	return n, err == nil
}

// get returns the content filed under the snapshot and key. Nothing is found without a snapshot.
func (c *contentCache) get(snapshot, key string) (cachedContent, bool) {
	if snapshot == "" {
		return cachedContent{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[snapshot+"\x00"+key]
	if ok {
		c.hits++
	} else {
		c.misses++
	}
	return e, ok
}

// put files content under the snapshot and key. A snapshot older than the newest seen is not kept; a
// newer one drops every entry of the older ones, which no later visit will ask for.
func (c *contentCache) put(snapshot, key string, e cachedContent) {
	xmax, ok := snapshotXmax(snapshot)
	if !ok {
		return
	}
	n := len(snapshot) + len(key) + len(e.Title) + len(e.Before) + len(e.Content) + len(e.Page) + len(e.Gzip)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case xmax < c.xmax:
		return
	case xmax > c.xmax:
		clear(c.entries)
		c.size, c.xmax = 0, xmax
	}
	if c.size+n > c.limit {
		clear(c.entries)
		c.size = 0
	}
	if n > c.limit {
		return
	}
	c.entries[snapshot+"\x00"+key] = e
	c.size += n
}

// counts returns how many times content was found and not found.
func (c *contentCache) counts() (hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// contentKey names what a cached page's content depends on besides the database: the parts given (the
// page and what was asked of it), the viewer's access — their user, organisation, region, roles and
// NSIGs — and the minute, for the dates and deadlines pages state relative to now. Parts are joined
// with a separator that the query strings and names in them cannot hold unescaped.
func (a *App) contentKey(ctx context.Context, v *visit, parts ...string) (string, error) {
	// The lists are asked for first, so that a reading past its time is replaced before it names a key.
	lists, err := a.choices.get(ctx, a)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	u := v.user
	b.WriteString(strconv.FormatInt(u.ID, 10))
	b.WriteByte('|')
	b.WriteString(strconv.FormatInt(u.OrganisationID, 10))
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(int(u.RegionID)))
	b.WriteByte('|')
	b.WriteString(strings.Join(u.Roles, ","))
	b.WriteByte('|')
	for _, id := range u.NSIGIDs {
		b.WriteString(strconv.FormatInt(id, 10))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	b.WriteString(strconv.FormatBool(u.NSIGsRead))
	b.WriteByte('|')
	b.WriteString(v.csrf)
	b.WriteByte('|')
	b.WriteString(a.now().UTC().Format("2006-01-02T15:04"))
	b.WriteByte('|')
	b.WriteString(strconv.FormatUint(lists.Reading, 10))
	for _, p := range parts {
		b.WriteByte(0)
		b.WriteString(p)
	}
	return b.String(), nil
}

// cachedPage is what the page "pages/cached" shows: this visit's layout around parts a page rendered
// before.
type cachedPage struct {
	Page
	Before, Content template.HTML
}

// showCached shows the page name from what the content cache holds under this visit's snapshot and
// key, or else builds its data with build, renders its parts and keeps them. Both ways the page is
// shown through "pages/cached", so a page from the cache is the page built afresh. build returns the
// page's data and its Page (for the title); an error it returns is shown as it would be without the
// cache, and nothing is kept.
//
// The whole page as sent, gzipped too, is kept as well, under the key and what the layout adds for
// this visit: the unread count and the downtime notices (the user, their form token and the path are
// in the key already). A page carrying a success message is shown once and never kept whole.
func (a *App) showCached(c *fiber.Ctx, name, key string, build func() (data any, p *Page, err error)) error {
	v := visitOf(c)
	snapshot := ""
	if v.session != nil {
		snapshot = v.session.Snapshot
	}
	wholeKey := ""
	if v.flash == "" {
		var b strings.Builder
		b.WriteString(key)
		b.WriteString("\x00whole\x00")
		b.WriteString(strconv.Itoa(v.unread))
		for _, n := range a.banners(c.UserContext()) {
			b.WriteString("\x00" + n.Heading + "\x00" + n.Text + "\x00" + n.When + "\x00" + strconv.FormatBool(n.ReadOnly))
		}
		wholeKey = b.String()
		if e, ok := a.content.get(snapshot, wholeKey); ok {
			return sendPage(c, e)
		}
	}
	e, ok := a.content.get(snapshot, key)
	var p Page
	if ok {
		p = a.page(c, e.Title)
	} else {
		data, built, err := build()
		if err != nil {
			return err
		}
		if e, err = a.views.RenderParts(name, data); err != nil {
			return err
		}
		e.Title, p = built.Title, *built
		a.content.put(snapshot, key, e)
	}
	page, err := a.views.RenderBytes("pages/cached", &cachedPage{Page: p, Before: e.Before, Content: e.Content},
		len(e.Before)+len(e.Content)+layoutBufferSize)
	if err != nil {
		return err
	}
	whole := cachedContent{Page: page}
	if wholeKey != "" && snapshot != "" {
		var gz bytes.Buffer
		gz.Grow(len(page) / 4) // HTML gzips to a fifth or less
		w := gzipWriters.Get().(*gzip.Writer)
		w.Reset(&gz)
		_, err := w.Write(whole.Page)
		if err == nil {
			err = w.Close()
		}
		gzipWriters.Put(w)
		if err != nil {
			return err
		}
		whole.Gzip = gz.Bytes()
		a.content.put(snapshot, wholeKey, whole)
	}
	return sendPage(c, whole)
}

// gzipWriters are reused: each holds several hundred kilobytes of compression state.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	return w
}}

// sendPage sends a page kept whole, gzipped to a browser that takes gzip (the compression middleware
// leaves a response that is encoded already as it is).
func sendPage(c *fiber.Ctx, e cachedContent) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Vary(fiber.HeaderAcceptEncoding)
	if e.Gzip != nil && c.Context().Request.Header.HasAcceptEncoding("gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Status(fiber.StatusOK).Send(e.Gzip)
	}
	return c.Status(fiber.StatusOK).Send(e.Page)
}
