package nsig

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// Panel is what a request page shows of its NSIG's review, read in one statement: the coverage grid,
// the viewer's own seat (if they hold one) and the NSIG's next meeting.
type Panel struct {
	Coverage *Coverage
	MySeat   *Appointment // the viewer's current seat on the request's NSIG; nil for none
	Next     *Meeting     // the next meeting the NSIG holds (alone or jointly) that has not ended; nil for none
}

// panelRow is one region of the grid with what the panel needs of it.
type panelRow struct {
	RegionID       int16     `bun:"region_id"`
	RegionName     string    `bun:"region_name"`
	Member         string    `bun:"member"`
	Deputy         string    `bun:"deputy"`
	View           Opinion   `bun:"view"`
	Comment        string    `bun:"comment"`
	Position       Position  `bun:"position"`
	RecordedBy     int64     `bun:"recorded_by"`
	RecordedAt     time.Time `bun:"recorded_at"`
	RecordedByName string    `bun:"recorded_by_name"`
	MyPosition     Position  `bun:"my_position"`
	NextID         int64     `bun:"next_id"`
	NextStartsAt   time.Time `bun:"next_starts_at"`
	NextMinutes    int       `bun:"next_minutes"`
}

// panelSQL reads the grid of an NSIG's regions for a request: each region's current member and deputy,
// its view of the request, the viewer's own position there, and (on every row) the NSIG's next meeting.
const panelSQL = `
SELECT rg.id AS region_id, rg.name AS region_name,
	COALESCE(mem.name, '') AS member, COALESCE(dep.name, '') AS deputy,
	COALESCE(rv.view, '') AS view, COALESCE(rv.comment, '') AS comment, COALESCE(rv.position, '') AS position,
	COALESCE(rv.recorded_by, 0) AS recorded_by, rv.recorded_at, COALESCE(ru.name, '') AS recorded_by_name,
	COALESCE(mine.position, '') AS my_position,
	COALESCE(nm.id, 0) AS next_id, nm.starts_at AS next_starts_at, COALESCE(nm.duration_minutes, 0) AS next_minutes
FROM regions AS rg
LEFT JOIN LATERAL (SELECT u.name FROM nsig_appointments AS ap JOIN users AS u ON u.id = ap.user_id
	WHERE ap.nsig_id = ?0 AND ap.region_id = rg.id AND ap.ended_at IS NULL AND ap.position = 'member' ORDER BY ap.id LIMIT 1) AS mem ON true
LEFT JOIN LATERAL (SELECT u.name FROM nsig_appointments AS ap JOIN users AS u ON u.id = ap.user_id
	WHERE ap.nsig_id = ?0 AND ap.region_id = rg.id AND ap.ended_at IS NULL AND ap.position = 'deputy' ORDER BY ap.id LIMIT 1) AS dep ON true
LEFT JOIN regional_views AS rv ON rv.request_id = ?1 AND rv.nsig_id = ?0 AND rv.region_id = rg.id
LEFT JOIN users AS ru ON ru.id = rv.recorded_by
LEFT JOIN LATERAL (SELECT ap.position FROM nsig_appointments AS ap
	WHERE ap.nsig_id = ?0 AND ap.region_id = rg.id AND ap.user_id = ?2 AND ap.ended_at IS NULL ORDER BY ap.position LIMIT 1) AS mine ON true
LEFT JOIN LATERAL (SELECT mt.id, mt.starts_at, mt.duration_minutes FROM nsig_meetings AS mt
	WHERE mt.id IN (SELECT meeting_id FROM meeting_nsigs WHERE nsig_id = ?0) AND mt.starts_at + make_interval(mins => mt.duration_minutes) > ?3 ORDER BY mt.starts_at LIMIT 1) AS nm ON true
ORDER BY rg.sort_order`

// PanelOf returns the NSIG panel of a request for the viewer, or nil when the request has no NSIG. It
// runs one statement, however many regions, views and seats there are.
func PanelOf(ctx context.Context, db bun.IDB, v request.Viewer, r *request.Request, now time.Time) (*Panel, error) {
	if r.NSIGID == 0 {
		return nil, nil
	}
	var me int64 // only a seat holder has a seat to find
	if v.Has(identity.RoleNSIGMember) {
		me = v.UserID
	}
	var rows []panelRow
	// A fixed text with parameters, planned once a connection: every request page an NSIG reviews runs it.
	if err := database.ScanPrepared(ctx, db, panelSQL, &rows, r.NSIGID, r.ID, me, now.UTC()); err != nil {
		return nil, fmt.Errorf("read the NSIG panel of request %d: %w", r.ID, err)
	}
	p := &Panel{Coverage: &Coverage{NSIGID: r.NSIGID, NSIGName: r.NSIGName}}
	for _, row := range rows {
		cr := CoverageRow{RegionID: row.RegionID, RegionName: row.RegionName, Member: row.Member, Deputy: row.Deputy}
		if row.View != "" {
			cr.View = &RegionalView{RequestID: r.ID, NSIGID: r.NSIGID, RegionID: row.RegionID, View: row.View, Comment: row.Comment,
				Position: row.Position, RecordedBy: row.RecordedBy, RecordedAt: row.RecordedAt, RecordedByName: row.RecordedByName}
			p.Coverage.Responded++
		}
		p.Coverage.Rows = append(p.Coverage.Rows, cr)
		if row.MyPosition != "" && p.MySeat == nil {
			p.MySeat = &Appointment{NSIGID: r.NSIGID, RegionID: row.RegionID, Position: row.MyPosition, UserID: v.UserID,
				UserName: v.Name, NSIGName: r.NSIGName, RegionName: row.RegionName}
		}
		if row.NextID != 0 && p.Next == nil {
			p.Next = &Meeting{ID: row.NextID, NSIGID: r.NSIGID, StartsAt: row.NextStartsAt, DurationMinutes: row.NextMinutes}
		}
	}
	return p, nil
}
