package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

// Access reviews. Every ReviewPolicy.Months months (from January) the portal opens one review for each
// organisation with people who hold access; its access approver (failing one, its region's functional
// account manager; for people holding an elevated role, an administrator) marks each person "still
// needed" or "remove", then signs the review off as a whole. A review not signed off by its due date is
// escalated to the administrators once; SuspendAfter later, everyone it has not confirmed is suspended
// until someone confirms them.

// Decisions on a person in an access review.
const (
	ReviewKeep   = "keep"
	ReviewRemove = "remove"
)

// Errors of access reviews.
var (
	ErrReviewSignedOff  = errors.New("the access review has been signed off already")
	ErrReviewIncomplete = errors.New("every person must be marked before the review is signed off")
	ErrReviewRemoved    = errors.New("their access has been removed already; to give it back, ask an administrator")
	ErrNationalRoles    = errors.New("people holding a national role are reviewed by an administrator")
)

// ReviewPolicy is when reviews open, fall due and lead to suspension.
type ReviewPolicy struct {
	Months       int           // a review opens every this many months (6: January and July)
	DueAfter     time.Duration // a review is due this long after it opens, then escalated (30 days)
	SuspendAfter time.Duration // this long after the due date, unconfirmed people are suspended (14 days)
}

// DefaultReviewPolicy is a review every six months, due in 30 days, suspension 14 days after that.
func DefaultReviewPolicy(months int) ReviewPolicy {
	if months <= 0 {
		months = 6
	}
	return ReviewPolicy{Months: months, DueAfter: 30 * 24 * time.Hour, SuspendAfter: 14 * 24 * time.Hour}
}

// ReviewPeriod names the review period that day (a London date) falls in: the first month of the
// period, as YYYY-MM. Periods start in January and every months months after.
func ReviewPeriod(day time.Time, months int) string {
	if months <= 0 || months > 12 {
		months = 6
	}
	m := (int(day.Month()) - 1) / months * months
	return fmt.Sprintf("%04d-%02d", day.Year(), m+1)
}

// Attestation is what a reviewer states when signing a review off, recorded with who and when.
const Attestation = "I have reviewed the access of every person listed. Everyone marked still needed needs the access they hold for their work, and the access of everyone marked remove has been ended."

// Review is one organisation's access review for a period.
type Review struct {
	bun.BaseModel `bun:"table:access_reviews,alias:ar"`

	ID             int64     `bun:"id,pk,autoincrement"`
	OrganisationID int64     `bun:"organisation_id"`
	Period         string    `bun:"period"`
	OpenedAt       time.Time `bun:"opened_at"`
	DueAt          time.Time `bun:"due_at"`
	EscalatedAt    time.Time `bun:"escalated_at,nullzero"`
	SignedOffAt    time.Time `bun:"signed_off_at,nullzero"`
	SignedOffBy    int64     `bun:"signed_off_by,nullzero"`
	Attestation    string    `bun:"attestation"`
	Version        int       `bun:"version"`

	OrganisationName string `bun:"organisation_name,scanonly"`
	OrganisationODS  string `bun:"organisation_ods,scanonly"`
	RegionID         int16  `bun:"region_id,scanonly"`
	RegionName       string `bun:"region_name,scanonly"`
	SignedOffByName  string `bun:"signed_off_by_name,scanonly"`
	// HasApprover says the organisation has an active access approver (else its region's FAM reviews).
	HasApprover bool `bun:"has_approver,scanonly"`
	People      int  `bun:"people,scanonly"`
	Marked      int  `bun:"marked,scanonly"`
	Removed     int  `bun:"removed,scanonly"`
}

// Complete reports whether the review has been signed off.
func (r *Review) Complete() bool { return !r.SignedOffAt.IsZero() }

// Overdue reports whether the review is open past its due date at now.
func (r *Review) Overdue(now time.Time) bool { return !r.Complete() && !now.Before(r.DueAt) }

// State is the review's state in words: "Completed", "Overdue" or "Open".
func (r *Review) State(now time.Time) string {
	switch {
	case r.Complete():
		return "Completed"
	case r.Overdue(now):
		return "Overdue"
	}
	return "Open"
}

