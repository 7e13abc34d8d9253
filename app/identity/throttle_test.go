package identity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

const rightPassword = "correct horse battery staple"

// newUser makes a fresh database holding one organisation and one requester.
func newUser(t *testing.T) (*bun.DB, *User) {
	t.Helper()
	d := dbtest.New(t)
	var org int64
	if err := d.DB.NewRaw("INSERT INTO organisations (name, ods_code, region_id) VALUES ('Test Hospital NHS Trust', 'RTEST', 2) RETURNING id").
		Scan(t.Context(), &org); err != nil {
		t.Fatal(err)
	}
	u, err := Create(t.Context(), d.DB, audit.Actor{Name: "test"}, time.Now(), NewUser{
		Email: "Jo.Bloggs@test.nhs.uk", Name: "Jo Bloggs", OrganisationID: org, Roles: []string{RoleRequester}, Password: rightPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d.DB, u
}

func signInFrom(ctx context.Context, db *bun.DB, now time.Time, th Throttle, email, password, ip string) error {
	_, _, err := SignIn(ctx, db, now, th, SignInRequest{Email: email, Password: password, Client: Client{IP: ip}})
	return err
}

func countAudit(t *testing.T, db *bun.DB, action, reason string) int {
	t.Helper()
	n, err := db.NewSelect().Table("audit_events").Where("action = ?", action).Where("after->>'reason' = ?", reason).Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestParallelAttemptsAtOneAccount fires 1,000 sign-in attempts with wrong passwords at one account from
// one address, 50 at a time: the throttle is claimed before a password is checked, so no more than
// PerAccountAddress passwords are checked however the attempts interleave. The account's owner, signing
// in from elsewhere, is not locked out; the attacker's address is refused even the right password.
// Not parallel with other tests: it counts this process's password checks.
func TestParallelAttemptsAtOneAccount(t *testing.T) {
	db, u := newUser(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	th := DefaultThrottle
	const attempts, parallel = 1000, 50

	before := PasswordChecks()
	outcomes := map[error]int{}
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range parallel {
		wg.Go(func() {
			for i := range work {
				err := signInFrom(ctx, db, now, th, "jo.bloggs@test.nhs.uk", fmt.Sprintf("guess number %d", i), "198.51.100.7")
				mu.Lock()
				outcomes[err]++
				mu.Unlock()
			}
		})
	}
	for i := range attempts {
		work <- i
	}
	close(work)
	wg.Wait()
	checked := PasswordChecks() - before
	t.Logf("%d attempts, %d at a time, from one address: %d passwords checked (%d refused as wrong, %d throttled) in %s",
		attempts, parallel, checked, outcomes[ErrInvalidCredentials], outcomes[ErrThrottled], time.Since(start).Round(time.Millisecond))
	if checked > int64(th.PerAccountAddress) {
		t.Errorf("%d passwords checked, want at most %d", checked, th.PerAccountAddress)
	}
	if outcomes[ErrInvalidCredentials] != th.PerAccountAddress || outcomes[ErrThrottled] != attempts-th.PerAccountAddress {
		t.Errorf("outcomes %v, want %d wrong and %d throttled", outcomes, th.PerAccountAddress, attempts-th.PerAccountAddress)
	}
	if got := countAudit(t, db, "session.sign_in_failed", "wrong password"); got != th.PerAccountAddress {
		t.Errorf("%d wrong-password audit rows, want %d", got, th.PerAccountAddress)
	}
	if got := countAudit(t, db, "session.sign_in_failed", "throttled"); got != attempts-th.PerAccountAddress {
		t.Errorf("%d throttled audit rows, want %d", got, attempts-th.PerAccountAddress)
	}

	if err := signInFrom(ctx, db, now, th, u.Email, rightPassword, "198.51.100.7"); !errors.Is(err, ErrThrottled) {
		t.Errorf("the right password from the attacking address: %v, want ErrThrottled", err)
	}
	begun := time.Now()
	if err := signInFrom(ctx, db, now, th, u.Email, rightPassword, "203.0.113.20"); err != nil {
		t.Fatalf("the owner signing in from another address: %v", err)
	}
	if d := time.Since(begun); d >= th.SlowDelay {
		t.Errorf("the owner's sign-in was slowed (%s) by failures from one address", d)
	}
	if err := signInFrom(ctx, db, now.Add(th.Window+time.Second), th, u.Email, rightPassword, "198.51.100.7"); err != nil {
		t.Errorf("the attacking address after the window: %v", err)
	}
}

// TestSpreadAttackSlowsNeverLocks: failures at one account from many addresses pass the account's
// ceiling; from then on every attempt at the account waits, but the owner still signs in.
func TestSpreadAttackSlowsNeverLocks(t *testing.T) {
	t.Parallel()
	db, u := newUser(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	th := Throttle{Window: 15 * time.Minute, PerAccountAddress: 3, PerAddress: 100, SlowAfter: 10, SlowDelay: 300 * time.Millisecond}
	for a := range 5 {
		for range th.PerAccountAddress + 1 {
			_ = signInFrom(ctx, db, now, th, u.Email, "wrong password here", fmt.Sprintf("192.0.2.%d", a+1))
		}
	}
	begun := time.Now()
	if err := signInFrom(ctx, db, now, th, u.Email, rightPassword, "203.0.113.20"); err != nil {
		t.Fatalf("the owner after 15 failures from 5 addresses: %v", err)
	}
	if d := time.Since(begun); d < th.SlowDelay {
		t.Errorf("the sign-in took %s: past the account's ceiling every attempt waits %s", d, th.SlowDelay)
	}
}

// TestAddressCeiling: one address trying many accounts is refused past PerAddress; successful sign-ins
// from a shared address (an organisation's staff) are taken off its count and never add up to it.
func TestAddressCeiling(t *testing.T) {
	t.Parallel()
	db, u := newUser(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	th := Throttle{Window: 15 * time.Minute, PerAccountAddress: 5, PerAddress: 4, SlowAfter: 50, SlowDelay: time.Second}
	for range 3 * th.PerAddress {
		if err := signInFrom(ctx, db, now, th, u.Email, rightPassword, "192.0.2.50"); err != nil {
			t.Fatalf("sign-ins from one shared address: %v", err)
		}
	}
	for i := range th.PerAddress {
		if err := signInFrom(ctx, db, now, th, fmt.Sprintf("someone%d@test.nhs.uk", i), "a password guess", "192.0.2.99"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d at an unknown account: %v", i+1, err)
		}
	}
	if err := signInFrom(ctx, db, now, th, u.Email, rightPassword, "192.0.2.99"); !errors.Is(err, ErrThrottled) {
		t.Errorf("after %d failures from one address at other accounts: %v, want ErrThrottled", th.PerAddress, err)
	}
	if err := signInFrom(ctx, db, now, th, u.Email, rightPassword, "192.0.2.50"); err != nil {
		t.Errorf("another address is unaffected: %v", err)
	}
}

// TestChangePasswordThrottled: guesses at the current password count with sign-in guesses from the same
// address (one secret), each wrong or refused one is audited, and the right one clears the count.
func TestChangePasswordThrottled(t *testing.T) {
	t.Parallel()
	db, u := newUser(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	th := DefaultThrottle
	actor := audit.Actor{UserID: u.ID, Name: u.Name, IP: "192.0.2.1"}
	client := Client{IP: "192.0.2.1"}
	if err := signInFrom(ctx, db, now, th, u.Email, "a wrong password", client.IP); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	for i := 1; i < th.PerAccountAddress; i++ {
		if _, err := ChangePassword(ctx, db, th, actor, now, u.ID, "not my password", "a brand new password", client, Passed{}, false); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("wrong current password %d: %v", i, err)
		}
	}
	if _, err := ChangePassword(ctx, db, th, actor, now, u.ID, rightPassword, "a brand new password", client, Passed{}, false); !errors.Is(err, ErrThrottled) {
		t.Fatalf("the right password after %d guesses: %v, want ErrThrottled", th.PerAccountAddress, err)
	}
	if got := countAudit(t, db, "user.password_check_failed", "wrong password"); got != th.PerAccountAddress-1 {
		t.Errorf("%d wrong-password audit rows, want %d", got, th.PerAccountAddress-1)
	}
	if got := countAudit(t, db, "user.password_check_failed", "throttled"); got != 1 {
		t.Errorf("%d throttled audit rows, want 1", got)
	}
	other := Client{IP: "192.0.2.2"}
	if _, err := ChangePassword(ctx, db, th, actor, now, u.ID, rightPassword, "a brand new password", other, Passed{}, false); err != nil {
		t.Fatalf("from another address: %v", err)
	}
	var left int
	if err := db.NewRaw("SELECT coalesce(sum(attempts), 0) FROM auth_attempts WHERE subject = ? AND address = ?",
		"jo.bloggs@test.nhs.uk", other.IP).Scan(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("a successful check left %d attempts counted for its address", left)
	}
}
