package app

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/identity"
)

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAuditCheckpointJob: the periodic job seals the audit trail's head once an interval, as the
// runtime role, logs each seal (a copy outside the database), and the trail then checks intact.
func TestAuditCheckpointJob(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ctx := t.Context()
	var logs lockedBuffer
	p.app.log = slog.New(slog.NewTextHandler(&logs, nil))
	countCheckpoints := func() int {
		var n int
		if err := p.db.DB.NewRaw("SELECT count(*) FROM audit_checkpoints").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	p.app.sealAuditTrail(ctx) // without a key it says so and returns
	if n := countCheckpoints(); n != 0 || !strings.Contains(logs.String(), "no audit key") {
		t.Fatalf("without a key: %d checkpoints, log %q", n, logs.String())
	}

	p.app.cfg.AuditKey = bytes.Repeat([]byte{7}, 32)
	p.app.checkpointAudit(ctx)
	p.app.checkpointAudit(ctx)
	if n := countCheckpoints(); n != 1 {
		t.Fatalf("%d checkpoints after two runs within the interval, want 1", n)
	}
	mustStatus(t, p.anonymous().signIn(p.users[identity.RoleRequester].Email, testPassword), 303, "sign in")
	p.clock.Advance(audit.CheckpointInterval)
	p.app.checkpointAudit(ctx)
	if n := countCheckpoints(); n != 2 {
		t.Fatalf("%d checkpoints after a new row and an interval, want 2", n)
	}
	if got := strings.Count(logs.String(), "msg=\"audit checkpoint\""); got != 2 || !strings.Contains(logs.String(), "head_hash=") {
		t.Errorf("log holds %d checkpoint lines, want 2 with their head hashes:\n%s", got, logs.String())
	}
	rep, err := audit.Check(ctx, p.db.DB, p.app.cfg.AuditKey)
	if err != nil || !rep.Intact() || rep.Checkpoints != 2 || rep.Latest == nil || rep.Latest.RowCount != int64(rep.Rows) {
		t.Fatalf("check = %+v, %v; want intact with the latest checkpoint sealing every row", rep, err)
	}
}