// PeriodLabel is the period in words, e.g. "July 2026".
func (r *Review) PeriodLabel() string {
	t, err := time.Parse("2006-01", r.Period)
	if err != nil {
		return r.Period
	}
	return t.Format("January 2006")
}

func selectReviews(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).ColumnExpr("ar.*").
		ColumnExpr("o.name AS organisation_name, o.ods_code AS organisation_ods, rg.id AS region_id, rg.name AS region_name").
		ColumnExpr("coalesce(sb.name, '') AS signed_off_by_name").
		ColumnExpr(`EXISTS (SELECT 1 FROM users AS ap JOIN user_roles AS apr ON apr.user_id = ap.id AND apr.role = ?
			WHERE ap.organisation_id = ar.organisation_id AND ap.status = 'active') AS has_approver`, RoleAccessApprover).
		ColumnExpr("(SELECT count(*) FROM access_review_entries AS e WHERE e.review_id = ar.id) AS people").
		ColumnExpr("(SELECT count(*) FROM access_review_entries AS e WHERE e.review_id = ar.id AND e.decision <> '') AS marked").
		ColumnExpr("(SELECT count(*) FROM access_review_entries AS e WHERE e.review_id = ar.id AND e.decision = 'remove') AS removed").
		Join("JOIN organisations AS o ON o.id = ar.organisation_id").
		Join("JOIN regions AS rg ON rg.id = o.region_id").
		Join("LEFT JOIN users AS sb ON sb.id = ar.signed_off_by")
}

// GetReview returns one access review with its organisation and counts.
func GetReview(ctx context.Context, db bun.IDB, id int64) (*Review, error) {
	r := new(Review)
	err := selectReviews(db, r).Where("ar.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("access review %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get access review %d: %w", id, err)
	}
	return r, nil
}

// MayReview reports whether u may read and work on review r: an administrator any; an access approver
// their own organisation's; a functional account manager those of their region's organisations that
// have no active access approver. Anyone else is told it is not found.
func MayReview(u *User, r *Review) error {
	switch {
	case u.HasRole(RoleAdmin):
		return nil
	case u.HasRole(RoleAccessApprover) && u.OrganisationID == r.OrganisationID:
		return nil
	case u.HasRole(RoleFunctionalAccountManager) && u.RegionID == r.RegionID && !r.HasApprover:
		return nil
	}
	return fmt.Errorf("access review %d: %w", r.ID, problem.ErrNotFound)
}

// ReviewsFor returns the reviews u may work on (see MayReview), the open ones first, newest first.
func ReviewsFor(ctx context.Context, db bun.IDB, u *User) ([]Review, error) {
	var rs []Review
	q := selectReviews(db, &rs)
	if !u.HasRole(RoleAdmin) {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("false")
			if u.HasRole(RoleAccessApprover) {
				q = q.WhereOr("ar.organisation_id = ?", u.OrganisationID)
			}
			if u.HasRole(RoleFunctionalAccountManager) {
				q = q.WhereOr(`o.region_id = ? AND NOT EXISTS (SELECT 1 FROM users AS ap JOIN user_roles AS apr ON apr.user_id = ap.id AND apr.role = ?
					WHERE ap.organisation_id = ar.organisation_id AND ap.status = 'active')`, u.RegionID, RoleAccessApprover)
			}
			return q
		})
	}
	if err := q.OrderExpr("ar.signed_off_at IS NOT NULL, ar.opened_at DESC, o.name, ar.id").Limit(500).Scan(ctx); err != nil {
		return nil, fmt.Errorf("access reviews: %w", err)
	}
	return rs, nil
}

