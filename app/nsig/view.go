package nsig

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// Opinion is a region's view of a request.
type Opinion string

// The views a region can give.
const (
	Support             Opinion = "support"
	SupportWithConcerns Opinion = "support_with_concerns"
	DoNotSupport        Opinion = "do_not_support"
	NoView              Opinion = "no_view"
)

// OpinionInfo is how a view reads and looks.
type OpinionInfo struct {
	Opinion Opinion
	Label   string
	Colour  string // an NHS tag colour
}

// Opinions lists the views in the order the form offers them.
var Opinions = []OpinionInfo{
	{Support, "Support", "green"},
	{SupportWithConcerns, "Support with concerns", "yellow"},
	{DoNotSupport, "Do not support", "red"},
	{NoView, "No view", "grey"},
}

// Info returns the label and colour of a view.
func (o Opinion) Info() OpinionInfo {
	for _, i := range Opinions {
		if i.Opinion == o {
			return i
		}
	}
	return OpinionInfo{Opinion: o, Label: string(o), Colour: "grey"}
}

// RegionalView is one region's view of a request, as last given.
type RegionalView struct {
	bun.BaseModel `bun:"table:regional_views,alias:rv"`

	RequestID  int64     `bun:"request_id,pk"`
	NSIGID     int64     `bun:"nsig_id,pk"`
	RegionID   int16     `bun:"region_id,pk"`
	View       Opinion   `bun:"view"`
	Comment    string    `bun:"comment"`
	Position   Position  `bun:"position"`
	RecordedBy int64     `bun:"recorded_by"`
	RecordedAt time.Time `bun:"recorded_at"`

	RecordedByName string `bun:"recorded_by_name,scanonly"`
}

// CoverageRow is one region in a request's coverage grid: its seat holders and its view, if given.
type CoverageRow struct {
	RegionID   int16
	RegionName string
	Member     string // the member's name; "" when the seat is vacant
	Deputy     string
	View       *RegionalView // nil while the region has not responded
}

// Coverage is which of the eight regions of a request's NSIG have given their view.
type Coverage struct {
	NSIGID    int64
	NSIGName  string
	Rows      []CoverageRow
	Responded int
}

// CoverageOf returns the regional coverage of a request on its NSIG, or nil when it has no NSIG. It
// runs three queries.
func CoverageOf(ctx context.Context, db bun.IDB, r *request.Request) (*Coverage, error) {
	if r.NSIGID == 0 {
		return nil, nil
	}
	seats, err := SeatsOf(ctx, db, r.NSIGID)
	if err != nil {
		return nil, err
	}
	var views []RegionalView
	if err := db.NewSelect().Model(&views).ColumnExpr("rv.*, u.name AS recorded_by_name").
		Join("JOIN users AS u ON u.id = rv.recorded_by").
		Where("rv.request_id = ? AND rv.nsig_id = ?", r.ID, r.NSIGID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read regional views of request %d: %w", r.ID, err)
	}
	c := &Coverage{NSIGID: r.NSIGID, NSIGName: r.NSIGName}
	for _, s := range seats {
		row := CoverageRow{RegionID: s.RegionID, RegionName: s.RegionName}
		if s.Member != nil {
			row.Member = s.Member.UserName
		}
		if s.Deputy != nil {
			row.Deputy = s.Deputy.UserName
		}
		for i := range views {
			if views[i].RegionID == s.RegionID {
				row.View = &views[i]
				c.Responded++
			}
		}
		c.Rows = append(c.Rows, row)
	}
	return c, nil
}

// SeatFor returns the viewer's current seat on the NSIG (the region and whether member or deputy), or
// nil when they hold none. Someone holds at most one seat on an NSIG.
func SeatFor(ctx context.Context, db bun.IDB, v request.Viewer, nsigID int64) (*Appointment, error) {
	if nsigID == 0 || !v.Has(identity.RoleNSIGMember) {
		return nil, nil
	}
	ap := new(Appointment)
	err := selectAppointments(db, ap).Where("ap.nsig_id = ? AND ap.user_id = ? AND ap.ended_at IS NULL", nsigID, v.UserID).
		Order("ap.position").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read seat of user %d on NSIG %d: %w", v.UserID, nsigID, err)
	}
	return ap, nil
}

// Reviewable reports whether a request is one its NSIG gives views on: accepted and not yet decided.
func Reviewable(r *request.Request) bool {
	return r.NSIGID != 0 && r.Accepted && slices.Contains(openStatuses, r.Status)
}

// ViewInput is what the regional view form sends.
type ViewInput struct {
	View    Opinion
	Comment string
}

const maxComment = 5000

