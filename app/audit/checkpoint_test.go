package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database/dbtest"
)

var testKey = bytes.Repeat([]byte{0x5a}, 32)

// recordN appends n events, a second apart from at.
func recordN(t *testing.T, db *bun.DB, at time.Time, n int) {
	t.Helper()
	for i := range n {
		mustRecord(t, db, at.Add(time.Duration(i)*time.Second), Event{Actor: Actor{Name: "system"}, Action: "user.created", EntityType: "user", EntityID: fmt.Sprint(i)})
	}
}

func mustCheckpoint(t *testing.T, db *bun.DB, now time.Time) *Checkpoint {
	t.Helper()
	s, err := TakeCheckpoint(t.Context(), db, testKey, now, CheckpointInterval)
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if len(s.Problems) > 0 {
		t.Fatalf("checkpoint problems: %v", s.Problems)
	}
	if s.Checkpoint == nil {
		t.Fatal("no checkpoint taken, want one")
	}
	return s.Checkpoint
}

func mustCheck(t *testing.T, db bun.IDB, key []byte) *Report {
	t.Helper()
	rep, err := Check(t.Context(), db, key)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return rep
}

// superuserExec runs statements as a superuser with the triggers switched off, as an attacker holding
// the database would.
func superuserExec(t *testing.T, d *dbtest.TestDB, query string, args ...any) {
	t.Helper()
	err := d.Superuser(t).RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		t.Fatalf("tamper %q: %v", query, err)
	}
}

// TestCheckpointSealsTheHead: a checkpoint records the trail's row count and head, signed; another
// within the interval, or while the head has not moved, records nothing; later ones count on from the
// previous one.
func TestCheckpointSealsTheHead(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := t.Context()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

	if s, err := TakeCheckpoint(ctx, d.DB, testKey, at, CheckpointInterval); err != nil || s.Checkpoint != nil {
		t.Fatalf("checkpoint of an empty trail = %+v, %v; want none", s, err)
	}
	recordN(t, d.DB, at, 4)
	first := mustCheckpoint(t, d.DB, at.Add(time.Minute))
	rows := allRows(t, d.DB)
	if first.RowCount != 4 || first.LastID != rows[3].ID || !bytes.Equal(first.HeadHash, rows[3].Hash) || first.KeyID != KeyID(testKey) {
		t.Fatalf("checkpoint = %+v; want 4 rows ending at %d", first, rows[3].ID)
	}
	recordN(t, d.DB, at, 2)
	if s, err := TakeCheckpoint(ctx, d.DB, testKey, at.Add(time.Minute+CheckpointInterval-time.Second), CheckpointInterval); err != nil || s.Checkpoint != nil {
		t.Fatalf("checkpoint within the interval = %+v, %v; want none", s, err)
	}
	second := mustCheckpoint(t, d.DB, at.Add(time.Minute+CheckpointInterval))
	rows = allRows(t, d.DB)
	if second.RowCount != 6 || second.LastID != rows[5].ID || second.ID <= first.ID {
		t.Fatalf("second checkpoint = %+v; want 6 rows ending at %d", second, rows[5].ID)
	}
	if s, err := TakeCheckpoint(ctx, d.DB, testKey, at.Add(time.Hour), CheckpointInterval); err != nil || s.Checkpoint != nil {
		t.Fatalf("checkpoint of an unchanged head = %+v, %v; want none", s, err)
	}
	rep := mustCheck(t, d.DB, testKey)
	if !rep.Intact() || rep.Rows != 6 || rep.Checkpoints != 2 || rep.Latest == nil || rep.Latest.ID != second.ID {
		t.Fatalf("check = %+v; want intact, 6 rows, 2 checkpoints, the latest #%d", rep, second.ID)
	}
}

