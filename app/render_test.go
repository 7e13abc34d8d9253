package app

import (
	"bytes"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nhs-esr/portal/forms"
	"github.com/nhs-esr/portal/public"
	"github.com/nhs-esr/portal/views"
)

// examplePage is what views/pages/example.html receives.
type examplePage struct {
	Page
	Form      exampleForm
	Regions   []Option
	Rows      []SummaryRow
	Tasks     []TaskItem
	Submitted time.Time
}

type exampleForm struct {
	Title, Email, Description, Priority, Region string
	ReviewDay, ReviewMonth, ReviewYear          string
	Channels                                    []string
}

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	assets, err := NewAssets(public.FS)
	if err != nil {
		t.Fatalf("NewAssets: %v", err)
	}
	r, err := NewRenderer(views.FS, assets)
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

func render(t *testing.T, r *Renderer, name string, data any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Render(&buf, name, data); err != nil {
		t.Fatalf("Render(%q): %v", name, err)
	}
	return buf.String()
}

func exampleWithErrors() examplePage {
	var errs forms.Errors
	errs.Add("title", "Enter a title")
	errs.Add("email", "Enter an email address in the correct format, like name@example.com")
	errs.Add("password", "Password must be 12 characters or more")
	errs.Add("description", "Description must be 2000 characters or fewer")
	errs.Add("priority", "Select how urgent it is")
	errs.Add("channels", "Select who it affects")
	errs.Add("region", "Select a region")
	errs.Add("review_date-day", "Review date must be a real date")
	return examplePage{
		Page: Page{
			Title:     "Raise an enhancement request",
			User:      &CurrentUser{Name: "Priya Shah <Trust>", Roles: []string{"requester"}},
			Nav:       []NavItem{{Label: "Home", Href: "/"}, {Label: "Requests", Href: "/requests", Current: true}},
			CSRFToken: "csrf-token-123",
			Flash:     "Your draft was saved",
			RequestID: "req-1",
			Errors:    errs,
			Path:      "/requests",
		},
		Form: exampleForm{
			Title:       "Bulk <upload> of competences",
			Email:       "priya.shah@nhs",
			Description: "Line one\nLine two",
			Priority:    "medium",
			Region:      "london",
			ReviewDay:   "31",
			ReviewMonth: "2",
			ReviewYear:  "2027",
			Channels:    []string{"managers", "payroll"},
		},
		Regions: []Option{{Value: "", Label: "Choose a region"}, {Value: "london", Label: "London"}, {Value: "wales", Label: "Wales"}},
		Rows: []SummaryRow{
			{Key: "Title", Value: "Bulk upload", ChangeHref: "/example#title", ChangeLabel: "title"},
			{Key: "Submitted by", Value: "Priya Shah"},
		},
		Tasks: []TaskItem{
			{Name: "Benefits", Href: "/bj/benefits", Status: TaskCompleted},
			{Name: "Costs", Href: "/bj/costs", Hint: "Staff time and money", Status: TaskIncomplete},
			{Name: "Sign-off", Href: "/bj/sign-off", Status: TaskCannotStartYet},
		},
		Submitted: time.Date(2026, 6, 1, 23, 30, 0, 0, time.UTC),
	}
}

// tag returns the first start tag matching pattern (a regular expression over the whole tag).
func tag(t *testing.T, html, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindString(html)
	if m == "" {
		t.Fatalf("no tag matches %s", pattern)
	}
	return m
}

