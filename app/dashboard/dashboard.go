// Package dashboard works out the figures of the dashboards: the national one for the central and
// development teams, and the same for a region, an organisation or an NSIG. Every figure that counts
// requests is a Figure: its count and the request.Filter that lists exactly those requests, counted with
// request.Matching, so that the count and the requests list it links to always agree and never include
// a request the viewer may not know of. A dashboard's queries all run in one read-only REPEATABLE READ
// transaction, so its figures add up.
package dashboard

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// Scope is which requests a dashboard is about.
type Scope struct {
	RegionID       int16  // a region's dashboard
	OrganisationID int64  // an organisation's
	NSIGID         int64  // an NSIG's
	Name           string // the region's, organisation's or NSIG's name; "" for the national dashboard
}

// National reports whether the scope is every request.
func (s Scope) National() bool { return s.RegionID == 0 && s.OrganisationID == 0 && s.NSIGID == 0 }

// Period is the dates a dashboard is for, From to To inclusive, as London dates (midnight UTC).
type Period struct {
	From, To time.Time
	Label    string // "Quarter 3 2026/27", "1 October 2026 to 20 November 2026"
}

// Figure is a number of requests and the filter that lists them.
type Figure struct {
	Count  int
	Filter request.Filter
}

// Group is one bar of a breakdown: a label and its figure.
type Group struct {
	Label  string
	Figure Figure
}

// AckMonth is the acknowledgement clock of the requests received in one month.
type AckMonth struct {
	Month time.Time // its first day
	// Overdue: still waiting to be acknowledged after the due date; Measured: acknowledged, or overdue.
	OnTime, Late, Overdue, Measured Figure
}

// Percent is the share of the measured requests acknowledged on time, rounded; -1 when none.
func (m AckMonth) Percent() int {
	if m.Measured.Count == 0 {
		return -1
	}
	return (m.OnTime.Count*100 + m.Measured.Count/2) / m.Measured.Count
}

// StageRow is one stage of the pipeline: the open requests in it now, and the time taken in it by the
// requests that first entered it in the period.
type StageRow struct {
	Stage   request.Status
	Open    Figure // in the stage now
	Entered Figure // first entered it in the period: those measured
	// Median and P90 are the working days in the stage of those measured (percentile_disc: the
	// smallest time that half, or nine in ten, of them took no longer than); -1 when none.
	Median, P90 int
	OverP90     Figure // of those measured, more than P90 working days in the stage
	TotalDays   int    // the working days all of them have spent in it
}

// DecisionQuarter is the decisions of one financial quarter.
type DecisionQuarter struct {
	Label                           string // "Quarter 3 2026/27"
	From, To                        time.Time
	Approved, Deferred, NotApproved Figure
	NotTakenForward                 Figure  // every triage outcome of not taken forward
	Reasons                         []Group // … by reason
}

// ReleaseRow is a release not yet live, or gone live in the period.
type ReleaseRow struct {
	ID           int64
	Number       int
	Name         string
	TargetDate   time.Time
	Status       string
	CapacityDays float64 // 0 with HasCapacity false when not set
	HasCapacity  bool
	UsedDays     float64 // the assessed effort of its changes (national dashboards only)
	Changes      Figure  // the requests allocated to it
}

// Move is a change moved between releases in the period.
type Move struct {
	Reference, Title string
	FromNumber       int
	ToNumber         int
	Reason           string
	MovedAt          time.Time
}

// CoverageRow is one NSIG's requests awaiting a decision and which regions have given their view.
type CoverageRow struct {
	NSIGID int64
	Name   string
	Open   Figure
	Given  []Figure // one a region, in Regions' order
}

// Region is a region as the coverage grid heads it.
type Region struct {
	ID   int16
	Name string
}

// Dashboard is every figure of one dashboard.
type Dashboard struct {
	Scope  Scope
	Period Period
	Today  time.Time

	AckMonths  []AckMonth // the twelve months up to the period's end
	OverdueNow Figure     // waiting to be acknowledged and past the due date today

	Stages  []StageRow
	Slowest int // the index in Stages of the stage where most working days were spent; -1 when none

	Open           Figure
	ByRegion       []Group // empty on a region's or organisation's dashboard
	ByOrganisation []Group // the organisations with the most open requests, at most TopOrganisations
	ByArea         []Group
	ByNSIG         []Group // empty on an NSIG's dashboard

	Awaiting         Figure  // accepted and not yet decided
	BySupporters     []Group // … by how many organisations support them
	BySupportRegions []Group // … by how many regions those organisations are in

	Decisions []DecisionQuarter // oldest first

	Releases     []ReleaseRow
	ShowCapacity bool // the viewer may see assessed effort: the central and development teams
	Moved        Figure
	Moves        []Move // at most MaxMoves, oldest first

	Regions  []Region
	Coverage []CoverageRow // the NSIGs whose requests the viewer may see with internal notes
}

