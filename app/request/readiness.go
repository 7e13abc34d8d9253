package request

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// RequirementAgreed reports whether both the requester and the development team have agreed the
// latest version of a request's requirement definition.
func RequirementAgreed(ctx context.Context, db bun.IDB, requestID int64) (bool, error) {
	var n int
	err := db.NewRaw(`SELECT count(*) FROM requirement_agreements AS a
		WHERE a.request_id = ? AND a.version = (SELECT max(version) FROM requirement_versions WHERE request_id = ?)`,
		requestID, requestID).Scan(ctx, &n)
	if err != nil {
		return false, fmt.Errorf("read agreement of request %d: %w", requestID, err)
	}
	return n == 2, nil
}

// JustificationSubmitted reports whether a request's business justification has been submitted as
// complete.
func JustificationSubmitted(ctx context.Context, db bun.IDB, requestID int64) (bool, error) {
	ok, err := db.NewSelect().Table("business_justifications").Where("request_id = ? AND submitted_at IS NOT NULL", requestID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read justification of request %d: %w", requestID, err)
	}
	return ok, nil
}
