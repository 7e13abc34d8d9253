package request

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhs-esr/portal/app/database"
	"github.com/uptrace/bun"
)

// Filter narrows and orders a list of requests. Zero values do not filter.
type Filter struct {
	Kind           string
	Statuses       []Status
	FunctionalArea string
	NSIGID         int64
	RegionID       int16
	OrganisationID int64
	AssigneeID     int64
	// SLA is the acknowledgement clock: "overdue", "due_today", "due" (not yet acknowledged, due later)
	// or "acknowledged".
	SLA string
	// Today is the date (Europe/London) the SLA filter compares with.
	Today         time.Time
	RaisedFrom    time.Time // inclusive
	RaisedTo      time.Time // exclusive
	Query         string    // full-text search over title and text
	Sort          string    // "newest" (default), "oldest", "due", "reference", "title", "support"
	Limit, Offset int
	// NoCount skips counting the matches (an export needs only the rows).
	NoCount bool
	// BestOfNewest ranks a search's best matches among its BestMatchCandidates newest matches only
	// (every match when there are no more): the list page's bound on ranking thousands of requests
	// that share a common word. An export, which leaves it false, ranks every match.
	BestOfNewest bool
	Drill        // the requests behind a dashboard's figure (drill.go)
}

// Count is how many requests match a list's filter: exact up to CountCap, and beyond it the planner's
// estimate, so that a list of 100,000 requests never waits on counting them all.
type Count struct {
	N     int
	Exact bool
	// Newest is set when a search sorted by best match under Filter.BestOfNewest matched more than
	// BestMatchCandidates and so ranked only the newest of them.
	Newest bool
}

// CountCap is how many matching requests a list counts exactly.
const CountCap = 1000

// BestMatchCandidates is how many of a search's newest matches a list sorted by best match ranks when
// its filter asks for the bound (Filter.BestOfNewest): 20 pages of 25. Ranking reads every candidate's
// text, so a word found in a fifth of 100,000 requests would otherwise read 20,000 rows for every page
// of results; ranking 500 rather than 1,000 halves the rows a common search walks and ranks (fresh
// search at 100,000 requests, 4 clients: p95 21 ms → 16 ms).
const BestMatchCandidates = 500

// Capped reports whether a list of c matches sorted by best match under Filter.BestOfNewest ranked
// only the newest BestMatchCandidates of them.
func (c Count) Capped() bool { return c.Newest }

// Words is the count as a page says it: "1,234", or "about 98,000" for an estimate (two significant
// figures, never below the cap it passed: BestMatchCandidates for the newest matches of a search,
// CountCap otherwise).
func (c Count) Words() string {
	if c.Exact {
		return withCommas(c.N)
	}
	n := c.N
	for unit := 1; ; unit *= 10 {
		if n < 100*unit {
			n = (n + unit/2) / unit * unit
			break
		}
	}
	passed := CountCap
	if c.Newest {
		passed = BestMatchCandidates
	}
	return "about " + withCommas(max(n, passed))
}

// Sentence is Words to begin a sentence or a heading with: "About 98,000".
func (c Count) Sentence() string {
	w := c.Words()
	return strings.ToUpper(w[:1]) + w[1:]
}

// One reports whether the count is exactly one.
func (c Count) One() bool { return c.Exact && c.N == 1 }

// withCommas writes n with a comma every three digits: 10000 → "10,000".
func withCommas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Sorts are the orders a list can take, for the sort control.
var Sorts = []struct{ Value, Label string }{
	{"newest", "Newest first"},
	{"oldest", "Oldest first"},
	{"due", "Acknowledgement due date"},
	{"support", "Most supported"},
	{"reference", "Reference"},
	{"title", "Title"},
}

