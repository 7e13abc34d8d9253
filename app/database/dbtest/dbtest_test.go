package dbtest_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/migrations"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestNewDatabasesAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := dbtest.New(t), dbtest.New(t)
	if a.Name == b.Name || a.URL == b.URL {
		t.Fatalf("two databases share name %q or URL %q", a.Name, a.URL)
	}
	ctx := t.Context()
	if _, err := a.DB.ExecContext(ctx, "INSERT INTO organisations (name, ods_code, region_id) VALUES ('Leeds Teaching Hospitals', 'RR8', 4)"); err != nil {
		t.Fatalf("insert into a: %v", err)
	}
	for _, tt := range []struct {
		db   *dbtest.TestDB
		want int
	}{{a, 1}, {b, 0}} {
		var n int
		if err := tt.db.DB.QueryRowContext(ctx, "SELECT count(*) FROM organisations").Scan(&n); err != nil {
			t.Fatalf("count in %s: %v", tt.db.Name, err)
		}
		if n != tt.want {
			t.Errorf("organisations in %s = %d, want %d", tt.db.Name, n, tt.want)
		}
	}
}

func TestNewAppliesMigrations(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	var regions int
	if err := d.DB.QueryRowContext(t.Context(), "SELECT count(*) FROM regions").Scan(&regions); err != nil {
		t.Fatalf("count regions: %v", err)
	}
	if regions != 8 {
		t.Errorf("regions = %d, want 8", regions)
	}
	m, err := database.NewMigrator(d.DB, migrations.FS)
	if err != nil {
		t.Fatalf("migrator: %v", err)
	}
	pending, err := m.Pending(t.Context())
	if err != nil {
		t.Fatalf("pending: %v", err)
	}
	if pending != 0 {
		t.Errorf("pending migrations = %d, want 0", pending)
	}
	// The URL reaches the same database as DB.
	other, err := database.Open(t.Context(), d.URL)
	if err != nil {
		t.Fatalf("open %s: %v", d.URL, err)
	}
	defer other.Close()
	var name string
	if err := other.QueryRowContext(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatalf("current database: %v", err)
	}
	if name != d.Name {
		t.Errorf("URL reaches %q, want %q", name, d.Name)
	}
}

func TestNewRunsAsRuntimeRole(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := t.Context()
	var user, owner string
	var super bool
	err := d.DB.QueryRowContext(ctx, `SELECT current_user, rolsuper, pg_get_userbyid(c.relowner)
		FROM pg_roles, pg_class AS c WHERE rolname = current_user AND c.oid = 'audit_events'::regclass`).Scan(&user, &super, &owner)
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	if os.Getenv("DATABASE_URL") == "" && user != "portal_app" {
		t.Errorf("connected as %q, want the runtime role portal_app", user)
	}
	if super || user == owner {
		t.Errorf("connected as %q (superuser %v), the owner of audit_events is %q: want a runtime role that owns nothing", user, super, owner)
	}
	// The owner's connection is another role, which owns the tables.
	var ownerUser string
	if err := d.Owner(t).QueryRowContext(ctx, "SELECT current_user").Scan(&ownerUser); err != nil {
		t.Fatalf("owner's user: %v", err)
	}
	if ownerUser != owner {
		t.Errorf("OwnerURL connects as %q, want the owner of the tables %q", ownerUser, owner)
	}
}

func TestNewEmptyHasNoTables(t *testing.T) {
	t.Parallel()
	d := dbtest.NewEmpty(t)
	var tables []string
	err := d.DB.NewSelect().TableExpr("information_schema.tables").Column("table_name").
		Where("table_schema NOT IN ('pg_catalog', 'information_schema')").Scan(t.Context(), &tables)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	if len(tables) != 0 {
		t.Errorf("tables = %s, want none", strings.Join(tables, ", "))
	}
	// The owner migrates it.
	m, err := database.NewMigrator(d.Owner(t), migrations.FS)
	if err != nil {
		t.Fatalf("migrator: %v", err)
	}
	if applied, err := m.Up(t.Context()); err != nil || len(applied) == 0 {
		t.Fatalf("migrate empty database: applied %v, %v", applied, err)
	}
}

func TestSuperuserCanWriteBehindTriggers(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := t.Context()
	_, err := d.DB.ExecContext(ctx, `INSERT INTO audit_events (id, occurred_at, action, prev_hash, hash)
		VALUES (1, ?, 'user.signed_in', '\x00', '\x01')`, time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("insert audit event: %v", err)
	}
	const tamper = "UPDATE audit_events SET actor_name = 'someone else' WHERE id = 1"
	if _, err := d.DB.ExecContext(ctx, tamper); err == nil {
		t.Fatal("the application role changed an audit event, want the trigger to refuse")
	}

	su := d.Superuser(t)
	if _, err := su.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
		t.Fatalf("disable triggers: %v", err)
	}
	// A second statement uses the same session, so the triggers stay off.
	if _, err := su.ExecContext(ctx, tamper); err != nil {
		t.Fatalf("superuser tamper: %v", err)
	}
	var actor string
	if err := d.DB.QueryRowContext(ctx, "SELECT actor_name FROM audit_events WHERE id = 1").Scan(&actor); err != nil {
		t.Fatalf("read back: %v", err)
	}
	if actor != "someone else" {
		t.Errorf("actor_name = %q, want the tampered value", actor)
	}
}
