package app

// Fuzz targets for what the portal reads from a request and what it writes back: form decoding, the
// requests list's filter, comment rendering and the post-sign-in redirect. `make fuzz` runs each for
// FUZZTIME (10 minutes); their seed corpora are in testdata/fuzz. They need no database.

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"golang.org/x/net/html"

	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/workday"
	"github.com/nhs-esr/portal/forms"
	"github.com/nhs-esr/portal/public"
	"github.com/nhs-esr/portal/views"
)

// serveFuzz sends one request straight to a fiber app's handler, without a network.
func serveFuzz(app *fiber.App, method, uri, contentType string, body []byte) *fasthttp.RequestCtx {
	var fctx fasthttp.RequestCtx
	fctx.Request.Header.SetMethod(method)
	fctx.Request.SetRequestURI(uri)
	if contentType != "" {
		fctx.Request.Header.SetContentType(contentType)
	}
	fctx.Request.SetBody(body)
	app.Handler()(&fctx)
	return &fctx
}

// multipartBody is a multipart form of the pairs, with its content type.
func multipartBody(pairs ...string) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(pairs); i += 2 {
		_ = w.WriteField(pairs[i], pairs[i+1])
	}
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// fuzzForms are the forms decoded from every fuzzed body: text fields, lists, numbers and a date.
func fuzzForms() []any {
	return []any{&forms.User{}, &forms.RaiseDetails{}, &forms.RaiseAffected{}, &forms.Comment{}, &forms.SignIn{},
		&forms.Release{}, &forms.MeetingAction{}, &forms.RequirementAgree{}}
}

// FuzzFormDecoding sends any body as an urlencoded or multipart form through what every unsafe request
// goes through (cleanForm, then fiber's BodyParser and forms.Validator.Check): nothing panics or
// fails with 500, no text the database cannot store comes out of decoding, and every field holding
// "�" (what cleaning leaves) gets the error that asks for it to be removed.
func FuzzFormDecoding(f *testing.F) {
	f.Add(false, []byte("name=Jo+Bloggs&email=jo%40example.nhs.uk&roles=requester&roles=admin&organisation_id=1"))
	f.Add(false, []byte("body=Hello+%40jo.bloggs%40example.nhs.uk%0D%0Asecond+line&internal=1"))
	f.Add(false, []byte("problem=a%00b&proposal=%FF%FE&functional_area=Payroll"))
	f.Add(false, []byte("affected_users=employee&affected_users=%00&affected_detail=x"))
	f.Add(false, []byte("version=abc&number=74&target_date-day=31&target_date-month=2&target_date-year=2027"))
	f.Add(false, []byte("a=1&a=2&%00=3&&=&b"))
	f.Add(false, []byte("email=%E2%80%AE%E2%80%8Bjo%40x.uk&password=%1B%5B31m"))
	body, _ := multipartBody("name", "Jo\x00Bloggs", "email", "jo@example.nhs.uk", "roles", "requester")
	f.Add(true, body)
	body, _ = multipartBody("body", "caf\xe9", "internal", "1")
	f.Add(true, body)

	validate := forms.NewValidator()
	app := fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true})
	var failure string
	app.Post("/form", func(c *fiber.Ctx) error {
		if err := cleanForm(c); err != nil {
			return err
		}
		for _, form := range fuzzForms() {
			if err := c.BodyParser(form); err != nil {
				continue // a number that is not one: the handler answers 400
			}
			if msg := checkDecoded(validate, form); msg != "" {
				failure = msg
			}
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	f.Fuzz(func(t *testing.T, multi bool, body []byte) {
		failure = ""
		ctype := fiber.MIMEApplicationForm
		if multi {
			// The fuzzed bytes become the value of a few fields of a well-formed multipart form,
			// and the whole body is also sent as it is.
			b, ct := multipartBody("name", string(body), "body", string(body), "affected_users", string(body), "version", string(body))
			res := serveFuzz(app, "POST", "/form", ct, b)
			if res.Response.StatusCode() >= 500 {
				t.Fatalf("multipart form of %q: status %d", body, res.Response.StatusCode())
			}
			if failure != "" {
				t.Fatal(failure)
			}
			ctype = "multipart/form-data; boundary=fuzz"
		}
		res := serveFuzz(app, "POST", "/form", ctype, body)
		if res.Response.StatusCode() >= 500 {
			t.Fatalf("%s %q: status %d", ctype, body, res.Response.StatusCode())
		}
		if failure != "" {
			t.Fatal(failure)
		}
	})
}

// checkDecoded returns what is wrong with a decoded form, or "".
func checkDecoded(validate *forms.Validator, form any) string {
	errs := validate.Check(form)
	v := reflect.ValueOf(form).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := strings.Split(v.Type().Field(i).Tag.Get("form"), ",")[0]
		var texts []string
		switch fv := v.Field(i); {
		case fv.Kind() == reflect.String:
			texts = []string{fv.String()}
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
			texts = fv.Interface().([]string)
		}
		for _, s := range texts {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' && r != '\t' && r != '\n' && r != '\r' }) {
				return fmt.Sprintf("%T.%s = %q after cleaning", form, name, s)
			}
			if !forms.Storable(s) && errs.Get(name) != "Remove the character shown as � (it cannot be saved)" {
				return fmt.Sprintf("%T.%s = %q has error %q", form, name, s, errs.Get(name))
			}
		}
	}
	return ""
}