// Row is one request in a list.
type Row struct {
	Request        `bun:",extend"`
	FunctionalArea string  `bun:"functional_area,scanonly"`
	Urgency        string  `bun:"urgency,scanonly"`
	SRNumber       string  `bun:"sr_number,scanonly"`
	Rank           float64 `bun:"rank,scanonly"`
	// Matched is how many requests a search sorted by best match under Filter.BestOfNewest found,
	// counted to BestMatchCandidates + 1, and OldestMatch the lowest id among them (List sets both).
	Matched     int   `bun:"-"`
	OldestMatch int64 `bun:"-"`
}

// List returns the requests the viewer may see that match f, and how many match in all (exactly up to
// CountCap, or BestMatchCandidates for a search sorted by best match under f.BestOfNewest; about how
// many beyond). It is one statement for the page and one for the count (two when the count passes
// the cap), whatever the page size. A search sorted by best match under f.BestOfNewest is one
// statement for the newest id and whether the search is common, one for the page's ids and the count,
// and one for the page's requests (bestOfNewest); past the cap, a search with no other filter
// extrapolates its count from how densely its newest matches lie among the newest ids, and one with
// other filters asks the planner for its estimate in a fourth.
func List(ctx context.Context, db bun.IDB, v Viewer, f Filter) ([]Row, Count, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 25
	}
	query := strings.TrimSpace(f.Query)
	newestFirst := query != "" && f.Sort == "relevance" && f.BestOfNewest && !f.NoCount
	var rows []Row
	var newest int64
	if newestFirst {
		var err error
		if rows, newest, err = bestOfNewest(ctx, db, v, f, query); err != nil {
			return nil, Count{}, err
		}
	} else {
		// The page's requests are chosen from requests alone, ordered and cut to the page; only those are
		// then joined to the names the page shows beside them, so that a search matching thousands of
		// requests joins 25.
		page := f.where(v.visible(db.NewSelect().TableExpr("requests AS r").ColumnExpr(requestColumns)), v)
		rank := "0::real"
		if query != "" {
			expr, args := v.rankExpr("websearch_to_tsquery", query)
			page = page.ColumnExpr(expr+" AS rank", args...)
			rank = "r.rank"
		} else {
			page = page.ColumnExpr("0::real AS rank")
		}
		var order string
		switch f.Sort {
		case "oldest":
			order = "r.received_at ASC, r.id ASC"
		case "due":
			order = "r.acknowledged_at IS NOT NULL, r.ack_due_on ASC, r.id ASC"
		case "reference":
			order = "r.reference ASC"
		case "title":
			order = "lower(r.title) ASC, r.id ASC"
		case "support":
			page = page.ColumnExpr("(SELECT count(*) FROM request_supports AS s WHERE s.request_id = r.id) AS support_order")
			order = "r.support_order DESC, r.received_at DESC, r.id DESC"
		case "relevance":
			if query != "" {
				order = "r.rank DESC, r.id DESC"
				break
			}
			fallthrough
		default:
			order = "r.received_at DESC, r.id DESC"
		}
		// Inside the page's query the computed columns are named bare; outside, from the subquery r.
		inner := strings.NewReplacer("r.rank", "rank", "r.support_order", "support_order").Replace(order)
		page = page.OrderExpr(inner).Limit(int64(f.Limit)).Offset(int64(f.Offset))
		q := withEnhancement(selectRequests(db, &rows).ModelTableExpr("(?) AS r", page).ColumnExpr(rank + " AS rank")).
			OrderExpr(order)
		if err := q.Scan(ctx); err != nil {
			return nil, Count{}, fmt.Errorf("list requests: %w", err)
		}
	}
	if f.NoCount {
		return rows, Count{N: len(rows), Exact: true}, nil
	}
	var n Count
	var err error
	switch {
	case !newestFirst:
		n, err = countMatches(ctx, db, v, f)
	case len(rows) == 0 && f.Offset > 0:
		n, err = countMatches(ctx, db, v, f) // past the last page, the count is read on its own
		n.Newest = n.N > BestMatchCandidates
	case len(rows) == 0:
		n = Count{N: 0, Exact: true}
	case rows[0].Matched <= BestMatchCandidates:
		n = Count{N: rows[0].Matched, Exact: true}
	case f.narrowed(db, v):
		n, err = estimateMatches(ctx, db, v, f, rows[0].Matched)
		n.Newest = true
	default:
		// A search and nothing else: the candidates are the newest matches, so how densely they lie
		// among the newest ids says about how many there are among them all.
		n = Count{N: max(rows[0].Matched, int(int64(rows[0].Matched)*newest/max(newest-rows[0].OldestMatch+1, 1))), Newest: true}
	}
	if err != nil {
		return nil, Count{}, err
	}
	return rows, n, nil
}

