package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func portal(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCommands drives the command line against a real database: seed twice (idempotent), add a user
// with a piped password, list migrations, and verify the audit trail before and after a superuser
// edits one row behind the trigger's back.
func TestCommands(t *testing.T) {
	d := dbtest.New(t)
	t.Setenv("DATABASE_URL", d.URL)
	t.Setenv("DATABASE_MIGRATE_URL", d.OwnerURL)
	t.Setenv("PORTAL_LOG_LEVEL", "error")
	t.Setenv("PORTAL_DATA_DIR", t.TempDir())

	if code, out, _ := portal(t, "", "--help"); code != 0 || !strings.Contains(out, "portal audit verify") {
		t.Fatalf("--help: %d %q", code, out)
	}
	if code, _, errOut := portal(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	countRequests := func() int {
		t.Helper()
		var n int
		if err := d.DB.NewSelect().Table("requests").ColumnExpr("count(*)").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var demoRequests int
	for i := 0; i < 2; i++ {
		code, out, errOut := portal(t, "", "seed", "--demo")
		if code != 0 || !strings.Contains(out, "admin@demo.esr-portal.example") {
			t.Fatalf("seed --demo run %d: %d %q %q", i+1, code, out, errOut)
		}
		n := countRequests()
		if i == 0 {
			demoRequests = n
		} else if n != demoRequests {
			t.Fatalf("seeding again changed the demo requests from %d to %d", demoRequests, n)
		}
	}
	if demoRequests < 15 {
		t.Fatalf("the demo has %d requests, want at least the 15 examples", demoRequests)
	}
	var users int
	if err := d.DB.NewSelect().Table("users").ColumnExpr("count(*)").Where("email LIKE '%@demo.esr-portal.example' AND email NOT LIKE 'raiser.%'").Scan(context.Background(), &users); err != nil {
		t.Fatal(err)
	}
	if users != len(identity.Roles) {
		t.Fatalf("seeding twice made %d demo sign-ins, want %d", users, len(identity.Roles))
	}
	code, out, errOut := portal(t, "", "seed", "--synthetic", "1500")
	if code != 0 || !strings.Contains(out, "100% 1500 of 1500") {
		t.Fatalf("seed --synthetic: %d %q %q", code, out, errOut)
	}
	if n := countRequests(); n != demoRequests+1500 {
		t.Fatalf("%d requests after adding 1500 synthetic ones to %d, want %d", n, demoRequests, demoRequests+1500)
	}

	code, out, errOut = portal(t, "a piped passphrase\n", "user", "create", "--email", "jo.bloggs@test.nhs.uk",
		"--name", "Jo Bloggs", "--org", "zln01", "--role", "requester", "--role", "nsig_member")
	if code != 0 || !strings.Contains(out, "Created user") || strings.Contains(out, "Password") {
		t.Fatalf("user create: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := portal(t, "", "user", "create", "--email", "x@test.nhs.uk", "--name", "X", "--org", "ZLN01", "--role", "root"); code != 2 || !strings.Contains(errOut, "unknown role") {
		t.Fatalf("unknown role: %d %q", code, errOut)
	}
	if code, out, _ := portal(t, "", "migrate", "status"); code != 0 || !strings.Contains(out, "applied") || strings.Contains(out, "pending") {
		t.Fatalf("migrate status: %d %q", code, out)
	}

	code, out, errOut = portal(t, "", "audit", "verify")
	if code != 0 || !strings.Contains(out, "Audit trail intact") {
		t.Fatalf("audit verify on a sound trail: %d %q %q", code, out, errOut)
	}
	su := d.Superuser(t)
	if _, err := su.Exec(`BEGIN;
		SET LOCAL session_replication_role = replica;
		UPDATE audit_events SET actor_name = 'someone else' WHERE id = (SELECT min(id) + 2 FROM audit_events);
		COMMIT;`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = portal(t, "", "audit", "verify")
	if code != 1 || !strings.Contains(out, "BROKEN at row") {
		t.Fatalf("audit verify after tampering: %d %q", code, out)
	}
}

// TestScheduleBuild builds the demo's Development Schedule from the command line: a PDF that reads back
// every change allocated to a coming release, and nothing published. It runs with DATABASE_URL alone,
// naming the owner role, as a single-role set-up does.
func TestScheduleBuild(t *testing.T) {
	d := dbtest.New(t)
	t.Setenv("DATABASE_URL", d.OwnerURL)
	t.Setenv("PORTAL_DATA_DIR", t.TempDir())
	t.Setenv("PORTAL_LOG_LEVEL", "error")
	ctx := context.Background()
	if code, out, errOut := portal(t, "", "seed", "--demo"); code != 0 {
		t.Fatalf("seed --demo: %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{
		{"schedule", "build", "--quarter", "2026-Q3"},
		{"schedule", "build", "--quarter", "2026-Q5", "--out", "x.pdf"},
		{"schedule", "build", "--quarter", "2026-Q3", "--date", "21/11/2026", "--out", "x.pdf"},
		{"schedule", "publish"},
	} {
		if code, _, errOut := portal(t, "", args...); code != 2 || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}
	countPublished := func() int {
		var n int
		if err := d.DB.NewRaw("SELECT count(*) FROM schedule_publications").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countPublished()
	out := filepath.Join(t.TempDir(), "schedule.pdf")
	code, stdout, errOut := portal(t, "", "schedule", "build", "--quarter", "2026-Q3", "--date", "2026-11-21", "--out", out)
	if code != 0 {
		t.Fatalf("schedule build: %d %q %q", code, stdout, errOut)
	}
	if !strings.HasPrefix(stdout, "ESR-DS-2026-Q3 Quarter 3 2026/27 (2026-Q3, dated 2026-11-21, version 1): ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("summary %q", stdout)
	}
	body, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(body, []byte("%PDF-")) || !strings.Contains(stdout, fmt.Sprintf("%d bytes written", len(body))) {
		t.Fatalf("wrote %d bytes (%v); summary %q", len(body), err, stdout)
	}
	if n := countPublished(); n != before {
		t.Errorf("building published a schedule: %d before, %d after", before, n)
	}
	var coming []string
	if err := d.DB.NewRaw(`SELECT r.reference FROM allocations AS a JOIN requests AS r ON r.id = a.request_id
		JOIN releases AS rl ON rl.id = a.release_id WHERE rl.released_at IS NULL ORDER BY 1`).Scan(ctx, &coming); err != nil {
		t.Fatal(err)
	}
	if len(coming) == 0 {
		t.Fatal("the demo has no changes allocated to coming releases")
	}
	text, err := exec.Command("pdftotext", out, "-").Output()
	if err != nil {
		t.Fatalf("read the PDF back with pdftotext (apt-get install poppler-utils): %v", err)
	}
	for _, ref := range coming {
		if !bytes.Contains(text, []byte(ref)) {
			t.Errorf("the PDF does not list %s", ref)
		}
	}
}

// TestAuditTruncation is the attack the audit checkpoints are for: the newest audit rows are removed
// behind the triggers' backs, which leaves the hash chain intact. The portal's own (runtime) role cannot
// do it; a superuser can, and `portal audit verify` then names the truncation against the latest signed
// checkpoint, and a checkpoint forged without the key.
func TestAuditTruncation(t *testing.T) {
	d := dbtest.New(t)
	t.Setenv("DATABASE_URL", d.URL)
	t.Setenv("DATABASE_MIGRATE_URL", d.OwnerURL)
	t.Setenv("PORTAL_LOG_LEVEL", "error")
	t.Setenv("PORTAL_DATA_DIR", t.TempDir())
	ctx := context.Background()

	if code, out, errOut := portal(t, "", "seed", "--demo"); code != 0 {
		t.Fatalf("seed --demo: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := portal(t, "", "audit", "checkpoint"); code != 1 || !strings.Contains(errOut, "no audit key") {
		t.Fatalf("audit checkpoint without a key: %d %q; want refused", code, errOut)
	}
	code, out, _ := portal(t, "", "audit", "verify")
	if code != 0 || !strings.Contains(out, "Audit trail intact") || !strings.Contains(out, "No checkpoints yet") {
		t.Fatalf("audit verify before any checkpoint: %d %q", code, out)
	}
	t.Setenv("PORTAL_AUDIT_KEY", strings.Repeat("4b", 32))
	code, out, errOut := portal(t, "", "audit", "checkpoint")
	if code != 0 || !strings.Contains(out, "Audit checkpoint #1: ") {
		t.Fatalf("audit checkpoint: %d %q %q", code, out, errOut)
	}
	var rows int
	if err := d.DB.NewRaw("SELECT count(*) FROM audit_events").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	code, out, _ = portal(t, "", "audit", "verify")
	if code != 0 || !strings.Contains(out, "Audit trail intact") || !strings.Contains(out, fmt.Sprintf("sealed %d rows", rows)) ||
		strings.Contains(out, "Warning") {
		t.Fatalf("audit verify after a checkpoint: %d %q", code, out)
	}

	const cut = `ALTER TABLE audit_events DISABLE TRIGGER USER;
		DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events ORDER BY id DESC LIMIT 3);
		ALTER TABLE audit_events ENABLE TRIGGER USER;`
	if _, err := d.DB.ExecContext(ctx, cut); err == nil {
		t.Fatal("the portal's runtime role disabled the audit trail's triggers")
	}
	if _, err := d.Superuser(t).ExecContext(ctx, "BEGIN; "+cut+" COMMIT;"); err != nil {
		t.Fatal(err)
	}
	code, out, _ = portal(t, "", "audit", "verify")
	want := "Audit trail TRUNCATED: checkpoint #1, taken "
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("sealed %d rows", rows)) ||
		!strings.Contains(out, fmt.Sprintf("the trail now holds %d rows: rows were removed from its end", rows-3)) {
		t.Fatalf("audit verify after the newest rows were removed: %d %q", code, out)
	}
	t.Logf("portal audit verify after the cut:\n%s", out)

	// The runtime role may add a checkpoint, but not sign it.
	if _, err := d.DB.ExecContext(ctx, `INSERT INTO audit_checkpoints (id, taken_at, row_count, last_id, head_hash, key_id, mac)
		SELECT nextval('audit_checkpoints_id_seq'), now(), row_count - 3, last_id - 3, head_hash, key_id, mac FROM audit_checkpoints`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = portal(t, "", "audit", "verify")
	if code != 1 || !strings.Contains(out, "Audit checkpoint #2 FORGED") || !strings.Contains(out, "TRUNCATED: checkpoint #1") {
		t.Fatalf("audit verify with a forged checkpoint: %d %q", code, out)
	}
}