// FuzzRequestFilter reads any query string as the requests list's filter, as the list and both exports
// do: a query string the portal cannot store is refused before the filter is read; otherwise every
// value kept is storable and one of those offered, reading the filter's own links gives the same
// filter, and a date range that is accepted is in order.
func FuzzRequestFilter(f *testing.F) {
	for _, q := range []string{
		"q=payroll&status=in_triage&sort=relevance",
		"q=%00",
		"q=caf%C3%A9&kind=enhancement&area=Payroll&nsig=3&region=2&organisation=7",
		"from-day=31&from-month=2&from-year=2027&to-day=1&to-month=1&to-year=2026",
		"from-day=29&from-month=2&from-year=2028&to-day=29&to-month=2&to-year=2028",
		"nsig=-1&region=99999999999999999999&organisation=0x10&sla=overdue",
		"status=%FF&kind=%1B&q=+++",
		"sort=newest&q=&sort=title",
		"q=%22quoted%22+-excluded+or+%3A*&q=second",
	} {
		f.Add(q)
	}
	a := &App{calendar: workday.New(), now: func() time.Time { return time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC) }}
	app := fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true})
	app.Use(a.refuseUnreadableURL)
	var ff requestFilterForm
	var filter request.Filter
	var errs forms.Errors
	app.Get("/requests", func(c *fiber.Ctx) error {
		ff = readRequestFilter(c)
		filter, errs = a.requestFilter(ff)
		return c.SendStatus(fiber.StatusNoContent)
	})
	f.Fuzz(func(t *testing.T, query string) {
		ff, filter, errs = requestFilterForm{}, request.Filter{}, nil
		res := serveFuzz(app, "GET", "/requests?"+requestLineQuery(query), "", nil)
		switch res.Response.StatusCode() {
		case fiber.StatusBadRequest:
			return // refused before the filter was read
		case fiber.StatusNoContent:
		default:
			t.Fatalf("%q: status %d", query, res.Response.StatusCode())
		}
		v := reflect.ValueOf(ff)
		for i := 0; i < v.NumField(); i++ {
			if s := v.Field(i).String(); !forms.Storable(s) {
				t.Fatalf("%q: filter field %s = %q", query, v.Type().Field(i).Name, s)
			}
		}
		if ff.Status != "" && !knownStatus(ff.Status) || !hasOption(kindOptions(), ff.Kind) || !hasOption(slaOptions, ff.SLA) ||
			!hasOption(sortOptions(ff.Query), ff.Sort) {
			t.Fatalf("%q: a choice not on offer was kept: %+v", query, ff)
		}
		if filter.NSIGID < 0 || filter.RegionID < 0 || filter.OrganisationID < 0 {
			t.Fatalf("%q: negative id in %+v", query, filter)
		}
		if !errs.Any() && !filter.RaisedFrom.IsZero() && !filter.RaisedTo.IsZero() && filter.RaisedTo.Before(filter.RaisedFrom) {
			t.Fatalf("%q: raised from %s to %s accepted", query, filter.RaisedFrom, filter.RaisedTo)
		}
		first := ff
		res = serveFuzz(app, "GET", "/requests?"+first.values().Encode(), "", nil)
		if res.Response.StatusCode() != fiber.StatusNoContent {
			t.Fatalf("%q: the filter's own link %q: status %d", query, first.values().Encode(), res.Response.StatusCode())
		}
		if ff != first {
			t.Fatalf("%q: read again from its link, the filter changed:\n%+v\n%+v", query, first, ff)
		}
	})
}

