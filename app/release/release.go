// Package release holds ESR's numbered quarterly releases and the approved requests allocated to them:
// creating and changing releases, moving a request from one release to another with its reason, and a
// release going live, which delivers every request allocated to it.
package release

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// Status is where a release stands.
type Status string

// Release statuses.
const (
	StatusPlanned    Status = "planned"
	StatusInProgress Status = "in_progress"
	StatusReleased   Status = "released"
)

// StatusInfo is how a status reads and looks.
type StatusInfo struct {
	Status Status
	Label  string
	Colour string // an NHS tag colour
}

// Statuses lists every status in order, with its label and tag colour.
var Statuses = []StatusInfo{
	{StatusPlanned, "Planned", "grey"},
	{StatusInProgress, "In progress", "blue"},
	{StatusReleased, "Released", "green"},
}

// Info returns the label and colour of a status.
func (s Status) Info() StatusInfo {
	for _, i := range Statuses {
		if i.Status == s {
			return i
		}
	}
	return StatusInfo{Status: s, Label: string(s), Colour: "grey"}
}

// Release is one numbered ESR release.
type Release struct {
	bun.BaseModel `bun:"table:releases,alias:rl"`

	ID           int64           `bun:"id,pk,autoincrement"`
	Number       int             `bun:"number"`
	Name         string          `bun:"name"`
	TargetDate   time.Time       `bun:"target_date,type:date"`
	Status       Status          `bun:"status"`
	CapacityDays sql.NullFloat64 `bun:"capacity_days,type:numeric"`
	ReleasedAt   time.Time       `bun:"released_at,nullzero"`
	Version      int             `bun:"version"`
	CreatedAt    time.Time       `bun:"created_at"`
	UpdatedAt    time.Time       `bun:"updated_at"`

	// Read with the release by List and Get.
	Changes  int     `bun:"changes,scanonly"`   // requests allocated to it (delivered ones included)
	UsedDays float64 `bun:"used_days,scanonly"` // the sum of their assessed effort
}

// Title is the release as people name it: "Release 72: December 2026".
func (r *Release) Title() string { return Title(r.Number, r.Name) }

// Title names a release from its number and name.
func Title(number int, name string) string { return "Release " + strconv.Itoa(number) + ": " + name }

// OverCapacity reports whether the effort allocated is more than the release's capacity.
func (r *Release) OverCapacity() bool {
	return r.CapacityDays.Valid && r.UsedDays > r.CapacityDays.Float64
}

// Released reports whether the release has gone live.
func (r *Release) Released() bool { return r.Status == StatusReleased }

// columns are a release's own columns, and what its allocations add up to.
const columns = `rl.*,
	(SELECT count(*) FROM allocations AS al WHERE al.release_id = rl.id) AS changes,
	(SELECT COALESCE(sum(ia.effort_days), 0) FROM allocations AS al
		JOIN impact_assessments AS ia ON ia.request_id = al.request_id WHERE al.release_id = rl.id) AS used_days`

// List returns every release, the latest first.
func List(ctx context.Context, db bun.IDB) ([]Release, error) {
	var out []Release
	if err := db.NewSelect().Model(&out).ColumnExpr(columns).Order("rl.number DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	return out, nil
}

// Open returns the releases that have not gone live, the soonest first: those a request can be
// allocated or moved to.
func Open(ctx context.Context, db bun.IDB) ([]Release, error) {
	var out []Release
	if err := db.NewSelect().Model(&out).Where("rl.status <> ?", StatusReleased).Order("rl.target_date", "rl.number").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list open releases: %w", err)
	}
	return out, nil
}

// Get returns the release with the id, or problem.ErrNotFound.
func Get(ctx context.Context, db bun.IDB, id int64) (*Release, error) {
	r := new(Release)
	err := db.NewSelect().Model(r).ColumnExpr(columns).Where("rl.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("release %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get release %d: %w", id, err)
	}
	return r, nil
}

// GetByNumber returns the release with the number, or problem.ErrNotFound.
func GetByNumber(ctx context.Context, db bun.IDB, number int) (*Release, error) {
	r := new(Release)
	err := db.NewSelect().Model(r).ColumnExpr(columns).Where("rl.number = ?", number).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("release %d: %w", number, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get release number %d: %w", number, err)
	}
	return r, nil
}

// Change is a request allocated to a release, as the release page lists it.
type Change struct {
	RequestID        int64           `bun:"request_id"`
	Reference        string          `bun:"reference"`
	Title            string          `bun:"title"`
	Status           request.Status  `bun:"status"`
	FunctionalArea   string          `bun:"functional_area"`
	OrganisationName string          `bun:"organisation_name"`
	EffortDays       sql.NullFloat64 `bun:"effort_days"`
}