func TestRenderExampleWithErrors(t *testing.T) {
	r := newTestRenderer(t)
	html := render(t, r, "pages/example", exampleWithErrors())

	wants := []struct{ name, want string }{
		{"title has the Error: prefix", "<title>Error: Raise an enhancement request – ESR Enhancement Portal</title>"},
		{"error summary", `<h2 class="nhsuk-error-summary__heading">There is a problem</h2>`},
		{"error summary is an alert", `<div class="nhsuk-error-summary" data-module="nhsuk-error-summary">
  <div role="alert">`},
		{"summary link to title", `<a href="#title">Enter a title</a>`},
		{"summary link to email", `<a href="#email">Enter an email address in the correct format, like name@example.com</a>`},
		{"summary link to password", `<a href="#password">`},
		{"summary link to description", `<a href="#description">`},
		{"summary link to priority", `<a href="#priority">`},
		{"summary link to channels", `<a href="#channels">`},
		{"summary link to region", `<a href="#region">`},
		{"summary link to date", `<a href="#review_date-day">`},
		{"inline error with hidden prefix", `<span class="nhsuk-error-message" id="title-error"><span class="nhsuk-u-visually-hidden">Error:</span> Enter a title</span>`},
		{"inline error on radios", `<span class="nhsuk-error-message" id="priority-error"><span class="nhsuk-u-visually-hidden">Error:</span> Select how urgent it is</span>`},
		{"inline error on date", `id="review_date-error"><span class="nhsuk-u-visually-hidden">Error:</span> Review date must be a real date</span>`},
		{"form group in error", `<div class="nhsuk-form-group nhsuk-form-group--error">`},
		{"title re-filled and escaped", `value="Bulk &lt;upload&gt; of competences"`},
		{"email re-filled", `value="priya.shah@nhs"`},
		{"description re-filled", ">Line one\nLine two</textarea>"},
		{"radio re-checked", `id="priority-2" name="priority" type="radio" value="medium" checked>`},
		{"radio item hint", `aria-describedby="priority-item-hint"`},
		{"checkbox re-checked", `id="channels-2" name="channels" type="checkbox" value="managers" checked>`},
		{"second checkbox re-checked", `id="channels-3" name="channels" type="checkbox" value="payroll" checked>`},
		{"select re-selected", `<option value="london" selected>London</option>`},
		{"date re-filled", `id="review_date-day" name="review_date-day" type="text" inputmode="numeric" value="31">`},
		{"date year re-filled", `name="review_date-year" type="text" inputmode="numeric" value="2027">`},
		{"radios fieldset described by error", `<fieldset class="nhsuk-fieldset" aria-describedby="priority-error">`},
		{"checkboxes fieldset described by hint and error", `<fieldset class="nhsuk-fieldset" aria-describedby="channels-hint channels-error">`},
		{"date fieldset", `<fieldset class="nhsuk-fieldset" role="group" aria-describedby="review_date-hint review_date-error">`},
		{"select described by error", `<select class="nhsuk-select nhsuk-select--error" id="region" name="region" aria-describedby="region-error">`},
		{"character count", `data-module="nhsuk-character-count" data-maxlength="2000"`},
		{"character count message", `<div class="nhsuk-hint nhsuk-character-count__message" id="description-info">You can enter up to 2000 characters</div>`},
		{"csrf field", `<input type="hidden" name="_csrf" value="csrf-token-123">`},
		{"flash banner", `<p class="nhsuk-notification-banner__heading">Your draft was saved</p>`},
		{"flash leaves focus to the error summary", `role="alert" data-disable-auto-focus="true" aria-labelledby="notification-banner-success-title"`},
		{"important banner", `<h2 class="nhsuk-notification-banner__title" id="notification-banner-important-title">Important</h2>`},
		{"user name escaped", `Priya Shah &lt;Trust&gt;`},
		{"sign-out posts with csrf", `<form class="nhsuk-header__account-form" action="/sign-out" method="post" novalidate><input type="hidden" name="_csrf" value="csrf-token-123">`},
		{"current navigation", `<a class="nhsuk-header__navigation-link" href="/requests" aria-current="page">`},
		{"other navigation", `<a class="nhsuk-header__navigation-link" href="/">Home</a>`},
		{"phase banner", `Beta</strong>`},
		{"skip link", `href="#maincontent">Skip to main content</a>`},
		{"main", `<main class="nhsuk-main-wrapper" id="maincontent">`},
		{"back link", `<a class="nhsuk-back-link" href="/requests">Back</a>`},
		{"tag", `<strong class="nhsuk-tag nhsuk-tag--aqua-green">Aqua-green</strong>`},
		{"summary change link", `<a class="nhsuk-link" href="/example#title">Change<span class="nhsuk-u-visually-hidden"> title</span></a>`},
		{"summary row without change", `<div class="nhsuk-summary-list__row nhsuk-summary-list__row--no-actions">`},
		{"summaryRow builder", `<a class="nhsuk-link" href="/example#area">Change<span class="nhsuk-u-visually-hidden"> functional area</span></a>`},
		{"primary button", `<button class="nhsuk-button" data-module="nhsuk-button" data-prevent-double-click="true" type="submit">Submit request</button>`},
		{"secondary button", `<button class="nhsuk-button nhsuk-button--secondary" data-module="nhsuk-button" data-prevent-double-click="true" type="submit" name="action" value="draft">Save as draft</button>`},
		{"warning button", `nhsuk-button--warning`},
		{"link button", `<a class="nhsuk-button" data-module="nhsuk-button" href="/requests/new" role="button" draggable="false">Raise a request</a>`},
		{"pagination", `<a class="nhsuk-pagination__link nhsuk-pagination__link--next" href="/example?page=3" rel="next">`},
		{"task completed", `aria-describedby="justification-1-status">Benefits</a>`},
		{"task hint", `aria-describedby="justification-2-hint justification-2-status">Costs</a>`},
		{"task cannot start has no link", `<div>Sign-off</div>`},
		{"panel", `<div class="nhsuk-panel__body">Your reference number<br><strong>ENH-2026-0042</strong></div>`},
		{"date in London summer time", `Submitted 2 June 2026 (2 June 2026 at 12:30am).`},
		{"footer", `<a class="nhsuk-footer__list-item-link" href="/accessibility">Accessibility statement</a>`},
		{"script", `<script type="module" src="/public/js/portal.js?v=`},
		{"stylesheet", `<link rel="stylesheet" href="/public/vendor/nhsuk/nhsuk-frontend.min.css?v=`},
	}
	for _, tc := range wants {
		if !strings.Contains(html, tc.want) {
			t.Errorf("%s: page lacks %q", tc.name, tc.want)
		}
	}

	inputs := []struct{ pattern, describedBy string }{
		{`<input[^>]* id="title"[^>]*>`, `aria-describedby="title-hint title-error"`},
		{`<input[^>]* id="email"[^>]*>`, `aria-describedby="email-error"`},
		{`<input[^>]* id="password"[^>]*>`, `aria-describedby="password-hint password-error"`},
		{`<textarea[^>]* id="description"[^>]*>`, `aria-describedby="description-info description-hint description-error"`},
	}
	for _, in := range inputs {
		got := tag(t, html, in.pattern)
		if !strings.Contains(got, in.describedBy) {
			t.Errorf("%s lacks %s", got, in.describedBy)
		}
		if !strings.Contains(got, "error") {
			t.Errorf("%s is not marked as in error", got)
		}
	}
	if got := tag(t, html, `<input[^>]* id="email"[^>]*>`); !strings.Contains(got, `spellcheck="false"`) || !strings.Contains(got, `type="email"`) {
		t.Errorf("email input %s: want type=email and spellcheck=false", got)
	}
	if got := tag(t, html, `<input[^>]* id="title"[^>]*>`); !strings.Contains(got, `spellcheck="true"`) {
		t.Errorf("title input %s: want spellcheck=true", got)
	}
	if got := tag(t, html, `<input[^>]*type="password"[^>]*>`); strings.Contains(got, "value=") {
		t.Errorf("password input shows a value: %s", got)
	}
	if n := strings.Count(html, `<span class="nhsuk-u-visually-hidden">Error:</span>`); n != 8 {
		t.Errorf("%d inline errors, want 8", n)
	}
	if strings.Count(html, `aria-current`) != 1 {
		t.Errorf("want exactly one aria-current")
	}
	if got := tag(t, html, `<input[^>]* id="agree"[^>]*>`); !strings.Contains(got, "checked") {
		t.Errorf("inline radio %s: want checked", got)
	}
}