// bestOfNewest is List's page for a search sorted by best match under Filter.BestOfNewest, with the
// newest request's id: the best of the newest BestMatchCandidates matches, each Row's Matched and
// OldestMatch set from the candidates.
func bestOfNewest(ctx context.Context, db bun.IDB, v Viewer, f Filter, query string) ([]Row, int64, error) {
	// The candidates (matches, below) are the newest BestMatchCandidates + 1 matches with their
	// rank; the page ranks the newest BestMatchCandidates of them, and counting them says whether
	// there are more.
	newest, common, err := newestAndCommon(ctx, db, v, f)
	if err != nil {
		return nil, 0, err
	}
	matches := newestMatches(db, v, f, query, newest, common)
	// The page's ids and ranks first, with the candidates' count and oldest id; then its requests
	// whole, with the names shown beside them, by a statement whose text never changes, so that
	// PostgreSQL plans its joins once a connection rather than with every search. That statement
	// reads only the ids the first chose under the viewer's access.
	var ranked []struct {
		ID          int64   `bun:"id"`
		Rank        float64 `bun:"rank"`
		Matched     int     `bun:"matched"`
		OldestMatch int64   `bun:"oldest_match"`
	}
	err = db.NewSelect().With("matches", matches).
		TableExpr(`(SELECT id, rank FROM (SELECT id, rank FROM matches ORDER BY id DESC LIMIT ?) AS m
			ORDER BY rank DESC, id DESC LIMIT ? OFFSET ?) AS m`, BestMatchCandidates, f.Limit, f.Offset).
		ColumnExpr("m.id, m.rank, (SELECT count(*) FROM matches) AS matched, (SELECT min(id) FROM matches) AS oldest_match").
		OrderExpr("m.rank DESC, m.id DESC").Scan(ctx, &ranked)
	if err != nil {
		return nil, 0, fmt.Errorf("list requests: %w", err)
	}
	if len(ranked) == 0 {
		return nil, newest, nil
	}
	ids := make([]int64, len(ranked))
	for i, r := range ranked {
		ids[i] = r.ID
	}
	var read []Row
	text := pageRowsSQL.Text(func() string {
		return withEnhancement(selectRequests(db, &read)).Where("r.id = ANY(?::bigint[])", bun.Safe("?0")).String()
	})
	if err := database.ScanPrepared(ctx, db, text, &read, database.Array(ids)); err != nil {
		return nil, 0, fmt.Errorf("list requests: %w", err)
	}
	// In the order ranked; a request deleted between the two statements is left out.
	place := make(map[int64]int, len(ranked))
	for i, r := range ranked {
		place[r.ID] = i
	}
	slices.SortFunc(read, func(a, b Row) int { return place[a.ID] - place[b.ID] })
	for i := range read {
		r := ranked[place[read[i].ID]]
		read[i].Rank, read[i].Matched, read[i].OldestMatch = r.Rank, r.Matched, r.OldestMatch
	}
	return read, newest, nil
}