// requestLineQuery is query as it can come in a request line: bytes that cannot appear there raw
// (controls, space, '#', and any byte over 0x7f) percent-encoded, which decodes back to the same bytes.
func requestLineQuery(query string) string {
	var b strings.Builder
	for i := 0; i < len(query); i++ {
		if c := query[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzCommentRendering takes any comment as it arrives in a form (cleaned) through @mention parsing
// and onto the request page, in the timeline and back in the comment box: mentions are addresses
// the comment holds, and the page has the same HTML structure whatever the comment says, with the
// comment's text shown exactly.
func FuzzCommentRendering(f *testing.F) {
	for _, body := range []string{
		"Thanks @jo.bloggs@example.nhs.uk and @JO.BLOGGS@example.nhs.uk.",
		"<script>alert(1)</script>",
		"</textarea><img src=x onerror=alert(1)>",
		"</p><p class=\"x\">",
		"line one\r\nline two\n\nthree",
		"@a@b.cc@d.ee @x@y.z. @@@@ @-@-.aa",
		"=HYPERLINK(\"http://evil.example\")",
		"{{.Page}} {{template \"x\"}}",
		"\x00\xff\x1b]8;;http://evil.example\x1b\\",
		"&amp; &lt; &#0; &#x110000; &nbsp",
		"\ntextarea drops one leading newline",
	} {
		f.Add(body)
	}
	assets, err := NewAssets(public.FS)
	if err != nil {
		f.Fatal(err)
	}
	renderer, err := NewRenderer(views.FS, assets)
	if err != nil {
		f.Fatal(err)
	}
	page := func(body string) (string, error) {
		p := &requestShowPage{
			Page:        Page{Title: "ENH-2026-0001", CSRFToken: "token", User: &CurrentUser{ID: 1, Name: "Jo Bloggs"}},
			R:           &request.EnhancementRequest{},
			Full:        true,
			Timeline:    []timelineItem{{When: "4 December 2026", Who: "Jo Bloggs", Summary: "Comment", Detail: body, Comment: true}},
			CanComment:  true,
			CommentForm: forms.Comment{Body: body},
		}
		var buf bytes.Buffer
		err := renderer.Render(&buf, "requests/show", p)
		return buf.String(), err
	}
	baseline, err := page("PLACEHOLDER")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		body := forms.Clean(typed) // what cleanForm hands the handler
		if body == "" {
			return // a comment is required: an empty one is refused before it is shown
		}
		for _, m := range request.Mentions(body) {
			if !strings.Contains(strings.ToLower(body), "@"+m) || m != strings.ToLower(m) || strings.ContainsAny(m, " <>\"'\x00") {
				t.Fatalf("%q: mention %q", body, m)
			}
		}
		if ms := request.Mentions(body); len(ms) != len(slices.Compact(slices.Sorted(slices.Values(ms)))) {
			t.Fatalf("%q: repeated mentions %v", body, ms)
		}
		out, err := page(body)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if !utf8.ValidString(out) || strings.ContainsRune(out, 0) {
			t.Fatalf("%q: the page is not valid UTF-8 without NUL", body)
		}
		got, want := structure(out), structure(baseline)
		if !slices.Equal(got, want) {
			t.Fatalf("%q changes the page's HTML:\n%s", body, firstDifference(got, want))
		}
		normal := strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
		if texts := elementTexts(out, "p", "portal-timeline__detail"); len(texts) != 1 || texts[0] != normal {
			t.Fatalf("%q: the timeline shows %q", body, texts)
		}
		if texts := elementTexts(out, "textarea", ""); len(texts) != 1 || strings.TrimPrefix(texts[0], "\n") != strings.TrimPrefix(normal, "\n") {
			t.Fatalf("%q: the comment box holds %q", body, texts)
		}
	})
}

// structure is the page's tags and attribute names, in order: what a comment must never change.
func structure(page string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		if tt == html.TextToken || tt == html.CommentToken || tt == html.DoctypeToken {
			continue
		}
		tok := z.Token()
		s := tt.String() + " " + tok.Data
		for _, at := range tok.Attr {
			s += " " + at.Key
			if at.Key != "value" && at.Key != "content" {
				s += "=" + at.Val
			}
		}
		out = append(out, s)
	}
}

func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d: %s\nwant %s", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("%d tags, want %d", len(got), len(want))
}

// elementTexts is the text inside each element of tag whose class list holds class ("" for any).
func elementTexts(page, tag, class string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(page))
	depth := 0
	var cur strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.StartTagToken:
			tok := z.Token()
			if depth > 0 {
				depth++
				continue
			}
			if tok.Data == tag && (class == "" || slices.Contains(strings.Fields(attr(tok, "class")), class)) {
				depth = 1
				cur.Reset()
			}
		case html.EndTagToken:
			if depth > 0 {
				depth--
				if depth == 0 {
					out = append(out, cur.String())
				}
			}
		case html.TextToken:
			if depth > 0 {
				cur.WriteString(z.Token().Data)
			}
		}
	}
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// FuzzSafeNext: whatever the post-sign-in target, the redirect is "/" or a path that a browser reads
// as one on the portal, and checking it again keeps it.
func FuzzSafeNext(f *testing.F) {
	for _, next := range []string{"/requests?q=x", "/%09/evil.example", "/\\evil.example", "//evil.example",
		"/%2F%2Fevil.example", "https:evil.example", "java\nscript:alert(1)", "/%25%32%46%25%32%46evil", "/a/../..//evil",
		"/requests#//evil", "/\u3000/evil", "/%E3%80%80/evil", "/;//evil", "/?//evil"} {
		f.Add(next)
	}
	base, err := url.Parse("https://esr-portal.example.nhs.uk/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "/" {
			return
		}
		if !localPath(got) {
			t.Fatalf("safeNext(%q) = %q, not a local path", next, got)
		}
		for _, form := range []string{got, browserClean(got)} {
			u, err := url.Parse(form)
			if err != nil {
				t.Fatalf("safeNext(%q) = %q: %v", next, got, err)
			}
			if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme || r.User != nil {
				t.Fatalf("safeNext(%q) = %q leads to %s", next, got, r)
			}
		}
		if again := safeNext(got); again != got {
			t.Fatalf("safeNext(%q) = %q, but safeNext(%q) = %q", next, got, got, again)
		}
	})
}
