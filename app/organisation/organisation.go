// Package organisation holds the regions (the seven NHS England regions plus Wales) and the NHS
// organisations that use ESR.
package organisation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/problem"
)

// Region is one of the eight regions each NSIG has a seat for.
type Region struct {
	bun.BaseModel `bun:"table:regions"`

	ID        int16  `bun:"id,pk"`
	Code      string `bun:"code"`
	Name      string `bun:"name"`
	SortOrder int16  `bun:"sort_order"`
}

// Organisation is an NHS organisation that uses ESR.
type Organisation struct {
	bun.BaseModel `bun:"table:organisations"`

	ID         int64     `bun:"id,pk,autoincrement"`
	Name       string    `bun:"name"`
	ODSCode    string    `bun:"ods_code"`
	VPDCode    string    `bun:"vpd_code,nullzero"`
	RegionID   int16     `bun:"region_id"`
	RegionName string    `bun:"region_name,scanonly"`
	CreatedAt  time.Time `bun:"created_at,nullzero,default:now()"`
	// MergedIntoID is the organisation this one merged into (0: none); it is kept for the record.
	MergedIntoID   int64     `bun:"merged_into_id,nullzero"`
	MergedAt       time.Time `bun:"merged_at,nullzero"`
	MergedIntoName string    `bun:"merged_into_name,scanonly"`
	Version        int       `bun:"version"`
	UpdatedAt      time.Time `bun:"updated_at,nullzero,default:now()"`
	People         int       `bun:"people,scanonly"`
}

// Regions lists the regions in their usual order.
func Regions(ctx context.Context, db bun.IDB) ([]Region, error) {
	var rs []Region
	if err := db.NewSelect().Model(&rs).Order("sort_order").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	return rs, nil
}

// List returns every organisation with its region's name, by name.
func List(ctx context.Context, db bun.IDB) ([]Organisation, error) {
	var os []Organisation
	err := db.NewSelect().Model(&os).
		ColumnExpr("organisation.*").
		ColumnExpr("r.name AS region_name").
		ColumnExpr("coalesce((SELECT m.name FROM organisations AS m WHERE m.id = organisation.merged_into_id), '') AS merged_into_name").
		Join("JOIN regions AS r ON r.id = organisation.region_id").
		Order("organisation.name").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return os, nil
}

// Get returns the organisation with id.
func Get(ctx context.Context, db bun.IDB, id int64) (*Organisation, error) {
	o := new(Organisation)
	err := db.NewSelect().Model(o).
		ColumnExpr("organisation.*").
		ColumnExpr("r.name AS region_name").
		ColumnExpr("coalesce((SELECT m.name FROM organisations AS m WHERE m.id = organisation.merged_into_id), '') AS merged_into_name").
		ColumnExpr("(SELECT count(*) FROM users AS u WHERE u.organisation_id = organisation.id) AS people").
		Join("JOIN regions AS r ON r.id = organisation.region_id").
		Where("organisation.id = ?", id).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("organisation %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get organisation %d: %w", id, err)
	}
	return o, nil
}

// GetByODS returns the organisation with the ODS code.
func GetByODS(ctx context.Context, db bun.IDB, ods string) (*Organisation, error) {
	o := new(Organisation)
	err := db.NewSelect().Model(o).Where("ods_code = ?", ods).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("organisation with ODS code %q: %w", ods, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get organisation %q: %w", ods, err)
	}
	return o, nil
}
