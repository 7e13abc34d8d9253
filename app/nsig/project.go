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

// ProjectStatus is where a linked project stands.
type ProjectStatus string

// Linked project statuses. A project in business as usual has been handed to an NSIG.
const (
	ProjectPlanned    ProjectStatus = "planned"
	ProjectInProgress ProjectStatus = "in_progress"
	ProjectBAU        ProjectStatus = "business_as_usual"
	ProjectClosed     ProjectStatus = "closed"
)

// Label is the status in words.
func (s ProjectStatus) Label() string {
	switch s {
	case ProjectInProgress:
		return "In progress"
	case ProjectBAU:
		return "Business as usual"
	case ProjectClosed:
		return "Closed"
	}
	return "Planned"
}

// Project is a national project linked to ESR.
type Project struct {
	bun.BaseModel `bun:"table:linked_projects,alias:lp"`

	ID             int64         `bun:"id,pk,autoincrement"`
	Name           string        `bun:"name"`
	Description    string        `bun:"description"`
	FunctionalArea string        `bun:"functional_area"`
	Status         ProjectStatus `bun:"status"`
	NSIGID         int64         `bun:"nsig_id,nullzero"`
	HandedOverOn   time.Time     `bun:"handed_over_on,type:date,nullzero"`
	HandoverNote   string        `bun:"handover_note"`
	HandedOverBy   int64         `bun:"handed_over_by,nullzero"`
	Version        int           `bun:"version"`
	CreatedAt      time.Time     `bun:"created_at"`
	UpdatedAt      time.Time     `bun:"updated_at"`

	NSIGName string `bun:"nsig_name,scanonly"`
}

func selectProjects(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).ColumnExpr("lp.*, COALESCE(n.name, '') AS nsig_name").Join("LEFT JOIN nsigs AS n ON n.id = lp.nsig_id")
}

// Projects returns every linked project, by name.
func Projects(ctx context.Context, db bun.IDB) ([]Project, error) {
	var out []Project
	if err := selectProjects(db, &out).Order("lp.name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list linked projects: %w", err)
	}
	return out, nil
}

// ProjectsOf returns the projects handed to an NSIG: its responsibilities, by hand-over date.
func ProjectsOf(ctx context.Context, db bun.IDB, nsigID int64) ([]Project, error) {
	var out []Project
	if err := selectProjects(db, &out).Where("lp.nsig_id = ?", nsigID).Order("lp.handed_over_on", "lp.name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list projects of NSIG %d: %w", nsigID, err)
	}
	return out, nil
}

// GetProject returns a linked project, or problem.ErrNotFound.
func GetProject(ctx context.Context, db bun.IDB, id int64) (*Project, error) {
	p := new(Project)
	err := selectProjects(db, p).Where("lp.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("project %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get project %d: %w", id, err)
	}
	return p, nil
}

// ProjectInput is what the project form sends.
type ProjectInput struct {
	Name           string
	Description    string
	FunctionalArea string
	Status         ProjectStatus // planned, in progress or closed; business as usual comes by hand-over
}

func (in *ProjectInput) check(areas []string, current ProjectStatus) error {
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.Description = strings.TrimSpace(in.Description)
	switch {
	case in.Name == "":
		return &request.RuleError{Field: "name", Message: "Enter the project's name"}
	case len(in.Name) > maxText:
		return &request.RuleError{Field: "name", Message: fmt.Sprintf("The name must be %d characters or fewer", maxText)}
	case len(in.Description) > maxComment:
		return &request.RuleError{Field: "description", Message: fmt.Sprintf("The description must be %d characters or fewer", maxComment)}
	case !slices.Contains(areas, in.FunctionalArea):
		return &request.RuleError{Field: "functional_area", Message: "Select the functional area the project changes"}
	case current == ProjectBAU:
		in.Status = ProjectBAU // it stays with its NSIG
	case in.Status != ProjectPlanned && in.Status != ProjectInProgress && in.Status != ProjectClosed:
		return &request.RuleError{Field: "status", Message: "Select planned, in progress or closed. To move it into business as usual, hand it to an NSIG"}
	}
	return nil
}

