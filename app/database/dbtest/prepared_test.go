package dbtest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/uptrace/bun"
)

// A statement prepared on a connection goes stale when a migration changes the columns it reads. On
// the database handle the call is answered unprepared; in a transaction RunInTx began, the
// transaction is run again; work queued with BeforeCommit runs last, once a try.
func TestPreparedStatementsOutliveAMigration(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := t.Context()
	db := d.Owner(t)
	db.SetMaxOpenConns(1) // one connection, which keeps the statement
	other := d.Owner(t)
	if _, err := other.ExecContext(ctx, "CREATE TABLE prep_t (a int PRIMARY KEY, b text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT * FROM prep_t WHERE a >= ?0 ORDER BY a"
	type row = map[string]any
	var rows []row
	if _, err := database.ExecPrepared(ctx, db, "INSERT INTO prep_t (a, b) VALUES (?0, ?1), (?2, ?3)", 1, "one", 2, "two"); err != nil {
		t.Fatal(err)
	}
	if err := database.ScanPrepared(ctx, db, q, &rows, 1); err != nil || len(rows) != 2 {
		t.Fatalf("first read: %v, %+v", err, rows)
	}
	// Each change adds a column, which changes what SELECT * returns.
	columns := 0
	alter := func() {
		t.Helper()
		columns++
		if _, err := other.ExecContext(ctx, fmt.Sprintf("ALTER TABLE prep_t ADD COLUMN c%d int", columns)); err != nil {
			t.Fatal(err)
		}
	}
	alter()
	rows = nil
	if err := database.ScanPrepared(ctx, db, q, &rows, 2); err != nil || len(rows) != 1 || rows[0]["b"] != "two" {
		t.Fatalf("read after the migration, on the handle: %v, %+v", err, rows)
	}

	// Prepared again on the connection, and stale again: the transaction runs twice, and what it
	// queued to run last runs once, in the try that commits.
	if err := database.ScanPrepared(ctx, db, q, &rows, 1); err != nil {
		t.Fatal(err)
	}
	alter()
	tries, last := 0, 0
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		tries++
		var in []row
		if err := database.ScanPrepared(ctx, tx, q, &in, 1); err != nil {
			return err
		}
		if len(in) != 2 {
			t.Errorf("read %d rows in the transaction, want 2", len(in))
		}
		if !database.BeforeCommit(ctx, tx, func(ctx context.Context) error {
			last++
			_, err := database.ExecPrepared(ctx, tx, "INSERT INTO prep_t (a, b) VALUES (?0, ?1)", 3, "three")
			return err
		}) {
			t.Error("BeforeCommit did not queue in a transaction RunInTx began")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("transaction after the migration: %v", err)
	}
	if tries != 2 || last != 1 {
		t.Errorf("the transaction ran %d times and its last work %d times; want 2 and 1", tries, last)
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM prep_t").Scan(ctx, &n); err != nil || n != 3 {
		t.Fatalf("count = %d, %v; want 3", n, err)
	}

	// A transaction RunInTx did not begin writes values into the text, as bun does, and queues nothing.
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if database.BeforeCommit(ctx, tx, func(context.Context) error { return nil }) {
			t.Error("BeforeCommit queued in a transaction RunInTx did not begin")
		}
		var in []row
		if err := database.ScanPrepared(ctx, tx, q, &in, 3); err != nil || len(in) != 1 {
			t.Errorf("read in a transaction of bun's: %v, %+v", err, in)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every connection the portal opens uses generic plans for the statements it prepares, set after it
// connects (not as a startup parameter, which a pooler may refuse); a URL that says otherwise wins.
func TestConnectionsUseGenericPlans(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := t.Context()
	var mode string
	var source string
	if err := d.DB.NewRaw("SELECT setting, source FROM pg_settings WHERE name = 'plan_cache_mode'").Scan(ctx, &mode, &source); err != nil ||
		mode != "force_generic_plan" || source != "session" {
		t.Fatalf("plan_cache_mode = %q from %q, %v; want force_generic_plan set in the session", mode, source, err)
	}
	sep := "?"
	if strings.Contains(d.URL, "?") {
		sep = "&"
	}
	db, err := database.Open(ctx, d.URL+sep+"plan_cache_mode=auto")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.NewRaw("SHOW plan_cache_mode").Scan(ctx, &mode); err != nil || mode != "auto" {
		t.Fatalf("with plan_cache_mode=auto in the URL, plan_cache_mode = %q, %v", mode, err)
	}
}
