package app

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"text/template/parse"
	"time"

	"github.com/nhs-esr/portal/app/identity"
)

// Option is one choice of a radios, checkboxes or select field.
type Option struct {
	Value string
	Label string
	Hint  string // shown under the choice (radios and checkboxes only)
}

// SummaryRow is one row of a summary list. With a ChangeHref the row has a "Change" link, whose
// visually hidden end is ChangeLabel (the Key when empty), so that it reads e.g. "Change title".
type SummaryRow struct {
	Key         string
	Value       string
	ChangeHref  string
	ChangeLabel string
}

// TaskStatus is where one part of a multi-part form stands, as the task list shows it.
type TaskStatus string

// The statuses a task list shows.
const (
	TaskCompleted      TaskStatus = "Completed"
	TaskIncomplete     TaskStatus = "Incomplete"
	TaskCannotStartYet TaskStatus = "Cannot start yet"
)

// TaskItem is one row of a task list. A task that cannot start yet is shown without its link.
type TaskItem struct {
	Name   string
	Href   string
	Hint   string
	Status TaskStatus
}

// ErrorPage is what views/errors/error.html receives.
type ErrorPage struct {
	Page
	Status  int
	Heading string
	Message string
	Retry   *RetryForm // a form that could not be saved because the database was unavailable
}

// NewErrorPage returns the error page for an HTTP status with the portal's standard heading and message;
// the caller may replace the message with a more specific one.
func NewErrorPage(p Page, status int) ErrorPage {
	e := ErrorPage{Page: p, Status: status}
	switch status {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		e.Heading = "The portal could not read what you sent"
		e.Message = "Go back, reload the page and try again. If it happens again, contact the ESR central team."
	case http.StatusRequestEntityTooLarge:
		e.Heading = "What you sent is too large"
		e.Message = "A supporting document can be up to 5 MB. Go back and choose a smaller file, or shorten what you typed."
	case http.StatusRequestHeaderFieldsTooLarge:
		e.Heading = "The portal could not read your request"
		e.Message = "Your browser sent more than the portal accepts, usually because of old cookies. Clear this site's cookies, then try again."
	case http.StatusForbidden:
		e.Heading = "You do not have permission to see this page"
		e.Message = "Your roles in the portal do not allow this. If you think they should, ask your organisation's portal administrator."
	case http.StatusNotFound:
		e.Heading = "Page not found"
		e.Message = "If you typed the web address, check it is correct. If you pasted it, check you copied the entire address."
	case http.StatusConflict:
		e.Heading = "Someone else changed this record"
		e.Message = "It was changed after you opened it, so your changes were not saved. Go back, reload the page to see the latest version, and make your changes again."
	case http.StatusUnprocessableEntity:
		e.Heading = "The portal could not use what you sent"
		e.Message = "Go back and try again. If it happens again, contact the ESR central team."
	case http.StatusTooManyRequests:
		e.Heading = "Too many attempts"
		e.Message = "Wait a few minutes, then try again."
	case http.StatusServiceUnavailable:
		e.Heading = "Sorry, the service is unavailable"
		e.Message = "You will be able to use the portal again in a moment. Nothing you have saved before is lost."
	default:
		e.Heading = "Sorry, there is a problem with the service"
		e.Message = "Try again later. If it happens again, contact the ESR central team and give them the request ID below."
	}
	if e.Title == "" {
		e.Title = e.Heading
	}
	return e
}

// Renderer renders the portal's pages. Each page file has its own template set (the base layout, every
// partial and the page), parsed and checked at start-up.
type Renderer struct {
	pages map[string]*template.Template // by name, e.g. "errors/error"
}

