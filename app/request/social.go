package request

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

func follow(ctx context.Context, tx bun.IDB, requestID, userID int64, now time.Time) error {
	if _, err := database.ExecPrepared(ctx, tx, "INSERT INTO request_followers (request_id, user_id, created_at) VALUES (?0, ?1, ?2) ON CONFLICT DO NOTHING",
		requestID, userID, now); err != nil {
		return fmt.Errorf("follow request %d: %w", requestID, err)
	}
	return nil
}

// IsFollowing reports whether a user follows a request.
func IsFollowing(ctx context.Context, db bun.IDB, requestID, userID int64) (bool, error) {
	ok, err := db.NewSelect().Table("request_followers").Where("request_id = ? AND user_id = ?", requestID, userID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read follower: %w", err)
	}
	return ok, nil
}

// SetFollowing makes the viewer follow or stop following a request they may see in full, with its
// audit event in the same transaction. Following a request already followed (or leaving one not
// followed) changes nothing and records nothing.
func SetFollowing(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, on bool) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockByReference(ctx, tx, reference)
		if err != nil {
			return err
		}
		if v.AccessTo(r) < AccessFull {
			return fmt.Errorf("follow %s: %w", reference, problem.ErrNotFound)
		}
		var res sql.Result
		action := "request.followed"
		if on {
			res, err = tx.NewRaw("INSERT INTO request_followers (request_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
				r.ID, v.UserID, now).Exec(ctx)
		} else {
			action = "request.unfollowed"
			res, err = tx.NewDelete().Table("request_followers").Where("request_id = ? AND user_id = ?", r.ID, v.UserID).Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", action, reference, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("%s %s: %w", action, reference, err)
		} else if n == 0 {
			return nil
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: action, EntityType: "request", EntityID: r.Reference,
			After: map[string]any{"user_id": v.UserID}})
	})
}

var mentionPattern = regexp.MustCompile(`@([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})`)

// Mentions returns the email addresses @mentioned in a comment, in order, without repeats.
func Mentions(body string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range mentionPattern.FindAllStringSubmatch(body, -1) {
		e := strings.ToLower(strings.TrimRight(m[1], "."))
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// AddComment adds a shared or internal comment. Shared comments need full access; internal ones need
// internal access. Followers who may read it are told, and so is everyone @mentioned by email address
// who may read it (they then follow the request). The author follows the request.
func AddComment(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference, body string, internal bool) error {
	body = strings.TrimSpace(body)
	if body == "" {
		return &RuleError{Field: "body", Message: "Enter your comment"}
	}
	if len(body) > 5000 {
		return &RuleError{Field: "body", Message: "Your comment must be 5000 characters or fewer"}
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockByReference(ctx, tx, reference)
		if err != nil {
			return err
		}
		access := v.AccessTo(r)
		if access < AccessFull {
			return fmt.Errorf("comment on %s: %w", reference, problem.ErrNotFound)
		}
		if internal && access < AccessInternal {
			return fmt.Errorf("internal comment on %s: %w", reference, problem.ErrForbidden)
		}
		c := &Comment{RequestID: r.ID, AuthorID: v.UserID, Body: body, Internal: internal, CreatedAt: now}
		if _, err := tx.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("add comment: %w", err)
		}
		if err := follow(ctx, tx, r.ID, v.UserID, now); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "request.commented", EntityType: "request", EntityID: r.Reference,
			After: map[string]any{"comment_id": c.ID, "internal": internal},
		}); err != nil {
			return err
		}
		level := AccessFull
		if internal {
			level = AccessInternal
		}
		mentioned, err := mentionedReaders(ctx, tx, r, Mentions(body), level)
		if err != nil {
			return err
		}
		for _, id := range mentioned {
			if err := follow(ctx, tx, r.ID, id, now); err != nil {
				return err
			}
		}
		kind := "comment"
		if internal {
			kind = "internal note"
		}
		actor := v.person()
		if err := Tell(ctx, tx, now, r, actor, mentioned, News{Event: notify.EventMention,
			Title: "%[2]s mentioned you on %[1]s", Detail: body, DetailLevel: level, MinLevel: level}); err != nil {
			return err
		}
		told := map[int64]bool{}
		for _, id := range mentioned {
			told[id] = true
		}
		return tellFollowers(ctx, tx, now, r, actor, 0, level, told, News{Event: notify.EventComment,
			Title: "New " + kind + " on %[1]s from %[2]s", Detail: body, DetailLevel: level, MinLevel: level})
	})
}

func mentionedReaders(ctx context.Context, tx bun.IDB, r *Request, emails []string, level Access) ([]int64, error) {
	if len(emails) == 0 {
		return nil, nil
	}
	var ids []int64
	q := tx.NewSelect().TableExpr("users AS u").Column("u.id").Where("u.status = 'active'").Where("lower(u.email) IN (?)", bun.List(emails))
	if err := readers(q, r, level).Order("u.id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find mentioned users: %w", err)
	}
	return ids, nil
}

// followersWhoMayRead lists the active followers of r with at least level of access to it.
func followersWhoMayRead(ctx context.Context, tx bun.IDB, r *Request, level Access) ([]int64, error) {
	rs, err := followingReaders(ctx, tx, r, level, 0, time.Time{})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rs))
	for i, rc := range rs {
		ids[i] = rc.ID
	}
	return ids, nil
}

// Supporter is an organisation that supports a request.
type Supporter struct {
	OrganisationID   int64     `bun:"organisation_id" json:"organisation_id"`
	OrganisationName string    `bun:"organisation_name" json:"organisation_name"`
	RegionName       string    `bun:"region_name" json:"region_name"`
	Note             string    `bun:"note" json:"note"`
	CreatedAt        time.Time `bun:"created_at" json:"created_at"`
}

