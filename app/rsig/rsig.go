// Package rsig builds the update the NSIGs feed back to a regional SIG (ESR-NHS0132: NSIGs report to the
// regional SIGs that nominate their members): for one region and a period, the NSIG meetings held and
// how the region was represented, the views the region gave, the decisions on its organisations'
// requests, and the changes in the coming releases. It is read as a page and a PDF, and sent by email
// to the region's seat holders and functional account managers.
//
// An update says of requests only what every signed-in user may know (reference, title, organisation,
// region, status, decision and its rationale, release), never a view's comment; an NSIG meeting's
// agenda, minutes and outcomes are shown only to those who may read that NSIG's meetings.
package rsig

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
	"github.com/nhs-esr/portal/app/nsig"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/release"
	"github.com/nhs-esr/portal/app/request"
)

// MaxDays is the longest period an update covers.
const MaxDays = 366

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("rsig: load Europe/London: " + err.Error())
	}
	return l
}()

// Update is one region's update for a period, as one viewer may read it. Dates are civil dates.
type Update struct {
	RegionID  int16
	Region    string
	From, To  time.Time
	Meetings  []Meeting
	Views     []View
	Decisions []Decision
	Releases  []Release
}

// Meeting is an NSIG meeting held in the period.
type Meeting struct {
	NSIGs       string // the NSIGs holding it
	On          time.Time
	Represented []string // "Payroll and Pensions: member", for each NSIG whose seat for the region was filled at it
	Readable    bool     // the viewer may read its agenda and minutes
	Items       []Item   // its accepted agenda items, when Readable
	ItemCount   int
}

// Item is an agenda item with its outcome and minutes.
type Item struct {
	Title      string
	References []string
	Outcome    string
	Minutes    string
}

// View is a view the region gave on a request.
type View struct {
	Reference, Title, NSIG, View string
	On                           time.Time
}

// Decision is the central team's decision on a request from one of the region's organisations.
type Decision struct {
	Reference, Title, Organisation, Outcome, Rationale string
	On                                                 time.Time
}

// Release is a release not yet live and its changes.
type Release struct {
	Number     int
	Name       string
	TargetDate time.Time
	Status     string
	Changes    []Change
}

// Change is a request allocated to a release; Ours when it comes from the region.
type Change struct {
	Reference, Title, Organisation, Region string
	Ours                                   bool
}

// Ours counts the release's changes from the region.
func (r Release) Ours() int {
	n := 0
	for _, c := range r.Changes {
		if c.Ours {
			n++
		}
	}
	return n
}

// CanRead reports whether the viewer may read a region's updates: the central team and administrators,
// the region's functional account managers, and its current NSIG seat holders.
func CanRead(ctx context.Context, db bun.IDB, v request.Viewer, regionID int16) (bool, error) {
	switch {
	case v.Has(identity.RoleCentralTeam) || v.Has(identity.RoleAdmin):
		return true, nil
	case v.Has(identity.RoleFunctionalAccountManager) && v.RegionID == regionID:
		return true, nil
	}
	held, err := nsig.SeatsHeldBy(ctx, db, v.UserID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(held, func(a nsig.Appointment) bool { return a.RegionID == regionID }), nil
}

// CanSend reports whether the viewer may send updates: the central team.
func CanSend(v request.Viewer) bool { return v.Has(identity.RoleCentralTeam) }

// CheckPeriod refuses a period that ends before it starts or is longer than MaxDays.
func CheckPeriod(from, to time.Time) error {
	switch {
	case to.Before(from):
		return &request.RuleError{Field: "to-day", Message: "The period must end on or after the day it starts"}
	case to.Sub(from) > MaxDays*24*time.Hour:
		return &request.RuleError{Field: "to-day", Message: fmt.Sprintf("The period can be at most %d days", MaxDays)}
	}
	return nil
}

func civil(t time.Time) time.Time {
	l := t.In(london)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// start and end are the instants a civil period starts and ends in London.
func start(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, london) }
func end(d time.Time) time.Time   { return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, london) }

// Build reads a region's update for the period from..to (civil dates, both included) as the viewer may
// read it. A viewer who may not read the region's updates gets problem.ErrNotFound.
func Build(ctx context.Context, db bun.IDB, v request.Viewer, regionID int16, from, to time.Time) (*Update, error) {
	ok, err := CanRead(ctx, db, v, regionID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("regional SIG update for region %d: %w", regionID, problem.ErrNotFound)
	}
	return build(ctx, db, &v, regionID, from, to)
}