// checkView returns the first rule a regional view breaks: only the member or deputy of a seat on the
// request's NSIG may give their region's view, of a request still under review, and anything but
// support needs a comment.
func checkView(in *ViewInput, r *request.Request, seat *Appointment) error {
	in.Comment = strings.TrimSpace(in.Comment)
	switch {
	case seat == nil || seat.NSIGID != r.NSIGID || !seat.Current():
		return fmt.Errorf("only a member or deputy of %s may give a region's view: %w", r.NSIGName, problem.ErrForbidden)
	case !Reviewable(r):
		return &request.RuleError{Field: "view", Message: "This request is not being reviewed by its NSIG now, so regional views are closed"}
	case in.View.Info().Label == string(in.View):
		return &request.RuleError{Field: "view", Message: "Select your region's view"}
	case in.View != Support && in.View != NoView && in.Comment == "":
		return &request.RuleError{Field: "comment", Message: "Enter your region's comment, saying what its concerns or objections are"}
	case len(in.Comment) > maxComment:
		return &request.RuleError{Field: "comment", Message: fmt.Sprintf("The comment must be %d characters or fewer", maxComment)}
	}
	return nil
}

// RecordView records the viewer's region's view of a request, in one transaction: the view (replacing
// the region's earlier one), a timeline entry, an audit event, and a notification to the request's
// triager. Only the member or deputy of the region's seat on the request's NSIG may give it.
func RecordView(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, reference string, in ViewInput) (*RegionalView, error) {
	reference = strings.ToUpper(strings.TrimSpace(reference))
	var out *RegionalView
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		er, _, err := request.GetEnhancement(ctx, tx, v, reference)
		if err != nil {
			return err
		}
		seat, err := SeatFor(ctx, tx, v, er.NSIGID)
		if err != nil {
			return err
		}
		if err := checkView(&in, &er.Request, seat); err != nil {
			return err
		}
		rv := &RegionalView{RequestID: er.ID, NSIGID: er.NSIGID, RegionID: seat.RegionID, View: in.View, Comment: in.Comment,
			Position: seat.Position, RecordedBy: v.UserID, RecordedAt: now, RecordedByName: v.Name}
		var before *RegionalView
		var prev RegionalView
		err = tx.NewSelect().Model(&prev).Where("request_id = ? AND nsig_id = ? AND region_id = ?", er.ID, er.NSIGID, seat.RegionID).For("UPDATE").Scan(ctx)
		switch {
		case err == nil:
			before = &prev
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read earlier view: %w", err)
		}
		if _, err := tx.NewInsert().Model(rv).
			On("CONFLICT (request_id, nsig_id, region_id) DO UPDATE").
			Set("view = EXCLUDED.view, comment = EXCLUDED.comment, position = EXCLUDED.position").
			Set("recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at").Exec(ctx); err != nil {
			return fmt.Errorf("record view of %s: %w", reference, err)
		}
		// The sentence names the region and the seat, not the person: the timeline's "who" shows them by
		// the rule on names.
		who := "given by its " + strings.ToLower(seat.Position.Label())
		summary := fmt.Sprintf("The view of the %s region on the %s NSIG: %s (%s)", seat.RegionName, seat.NSIGName, in.View.Info().Label, who)
		if before != nil {
			summary = fmt.Sprintf("The %s region changed its view on the %s NSIG from %s to %s (%s)", seat.RegionName, seat.NSIGName,
				before.View.Info().Label, in.View.Info().Label, who)
		}
		if _, err := tx.NewInsert().Model(&request.Event{
			RequestID: er.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name, Kind: "regional_view", Summary: summary, Detail: in.Comment,
		}).Exec(ctx); err != nil {
			return fmt.Errorf("add timeline event to %s: %w", reference, err)
		}
		auditBefore := any(nil)
		if before != nil {
			auditBefore = map[string]any{"view": before.View}
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "request.regional_view", EntityType: "request", EntityID: reference,
			Before: auditBefore, After: map[string]any{"nsig": seat.NSIGName, "region": seat.RegionName, "view": in.View, "position": seat.Position}}); err != nil {
			return err
		}
		out = rv
		if er.AssigneeID == 0 || er.AssigneeID == v.UserID {
			return nil
		}
		return notify.Queue(ctx, tx, now, notify.Message{
			UserID: er.AssigneeID, Event: notify.EventRegionalView, RequestID: er.ID,
			Title: fmt.Sprintf("%s: the %s region's view is %s", reference, seat.RegionName, strings.ToLower(in.View.Info().Label)),
			Body:  fmt.Sprintf("%s\n\n%s\n\n%s", er.Title, summary, in.Comment),
			Link:  "/requests/" + reference,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("record regional view of %s: %w", reference, err)
	}
	return out, nil
}

