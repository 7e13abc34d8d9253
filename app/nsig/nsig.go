// Package nsig holds the National Special Interest Groups and how they govern: each NSIG's eight
// regional seats (the seven NHS England regions and Wales) filled by appointments of a member and an
// optional deputy with their nomination and term; the nsig_member role and NSIG scope that follow from
// holding a seat; and each region's view of the requests the NSIG reviews.
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
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// Status is whether an NSIG is meeting and reviewing requests.
type Status string

// NSIG statuses.
const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
)

// Label is the status in words.
func (s Status) Label() string {
	if s == StatusInactive {
		return "Inactive"
	}
	return "Active"
}

// NSIG is one National Special Interest Group.
type NSIG struct {
	bun.BaseModel `bun:"table:nsigs,alias:n"`

	ID              int64     `bun:"id,pk,autoincrement"`
	Name            string    `bun:"name"`
	FunctionalAreas []string  `bun:"functional_areas,array"`
	Status          Status    `bun:"status"`
	ChairUserID     int64     `bun:"chair_user_id,nullzero"`
	Version         int       `bun:"version"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`

	// Read with the NSIG by List and Get.
	ChairName   string `bun:"chair_name,scanonly"`
	Members     int    `bun:"members,scanonly"`  // seats with a current member
	Deputies    int    `bun:"deputies,scanonly"` // seats with a current deputy
	OpenReviews int    `bun:"open_reviews,scanonly"`
}

// Seats is how many regional seats every NSIG has: the seven NHS England regions and Wales.
const Seats = 8

// openStatuses are the request statuses still worth an NSIG's view: accepted and not yet decided.
var openStatuses = []request.Status{
	request.StatusAwaitingRequesterDecision, request.StatusRequirementsJustification,
	request.StatusImpactAssessment, request.StatusDeferred,
}

// OpenStatuses lists the request statuses an NSIG's review queue holds, in lifecycle order.
func OpenStatuses() []request.Status { return slices.Clone(openStatuses) }

const nsigColumns = `n.*, COALESCE(ch.name, '') AS chair_name,
	(SELECT count(*) FROM nsig_appointments AS ap WHERE ap.nsig_id = n.id AND ap.ended_at IS NULL AND ap.position = 'member') AS members,
	(SELECT count(*) FROM nsig_appointments AS ap WHERE ap.nsig_id = n.id AND ap.ended_at IS NULL AND ap.position = 'deputy') AS deputies,
	(SELECT count(*) FROM requests AS r WHERE r.nsig_id = n.id AND r.accepted AND r.status IN (?)) AS open_reviews`

func selectNSIGs(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).ColumnExpr(nsigColumns, bun.List(openStatuses)).
		Join("LEFT JOIN users AS ch ON ch.id = n.chair_user_id")
}

// CanManage reports whether the viewer manages NSIGs, their seats and appointments: the central team
// and administrators.
func CanManage(v request.Viewer) bool {
	return v.Has(identity.RoleCentralTeam) || v.Has(identity.RoleAdmin)
}

// CanSee reports whether the viewer may open an NSIG's pages: those who manage NSIGs, and the NSIG's
// own members and deputies.
func CanSee(v request.Viewer, nsigID int64) bool {
	return CanManage(v) || (v.Has(identity.RoleNSIGMember) && slices.Contains(v.NSIGIDs, nsigID))
}

// List returns the NSIGs the viewer may open, by name: every NSIG for those who manage them, their own
// for members.
func List(ctx context.Context, db bun.IDB, v request.Viewer) ([]NSIG, error) {
	var out []NSIG
	q := selectNSIGs(db, &out).Order("n.name")
	if !CanManage(v) {
		q = q.Where("n.id IN (?)", bun.List(append([]int64{0}, v.NSIGIDs...)))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list NSIGs: %w", err)
	}
	return out, nil
}

// Get returns the NSIG with the id if the viewer may open it, otherwise problem.ErrNotFound.
func Get(ctx context.Context, db bun.IDB, v request.Viewer, id int64) (*NSIG, error) {
	if !CanSee(v, id) {
		return nil, fmt.Errorf("NSIG %d: %w", id, problem.ErrNotFound)
	}
	n := new(NSIG)
	err := selectNSIGs(db, n).Where("n.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("NSIG %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get NSIG %d: %w", id, err)
	}
	return n, nil
}

// Input is what the NSIG form sends.
type Input struct {
	Name            string
	FunctionalAreas []string
	ChairUserID     int64 // 0 for none; otherwise a current member or deputy of the NSIG
	Status          Status
}

const maxName = 200