// Limits of what a dashboard lists.
const (
	TopOrganisations = 10
	MaxMoves         = 50
	ackMonths        = 12
	minQuarters      = 4
	maxQuarters      = 8
)

// OutcomeReasons are the reasons triage does not take a request forward, with their labels.
var reasonOrder = func() []string {
	var out []string
	for _, r := range request.OutcomeReasons {
		out = append(out, r.Value)
	}
	return out
}()

// Build works out the dashboard of scope for period as the viewer may see it, on today (a London
// date), in one read-only REPEATABLE READ transaction.
func Build(ctx context.Context, db *bun.DB, v request.Viewer, scope Scope, period Period, today time.Time) (*Dashboard, error) {
	d := &Dashboard{Scope: scope, Period: period, Today: today, Slowest: -1}
	err := db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		// The dashboard's queries each read tens of thousands of index entries that are in memory: compiling
		// them (JIT) costs more than it saves, index lookups cost about as much as reading in order, and
		// parallel workers would take the cores the other pages are served on.
		if _, err := tx.ExecContext(ctx, "SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1; SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
			return err
		}
		b := builder{tx: tx, v: v, d: d, london: london()}
		for _, step := range []func(context.Context) error{
			b.acknowledgements, b.pipeline, b.stageTimes, b.backlog, b.demand, b.decisions, b.releases, b.moves, b.coverage,
		} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return d, nil
}

func london() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("dashboard: load Europe/London: " + err.Error()) // the zone database is embedded by workday
	}
	return loc
}

// builder works out the figures of one dashboard inside its transaction.
type builder struct {
	tx     bun.Tx
	v      request.Viewer
	d      *Dashboard
	london *time.Location
}

// base is the filter every figure starts from: the scope's enhancement requests.
func (b *builder) base() request.Filter {
	s := b.d.Scope
	return request.Filter{Kind: request.KindEnhancement, RegionID: s.RegionID, OrganisationID: s.OrganisationID, NSIGID: s.NSIGID, Today: b.d.Today}
}

// instant is a London date's midnight in London, where windows start and end.
func (b *builder) instant(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, b.london)
}

// periodWindow is the period as [from, to) instants.
func (b *builder) periodWindow() (time.Time, time.Time) {
	return b.instant(b.d.Period.From), b.instant(b.d.Period.To).AddDate(0, 0, 1)
}

// requests is a query on the requests the viewer may see that match f.
func (b *builder) requests(f request.Filter) *bun.SelectQuery {
	return request.Matching(b.tx.NewSelect().TableExpr("requests AS r"), b.v, f)
}

// count is a figure counted on its own.
func (b *builder) count(ctx context.Context, f request.Filter) (Figure, error) {
	n, err := b.requests(f).Count(ctx)
	if err != nil {
		return Figure{}, err
	}
	return Figure{Count: int(n), Filter: f}, nil
}

