package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/problem"
)

// Transports an email can be sent by.
const (
	TransportSMTP  = "smtp"  // delivered to the SMTP server
	TransportLocal = "local" // SMTP is not configured: kept for administrators to read in the mail view
)

// OutboxEmail is one email, waiting or sent.
type OutboxEmail struct {
	bun.BaseModel `bun:"table:email_outbox,alias:eo"`

	ID            int64     `bun:"id,pk,autoincrement"`
	UserID        int64     `bun:"user_id,nullzero"`
	ToAddress     string    `bun:"to_address"`
	ToName        string    `bun:"to_name"`
	Subject       string    `bun:"subject"`
	BodyText      string    `bun:"body_text"` // the message; Text adds the greeting, the link and the footer
	Link          string    `bun:"link"`      // a path in the portal
	MessageID     string    `bun:"message_id"`
	CreatedAt     time.Time `bun:"created_at"`
	Attempts      int       `bun:"attempts"`
	NextAttemptAt time.Time `bun:"next_attempt_at"`
	ClaimedUntil  time.Time `bun:"claimed_until,nullzero"`
	ClaimToken    string    `bun:"claim_token,nullzero"` // whose claim ClaimedUntil is
	SentAt        time.Time `bun:"sent_at,nullzero"`
	Transport     string    `bun:"transport,nullzero"`
	SentFrom      string    `bun:"sent_from"`
	LastError     string    `bun:"last_error"`
	RequestID     int64     `bun:"request_id,nullzero"` // the request the email is about, if one
	Access        int       `bun:"access_level"`        // the access to it the email's words need (see Message.Access)
	Actions       []Action  `bun:"actions,type:jsonb"`  // what it lets its recipient do (see Message.Actions)
	// Level is the level it went out at, LevelAction or LevelSummary; "" until it is sent.
	Level string `bun:"email_level,nullzero"`
}

// Sent reports whether the email has been sent (or, without SMTP, kept as sent).
func (e *OutboxEmail) Sent() bool { return !e.SentAt.IsZero() }

// GaveUp reports whether the sender has stopped trying to send the email.
func (e *OutboxEmail) GaveUp() bool { return !e.Sent() && e.Attempts >= maxAttempts }

// MessageIDHeader is the email's Message-ID header, the same on every attempt.
func (e *OutboxEmail) MessageIDHeader() string { return "<" + e.MessageID + ">" }

// Text is the email's plain-text part as a summary email: a greeting, the message, its link in the
// portal at baseURL (e.g. "https://esr-portal.example.nhs.uk"), and a footer saying where to comment
// and how to change what is emailed. Any actions are left out, with a sentence saying why.
func (e *OutboxEmail) Text(baseURL string) string {
	return e.Email(baseURL, nil, time.Time{}).Text()
}

// ListOutbox returns a page of the outbox, newest first, and how many emails it holds.
func ListOutbox(ctx context.Context, db bun.IDB, limit, offset int) ([]OutboxEmail, int, error) {
	if limit <= 0 {
		limit = 50
	}
	var es []OutboxEmail
	total, err := db.NewSelect().Model(&es).
		OrderExpr("eo.created_at DESC, eo.id DESC").
		Limit(int64(min(limit, maxLimit))).Offset(int64(max(offset, 0))).
		ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list outbox: %w", err)
	}
	return es, int(total), nil
}

// GetOutbox returns one email of the outbox.
func GetOutbox(ctx context.Context, db bun.IDB, id int64) (*OutboxEmail, error) {
	e := new(OutboxEmail)
	err := db.NewSelect().Model(e).Where("eo.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("email %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get email %d: %w", id, err)
	}
	return e, nil
}
