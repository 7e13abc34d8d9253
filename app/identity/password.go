package identity

import (
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/alexedwards/argon2id"
)

// MinPasswordLength is the shortest password the portal accepts (NCSC: length over complexity).
const MinPasswordLength = 12

// hashParams are argon2id's parameters: 64 MiB, one pass, two lanes (about 60 ms here).
var hashParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// dummyHash is compared against when the email matches no user, so a sign-in takes as long whether or
// not the account exists.
const dummyHash = "$argon2id$v=19$m=65536,t=1,p=2$tedKTPTxVwJy/lRNxdzPag$qasJK7s2SAqnG1TyZ/7Ce3vC32NPTo+i+hR8gn8gZ2M"

// HashPassword hashes a password with argon2id.
func HashPassword(password string) (string, error) {
	h, err := argon2id.CreateHash(password, hashParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// checkPassword reports whether password matches hash.
func checkPassword(password, hash string) (bool, error) {
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
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
