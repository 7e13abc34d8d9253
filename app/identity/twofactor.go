package identity

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

// AttemptSecondFactor counts guesses at a one-time passcode or a recovery code: a secret of its own,
// with its own counters (see Throttle).
const AttemptSecondFactor AttemptKind = "second_factor"

// The second factor.
const (
	// TOTPIssuer names the portal in authenticator apps.
	TOTPIssuer = "ESR Enhancement Portal"
	// totpPeriod is the time step of a passcode (RFC 6238's default).
	totpPeriod = 30
	// totpSkew is how many steps either side of now a code is accepted for: clocks drift.
	totpSkew = 1
	// RecoveryCodeCount is how many single-use recovery codes enrolment gives.
	RecoveryCodeCount = 10
	// pendingLifetime is how long an unconfirmed enrolment's secret is offered again before a new one
	// is made.
	pendingLifetime = time.Hour
	// FreshFor is how long a passed second factor lets an elevated user take a sensitive action
	// without entering a code again.
	FreshFor = 15 * time.Minute
)

// Ways a session passes its second factor, as recorded on it.
const (
	VerifiedByTOTP     = "totp"
	VerifiedByRecovery = "recovery"
)

// Errors of the second factor.
var (
	ErrWrongCode       = errors.New("the code is not right")
	ErrCodeUsed        = errors.New("the code has been used already")
	ErrAlreadyEnrolled = errors.New("two-factor authentication is already set up")
	ErrNotEnrolled     = errors.New("two-factor authentication is not set up")
	ErrOwnFactor       = errors.New("you cannot reset your own two-factor authentication")
)

// ElevatedRoles are the roles that must pass a second factor before any of their pages (DESIGN §1).
func ElevatedRoles() []string {
	var out []string
	for _, r := range Roles {
		if r.Elevated {
			out = append(out, r.Name)
		}
	}
	return out
}

// Elevated reports whether the user holds a role that needs a second factor.
func (u *User) Elevated() bool {
	for _, r := range Roles {
		if r.Elevated && u.HasRole(r.Name) {
			return true
		}
	}
	return false
}

// Sealer keeps TOTP secrets and recovery codes safe at rest with a key that is never in the database:
// secrets are sealed with AES-256-GCM bound to their user, recovery codes are kept as HMAC-SHA-256.
type Sealer struct {
	aead    cipher.AEAD
	codeKey []byte
}

// NewSealer derives the sealing and hashing keys from key (at least 32 bytes).
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) < 32 {
		return nil, errors.New("the two-factor key must be at least 32 bytes")
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("portal totp secret v1"))
	if err != nil {
		return nil, fmt.Errorf("two-factor key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("two-factor key: %w", err)
	}
	return &Sealer{aead: aead, codeKey: derive("portal recovery code v1")}, nil
}

func userAAD(userID int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("totp:"), uint64(userID))
}

func (s *Sealer) seal(userID int64, secret string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(secret), userAAD(userID)), nil
}

func (s *Sealer) open(userID int64, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed secret too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], userAAD(userID))
	if err != nil {
		return "", fmt.Errorf("open the secret of user %d (is PORTAL_TOTP_KEY the one it was sealed with?): %w", userID, err)
	}
	return string(plain), nil
}

func (s *Sealer) codeHash(userID int64, code string) []byte {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write(userAAD(userID))
	m.Write([]byte(normaliseRecoveryCode(code)))
	return m.Sum(nil)
}

// normaliseRecoveryCode reads a recovery code as typed: case, spaces and hyphens do not matter.
func normaliseRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, code)
}

// normalisePasscode reads a passcode as typed: spaces and hyphens do not matter.
func normalisePasscode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// TOTPFactor is a user's authenticator.
type TOTPFactor struct {
	bun.BaseModel `bun:"table:totp_factors"`

	UserID       int64     `bun:"user_id,pk"`
	SecretSealed []byte    `bun:"secret_sealed"`
	ConfirmedAt  time.Time `bun:"confirmed_at,nullzero"`
	LastStep     int64     `bun:"last_step"`
	CreatedAt    time.Time `bun:"created_at"`
}

// Enrolment is an authenticator being set up: what the person adds to their app.
type Enrolment struct {
	Secret string // base32, for those who type it in
	URL    string // the otpauth:// URL the QR code holds
}

func enrolmentFor(u *User, secret string) (*Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: TOTPIssuer, AccountName: u.Email, Period: totpPeriod, Digits: otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1, Secret: mustDecodeSecret(secret),
	})
	if err != nil {
		return nil, fmt.Errorf("TOTP key: %w", err)
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

func mustDecodeSecret(secret string) []byte {
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		return nil
	}
	return b
}