// TestCheckFindsTruncation deletes the newest rows as a superuser behind the triggers: the chain still
// holds, so Verify says nothing, but Check names the truncation against the latest checkpoint.
func TestCheckFindsTruncation(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	recordN(t, d.DB, at, 5)
	mustCheckpoint(t, d.DB, at) // still matched: the 5 rows it sealed are there
	recordN(t, d.DB, at, 5)
	latest := mustCheckpoint(t, d.DB, at.Add(CheckpointInterval))

	superuserExec(t, d, "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events ORDER BY id DESC LIMIT 3)")

	if checked, brk, err := Verify(t.Context(), d.DB); err != nil || brk != nil || checked != 7 {
		t.Fatalf("verify = %d, %+v, %v; the chain alone should still hold with 7 rows", checked, brk, err)
	}
	rep := mustCheck(t, d.DB, testKey)
	if rep.Intact() || rep.Break != nil {
		t.Fatalf("check after truncation = %+v; want not intact, chain holding", rep)
	}
	if rep.Mismatch == nil || rep.Mismatch.Checkpoint.ID != latest.ID || rep.Mismatch.Reason != ReasonTooFewRows || rep.Mismatch.Rows != 7 || rep.Mismatches != 1 {
		t.Fatalf("mismatch = %+v (%d in all); want the latest checkpoint #%d, too few rows, 7 left, 1 in all", rep.Mismatch, rep.Mismatches, latest.ID)
	}
	if rep.Latest == nil || rep.Latest.ID != latest.ID || len(rep.Forged) != 0 {
		t.Fatalf("latest = %+v, forged %v", rep.Latest, rep.Forged)
	}

	// The next checkpoint says the trail lost what the last one sealed, and seals it as it is; the
	// truncation stays on record against the earlier checkpoint.
	s, err := TakeCheckpoint(t.Context(), d.DB, testKey, at.Add(2*CheckpointInterval), CheckpointInterval)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Problems) != 1 || !strings.Contains(s.Problems[0], "no longer holds row") || s.Checkpoint == nil || s.Checkpoint.RowCount != 7 {
		t.Fatalf("checkpoint after truncation = %+v", s)
	}
	rep = mustCheck(t, d.DB, testKey)
	if rep.Intact() || rep.Mismatch == nil || rep.Mismatch.Checkpoint.ID != latest.ID {
		t.Fatalf("check after a later checkpoint = %+v; want the truncation still reported against #%d", rep, latest.ID)
	}
}

// TestCheckFindsTruncationHiddenByNewRows: the newest rows are deleted and as many new ones appended;
// the row count is back, but the row at the checkpointed position is another.
func TestCheckFindsTruncationHiddenByNewRows(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	recordN(t, d.DB, at, 6)
	cp := mustCheckpoint(t, d.DB, at)
	superuserExec(t, d, "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events ORDER BY id DESC LIMIT 2)")
	recordN(t, d.DB, at.Add(time.Hour), 2)

	rep := mustCheck(t, d.DB, testKey)
	if rep.Break != nil || rep.Mismatch == nil || rep.Mismatch.Checkpoint.ID != cp.ID || rep.Mismatch.Reason != ReasonOtherHead {
		t.Fatalf("check = %+v, mismatch %+v; want the chain holding and checkpoint #%d not matching its position", rep, rep.Mismatch, cp.ID)
	}
}

// TestCheckFindsForgedCheckpoints: the runtime role may add checkpoints but, without the key, only
// forged ones: a made-up one, and a copy of a genuine one under a new id. A copy that claims the
// trail is shorter cannot hide a truncation either, because every genuine checkpoint is checked.
func TestCheckFindsForgedCheckpoints(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := t.Context()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	recordN(t, d.DB, at, 3)
	genuine := mustCheckpoint(t, d.DB, at)
	recordN(t, d.DB, at, 3)
	sealed := mustCheckpoint(t, d.DB, at.Add(CheckpointInterval))

	// A copy of the first genuine checkpoint, as the newest, to make the trail look 3 rows long.
	if _, err := d.DB.ExecContext(ctx, `INSERT INTO audit_checkpoints (id, taken_at, row_count, last_id, head_hash, key_id, mac)
		SELECT nextval('audit_checkpoints_id_seq'), taken_at + interval '1 hour', row_count, last_id, head_hash, key_id, mac
		FROM audit_checkpoints WHERE id = ?`, genuine.ID); err != nil {
		t.Fatalf("the runtime role adds a checkpoint: %v", err)
	}
	made := &Checkpoint{TakenAt: at.Add(2 * time.Hour), RowCount: 3, LastID: genuine.LastID, HeadHash: genuine.HeadHash, KeyID: KeyID(testKey), MAC: bytes.Repeat([]byte{1}, 32)}
	if err := d.DB.QueryRowContext(ctx, "SELECT nextval('audit_checkpoints_id_seq')").Scan(&made.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DB.NewInsert().Model(made).Exec(ctx); err != nil {
		t.Fatalf("insert made-up checkpoint: %v", err)
	}
	superuserExec(t, d, "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events ORDER BY id DESC LIMIT 3)")

	rep := mustCheck(t, d.DB, testKey)
	if len(rep.Forged) != 2 || rep.Forged[1].ID != made.ID {
		t.Fatalf("forged = %+v; want the copy and the made-up checkpoint", rep.Forged)
	}
	if rep.Latest == nil || rep.Latest.ID != sealed.ID || rep.Mismatch == nil || rep.Mismatch.Checkpoint.ID != sealed.ID || rep.Mismatch.Reason != ReasonTooFewRows {
		t.Fatalf("latest %+v, mismatch %+v; want the truncation found against the genuine #%d", rep.Latest, rep.Mismatch, sealed.ID)
	}

	// A checker with another key sees every checkpoint as forged.
	other := mustCheck(t, d.DB, bytes.Repeat([]byte{0x33}, 32))
	if len(other.Forged) != 4 || other.Latest != nil {
		t.Errorf("check with another key: forged %d, latest %+v; want all 4 forged", len(other.Forged), other.Latest)
	}
	// Without a key, checkpoints cannot be checked, and that is no clean bill of health.
	unchecked := mustCheck(t, d.DB, nil)
	if !unchecked.Unchecked || unchecked.Intact() {
		t.Errorf("check without a key = %+v; want unchecked, not intact", unchecked)
	}

	// The periodic job notices the forgeries newer than the latest genuine checkpoint.
	s, err := TakeCheckpoint(ctx, d.DB, testKey, at.Add(3*time.Hour), CheckpointInterval)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Problems) == 0 || !strings.Contains(s.Problems[0], "2 audit checkpoints (#") {
		t.Errorf("problems = %q; want the two forged checkpoints named", s.Problems)
	}
}