// ReviewEntry is one person in an access review.
type ReviewEntry struct {
	bun.BaseModel `bun:"table:access_review_entries,alias:e"`

	ReviewID    int64     `bun:"review_id,pk"`
	UserID      int64     `bun:"user_id,pk"`
	Roles       []string  `bun:"roles,array"`
	Decision    string    `bun:"decision"`
	Reason      string    `bun:"reason"`
	DecidedBy   int64     `bun:"decided_by,nullzero"`
	DecidedAt   time.Time `bun:"decided_at,nullzero"`
	SuspendedAt time.Time `bun:"suspended_at,nullzero"`
	Version     int       `bun:"version"`

	UserName     string    `bun:"user_name,scanonly"`
	UserEmail    string    `bun:"user_email,scanonly"`
	UserStatus   string    `bun:"user_status,scanonly"`
	LastSignInAt time.Time `bun:"last_sign_in_at,scanonly"`
	CurrentRoles []string  `bun:"current_roles,array,scanonly"`
	DeciderName  string    `bun:"decider_name,scanonly"`
	// Grants is the person's grant history, the latest first (read by ReviewEntries).
	Grants []Grant `bun:"-"`
}

// National reports whether the person held a role only an administrator reviews.
func (e *ReviewEntry) National() bool {
	return slices.ContainsFunc(e.CurrentRoles, IsElevated) || slices.ContainsFunc(e.Roles, IsElevated)
}

func selectEntries(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).ColumnExpr("e.*").
		ColumnExpr("u.name AS user_name, u.email AS user_email, u.status AS user_status, u.last_sign_in_at").
		ColumnExpr("ARRAY(SELECT ur.role FROM user_roles AS ur JOIN roles AS rl ON rl.name = ur.role WHERE ur.user_id = u.id ORDER BY rl.sort_order) AS current_roles").
		ColumnExpr("coalesce(db.name, '') AS decider_name").
		Join("JOIN users AS u ON u.id = e.user_id").
		Join("LEFT JOIN users AS db ON db.id = e.decided_by")
}

// ReviewEntries returns the people of a review by name, each with their grant history.
func ReviewEntries(ctx context.Context, db bun.IDB, reviewID int64) ([]ReviewEntry, error) {
	var es []ReviewEntry
	if err := selectEntries(db, &es).Where("e.review_id = ?", reviewID).Order("u.name", "u.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("people of access review %d: %w", reviewID, err)
	}
	if len(es) == 0 {
		return es, nil
	}
	var gs []Grant
	if err := selectGrants(db, &gs).Where("g.user_id IN (SELECT user_id FROM access_review_entries WHERE review_id = ?)", reviewID).
		Order("g.created_at DESC", "g.id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("grant histories of access review %d: %w", reviewID, err)
	}
	at := map[int64]int{}
	for i := range es {
		at[es[i].UserID] = i
	}
	for _, g := range gs {
		if i, ok := at[g.UserID]; ok {
			es[i].Grants = append(es[i].Grants, g)
		}
	}
	return es, nil
}