// newSecret makes a random 160-bit TOTP secret in base32, as authenticator apps expect.
func newSecret() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("TOTP secret: %w", err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}

// QRCode returns the enrolment's QR code as a PNG of size pixels square.
func (e *Enrolment) QRCode(size int) ([]byte, error) {
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return encodePNG(img)
}

// HasFactor reports whether the user has a confirmed authenticator.
func HasFactor(ctx context.Context, db bun.IDB, userID int64) (bool, error) {
	n, err := db.NewSelect().Table("totp_factors").Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("two-factor of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// PendingEnrolment returns the authenticator the user is setting up: the one offered within the last
// hour, so that a page shown again offers the same QR code, or a new one. It refuses a user who has
// one already.
func PendingEnrolment(ctx context.Context, db bun.IDB, s *Sealer, now time.Time, u *User) (*Enrolment, error) {
	var f TOTPFactor
	err := db.NewSelect().Model(&f).Where("user_id = ?", u.ID).Scan(ctx)
	switch {
	case err == nil && !f.ConfirmedAt.IsZero():
		return nil, ErrAlreadyEnrolled
	case err == nil && now.Sub(f.CreatedAt) < pendingLifetime:
		secret, err := s.open(u.ID, f.SecretSealed)
		if err != nil {
			return nil, err
		}
		return enrolmentFor(u, secret)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read enrolment of user %d: %w", u.ID, err)
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	sealed, err := s.seal(u.ID, secret)
	if err != nil {
		return nil, err
	}
	// Only an unconfirmed enrolment is replaced.
	res, err := db.NewRaw(`INSERT INTO totp_factors (user_id, secret_sealed, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at, last_step = 0
		WHERE totp_factors.confirmed_at IS NULL`, u.ID, sealed, now).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("start enrolment of user %d: %w", u.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrAlreadyEnrolled
	}
	return enrolmentFor(u, secret)
}

// matchStep returns the time step, within the skew around now and after last, whose code is code; 0
// when none is. A code right for a step at or before last has been used: ErrCodeUsed.
func matchStep(secret, code string, now time.Time, last int64) (int64, error) {
	code = normalisePasscode(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, ErrWrongCode
	}
	step := now.Unix() / totpPeriod
	used := false
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		s := step + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, fmt.Errorf("TOTP code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if s > last {
				return s, nil
			}
			used = true
		}
	}
	if used {
		return 0, ErrCodeUsed
	}
	return 0, ErrWrongCode
}

// CodeAt returns the passcode of a secret at t, for the demo and tests.
func CodeAt(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// SecondFactorCheck is one attempt at a second factor by a signed-in user.
type SecondFactorCheck struct {
	User   *User
	Token  string // the session's token: it is marked as having passed
	Code   string
	Client Client
	Actor  audit.Actor
}

// secondFactorFailed audits a refused code, never the code itself.
func secondFactorFailed(ctx context.Context, db *bun.DB, now time.Time, in SecondFactorCheck, what, reason string, cause error) error {
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: in.Actor, Action: "session.second_factor_failed", EntityType: "user", EntityID: fmt.Sprint(in.User.ID),
			After: map[string]any{"method": what, "reason": reason},
		})
	})
	if err != nil {
		return fmt.Errorf("audit second factor of user %d: %w", in.User.ID, err)
	}
	return cause
}