func projectTaken(err error, name string) error {
	if database.IsUniqueViolation(err, "linked_projects_name_key") {
		return &request.RuleError{Field: "name", Message: fmt.Sprintf("There is already a project called %s", name)}
	}
	return err
}

// SaveProject adds a linked project (id 0) or changes one, if the form was made from its current
// version (otherwise problem.ErrConflict).
func SaveProject(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, id int64, version int, in ProjectInput) (*Project, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("save project: %w", problem.ErrForbidden)
	}
	areas, err := request.FunctionalAreas(ctx, db)
	if err != nil {
		return nil, err
	}
	var out *Project
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		p := &Project{Version: 1, CreatedAt: now}
		var before any
		if id != 0 {
			if err := tx.NewSelect().Model(p).Where("id = ?", id).For("UPDATE").Scan(ctx); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("project %d: %w", id, problem.ErrNotFound)
			} else if err != nil {
				return fmt.Errorf("lock project %d: %w", id, err)
			}
			if p.Version != version {
				return fmt.Errorf("project %d is at version %d, the form was made from %d: %w", id, p.Version, version, problem.ErrConflict)
			}
			before = map[string]any{"name": p.Name, "functional_area": p.FunctionalArea, "status": p.Status}
		}
		if err := in.check(areas, p.Status); err != nil {
			return err
		}
		p.Name, p.Description, p.FunctionalArea, p.Status, p.UpdatedAt = in.Name, in.Description, in.FunctionalArea, in.Status, now
		action := "project.created"
		if id == 0 {
			if _, err := tx.NewInsert().Model(p).ExcludeColumn("nsig_id", "handed_over_on", "handed_over_by").Returning("id").Exec(ctx); err != nil {
				return projectTaken(err, in.Name)
			}
		} else {
			action = "project.updated"
			p.Version++
			if _, err := tx.NewUpdate().Model(p).Column("name", "description", "functional_area", "status", "version", "updated_at").
				Where("id = ?", id).Exec(ctx); err != nil {
				return projectTaken(err, in.Name)
			}
		}
		out = p
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: action, EntityType: "linked_project", EntityID: fmt.Sprint(p.ID),
			Before: before, After: map[string]any{"name": p.Name, "functional_area": p.FunctionalArea, "status": p.Status}})
	})
	if err != nil {
		return nil, fmt.Errorf("save project: %w", err)
	}
	return out, nil
}

// HandoverInput is what the hand-over form sends.
type HandoverInput struct {
	NSIGID int64
	On     time.Time
	Note   string
}