func TestRenderTitleAndErrorSummary(t *testing.T) {
	r := newTestRenderer(t)
	tests := []struct {
		name      string
		errors    forms.Errors
		wantTitle string
		summary   bool
	}{
		{"no errors", nil, "<title>Raise an enhancement request – ESR Enhancement Portal</title>", false},
		{"with errors", forms.Errors{{Field: "title", Message: "Enter a title"}}, "<title>Error: Raise an enhancement request – ESR Enhancement Portal</title>", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := exampleWithErrors()
			p.Errors = tc.errors
			p.Flash = ""
			html := render(t, r, "pages/example", p)
			if !strings.Contains(html, tc.wantTitle) {
				t.Errorf("want %s", tc.wantTitle)
			}
			if got := strings.Contains(html, "nhsuk-error-summary"); got != tc.summary {
				t.Errorf("error summary shown = %v, want %v", got, tc.summary)
			}
			if strings.Contains(html, "nhsuk-notification-banner--success") {
				t.Errorf("success banner shown without a flash")
			}
		})
	}
}

func TestRenderSignedOut(t *testing.T) {
	r := newTestRenderer(t)
	html := render(t, r, "pages/accessibility", Page{Title: "Accessibility statement"})
	for _, absent := range []string{"Sign out", "nhsuk-header__navigation", "nhsuk-error-summary", "_csrf"} {
		if strings.Contains(html, absent) {
			t.Errorf("signed-out page contains %q", absent)
		}
	}
	for _, want := range []string{"Accessibility statement for the ESR Enhancement Portal", "WCAG", "Enforcement procedure",
		"Equality and Human Rights Commission", "Equality Commission for Northern Ireland", "21 November 2026"} {
		if !strings.Contains(html, want) {
			t.Errorf("accessibility statement lacks %q", want)
		}
	}
}