// OpenReviews opens the period's review for every organisation (not merged into another) with people
// who hold access (active or suspended), listing each of them with their roles, and tells the
// reviewers. Every instance may run it, as often as it likes: an organisation whose review is open
// already is passed over, and an instance inserting the same review at the same moment waits for the
// other and then finds it there (the unique key), so each is opened once. It returns how many it opened.
func OpenReviews(ctx context.Context, db *bun.DB, now time.Time, london *time.Location, policy ReviewPolicy) (int, error) {
	period := ReviewPeriod(now.In(london), policy.Months)
	type opened struct {
		ID             int64 `bun:"id"`
		OrganisationID int64 `bun:"organisation_id"`
		People         int   `bun:"people"`
	}
	var os []opened
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(`WITH opened AS (
				INSERT INTO access_reviews (organisation_id, period, opened_at, due_at)
				SELECT o.id, ?, ?, ? FROM organisations AS o
				WHERE o.merged_into_id IS NULL
				  AND EXISTS (SELECT 1 FROM users AS u WHERE u.organisation_id = o.id AND u.status IN ('active', 'suspended'))
				  AND NOT EXISTS (SELECT 1 FROM access_reviews AS x WHERE x.organisation_id = o.id AND x.period = ?)
				ORDER BY o.id
				ON CONFLICT (organisation_id, period) DO NOTHING
				RETURNING id, organisation_id
			), entries AS (
				INSERT INTO access_review_entries (review_id, user_id, roles)
				SELECT opened.id, u.id, ARRAY(SELECT ur.role FROM user_roles AS ur JOIN roles AS rl ON rl.name = ur.role WHERE ur.user_id = u.id ORDER BY rl.sort_order)
				FROM opened JOIN users AS u ON u.organisation_id = opened.organisation_id AND u.status IN ('active', 'suspended')
				RETURNING review_id
			)
			SELECT opened.id, opened.organisation_id, (SELECT count(*) FROM entries WHERE entries.review_id = opened.id) AS people
			FROM opened ORDER BY opened.id`,
			period, now, now.Add(policy.DueAfter), period).Scan(ctx, &os); err != nil {
			return fmt.Errorf("open access reviews for %s: %w", period, err)
		}
		var msgs []notify.Message
		for _, o := range os {
			if err := audit.Record(ctx, tx, now, audit.Event{Actor: audit.Actor{Name: "system (access reviews)"}, Action: "access_review.opened",
				EntityType: "access_review", EntityID: fmt.Sprint(o.ID),
				After: map[string]any{"organisation_id": o.OrganisationID, "period": period, "people": o.People, "due_at": now.Add(policy.DueAfter)}}); err != nil {
				return err
			}
			r, err := GetReview(ctx, tx, o.ID)
			if err != nil {
				return err
			}
			ids, err := reviewers(ctx, tx, r)
			if err != nil {
				return err
			}
			for _, id := range ids {
				msgs = append(msgs, notify.Message{UserID: id, Event: notify.EventAccessReview,
					Title: "Review who has access to the portal at " + r.OrganisationName,
					Body: fmt.Sprintf("The access review of %s for %s is open: mark each of its %s still needed or remove, then sign the review off by %s. "+
						"People not confirmed %d days after that are suspended.", r.OrganisationName, r.PeriodLabel(), people(o.People),
						r.DueAt.In(london).Format("2 January 2006"), int(policy.SuspendAfter.Hours()/24)),
					Link: fmt.Sprintf("/access-reviews/%d", r.ID)})
			}
		}
		return notify.Queue(ctx, tx, now, msgs...)
	})
	if err != nil {
		return 0, err
	}
	return len(os), nil
}

// reviewers are the people who review r: its organisation's active access approvers, or failing any,
// its region's active functional account managers.
func reviewers(ctx context.Context, tx bun.IDB, r *Review) ([]int64, error) {
	var ids []int64
	if err := tx.NewRaw(`SELECT u.id FROM users AS u JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?
		WHERE u.status = 'active' AND u.organisation_id = ? ORDER BY u.id`, RoleAccessApprover, r.OrganisationID).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find access approvers: %w", err)
	}
	if len(ids) > 0 {
		return ids, nil
	}
	if err := tx.NewRaw(`SELECT u.id FROM users AS u JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?
		JOIN organisations AS o ON o.id = u.organisation_id
		WHERE u.status = 'active' AND o.region_id = ? ORDER BY u.id`, RoleFunctionalAccountManager, r.RegionID).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find functional account managers: %w", err)
	}
	return ids, nil
}

// admins are the active administrators.
func admins(ctx context.Context, tx bun.IDB) ([]int64, error) {
	var ids []int64
	if err := tx.NewRaw(`SELECT u.id FROM users AS u JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?
		WHERE u.status = 'active' ORDER BY u.id`, RoleAdmin).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find administrators: %w", err)
	}
	return ids, nil
}

// lockReview reads review id for change inside tx, checking decider may work on it and that it is open.
func lockReview(ctx context.Context, tx bun.Tx, decider *User, id int64) (*Review, error) {
	var found int64
	err := tx.NewSelect().Table("access_reviews").Column("id").Where("id = ?", id).For("UPDATE").Scan(ctx, &found)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("access review %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lock access review %d: %w", id, err)
	}
	r, err := GetReview(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := MayReview(decider, r); err != nil {
		return nil, err
	}
	if r.Complete() {
		return nil, ErrReviewSignedOff
	}
	return r, nil
}

// Mark is a reviewer's decision on one person.
type Mark struct {
	UserID   int64
	Version  int // of the person's entry, as the reviewer saw it
	Decision string
	Reason   string
}