// QueueItem is a request in an NSIG's review queue.
type QueueItem struct {
	ID             int64          `bun:"id"`
	Reference      string         `bun:"reference"`
	Title          string         `bun:"title"`
	Status         request.Status `bun:"status"`
	FunctionalArea string         `bun:"functional_area"`
	Organisation   string         `bun:"organisation_name"`
	Region         string         `bun:"region_name"`
	ReceivedAt     time.Time      `bun:"received_at"`
	Responded      int            `bun:"responded"` // regions that have given their view
	MyView         Opinion        `bun:"my_view"`   // the viewer's region's view; "" when not given or not seated
	NSIGName       string         `bun:"nsig_name"` // for the waiting list, which spans NSIGs
	MyRegion       string         `bun:"my_region"` // the region the viewer sits for
	NSIGID         int64          `bun:"nsig_id"`   // the request's NSIG
	MyPosition     Position       `bun:"position"`  // member or deputy
}

func selectQueue(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().TableExpr("requests AS r").
		ColumnExpr("r.id, r.reference, r.title, r.status, e.functional_area, o.name AS organisation_name, rg.name AS region_name, r.received_at, r.nsig_id, n.name AS nsig_name").
		ColumnExpr("(SELECT count(*) FROM regional_views AS rv WHERE rv.request_id = r.id AND rv.nsig_id = r.nsig_id) AS responded").
		Join("JOIN enhancement_requests AS e ON e.request_id = r.id").
		Join("JOIN organisations AS o ON o.id = r.organisation_id").
		Join("JOIN regions AS rg ON rg.id = o.region_id").
		Join("JOIN nsigs AS n ON n.id = r.nsig_id").
		Where("r.accepted AND r.status IN (?)", bun.List(openStatuses))
}

// Queue returns the requests an NSIG is reviewing now, the oldest first, with how many regions have
// responded and the viewer's own region's view. Only those who may open the NSIG see its queue;
// anyone else gets problem.ErrNotFound.
func Queue(ctx context.Context, db bun.IDB, v request.Viewer, nsigID int64) ([]QueueItem, error) {
	if !CanSee(v, nsigID) {
		return nil, fmt.Errorf("queue of NSIG %d: %w", nsigID, problem.ErrNotFound)
	}
	var out []QueueItem
	q := selectQueue(db, &out).
		ColumnExpr(`COALESCE((SELECT rv.view FROM regional_views AS rv JOIN nsig_appointments AS ap
			ON ap.nsig_id = rv.nsig_id AND ap.region_id = rv.region_id AND ap.user_id = ? AND ap.ended_at IS NULL
			WHERE rv.request_id = r.id AND rv.nsig_id = r.nsig_id LIMIT 1), '') AS my_view`, v.UserID).
		ColumnExpr("'' AS my_region, '' AS position").
		Where("r.nsig_id = ?", nsigID).Order("r.received_at", "r.id")
	if err := q.Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list review queue of NSIG %d: %w", nsigID, err)
	}
	return out, nil
}

// Waiting returns the requests, across every NSIG the viewer sits on, still waiting for their region's
// view, the oldest first.
func Waiting(ctx context.Context, db bun.IDB, v request.Viewer) ([]QueueItem, error) {
	var out []QueueItem
	q := selectQueue(db, &out).
		ColumnExpr("'' AS my_view, myrg.name AS my_region, ap.position").
		Join("JOIN nsig_appointments AS ap ON ap.nsig_id = r.nsig_id AND ap.ended_at IS NULL AND ap.user_id = ?", v.UserID).
		Join("JOIN regions AS myrg ON myrg.id = ap.region_id").
		Where("NOT EXISTS (SELECT 1 FROM regional_views AS rv WHERE rv.request_id = r.id AND rv.nsig_id = r.nsig_id AND rv.region_id = ap.region_id)").
		Order("r.received_at", "r.id")
	if err := q.Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list requests waiting for user %d's view: %w", v.UserID, err)
	}
	return out, nil
}

// StatusCount is how many of an NSIG's open requests are in one status, with the filter that lists them.
type StatusCount struct {
	Status request.Status `bun:"status"`
	Count  int            `bun:"count"`
	Filter request.Filter `bun:"-"`
}

// Dashboard is an NSIG's overview: its open requests by status, and the regions that have not given
// their view of them. Every count is of the requests the viewer may see (request.Matching), with the
// filter that lists exactly them.
type Dashboard struct {
	Open     request.Filter // the NSIG's open requests: accepted and not yet decided
	OpenN    int
	ByStatus []StatusCount
	// Gaps are the regions with requests waiting for their view, most waiting first, of the requests
	// the viewer may see with internal notes (regional views are the NSIG's and the national teams').
	Gaps         []RegionGap
	SeesCoverage bool // the viewer may see regional views of the NSIG's requests
}