func (b *builder) acknowledgements(ctx context.Context) error {
	end := b.d.Period.To
	last := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	first := last.AddDate(0, 1-ackMonths, 0)
	f := b.base()
	f.RaisedFrom, f.RaisedTo = b.instant(first), b.instant(last.AddDate(0, 1, 0))
	// Each request's month, by where its receipt falls among the months' first instants.
	var bounds []string
	var args []any
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		bounds, args = append(bounds, "?"), append(args, b.instant(m))
	}
	var rows []struct {
		Month                           int `bun:"month"`
		OnTime, Late, Overdue, Measured int
	}
	if err := b.requests(f).
		ColumnExpr("width_bucket(r.received_at, ARRAY["+strings.Join(bounds, ", ")+"]::timestamptz[]) AS month", args...).
		ColumnExpr("count(*) FILTER (WHERE "+request.AckOnTime+") AS on_time").
		ColumnExpr("count(*) FILTER (WHERE "+request.AckLate+") AS late").
		ColumnExpr("count(*) FILTER (WHERE r.acknowledged_at IS NULL AND r.status = ? AND r.ack_due_on < ?::date) AS overdue", request.StatusSubmitted, day(b.d.Today)).
		ColumnExpr("count(*) FILTER (WHERE r.acknowledged_at IS NOT NULL OR (r.status = ? AND r.ack_due_on < ?::date)) AS measured", request.StatusSubmitted, day(b.d.Today)).
		GroupExpr("1").Scan(ctx, &rows); err != nil {
		return fmt.Errorf("acknowledgements by month: %w", err)
	}
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		mf := b.base()
		mf.RaisedFrom, mf.RaisedTo = b.instant(m), b.instant(m.AddDate(0, 1, 0))
		with := func(sla string, n int) Figure { g := mf; g.SLA = sla; return Figure{Count: n, Filter: g} }
		am := AckMonth{Month: m, OnTime: with(request.SLAOnTime, 0), Late: with(request.SLALate, 0),
			Overdue: with("overdue", 0), Measured: with(request.SLAMeasured, 0)}
		// Overdue: still waiting for it; a request withdrawn before it was acknowledged waits no more.
		am.Overdue.Filter.Statuses = []request.Status{request.StatusSubmitted}
		for _, r := range rows {
			if r.Month == len(b.d.AckMonths)+1 {
				am.OnTime.Count, am.Late.Count, am.Overdue.Count, am.Measured.Count = r.OnTime, r.Late, r.Overdue, r.Measured
			}
		}
		b.d.AckMonths = append(b.d.AckMonths, am)
	}
	f = b.base()
	f.SLA, f.Statuses = "overdue", []request.Status{request.StatusSubmitted}
	var err error
	if b.d.OverdueNow, err = b.count(ctx, f); err != nil {
		return fmt.Errorf("overdue now: %w", err)
	}
	return nil
}

// day writes a London date for SQL.
func day(t time.Time) string { return t.Format("2006-01-02") }

func (b *builder) pipeline(ctx context.Context) error {
	f := b.base()
	f.Statuses = request.Stages()
	var rows []struct {
		Status request.Status `bun:"status"`
		N      int            `bun:"n"`
	}
	if err := b.requests(f).ColumnExpr("r.status, count(*) AS n").GroupExpr("r.status").Scan(ctx, &rows); err != nil {
		return fmt.Errorf("open requests by stage: %w", err)
	}
	for _, s := range request.Stages() {
		sf := b.base()
		sf.Statuses = []request.Status{s}
		row := StageRow{Stage: s, Open: Figure{Filter: sf}, Median: -1, P90: -1}
		for _, r := range rows {
			if r.Status == s {
				row.Open.Count = r.N
			}
		}
		b.d.Stages = append(b.d.Stages, row)
	}
	return nil
}

// stageTimes measures, for each stage, the requests that first entered it in the period, from the
// timeline (request.TimeInStage), over the requests the viewer may see in full.
func (b *builder) stageTimes(ctx context.Context) error {
	from, to := b.periodWindow()
	var stages []string
	for _, s := range b.d.Stages {
		stages = append(stages, string(s.Stage))
	}
	// Each request's time in each stage it first entered in the period (request.TimeInStage).
	per := b.v.Where(b.requests(b.base()), request.AccessFull).
		ColumnExpr("st.stage, "+request.StageDays+" AS working_days", day(b.d.Today)).
		Join("JOIN request_stage_times AS st ON st.request_id = r.id").
		Where("st.stage IN (?)", bun.List(stages)).
		Where("st.first_entered >= ? AND st.first_entered < ?", from, to)
	var rows []struct {
		Stage   request.Status `bun:"stage"`
		N       int            `bun:"n"`
		Median  int            `bun:"median"`
		P90     int            `bun:"p90"`
		OverP90 int            `bun:"over_p90"`
		Total   int            `bun:"total"`
	}
	err := b.tx.NewSelect().With("per", per).
		With("stats", b.tx.NewSelect().TableExpr("per").
			ColumnExpr("stage, count(*) AS n, sum(working_days) AS total").
			ColumnExpr("percentile_disc(0.5) WITHIN GROUP (ORDER BY working_days) AS median").
			ColumnExpr("percentile_disc(0.9) WITHIN GROUP (ORDER BY working_days) AS p90").
			GroupExpr("stage")).
		TableExpr("stats AS s").
		ColumnExpr("s.stage, s.n, s.median, s.p90, s.total").
		ColumnExpr("(SELECT count(*) FROM per AS p WHERE p.stage = s.stage AND p.working_days > s.p90) AS over_p90").
		Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("time in stage: %w", err)
	}
	for i := range b.d.Stages {
		row := &b.d.Stages[i]
		ef := b.base()
		ef.Stage, ef.StageFrom, ef.StageTo = row.Stage, from, to
		row.Entered = Figure{Filter: ef}
		for _, r := range rows {
			if r.Stage != row.Stage {
				continue
			}
			row.Entered.Count, row.Median, row.P90, row.TotalDays = r.N, r.Median, r.P90, r.Total
			of := ef
			of.StageMinDays = r.P90 + 1
			row.OverP90 = Figure{Count: r.OverP90, Filter: of}
		}
		// Where most time is lost: the most working days in all, then the longer median.
		if row.TotalDays > 0 && (b.d.Slowest < 0 || cmp.Or(cmp.Compare(row.TotalDays, b.d.Stages[b.d.Slowest].TotalDays),
			cmp.Compare(row.Median, b.d.Stages[b.d.Slowest].Median)) > 0) {
			b.d.Slowest = i
		}
	}
	return nil
}