// MarkPerson records a reviewer's decision on one person of an open review, if their entry is still at
// m.Version (else problem.ErrConflict), audited in one transaction. "remove" ends their access as
// removing access now does; "keep" of someone the review suspended gives them their access back.
// Nobody marks themselves, and only an administrator marks someone holding an elevated role.
func MarkPerson(ctx context.Context, db *bun.DB, actor audit.Actor, decider *User, now time.Time, reviewID int64, m Mark) error {
	m.Reason = strings.TrimSpace(m.Reason)
	if m.Decision != ReviewKeep && m.Decision != ReviewRemove {
		return fmt.Errorf("mark user %d: unknown decision %q", m.UserID, m.Decision)
	}
	if m.Decision == ReviewRemove && m.Reason == "" {
		return ErrReasonNeeded
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockReview(ctx, tx, decider, reviewID)
		if err != nil {
			return err
		}
		e := new(ReviewEntry)
		err = selectEntries(tx, e).Where("e.review_id = ? AND e.user_id = ?", reviewID, m.UserID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d in access review %d: %w", m.UserID, reviewID, problem.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read user %d in access review %d: %w", m.UserID, reviewID, err)
		}
		switch {
		case e.UserID == decider.ID:
			return ErrOwnGrant
		case e.National() && !decider.HasRole(RoleAdmin):
			return ErrNationalRoles
		case e.Decision == ReviewRemove:
			return ErrReviewRemoved
		}
		res, err := tx.NewUpdate().Table("access_review_entries").Set("decision = ?", m.Decision).Set("reason = ?", m.Reason).
			Set("decided_by = ?", decider.ID).Set("decided_at = ?", now).Set("version = version + 1").
			Where("review_id = ? AND user_id = ? AND version = ?", reviewID, m.UserID, m.Version).Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark user %d: %w", m.UserID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("user %d in access review %d changed meanwhile: %w", m.UserID, reviewID, problem.ErrConflict)
		}
		if _, err := tx.NewUpdate().Table("access_reviews").Set("version = version + 1").Where("id = ?", reviewID).Exec(ctx); err != nil {
			return fmt.Errorf("access review %d: %w", reviewID, err)
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "access_review.marked", EntityType: "access_review", EntityID: fmt.Sprint(reviewID),
			Before: map[string]any{"user_id": m.UserID, "decision": e.Decision, "reason": e.Reason},
			After:  map[string]any{"user_id": m.UserID, "decision": m.Decision, "reason": m.Reason, "roles": e.CurrentRoles}}); err != nil {
			return err
		}
		switch {
		case m.Decision == ReviewRemove:
			return removeAccess(ctx, tx, actor, now, m.UserID, fmt.Sprintf("Access review of %s, %s: %s", r.OrganisationName, r.PeriodLabel(), m.Reason))
		case e.UserStatus == StatusSuspended:
			return reactivate(ctx, tx, actor, now, m.UserID, "Confirmed in the access review of "+r.OrganisationName+", "+r.PeriodLabel())
		}
		return nil
	})
}

// reactivate gives a suspended person their access back inside tx, audited, and tells them.
func reactivate(ctx context.Context, tx bun.Tx, actor audit.Actor, now time.Time, userID int64, why string) error {
	res, err := tx.NewUpdate().Table("users").Set("status = ?", StatusActive).Set("version = version + 1").Set("updated_at = ?", now).
		Where("id = ? AND status = ?", userID, StatusSuspended).Exec(ctx)
	if err != nil {
		return fmt.Errorf("reactivate user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "user.reactivated", EntityType: "user", EntityID: fmt.Sprint(userID),
		Before: map[string]any{"status": StatusSuspended}, After: map[string]any{"status": StatusActive, "reason": why}}); err != nil {
		return err
	}
	return notify.SecurityEmail(ctx, tx, now, userID, "Your access to the ESR Enhancement Portal is back",
		"Your access has been confirmed and you can sign in again. "+why+".", "/")
}