// build reads the update; with no viewer, as its email tells it (no agenda or minutes).
func build(ctx context.Context, db bun.IDB, v *request.Viewer, regionID int16, from, to time.Time) (*Update, error) {
	if err := CheckPeriod(from, to); err != nil {
		return nil, err
	}
	u := &Update{RegionID: regionID, From: civil(from), To: civil(to)}
	err := db.NewSelect().Table("regions").Column("name").Where("id = ?", regionID).Scan(ctx, &u.Region)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("region %d: %w", regionID, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read region %d: %w", regionID, err)
	}
	lo, hi := start(u.From), end(u.To)
	for _, step := range []func(context.Context, bun.IDB, *request.Viewer, *Update, time.Time, time.Time) error{meetings, views, decisions, releases} {
		if err := step(ctx, db, v, u, lo, hi); err != nil {
			return nil, fmt.Errorf("regional SIG update for %s: %w", u.Region, err)
		}
	}
	return u, nil
}

func meetings(ctx context.Context, db bun.IDB, v *request.Viewer, u *Update, lo, hi time.Time) error {
	var rows []struct {
		ID        int64     `bun:"id"`
		StartsAt  time.Time `bun:"starts_at"`
		NSIGIDs   []int64   `bun:"nsig_ids,array"`
		NSIGNames []string  `bun:"nsig_names,array"`
		Attended  []string  `bun:"attended,array"`
	}
	if err := db.NewRaw(`SELECT mt.id, mt.starts_at,
			ARRAY(SELECT mn.nsig_id FROM meeting_nsigs AS mn JOIN nsigs AS n ON n.id = mn.nsig_id WHERE mn.meeting_id = mt.id ORDER BY n.name) AS nsig_ids,
			ARRAY(SELECT n.name FROM meeting_nsigs AS mn JOIN nsigs AS n ON n.id = mn.nsig_id WHERE mn.meeting_id = mt.id ORDER BY n.name) AS nsig_names,
			ARRAY(SELECT n.name || ': ' || ma.position FROM meeting_attendance AS ma JOIN nsigs AS n ON n.id = ma.nsig_id
				WHERE ma.meeting_id = mt.id AND ma.region_id = ? ORDER BY n.name) AS attended
		FROM nsig_meetings AS mt WHERE mt.starts_at >= ? AND mt.starts_at < ? ORDER BY mt.starts_at, mt.id`, u.RegionID, lo, hi).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("meetings: %w", err)
	}
	for _, r := range rows {
		m := Meeting{NSIGs: strings.Join(r.NSIGNames, " and "), On: civil(r.StartsAt), Represented: r.Attended}
		m.Readable = v != nil && (v.Has(identity.RoleCentralTeam) || v.Has(identity.RoleAdmin) ||
			slices.ContainsFunc(r.NSIGIDs, func(id int64) bool { return slices.Contains(v.NSIGIDs, id) }))
		items, err := nsig.Items(ctx, db, r.ID)
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.Status != nsig.ItemAccepted {
				continue
			}
			m.ItemCount++
			if m.Readable {
				m.Items = append(m.Items, Item{Title: it.Title, References: it.References, Outcome: it.Outcome, Minutes: it.Minutes})
			}
		}
		u.Meetings = append(u.Meetings, m)
	}
	return nil
}

func views(ctx context.Context, db bun.IDB, _ *request.Viewer, u *Update, lo, hi time.Time) error {
	var rows []struct {
		Reference  string       `bun:"reference"`
		Title      string       `bun:"title"`
		NSIG       string       `bun:"nsig"`
		View       nsig.Opinion `bun:"view"`
		RecordedAt time.Time    `bun:"recorded_at"`
	}
	if err := db.NewRaw(`SELECT r.reference, r.title, n.name AS nsig, rv.view, rv.recorded_at
		FROM regional_views AS rv JOIN requests AS r ON r.id = rv.request_id JOIN nsigs AS n ON n.id = rv.nsig_id
		WHERE rv.region_id = ? AND r.accepted AND rv.recorded_at >= ? AND rv.recorded_at < ?
		ORDER BY rv.recorded_at, r.reference`, u.RegionID, lo, hi).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("regional views: %w", err)
	}
	for _, r := range rows {
		u.Views = append(u.Views, View{Reference: r.Reference, Title: r.Title, NSIG: r.NSIG, View: r.View.Info().Label, On: civil(r.RecordedAt)})
	}
	return nil
}

