package identity

import (
	"sync"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database/dbtest"
)

// TestLookupOutlivesAMigration looks sessions up from many connections at once, so that each keeps the
// lookup prepared, then changes the type of a column the lookup reads, as a migration run by another
// instance may while this one serves: every lookup after it still finds the session (each connection
// that kept the statement answers without it once), and so do the ones after those.
func TestLookupOutlivesAMigration(t *testing.T) {
	d := dbtest.New(t)
	ctx := t.Context()
	var org int64
	if err := d.DB.NewRaw("INSERT INTO organisations (name, ods_code, region_id) VALUES ('Test Hospital NHS Trust', 'RTEST', 2) RETURNING id").
		Scan(ctx, &org); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u, err := Create(ctx, d.DB, audit.Actor{Name: "test"}, now, NewUser{
		Email: "jo.bloggs@test.nhs.uk", Name: "Jo Bloggs", OrganisationID: org, Roles: []string{RoleRequester}, Password: rightPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	token, err := StartSession(ctx, d.DB, u.ID, now, Client{IP: "127.0.0.1"}, PassedNow(now, VerifiedByTOTP))
	if err != nil {
		t.Fatal(err)
	}
	lookups := func(when string) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for range 40 {
			wg.Go(func() {
				s, found, err := Lookup(ctx, d.DB, token, now, SessionPolicy{Idle: time.Hour, Absolute: 12 * time.Hour})
				switch {
				case err != nil:
					errs <- err
				case found.ID != u.ID || s.Snapshot == "":
					t.Errorf("%s: the lookup found user %d with snapshot %q, want %d and a snapshot", when, found.ID, s.Snapshot, u.ID)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%s: %v", when, err)
		}
	}
	lookups("before the migration")
	if _, err := d.Owner(t).ExecContext(ctx, "ALTER TABLE users ALTER COLUMN name TYPE varchar(300)"); err != nil {
		t.Fatal(err)
	}
	lookups("just after the migration")
	lookups("after the migration")
}