// NewRenderer parses every template of views: layouts/*.html and partials/*.html are shared, and every
// other .html file is a page named by its path without ".html" ("pages/accessibility"). A page defines
// "content" and may define "beforeContent" (a back link). A template that does not parse, that
// html/template cannot escape, or that names a public file that does not exist, fails start-up with an
// error naming the file.
func NewRenderer(views fs.FS, assets *Assets) (*Renderer, error) {
	if assets == nil {
		return nil, errors.New("new renderer: assets are required")
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		return nil, fmt.Errorf("new renderer: load the Europe/London time zone: %w", err)
	}
	shared := template.New("").Funcs(templateFuncs(assets, london))
	var pageFiles []string
	err = fs.WalkDir(views, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(name) != ".html" {
			return nil
		}
		if strings.HasPrefix(name, "layouts/") || strings.HasPrefix(name, "partials/") {
			return parseFile(shared, views, name)
		}
		pageFiles = append(pageFiles, name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("new renderer: %w", err)
	}
	if shared.Lookup("base") == nil {
		return nil, errors.New(`new renderer: no layout defines the "base" template (views/layouts/base.html)`)
	}
	r := &Renderer{pages: make(map[string]*template.Template, len(pageFiles))}
	for _, file := range pageFiles {
		t, err := shared.Clone()
		if err != nil {
			return nil, fmt.Errorf("new renderer: %w", err)
		}
		if err := parseFile(t, views, file); err != nil {
			return nil, fmt.Errorf("new renderer: %w", err)
		}
		if err := checkPage(t, file, assets); err != nil {
			return nil, fmt.Errorf("new renderer: %w", err)
		}
		r.pages[strings.TrimSuffix(file, ".html")] = t
	}
	return r, nil
}

// Render writes the page name with data, the page's own struct embedding Page. The page is rendered
// in full before anything is written, so a failure never sends half a page.
func (r *Renderer) Render(w io.Writer, name string, data any) error {
	page, err := r.RenderBytes(name, data, contentBufferSize)
	if err != nil {
		return err
	}
	if _, err := w.Write(page); err != nil {
		return fmt.Errorf("render %q: write: %w", name, err)
	}
	return nil
}

// RenderBytes renders the page name with data, as Render does, into a buffer with room for size bytes
// to start with, and returns it.
func (r *Renderer) RenderBytes(name string, data any, size int) ([]byte, error) {
	t, ok := r.pages[name]
	if !ok {
		return nil, fmt.Errorf("render %q: no such page", name)
	}
	var buf bytes.Buffer
	buf.Grow(size)
	if err := t.ExecuteTemplate(&buf, "base", data); err != nil {
		return nil, fmt.Errorf("render %q: %w", name, err)
	}
	return buf.Bytes(), nil
}

// RenderParts renders only the parts of the page name that come from its own file — what goes before
// the main content (a back link) and the content — for the content cache (pagecache.go), which shows
// them again later in the layout of another visit through the page "pages/cached".
func (r *Renderer) RenderParts(name string, data any) (cachedContent, error) {
	t, ok := r.pages[name]
	if !ok {
		return cachedContent{}, fmt.Errorf("render %q: no such page", name)
	}
	var before, content bytes.Buffer
	content.Grow(contentBufferSize)
	if t.Lookup("beforeContent") != nil {
		if err := t.ExecuteTemplate(&before, "beforeContent", data); err != nil {
			return cachedContent{}, fmt.Errorf("render %q: %w", name, err)
		}
	}
	if err := t.ExecuteTemplate(&content, "content", data); err != nil {
		return cachedContent{}, fmt.Errorf("render %q: %w", name, err)
	}
	// The HTML was escaped by the page's own templates as it was rendered.
	return cachedContent{Before: template.HTML(before.String()), Content: template.HTML(content.String())}, nil //nolint:gosec
}

// contentBufferSize is room for most pages as rendered (a list of 25 requests is ~45 KB of content),
// so that the buffer is not grown and copied several times on the way; layoutBufferSize is room for
// what the layout adds around a page's content (~10 KB).
const (
	contentBufferSize = 48 << 10
	layoutBufferSize  = 16 << 10
)

func parseFile(t *template.Template, views fs.FS, name string) error {
	src, err := fs.ReadFile(views, name)
	if err != nil {
		return err
	}
	if _, err := t.New(name).Parse(string(src)); err != nil {
		return fmt.Errorf("parse %s: %w", name, err)
	}
	return nil
}

// checkPage finds at start-up what would otherwise fail only when the page is shown: a missing
// "content" template, an "asset" call naming a file that does not exist, and HTML that html/template
// cannot escape.
func checkPage(t *template.Template, file string, assets *Assets) error {
	if t.Lookup("content") == nil {
		return fmt.Errorf(`%s: defines no "content" template`, file)
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		var missing error
		walkTemplate(tt.Tree.Root, func(cmd *parse.CommandNode) {
			if missing != nil || len(cmd.Args) != 2 {
				return
			}
			fn, ok := cmd.Args[0].(*parse.IdentifierNode)
			if !ok || fn.Ident != "asset" {
				return
			}
			if s, ok := cmd.Args[1].(*parse.StringNode); ok {
				if _, err := assets.url(s.Text); err != nil {
					missing = fmt.Errorf("%s (template %q): %w", file, tt.Name(), err)
				}
			}
		})
		if missing != nil {
			return missing
		}
	}
	// html/template escapes a template set the first time it runs. Running it with no data does that
	// now: an escaping error is returned as *template.Error, while the errors of running without data
	// are expected and say nothing about the templates.
	var escapeErr *template.Error
	if err := t.ExecuteTemplate(io.Discard, "base", nil); errors.As(err, &escapeErr) {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// walkTemplate calls fn for every command in the tree under node.
func walkTemplate(node parse.Node, fn func(*parse.CommandNode)) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, fn)
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkTemplate(c, fn)
		}
	case *parse.CommandNode:
		fn(n)
		for _, arg := range n.Args {
			walkTemplate(arg, fn)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(*parse.CommandNode)) {
	walkTemplate(b.Pipe, fn)
	walkTemplate(b.List, fn)
	walkTemplate(b.ElseList, fn)
}

// selectOptions writes a select's options, the one whose value is value selected, each value and label
// escaped. It is what ranging over them in the template wrote, without the template's reflection for
// every option: a filter of the 600 organisations that use ESR is on every view of the requests list.
func selectOptions(opts []Option, value string) template.HTML {
	var b strings.Builder
	for _, o := range opts {
		b.WriteString("\n    <option value=\"")
		b.WriteString(template.HTMLEscapeString(o.Value))
		b.WriteByte('"')
		if o.Value == value {
			b.WriteString(" selected")
		}
		b.WriteByte('>')
		b.WriteString(template.HTMLEscapeString(o.Label))
		b.WriteString("</option>")
	}
	return template.HTML(b.String())
}

// templateFuncs are the functions every template may call:
//
//	asset "css/portal.css"        the fingerprinted URL of a public file
//	dict "Name" "title" "Hint" …  a map of CamelCase keys to values, the argument of every partial
//	add 1 2, sub 3 1              integer arithmetic
//	join .Roles ", "              strings.Join
//	contains .Values "email"      whether a []string holds a string
//	upper "enh"                   strings.ToUpper
//	tokens "a" "" "b"             its non-empty arguments joined with spaces ("a b"): class lists and
//	                              aria-describedby
//	formatDate .At                "21 November 2026" in Europe/London; "" for the zero time
//	formatDateTime .At            "21 November 2026 at 3:04pm" in Europe/London; "" for the zero time
//	option "v" "Label" ["Hint"]   an Option; options (option …) (option …) makes an []Option
//	selectOptions .Options "v"    a select's <option> elements, the one whose value is "v" selected
//	thousands 9783                "9,783"
//	requestsLink .Filter          the requests list filtered by a request.Filter (a dashboard figure's link)
//	summaryRow "Key" "Value" ["/change/href" ["change label"]]
//	                              a SummaryRow; summaryRows (summaryRow …) … makes a []SummaryRow
func templateFuncs(assets *Assets, london *time.Location) template.FuncMap {
	return template.FuncMap{
		"asset":         assets.url,
		"dict":          dict,
		"selectOptions": selectOptions,
		"thousands":     thousands,
		"add":           func(a, b int) int { return a + b },
		"sub":           func(a, b int) int { return a - b },
		"join":          strings.Join,
		"lower":         strings.ToLower,
		"contains": func(list []string, s string) bool {
			return slices.Contains(list, s)
		},
		"upper":      strings.ToUpper,
		"tokens":     tokens,
		"countLabel": countLabel,
		"formatDate": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(london).Format("2 January 2006")
		},
		"roleTitle":     identity.RoleTitle,
		"roleTitles":    roleTitles,
		"accountStatus": accountStatus,
		"decisionWords": decisionWords,
		"formatDateTime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(london).Format("2 January 2006 at 3:04pm")
		},
		"option": func(value, label string, hint ...string) Option {
			return Option{Value: value, Label: label, Hint: strings.Join(hint, " ")}
		},
		"options": func(opts ...Option) []Option { return opts },
		"summaryRow": func(key, value string, change ...string) (SummaryRow, error) {
			row := SummaryRow{Key: key, Value: value}
			switch len(change) {
			case 0:
			case 1:
				row.ChangeHref = change[0]
			case 2:
				row.ChangeHref, row.ChangeLabel = change[0], change[1]
			default:
				return row, fmt.Errorf("summaryRow %q: at most a change link and its label may follow the value", key)
			}
			return row, nil
		},
		"summaryRows":  func(rows ...SummaryRow) []SummaryRow { return rows },
		"requestsLink": requestsLink,
	}
}

// dict builds the map a partial receives from alternating keys and values.
func dict(pairs ...any) (map[string]any, error) {
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("dict: %d arguments, want key-value pairs", len(pairs))
	}
	m := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		key, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is a %T, want a string", pairs[i], pairs[i])
		}
		m[key] = pairs[i+1]
	}
	return m, nil
}

// tokens joins the non-empty strings among its arguments with single spaces; other values (nil from a
// missing dict key, false from an "and") are skipped.
func tokens(parts ...any) string {
	var out []string
	for _, p := range parts {
		if s, ok := p.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// countLabel is what a count of n is of: "requests awaiting a decision" stays plural unless n is 1,
// when its first "requests" becomes "request".
func countLabel(n int, label string) string {
	if n != 1 {
		return label
	}
	words := strings.Split(label, " ")
	for i, w := range words {
		if w == "requests" {
			words[i] = "request"
			break
		}
	}
	return strings.Join(words, " ")
}