var outcomes = map[string]string{"approved": "Approved", "deferred": "Deferred", "not_approved": "Not approved"}

func decisions(ctx context.Context, db bun.IDB, _ *request.Viewer, u *Update, lo, hi time.Time) error {
	var rows []struct {
		Reference    string    `bun:"reference"`
		Title        string    `bun:"title"`
		Organisation string    `bun:"organisation"`
		Outcome      string    `bun:"outcome"`
		Rationale    string    `bun:"rationale"`
		DecidedAt    time.Time `bun:"decided_at"`
		ReviewOn     time.Time `bun:"review_on"`
	}
	if err := db.NewRaw(`SELECT r.reference, r.title, o.name AS organisation, d.outcome, d.rationale, d.decided_at, d.review_on
		FROM request_decisions AS d JOIN requests AS r ON r.id = d.request_id JOIN organisations AS o ON o.id = r.organisation_id
		WHERE o.region_id = ? AND r.accepted AND d.decided_at >= ? AND d.decided_at < ?
		ORDER BY d.decided_at, r.reference`, u.RegionID, lo, hi).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("decisions: %w", err)
	}
	for _, r := range rows {
		d := Decision{Reference: r.Reference, Title: r.Title, Organisation: r.Organisation, Outcome: outcomes[r.Outcome], Rationale: r.Rationale, On: civil(r.DecidedAt)}
		if !r.ReviewOn.IsZero() {
			d.Outcome += ", to be reviewed on " + r.ReviewOn.Format("2 January 2006")
		}
		u.Decisions = append(u.Decisions, d)
	}
	return nil
}

func releases(ctx context.Context, db bun.IDB, _ *request.Viewer, u *Update, _, _ time.Time) error {
	open, err := release.Open(ctx, db)
	if err != nil {
		return err
	}
	for _, rl := range open {
		var rows []struct {
			Reference    string `bun:"reference"`
			Title        string `bun:"title"`
			Organisation string `bun:"organisation"`
			Region       string `bun:"region"`
			RegionID     int16  `bun:"region_id"`
		}
		if err := db.NewRaw(`SELECT r.reference, r.title, o.name AS organisation, rg.name AS region, o.region_id
			FROM allocations AS a JOIN requests AS r ON r.id = a.request_id JOIN organisations AS o ON o.id = r.organisation_id
			JOIN regions AS rg ON rg.id = o.region_id
			WHERE a.release_id = ? AND r.accepted ORDER BY (o.region_id = ?) DESC, r.reference`, rl.ID, u.RegionID).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("changes in release %d: %w", rl.Number, err)
		}
		out := Release{Number: rl.Number, Name: rl.Name, TargetDate: rl.TargetDate, Status: rl.Status.Info().Label}
		for _, r := range rows {
			out.Changes = append(out.Changes, Change{Reference: r.Reference, Title: r.Title, Organisation: r.Organisation, Region: r.Region, Ours: r.RegionID == u.RegionID})
		}
		u.Releases = append(u.Releases, out)
	}
	return nil
}

// Recipients are who a region's update is sent to: its current NSIG seat holders and its functional
// account managers, each once, active users only.
func Recipients(ctx context.Context, db bun.IDB, regionID int16) ([]int64, error) {
	var ids []int64
	if err := db.NewRaw(`SELECT DISTINCT p.user_id FROM (
			SELECT a.user_id FROM nsig_appointments AS a WHERE a.region_id = ?0 AND a.ended_at IS NULL
			UNION SELECT ur.user_id FROM user_roles AS ur JOIN users AS u ON u.id = ur.user_id JOIN organisations AS o ON o.id = u.organisation_id
			WHERE ur.role = ?1 AND o.region_id = ?0
		) AS p JOIN users AS u ON u.id = p.user_id AND u.status = 'active' ORDER BY 1`, regionID, identity.RoleFunctionalAccountManager).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("who receives region %d's update: %w", regionID, err)
	}
	return ids, nil
}

