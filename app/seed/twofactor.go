package seed

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/problem"
)

// DemoTOTPSecret is the authenticator secret of every demo account that holds an elevated role, so
// that anyone trying the demo can sign in as them with any authenticator app or
// `oathtool --totp -b DemoTOTPSecret`. `make run` prints it; never seed demo data into a live portal.
const DemoTOTPSecret = "ESRDEMOPORTALTOTPSECRETFORDEMOS2"

// DemoTwoFactor sets up DemoTOTPSecret as the authenticator of the demo accounts with an elevated role
// that have none, sealed with s.
func DemoTwoFactor(ctx context.Context, db *bun.DB, s *identity.Sealer, now time.Time, accounts []Account) error {
	emails := make([]string, 0, len(accounts)+1)
	for _, acc := range accounts {
		emails = append(emails, acc.Email)
	}
	// The demo requests' second central team member, with an NHSmail-style address, once made.
	emails = append(emails, demoSecureCentral)
	for _, email := range emails {
		u, err := identity.GetByEmail(ctx, db, email)
		if errors.Is(err, problem.ErrNotFound) && email == demoSecureCentral {
			continue
		}
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
