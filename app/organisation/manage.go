package organisation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// Errors of managing organisations, each about one field.
var (
	ErrODSTaken      = errors.New("another organisation has this ODS code")
	ErrVPDTaken      = errors.New("another organisation has this ESR VPD code")
	ErrMergeIntoSelf = errors.New("an organisation cannot merge into itself")
	ErrMerged        = errors.New("the organisation has merged into another")
	ErrUnknownRegion = errors.New("no such region")
	odsPattern       = regexp.MustCompile(`^[A-Z0-9]{3,6}$`)
	vpdPattern       = regexp.MustCompile(`^[0-9]{3}$`)
	ErrNameNeeded    = errors.New("a name is needed")
	ErrBadODS        = errors.New("an ODS code is 3 to 6 capital letters and digits")
	ErrBadVPD        = errors.New("an ESR VPD code is 3 digits")
)

// Details are what an administrator enters about an organisation.
type Details struct {
	Name     string
	ODSCode  string // upper-cased
	VPDCode  string // "" for none
	RegionID int16
}

// Normalise trims the details and upper-cases the ODS code.
func (d Details) Normalise() Details {
	d.Name = strings.Join(strings.Fields(d.Name), " ")
	d.ODSCode = strings.ToUpper(strings.TrimSpace(d.ODSCode))
	d.VPDCode = strings.TrimSpace(d.VPDCode)
	return d
}

// ValidODS reports whether code is an ODS code as the portal stores them.
func ValidODS(code string) bool { return odsPattern.MatchString(code) }

// ValidVPD reports whether code is an ESR VPD code.
func ValidVPD(code string) bool { return vpdPattern.MatchString(code) }

func (d Details) check() error {
	switch {
	case d.Name == "":
		return ErrNameNeeded
	case !ValidODS(d.ODSCode):
		return ErrBadODS
	case d.VPDCode != "" && !ValidVPD(d.VPDCode):
		return ErrBadVPD
	}
	return nil
}

func uniqueErr(err error) error {
	switch {
	case database.IsUniqueViolation(err, "organisations_ods_code_key"):
		return ErrODSTaken
	case database.IsUniqueViolation(err, "organisations_vpd_code_key"):
		return ErrVPDTaken
	case database.IsForeignKeyViolation(err):
		return ErrUnknownRegion
	}
	return err
}

func (d Details) auditView() map[string]any {
	return map[string]any{"name": d.Name, "ods_code": d.ODSCode, "vpd_code": d.VPDCode, "region_id": d.RegionID}
}

// Create adds an organisation, audited.
func Create(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, d Details) (*Organisation, error) {
	d = d.Normalise()
	if err := d.check(); err != nil {
		return nil, err
	}
	o := &Organisation{Name: d.Name, ODSCode: d.ODSCode, VPDCode: d.VPDCode, RegionID: d.RegionID, CreatedAt: now, UpdatedAt: now, Version: 1}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(o).Returning("id").Exec(ctx); err != nil {
			return uniqueErr(err)
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "organisation.created", EntityType: "organisation",
			EntityID: fmt.Sprint(o.ID), After: d.auditView()})
	})
	if err != nil {
		return nil, fmt.Errorf("create organisation %s: %w", d.ODSCode, err)
	}
	return o, nil
}

func lock(ctx context.Context, tx bun.Tx, id int64, version int) (*Organisation, error) {
	var v int
	err := tx.NewSelect().Table("organisations").Column("version").Where("id = ?", id).For("UPDATE").Scan(ctx, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("organisation %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lock organisation %d: %w", id, err)
	}
	if version != 0 && v != version {
		return nil, fmt.Errorf("organisation %d is at version %d, not %d: %w", id, v, version, problem.ErrConflict)
	}
	return Get(ctx, tx, id)
}