// newestAndCommon reads the newest request's id and whether f's search is common: whether at least
// commonSearch.matches of the newest commonSearch.probe ids are requests the viewer may see that match
// it, read in order of id (a few hundred microseconds).
func newestAndCommon(ctx context.Context, db bun.IDB, v Viewer, f Filter) (newest int64, common bool, err error) {
	probe := f.conditions(v.visible(db.NewSelect().TableExpr("requests AS r").ColumnExpr("count(*)")), v, true).
		Where("r.id <= n.newest AND r.id > n.newest - ?", commonSearch.probe)
	err = db.NewSelect().TableExpr("(SELECT COALESCE(max(id), 0) AS newest FROM requests) AS n").
		ColumnExpr("n.newest").ColumnExpr("(?) >= ?", probe, commonSearch.matches).Scan(ctx, &newest, &common)
	if err != nil {
		return 0, false, fmt.Errorf("newest request: %w", err)
	}
	return newest, common, nil
}

// newestMatches is, as a table of ids and their rank, the BestMatchCandidates + 1 newest requests (by
// id, the order they were recorded) that the viewer may see and that match f, newest being the highest
// id there is.
//
// A rare search's matches are read in parts of ids: the newest 5,000, then the 15,000 before them, then
// the 45,000 before those, then the rest (matchWindows), each through the search indexes narrowed to
// its ids and only as far as the candidates need: PostgreSQL runs the parts of a UNION ALL one after
// another and stops at the LIMIT (never in parallel workers, which would run them at once). A common
// search (newestAndCommon) walks the newest commonSearch.walk ids down one by one instead, without the
// indexes (its condition IS TRUE, which no index serves), and stops as soon as enough match — the
// indexes would find every one of a common word's thousands of matches, and the planner, which takes
// two words together to be as rare as the product of their frequencies, reads two common words so
// when walking would stop within a few thousand ids; the rest, should the walk find too few, through
// the indexes.
//
// Only the rank of the candidates is kept, so the page reads whole only the requests it shows.
func newestMatches(db bun.IDB, v Viewer, f Filter, query string, newest int64, common bool) *bun.SelectQuery {
	// Each part reads only what ranking needs: the two documents, and whether the viewer may read the
	// whole request.
	full, fullArgs := v.condition(AccessFull)
	part := func(walk bool, window string, args ...any) *bun.SelectQuery {
		q := db.NewSelect().TableExpr("requests AS r").ColumnExpr("r.id, r.summary_search, r.search, ("+full+") AS full_access", fullArgs...)
		return f.conditions(v.visible(q), v, walk).Where(window, args...).OrderExpr("r.id DESC")
	}
	var parts []any
	upper := newest + 1
	if common {
		upper = max(upper-commonSearch.walk, 0)
		parts = append(parts, part(true, "r.id >= ?", upper))
	} else {
		for _, w := range matchWindows {
			lower := max(upper-w, 0)
			parts = append(parts, part(false, "r.id < ? AND r.id >= ?", upper, lower))
			upper = lower
		}
	}
	parts = append(parts, part(false, "r.id < ?", upper))
	texts := strings.TrimSuffix(strings.Repeat("(?) UNION ALL ", len(parts)), " UNION ALL ")
	rank, rankArgs := rankOf("r.full_access", nil, "websearch_to_tsquery", query)
	// serially (migration 20261205050000) keeps PostgreSQL from running the parts at once in parallel
	// workers, whose rows would then come in any order and the limit keep matches that are not the newest.
	return db.NewSelect().TableExpr("("+texts+" LIMIT serially(?)) AS r", append(parts, BestMatchCandidates+1)...).
		ColumnExpr("r.id").ColumnExpr(rank+" AS rank", rankArgs...)
}

// withEnhancement adds to a list's query the enhancement's answers a Row shows (empty for other kinds).
func withEnhancement(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr("COALESCE(e.functional_area, '') AS functional_area, COALESCE(e.urgency, '') AS urgency, COALESCE(e.sr_number, '') AS sr_number").
		Join("LEFT JOIN enhancement_requests AS e ON e.request_id = r.id")
}

// pageRowsSQL reads requests by id for a page of best matches among the newest (List).
var pageRowsSQL database.FixedSQL

// matchWindows are how many ids newestMatches reads in each part before the last, newest first.
var matchWindows = []int64{5000, 15000, 45000}