// ConfirmEnrolment checks a code from the authenticator being set up and, when it is right, confirms
// it, marks the session as having passed its second factor and returns the recovery codes, which are
// shown once and stored only as hashes. The attempt is throttled as AttemptSecondFactor.
func ConfirmEnrolment(ctx context.Context, db *bun.DB, s *Sealer, th Throttle, now time.Time, in SecondFactorCheck) ([]string, error) {
	var f TOTPFactor
	err := db.NewSelect().Model(&f).Where("user_id = ?", in.User.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("read enrolment of user %d: %w", in.User.ID, err)
	}
	if !f.ConfirmedAt.IsZero() {
		return nil, ErrAlreadyEnrolled
	}
	att, err := th.claim(ctx, db, now, AttemptSecondFactor, strings.ToLower(in.User.Email), in.Client.IP)
	if errors.Is(err, ErrThrottled) {
		return nil, secondFactorFailed(ctx, db, now, in, "enrolment", "throttled", ErrThrottled)
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.open(in.User.ID, f.SecretSealed)
	if err != nil {
		return nil, err
	}
	step, err := matchStep(secret, in.Code, now, f.LastStep)
	if errors.Is(err, ErrWrongCode) || errors.Is(err, ErrCodeUsed) {
		return nil, secondFactorFailed(ctx, db, now, in, "enrolment", "wrong code", ErrWrongCode)
	}
	if err != nil {
		return nil, err
	}
	codes, hashes, err := newRecoveryCodes(s, in.User.ID)
	if err != nil {
		return nil, err
	}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`UPDATE totp_factors SET confirmed_at = ?, last_step = ?
			WHERE user_id = ? AND confirmed_at IS NULL AND secret_sealed = ?`, now, step, in.User.ID, f.SecretSealed).Exec(ctx)
		if err != nil {
			return fmt.Errorf("confirm enrolment: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("enrolment of user %d changed meanwhile: %w", in.User.ID, problem.ErrConflict)
		}
		if err := replaceRecoveryCodes(ctx, tx, in.User.ID, hashes); err != nil {
			return err
		}
		if err := markVerified(ctx, tx, in.Token, now, VerifiedByTOTP); err != nil {
			return err
		}
		if err := att.succeeded(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: in.Actor, Action: "user.two_factor_enrolled", EntityType: "user", EntityID: fmt.Sprint(in.User.ID),
			After: map[string]any{"method": "totp", "recovery_codes_issued": len(codes)},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("confirm two-factor of user %d: %w", in.User.ID, err)
	}
	return codes, nil
}

// VerifyCode checks a passcode from the user's authenticator and, when it is right and newer than the
// last one accepted, marks the session as having passed its second factor now. A code is accepted once
// only, whoever sends it and however many at once. The attempt is throttled as AttemptSecondFactor.
func VerifyCode(ctx context.Context, db *bun.DB, s *Sealer, th Throttle, now time.Time, in SecondFactorCheck) error {
	var f TOTPFactor
	err := db.NewSelect().Model(&f).Where("user_id = ? AND confirmed_at IS NOT NULL", in.User.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotEnrolled
	}
	if err != nil {
		return fmt.Errorf("read two-factor of user %d: %w", in.User.ID, err)
	}
	att, err := th.claim(ctx, db, now, AttemptSecondFactor, strings.ToLower(in.User.Email), in.Client.IP)
	if errors.Is(err, ErrThrottled) {
		return secondFactorFailed(ctx, db, now, in, "totp", "throttled", ErrThrottled)
	}
	if err != nil {
		return err
	}
	secret, err := s.open(in.User.ID, f.SecretSealed)
	if err != nil {
		return err
	}
	step, err := matchStep(secret, in.Code, now, f.LastStep)
	switch {
	case errors.Is(err, ErrWrongCode):
		return secondFactorFailed(ctx, db, now, in, "totp", "wrong code", ErrWrongCode)
	case errors.Is(err, ErrCodeUsed):
		return secondFactorFailed(ctx, db, now, in, "totp", "code used before", ErrCodeUsed)
	case err != nil:
		return err
	}
	replayed := false
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		// The step moves forward only: of two requests with one code, one moves it and the other finds
		// it moved.
		res, err := tx.NewRaw(`UPDATE totp_factors SET last_step = ? WHERE user_id = ? AND last_step < ?`, step, in.User.ID, step).Exec(ctx)
		if err != nil {
			return fmt.Errorf("record code step: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			replayed = true
			return nil
		}
		if err := markVerified(ctx, tx, in.Token, now, VerifiedByTOTP); err != nil {
			return err
		}
		if err := att.succeeded(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: in.Actor, Action: "session.second_factor_passed", EntityType: "user", EntityID: fmt.Sprint(in.User.ID),
			After: map[string]any{"method": "totp"},
		})
	})
	if err != nil {
		return fmt.Errorf("verify code of user %d: %w", in.User.ID, err)
	}
	if replayed {
		return secondFactorFailed(ctx, db, now, in, "totp", "code used before", ErrCodeUsed)
	}
	return nil
}

