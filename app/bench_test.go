package app

// Benchmarks of the pages at scale, run by `make bench`. They run only with -bench: BenchmarkPortal
// first builds a database of synthetic requests (PORTAL_BENCH_REQUESTS of them, 100,000 unless set),
// which takes minutes, so plain `go test` never touches it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/config"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/migrations"
)

const (
	// benchSeed makes every run build the same requests.
	benchSeed = 20261120
	// benchWorkers is how many clients send requests at once: twice the cores of the machine the
	// benchmarks were written on.
	benchWorkers = 4
	// benchRound is how many requests each server answers before the other has its turn, unless there
	// are too few requests for four rounds.
	benchRound = 25 * benchWorkers
)

// benchWords and benchTitles are what the search benchmarks look for: words and titles like those the
// synthetic requests are made of, common and rare.
var (
	benchWords  = []string{"payslip", "competence expiry", "Compliance Matrix", "bank worker", "right to work", "sickness absence", "overtime", "DBS renewal", "pension", "Oliver McGowan", "vaccination", "starter checklist", "supervision", "leave balance", "job planning", "P60"}
	benchTitles = []string{"Remind managers about DBS renewal dates", "Show competence expiry dates in the ESR app", "Let employees update annual leave balances",
		"Report on sickness absence episodes for bank staff", "Export overtime claims to the Data Warehouse", "Notify staff about pension opt-out forms",
		"Filter the Compliance Matrix by staff group", "Record vaccination records through Inter Authority Transfer"}
)

// benchNow is the benchmarks' clock: the synthetic requests were received in the two years before.
var benchNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// BenchmarkPortal measures the requests list, the request page and the national dashboard of the real portal, over HTTP with
// keep-alive, beside a bare fiber handler that runs one comparable pgx query and renders a small
// template; and saving a section of the business justification beside a bare handler that parses
// the same form, inserts one row and redirects. The two servers take turns in rounds, so that both
// see the same state of the machine; the ratio is the portal's time per request over the bare
// handler's, from the same run. It also counts
// the SQL statements of the request page for a request with 1 comment and one with 50 comments and 50
// events.
func BenchmarkPortal(b *testing.B) {
	e := newBenchPortal(b)
	b.Run("RequestsList", func(b *testing.B) {
		e.paired(b, e.portalURL+"/requests", e.bareURL+"/requests", e.newest)
	})
	// The same list built afresh for every view, as after any change to the database (the content
	// cache kept nothing).
	b.Run("RequestsListFresh", func(b *testing.B) {
		e.paired(b, e.freshURL+"/requests", e.bareURL+"/requests", e.newest)
	})
	b.Run("RequestPage", func(b *testing.B) {
		e.paired(b, e.portalURL+"/requests/"+e.typical, e.bareURL+"/requests/"+e.typical, e.typical)
	})
	// The same page across many different requests, so that no statement is planned only once.
	b.Run("RequestPageMany", func(b *testing.B) {
		e.pairedMany(b, e.portalURL+"/requests/", e.bareURL+"/requests/", e.many)
	})
	b.Run("RequestPageManyFresh", func(b *testing.B) {
		e.pairedMany(b, e.freshURL+"/requests/", e.bareURL+"/requests/", e.many)
	})
	// Full-text search of the list, and the similar-request suggestions, each over many different
	// words; the bare server runs the one index-served query of each.
	b.Run("Search", func(b *testing.B) {
		e.pairedMany(b, e.portalURL+"/requests?q=", e.bareURL+"/search?q=", benchWords)
	})
	b.Run("SearchFresh", func(b *testing.B) {
		e.pairedMany(b, e.freshURL+"/requests?q=", e.bareURL+"/search?q=", benchWords)
	})
	b.Run("Similar", func(b *testing.B) {
		e.pairedMany(b, e.portalURL+"/requests/similar?title=", e.bareURL+"/similar?title=", benchTitles)
	})
	b.Run("SearchPlans", e.searchPlans)
	// The national dashboard for this quarter: every figure, chart and table, beside a bare handler that
	// counts the requests by status in one query; and the same page opened by one person at a time, which
	// must render in under 300 ms (p50_ms).
	b.Run("NationalDashboard", func(b *testing.B) {
		e.paired(b, e.portalURL+"/dashboard", e.bareURL+"/dashboard", "National dashboard")
	})
	b.Run("NationalDashboardOneAtATime", func(b *testing.B) {
		e.oneAtATime(b, e.portalURL+"/dashboard", "National dashboard")
	})
	b.Run("JustificationSave", e.justificationSaves)
	b.Run("RequestPageStatements", func(b *testing.B) {
		cases := []struct{ name, ref string }{
			{"1_comment", e.oneComment},
			{"50_comments_50_events", e.manyComments},
		}
		counts := make([][]string, len(cases))
		for i, c := range cases {
			b.Run(c.name, func(b *testing.B) { counts[i] = e.statements(b, c.ref) })
		}
		// Both ran unless -bench picked one of them.
		if counts[0] != nil && counts[1] != nil && len(counts[0]) != len(counts[1]) {
			b.Fatalf("the request page ran %d statements for %s and %d for %s\n%s:\n%s\n\n%s:\n%s",
				len(counts[0]), cases[0].name, len(counts[1]), cases[1].name,
				cases[0].name, strings.Join(counts[0], "\n"), cases[1].name, strings.Join(counts[1], "\n"))
		}
	})
}

