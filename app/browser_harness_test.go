package app

// The browser harness: the real portal served on a loopback port, driven by headless Chromium through
// chromedp, with every page it shows checked by axe-core. The tests are in browser_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/config"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/migrations"
)

const (
	// browserTestTimeout bounds one browser test, Chromium included: when it passes, the browser is
	// stopped and the next step fails with the context's error.
	browserTestTimeout = 90 * time.Second
	// stepTimeout bounds one step (a click, a query), so that a selector that never matches fails with
	// its name rather than at the end of the whole test.
	stepTimeout = 20 * time.Second
	// screenshotsEnv names a directory: when set, every page the browser tests visit is saved there as
	// a full-page PNG.
	screenshotsEnv = "PORTAL_SCREENSHOTS"
	// axePath is axe-core, installed by `make assets` (npm ci), relative to this package's directory.
	axePath = "../node_modules/axe-core/axe.min.js"
)

// chromiums limits the tests running browsers at once: the test machine has two cores.
var chromiums = make(chan struct{}, 2)

// testsWithBrowsers holds the tests that have a slot of chromiums.
var testsWithBrowsers sync.Map

// livePortal is the whole portal on a fresh database seeded with the demo data, served over HTTP on a
// loopback port until the test ends.
type livePortal struct {
	baseURL  string
	accounts []seed.Account // the demo accounts, one per role, all with seed.DemoPassword
	db       *bun.DB        // for tests that prepare with the domain what the pages they drive do not make

	sealer *identity.Sealer

	stepsMu sync.Mutex
	steps   map[string]int64 // per account, the time step of the last passcode typed (each is used once)
}

// nextPasscode returns a passcode of the demo authenticator for the account that has not been used,
// waiting for the next time step when the one after now has been used too.
func (p *livePortal) nextPasscode(t *testing.T, email string) string {
	t.Helper()
	p.stepsMu.Lock()
	defer p.stepsMu.Unlock()
	if p.steps == nil {
		p.steps = map[string]int64{}
	}
	now := time.Now().Unix() / 30
	step := max(now, p.steps[email]+1)
	if step > now+1 { // accepted only within a step of now: wait
		time.Sleep(time.Until(time.Unix((step-1)*30, 0)))
	}
	p.steps[email] = step
	code, err := identity.CodeAt(seed.DemoTOTPSecret, time.Unix(step*30, 0))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func startLivePortal(t *testing.T) *livePortal {
	t.Helper()
	tdb := dbtest.New(t)
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
	accounts, err := seed.Demo(t.Context(), tdb.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Requests(t.Context(), tdb.DB, time.Now()); err != nil {
		t.Fatal(err)
	}
	sealer, err := identity.NewSealer(cfg.TOTPKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.DemoTwoFactor(t.Context(), tdb.DB, sealer, time.Now(), accounts); err != nil {
		t.Fatal(err)
	}
	// Warnings and errors (a 500 logs its cause) go to the test log; the access log does not.
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := New(Deps{Config: cfg, DB: tdb.DB, Logger: logger, Migrator: migrator})
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
	// Registered after dbtest.New, so it runs first: the server stops before its database goes.
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("portal: %v", err)
		}
	})
	return &livePortal{baseURL: "http://" + ln.Addr().String(), accounts: accounts, db: tdb.DB, sealer: sealer}
}

// account returns the demo account holding role.
func (p *livePortal) account(t *testing.T, role string) seed.Account {
	t.Helper()
	for _, a := range p.accounts {
		if a.Role == role {
			return a
		}
	}
	t.Fatalf("no demo account for role %q", role)
	return seed.Account{}
}

// testLogWriter sends the portal's log lines to the test log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// tab is one headless Chromium, with one tab, pointed at a live portal.
type tab struct {
	t      *testing.T
	ctx    context.Context // the chromedp context of the tab
	portal *livePortal
	base   string        // the portal's base URL
	noJS   bool          // scripts are off: the page is not checked with axe, which needs them
	axe    string        // the source of axe.min.js
	limit  time.Duration // how long the browser may run; browserTestTimeout unless set
	shots  string        // where screenshots go; "" for none
	shotN  int

	url    string // the URL of the page shown now, after any redirects
	status int64  // its HTTP status

	mu       sync.Mutex
	problems []string // console errors, uncaught exceptions and failed loads not yet reported
}

type tabOption func(*tab)

// withTimeLimit lets the tab's browser run for d instead of browserTestTimeout, for a test that reads
// many pages in one tab.
func withTimeLimit(d time.Duration) tabOption { return func(tb *tab) { tb.limit = d } }

// withoutJavaScript turns script execution off in the tab before the first page loads.
func withoutJavaScript(tb *tab) { tb.noJS = true }

