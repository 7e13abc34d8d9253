package identity

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"runtime"
	"sync/atomic"

	"github.com/alexedwards/argon2id"
)

// MinPasswordLength is the shortest password the portal accepts (NCSC: length over complexity).
const MinPasswordLength = 12

// hashParams are argon2id's parameters: 64 MiB, one pass, two lanes (about 60 ms here).
var hashParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// dummyHash is compared against when the email matches no user, so a sign-in takes as long whether or
// not the account exists.
const dummyHash = "$argon2id$v=19$m=65536,t=1,p=2$tedKTPTxVwJy/lRNxdzPag$qasJK7s2SAqnG1TyZ/7Ce3vC32NPTo+i+hR8gn8gZ2M"

// hashSlots bounds how many argon2id computations run at once in this process: each holds 64 MiB
// while it runs, so a burst of sign-ins queues here rather than growing memory without limit. Each
// computation runs on two lanes (two cores), so one slot for every two cores keeps them all busy. It
// is process state because memory is.
var hashSlots = make(chan struct{}, max(1, runtime.NumCPU()/int(hashParams.Parallelism)))

// passwordChecks counts the passwords checked against a hash, for tests that measure the throttle.
var passwordChecks atomic.Int64

// withHashSlot runs fn once a hashing slot is free, or gives up when ctx ends first.
func withHashSlot(ctx context.Context, fn func()) error {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
	defer func() { <-hashSlots }()
	fn()
	return nil
}

// HashPassword hashes a password with argon2id.
func HashPassword(ctx context.Context, password string) (string, error) {
	var h string
	var err error
	if serr := withHashSlot(ctx, func() { h, err = argon2id.CreateHash(password, hashParams) }); serr != nil {
		return "", serr
	}
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// checkPassword reports whether password matches hash.
func checkPassword(ctx context.Context, password, hash string) (bool, error) {
	var ok bool
	var err error
	if serr := withHashSlot(ctx, func() {
		passwordChecks.Add(1)
		ok, err = argon2id.ComparePasswordAndHash(password, hash)
	}); serr != nil {
		return false, serr
	}
	if err != nil {
		return false, fmt.Errorf("compare password: %w", err)
	}
	return ok, nil
}

// GeneratePassword returns a random password of four groups of five letters and digits, easy to read
// out and type (no 0/O, 1/l/I).
func GeneratePassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	out := make([]byte, 0, 23)
	for i := 0; i < 20; i++ {
		if i > 0 && i%5 == 0 {
			out = append(out, '-')
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		out = append(out, alphabet[n.Int64()])
	}
	return string(out), nil
}

// PasswordChecks returns how many passwords this process has checked against a hash.
func PasswordChecks() int64 { return passwordChecks.Load() }