// commonSearch says when a search is common (newestAndCommon): when at least matches of the newest
// probe ids match it, a tenth; newestMatches then walks the newest walk ids.
var commonSearch = struct{ probe, matches, walk int64 }{500, 50, 20000}

// countMatches counts the requests matching f, reading requests alone (without the joins the page needs
// for names) and stopping after CountCap + 1; past the cap it asks the planner for its estimate.
func countMatches(ctx context.Context, db bun.IDB, v Viewer, f Filter) (Count, error) {
	matches := f.where(v.visible(db.NewSelect().TableExpr("requests AS r").ColumnExpr("1")), v)
	var n int
	if err := db.NewSelect().TableExpr("(?) AS m", matches.Limit(CountCap+1)).ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
		return Count{}, fmt.Errorf("count requests: %w", err)
	}
	if n <= CountCap {
		return Count{N: n, Exact: true}, nil
	}
	return estimateMatches(ctx, db, v, f, n)
}

// narrowed reports whether f narrows the requests by anything besides its search words.
func (f Filter) narrowed(db bun.IDB, v Viewer) bool {
	conditions := func(f Filter) string {
		return f.where(db.NewSelect().TableExpr("requests AS r"), v).String()
	}
	return conditions(f) != conditions(Filter{Query: f.Query, Today: f.Today})
}

// estimateMatches is the planner's estimate of how many requests match f, known to be at least n.
func estimateMatches(ctx context.Context, db bun.IDB, v Viewer, f Filter, n int) (Count, error) {
	var plan string
	if err := db.NewRaw("EXPLAIN (FORMAT JSON) ?", f.where(v.visible(db.NewSelect().TableExpr("requests AS r").ColumnExpr("1")), v)).Scan(ctx, &plan); err != nil {
		return Count{}, fmt.Errorf("estimate requests: %w", err)
	}
	var explained []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &explained); err != nil || len(explained) == 0 {
		return Count{}, fmt.Errorf("read the estimate of requests: %v", err)
	}
	return Count{N: max(n, int(explained[0].Plan.Rows)), Exact: false}, nil
}

// where applies the filter's conditions, which name only requests (alias r) and subqueries, so that
// the same conditions serve the page and its count. A search matches a request on what the viewer may
// read of it: the whole text of requests they may see in full, the summary of the rest.
func (f Filter) where(q *bun.SelectQuery, v Viewer) *bun.SelectQuery {
	return f.conditions(q, v, false)
}

// conditions are where's, with a search's condition, when walk is set, written so that no index serves
// it (IS TRUE): a query that reads requests in order of id then filters them rather than finding the
// matches through the search indexes.
func (f Filter) conditions(q *bun.SelectQuery, v Viewer, walk bool) *bun.SelectQuery {
	if f.Kind != "" {
		q = q.Where("r.kind = ?", f.Kind)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("r.status IN (?)", bun.List(f.Statuses))
	}
	if f.FunctionalArea != "" {
		q = q.Where("r.id IN (SELECT request_id FROM enhancement_requests WHERE functional_area = ?)", f.FunctionalArea)
	}
	if f.NSIGID != 0 {
		q = q.Where("r.nsig_id = ?", f.NSIGID)
	}
	if f.RegionID != 0 {
		q = q.Where("r.organisation_id IN (SELECT id FROM organisations WHERE region_id = ?)", f.RegionID)
	}
	if f.OrganisationID != 0 {
		q = q.Where("r.organisation_id = ?", f.OrganisationID)
	}
	if f.AssigneeID != 0 {
		q = q.Where("r.assignee_id = ?", f.AssigneeID)
	}
	today := f.Today.Format("2006-01-02")
	switch f.SLA {
	case "overdue":
		q = q.Where("r.acknowledged_at IS NULL AND r.ack_due_on < ?::date", today)
	case "due_today":
		q = q.Where("r.acknowledged_at IS NULL AND r.ack_due_on = ?::date", today)
	case "due":
		q = q.Where("r.acknowledged_at IS NULL AND r.ack_due_on > ?::date", today)
	case "acknowledged":
		q = q.Where("r.acknowledged_at IS NOT NULL")
	}
	if !f.RaisedFrom.IsZero() {
		q = q.Where("r.received_at >= ?", f.RaisedFrom)
	}
	if !f.RaisedTo.IsZero() {
		q = q.Where("r.received_at < ?", f.RaisedTo)
	}
	if query := strings.TrimSpace(f.Query); query != "" {
		cond, args := v.matches("websearch_to_tsquery", query)
		cond = "(" + cond + " OR r.reference = upper(?))"
		if walk {
			cond = "(" + cond + " IS TRUE)"
		}
		q = q.Where(cond, append(args, query)...)
	}
	return f.drillWhere(q, v)
}