func (b *builder) backlog(ctx context.Context) error {
	f := b.base()
	f.Statuses = request.OpenStatuses()
	// One count per organisation, functional area and NSIG, added up here into each breakdown: one pass
	// over the open requests instead of one a breakdown.
	var rows []struct {
		OrganisationID int64  `bun:"organisation_id"`
		Area           string `bun:"functional_area"`
		NSIGID         int64  `bun:"nsig_id"`
		N              int    `bun:"n"`
	}
	if err := b.requests(f).
		ColumnExpr("r.organisation_id, e.functional_area, COALESCE(r.nsig_id, 0) AS nsig_id, count(*) AS n").
		Join("JOIN enhancement_requests AS e ON e.request_id = r.id").
		GroupExpr("r.organisation_id, e.functional_area, r.nsig_id").
		Scan(ctx, &rows); err != nil {
		return fmt.Errorf("open requests by organisation, area and NSIG: %w", err)
	}
	var orgs []orgRow
	if err := b.tx.NewSelect().TableExpr("organisations AS o").ColumnExpr("o.id, o.name, o.region_id, rg.name AS region_name, rg.sort_order").
		Join("JOIN regions AS rg ON rg.id = o.region_id").Scan(ctx, &orgs); err != nil {
		return fmt.Errorf("organisations: %w", err)
	}
	var areas []string
	if err := b.tx.NewSelect().Table("functional_areas").Column("name").Order("sort_order").Scan(ctx, &areas); err != nil {
		return fmt.Errorf("functional areas: %w", err)
	}
	var nsigNames []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := b.tx.NewSelect().Table("nsigs").Column("id", "name").Order("name").Scan(ctx, &nsigNames); err != nil {
		return fmt.Errorf("NSIGs: %w", err)
	}
	byOrg, byRegion, byArea, byNSIG := map[int64]int{}, map[int16]int{}, map[string]int{}, map[int64]int{}
	regionOf := map[int64]int16{}
	for _, o := range orgs {
		regionOf[o.ID] = o.RegionID
	}
	total := 0
	for _, r := range rows {
		total += r.N
		byOrg[r.OrganisationID] += r.N
		byRegion[regionOf[r.OrganisationID]] += r.N
		byArea[r.Area] += r.N
		byNSIG[r.NSIGID] += r.N
	}
	b.d.Open = Figure{Count: total, Filter: f}
	group := func(label string, n int, set func(*request.Filter)) Group {
		g := f
		set(&g)
		return Group{label, Figure{n, g}}
	}
	s := b.d.Scope
	if s.National() {
		seen := map[int16]bool{}
		slices.SortFunc(orgs, func(a, b orgRow) int { return cmp.Compare(a.Order, b.Order) })
		for _, o := range orgs {
			if n := byRegion[o.RegionID]; n > 0 && !seen[o.RegionID] {
				seen[o.RegionID] = true
				id := o.RegionID
				b.d.ByRegion = append(b.d.ByRegion, group(o.RegionName, n, func(g *request.Filter) { g.RegionID = id }))
			}
		}
	}
	if s.OrganisationID == 0 {
		for _, o := range orgs {
			if n := byOrg[o.ID]; n > 0 {
				id := o.ID
				b.d.ByOrganisation = append(b.d.ByOrganisation, group(o.Name, n, func(g *request.Filter) { g.OrganisationID = id }))
			}
		}
		slices.SortFunc(b.d.ByOrganisation, func(a, b Group) int {
			return cmp.Or(cmp.Compare(b.Figure.Count, a.Figure.Count), cmp.Compare(a.Label, b.Label))
		})
		if len(b.d.ByOrganisation) > TopOrganisations {
			b.d.ByOrganisation = b.d.ByOrganisation[:TopOrganisations]
		}
	}
	for _, a := range areas {
		if n := byArea[a]; n > 0 {
			area := a
			b.d.ByArea = append(b.d.ByArea, group(a, n, func(g *request.Filter) { g.FunctionalArea = area }))
		}
	}
	if s.NSIGID == 0 {
		for _, n := range nsigNames {
			if c := byNSIG[n.ID]; c > 0 {
				id := n.ID
				b.d.ByNSIG = append(b.d.ByNSIG, group(n.Name, c, func(g *request.Filter) { g.NSIGID = id }))
			}
		}
		if c := byNSIG[0]; c > 0 {
			b.d.ByNSIG = append(b.d.ByNSIG, group("No NSIG", c, func(g *request.Filter) { g.NoNSIG = true }))
		}
	}
	return nil
}