func TestRenderErrorPages(t *testing.T) {
	r := newTestRenderer(t)
	tests := []struct {
		status  int
		heading string
	}{
		{http.StatusForbidden, "You do not have permission to see this page"},
		{http.StatusNotFound, "Page not found"},
		{http.StatusConflict, "Someone else changed this record"},
		{http.StatusUnprocessableEntity, "The portal could not use what you sent"},
		{http.StatusInternalServerError, "Sorry, there is a problem with the service"},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			p := NewErrorPage(Page{RequestID: "abc-123"}, tc.status)
			html := render(t, r, "errors/error", p)
			for _, want := range []string{
				"<title>" + tc.heading + " – ESR Enhancement Portal</title>",
				"<h1>" + tc.heading + "</h1>",
				"Error " + strconv.Itoa(tc.status),
				`Request ID: <span class="portal-request-id">abc-123</span>`,
			} {
				if !strings.Contains(html, want) {
					t.Errorf("lacks %q", want)
				}
			}
		})
	}
}

// TestPagesAreSelfContained checks every page for what the content security policy would block or
// what would need the network: inline scripts and styles, and resources from elsewhere.
func TestPagesAreSelfContained(t *testing.T) {
	r := newTestRenderer(t)
	pages := map[string]any{
		"pages/example":       exampleWithErrors(),
		"pages/accessibility": Page{Title: "Accessibility statement"},
		"errors/error":        NewErrorPage(Page{}, http.StatusNotFound),
	}
	forbidden := []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`),        // an inline script
		regexp.MustCompile(`<script(?:\s(?:[^s>]|s[^r])*)?>`), // a script without src
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`(?:src|<link[^>]*href)="(?:https?:)?//`),
	}
	for name, data := range pages {
		html := render(t, r, name, data)
		for _, re := range forbidden {
			if m := re.FindString(html); m != "" {
				t.Errorf("%s contains %q", name, m)
			}
		}
		if !strings.HasPrefix(html, "<!DOCTYPE html>\n<html lang=\"en\">") {
			t.Errorf("%s does not start with the doctype and html lang", name)
		}
	}
}