// SignOff signs an open review off, if it is still at version (else problem.ErrConflict) and every
// person in it is marked (else ErrReviewIncomplete), recording the attestation with who and when,
// audited in one transaction.
func SignOff(ctx context.Context, db *bun.DB, actor audit.Actor, decider *User, now time.Time, reviewID int64, version int) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockReview(ctx, tx, decider, reviewID)
		if err != nil {
			return err
		}
		if r.Version != version {
			return fmt.Errorf("access review %d is at version %d, not %d: %w", reviewID, r.Version, version, problem.ErrConflict)
		}
		if r.Marked < r.People {
			return ErrReviewIncomplete
		}
		if _, err := tx.NewUpdate().Table("access_reviews").Set("signed_off_at = ?", now).Set("signed_off_by = ?", decider.ID).
			Set("attestation = ?", Attestation).Set("version = version + 1").Where("id = ? AND version = ?", reviewID, version).Exec(ctx); err != nil {
			return fmt.Errorf("sign off access review %d: %w", reviewID, err)
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "access_review.signed_off", EntityType: "access_review", EntityID: fmt.Sprint(reviewID),
			After: map[string]any{"organisation_id": r.OrganisationID, "period": r.Period, "people": r.People, "removed": r.Removed, "attestation": Attestation}})
	})
}

// EscalateReviews tells the administrators, in the portal and by email, of each review past its due
// date and not signed off, once per review whatever the number of instances (the review's row is
// updated only while it is not yet escalated). It returns how many it escalated.
func EscalateReviews(ctx context.Context, db *bun.DB, now time.Time, london *time.Location, policy ReviewPolicy) (int, error) {
	var ids []int64
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(`UPDATE access_reviews SET escalated_at = ?, version = version + 1
			WHERE signed_off_at IS NULL AND escalated_at IS NULL AND due_at <= ? RETURNING id`, now, now).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("escalate access reviews: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		to, err := admins(ctx, tx)
		if err != nil {
			return err
		}
		var msgs []notify.Message
		for _, id := range ids {
			r, err := GetReview(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, now, audit.Event{Actor: audit.Actor{Name: "system (access reviews)"}, Action: "access_review.escalated",
				EntityType: "access_review", EntityID: fmt.Sprint(id), After: map[string]any{"organisation_id": r.OrganisationID, "period": r.Period,
					"marked": r.Marked, "people": r.People, "administrators_told": len(to)}}); err != nil {
				return err
			}
			for _, a := range to {
				msgs = append(msgs, notify.Message{UserID: a, Event: notify.EventAccessReview,
					Title: "Overdue access review: " + r.OrganisationName,
					Body: fmt.Sprintf("The access review of %s for %s was due on %s and has not been signed off: %d of its %s marked. "+
						"Everyone not confirmed by %s will be suspended.", r.OrganisationName, r.PeriodLabel(), r.DueAt.In(london).Format("2 January 2006"),
						r.Marked, peopleAre(r.People), r.DueAt.Add(policy.SuspendAfter).In(london).Format("2 January 2006")),
					Link: fmt.Sprintf("/access-reviews/%d", id)})
			}
		}
		return notify.Queue(ctx, tx, now, msgs...)
	})
	if err != nil {
		return 0, err
	}
	return len(ids), nil
}