// orgRow is an organisation with its region, for the breakdowns.
type orgRow struct {
	ID         int64  `bun:"id"`
	Name       string `bun:"name"`
	RegionID   int16  `bun:"region_id"`
	RegionName string `bun:"region_name"`
	Order      int    `bun:"sort_order"`
}

// Buckets of demand: supporting organisations, and the regions they are in.
var (
	supporterBuckets = []bucket{{"No other organisation", request.Range{Min: 0, Max: 0}}, {"1 organisation", request.Range{Min: 1, Max: 1}},
		{"2 to 4 organisations", request.Range{Min: 2, Max: 4}}, {"5 or more organisations", request.Range{Min: 5, Max: -1}}}
	regionBuckets = []bucket{{"No other region", request.Range{Min: 0, Max: 0}}, {"1 region", request.Range{Min: 1, Max: 1}},
		{"2 or 3 regions", request.Range{Min: 2, Max: 3}}, {"4 or more regions", request.Range{Min: 4, Max: -1}}}
)

type bucket struct {
	label string
	r     request.Range
}

func (k bucket) holds(n int) bool { return n >= k.r.Min && (k.r.Max < 0 || n <= k.r.Max) }

func (b *builder) demand(ctx context.Context) error {
	f := b.base()
	f.Statuses = request.AwaitingDecision()
	// The requests awaiting a decision are those of the pipeline's stages that await one.
	b.d.Awaiting = Figure{Filter: f}
	for _, s := range b.d.Stages {
		if slices.Contains(f.Statuses, s.Stage) {
			b.d.Awaiting.Count += s.Open.Count
		}
	}
	// The supported ones, by how many organisations support them and in how many regions; the rest
	// have no support.
	var rows []struct {
		Supporters int `bun:"supporters"`
		Regions    int `bun:"regions"`
		N          int `bun:"n"`
	}
	supported := b.tx.NewSelect().TableExpr("request_supports AS s").
		ColumnExpr("count(*) AS supporters, count(DISTINCT so.region_id) AS regions").
		Join("JOIN organisations AS so ON so.id = s.organisation_id").
		Where("s.request_id IN (?)", b.requests(f).Column("r.id")).
		GroupExpr("s.request_id")
	if err := b.tx.NewSelect().TableExpr("(?) AS x", supported).ColumnExpr("supporters, regions, count(*) AS n").
		GroupExpr("supporters, regions").Scan(ctx, &rows); err != nil {
		return fmt.Errorf("demand for requests awaiting a decision: %w", err)
	}
	unsupported := b.d.Awaiting.Count
	for _, r := range rows {
		unsupported -= r.N
	}
	rows = append(rows, struct {
		Supporters int `bun:"supporters"`
		Regions    int `bun:"regions"`
		N          int `bun:"n"`
	}{0, 0, unsupported})
	groups := func(buckets []bucket, of func(int, int) int, set func(*request.Filter, request.Range)) []Group {
		var out []Group
		for _, k := range buckets {
			g := f
			r := k.r
			set(&g, r)
			n := 0
			for _, row := range rows {
				if k.holds(of(row.Supporters, row.Regions)) {
					n += row.N
				}
			}
			out = append(out, Group{k.label, Figure{n, g}})
		}
		return out
	}
	b.d.BySupporters = groups(supporterBuckets, func(s, _ int) int { return s }, func(f *request.Filter, r request.Range) { f.Supporters = &r })
	b.d.BySupportRegions = groups(regionBuckets, func(_, r int) int { return r }, func(f *request.Filter, r request.Range) { f.SupportRegions = &r })
	return nil
}