// HandOver moves a project into business as usual, in the care of an active NSIG, from a date, with a
// note; it then appears among that NSIG's responsibilities. A project handed over already, or closed,
// cannot be; the form must be from the project's current version.
func HandOver(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, id int64, version int, in HandoverInput) (*Project, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("hand over project %d: %w", id, problem.ErrForbidden)
	}
	in.Note = strings.TrimSpace(in.Note)
	var out *Project
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		p := new(Project)
		if err := tx.NewSelect().Model(p).Where("id = ?", id).For("UPDATE").Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("project %d: %w", id, problem.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("lock project %d: %w", id, err)
		}
		if p.Version != version {
			return fmt.Errorf("project %d is at version %d, the form was made from %d: %w", id, p.Version, version, problem.ErrConflict)
		}
		var status Status
		err := tx.NewSelect().Table("nsigs").Column("status").Where("id = ?", in.NSIGID).Scan(ctx, &status)
		switch {
		case p.Status == ProjectBAU:
			return &request.RuleError{Field: "nsig_id", Message: "The project has been handed to an NSIG already"}
		case p.Status == ProjectClosed:
			return &request.RuleError{Field: "nsig_id", Message: "A closed project cannot be handed over"}
		case errors.Is(err, sql.ErrNoRows) || in.NSIGID == 0 || (err == nil && status != StatusActive):
			return &request.RuleError{Field: "nsig_id", Message: "Select the active NSIG that takes it on"}
		case err != nil:
			return fmt.Errorf("read NSIG %d: %w", in.NSIGID, err)
		case in.On.IsZero():
			return &request.RuleError{Field: "on-day", Message: "Enter the date it moves into business as usual"}
		case in.Note == "":
			return &request.RuleError{Field: "note", Message: "Enter a hand-over note: what the NSIG takes on"}
		case len(in.Note) > maxReason:
			return &request.RuleError{Field: "note", Message: fmt.Sprintf("The note must be %d characters or fewer", maxReason)}
		}
		p.Status, p.NSIGID, p.HandedOverOn, p.HandoverNote, p.HandedOverBy = ProjectBAU, in.NSIGID, day(in.On), in.Note, v.UserID
		p.Version, p.UpdatedAt = p.Version+1, now
		if _, err := tx.NewUpdate().Model(p).Column("status", "nsig_id", "handed_over_on", "handover_note", "handed_over_by", "version", "updated_at").
			Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("hand over project %d: %w", id, err)
		}
		out = p
		if _, err := tx.NewRaw(`INSERT INTO project_handover_regions (project_id, region_id) SELECT ?, id FROM regions`, id).Exec(ctx); err != nil {
			return fmt.Errorf("record the regions of project %d's hand-over: %w", id, err)
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "project.handed_over", EntityType: "linked_project", EntityID: fmt.Sprint(id),
			After: map[string]any{"nsig_id": in.NSIGID, "on": p.HandedOverOn.Format(time.DateOnly), "note": in.Note}}); err != nil {
			return err
		}
		return tellHandover(ctx, tx, now, p)
	})
	if err != nil {
		return nil, fmt.Errorf("hand over project %d: %w", id, err)
	}
	return out, nil
}

// tellHandover tells the NSIG's seat holders and every region's functional account manager that a project
// has moved into business as usual with the NSIG, so that each regional SIG extends its membership to
// cover the project's functional area.
func tellHandover(ctx context.Context, tx bun.Tx, now time.Time, p *Project) error {
	var nsigName string
	if err := tx.NewSelect().Table("nsigs").Column("name").Where("id = ?", p.NSIGID).Scan(ctx, &nsigName); err != nil {
		return fmt.Errorf("read NSIG %d: %w", p.NSIGID, err)
	}
	var people []struct {
		UserID int64 `bun:"user_id"`
		Seat   bool  `bun:"seat"`
	}
	if err := tx.NewRaw(`SELECT user_id, bool_or(seat) AS seat FROM (
			SELECT a.user_id, true AS seat FROM nsig_appointments AS a WHERE a.nsig_id = ? AND a.ended_at IS NULL
			UNION ALL SELECT ur.user_id, false FROM user_roles AS ur JOIN users AS u ON u.id = ur.user_id
			WHERE ur.role = ? AND u.status = 'active'
		) AS p GROUP BY user_id ORDER BY user_id`, p.NSIGID, identity.RoleFunctionalAccountManager).Scan(ctx, &people); err != nil {
		return fmt.Errorf("who hears of project %d's hand-over: %w", p.ID, err)
	}
	title := fmt.Sprintf("%s is handed to the %s NSIG", p.Name, nsigName)
	body := fmt.Sprintf("The %s project has moved into business as usual. From %s the %s NSIG looks after it, in %s.\n\n"+
		"Each regional SIG must now extend its membership to cover %s, so that the region has people who know this area. "+
		"The NSIG's dashboard shows the hand-over until every region has done so.\n\nWhat the NSIG takes on: %s",
		p.Name, p.HandedOverOn.Format("2 January 2006"), nsigName, p.FunctionalArea, p.FunctionalArea, p.HandoverNote)
	msgs := make([]notify.Message, 0, len(people))
	for _, who := range people {
		link := fmt.Sprintf("/nsigs/%d#handovers", p.NSIGID)
		extra := ""
		if !who.Seat {
			link = "/notifications"
			extra = "\n\nAs your region's functional account manager, please make sure your regional SIG extends its membership; the region's NSIG member or deputy marks it done on the NSIG's dashboard."
		} else {
			extra = "\n\nOnce your regional SIG has extended its membership, mark it done for your region on the NSIG's dashboard."
		}
		msgs = append(msgs, notify.Message{UserID: who.UserID, Event: notify.EventProjectHandover, Title: title, Body: body + extra, Link: link})
	}
	return notify.Queue(ctx, tx, now, msgs...)
}