// TestViewsHaveNoInlineScriptOrStyle reads every template for what the content security policy blocks.
func TestViewsHaveNoInlineScriptOrStyle(t *testing.T) {
	forbidden := []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s(?:[^s>]|s[^r])*)?>`), // a script without src
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`javascript:`),
	}
	err := fs.WalkDir(views.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(views.FS, name)
		if err != nil {
			return err
		}
		for _, re := range forbidden {
			if m := re.Find(src); m != nil {
				t.Errorf("%s contains %q", name, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRenderUnknownPage(t *testing.T) {
	r := newTestRenderer(t)
	var buf bytes.Buffer
	if err := r.Render(&buf, "pages/nope", Page{}); err == nil {
		t.Fatal("want an error for an unknown page")
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes for an unknown page", buf.Len())
	}
}

func TestRenderFailureWritesNothing(t *testing.T) {
	r := newTestRenderer(t)
	var buf bytes.Buffer
	// The example page needs fields a bare Page lacks, so it fails part-way through.
	if err := r.Render(&buf, "pages/example", Page{Title: "x"}); err == nil {
		t.Fatal("want an error")
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes of a failed page", buf.Len())
	}
}

// viewsWith is the real views with files replaced (or removed, for "").
func viewsWith(t *testing.T, changes map[string]string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(views.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(views.FS, name)
		m[name] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range changes {
		if src == "" {
			delete(m, name)
			continue
		}
		m[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return m
}

func TestNewRendererFailsFast(t *testing.T) {
	assets, err := NewAssets(public.FS)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		changes map[string]string
		want    string
	}{
		{"parse error names the file", map[string]string{"requests/show.html": `{{define "content"}}{{if}}{{end}}`}, "requests/show.html"},
		{"unclosed action", map[string]string{"requests/show.html": `{{define "content"}}{{.Title{{end}}`}, "requests/show.html"},
		{"unknown function", map[string]string{"requests/show.html": `{{define "content"}}{{shout .Title}}{{end}}`}, "requests/show.html"},
		{"broken partial", map[string]string{"partials/tag.html": `{{define "tag"}}{{range}}{{end}}`}, "partials/tag.html"},
		{"escaping error", map[string]string{"requests/show.html": `{{define "content"}}<a {{if .Title}}href="{{.Title}}{{end}}">x</a>{{end}}`}, "requests/show.html"},
		{"unknown asset", map[string]string{"requests/show.html": `{{define "content"}}<img src="{{asset "images/nope.png"}}" alt="">{{end}}`}, "images/nope.png"},
		{"no content", map[string]string{"requests/show.html": `<p>hello</p>`}, `requests/show.html: defines no "content"`},
		{"no layout", map[string]string{"layouts/base.html": ""}, `"base"`},
		{"unknown partial", map[string]string{"requests/show.html": `{{define "content"}}{{template "nope" .}}{{end}}`}, "requests/show.html"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRenderer(viewsWith(t, tc.changes), assets)
			if err == nil {
				t.Fatal("NewRenderer succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}

	r, err := NewRenderer(viewsWith(t, map[string]string{"requests/show.html": `{{define "content"}}<p>{{.Title}}</p>{{end}}`}), assets)
	if err != nil {
		t.Fatalf("a good extra page: %v", err)
	}
	if html := render(t, r, "requests/show", Page{Title: "ENH-2026-0001"}); !strings.Contains(html, "<p>ENH-2026-0001</p>") {
		t.Errorf("extra page not rendered: %s", html)
	}
}

func TestTemplateFuncs(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	funcs := templateFuncs(&Assets{}, london)
	formatDate := funcs["formatDate"].(func(time.Time) string)
	formatDateTime := funcs["formatDateTime"].(func(time.Time) string)
	tests := []struct {
		at             time.Time
		date, dateTime string
	}{
		{time.Time{}, "", ""},
		{time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), "5 January 2026", "5 January 2026 at 9:00am"},
		{time.Date(2026, 7, 31, 23, 15, 0, 0, time.UTC), "1 August 2026", "1 August 2026 at 12:15am"},
		{time.Date(2026, 11, 21, 15, 4, 0, 0, time.UTC), "21 November 2026", "21 November 2026 at 3:04pm"},
	}
	for _, tc := range tests {
		if got := formatDate(tc.at); got != tc.date {
			t.Errorf("formatDate(%v) = %q, want %q", tc.at, got, tc.date)
		}
		if got := formatDateTime(tc.at); got != tc.dateTime {
			t.Errorf("formatDateTime(%v) = %q, want %q", tc.at, got, tc.dateTime)
		}
	}

	if _, err := dict("odd"); err == nil {
		t.Error("dict with an odd number of arguments: want an error")
	}
	if _, err := dict(1, "x"); err == nil {
		t.Error("dict with a non-string key: want an error")
	}
	if got := tokens("a", nil, "", false, "b"); got != "a b" {
		t.Errorf("tokens = %q, want %q", got, "a b")
	}
}