// quarters are the financial quarters the decisions are shown for: from the quarter the period starts
// in to the one it ends in, at least minQuarters (going further back) and at most maxQuarters (the
// latest).
func quarters(p Period) []time.Time {
	start := func(t time.Time) time.Time {
		return time.Date(t.Year(), ((t.Month()-1)/3)*3+1, 1, 0, 0, 0, 0, time.UTC)
	}
	last := start(p.To)
	first := start(p.From)
	if earliest := last.AddDate(0, -3*(minQuarters-1), 0); earliest.Before(first) {
		first = earliest
	}
	if latest := last.AddDate(0, -3*(maxQuarters-1), 0); first.Before(latest) {
		first = latest
	}
	var out []time.Time
	for q := first; !q.After(last); q = q.AddDate(0, 3, 0) {
		out = append(out, q)
	}
	return out
}

// QuarterLabel names the financial quarter starting on a date: "Quarter 3 2026/27".
func QuarterLabel(start time.Time) string {
	m := int(start.Month())
	year, q := start.Year(), (m-4)/3+1
	if m < 4 {
		year, q = year-1, 4
	}
	return fmt.Sprintf("Quarter %d %d/%02d", q, year, (year+1)%100)
}

func (b *builder) decisions(ctx context.Context) error {
	qs := quarters(b.d.Period)
	from, to := b.instant(qs[0]), b.instant(qs[len(qs)-1].AddDate(0, 3, 0))
	var made []struct {
		Quarter time.Time `bun:"quarter"`
		Outcome string    `bun:"outcome"`
		N       int       `bun:"n"`
	}
	if err := b.requests(b.base()).
		ColumnExpr("date_trunc('quarter', d.decided_at AT TIME ZONE 'Europe/London')::date AS quarter, d.outcome, count(DISTINCT r.id) AS n").
		Join("JOIN request_decisions AS d ON d.request_id = r.id").
		Where("d.decided_at >= ? AND d.decided_at < ?", from, to).
		GroupExpr("1, 2").Scan(ctx, &made); err != nil {
		return fmt.Errorf("decisions by quarter: %w", err)
	}
	ntf := b.base()
	ntf.Decision, ntf.DecidedFrom, ntf.DecidedTo = request.DecisionNotTakenForward, from, to
	var closed []struct {
		Quarter time.Time `bun:"quarter"`
		Reason  string    `bun:"reason"`
		N       int       `bun:"n"`
	}
	if err := b.requests(ntf).
		ColumnExpr("date_trunc('quarter', r.decided_at AT TIME ZONE 'Europe/London')::date AS quarter, COALESCE(e.outcome_reason, '') AS reason, count(*) AS n").
		Join("JOIN enhancement_requests AS e ON e.request_id = r.id").
		GroupExpr("1, 2").Scan(ctx, &closed); err != nil {
		return fmt.Errorf("requests not taken forward by quarter: %w", err)
	}
	same := func(a, b time.Time) bool { return a.Year() == b.Year() && a.Month() == b.Month() }
	for _, q := range qs {
		qf := b.base()
		qf.DecidedFrom, qf.DecidedTo = b.instant(q), b.instant(q.AddDate(0, 3, 0))
		figure := func(outcome string) Figure {
			g := qf
			g.Decision = outcome
			n := 0
			for _, m := range made {
				if same(m.Quarter, q) && m.Outcome == outcome {
					n = m.N
				}
			}
			return Figure{n, g}
		}
		dq := DecisionQuarter{Label: QuarterLabel(q), From: q, To: q.AddDate(0, 3, -1),
			Approved: figure(request.DecisionApproved), Deferred: figure(request.DecisionDeferred), NotApproved: figure(request.DecisionNotApproved)}
		all := qf
		all.Decision = request.DecisionNotTakenForward
		dq.NotTakenForward = Figure{Filter: all}
		for _, reason := range reasonOrder {
			g := all
			g.Reason = reason
			n := 0
			for _, c := range closed {
				if same(c.Quarter, q) && c.Reason == reason {
					n = c.N
				}
			}
			dq.Reasons = append(dq.Reasons, Group{request.OutcomeReasonLabel(reason), Figure{n, g}})
		}
		for _, c := range closed {
			if same(c.Quarter, q) {
				dq.NotTakenForward.Count += c.N
			}
		}
		b.d.Decisions = append(b.d.Decisions, dq)
	}
	return nil
}