// RegionGap is a region with open requests waiting for its view, and whether its seat is filled.
type RegionGap struct {
	RegionID   int16          `bun:"region_id"`
	RegionName string         `bun:"region_name"`
	Waiting    int            `bun:"waiting"`
	Vacant     bool           `bun:"vacant"`
	Filter     request.Filter `bun:"-"`
}

// Count is how many requests are waiting for the region's view (for the figure partial).
func (g RegionGap) Count() int { return g.Waiting }

// DashboardOf returns an NSIG's overview as the viewer may see it on today (a London date), its counts
// read in one read-only REPEATABLE READ transaction so that they add up.
func DashboardOf(ctx context.Context, db *bun.DB, v request.Viewer, nsigID int64, today time.Time) (*Dashboard, error) {
	if !CanSee(v, nsigID) {
		return nil, fmt.Errorf("dashboard of NSIG %d: %w", nsigID, problem.ErrNotFound)
	}
	var d *Dashboard
	err := db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		var err error
		d, err = dashboardOf(ctx, tx, v, nsigID, today)
		return err
	})
	return d, err
}

func dashboardOf(ctx context.Context, db bun.Tx, v request.Viewer, nsigID int64, today time.Time) (*Dashboard, error) {
	d := &Dashboard{Open: request.Filter{Kind: request.KindEnhancement, NSIGID: nsigID, Statuses: OpenStatuses(), Today: today}}
	var counts []StatusCount
	if err := request.Matching(db.NewSelect().TableExpr("requests AS r"), v, d.Open).ColumnExpr("r.status, count(*) AS count").
		GroupExpr("r.status").Scan(ctx, &counts); err != nil {
		return nil, fmt.Errorf("count requests of NSIG %d: %w", nsigID, err)
	}
	for _, s := range openStatuses {
		for _, c := range counts {
			if c.Status == s {
				c.Filter = d.Open
				c.Filter.Statuses = []request.Status{s}
				d.ByStatus = append(d.ByStatus, c)
				d.OpenN += c.Count
			}
		}
	}
	d.SeesCoverage = v.Has(identity.RoleCentralTeam) || v.Has(identity.RoleDevelopmentTeam) || slices.Contains(v.NSIGIDs, nsigID)
	if !d.SeesCoverage {
		return d, nil
	}
	q := v.Where(request.Matching(db.NewSelect().TableExpr("requests AS r"), v, d.Open), request.AccessInternal).
		ColumnExpr("rg.id AS region_id, rg.name AS region_name, count(r.id) AS waiting").
		ColumnExpr(`NOT EXISTS (SELECT 1 FROM nsig_appointments AS ap WHERE ap.nsig_id = ? AND ap.region_id = rg.id
			AND ap.position = 'member' AND ap.ended_at IS NULL) AS vacant`, nsigID).
		Join("CROSS JOIN regions AS rg").
		Where("NOT EXISTS (SELECT 1 FROM regional_views AS rv WHERE rv.request_id = r.id AND rv.nsig_id = r.nsig_id AND rv.region_id = rg.id)").
		GroupExpr("rg.id, rg.name, rg.sort_order").OrderExpr("waiting DESC, rg.sort_order")
	if err := q.Scan(ctx, &d.Gaps); err != nil {
		return nil, fmt.Errorf("find coverage gaps of NSIG %d: %w", nsigID, err)
	}
	for i := range d.Gaps {
		d.Gaps[i].Filter = d.Open
		d.Gaps[i].Filter.ViewRegion, d.Gaps[i].Filter.View = d.Gaps[i].RegionID, request.ViewWaiting
	}
	return d, nil
}

// CountWaiting counts the requests Waiting lists, among those the access rule lets the viewer see,
// for their home page.
func CountWaiting(ctx context.Context, db bun.IDB, v request.Viewer) (int, error) {
	q := db.NewSelect().TableExpr("requests AS r").
		Join("JOIN nsig_appointments AS ap ON ap.nsig_id = r.nsig_id AND ap.ended_at IS NULL AND ap.user_id = ?", v.UserID).
		Where("r.accepted AND r.status IN (?)", bun.List(openStatuses)).
		Where("NOT EXISTS (SELECT 1 FROM regional_views AS rv WHERE rv.request_id = r.id AND rv.nsig_id = r.nsig_id AND rv.region_id = ap.region_id)")
	n, err := v.Where(q, request.AccessSummary).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count requests waiting for user %d's view: %w", v.UserID, err)
	}
	return int(n), nil
}