// benchPortal is the portal and the bare server on one database of synthetic requests.
type benchPortal struct {
	portalURL, bareURL string
	freshURL           string // the portal again, with its content cache keeping nothing
	client             *http.Client
	cookie             *http.Cookie

	portal  *App          // the portal served at portalURL, whose content cache is read for its hit rate
	counted *App          // the portal again, on a database handle that logs its statements
	log     *statementLog // what counted ran

	newest       string   // the reference at the top of the list
	many         []string // 500 requests picked at random, for pages opened across many requests
	typical      string   // a request awaiting information, with 3 comments and 3 events
	oneComment   string   // a request awaiting information, with 1 comment
	manyComments string   // a request awaiting information, with 50 comments and 50 events

	db        *bun.DB       // the portal's database, for plans
	pool      *pgxpool.Pool // the bare server's pool, also used to read justification versions
	saves     []benchSaver  // one a worker: a request whose justification that worker saves
	developer int64         // the development team user the saves are made as
	saved     atomic.Int64  // numbers the saves across the runs of JustificationSave, so that no two send the same answers
}

// benchSaver is one worker's part of JustificationSave: its own request in requirements and
// justification, so that no two workers save the same justification (which would conflict on the
// version), and its own session as the development team, so that no two share a session row.
type benchSaver struct {
	ref     string
	id      int64
	cookie  *http.Cookie
	csrf    string // read from the section page
	version int    // the justification's current version, read from the database before each round
}

func newBenchPortal(b *testing.B) *benchPortal {
	ctx := context.Background()
	tdb := dbtest.New(b)
	benchFill(b, tdb)

	central, err := organisation.GetByODS(ctx, tdb.DB, "ZNC01")
	if err != nil {
		b.Fatal(err)
	}
	u, err := identity.Create(ctx, tdb.DB, audit.Actor{Name: "benchmark"}, benchNow, identity.NewUser{
		Email: "central.bench@test.nhs.uk", Name: "Benchmark Central", OrganisationID: central.ID,
		Roles: []string{identity.RoleCentralTeam}, Password: testPassword,
	})
	if err != nil {
		b.Fatal(err)
	}
	token, err := identity.StartSession(ctx, tdb.DB, u.ID, benchNow, identity.Client{IP: "127.0.0.1"}, identity.PassedNow(benchNow, identity.VerifiedByTOTP))
	if err != nil {
		b.Fatal(err)
	}

	e := &benchPortal{log: &statementLog{}, db: tdb.DB}
	e.pickRequests(b, tdb)

	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	cfg.SessionSecret = []byte(strings.Repeat("k", 32))
	cfg.TOTPKey = []byte(strings.Repeat("t", 32))
	migrator, err := database.NewMigrator(tdb.DB, migrations.FS)
	if err != nil {
		b.Fatal(err)
	}
	// The access log is written as in production (text at level info), to nowhere.
	deps := Deps{Config: cfg, DB: tdb.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Migrator: migrator,
		Now: func() time.Time { return benchNow }}
	portal, err := New(deps)
	if err != nil {
		b.Fatal(err)
	}
	// The statements counted are those of pages built afresh.
	deps.DB, deps.ContentCacheBytes = e.log.counting(b, tdb.DB), -1
	if e.counted, err = New(deps); err != nil {
		b.Fatal(err)
	}
	e.cookie = &http.Cookie{Name: portal.sessionCookieName(), Value: token}

	transport := &http.Transport{MaxIdleConns: 4 * benchWorkers, MaxIdleConnsPerHost: 2 * benchWorkers, IdleConnTimeout: time.Minute}
	e.client = &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       time.Minute,
	}
	b.Cleanup(transport.CloseIdleConnections)

	// The portal, as `portal serve` runs it, and again with the content cache keeping nothing.
	deps.DB = tdb.DB
	fresh, err := New(deps)
	if err != nil {
		b.Fatal(err)
	}
	e.portal = portal
	e.portalURL, e.freshURL = benchServe(b, portal, transport), benchServe(b, fresh, transport)
	// The bare server: one handler a page, one query through its own pgx pool, a small template.
	pool, err := pgxpool.New(ctx, tdb.URL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	e.pool = pool
	e.pickSavers(b, tdb, central.ID)
	bare := newBareServer(pool, e.developer)
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bareDone := make(chan error, 1)
	go func() { bareDone <- bare.Listener(bln) }()
	b.Cleanup(func() {
		transport.CloseIdleConnections()
		if err := bare.ShutdownWithTimeout(10 * time.Second); err != nil {
			b.Errorf("bare server: %v", err)
		}
		if err := <-bareDone; err != nil {
			b.Errorf("bare server: %v", err)
		}
	})
	e.bareURL = "http://" + bln.Addr().String()
	return e
}