func (b *builder) releases(ctx context.Context) error {
	from, _ := b.periodWindow()
	var rels []struct {
		ID         int64           `bun:"id"`
		Number     int             `bun:"number"`
		Name       string          `bun:"name"`
		TargetDate time.Time       `bun:"target_date"`
		Status     string          `bun:"status"`
		Capacity   sql.NullFloat64 `bun:"capacity_days"`
	}
	if err := b.tx.NewSelect().Table("releases").Column("id", "number", "name", "target_date", "status", "capacity_days").
		Where("status <> 'released' OR released_at >= ?", from).Order("number").Scan(ctx, &rels); err != nil {
		return fmt.Errorf("releases: %w", err)
	}
	if len(rels) == 0 {
		return nil
	}
	ids := make([]int64, len(rels))
	for i, r := range rels {
		ids[i] = r.ID
	}
	var counts []struct {
		ReleaseID int64 `bun:"release_id"`
		N         int   `bun:"n"`
	}
	if err := b.requests(b.base()).ColumnExpr("al.release_id, count(*) AS n").
		Join("JOIN allocations AS al ON al.request_id = r.id").Where("al.release_id IN (?)", bun.List(ids)).
		GroupExpr("al.release_id").Scan(ctx, &counts); err != nil {
		return fmt.Errorf("changes allocated to releases: %w", err)
	}
	// Assessed effort is the central and development teams' to see.
	b.d.ShowCapacity = b.v.Has(identity.RoleCentralTeam) || b.v.Has(identity.RoleDevelopmentTeam)
	var used []struct {
		ReleaseID int64   `bun:"release_id"`
		Days      float64 `bun:"days"`
	}
	if b.d.ShowCapacity {
		if err := b.v.Where(b.requests(b.base()), request.AccessInternal).ColumnExpr("al.release_id, COALESCE(sum(ia.effort_days), 0)::float8 AS days").
			Join("JOIN allocations AS al ON al.request_id = r.id").
			Join("JOIN impact_assessments AS ia ON ia.request_id = r.id").Where("al.release_id IN (?)", bun.List(ids)).
			GroupExpr("al.release_id").Scan(ctx, &used); err != nil {
			return fmt.Errorf("effort allocated to releases: %w", err)
		}
	}
	for _, r := range rels {
		f := b.base()
		f.ReleaseID = r.ID
		row := ReleaseRow{ID: r.ID, Number: r.Number, Name: r.Name, TargetDate: r.TargetDate, Status: r.Status,
			CapacityDays: r.Capacity.Float64, HasCapacity: r.Capacity.Valid, Changes: Figure{Filter: f}}
		for _, c := range counts {
			if c.ReleaseID == r.ID {
				row.Changes.Count = c.N
			}
		}
		for _, u := range used {
			if u.ReleaseID == r.ID {
				row.UsedDays = u.Days
			}
		}
		b.d.Releases = append(b.d.Releases, row)
	}
	return nil
}

func (b *builder) moves(ctx context.Context) error {
	from, to := b.periodWindow()
	f := b.base()
	f.Moved, f.MovedFrom, f.MovedTo = true, from, to
	var err error
	if b.d.Moved, err = b.count(ctx, f); err != nil {
		return fmt.Errorf("changes moved between releases: %w", err)
	}
	if b.d.Moved.Count == 0 {
		return nil
	}
	if err := b.requests(b.base()).
		ColumnExpr("r.reference, r.title, fr.number AS from_number, tr.number AS to_number, m.reason, m.moved_at").
		Join("JOIN allocation_moves AS m ON m.request_id = r.id").
		Join("JOIN releases AS fr ON fr.id = m.from_release_id").
		Join("JOIN releases AS tr ON tr.id = m.to_release_id").
		Where("m.moved_at >= ? AND m.moved_at < ?", from, to).
		OrderExpr("m.moved_at, m.id").Limit(MaxMoves).Scan(ctx, &b.d.Moves); err != nil {
		return fmt.Errorf("moves between releases: %w", err)
	}
	return nil
}