// SuspendUnconfirmed suspends everyone an open review has not confirmed policy.SuspendAfter after its
// due date, once each: their sessions end, it is audited, and they are told by email. Nothing is
// deleted; confirming them in the review, or an administrator re-enabling them, gives access back.
// It returns how many it suspended.
func SuspendUnconfirmed(ctx context.Context, db *bun.DB, now time.Time, policy ReviewPolicy) (int, error) {
	type hit struct {
		ReviewID int64 `bun:"review_id"`
		UserID   int64 `bun:"user_id"`
	}
	var hits []hit
	suspended := 0
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		suspended = 0
		if err := tx.NewRaw(`UPDATE access_review_entries AS e SET suspended_at = ?
			FROM access_reviews AS ar
			WHERE ar.id = e.review_id AND ar.signed_off_at IS NULL AND ar.due_at <= ?
			  AND e.decision = '' AND e.suspended_at IS NULL
			RETURNING e.review_id, e.user_id`, now, now.Add(-policy.SuspendAfter)).Scan(ctx, &hits); err != nil {
			return fmt.Errorf("find people to suspend: %w", err)
		}
		for _, h := range hits {
			var id int64
			err := tx.NewRaw(`UPDATE users SET status = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = ? RETURNING id`,
				StatusSuspended, now, h.UserID, StatusActive).Scan(ctx, &id)
			if errors.Is(err, sql.ErrNoRows) {
				continue // left, disabled or suspended already
			}
			if err != nil {
				return fmt.Errorf("suspend user %d: %w", h.UserID, err)
			}
			suspended++
			ended, err := endSessions(ctx, tx, h.UserID)
			if err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, now, audit.Event{Actor: audit.Actor{Name: "system (access reviews)"}, Action: "user.suspended",
				EntityType: "user", EntityID: fmt.Sprint(h.UserID), Before: map[string]any{"status": StatusActive},
				After: map[string]any{"status": StatusSuspended, "access_review_id": h.ReviewID, "devices_signed_out": ended}}); err != nil {
				return err
			}
			if err := notify.SecurityEmail(ctx, tx, now, h.UserID, "Your access to the ESR Enhancement Portal is suspended",
				"Your organisation's access review did not confirm that you still need access to the portal, so your account is suspended. "+
					"Nothing you wrote has been removed. Ask your organisation's access approver to confirm you in the review, or ask an administrator.", "/"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return suspended, nil
}

// Holding is one role one person holds (or a person with no role, Role ""), for the report of who
// holds which role where.
type Holding struct {
	OrganisationName string    `bun:"organisation_name"`
	OrganisationODS  string    `bun:"organisation_ods"`
	RegionName       string    `bun:"region_name"`
	UserName         string    `bun:"user_name"`
	UserEmail        string    `bun:"user_email"`
	Status           string    `bun:"status"`
	Role             string    `bun:"role"`
	GrantedAt        time.Time `bun:"granted_at,nullzero"`
	LastSignInAt     time.Time `bun:"last_sign_in_at,nullzero"`
	LastReviewed     time.Time `bun:"last_reviewed,nullzero"`
}

// Holdings returns who holds which role where, by organisation, person and role: the people of one
// organisation, or of every organisation when organisationID is 0. People whose access has ended are
// left out.
func Holdings(ctx context.Context, db bun.IDB, organisationID int64) ([]Holding, error) {
	var hs []Holding
	q := db.NewSelect().TableExpr("users AS u").
		ColumnExpr("o.name AS organisation_name, o.ods_code AS organisation_ods, rg.name AS region_name").
		ColumnExpr("u.name AS user_name, u.email AS user_email, u.status, coalesce(ur.role, '') AS role, ur.granted_at, u.last_sign_in_at").
		ColumnExpr(`(SELECT max(e.decided_at) FROM access_review_entries AS e WHERE e.user_id = u.id AND e.decision = 'keep') AS last_reviewed`).
		Join("JOIN organisations AS o ON o.id = u.organisation_id").
		Join("JOIN regions AS rg ON rg.id = o.region_id").
		Join("LEFT JOIN user_roles AS ur ON ur.user_id = u.id").
		Join("LEFT JOIN roles AS rl ON rl.name = ur.role").
		Where("u.status <> ?", StatusLeft)
	if organisationID != 0 {
		q = q.Where("u.organisation_id = ?", organisationID)
	}
	if err := q.OrderExpr("o.name, u.name, u.id, rl.sort_order").Scan(ctx, &hs); err != nil {
		return nil, fmt.Errorf("who holds which role: %w", err)
	}
	return hs, nil
}

// people counts people in words: "1 person", "3 people".
func people(n int) string {
	if n == 1 {
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}

// peopleAre is people with its verb: "1 person is", "3 people are".
func peopleAre(n int) string {
	if n == 1 {
		return "1 person is"
	}
	return people(n) + " are"
}

// MarkedText says how many of a review's people are marked: "0 of 1 person marked".
func (r Review) MarkedText() string {
	return fmt.Sprintf("%d of %s marked", r.Marked, people(r.People))
}