// Supporters lists the organisations that support a request, by name. It names organisations, never
// people.
func Supporters(ctx context.Context, db bun.IDB, requestID int64) ([]Supporter, error) {
	var out []Supporter
	err := db.NewSelect().TableExpr("request_supports AS s").
		ColumnExpr("s.organisation_id, o.name AS organisation_name, rg.name AS region_name, s.note, s.created_at").
		Join("JOIN organisations AS o ON o.id = s.organisation_id").
		Join("JOIN regions AS rg ON rg.id = o.region_id").
		Where("s.request_id = ?", requestID).Order("o.name").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("list supporters: %w", err)
	}
	return out, nil
}

// Support adds the viewer's organisation's support to a request that triage accepted, with an optional
// note on its local impact. An organisation supports a request once, and never its own.
func Support(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference, note string) error {
	note = strings.TrimSpace(note)
	if len(note) > 2000 {
		return &RuleError{Field: "note", Message: "Your note must be 2000 characters or fewer"}
	}
	if !v.Has(identity.RoleRequester) && !v.Has(identity.RoleNSIGMember) {
		return fmt.Errorf("support %s: %w", reference, problem.ErrForbidden)
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockByReference(ctx, tx, reference)
		if err != nil {
			return err
		}
		if v.AccessTo(r) == AccessNone {
			return fmt.Errorf("support %s: %w", reference, problem.ErrNotFound)
		}
		if r.OrganisationID == v.OrganisationID {
			return &RuleError{Field: "note", Message: "Your organisation raised this request, so it already counts as supporting it"}
		}
		if r.Kind != KindEnhancement || !r.Accepted || r.Status.Closed() {
			return &RuleError{Field: "note", Message: "Only open requests that triage has accepted as enhancements can be supported"}
		}
		res, err := tx.NewRaw(`INSERT INTO request_supports (request_id, organisation_id, user_id, note, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, r.ID, v.OrganisationID, v.UserID, note, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("add support: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &RuleError{Field: "note", Message: "Your organisation already supports this request"}
		}
		if err := follow(ctx, tx, r.ID, v.UserID, now); err != nil {
			return err
		}
		var orgName string
		if err := tx.NewSelect().Table("organisations").Column("name").Where("id = ?", v.OrganisationID).Scan(ctx, &orgName); err != nil {
			return fmt.Errorf("read organisation: %w", err)
		}
		if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, Kind: "supported", ActorName: orgName,
			Summary: orgName + " added its support.", Detail: note}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "request.supported", EntityType: "request", EntityID: r.Reference,
			After: map[string]any{"organisation_id": v.OrganisationID},
		})
	})
	if err != nil {
		return fmt.Errorf("support %s: %w", reference, err)
	}
	return nil
}

// Assign sets who triages a request and which NSIG reviews it (central team only), checking the
// form's version.
func Assign(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, version int, assigneeID, nsigID int64) error {
	if !v.Has(identity.RoleCentralTeam) {
		return fmt.Errorf("assign %s: %w", reference, problem.ErrForbidden)
	}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockByReference(ctx, tx, reference)
		if err != nil {
			return err
		}
		if r.Version != version {
			return fmt.Errorf("request %s changed: %w", reference, problem.ErrConflict)
		}
		if assigneeID != 0 {
			ok, err := tx.NewSelect().TableExpr("users AS u").Join("JOIN user_roles AS ur ON ur.user_id = u.id AND ur.role = ?", identity.RoleCentralTeam).
				Where("u.id = ? AND u.status = 'active'", assigneeID).Exists(ctx)
			if err != nil {
				return fmt.Errorf("check triager: %w", err)
			}
			if !ok {
				return &RuleError{Field: "assignee_id", Message: "Select a member of the central team"}
			}
		}
		var nsigName string
		if nsigID != 0 {
			if err := tx.NewSelect().Table("nsigs").Column("name").Where("id = ?", nsigID).Scan(ctx, &nsigName); err != nil {
				return &RuleError{Field: "nsig_id", Message: "Select an NSIG from the list"}
			}
		}
		if _, err := tx.NewUpdate().Table("requests").Where("id = ?", r.ID).
			Set("assignee_id = ?", database.NullID(assigneeID)).Set("nsig_id = ?", database.NullID(nsigID)).
			Set("version = version + 1").Set("updated_at = ?", now).Exec(ctx); err != nil {
			return fmt.Errorf("assign %s: %w", reference, err)
		}
		if nsigID != r.NSIGID {
			summary := "No NSIG is reviewing it now."
			if nsigID != 0 {
				summary = "Assigned to the " + nsigName + " NSIG for review."
			}
			if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
				Kind: "nsig_assigned", Summary: summary}); err != nil {
				return err
			}
		}
		if assigneeID != r.AssigneeID {
			if assigneeID != 0 {
				if err := follow(ctx, tx, r.ID, assigneeID, now); err != nil {
					return err
				}
			}
			if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
				Kind: "triager_assigned", Summary: "Triager changed.", Internal: true}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "request.assigned", EntityType: "request", EntityID: r.Reference,
			Before: map[string]any{"assignee_id": r.AssigneeID, "nsig_id": r.NSIGID},
			After:  map[string]any{"assignee_id": assigneeID, "nsig_id": nsigID},
		})
	})
	if err != nil {
		return fmt.Errorf("assign %s: %w", reference, err)
	}
	return nil
}
