package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
)

// AccessReviews opens the current period's access reviews (as the running portal does) and, in the
// demo requester's organisation, has its access approver confirm the requester, so the demo shows a
// review under way. Run again, it changes nothing.
func AccessReviews(ctx context.Context, db *bun.DB, now time.Time, months int) error {
	if _, err := identity.OpenReviews(ctx, db, now, london, identity.DefaultReviewPolicy(months)); err != nil {
		return err
	}
	org, err := organisation.GetByODS(ctx, db, "ZLN01")
	if err != nil {
		return err
	}
	approver, err := identity.GetByEmail(ctx, db, "approver@demo.esr-portal.example")
	if err != nil {
		return err
	}
	requester, err := identity.GetByEmail(ctx, db, "requester@demo.esr-portal.example")
	if err != nil {
		return err
	}
	var e struct {
		ReviewID int64  `bun:"review_id"`
		Decision string `bun:"decision"`
		Version  int    `bun:"version"`
	}
	if err := db.NewRaw(`SELECT e.review_id, e.decision, e.version FROM access_review_entries AS e JOIN access_reviews AS ar ON ar.id = e.review_id
		WHERE ar.organisation_id = ? AND ar.period = ? AND e.user_id = ?`, org.ID, identity.ReviewPeriod(now.In(london), months), requester.ID).Scan(ctx, &e); err != nil {
		return fmt.Errorf("seed access review: %w", err)
	}
	if e.Decision != "" {
		return nil
	}
	return identity.MarkPerson(ctx, db, System, approver, now, e.ReviewID, identity.Mark{UserID: requester.ID, Version: e.Version,
		Decision: identity.ReviewKeep, Reason: "Raises the trust's ESR enhancement requests"})
}