// matches is the full-text condition for a search: the summary document of any request, or the whole
// request's text where the viewer may see it in full. tsquery names the function that parses query.
func (v Viewer) matches(tsquery, query string) (string, []any) {
	full, fullArgs := v.condition(AccessFull)
	args := append([]any{query}, fullArgs...)
	return "(r.summary_search @@ " + tsquery + "('english', ?) OR (" + full + " AND r.search @@ " + tsquery + "('english', ?)))",
		append(args, query)
}

// rankExpr is a search's relevance: the better of the summary's match and, where the viewer may see
// the whole request, the whole text's. The rank is scaled to between 0 and 1 (ts_rank's normalisation
// 32, rank / (rank + 1)).
func (v Viewer) rankExpr(tsquery, query string) (string, []any) {
	full, fullArgs := v.condition(AccessFull)
	return rankOf(full, fullArgs, tsquery, query)
}

// rankOf is rankExpr with full the condition (and fullArgs its values) that the viewer may read the
// whole request.
func rankOf(full string, fullArgs []any, tsquery, query string) (string, []any) {
	args := append([]any{query}, fullArgs...)
	return "greatest(ts_rank(r.summary_search, " + tsquery + "('english', ?), 32), CASE WHEN " + full +
		" THEN ts_rank(r.search, " + tsquery + "('english', ?), 32) ELSE 0 END)", append(args, query)
}

// Similar is an existing request that looks like one being written.
type Similar struct {
	Reference        string  `bun:"reference"`
	Title            string  `bun:"title"`
	Status           Status  `bun:"status"`
	OrganisationName string  `bun:"organisation_name"`
	OrganisationID   int64   `bun:"organisation_id"`
	SupportCount     int     `bun:"support_count"`
	Score            float64 `bun:"score"`
}

// FindSimilar returns up to limit requests of a kind that the viewer may see whose titles look like
// title (trigram similarity) or whose text matches its words (full text); closed requests are left out,
// and so is excludeID.
func FindSimilar(ctx context.Context, db bun.IDB, v Viewer, kind, title string, excludeID int64, limit int) ([]Similar, error) {
	title = strings.TrimSpace(title)
	if len([]rune(title)) < 4 {
		return nil, nil
	}
	var out []Similar
	// The title is a parameter, so that the statement is planned once a connection for each kind of
	// viewer rather than for every title typed.
	text := similarQuery(db, v, kind, bun.Safe("$1"), excludeID, limit).String()
	if err := database.ScanPrepared(ctx, db, text, &out, title); err != nil {
		return nil, fmt.Errorf("find similar requests: %w", err)
	}
	return out, nil
}

// SimilarSQL is the statement FindSimilar runs for title, with the title written into it, for
// explaining.
func SimilarSQL(db bun.IDB, v Viewer, kind, title string) string {
	return similarQuery(db, v, kind, strings.TrimSpace(title), 0, 5).String()
}

// similarCandidates is how many of the nearest titles FindSimilar scores; it also scores five times as
// many of the newest requests whose text has all the title's words.
const similarCandidates = 20