// Send emails a region's update for the period to its Recipients (each as their notification settings
// say), with what every one of them may read and a link to the page, and audits it. It returns how many
// were told.
func Send(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, regionID int16, from, to time.Time) (int, error) {
	if !CanSend(v) {
		return 0, fmt.Errorf("send the regional SIG update: %w", problem.ErrForbidden)
	}
	told := 0
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		u, err := build(ctx, tx, nil, regionID, from, to)
		if err != nil {
			return err
		}
		ids, err := Recipients(ctx, tx, regionID)
		if err != nil {
			return err
		}
		title, body := u.Email()
		link := fmt.Sprintf("/regions/%d/update?%s", regionID, u.Query())
		msgs := make([]notify.Message, 0, len(ids))
		for _, id := range ids {
			msgs = append(msgs, notify.Message{UserID: id, Event: notify.EventRegionalUpdate, Title: title, Body: body, Link: link})
		}
		told = len(msgs)
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "rsig.update_sent", EntityType: "region", EntityID: fmt.Sprint(regionID),
			After: map[string]any{"from": u.From.Format(time.DateOnly), "to": u.To.Format(time.DateOnly), "recipients": told}}); err != nil {
			return err
		}
		return notify.Queue(ctx, tx, now, msgs...)
	})
	return told, err
}

// Query is the period as the page's query string.
func (u *Update) Query() string {
	return fmt.Sprintf("from-day=%d&from-month=%d&from-year=%d&to-day=%d&to-month=%d&to-year=%d",
		u.From.Day(), int(u.From.Month()), u.From.Year(), u.To.Day(), int(u.To.Month()), u.To.Year())
}

// Period is the period in words: "1 September to 30 November 2026".
func (u *Update) Period() string {
	from := u.From.Format("2 January 2006")
	if u.From.Year() == u.To.Year() {
		from = u.From.Format("2 January")
	}
	return from + " to " + u.To.Format("2 January 2006")
}

// Email is the update's email: its subject and plain text, with what every recipient may read.
func (u *Update) Email() (string, string) {
	title := fmt.Sprintf("Regional SIG update for %s: %s", u.Region, u.Period())
	var b strings.Builder
	fmt.Fprintf(&b, "The national ESR central team's update for the %s regional SIG, %s.\n", u.Region, u.Period())
	fmt.Fprintf(&b, "\nNSIG meetings (%d)\n", len(u.Meetings))
	for _, m := range u.Meetings {
		rep := "not represented"
		if len(m.Represented) > 0 {
			rep = "represented by " + strings.Join(m.Represented, ", ")
		}
		fmt.Fprintf(&b, "- %s, %s: %d agenda items; %s %s\n", m.On.Format("2 January 2006"), m.NSIGs, m.ItemCount, u.Region, rep)
	}
	fmt.Fprintf(&b, "\nThe %s region's views on requests (%d)\n", u.Region, len(u.Views))
	for _, v := range u.Views {
		fmt.Fprintf(&b, "- %s %s (%s): %s\n", v.Reference, v.Title, v.NSIG, v.View)
	}
	fmt.Fprintf(&b, "\nDecisions on the region's requests (%d)\n", len(u.Decisions))
	for _, d := range u.Decisions {
		fmt.Fprintf(&b, "- %s %s (%s): %s on %s\n", d.Reference, d.Title, d.Organisation, d.Outcome, d.On.Format("2 January 2006"))
	}
	fmt.Fprintf(&b, "\nComing releases\n")
	for _, r := range u.Releases {
		fmt.Fprintf(&b, "- Release %d (%s, %s): %d changes, %d from %s\n", r.Number, r.Name, r.TargetDate.Format("2 January 2006"), len(r.Changes), r.Ours(), u.Region)
	}
	out := b.String()
	// A message holds at most 10,000 characters: a long update is cut, and the page has the rest.
	if len(out) > 9000 {
		cut := strings.LastIndex(out[:9000], "\n")
		out = out[:cut] + "\n…and more on the update's page in the portal.\n"
	}
	out += "\nThe update's page and PDF in the portal have the NSIGs' minutes and outcomes for those who sit on them, and each request's page has more."
	return title, out
}
