package notify

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/database"
)

// digestJob names the daily digest in job_runs.
const digestJob = "email_digest"

// maxDigestItems is how many notifications one digest lists; it says how many more there were.
const maxDigestItems = 50

// digestItem is one notification taken for a digest, with its recipient.
type digestItem struct {
	ID        int64     `bun:"id"`
	UserID    int64     `bun:"user_id"`
	Title     string    `bun:"title"`
	Body      string    `bun:"body"`
	Link      string    `bun:"link"`
	CreatedAt time.Time `bun:"created_at"`
	Email     string    `bun:"email"`
	Name      string    `bun:"name"`
	Active    bool      `bun:"active"`
	Access    int16     `bun:"access_level"`
}

// takeDigestSQL clears every digest mark, in one statement, and returns what was marked with its
// recipient. A disabled user's marks are cleared and nothing is emailed to them. A notification queued
// while this runs keeps its mark for the next digest.
const takeDigestSQL = `
UPDATE notifications AS n SET digest_pending = false, emailed = (u.status = 'active')
FROM users AS u
WHERE u.id = n.user_id AND n.digest_pending
RETURNING n.user_id, n.title, n.body, n.link, n.created_at, n.id, u.email, u.name, u.status = 'active' AS active, n.access_level`

// insertDigestsSQL writes the digest emails to the outbox in one statement.
const insertDigestsSQL = `
INSERT INTO email_outbox (user_id, to_address, to_name, subject, body_text, link, created_at, next_attempt_at, access_level)
SELECT user_id, to_address, to_name, subject, body_text, '/notifications', ?, ?, access_level
FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::smallint[]) AS d (user_id, to_address, to_name, subject, body_text, access_level)`

// RunDigest sends the daily digest of day (its date in its own location), once across every portal
// instance however often it is called: each user with notifications waiting for a digest gets one email
// listing them, and their marks are cleared. The emails go to the outbox, in the same transaction as
// the claim of the day's run and the clearing of the marks. It returns how many emails it wrote: 0
// when the day's digest had already run.
func (s *Sender) RunDigest(ctx context.Context, day time.Time) (int, error) {
	period := day.Format(time.DateOnly)
	now := s.now().UTC().Truncate(time.Microsecond)
	written := 0
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		// A second instance waits here until the first commits, then finds the row and does nothing.
		res, err := tx.NewRaw("INSERT INTO job_runs (name, period, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			digestJob, period, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("claim the run: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("claim the run: %w", err)
		} else if n == 0 {
			return nil
		}
		var items []digestItem
		if err := tx.NewRaw(takeDigestSQL).Scan(ctx, &items); err != nil {
			return fmt.Errorf("take waiting notifications: %w", err)
		}
		var users []int64
		var addresses, names, subjects, bodies []string
		var levels []int16 // a digest needs the most access any of its items needs
		for _, group := range byUser(items) {
			first := group[0]
			if !first.Active {
				continue
			}
			users, addresses, names = append(users, first.UserID), append(addresses, first.Email), append(names, first.Name)
			subjects = append(subjects, digestSubject(len(group)))
			bodies = append(bodies, s.digestBody(group))
			level := int16(0)
			for _, it := range group {
				level = max(level, it.Access)
			}
			levels = append(levels, level)
		}
		if len(users) == 0 {
			return nil
		}
		if _, err := tx.NewRaw(insertDigestsSQL, now, now,
			pgdialect.Array(users), pgdialect.Array(addresses), pgdialect.Array(names),
			pgdialect.Array(subjects), pgdialect.Array(bodies), pgdialect.Array(levels)).Exec(ctx); err != nil {
			return fmt.Errorf("write digest emails: %w", err)
		}
		written = len(users)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("daily digest of %s: %w", period, err)
	}
	return written, nil
}

// byUser groups items by user, in order of user and then of when each was queued.
func byUser(items []digestItem) [][]digestItem {
	slices.SortFunc(items, func(a, b digestItem) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	var groups [][]digestItem
	for i, it := range items {
		if i == 0 || it.UserID != items[i-1].UserID {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], it)
	}
	return groups
}

func digestSubject(n int) string {
	if n == 1 {
		return "Your daily summary: 1 update from the ESR Enhancement Portal"
	}
	return fmt.Sprintf("Your daily summary: %d updates from the ESR Enhancement Portal", n)
}

// digestBody lists a user's notifications, oldest first, each with its time and link.
func (s *Sender) digestBody(items []digestItem) string {
	var b strings.Builder
	b.WriteString("Here is what happened in the ESR Enhancement Portal that you asked to hear about once a day.\n")
	for i, it := range items {
		if i == maxDigestItems {
			fmt.Fprintf(&b, "\nAnd %d more.\n", len(items)-maxDigestItems)
			break
		}
		fmt.Fprintf(&b, "\n%s\n%s\n", it.Title, it.CreatedAt.In(s.london).Format("2 January 2006 at 3:04pm"))
		if body := strings.TrimSpace(it.Body); body != "" {
			b.WriteString(body)
			b.WriteString("\n")
		}
		if it.Link != "" {
			fmt.Fprintf(&b, "%s%s\n", s.baseURL, it.Link)
		}
	}
	return b.String()
}