// similarQuery is FindSimilar's query, title either the title or its placeholder. Scoring every
// request that shares a few letters or a word with the title would read thousands of rows; instead the
// candidates are the open requests the viewer may see whose titles are nearest to it (the title's
// trigram GiST index, read in order of distance) and the newest of those whose summary (title and
// summary text, which anyone who may see a request may see) has all its words (the summary's search
// index). Only they are scored — on the title's likeness and the words of everything the viewer may
// see — filtered to a title at least as alike as title % (similarity 0.3) or a text match, joined to
// their organisations and counted for support.
func similarQuery(db bun.IDB, v Viewer, kind string, title any, excludeID int64, limit int) *bun.SelectQuery {
	open := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("r.kind = ?", kind).
			Where("r.status NOT IN (?)", bun.List([]Status{StatusWithdrawn, StatusNotTakenForward, StatusNotApproved}))
		if excludeID != 0 {
			q = q.Where("r.id <> ?", excludeID)
		}
		return v.visible(q)
	}
	near := open(db.NewSelect().TableExpr("requests AS r").Column("r.id")).OrderExpr("r.title <-> ?", title).Limit(similarCandidates)
	// The newest of the summaries with all the words: a word common in the requests' longer texts
	// matches thousands, whose rows would all be read to find the newest.
	words := open(db.NewSelect().TableExpr("requests AS r").Column("r.id")).Where("r.summary_search @@ plainto_tsquery('english', ?)", title).
		OrderExpr("r.received_at DESC, r.id DESC").Limit(5 * similarCandidates)
	// How alike the titles are decides; sharing words in the text breaks ties and lifts a title that says
	// the same thing in other words.
	full, fullArgs := v.condition(AccessFull)
	match := "(r.summary_search @@ plainto_tsquery('english', ?) OR (" + full + " AND r.search @@ plainto_tsquery('english', ?)))"
	matchArgs := append(append([]any{title}, fullArgs...), title)
	rank := "greatest(ts_rank(r.summary_search, plainto_tsquery('english', ?), 32), CASE WHEN " + full +
		" THEN ts_rank(r.search, plainto_tsquery('english', ?), 32) ELSE 0 END)"
	rankArgs := append(append([]any{title}, fullArgs...), title)
	best := open(db.NewSelect().TableExpr("requests AS r").ColumnExpr("r.id, r.reference, r.title, r.status, r.organisation_id")).
		ColumnExpr("similarity(r.title, ?) + 0.25 * "+rank+" AS score", append([]any{title}, rankArgs...)...).
		Where("r.id IN ((?) UNION (?))", near, words).
		Where("(r.title % ? OR "+match+")", append([]any{title}, matchArgs...)...).
		OrderExpr("score DESC, r.id DESC").Limit(int64(limit))
	return db.NewSelect().TableExpr("(?) AS r", best).
		ColumnExpr("r.reference, r.title, r.status, o.name AS organisation_name, r.organisation_id, r.score").
		ColumnExpr("(SELECT count(*) FROM request_supports AS s WHERE s.request_id = r.id) AS support_count").
		Join("JOIN organisations AS o ON o.id = r.organisation_id").
		OrderExpr("r.score DESC, r.id DESC")
}

// OnTimeShare is the share of requests received since `since` that were acknowledged by their due
// date, out of those acknowledged or already past due on today (a London date), for the triage
// dashboard.
func OnTimeShare(ctx context.Context, db bun.IDB, kind string, since, today time.Time) (onTime, total int, err error) {
	err = db.NewRaw(`SELECT
		count(*) FILTER (WHERE acknowledged_at IS NOT NULL AND (acknowledged_at AT TIME ZONE 'Europe/London')::date <= ack_due_on),
		count(*) FILTER (WHERE acknowledged_at IS NOT NULL OR ack_due_on < ?::date)
		FROM requests WHERE kind = ? AND received_at >= ?`, today.Format("2006-01-02"), kind, since).Scan(ctx, &onTime, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("acknowledgement share: %w", err)
	}
	return onTime, total, nil
}
