package request

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/problem"
)

// The public summary is what every NHS organisation reads of an accepted request (DESIGN §1): a short
// "what this asks for", written (or confirmed) by the central team when triage accepts the request.
// It must say what the change is without saying who asked: no email addresses, no phone numbers.

// MaxPublicSummary is the most characters a public summary may have.
const MaxPublicSummary = 600

var (
	emailPattern = regexp.MustCompile(`[^\s@<>()]+@[^\s@<>()]+\.[A-Za-z]{2,}`)
	// A phone number: 9 or more digits, perhaps after a + and with spaces, dots, dashes or brackets
	// between them (01632 960 123, +44 (0)20 7946 0123, 07700-900-123).
	phonePattern = regexp.MustCompile(`\+?\(?\d(?:[\s().-]*\d){8,}`)
)

// CheckPublicSummary returns a RuleError on field when s cannot be a public summary.
func CheckPublicSummary(field, s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return &RuleError{Field: field, Message: "Enter what the request asks for, for other organisations to read"}
	case utf8.RuneCountInString(s) > MaxPublicSummary:
		return &RuleError{Field: field, Message: fmt.Sprintf("The summary must be %d characters or fewer", MaxPublicSummary)}
	case emailPattern.MatchString(s):
		return &RuleError{Field: field, Message: "Remove the email address: every NHS organisation reads the summary"}
	case phonePattern.MatchString(s):
		return &RuleError{Field: field, Message: "Remove the phone number: every NHS organisation reads the summary"}
	}
	return nil
}

// SuggestSummary is a first draft of a request's public summary for the central team to check: the
// opening of what the requester asked to change, without email addresses or phone numbers.
func SuggestSummary(proposal string) string {
	s := strings.Join(strings.Fields(proposal), " ")
	s = emailPattern.ReplaceAllString(s, "")
	s = phonePattern.ReplaceAllString(s, "")
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= 300 {
		return s
	}
	// Cut at the last full stop in the first 300 characters, or at a word.
	r := []rune(s)[:300]
	cut := string(r)
	if i := strings.LastIndex(cut, ". "); i > 100 {
		return cut[:i+1]
	}
	if i := strings.LastIndex(cut, " "); i > 0 {
		cut = cut[:i]
	}
	return cut + "…"
}

// SummaryOf is what the summary shows for a request: its public summary, or its title until one is
// written.
func (r *Request) SummaryOf() string {
	if s := strings.TrimSpace(r.PublicSummary); s != "" {
		return s
	}
	return r.Title
}

// setPublicSummary writes the public summary of r and rebuilds its summary search document.
func setPublicSummary(ctx context.Context, tx bun.IDB, r *Request, summary string) error {
	if _, err := tx.NewUpdate().Table("requests").Set("public_summary = ?", strings.TrimSpace(summary)).Where("id = ?", r.ID).Exec(ctx); err != nil {
		return fmt.Errorf("set the public summary of %s: %w", r.Reference, err)
	}
	return indexSummary(ctx, tx, "r.id = ?", r.ID)
}

// EditPublicSummary lets the central team change the public summary of a request triage accepted, in
// one transaction with its timeline entry and audit event. A form made from an older version of the
// request is problem.ErrConflict.
func EditPublicSummary(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, version int, summary string) (*Request, error) {
	if !v.Has(identity.RoleCentralTeam) {
		return nil, fmt.Errorf("edit the summary of %s: %w", reference, problem.ErrForbidden)
	}
	if err := CheckPublicSummary("summary", summary); err != nil {
		return nil, err
	}
	var out *Request
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockByReference(ctx, tx, reference)
		if err != nil {
			return err
		}
		if !r.Accepted {
			return &RuleError{Field: "summary", Message: "Only a request triage has accepted has a public summary"}
		}
		if r.Version != version {
			return fmt.Errorf("request %s is at version %d, the form was made from %d: %w", reference, r.Version, version, problem.ErrConflict)
		}
		before := r.PublicSummary
		if err := setPublicSummary(ctx, tx, r, summary); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Table("requests").Set("version = version + 1").Set("updated_at = ?", now).Where("id = ?", r.ID).Exec(ctx); err != nil {
			return fmt.Errorf("update request %s: %w", reference, err)
		}
		if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name, Kind: "summary_changed",
			Summary: "The summary other organisations read was changed.", Detail: strings.TrimSpace(summary)}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "request.summary_changed", EntityType: "request", EntityID: r.Reference,
			Before: map[string]any{"length": utf8.RuneCountInString(before)}, After: map[string]any{"length": utf8.RuneCountInString(strings.TrimSpace(summary))}}); err != nil {
			return err
		}
		r.PublicSummary, r.Version = strings.TrimSpace(summary), r.Version+1
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
