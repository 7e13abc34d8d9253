package migrations_test

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/migrations"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func tables(t *testing.T, d *dbtest.TestDB) []string {
	t.Helper()
	var names []string
	err := d.DB.NewSelect().Table("information_schema.tables").Column("table_name").
		Where("table_schema = 'public'").Where("table_name NOT LIKE 'bun_%'").Scan(context.Background(), &names)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// TestUpDownUp applies every migration, rolls them all back one group at a time down to an empty
// schema, and applies them again: every down file undoes its up file.
func TestUpDownUp(t *testing.T) {
	ctx := context.Background()
	d := dbtest.NewEmpty(t)
	m, err := database.NewMigrator(d.Owner(t), migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 {
		t.Fatal("no migrations applied to an empty database")
	}
	full := tables(t, d)
	for _, want := range []string{"audit_events", "nsigs", "organisations", "regions", "sessions", "user_roles", "users"} {
		if !contains(full, want) {
			t.Errorf("table %s missing after up: %v", want, full)
		}
	}
	if n, err := m.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("pending after up = %d, %v", n, err)
	}
	// Each migration is its own group only when applied one by one; roll back until nothing is left.
	for i := 0; ; i++ {
		rolled, err := m.Down(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rolled) == 0 {
			break
		}
		if i > 100 {
			t.Fatal("rollback does not end")
		}
	}
	if left := tables(t, d); len(left) != 0 {
		t.Fatalf("tables left after rolling everything back: %v", left)
	}
	if n, err := m.Pending(ctx); err != nil || n != len(applied) {
		t.Fatalf("pending after down = %d, %v; want %d", n, err, len(applied))
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if again := tables(t, d); strings.Join(again, ",") != strings.Join(full, ",") {
		t.Fatalf("tables after up again %v, first time %v", again, full)
	}
}

// TestConcurrentUp starts several migrators at once, as several portal instances would: exactly
// one applies the migrations and none fails.
func TestConcurrentUp(t *testing.T) {
	ctx := context.Background()
	d := dbtest.NewEmpty(t)
	owner := d.Owner(t)
	const n = 4
	results := make(chan int, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			m, err := database.NewMigrator(owner, migrations.FS)
			if err != nil {
				errs <- err
				return
			}
			names, err := m.Up(ctx)
			if err != nil {
				errs <- err
				return
			}
			results <- len(names)
		}()
	}
	total := 0
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			t.Fatal(err)
		case k := <-results:
			total += k
		}
	}
	files, err := migrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	ups := 0
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".up.sql") {
			ups++
		}
	}
	if total != ups {
		t.Fatalf("migrations applied %d times in all, want %d", total, ups)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