// Update changes an organisation's details if it is still at version, audited; a new name is put into
// the summary search of its requests in the same transaction.
func Update(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, id int64, version int, d Details) error {
	d = d.Normalise()
	if err := d.check(); err != nil {
		return err
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		before, err := lock(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if before.MergedIntoID != 0 {
			return ErrMerged
		}
		if _, err := tx.NewUpdate().Table("organisations").Set("name = ?", d.Name).Set("ods_code = ?", d.ODSCode).
			Set("vpd_code = nullif(?, '')", d.VPDCode).Set("region_id = ?", d.RegionID).
			Set("version = version + 1").Set("updated_at = ?", now).Where("id = ?", id).Exec(ctx); err != nil {
			return uniqueErr(err)
		}
		if before.Name != d.Name {
			if err := request.IndexOrganisation(ctx, tx, id); err != nil {
				return err
			}
		}
		b := Details{Name: before.Name, ODSCode: before.ODSCode, VPDCode: before.VPDCode, RegionID: before.RegionID}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "organisation.updated", EntityType: "organisation",
			EntityID: fmt.Sprint(id), Before: b.auditView(), After: d.auditView()})
	})
	if err != nil {
		return fmt.Errorf("update organisation %d: %w", id, err)
	}
	return nil
}

// Merge moves an organisation's people, requests and supports into another when trusts merge, and
// keeps it as merged into that one; audited, with the moved requests' summary search rebuilt, in one
// transaction. It says how many people and requests moved.
func Merge(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, id int64, version int, intoID int64) (people, requests int, err error) {
	if id == intoID {
		return 0, 0, ErrMergeIntoSelf
	}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		// Both locked, the lower id first, so that two merges never wait on each other in a cycle.
		first, second := min(id, intoID), max(id, intoID)
		if _, err := tx.NewSelect().Table("organisations").Column("id").Where("id IN (?, ?)", first, second).Order("id").For("UPDATE").Exec(ctx); err != nil {
			return fmt.Errorf("lock organisations: %w", err)
		}
		from, err := lock(ctx, tx, id, version)
		if err != nil {
			return err
		}
		into, err := Get(ctx, tx, intoID)
		if err != nil {
			return err
		}
		if from.MergedIntoID != 0 || into.MergedIntoID != 0 {
			return ErrMerged
		}
		res, err := tx.NewRaw(`UPDATE users SET organisation_id = ?, version = version + 1, updated_at = ? WHERE organisation_id = ?`, intoID, now, id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("move people: %w", err)
		}
		n, _ := res.RowsAffected()
		people = int(n)
		res, err = tx.NewRaw(`UPDATE requests SET organisation_id = ? WHERE organisation_id = ?`, intoID, id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("move requests: %w", err)
		}
		n, _ = res.RowsAffected()
		requests = int(n)
		// A request both supported keeps the merged organisation's one support.
		if _, err := tx.NewRaw(`DELETE FROM request_supports AS s WHERE s.organisation_id = ?
			AND EXISTS (SELECT 1 FROM request_supports AS t WHERE t.request_id = s.request_id AND t.organisation_id = ?)`, id, intoID).Exec(ctx); err != nil {
			return fmt.Errorf("merge supports: %w", err)
		}
		if _, err := tx.NewRaw(`UPDATE request_supports SET organisation_id = ? WHERE organisation_id = ?`, intoID, id).Exec(ctx); err != nil {
			return fmt.Errorf("move supports: %w", err)
		}
		if _, err := tx.NewRaw(`UPDATE organisations SET merged_into_id = ?, merged_at = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			intoID, now, now, id).Exec(ctx); err != nil {
			return fmt.Errorf("mark merged: %w", err)
		}
		if err := request.IndexOrganisation(ctx, tx, intoID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "organisation.merged", EntityType: "organisation",
			EntityID: fmt.Sprint(id), After: map[string]any{"merged_into_id": intoID, "merged_into": into.Name, "people_moved": people, "requests_moved": requests}})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("merge organisation %d into %d: %w", id, intoID, err)
	}
	return people, requests, nil
}