// openTab starts Chromium for the test. It waits while two other browsers are running.
func openTab(t *testing.T, p *livePortal, opts ...tabOption) *tab {
	t.Helper()
	tb := &tab{t: t, portal: p, base: p.baseURL, shots: os.Getenv(screenshotsEnv)}
	for _, o := range opts {
		o(tb)
	}
	tb.axe = axeSource(t)
	execPath := chromiumPath(t)
	if tb.shots != "" {
		if err := os.MkdirAll(tb.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// A test takes one slot however many tabs it opens (a requester and the central team, say), so
	// two tests that each want a second tab can never wait for each other.
	if _, already := testsWithBrowsers.LoadOrStore(t, true); !already {
		chromiums <- struct{}{}
		t.Cleanup(func() {
			testsWithBrowsers.Delete(t)
			<-chromiums
		})
	}
	profile := t.TempDir() // removed after the browser has stopped: cleanups run last-registered first

	var output bytes.Buffer
	var outputMu sync.Mutex
	if tb.limit == 0 {
		tb.limit = browserTestTimeout
	}
	limit, cancelLimit := context.WithTimeout(context.Background(), tb.limit)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(limit,
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate"),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(lockedWriter{&outputMu, &output}),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		tb.reportProblems()
		cancelTab() // waits for Chromium to exit
		cancelAlloc()
		cancelLimit()
	})
	tb.ctx = ctx

	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens the tab
		outputMu.Lock()
		defer outputMu.Unlock()
		t.Fatalf("start Chromium (%s): %v\n%s", execPath, err, output.String())
	}
	if err := chromedp.Listen(ctx, tb.collectProblem); err != nil {
		t.Fatal(err)
	}
	if tb.noJS {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("turn JavaScript off: %v", err)
		}
	}
	return tb
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// chromiumPath finds Debian's Chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the browser tests need Chromium, and it is not installed: apt-get install chromium")
	return ""
}

var readAxe = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath)
	return string(b), err
})

// axeSource returns axe-core's script.
func axeSource(t *testing.T) string {
	t.Helper()
	src, err := readAxe()
	if err != nil {
		t.Fatalf("the browser tests need axe-core, and %s cannot be read (%v): run make assets", axePath, err)
	}
	return src
}

// collectProblem keeps what the browser reports as an error: an uncaught exception, console.error,
// and a log entry of level error (a blocked script or style, a file that failed to load). A failed
// load of the page itself is left out, because the tests check the status of every page they open.
// It runs on chromedp's event loop, so it only appends.
func (tb *tab) collectProblem(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = fmt.Sprintf("uncaught exception: %s", d.Text)
		if d.Exception != nil && d.Exception.Description != "" {
			problem += " " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, string(a.Value))
			}
		}
		problem = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		if e.Level != cdplog.EntryLevelError {
			return
		}
		if e.Source == cdplog.EntrySourceNetwork && e.URL != "" && tb.isDocument(e.URL) {
			return
		}
		problem = fmt.Sprintf("%s error: %s", e.Source, e.Text)
		if e.URL != "" {
			problem += " (" + e.URL + ")"
		}
	default:
		return
	}
	tb.mu.Lock()
	tb.problems = append(tb.problems, problem)
	tb.mu.Unlock()
}

// isDocument reports whether u is a page of the portal rather than a file a page loads.
func (tb *tab) isDocument(u string) bool {
	path := strings.TrimPrefix(u, tb.base)
	return path != u && !strings.HasPrefix(path, "/public/") && !strings.HasPrefix(path, "/assets/") && path != "/favicon.ico"
}

// reportProblems fails the test with what the browser reported since the last call.
func (tb *tab) reportProblems() {
	tb.t.Helper()
	tb.mu.Lock()
	problems := tb.problems
	tb.problems = nil
	tb.mu.Unlock()
	for _, p := range problems {
		tb.t.Errorf("browser, on or before %s: %s", tb.url, p)
	}
}

// step runs actions with a time limit of its own.
func (tb *tab) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s, on %s: %v", what, tb.url, err)
	}
}

// load runs the actions, which must cause a navigation, and waits for the new page to load.
func (tb *tab) load(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tb.t.Fatalf("%s, from %s: %v", what, tb.url, err)
	}
	if res == nil {
		tb.t.Fatalf("%s, from %s: no response", what, tb.url)
	}
	tb.url, tb.status = res.URL, res.Status
	tb.step("wait for the page's body", chromedp.WaitReady(chromedp.CSS("body")))
}

// visit opens a path of the portal, waits for the page and checks it. It returns the page's status.
func (tb *tab) visit(path string) int64 {
	tb.t.Helper()
	tb.load("open "+path, chromedp.Navigate(tb.base+path))
	tb.check()
	return tb.status
}