func (in *Input) check(known []string) error {
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	switch {
	case in.Name == "":
		return &request.RuleError{Field: "name", Message: "Enter the NSIG's name"}
	case len(in.Name) > maxName:
		return &request.RuleError{Field: "name", Message: fmt.Sprintf("The name must be %d characters or fewer", maxName)}
	case len(in.FunctionalAreas) == 0:
		return &request.RuleError{Field: "functional_areas", Message: "Select the functional areas the NSIG covers"}
	case in.Status != StatusActive && in.Status != StatusInactive:
		return &request.RuleError{Field: "status", Message: "Select whether the NSIG is active or inactive"}
	}
	for _, a := range in.FunctionalAreas {
		if !slices.Contains(known, a) {
			return &request.RuleError{Field: "functional_areas", Message: "Select functional areas from the list"}
		}
	}
	return nil
}

func nameTaken(err error, name string) error {
	if database.IsUniqueViolation(err, "nsigs_name_key") {
		return &request.RuleError{Field: "name", Message: fmt.Sprintf("There is already an NSIG called %s", name)}
	}
	return err
}

func auditNSIG(n *NSIG) map[string]any {
	return map[string]any{"name": n.Name, "functional_areas": n.FunctionalAreas, "status": n.Status, "chair_user_id": n.ChairUserID}
}

// Create adds an NSIG. It has no chair until its seats are filled.
func Create(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, in Input) (*NSIG, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("create an NSIG: %w", problem.ErrForbidden)
	}
	known, err := request.FunctionalAreas(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := in.check(known); err != nil {
		return nil, err
	}
	if in.ChairUserID != 0 {
		return nil, &request.RuleError{Field: "chair_user_id", Message: "The chair must be a member or deputy of the NSIG: appoint them to a seat first"}
	}
	n := &NSIG{Name: in.Name, FunctionalAreas: in.FunctionalAreas, Status: in.Status, Version: 1, CreatedAt: now, UpdatedAt: now}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(n).Column("name", "functional_areas", "status", "version", "created_at", "updated_at").
			Returning("id").Exec(ctx); err != nil {
			return nameTaken(err, in.Name)
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.created", EntityType: "nsig", EntityID: fmt.Sprint(n.ID), After: auditNSIG(n)})
	})
	if err != nil {
		return nil, fmt.Errorf("create NSIG %q: %w", in.Name, err)
	}
	return n, nil
}

// Update changes an NSIG's details if the form was made from its current version (otherwise
// problem.ErrConflict). The chair must be one of its current members or deputies.
func Update(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, id int64, version int, in Input) (*NSIG, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("change NSIG %d: %w", id, problem.ErrForbidden)
	}
	known, err := request.FunctionalAreas(ctx, db)
	if err != nil {
		return nil, err
	}
	var out *NSIG
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNSIG(ctx, tx, id)
		if err != nil {
			return err
		}
		if n.Version != version {
			return fmt.Errorf("NSIG %d is at version %d, the form was made from %d: %w", id, n.Version, version, problem.ErrConflict)
		}
		if err := in.check(known); err != nil {
			return err
		}
		if in.ChairUserID != 0 {
			seated, err := tx.NewSelect().Table("nsig_appointments").
				Where("nsig_id = ? AND user_id = ? AND ended_at IS NULL", id, in.ChairUserID).Exists(ctx)
			if err != nil {
				return fmt.Errorf("check chair of NSIG %d: %w", id, err)
			}
			if !seated {
				return &request.RuleError{Field: "chair_user_id", Message: "The chair must be a current member or deputy of the NSIG"}
			}
		}
		before := auditNSIG(n)
		n.Name, n.FunctionalAreas, n.Status, n.ChairUserID = in.Name, in.FunctionalAreas, in.Status, in.ChairUserID
		res, err := tx.NewUpdate().Table("nsigs").Where("id = ? AND version = ?", id, version).
			Set("name = ?", n.Name).Set("functional_areas = ?", pgdialect.Array(n.FunctionalAreas)).
			Set("status = ?", n.Status).Set("chair_user_id = ?", database.NullID(n.ChairUserID)).
			Set("version = version + 1").Set("updated_at = ?", now).Exec(ctx)
		if err != nil {
			return nameTaken(err, in.Name)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return fmt.Errorf("NSIG %d changed while saving: %w", id, problem.ErrConflict)
		}
		n.Version++
		out = n
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.updated", EntityType: "nsig", EntityID: fmt.Sprint(id), Before: before, After: auditNSIG(n)})
	})
	if err != nil {
		return nil, fmt.Errorf("change NSIG %d: %w", id, err)
	}
	return out, nil
}

func lockNSIG(ctx context.Context, tx bun.Tx, id int64) (*NSIG, error) {
	n := new(NSIG)
	err := tx.NewSelect().Model(n).Where("n.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("NSIG %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lock NSIG %d: %w", id, err)
	}
	return n, nil
}

// Region is one of the eight regions, each a seat on every NSIG.
type Region struct {
	ID   int16  `bun:"id"`
	Name string `bun:"name"`
}

// Regions returns the eight regions in their usual order.
func Regions(ctx context.Context, db bun.IDB) ([]Region, error) {
	var out []Region
	if err := db.NewSelect().Table("regions").Column("id", "name").Order("sort_order").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	return out, nil
}
