// Package seed fills a database with the demo data that `make run` shows: organisations across the
// eight regions, the NSIGs, and one user for each role. Every name is fictional. Seeding is idempotent.
package seed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/problem"
)

// DemoPassword is the password of every demo account. It is printed by `make run`; never seed demo
// data into a live portal.
const DemoPassword = "demo-portal-2026"

// Account is a demo sign-in.
type Account struct {
	Email    string
	Name     string
	Role     string
	Password string
	Created  bool
}

type demoOrg struct {
	name, ods, vpd string
	region         int16
}

// Organisations are fictional NHS organisations, two or three in each region.
var demoOrganisations = []demoOrg{
	{"Fenland Valley NHS Foundation Trust", "ZEA01", "901", 1},
	{"Broadmere Community Health NHS Trust", "ZEA02", "902", 1},
	{"Thameside Royal Hospitals NHS Trust", "ZLN01", "903", 2},
	{"North Riverside Mental Health NHS Foundation Trust", "ZLN02", "904", 2},
	{"Kingsbridge University Hospitals NHS Foundation Trust", "ZLN03", "905", 2},
	{"Charnwood Heath NHS Foundation Trust", "ZMD01", "906", 3},
	{"Severn Marches Integrated Care NHS Trust", "ZMD02", "907", 3},
	{"Peak and Trent Ambulance Service NHS Trust", "ZMD03", "908", 3},
	{"Humber Dales Teaching Hospitals NHS Trust", "ZNE01", "909", 4},
	{"Tyne Moor Community NHS Foundation Trust", "ZNE02", "910", 4},
	{"Pennine Lakes Hospitals NHS Foundation Trust", "ZNW01", "911", 5},
	{"Mersey Estuary Children's NHS Foundation Trust", "ZNW02", "912", 5},
	{"Ribble Valley Care Partnership NHS Trust", "ZNW03", "913", 5},
	{"Weald and Downs Healthcare NHS Trust", "ZSE01", "914", 6},
	{"Solent Shore Hospitals NHS Foundation Trust", "ZSE02", "915", 6},
	{"Cotswold Vale NHS Foundation Trust", "ZSW01", "916", 7},
	{"Tamar and Moor Community Health NHS Trust", "ZSW02", "917", 7},
	{"Bwrdd Iechyd Prifysgol Dyffryn Teifi University Health Board", "ZWA01", "918", 8},
	{"Ymddiriedolaeth GIG Arfordir Gwyrdd NHS Trust", "ZWA02", "919", 8},
	{"ESR National Central Team", "ZNC01", "920", 3},
}

var demoNSIGs = []struct {
	name  string
	areas []string
}{
	{"HR and Recruitment", []string{"Core HR", "Recruitment", "Absence", "Work Structures", "Inter Authority Transfer (IAT)"}},
	{"Payroll and Pensions", []string{"Payroll"}},
	{"Learning and Development (OLM)", []string{"Learning Management (OLM)"}},
	{"Self Service and Portal", []string{"Self Service"}},
	{"Business Intelligence and Workforce Information", []string{"Business Intelligence", "Data Warehouse", "Interfaces"}},
}

var demoUsers = []struct {
	email, name, role, ods string
}{
	{"requester@demo.esr-portal.example", "Priya Raman", identity.RoleRequester, "ZLN01"},
	{"nsig.member@demo.esr-portal.example", "Gareth Llewellyn", identity.RoleNSIGMember, "ZWA01"},
	{"fam@demo.esr-portal.example", "Morag Sinclair", identity.RoleFunctionalAccountManager, "ZNC01"},
	{"central@demo.esr-portal.example", "Daniel Okafor", identity.RoleCentralTeam, "ZNC01"},
	{"developer@demo.esr-portal.example", "Hannah Whitlock", identity.RoleDevelopmentTeam, "ZNC01"},
	{"admin@demo.esr-portal.example", "Tomasz Nowak", identity.RoleAdmin, "ZNC01"},
	{"approver@demo.esr-portal.example", "Siobhan Byrne", identity.RoleAccessApprover, "ZLN01"},
}

// System is the actor the seed records in the audit trail.
var System = audit.Actor{Name: "system (seed)"}

// Demo adds whatever of the demo data is missing and returns the demo sign-ins.
func Demo(ctx context.Context, db *bun.DB, now time.Time) ([]Account, error) {
	if err := Organisations(ctx, db, now); err != nil {
		return nil, err
	}
	return demoAccounts(ctx, db, now)
}

// Organisations adds the demo organisations and NSIGs that are missing.
func Organisations(ctx context.Context, db *bun.DB, now time.Time) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		for _, o := range demoOrganisations {
			if _, err := tx.NewRaw(`INSERT INTO organisations (name, ods_code, vpd_code, region_id, created_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (ods_code) DO NOTHING`, o.name, o.ods, o.vpd, o.region, now).Exec(ctx); err != nil {
				return fmt.Errorf("seed organisation %s: %w", o.ods, err)
			}
		}
		for _, n := range demoNSIGs {
			if _, err := tx.NewRaw(`INSERT INTO nsigs (name, functional_areas, created_at) VALUES (?, ?, ?)
				ON CONFLICT (name) DO NOTHING`, n.name, pgdialect.Array(n.areas), now).Exec(ctx); err != nil {
				return fmt.Errorf("seed NSIG %s: %w", n.name, err)
			}
		}
		return nil
	})
}

// demoMemberNSIG is the NSIG the demo NSIG member reviews requests for.
const demoMemberNSIG = "Self Service and Portal"

func demoAccounts(ctx context.Context, db *bun.DB, now time.Time) ([]Account, error) {
	var accounts []Account
	for _, du := range demoUsers {
		acc := Account{Email: du.email, Name: du.name, Role: du.role, Password: DemoPassword}
		_, err := identity.GetByEmail(ctx, db, du.email)
		switch {
		case errors.Is(err, problem.ErrNotFound):
			org, err := organisation.GetByODS(ctx, db, du.ods)
			if err != nil {
				return nil, err
			}
			if _, err := identity.Create(ctx, db, System, now, identity.NewUser{
				Email: du.email, Name: du.name, OrganisationID: org.ID, Roles: []string{du.role}, Password: DemoPassword,
			}); err != nil {
				return nil, err
			}
			acc.Created = true
		case err != nil:
			return nil, err
		}
		accounts = append(accounts, acc)
	}
	// The demo NSIG member reviews for demoMemberNSIG because they hold its Wales seat.
	if err := Seats(ctx, db, now); err != nil {
		return nil, fmt.Errorf("seed NSIG seats: %w", err)
	}
	return accounts, nil
}