// RegionExtension is one region's part in a hand-over: whether its regional SIG has extended its
// membership to cover the project's area.
type RegionExtension struct {
	RegionID   int16     `bun:"region_id"`
	RegionName string    `bun:"region_name"`
	DoneAt     time.Time `bun:"done_at,nullzero"`
	DoneBy     string    `bun:"done_by_name"`
}

// Done reports whether the region has marked it done.
func (e RegionExtension) Done() bool { return !e.DoneAt.IsZero() }

// Handover is a project handed to an NSIG that some regions have still to act on.
type Handover struct {
	Project Project
	Regions []RegionExtension
	Pending int
}

// PendingHandovers returns the projects handed to an NSIG that some region has not yet marked done,
// with every region's progress, by hand-over date.
func PendingHandovers(ctx context.Context, db bun.IDB, nsigID int64) ([]Handover, error) {
	projects, err := ProjectsOf(ctx, db, nsigID)
	if err != nil {
		return nil, err
	}
	var out []Handover
	for _, p := range projects {
		var regions []RegionExtension
		if err := db.NewRaw(`SELECT h.region_id, rg.name AS region_name, h.done_at, coalesce(u.name, '') AS done_by_name
			FROM project_handover_regions AS h JOIN regions AS rg ON rg.id = h.region_id LEFT JOIN users AS u ON u.id = h.done_by
			WHERE h.project_id = ? ORDER BY h.region_id`, p.ID).Scan(ctx, &regions); err != nil {
			return nil, fmt.Errorf("regions of project %d's hand-over: %w", p.ID, err)
		}
		h := Handover{Project: p, Regions: regions}
		for _, r := range regions {
			if !r.Done() {
				h.Pending++
			}
		}
		if h.Pending > 0 {
			out = append(out, h)
		}
	}
	return out, nil
}

// CanMarkExtended reports whether the viewer may mark a region's part of a hand-over to the NSIG done:
// the central team, or the region's current member or deputy on that NSIG.
func CanMarkExtended(ctx context.Context, db bun.IDB, v request.Viewer, nsigID int64, regionID int16) (bool, error) {
	if CanManage(v) {
		return true, nil
	}
	held, err := SeatsHeldBy(ctx, db, v.UserID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(held, func(a Appointment) bool { return a.NSIGID == nsigID && a.RegionID == regionID }), nil
}

// MarkExtended records that a region's SIG has extended its membership to cover a handed-over project's
// area, and audits it. Someone who may not (CanMarkExtended) gets problem.ErrForbidden; a region marked
// already, or a project not handed over, problem.ErrConflict.
func MarkExtended(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, nsigID, projectID int64, regionID int16) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		p := new(Project)
		if err := tx.NewSelect().Model(p).Where("id = ?", projectID).For("SHARE").Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("project %d: %w", projectID, problem.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("read project %d: %w", projectID, err)
		}
		if p.Status != ProjectBAU || p.NSIGID != nsigID {
			return fmt.Errorf("project %d is not handed to NSIG %d: %w", projectID, nsigID, problem.ErrNotFound)
		}
		ok, err := CanMarkExtended(ctx, tx, v, p.NSIGID, regionID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("mark region %d of project %d: %w", regionID, projectID, problem.ErrForbidden)
		}
		res, err := tx.NewRaw(`UPDATE project_handover_regions SET done_at = ?, done_by = ? WHERE project_id = ? AND region_id = ? AND done_at IS NULL`,
			now, v.UserID, projectID, regionID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark region %d of project %d: %w", regionID, projectID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("region %d of project %d is marked already, or has no part in its hand-over: %w", regionID, projectID, problem.ErrConflict)
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "project.region_extended", EntityType: "linked_project",
			EntityID: fmt.Sprint(projectID), After: map[string]any{"region_id": regionID}})
	})
}