// coverage is which regions have given their view of the requests awaiting a decision, for the NSIGs
// whose requests the viewer may see with internal notes (the central and development teams see every
// NSIG's; a member, their own NSIGs'), which are every request of those NSIGs they may know of.
func (b *builder) coverage(ctx context.Context) error {
	var nsigIDs []int64
	national := b.v.Has(identity.RoleCentralTeam) || b.v.Has(identity.RoleDevelopmentTeam)
	switch {
	case national:
	case b.v.Has(identity.RoleNSIGMember) && len(b.v.NSIGIDs) > 0:
		nsigIDs = b.v.NSIGIDs
	default:
		return nil
	}
	if b.d.Scope.NSIGID != 0 {
		if !national && !slices.Contains(nsigIDs, b.d.Scope.NSIGID) {
			return nil
		}
		nsigIDs = []int64{b.d.Scope.NSIGID}
	}
	var ns []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	q := b.tx.NewSelect().Table("nsigs").Column("id", "name").Order("name")
	if len(nsigIDs) > 0 {
		q = q.Where("id IN (?)", bun.List(nsigIDs))
	}
	if err := q.Scan(ctx, &ns); err != nil {
		return fmt.Errorf("NSIGs: %w", err)
	}
	if err := b.tx.NewSelect().Table("regions").Column("id", "name").Order("sort_order").Scan(ctx, &b.d.Regions); err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	f := b.base()
	f.Statuses = request.AwaitingDecision()
	var open []struct {
		NSIGID int64 `bun:"nsig_id"`
		N      int   `bun:"n"`
	}
	if err := b.requests(f).ColumnExpr("r.nsig_id, count(*) AS n").Where("r.nsig_id IS NOT NULL").
		GroupExpr("r.nsig_id").Scan(ctx, &open); err != nil {
		return fmt.Errorf("requests awaiting a decision by NSIG: %w", err)
	}
	var given []struct {
		NSIGID   int64 `bun:"nsig_id"`
		RegionID int16 `bun:"region_id"`
		N        int   `bun:"n"`
	}
	if err := b.v.Where(b.requests(f), request.AccessInternal).ColumnExpr("r.nsig_id, rv.region_id, count(*) AS n").
		Join("JOIN regional_views AS rv ON rv.request_id = r.id AND rv.nsig_id = r.nsig_id").
		GroupExpr("r.nsig_id, rv.region_id").Scan(ctx, &given); err != nil {
		return fmt.Errorf("regional views given: %w", err)
	}
	for _, n := range ns {
		of := f
		of.NSIGID = n.ID
		row := CoverageRow{NSIGID: n.ID, Name: n.Name, Open: Figure{Filter: of}}
		for _, o := range open {
			if o.NSIGID == n.ID {
				row.Open.Count = o.N
			}
		}
		for _, rg := range b.d.Regions {
			g := of
			g.ViewRegion, g.View = rg.ID, request.ViewGiven
			fig := Figure{Filter: g}
			for _, gv := range given {
				if gv.NSIGID == n.ID && gv.RegionID == rg.ID {
					fig.Count = gv.N
				}
			}
			row.Given = append(row.Given, fig)
		}
		b.d.Coverage = append(b.d.Coverage, row)
	}
	return nil
}

// Figures lists every figure of the dashboard, for reports and tests.
func (d *Dashboard) Figures() []Figure {
	var out []Figure
	add := func(fs ...Figure) { out = append(out, fs...) }
	groups := func(gs []Group) {
		for _, g := range gs {
			add(g.Figure)
		}
	}
	for _, m := range d.AckMonths {
		add(m.OnTime, m.Late, m.Overdue, m.Measured)
	}
	add(d.OverdueNow)
	for _, s := range d.Stages {
		add(s.Open, s.Entered)
		if s.P90 >= 0 {
			add(s.OverP90)
		}
	}
	add(d.Open)
	groups(d.ByRegion)
	groups(d.ByOrganisation)
	groups(d.ByArea)
	groups(d.ByNSIG)
	add(d.Awaiting)
	groups(d.BySupporters)
	groups(d.BySupportRegions)
	for _, q := range d.Decisions {
		add(q.Approved, q.Deferred, q.NotApproved, q.NotTakenForward)
		groups(q.Reasons)
	}
	for _, r := range d.Releases {
		add(r.Changes)
	}
	add(d.Moved)
	for _, c := range d.Coverage {
		add(c.Open)
		add(c.Given...)
	}
	return out
}