// UseRecoveryCode checks a recovery code and, when it is one of the user's unused ones, uses it up and
// marks the session as having passed its second factor. It returns how many codes are left. Throttled
// as AttemptSecondFactor.
func UseRecoveryCode(ctx context.Context, db *bun.DB, s *Sealer, th Throttle, now time.Time, in SecondFactorCheck) (int, error) {
	ok, err := HasFactor(ctx, db, in.User.ID)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrNotEnrolled
	}
	att, err := th.claim(ctx, db, now, AttemptSecondFactor, strings.ToLower(in.User.Email), in.Client.IP)
	if errors.Is(err, ErrThrottled) {
		return 0, secondFactorFailed(ctx, db, now, in, "recovery code", "throttled", ErrThrottled)
	}
	if err != nil {
		return 0, err
	}
	left, used := 0, false
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
			now, in.User.ID, s.codeHash(in.User.ID, in.Code)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("use recovery code: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		used = true
		if err := tx.NewRaw(`SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, in.User.ID).Scan(ctx, &left); err != nil {
			return fmt.Errorf("count recovery codes: %w", err)
		}
		if err := markVerified(ctx, tx, in.Token, now, VerifiedByRecovery); err != nil {
			return err
		}
		if err := att.succeeded(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: in.Actor, Action: "session.second_factor_passed", EntityType: "user", EntityID: fmt.Sprint(in.User.ID),
			After: map[string]any{"method": "recovery code", "recovery_codes_left": left},
		})
	})
	if err != nil {
		return 0, fmt.Errorf("recovery code of user %d: %w", in.User.ID, err)
	}
	if !used {
		return 0, secondFactorFailed(ctx, db, now, in, "recovery code", "wrong or used code", ErrWrongCode)
	}
	return left, nil
}

// RecoveryCodesLeft says how many unused recovery codes the user has.
func RecoveryCodesLeft(ctx context.Context, db bun.IDB, userID int64) (int, error) {
	n, err := db.NewSelect().Table("recovery_codes").Where("user_id = ? AND used_at IS NULL", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes of user %d: %w", userID, err)
	}
	return int(n), nil
}

// newRecoveryCodes makes RecoveryCodeCount codes such as "k7m2p-x9qrt" (50 random bits each) and their
// hashes.
func newRecoveryCodes(s *Sealer, userID int64) ([]string, [][]byte, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // 32 letters and digits, none easily confused
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, fmt.Errorf("recovery code: %w", err)
		}
		var sb strings.Builder
		for j, c := range b {
			if j == 5 {
				sb.WriteByte('-')
			}
			sb.WriteByte(alphabet[c&31])
		}
		codes[i] = sb.String()
		hashes[i] = s.codeHash(userID, codes[i])
	}
	return codes, hashes, nil
}

func replaceRecoveryCodes(ctx context.Context, tx bun.IDB, userID int64, hashes [][]byte) error {
	if _, err := tx.NewDelete().Table("recovery_codes").Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("remove recovery codes: %w", err)
	}
	for _, h := range hashes {
		if _, err := tx.NewRaw(`INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?) ON CONFLICT DO NOTHING`, userID, h).Exec(ctx); err != nil {
			return fmt.Errorf("store recovery code: %w", err)
		}
	}
	return nil
}

// markVerified records that the session with token passed its second factor at now.
func markVerified(ctx context.Context, tx bun.IDB, token string, now time.Time, by string) error {
	if token == "" {
		return nil
	}
	if _, err := tx.NewRaw(`UPDATE sessions SET verified_at = ?, verified_by = ? WHERE token_hash = ?`, now, by, hashToken(token)).Exec(ctx); err != nil {
		return fmt.Errorf("mark session verified: %w", err)
	}
	return nil
}

// ResetFactor removes another user's authenticator and recovery codes (they set up a new one at their
// next sign-in, which an elevated role forces), ends their sessions and tells them by email, audited in
// one transaction. Nobody resets their own.
func ResetFactor(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, userID int64) error {
	if actor.UserID == userID {
		return ErrOwnFactor
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		u, err := Get(ctx, tx, userID)
		if err != nil {
			return err
		}
		res, err := tx.NewDelete().Table("totp_factors").Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove authenticator: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotEnrolled
		}
		if _, err := tx.NewDelete().Table("recovery_codes").Where("user_id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("remove recovery codes: %w", err)
		}
		ended, err := endSessions(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := notify.SecurityEmail(ctx, tx, now, u.ID, "Your two-factor authentication has been reset",
			fmt.Sprintf("%s, an administrator, has reset the two-factor authentication on your ESR Enhancement Portal account. "+
				"You have been signed out. When you next sign in you will be asked to set up an authenticator app again.\n\n"+
				"If you did not ask for this, tell your organisation's portal administrator at once.", actor.Name), "/sign-in"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "user.two_factor_reset", EntityType: "user", EntityID: fmt.Sprint(userID),
			After: map[string]any{"devices_signed_out": ended},
		})
	})
	if err != nil {
		return fmt.Errorf("reset two-factor of user %d: %w", userID, err)
	}
	return nil
}

// EnrolWithSecret sets up a confirmed authenticator with a given secret, for the demo accounts (whose
// secret is printed by `make run`) and tests. It keeps an existing one.
func EnrolWithSecret(ctx context.Context, db bun.IDB, s *Sealer, now time.Time, userID int64, secret string) error {
	sealed, err := s.seal(userID, strings.ToUpper(secret))
	if err != nil {
		return err
	}
	if _, err := db.NewRaw(`INSERT INTO totp_factors (user_id, secret_sealed, confirmed_at, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id) DO NOTHING`, userID, sealed, now, now).Exec(ctx); err != nil {
		return fmt.Errorf("enrol user %d: %w", userID, err)
	}
	return nil
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return buf.Bytes(), nil
}