// benchServe serves the portal on a port of its own until the benchmark ends, and returns its address.
func benchServe(b *testing.B, portal *App, transport *http.Transport) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- portal.ServeListener(serveCtx, ln) }()
	b.Cleanup(func() {
		transport.CloseIdleConnections()
		stop()
		if err := <-served; err != nil {
			b.Errorf("portal: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// benchFill adds the synthetic requests and then vacuums and analyses them, as autovacuum would have on
// a database that grew to that size: without it the first reads of each freshly written row write it
// again (hint bits), and the pages measured first are several times slower than the rest.
func benchFill(b *testing.B, tdb *dbtest.TestDB) {
	n := 100_000
	if s := os.Getenv("PORTAL_BENCH_REQUESTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("PORTAL_BENCH_REQUESTS=%q: want a positive whole number", s)
		}
	}
	ctx := context.Background()
	start := time.Now()
	step := max(n/10/1000, 1) * 1000 // Synthetic writes 1,000 a batch
	err := seed.Synthetic(ctx, tdb.DB, benchNow, n, benchSeed, func(done, total int) {
		if done%step == 0 && done < total {
			fmt.Printf("bench: seeding %d of %d synthetic requests (%s)\n", done, total, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	seeded := time.Since(start)
	if _, err := tdb.Owner(b).ExecContext(ctx, "VACUUM (ANALYZE)"); err != nil { // only the owner may
		b.Fatal(err)
	}
	fmt.Printf("bench: seeded %d synthetic requests in %s (then VACUUM (ANALYZE) in %s)\n",
		n, seeded.Round(time.Millisecond), (time.Since(start) - seeded).Round(time.Millisecond))
}

// pickRequests chooses the requests the page benchmarks open, and gives one of them 50 comments and
// 50 events. All three await information, so the central team's page also looks for similar requests.
func (e *benchPortal) pickRequests(b *testing.B, tdb *dbtest.TestDB) {
	ctx := context.Background()
	db := tdb.DB
	if err := db.NewSelect().Table("requests").Column("reference").Where("kind = ?", request.KindEnhancement).
		Order("received_at DESC", "id DESC").Limit(1).Scan(ctx, &e.newest); err != nil {
		b.Fatalf("newest request: %v", err)
	}
	withComments := func(n int, not ...string) (string, int64) {
		var row struct {
			Reference string `bun:"reference"`
			ID        int64  `bun:"id"`
		}
		q := db.NewSelect().Table("requests").Column("reference", "id").
			Where("status = ?", request.StatusInformationRequested).
			Where("(SELECT count(*) FROM request_comments AS c WHERE c.request_id = requests.id) = ?", n)
		for _, ref := range not {
			q = q.Where("reference <> ?", ref)
		}
		if err := q.Order("received_at DESC", "id DESC").Limit(1).Scan(ctx, &row); err != nil {
			b.Fatalf("a request awaiting information with %d comments: %v", n, err)
		}
		return row.Reference, row.ID
	}
	if err := db.NewSelect().Table("requests").Column("reference").Where("kind = ?", request.KindEnhancement).
		OrderExpr("md5(reference)").Limit(500).Scan(ctx, &e.many); err != nil {
		b.Fatalf("requests to open: %v", err)
	}
	e.typical, _ = withComments(3)
	e.oneComment, _ = withComments(1)
	var id int64
	e.manyComments, id = withComments(0, e.typical, e.oneComment)

	var author int64
	if err := db.NewSelect().Table("requests").Column("raised_by_id").Where("id = ?", id).Scan(ctx, &author); err != nil {
		b.Fatal(err)
	}
	var events int
	if err := db.NewSelect().Table("request_events").ColumnExpr("count(*)").Where("request_id = ?", id).Scan(ctx, &events); err != nil {
		b.Fatal(err)
	}
	comments := make([]request.Comment, 50)
	for i := range comments {
		comments[i] = request.Comment{RequestID: id, AuthorID: author, Body: fmt.Sprintf("Comment number %d", i+1),
			Internal: i%3 == 0, CreatedAt: benchNow.Add(-time.Duration(50-i) * time.Hour)}
	}
	var more []request.Event
	for i := events; i < 50; i++ {
		more = append(more, request.Event{RequestID: id, OccurredAt: benchNow.Add(-time.Duration(50-i) * time.Hour), ActorName: "Central team",
			Kind: "note", Summary: fmt.Sprintf("Event number %d", i+1)})
	}
	if _, err := db.NewInsert().Model(&comments).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := db.NewInsert().Model(&more).Exec(ctx); err != nil {
		b.Fatal(err)
	}
}

// paired sends b.N requests to each server, benchWorkers at a time, the two taking turns in rounds of
// up to benchRound (which goes first alternates too). Throughput is requests over the time each
// server's rounds took; latency is each request's, from sending it to reading the whole answer.
func (e *benchPortal) paired(b *testing.B, portalURL, bareURL, want string) {
	for _, u := range []string{portalURL, bareURL} {
		if body := e.mustGet(b, u); !strings.Contains(body, want) {
			b.Fatalf("GET %s does not show %s", u, want)
		}
	}
	e.alternate(b,
		func(lat []time.Duration) (time.Duration, error) { return e.burst(portalURL, lat) },
		func(lat []time.Duration) (time.Duration, error) { return e.burst(bareURL, lat) })
}

// pairedMany is paired over many addresses: the i-th request of each server goes to its prefix with
// the i-th of suffixes (query-escaped), round and round.
func (e *benchPortal) pairedMany(b *testing.B, portalPrefix, barePrefix string, suffixes []string) {
	for _, p := range []string{portalPrefix, barePrefix} {
		e.mustGet(b, p+url.QueryEscape(suffixes[0]))
	}
	rotate := func(prefix string) func(lat []time.Duration) (time.Duration, error) {
		var n atomic.Int64
		return func(lat []time.Duration) (time.Duration, error) {
			return burstOf(lat, func(int) error {
				i := int(n.Add(1)-1) % len(suffixes)
				return e.fetch(prefix + url.QueryEscape(suffixes[i]))
			})
		}
	}
	e.alternate(b, rotate(portalPrefix), rotate(barePrefix))
}

// alternate runs b.N requests through each of two bursts, the two taking turns in rounds, after a
// warm-up of each, and reports the metrics of paired.
func (e *benchPortal) alternate(b *testing.B, portal, bare func(lat []time.Duration) (time.Duration, error)) {
	e.contest(b, contestant{"portal_", portal}, contestant{"bare_", bare})
}

// contestant is one server's part in a contest: the prefix of its metrics and its burst, which sends
// len(lat) requests, records their latencies and returns how long they took.
type contestant struct {
	prefix string
	burst  func(lat []time.Duration) (time.Duration, error)
}

// contest runs b.N requests through each contestant's burst, the contestants taking turns in rounds
// (each round starting with the next), after a warm-up of each. It reports each one's throughput and
// latency percentiles, and the time the first took over that of each other (ratio_to_bare for the
// second; ratio_to_ and the prefix for any after it).
func (e *benchPortal) contest(b *testing.B, all ...contestant) {
	// Warm up: every client opens its connection, and each server its database connections.
	warm := make([]time.Duration, 2*benchWorkers)
	for _, c := range all {
		if _, err := c.burst(warm); err != nil {
			b.Fatal(err)
		}
	}
	hits, misses := e.portal.content.counts()
	defer func() {
		h, m := e.portal.content.counts()
		if h, m = h-hits, m-misses; h+m > 0 {
			b.ReportMetric(100*float64(h)/float64(h+m), "portal_cache_hit_%")
		}
	}()
	lat, wall := make([][]time.Duration, len(all)), make([]time.Duration, len(all))
	for i := range all {
		lat[i] = make([]time.Duration, b.N)
	}
	// A slow page gets few requests in the time: take turns at least four times all the same, in
	// rounds of whole waves of benchWorkers.
	size := min(benchRound, max(b.N/4/benchWorkers, 1)*benchWorkers)
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; round++ {
		n := min(size, b.N-done)
		for k := range all {
			i := (round + k) % len(all)
			d, err := all[i].burst(lat[i][done : done+n])
			if err != nil {
				b.Fatal(err)
			}
			wall[i] += d
		}
		done += n
	}
	b.StopTimer()
	for i, c := range all {
		b.ReportMetric(float64(b.N)/wall[i].Seconds(), c.prefix+"req/s")
		b.ReportMetric(benchPercentile(lat[i], 0.50), c.prefix+"p50_ms")
		b.ReportMetric(benchPercentile(lat[i], 0.95), c.prefix+"p95_ms")
		b.ReportMetric(benchPercentile(lat[i], 0.99), c.prefix+"p99_ms")
	}
	for i, c := range all[1:] {
		name := "ratio_to_" + strings.TrimSuffix(c.prefix, "_")
		b.ReportMetric(float64(wall[0])/float64(wall[i+1]), name)
	}
	// ns/op would be the time of one request of each contestant together, which says little.
	b.ReportMetric(0, "ns/op")
}

// oneAtATime opens url b.N times, one request after another, and reports the latency's p50 and p99.
func (e *benchPortal) oneAtATime(b *testing.B, url, want string) {
	if body := e.mustGet(b, url); !strings.Contains(body, want) {
		b.Fatalf("GET %s does not show %s", url, want)
	}
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := e.get(url, io.Discard); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(benchPercentile(lat, 0.50), "p50_ms")
	b.ReportMetric(benchPercentile(lat, 0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// burst sends len(lat) requests for url from benchWorkers clients and returns how long they took.
func (e *benchPortal) burst(url string, lat []time.Duration) (time.Duration, error) {
	return burstOf(lat, func(int) error { return e.fetch(url) })
}

// burstOf makes len(lat) calls of send from benchWorkers clients, each passed its worker's number,
// and returns how long they took.
func burstOf(lat []time.Duration, send func(w int) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, benchWorkers)
	start := time.Now()
	for w := range benchWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(lat); i = int(next.Add(1) - 1) {
				t := time.Now()
				if err := send(w); err != nil {
					errs[w] = err
					next.Store(int64(len(lat))) // the others stop too
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

// get fetches url as the signed-in central team user and copies the body to w.
func (e *benchPortal) get(url string, w io.Writer) (int, error) {
	return e.getAs(url, w, false)
}

// fetch is get for the timed requests: it reads the answer as it is sent, as a browser's network layer
// does, gzipped when the server gzips it, rather than spend the CPU that the servers measured share with
// the clients on unzipping it.
func (e *benchPortal) fetch(url string) error {
	_, err := e.getAs(url, io.Discard, true)
	return err
}

func (e *benchPortal) getAs(url string, w io.Writer, raw bool) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if raw {
		req.Header.Set("Accept-Encoding", "gzip") // said by the client itself, the transport leaves the body as sent
	}
	req.AddCookie(e.cookie)
	res, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(w, res.Body); err != nil {
		return res.StatusCode, fmt.Errorf("GET %s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	return res.StatusCode, nil
}

func (e *benchPortal) mustGet(b *testing.B, url string) string {
	b.Helper()
	var body strings.Builder
	if _, err := e.get(url, &body); err != nil {
		b.Fatalf("%v\n%s", err, excerpt(body.String()))
	}
	return body.String()
}

// searchPlans prints the plans PostgreSQL makes for the list's full-text search and the similar-request
// query, as the central team and as a requester (who matches other organisations' requests on their
// summaries only), with how long each took: they must be served by the indexes, without a subquery
// run for every row.
func (e *benchPortal) searchPlans(b *testing.B) {
	ctx := context.Background()
	central, requester := e.viewers(b)
	for i := 0; i < b.N; i++ {
		for _, who := range []struct {
			name string
			v    request.Viewer
		}{{"central team", central}, {"requester", requester}} {
			for _, q := range []struct {
				name string
				sql  string
			}{
				{"list search for \"DBS renewal\"", e.listSQL(b, who.v, "DBS renewal")},
				{"similar requests to \"Remind managers about DBS renewal dates\"", e.similarSQL(b, who.v, "Remind managers about DBS renewal dates")},
			} {
				var plan []string
				if err := e.db.NewRaw("EXPLAIN (ANALYZE, BUFFERS) "+q.sql).Scan(ctx, &plan); err != nil {
					b.Fatalf("explain %s: %v", q.name, err)
				}
				if i == b.N-1 {
					fmt.Printf("bench: plan of the %s as the %s:\n    %s\n", q.name, who.name, strings.Join(plan, "\n    "))
				}
			}
		}
	}
	b.ReportMetric(0, "ns/op")
}

// viewers are a central team viewer and a requester of a synthetic organisation, for searchPlans.
func (e *benchPortal) viewers(b *testing.B) (request.Viewer, request.Viewer) {
	ctx := context.Background()
	ids := make([]int64, 2)
	if err := e.db.NewRaw(`SELECT (SELECT id FROM users WHERE email = 'central.bench@test.nhs.uk'),
		(SELECT raised_by_id FROM requests ORDER BY id LIMIT 1)`).Scan(ctx, &ids[0], &ids[1]); err != nil {
		b.Fatalf("bench viewers: %v", err)
	}
	var out [2]request.Viewer
	for i, id := range ids {
		u, err := identity.Get(ctx, e.db, id)
		if err != nil {
			b.Fatal(err)
		}
		if out[i], err = request.ViewerFor(ctx, e.db, u); err != nil {
			b.Fatal(err)
		}
	}
	return out[0], out[1]
}

// listSQL and similarSQL are the statements the list page's search (best matches among the newest) and
// the similar-request query run.
func (e *benchPortal) listSQL(b *testing.B, v request.Viewer, q string) string {
	log := &statementLog{}
	if _, _, err := request.List(context.Background(), e.db.WithQueryHook(log), v, request.Filter{Query: q, Sort: "relevance", Limit: 25, BestOfNewest: true}); err != nil {
		b.Fatal(err)
	}
	// The newest id with whether the search is common, then the candidates with the page's ids and the
	// count (the WITH statement, explained), then the page's requests by id.
	ran := log.take()
	for _, s := range ran {
		if strings.HasPrefix(s, "WITH") {
			return s
		}
	}
	b.Fatalf("the list search ran no statement of its newest matches:\n%s", strings.Join(ran, "\n"))
	return ""
}

func (e *benchPortal) similarSQL(_ *testing.B, v request.Viewer, title string) string {
	return request.SimilarSQL(e.db, v, request.KindEnhancement, title)
}

// statements opens the request page b.N times, one at a time and in memory, and returns the statements
// of the last visit.
func (e *benchPortal) statements(b *testing.B, ref string) []string {
	var last []string
	total := 0
	for range b.N {
		e.log.take()
		req := httptest.NewRequest(http.MethodGet, "/requests/"+ref, nil)
		req.AddCookie(e.cookie)
		res, err := e.counted.Handler().Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(ref)) {
			b.Fatalf("GET /requests/%s: status %d\n%s", ref, res.StatusCode, excerpt(string(body)))
		}
		last = e.log.take()
		total += len(last)
	}
	b.ReportMetric(float64(total)/float64(b.N), "statements/op")
	return last
}

// benchPercentile is the nearest-rank percentile of the latencies, in milliseconds.
func benchPercentile(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	i := max(int(math.Ceil(p*float64(len(sorted))))-1, 0)
	return float64(sorted[i]) / float64(time.Millisecond)
}

// bareRow is what the bare server shows of a request.
type bareRow struct {
	Reference, Title, Status, Organisation string
	Received                               time.Time
}

var (
	bareList = template.Must(template.New("list").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Requests</title></head>
<body><main><h1>Requests</h1><table><thead><tr><th>Reference</th><th>Title</th><th>Raised by</th><th>Status</th><th>Received</th></tr></thead><tbody>
{{range .}}<tr><td><a href="/requests/{{.Reference}}">{{.Reference}}</a></td><td>{{.Title}}</td><td>{{.Organisation}}</td><td>{{.Status}}</td><td>{{.Received.Format "2 January 2006"}}</td></tr>
{{end}}</tbody></table></main></body></html>`))
	bareDashboard = template.Must(template.New("dashboard").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>National dashboard</title></head>
<body><main><h1>National dashboard</h1><table><thead><tr><th>Status</th><th>Requests</th></tr></thead><tbody>
{{range .}}<tr><td>{{.Status}}</td><td><a href="/requests?status={{.Status}}">{{.N}}</a></td></tr>
{{end}}</tbody></table></main></body></html>`))
	bareShow = template.Must(template.New("show").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Reference}}: {{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1><dl><dt>Reference</dt><dd>{{.Reference}}</dd><dt>Raised by</dt><dd>{{.Organisation}}</dd>
<dt>Status</dt><dd>{{.Status}}</dd><dt>Received</dt><dd>{{.Received.Format "2 January 2006"}}</dd></dl></main></body></html>`))
)

// newBareServer is the least a page could cost: fiber, one pgx query, a small template.
func newBareServer(pool *pgxpool.Pool, developer int64) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, Immutable: true, ReadTimeout: 30 * time.Second, IdleTimeout: 5 * time.Second})
	render := func(c *fiber.Ctx, t *template.Template, data any) error {
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return err
		}
		c.Type("html", "utf-8")
		return c.Send(buf.Bytes())
	}
	app.Get("/requests", func(c *fiber.Ctx) error {
		rows, err := pool.Query(c.UserContext(), `SELECT r.reference, r.title, r.status, o.name, r.received_at
			FROM requests AS r JOIN organisations AS o ON o.id = r.organisation_id
			WHERE r.kind = $1 ORDER BY r.received_at DESC, r.id DESC LIMIT 25`, request.KindEnhancement)
		if err != nil {
			return err
		}
		defer rows.Close()
		var list []bareRow
		for rows.Next() {
			var r bareRow
			if err := rows.Scan(&r.Reference, &r.Title, &r.Status, &r.Organisation, &r.Received); err != nil {
				return err
			}
			list = append(list, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return render(c, bareList, list)
	})
	app.Get("/requests/:ref", func(c *fiber.Ctx) error {
		var r bareRow
		err := pool.QueryRow(c.UserContext(), `SELECT r.reference, r.title, r.status, o.name, r.received_at
			FROM requests AS r JOIN organisations AS o ON o.id = r.organisation_id WHERE r.reference = $1`, c.Params("ref")).
			Scan(&r.Reference, &r.Title, &r.Status, &r.Organisation, &r.Received)
		if err != nil {
			return err
		}
		return render(c, bareShow, r)
	})
	// Search: the one query a full-text search of the list needs, served by the search index.
	app.Get("/search", func(c *fiber.Ctx) error {
		rows, err := pool.Query(c.UserContext(), `SELECT r.reference, r.title, r.status, o.name, r.received_at
			FROM requests AS r JOIN organisations AS o ON o.id = r.organisation_id
			WHERE r.search @@ websearch_to_tsquery('english', $1)
			ORDER BY ts_rank(r.search, websearch_to_tsquery('english', $1)) DESC, r.id DESC LIMIT 25`, c.Query("q"))
		if err != nil {
			return err
		}
		defer rows.Close()
		var list []bareRow
		for rows.Next() {
			var r bareRow
			if err := rows.Scan(&r.Reference, &r.Title, &r.Status, &r.Organisation, &r.Received); err != nil {
				return err
			}
			list = append(list, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return render(c, bareList, list)
	})
	// Similar titles: the trigram index's query, as JSON.
	app.Get("/similar", func(c *fiber.Ctx) error {
		rows, err := pool.Query(c.UserContext(), `SELECT r.reference, r.title FROM requests AS r
			WHERE r.title % $1 ORDER BY similarity(r.title, $1) DESC LIMIT 5`, c.Query("title"))
		if err != nil {
			return err
		}
		defer rows.Close()
		type match struct{ Reference, Title string }
		var out []match
		for rows.Next() {
			var m match
			if err := rows.Scan(&m.Reference, &m.Title); err != nil {
				return err
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return c.JSON(out)
	})
	// The dashboard: the requests counted by status.
	app.Get("/dashboard", func(c *fiber.Ctx) error {
		rows, err := pool.Query(c.UserContext(), `SELECT status, count(*) FROM requests WHERE kind = $1 GROUP BY status ORDER BY status`, request.KindEnhancement)
		if err != nil {
			return err
		}
		defer rows.Close()
		type count struct {
			Status string
			N      int
		}
		var counts []count
		for rows.Next() {
			var c count
			if err := rows.Scan(&c.Status, &c.N); err != nil {
				return err
			}
			counts = append(counts, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return render(c, bareDashboard, counts)
	})
	// The justification section form: parse the same urlencoded form, one INSERT, a redirect.
	app.Post("/requests/:ref/justification/:section", func(c *fiber.Ctx) error {
		var f bareBenefits
		if err := c.BodyParser(&f); err != nil {
			return fiber.ErrBadRequest
		}
		body, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if _, err := pool.Exec(c.UserContext(), `INSERT INTO bench_bare_posts (body) VALUES ($1)`, string(body)); err != nil {
			return err
		}
		return c.Redirect("/requests/"+url.PathEscape(c.Params("ref"))+"/justification", fiber.StatusSeeOther)
	})
	// The same form saved with the writes a save makes, in one transaction sent in one round trip (a
	// pipeline of its statements): the request locked, the section's answers and the version (only
	// from the version the form was opened at), the timeline event, the saver following the request,
	// a notification and an email to each other follower, and the audit event chained to the trail
	// under its lock. No session, permission, validation or access level: what is left of a save when
	// everything but its writes is taken away.
	app.Post("/requests/:ref/justification-tx/:section", func(c *fiber.Ctx) error {
		var f bareBenefits
		if err := c.BodyParser(&f); err != nil {
			return fiber.ErrBadRequest
		}
		// The answers as the portal keeps them, so that the portal can read what this saved.
		a := request.BenefitsAnswers{QualityBenefits: f.QualityBenefits, Baseline: f.Baseline, Target: f.Target}
		pounds, err := strconv.ParseFloat(strings.ReplaceAll(f.Savings, ",", ""), 64)
		if err != nil {
			return fiber.ErrBadRequest
		}
		a.SavingsPence = int64(math.Round(pounds * 100))
		if a.HoursPerMonth, err = strconv.ParseFloat(f.Hours, 64); err != nil {
			return fiber.ErrBadRequest
		}
		if a.Organisations, err = strconv.Atoi(f.Organisations); err != nil {
			return fiber.ErrBadRequest
		}
		body, err := json.Marshal(a)
		if err != nil {
			return err
		}
		ref, section := c.Params("ref"), c.Params("section")
		batch := &pgx.Batch{}
		batch.Queue(`SELECT id FROM requests WHERE reference = $1 FOR UPDATE`, ref)
		saved := batch.Queue(`UPDATE business_justifications AS bj SET answers = jsonb_set(bj.answers, ARRAY[$2::text], $3::jsonb),
			version = bj.version + 1, submitted_at = NULL, updated_by = $4, updated_at = now()
			FROM requests AS r WHERE r.reference = $1 AND bj.request_id = r.id AND bj.version = $5`, ref, section, string(body), developer, f.Version)
		batch.Queue(`INSERT INTO request_events (request_id, occurred_at, actor_user_id, actor_name, kind, summary)
			SELECT id, now(), $2, 'Benchmark Developer', 'justification_saved', 'Benefits was saved in the business justification.'
			FROM requests WHERE reference = $1`, ref, developer)
		batch.Queue(`INSERT INTO request_followers (request_id, user_id, created_at) SELECT id, $2, now() FROM requests WHERE reference = $1
			ON CONFLICT DO NOTHING`, ref, developer)
		batch.Queue(`WITH f AS (
				SELECT u.id, u.email, u.name FROM requests AS r JOIN request_followers AS f ON f.request_id = r.id
				JOIN users AS u ON u.id = f.user_id WHERE r.reference = $1 AND u.id <> $2
			), n AS (
				INSERT INTO notifications (user_id, event, request_id, title, body, link, in_app, created_at, access_level)
				SELECT f.id, 'justification_changed', r.id, $1 || ': the business justification changed', 'Benefits was saved.',
					'/requests/' || $1 || '/justification', true, now(), 3 FROM f, requests AS r WHERE r.reference = $1
			)
			INSERT INTO email_outbox (user_id, to_address, to_name, subject, body_text, link, created_at, next_attempt_at, access_level)
			SELECT f.id, f.email, f.name, $1 || ': the business justification changed', 'Benefits was saved.',
				'/requests/' || $1 || '/justification', now(), now(), 3 FROM f`, ref, developer)
		batch.Queue(`SELECT audit_append($1, 'bare'::bytea, $2::bytea, now(), $3, 'Benchmark Developer', NULL, 'justification.saved',
			'request', $4, NULL, $5::jsonb, '127.0.0.1', '')`, audit.LockKey, body, developer, ref, string(body))
		var rows int64
		saved.Exec(func(tag pgconn.CommandTag) error { rows = tag.RowsAffected(); return nil })
		if err := pool.SendBatch(c.UserContext(), batch).Close(); err != nil {
			return err
		}
		if rows != 1 {
			return fiber.ErrConflict
		}
		return c.Redirect("/requests/"+url.PathEscape(ref)+"/justification", fiber.StatusSeeOther)
	})
	return app
}

// bareBenefits is the benefits section's form as the bare server reads it.
type bareBenefits struct {
	Version         int    `form:"version" json:"version"`
	Savings         string `form:"savings" json:"savings"`
	Hours           string `form:"hours" json:"hours"`
	Organisations   string `form:"organisations" json:"organisations"`
	QualityBenefits string `form:"quality_benefits" json:"quality_benefits"`
	Baseline        string `form:"baseline" json:"baseline"`
	Target          string `form:"target" json:"target"`
}

// pickSavers chooses benchWorkers requests in requirements and justification, one a worker, signs a
// development team user in once a worker, and makes the bare server's scratch table.
func (e *benchPortal) pickSavers(b *testing.B, tdb *dbtest.TestDB, orgID int64) {
	ctx := context.Background()
	var rows []struct {
		Reference string `bun:"reference"`
		ID        int64  `bun:"id"`
	}
	if err := tdb.DB.NewSelect().Table("requests").Column("reference", "id").
		Where("kind = ?", request.KindEnhancement).Where("status = ?", request.StatusRequirementsJustification).
		Order("received_at DESC", "id DESC").Limit(benchWorkers).Scan(ctx, &rows); err != nil {
		b.Fatalf("requests in requirements and justification: %v", err)
	}
	if len(rows) < benchWorkers {
		b.Fatalf("%d requests in requirements and justification, want %d", len(rows), benchWorkers)
	}
	dev, err := identity.Create(ctx, tdb.DB, audit.Actor{Name: "benchmark"}, benchNow, identity.NewUser{
		Email: "developer.bench@test.nhs.uk", Name: "Benchmark Developer", OrganisationID: orgID,
		Roles: []string{identity.RoleDevelopmentTeam}, Password: testPassword,
	})
	if err != nil {
		b.Fatal(err)
	}
	e.developer = dev.ID
	for _, r := range rows {
		token, err := identity.StartSession(ctx, tdb.DB, dev.ID, benchNow, identity.Client{IP: "127.0.0.1"}, identity.PassedNow(benchNow, identity.VerifiedByTOTP))
		if err != nil {
			b.Fatal(err)
		}
		e.saves = append(e.saves, benchSaver{ref: r.Reference, id: r.ID, cookie: &http.Cookie{Name: e.cookie.Name, Value: token}})
	}
	if _, err := tdb.Owner(b).ExecContext(ctx, "CREATE TABLE bench_bare_posts (id bigserial PRIMARY KEY, body text NOT NULL)"); err != nil {
		b.Fatal(err)
	}
}

var (
	benchCSRF    = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	benchVersion = regexp.MustCompile(`name="version" value="(\d+)"`)
)

// benchSection is the section JustificationSave saves: numbers and three short texts.
const benchSection = request.SectionBenefits

// justificationSaves posts the benefits section of the business justification, valid and changed
// every time so that each post writes (answers, version, timeline event, audit event, notifications),
// beside the bare server's POST. Each worker saves its own request's justification; its version is
// read from the database before each round and counts up by one with each save, and after each round
// the database must agree, so every save is known to have succeeded and written.
func (e *benchPortal) justificationSaves(b *testing.B) {
	for i := range e.saves {
		s := &e.saves[i]
		var body strings.Builder
		page := e.portalURL + "/requests/" + s.ref + "/justification/" + benchSection
		if _, err := e.send(http.MethodGet, page, s.cookie, nil, &body); err != nil {
			b.Fatalf("%v\n%s", err, excerpt(body.String()))
		}
		csrf, version := benchCSRF.FindStringSubmatch(body.String()), benchVersion.FindStringSubmatch(body.String())
		if csrf == nil || version == nil {
			b.Fatalf("GET %s: no form token or version\n%s", page, excerpt(body.String()))
		}
		s.csrf = csrf[1]
	}
	form := func(s *benchSaver) url.Values {
		n := e.saved.Add(1)
		return url.Values{
			"_csrf":            {s.csrf},
			"version":          {strconv.Itoa(s.version)},
			"savings":          {"12,500"},
			"hours":            {"7.5"},
			"organisations":    {strconv.Itoa(int(n%600) + 1)},
			"quality_benefits": {fmt.Sprintf("Fewer lapsed competences (save %d)", n)},
			"baseline":         {"82% compliant"},
			"target":           {"90% compliant"},
		}
	}
	// saving posts each worker's form to its address (from the worker's request reference), wanting a
	// redirect to where, and wants the database to agree afterwards that every post saved.
	saving := func(address, where func(ref string) string) func(lat []time.Duration) (time.Duration, error) {
		return func(lat []time.Duration) (time.Duration, error) {
			if err := e.readVersions(); err != nil {
				return 0, err
			}
			d, err := burstOf(lat, func(w int) error {
				s := &e.saves[w]
				target := address(s.ref)
				res, err := e.send(http.MethodPost, target, s.cookie, form(s), io.Discard)
				if err != nil {
					return err
				}
				if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, where(s.ref)) {
					return fmt.Errorf("POST %s with version %d: status %d, to %q", target, s.version, res.StatusCode, loc)
				}
				s.version++
				return nil
			})
			if err != nil {
				return d, err
			}
			want := make([]int, len(e.saves))
			for i, s := range e.saves {
				want[i] = s.version
			}
			if err := e.readVersions(); err != nil {
				return d, err
			}
			for i, s := range e.saves {
				if s.version != want[i] {
					return d, fmt.Errorf("the justification of %s is at version %d after the round, want %d: a save did not write", s.ref, s.version, want[i])
				}
			}
			return d, nil
		}
	}
	justification := func(ref string) string { return "/requests/" + ref + "/justification" }
	portal := saving(func(ref string) string { return e.portalURL + justification(ref) + "/" + benchSection }, justification)
	bareTx := saving(func(ref string) string { return e.bareURL + "/requests/" + ref + "/justification-tx/" + benchSection }, justification)
	bare := func(lat []time.Duration) (time.Duration, error) {
		return burstOf(lat, func(w int) error {
			s := &e.saves[w]
			target := e.bareURL + "/requests/" + s.ref + "/justification/" + benchSection
			res, err := e.send(http.MethodPost, target, s.cookie, form(s), io.Discard)
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusSeeOther {
				return fmt.Errorf("POST %s: status %d", target, res.StatusCode)
			}
			return nil
		})
	}
	// The bare transaction must write what a save writes: one save of each, counting the rows each
	// adds, twice over (only the portal's first follows the request: the saver then follows it).
	one := func(save func([]time.Duration) (time.Duration, error)) ([]int64, error) {
		before, err := e.writes()
		if err != nil {
			return nil, err
		}
		if _, err := save(make([]time.Duration, 1)); err != nil {
			return nil, err
		}
		after, err := e.writes()
		if err != nil {
			return nil, err
		}
		for i := range after {
			after[i] -= before[i]
		}
		return after, nil
	}
	for i := range 2 {
		p, err := one(portal)
		if err != nil {
			b.Fatal(err)
		}
		t, err := one(bareTx)
		if err != nil {
			b.Fatal(err)
		}
		if i == 1 && !slices.Equal(p, t) {
			b.Fatalf("rows added to %s: %v by the portal's save, %v by the bare transaction", strings.Join(benchWritten, ", "), p, t)
		}
	}
	e.contest(b, contestant{"portal_", portal}, contestant{"bare_", bare}, contestant{"bare_tx_", bareTx})
}

// benchWritten are the tables a save of the justification adds rows to.
var benchWritten = []string{"request_events", "request_followers", "notifications", "email_outbox", "audit_events"}

// writes counts the rows of each of benchWritten.
func (e *benchPortal) writes() ([]int64, error) {
	n := make([]int64, len(benchWritten))
	for i, t := range benchWritten {
		if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+t).Scan(&n[i]); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// readVersions reads the current version of each worker's justification.
func (e *benchPortal) readVersions() error {
	ids := make([]int64, len(e.saves))
	for i, s := range e.saves {
		ids[i] = s.id
		e.saves[i].version = 0 // none saved yet
	}
	rows, err := e.pool.Query(context.Background(), `SELECT request_id, version FROM business_justifications WHERE request_id = ANY($1)`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var version int
		if err := rows.Scan(&id, &version); err != nil {
			return err
		}
		for i := range e.saves {
			if e.saves[i].id == id {
				e.saves[i].version = version
			}
		}
	}
	return rows.Err()
}

// send makes a request with the cookie, as a form post when form is not nil, copies the body to w and
// returns the response, its body read.
func (e *benchPortal) send(method, target string, cookie *http.Cookie, form url.Values, w io.Writer) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(cookie)
	res, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(w, res.Body); err != nil {
		return res, fmt.Errorf("%s %s: %w", method, target, err)
	}
	if method == http.MethodGet && res.StatusCode != http.StatusOK {
		return res, fmt.Errorf("GET %s: status %d", target, res.StatusCode)
	}
	return res, nil
}