// TestCheckpointOncePerInterval: instances that reach the job at the same moment record one
// checkpoint between them.
func TestCheckpointOncePerInterval(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	recordN(t, d.DB, at, 3)
	const instances = 6
	var wg sync.WaitGroup
	taken := make(chan int64, instances)
	for range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := TakeCheckpoint(t.Context(), d.DB, testKey, at, CheckpointInterval)
			if err != nil {
				t.Error(err)
				return
			}
			if s.Checkpoint != nil {
				taken <- s.Checkpoint.ID
			}
		}()
	}
	wg.Wait()
	close(taken)
	if n := len(taken); n != 1 {
		t.Fatalf("%d instances took a checkpoint, want 1", n)
	}
}

// TestRuntimeRoleCannotCutTheTrail: the role the portal serves as (dbtest.New's) owns neither table, so
// it can neither disable, drop nor alter their triggers, and holds no UPDATE, DELETE or TRUNCATE; nor
// may it switch triggers off for its session. The owner and a superuser are reported as exposed.
func TestRuntimeRoleCannotCutTheTrail(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := t.Context()
	var owner bool
	if err := d.DB.QueryRowContext(ctx, "SELECT pg_has_role(relowner, 'MEMBER') FROM pg_class WHERE oid = 'audit_events'::regclass").Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner {
		// Run as the owner, the refusals below would be granted: the test would say nothing. A DATABASE_URL
		// whose role may not create roles gives no runtime role to run as (dbtest), so it fails here.
		t.Fatal("the tests run as the owner of the audit tables: give DATABASE_URL's role CREATEROLE, or leave DATABASE_URL unset so that the tests run their own cluster")
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	recordN(t, d.DB, at, 3)
	mustCheckpoint(t, d.DB, at)
	for _, query := range []string{
		"ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
		"ALTER TABLE audit_events DISABLE TRIGGER ALL",
		"DROP TRIGGER audit_events_no_update_delete ON audit_events",
		"ALTER TABLE audit_events OWNER TO CURRENT_USER",
		"SET session_replication_role = replica",
		"DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)",
		"UPDATE audit_events SET actor_name = 'someone else'",
		"TRUNCATE audit_events",
		"DROP TABLE audit_events",
		"ALTER TABLE audit_checkpoints DISABLE TRIGGER ALL",
		"DELETE FROM audit_checkpoints",
		"UPDATE audit_checkpoints SET row_count = 0",
		"TRUNCATE audit_checkpoints",
		"SELECT setval('audit_events_id_seq', 1)",
	} {
		_, err := d.DB.ExecContext(ctx, query)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" { // insufficient_privilege
			t.Errorf("%s as the runtime role: %v; want permission denied", query, err)
		}
	}
	if rep := mustCheck(t, d.DB, testKey); !rep.Intact() || rep.Rows != 3 {
		t.Fatalf("check after the refused attempts = %+v; want intact with 3 rows", rep)
	}

	if exp, err := Exposure(ctx, d.DB); err != nil || len(exp) != 0 {
		t.Errorf("exposure of the runtime role = %q, %v; want none", exp, err)
	}
	exp, err := Exposure(ctx, d.Owner(t))
	ownerExposed := len(exp) == 2 && strings.Contains(exp[0], "owns audit_checkpoints") && strings.Contains(exp[1], "owns audit_events")
	if os.Getenv("DATABASE_URL") != "" && len(exp) == 1 && strings.Contains(exp[0], "superuser") {
		ownerExposed = true // DATABASE_URL's role owns the tables, and is a superuser
	}
	if err != nil || !ownerExposed {
		t.Errorf("exposure of the owner = %q, %v; want both tables named", exp, err)
	}
	exp, err = Exposure(ctx, d.Superuser(t))
	if err != nil || len(exp) != 1 || !strings.Contains(exp[0], "superuser") {
		t.Errorf("exposure of a superuser = %q, %v", exp, err)
	}
}