// submit clicks a button or link that loads another page, waits for it and checks it. It returns the
// new page's status.
func (tb *tab) submit(selector string) int64 {
	tb.t.Helper()
	tb.load("click "+selector, chromedp.Click(chromedp.CSS(selector)))
	tb.check()
	return tb.status
}

// wantStatus fails the test when the page shown has another status.
func (tb *tab) wantStatus(want int64, what string) {
	tb.t.Helper()
	if tb.status != want {
		tb.t.Fatalf("%s: %s answered %d, want %d\n%s", what, tb.url, tb.status, want, excerpt(tb.html()))
	}
}

// wantPath fails the test when the page shown is not at path (query string included, when given).
func (tb *tab) wantPath(path, what string) {
	tb.t.Helper()
	got := strings.TrimPrefix(tb.url, tb.base)
	if !strings.Contains(path, "?") {
		got, _, _ = strings.Cut(got, "?")
	}
	if got != path {
		tb.t.Fatalf("%s: at %s, want %s", what, got, path)
	}
}

// check runs axe on the page shown, saves its screenshot when asked to, and reports what the browser
// logged as an error.
func (tb *tab) check() {
	tb.t.Helper()
	tb.screenshot()
	if !tb.noJS {
		tb.checkAccessibility()
	}
	tb.reportProblems()
}

// axeViolation is the part of an axe-core result the failure message shows.
type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
	NodeCount int `json:"nodeCount"`
}

// axeRun checks the document against WCAG 2.2 A and AA and returns the violations, with the first
// three elements of each.
const axeRun = `axe.run(document, {
	runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
	resultTypes: ['violations'],
}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl, nodeCount: v.nodes.length,
	nodes: v.nodes.slice(0, 3).map(n => ({target: n.target.map(String).join(' '), html: n.html, summary: n.failureSummary || ''})),
})))`

// checkAccessibility fails the test with the page's axe-core violations.
func (tb *tab) checkAccessibility() {
	tb.t.Helper()
	violations := tb.axeViolations()
	if len(violations) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "axe-core: %d accessibility rule(s) broken on %s (status %d):", len(violations), tb.url, tb.status)
	for _, v := range violations {
		fmt.Fprintf(&b, "\n  %s (%s): %s, %d element(s)\n    %s", v.ID, v.Impact, v.Help, v.NodeCount, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n    - %s\n      %s", n.Target, n.HTML)
			if n.Summary != "" {
				fmt.Fprintf(&b, "\n      %s", strings.ReplaceAll(n.Summary, "\n", "\n      "))
			}
		}
	}
	tb.t.Error(b.String())
}