// Changes returns the requests allocated to a release that the viewer may know of, by reference.
func Changes(ctx context.Context, db bun.IDB, v request.Viewer, releaseID int64) ([]Change, error) {
	var out []Change
	q := db.NewSelect().TableExpr("allocations AS al").
		ColumnExpr("r.id AS request_id, r.reference, r.title, r.status, e.functional_area, o.name AS organisation_name, ia.effort_days").
		Join("JOIN requests AS r ON r.id = al.request_id").
		Join("JOIN enhancement_requests AS e ON e.request_id = r.id").
		Join("JOIN organisations AS o ON o.id = r.organisation_id").
		Join("LEFT JOIN impact_assessments AS ia ON ia.request_id = r.id").
		Where("al.release_id = ?", releaseID)
	if !National(v) {
		q = q.Where("(r.accepted OR r.organisation_id = ?)", v.OrganisationID)
	}
	if err := q.Order("r.reference").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list changes in release %d: %w", releaseID, err)
	}
	return out, nil
}

// Allocation is the release a request is allocated to.
type Allocation struct {
	RequestID   int64     `bun:"request_id"`
	ReleaseID   int64     `bun:"release_id"`
	Number      int       `bun:"number"`
	Name        string    `bun:"name"`
	TargetDate  time.Time `bun:"target_date,type:date"`
	Status      Status    `bun:"status"`
	AllocatedAt time.Time `bun:"allocated_at"`
}

// Title is the release's name: "Release 72: December 2026".
func (a *Allocation) Title() string { return Title(a.Number, a.Name) }

// AllocationOf returns the release a request is allocated to, or problem.ErrNotFound when it is in none.
func AllocationOf(ctx context.Context, db bun.IDB, requestID int64) (*Allocation, error) {
	a := new(Allocation)
	err := db.NewSelect().TableExpr("allocations AS al").
		ColumnExpr("al.request_id, al.release_id, rl.number, rl.name, rl.target_date, rl.status, al.allocated_at").
		Join("JOIN releases AS rl ON rl.id = al.release_id").
		Where("al.request_id = ?", requestID).Scan(ctx, a)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("allocation of request %d: %w", requestID, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get allocation of request %d: %w", requestID, err)
	}
	return a, nil
}

// AllocationMove is a request moved from one release to another, with why.
type AllocationMove struct {
	ID         int64     `bun:"id"`
	RequestID  int64     `bun:"request_id"`
	Reference  string    `bun:"reference"`
	Title      string    `bun:"title"`
	FromID     int64     `bun:"from_release_id"`
	FromNumber int       `bun:"from_number"`
	ToID       int64     `bun:"to_release_id"`
	ToNumber   int       `bun:"to_number"`
	Reason     string    `bun:"reason"`
	MovedBy    string    `bun:"moved_by"`
	MovedAt    time.Time `bun:"moved_at"`
}

// Summary is the move in words: "Moved from Release 71 to Release 72".
func (m AllocationMove) Summary() string {
	return fmt.Sprintf("Moved from Release %d to Release %d", m.FromNumber, m.ToNumber)
}

func selectMoves(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("allocation_moves AS m").
		ColumnExpr("m.id, m.request_id, r.reference, r.title, m.from_release_id, f.number AS from_number").
		ColumnExpr("m.to_release_id, t.number AS to_number, m.reason, u.name AS moved_by, m.moved_at").
		Join("JOIN requests AS r ON r.id = m.request_id").
		Join("JOIN releases AS f ON f.id = m.from_release_id").
		Join("JOIN releases AS t ON t.id = m.to_release_id").
		Join("JOIN users AS u ON u.id = m.moved_by").
		Order("m.moved_at", "m.id")
}

// Moves returns the moves into and out of a release of the requests the viewer may know of, oldest
// first.
func Moves(ctx context.Context, db bun.IDB, v request.Viewer, releaseID int64) ([]AllocationMove, error) {
	var out []AllocationMove
	q := selectMoves(db).Where("(m.from_release_id = ? OR m.to_release_id = ?)", releaseID, releaseID)
	if !National(v) {
		q = q.Where("(r.accepted OR r.organisation_id = ?)", v.OrganisationID)
	}
	if err := q.Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list moves of release %d: %w", releaseID, err)
	}
	return out, nil
}

// RequestMoves returns a request's moves between releases, oldest first.
func RequestMoves(ctx context.Context, db bun.IDB, requestID int64) ([]AllocationMove, error) {
	var out []AllocationMove
	if err := selectMoves(db).Where("m.request_id = ?", requestID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list moves of request %d: %w", requestID, err)
	}
	return out, nil
}

// National reports whether the viewer is on the central or development team, who see every request
// and the effort assessed for it.
func National(v request.Viewer) bool {
	return v.Has(identity.RoleCentralTeam) || v.Has(identity.RoleDevelopmentTeam)
}

// CanManage reports whether the viewer may create, change and release releases and move requests
// between them: the central team.
func CanManage(v request.Viewer) bool { return v.Has(identity.RoleCentralTeam) }

// FormatDays writes a number of effort days without a needless ".0": "12", "7.5".
func FormatDays(d float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(d, 'f', 1, 64), ".0")
}
