package seed

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
)

// DemoTOTPSecret is the authenticator secret of every demo account that holds an elevated role, so
// that anyone trying the demo can sign in as them with any authenticator app or
// `oathtool --totp -b DemoTOTPSecret`. `make run` prints it; never seed demo data into a live portal.
const DemoTOTPSecret = "ESRDEMOPORTALTOTPSECRETFORDEMOS2"

// DemoTwoFactor sets up DemoTOTPSecret as the authenticator of the demo accounts with an elevated role
// that have none, sealed with s.
func DemoTwoFactor(ctx context.Context, db *bun.DB, s *identity.Sealer, now time.Time, accounts []Account) error {
	for _, acc := range accounts {
		u, err := identity.GetByEmail(ctx, db, acc.Email)
		if err != nil {
			return err
		}
		if !u.Elevated() {
			continue
		}
		if err := identity.EnrolWithSecret(ctx, db, s, now, u.ID, DemoTOTPSecret); err != nil {
			return err
		}
	}
	return nil
}