// axeViolations injects axe-core into the page, unless it is there already, and runs it.
//
// The portal's content security policy allows only its own scripts (script-src 'self'). Scripts that
// DevTools evaluates (Runtime.evaluate) are not subject to it, so axe runs without Page.setBypassCSP,
// and the page is tested under the policy it really has.
func (tb *tab) axeViolations() []axeViolation {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === 'object'`))
	if err != nil {
		tb.t.Fatalf("axe on %s: %v", tb.url, err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](tb.axe)); err != nil {
			tb.t.Fatalf("inject axe-core into %s: %v", tb.url, err)
		}
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("run axe-core on %s: %v", tb.url, err)
	}
	return violations
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// screenshot saves the whole page as DIR/<test>-<nn>-<path>[-<status>].png when PORTAL_SCREENSHOTS is
// set.
func (tb *tab) screenshot() {
	tb.t.Helper()
	if tb.shots == "" {
		return
	}
	tb.shotN++
	path, _, _ := strings.Cut(strings.TrimPrefix(tb.url, tb.base), "?")
	label := strings.Trim(unsafeName.ReplaceAllString(path, "-"), "-")
	if label == "" {
		label = "home"
	}
	if tb.status != 200 {
		label += fmt.Sprintf("-%d", tb.status)
	}
	name := fmt.Sprintf("%s-%02d-%s.png", unsafeName.ReplaceAllString(tb.t.Name(), "_"), tb.shotN, label)
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot of %s: %v", tb.url, err)
	}
	if err := os.WriteFile(filepath.Join(tb.shots, name), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// typeInto replaces what the field with the id holds with text, as a person would: it focuses the field,
// selects what it holds and types over it (the page sees input events, so scripts such as the character
// count follow). chromedp's Clear and SendKeys are not used: they read the node's attributes and children
// while chromedp's DOM event handler may be writing them, which the race detector reports when a script
// changes the field as it is typed into.
func (tb *tab) typeInto(id, text string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	args, err := json.Marshal([]string{id, text})
	if err != nil {
		tb.t.Fatal(err)
	}
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`((id, text) => {
		const el = document.getElementById(id);
		if (!el) return false;
		el.focus();
		el.select();
		if (text === '') {
			el.value = '';
			el.dispatchEvent(new Event('input', {bubbles: true}));
		}
		return document.activeElement === el;
	})(...`+string(args)+`)`))
	if err != nil || !ok {
		tb.t.Fatalf("focus #%s on %s: %v", id, tb.url, err)
	}
	if text == "" {
		return
	}
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text}); err != nil {
		tb.t.Fatalf("type into #%s on %s: %v", id, tb.url, err)
	}
}

// text returns the visible text of the first element matching the CSS selector.
func (tb *tab) text(selector string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		tb.t.Fatalf("read %s on %s: %v", selector, tb.url, err)
	}
	return s
}

// wantText fails the test unless the element matching the CSS selector shows each of wants.
func (tb *tab) wantText(selector string, wants ...string) {
	tb.t.Helper()
	got := tb.text(selector)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			tb.t.Errorf("%s on %s shows %q, which lacks %q", selector, tb.url, got, w)
		}
	}
}

// value returns the value of the form field with the id.
func (tb *tab) value(id string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		tb.t.Fatalf("read the value of #%s on %s: %v", id, tb.url, err)
	}
	return v
}

// html returns the page's markup as the browser holds it. It reads it through DevTools, which works
// with the page's scripts off. (It does not call DOM.getDocument: that renumbers the nodes behind
// chromedp's back, and the next query waits for ever.)
func (tb *tab) html() string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		tb.t.Fatalf("read the page %s: %v", tb.url, err)
	}
	return s
}

// checked reports whether the checkbox or radio with the id is ticked.
func (tb *tab) checked(id string) bool {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[bool](chromedp.ID(id), "checked"))
	if err != nil {
		tb.t.Fatalf("read #%s on %s: %v", id, tb.url, err)
	}
	return v
}

// focused returns the id of the element that has the focus.
func (tb *tab) focused() string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? (document.activeElement.id || document.activeElement.className) : ''`))
	if err != nil {
		tb.t.Fatalf("read the focus on %s: %v", tb.url, err)
	}
	return id
}

// attrs returns the attribute name of every element matching the CSS selector.
func (tb *tab) attrs(selector, name string) []string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	all, err := chromedp.Run(ctx, chromedp.AttributesAll(chromedp.CSSAll(selector)))
	if err != nil {
		tb.t.Fatalf("read %s on %s: %v", selector, tb.url, err)
	}
	out := make([]string, 0, len(all))
	for _, a := range all {
		out = append(out, a[name])
	}
	return out
}

// choose selects the option of the select with the id whose label contains label, as a user picking
// it from the list would.
func (tb *tab) choose(id, label string) {
	tb.t.Helper()
	args, err := json.Marshal([]string{id, label})
	if err != nil {
		tb.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`((id, label) => {
		const s = document.getElementById(id);
		const o = s && Array.from(s.options).find(o => o.label.includes(label));
		if (!o) return false;
		s.value = o.value;
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})(...`+string(args)+`)`))
	if err != nil || !ok {
		tb.t.Fatalf("choose %q in #%s on %s: %v", label, id, tb.url, err)
	}
}

// title returns the page's title.
func (tb *tab) title() string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		tb.t.Fatalf("read the title of %s: %v", tb.url, err)
	}
	return s
}

// selected returns the label of the option chosen in the select with the id.
func (tb *tab) selected(id string) string {
	tb.t.Helper()
	args, err := json.Marshal(id)
	if err != nil {
		tb.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById(`+string(args)+`).selectedOptions[0]?.label ?? ''`))
	if err != nil {
		tb.t.Fatalf("read the option chosen in #%s on %s: %v", id, tb.url, err)
	}
	return label
}

// fetched is what the browser got when it fetched a URL of the page shown.
type fetched struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
}

// fetchHref fetches, with the page's cookies, the href of the first element matching the CSS selector,
// as following the link would (a link to a download the tab cannot show).
func (tb *tab) fetchHref(selector string) fetched {
	tb.t.Helper()
	args, err := json.Marshal(selector)
	if err != nil {
		tb.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[fetched](`(async (sel) => {
		const a = document.querySelector(sel);
		if (!a) return {status: -1, contentType: ''};
		const r = await fetch(a.href, {credentials: 'same-origin'});
		return {status: r.status, contentType: r.headers.get('content-type') || ''};
	})(`+string(args)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("fetch the link %s on %s: %v", selector, tb.url, err)
	}
	if got.Status == -1 {
		tb.t.Fatalf("no link %s on %s", selector, tb.url)
	}
	return got
}
