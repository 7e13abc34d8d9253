package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
)

// ErrThrottled is returned after too many attempts at a secret for one account from one address, or
// from one address at any accounts, whether or not the account exists.
var ErrThrottled = errors.New("too many attempts")

// AttemptKind is the secret an attempt guesses at. Each kind has its own counters; an account's
// password is one secret whether it is typed to sign in or to confirm a change, so both count as
// AttemptPassword. A one-time passcode check is a kind of its own.
type AttemptKind string

// The kinds of attempt.
const (
	AttemptPassword AttemptKind = "password"
)

// Throttle limits attempts at a secret within a fixed Window (it starts with the first attempt and
// its count resets when it has passed):
//   - PerAccountAddress attempts at one account from one address: then that address is refused for
//     that account until the window ends. Failures from one address never lock out anyone elsewhere.
//   - PerAddress attempts from one address at any accounts (someone trying one password on many
//     accounts): then that address is refused. It is loose because an organisation's staff may share
//     one address.
//   - SlowAfter attempts at one account from anywhere: each further attempt waits SlowDelay before the
//     secret is checked. It slows an attack spread over many addresses, never refuses.
//
// An attempt is counted before its secret is checked, in one statement per counter under the row's
// lock, so parallel attempts can never check more secrets than the limits allow; a successful attempt
// is taken off the counts again (and clears its account and address's failures).
type Throttle struct {
	Window            time.Duration
	PerAccountAddress int
	PerAddress        int
	SlowAfter         int
	SlowDelay         time.Duration
}

// DefaultThrottle allows 5 attempts at an account from one address and 100 from one address in 15
// minutes, and slows every attempt at an account by 2 seconds once it has had 50 from anywhere.
var DefaultThrottle = Throttle{
	Window: 15 * time.Minute, PerAccountAddress: 5, PerAddress: 100, SlowAfter: 50, SlowDelay: 2 * time.Second,
}

// attempt is one claimed attempt at a secret: the window each of its three counters was counted in.
type attempt struct {
	kind             AttemptKind
	subject, address string
	addressStart     time.Time // the address's window, all accounts
	subjectStart     time.Time // the account's window, all addresses
	slow             bool
}

// claimSQL counts one attempt on a counter unless it is already at limit within the window; a window
// that has passed starts again at this attempt. No row comes back when the counter is at its limit.
// ON CONFLICT takes the row's lock and works on its latest version, so parallel claims queue on it.
const claimSQL = `
INSERT INTO auth_attempts AS t (kind, subject, address, window_start, attempts) VALUES (?, ?, ?, ?, 1)
ON CONFLICT (kind, subject, address) DO UPDATE SET
    window_start = CASE WHEN t.window_start <= ? THEN excluded.window_start ELSE t.window_start END,
    attempts = CASE WHEN t.window_start <= ? THEN 1 ELSE t.attempts + 1 END
WHERE t.window_start <= ? OR t.attempts < ?
RETURNING window_start, attempts`

// claim counts an attempt of kind at subject (e.g. the email address typed, lower case) from address,
// or returns ErrThrottled without counting it. It commits before returning, so that attempts made
// meanwhile see it; then, when the account has had SlowAfter attempts, it waits SlowDelay.
func (th Throttle) claim(ctx context.Context, db *bun.DB, now time.Time, kind AttemptKind, subject, address string) (*attempt, error) {
	if subject == "" {
		subject = "[none]" // "" is the counter of all accounts
	}
	if address == "" {
		address = "[unknown]" // "" is the counter of all addresses
	}
	a := &attempt{kind: kind, subject: subject, address: address}
	since := now.Add(-th.Window)
	count := func(tx bun.Tx, subject, address string, limit int) (time.Time, int, error) {
		var start time.Time
		var n int
		err := tx.NewRaw(claimSQL, string(kind), subject, address, now, since, since, since, limit).Scan(ctx, &start, &n)
		return start, n, err
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		// Always in this order (this account from this address, this address, this account), so that
		// claims never wait on each other in a cycle.
		if _, _, err = count(tx, subject, address, th.PerAccountAddress); err != nil {
			return err
		}
		if a.addressStart, _, err = count(tx, "", address, th.PerAddress); err != nil {
			return err
		}
		var n int
		if a.subjectStart, n, err = count(tx, subject, "", math.MaxInt32); err != nil {
			return err
		}
		a.slow = n > th.SlowAfter
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrThrottled
	}
	if err != nil {
		return nil, fmt.Errorf("count %s attempt: %w", kind, err)
	}
	if a.slow {
		t := time.NewTimer(th.SlowDelay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return a, nil
}

// succeeded takes a successful attempt off the counts, inside the transaction that acts on it: its
// account and address start again from none, and the address's and the account's counts lose the one
// this attempt added (when their window has not started again since).
func (a *attempt) succeeded(ctx context.Context, tx bun.IDB) error {
	if _, err := tx.NewRaw(`DELETE FROM auth_attempts WHERE kind = ? AND subject = ? AND address = ?`,
		string(a.kind), a.subject, a.address).Exec(ctx); err != nil {
		return fmt.Errorf("clear %s attempts: %w", a.kind, err)
	}
	// One row at a time, in the order claim locks them, so that the two never wait on each other.
	for _, row := range []struct {
		subject, address string
		start            time.Time
	}{{"", a.address, a.addressStart}, {a.subject, "", a.subjectStart}} {
		if _, err := tx.NewRaw(`UPDATE auth_attempts SET attempts = greatest(attempts - 1, 0)
			WHERE kind = ? AND subject = ? AND address = ? AND window_start = ?`,
			string(a.kind), row.subject, row.address, row.start).Exec(ctx); err != nil {
			return fmt.Errorf("uncount %s attempt: %w", a.kind, err)
		}
	}
	return nil
}

// sweepAttempts removes counters whose window ended long ago.
func sweepAttempts(ctx context.Context, db bun.IDB, now time.Time) error {
	if _, err := db.NewRaw(`DELETE FROM auth_attempts WHERE window_start < ?`, now.Add(-24*time.Hour)).Exec(ctx); err != nil {
		return fmt.Errorf("sweep attempt counters: %w", err)
	}
	return nil
}
