// Package audit keeps the portal's append-only, hash-chained audit trail. Every change worth auditing
// records an event in the same transaction as the change itself; each row carries the hash of the row
// before it, so Verify finds any row that was changed, removed or reordered afterwards.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nhs-esr/portal/app/database"
	"github.com/uptrace/bun"
)

// LockKey is the transaction-scoped advisory lock every writer takes before it appends, so writers
// serialise and the chain follows id order. Anything that appends to the trail without Record (the
// benchmarks' bare server) must take it too.
const LockKey = 7_215_504_104

// redacted replaces the value of any key in Before or After that names a secret.
const redacted = "[redacted]"

// secretWords are the key fragments (lower case) whose values never enter the audit trail.
var secretWords = []string{"password", "token", "secret", "session"}

var actionPattern = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)+$`)

// Actor is who did something, from where.
type Actor struct {
	UserID         int64  // 0 = none (anonymous or the system)
	Name           string // display name at the time ("system" for the CLI/seed)
	OrganisationID int64  // 0 = none
	IP             string
	RequestID      string
}

// Event is one audited action.
type Event struct {
	Actor Actor
	// Action is dotted lower_snake, e.g. "user.created", "session.signed_in",
	// "session.sign_in_failed", "user.roles_changed".
	Action     string
	EntityType string // e.g. "user"
	EntityID   string
	// Before and After are stored as JSON; nil (or anything that marshals to JSON null) is stored as
	// NULL. Values under keys naming a password, token, secret or session are replaced by "[redacted]".
	Before any
	After  any
}

// Row is one stored audit event.
type Row struct {
	bun.BaseModel `bun:"table:audit_events,alias:ae"`

	ID             int64           `bun:"id,pk"`
	OccurredAt     time.Time       `bun:"occurred_at"`
	ActorUserID    int64           `bun:"actor_user_id,nullzero"`
	ActorName      string          `bun:"actor_name"`
	OrganisationID int64           `bun:"organisation_id,nullzero"`
	Action         string          `bun:"action"`
	EntityType     string          `bun:"entity_type"`
	EntityID       string          `bun:"entity_id"`
	Before         json.RawMessage `bun:"before,type:jsonb,nullzero"`
	After          json.RawMessage `bun:"after,type:jsonb,nullzero"`
	IP             string          `bun:"ip"`
	RequestID      string          `bun:"request_id"`
	PrevHash       []byte          `bun:"prev_hash"`
	Hash           []byte          `bun:"hash"`

	// EntityName is, in List's rows, the current name of the user an event was done to; not stored.
	EntityName string `bun:"entity_name,scanonly"`
}

// genesis returns the prev_hash of the first row: 32 zero bytes.
func genesis() []byte {
	return make([]byte, sha256.Size)
}

// Record appends e, which happened at `at`, inside tx. It serialises with every other writer on an
// advisory lock held until tx ends, so the row's id, taken after the lock, follows the chain. tx must
// be READ COMMITTED, so that it sees the row the previous writer committed.
//
// The event is checked at once. In a transaction database.RunInTx began, the row is written last,
// just before the commit (database.BeforeCommit), so that the lock every writer needs is held only
// for the append and the commit rather than for the rest of the change; elsewhere it is written at
// once.
func Record(ctx context.Context, tx bun.Tx, at time.Time, e Event) error {
	row, err := newRow(at, e)
	if err != nil {
		return fmt.Errorf("record audit event %q: %w", e.Action, err)
	}
	write := func(ctx context.Context) error {
		if err := appendRow(ctx, tx, row); err != nil {
			return fmt.Errorf("record audit event %q: %w", e.Action, err)
		}
		return nil
	}
	if database.BeforeCommit(ctx, tx, write) {
		return nil
	}
	return write(ctx)
}

// newRow checks e and returns its row, not yet chained.
func newRow(at time.Time, e Event) (*Row, error) {
	if !actionPattern.MatchString(e.Action) {
		return nil, errors.New(`action must be dotted lower_snake words, such as "user.created"`)
	}
	if at.IsZero() {
		return nil, errors.New("time of the event is missing")
	}
	before, err := redactedJSON(e.Before)
	if err != nil {
		return nil, fmt.Errorf("before: %w", err)
	}
	after, err := redactedJSON(e.After)
	if err != nil {
		return nil, fmt.Errorf("after: %w", err)
	}
	return &Row{
		OccurredAt:     at.UTC().Truncate(time.Microsecond),
		ActorUserID:    e.Actor.UserID,
		ActorName:      cleanText(e.Actor.Name),
		OrganisationID: e.Actor.OrganisationID,
		Action:         e.Action,
		EntityType:     cleanText(e.EntityType),
		EntityID:       cleanText(e.EntityID),
		Before:         before,
		After:          after,
		IP:             cleanText(e.Actor.IP),
		RequestID:      cleanText(e.Actor.RequestID),
	}, nil
}

// appendRow chains row to the last row of the trail and inserts it, under the lock, in one statement
// (audit_append, migration 20261205060000): the lock is held until the commit, so each round trip
// inside it would hold up every other writer. The function hashes the content this package defines,
// sent as the bytes before the row's id and those after it, since only it knows the id and the head.
func appendRow(ctx context.Context, tx bun.Tx, row *Row) error {
	rest, err := contentAfterID(row)
	if err != nil {
		return err
	}
	var appended struct {
		ID int64 `bun:"id"`
	}
	if err := database.ScanPrepared(ctx, tx, `SELECT audit_append(?0, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10::jsonb, ?11::jsonb, ?12, ?13) AS id`,
		&appended, int64(LockKey), []byte(contentHead), rest,
		row.OccurredAt, database.NullID(row.ActorUserID), row.ActorName, database.NullID(row.OrganisationID),
		row.Action, row.EntityType, row.EntityID, nullJSON(row.Before), nullJSON(row.After), row.IP, row.RequestID); err != nil {
		return fmt.Errorf("append to the audit trail: %w", err)
	}
	row.ID = appended.ID
	return nil
}

// nullJSON is the JSON text, or NULL for none.
func nullJSON(j json.RawMessage) any {
	if j == nil {
		return nil
	}
	return string(j)
}

// hashRow returns SHA-256(prev_hash || canonical content) for r.
func hashRow(r *Row) ([]byte, error) {
	content, err := canonicalContent(r)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(r.PrevHash)
	h.Write(content)
	return h.Sum(nil), nil
}

// contentHead begins every row's canonical content, before its id.
const contentHead = "audit_events/v1\x00"

// canonicalContent encodes the row's content, everything but its hashes, as bytes that are the same
// when written and when read back: each field in a fixed order, its length before it, the time in UTC
// to the microsecond and the JSON in canonical form.
func canonicalContent(r *Row) ([]byte, error) {
	rest, err := contentAfterID(r)
	if err != nil {
		return nil, err
	}
	b := binary.BigEndian.AppendUint64([]byte(contentHead), uint64(r.ID))
	return append(b, rest...), nil
}

// contentAfterID is the row's canonical content after its id: what audit_append hashes with the
// head, the id and the previous row's hash when it appends the row.
func contentAfterID(r *Row) ([]byte, error) {
	before, err := canonicalNullableJSON(r.Before)
	if err != nil {
		return nil, fmt.Errorf("before: %w", err)
	}
	after, err := canonicalNullableJSON(r.After)
	if err != nil {
		return nil, fmt.Errorf("after: %w", err)
	}
	b := appendField(make([]byte, 0, 256), r.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
	b = binary.BigEndian.AppendUint64(b, uint64(r.ActorUserID))
	b = appendField(b, r.ActorName)
	b = binary.BigEndian.AppendUint64(b, uint64(r.OrganisationID))
	b = appendField(b, r.Action)
	b = appendField(b, r.EntityType)
	b = appendField(b, r.EntityID)
	b = appendNullable(b, before)
	b = appendNullable(b, after)
	b = appendField(b, r.IP)
	b = appendField(b, r.RequestID)
	return b, nil
}

func appendField[T string | []byte](b []byte, s T) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendNullable marks NULL with 0 and a value with 1 before it, so NULL differs from an empty value.
func appendNullable(b []byte, v []byte) []byte {
	if v == nil {
		return append(b, 0)
	}
	return appendField(append(b, 1), v)
}

// cleanText makes s storable as PostgreSQL text: valid UTF-8 without NUL characters.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// redactedJSON marshals v, redacts secret keys and returns canonical JSON, or nil when v is nil or
// marshals to JSON null.
func redactedJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	decoded, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	if decoded == nil {
		return nil, nil
	}
	return encodeCanonical(redact(decoded))
}

// redact replaces, at any depth, the value of every object key whose lower-cased name contains one of
// secretWords.
func redact(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, val := range v {
			if isSecretKey(k) {
				out[k] = redacted
				continue
			}
			out[k] = redact(val)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, val := range v {
			out[i] = redact(val)
		}
		return out
	default:
		return v
	}
}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// canonicalNullableJSON returns nil for SQL NULL and the canonical form of raw otherwise.
func canonicalNullableJSON(raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return nil, nil
	}
	return canonicalJSON(raw)
}

// canonicalJSON returns raw in the one form that survives a round trip through jsonb unchanged once
// canonicalised again: object keys sorted and unique, no spaces, numbers as plain decimals without
// exponent or trailing fractional zeros, strings as valid UTF-8 without NUL characters.
func canonicalJSON(raw []byte) ([]byte, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	return encodeCanonical(v)
}

func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode json: data after the value")
	}
	return v, nil
}

func encodeCanonical(v any) ([]byte, error) {
	v, err := normalise(v)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return b, nil
}

// normalise rewrites the values jsonb would store differently from Go: numbers, and strings that
// PostgreSQL cannot hold.
func normalise(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(v))
		for _, k := range keys {
			val, err := normalise(v[k])
			if err != nil {
				return nil, err
			}
			out[cleanText(k)] = val
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, val := range v {
			n, err := normalise(val)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case json.Number:
		n, err := plainDecimal(string(v))
		if err != nil {
			return nil, err
		}
		return json.Number(n), nil
	case string:
		return cleanText(v), nil
	default: // bool, nil
		return v, nil
	}
}

// maxDigits bounds how far a number's decimal point may sit from its first digit; PostgreSQL's
// numeric holds far less than an exponent could ask for.
const maxDigits = 1000

// plainDecimal writes a JSON number as jsonb prints it, minus trailing fractional zeros (which jsonb
// keeps or drops depending on how the number was written): "1.50" → "1.5", "1e2" → "100",
// "-0.0" → "0", "2.5E-3" → "0.0025".
func plainDecimal(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mantissa, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxDigits || e < -maxDigits {
			return "", fmt.Errorf("number %s is out of range", s)
		}
		mantissa, exp = s[:i], e
	}
	intPart, fracPart, _ := strings.Cut(mantissa, ".")
	digits := intPart + fracPart
	point := len(intPart) + exp // position of the decimal point within digits
	trimmed := strings.TrimLeft(digits, "0")
	point -= len(digits) - len(trimmed)
	digits = strings.TrimRight(trimmed, "0")
	if digits == "" {
		return "0", nil
	}
	if point > maxDigits || point < -maxDigits {
		return "", fmt.Errorf("number %s is out of range", s)
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	case point >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", point-len(digits)))
	default:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	return b.String(), nil
}

// Filter selects audit events for List.
type Filter struct {
	ActorUserID int64
	// Actor matches who did it by words: part of their name or email address now, or of the name
	// recorded at the time ("system" finds what the portal did by itself).
	Actor      string
	Action     string // exact, or a prefix when it ends with "." ("user." matches "user.created")
	EntityType string
	EntityID   string
	From, To   time.Time // inclusive from, exclusive to; zero = open
	Limit      int       // default 50, at most 200
	Offset     int
}

const (
	defaultLimit = 50
	maxLimit     = 200
)

// List returns the events matching f, newest first, and how many match in all.
func List(ctx context.Context, db bun.IDB, f Filter) ([]Row, int, error) {
	var rows []Row
	q := db.NewSelect().Model(&rows).ColumnExpr("ae.*").
		ColumnExpr("(SELECT u.name FROM users AS u WHERE ae.entity_type = 'user' AND u.id::text = ae.entity_id) AS entity_name").
		OrderExpr("ae.id DESC").Limit(int64(pageLimit(f.Limit))).Offset(int64(max(f.Offset, 0)))
	if f.ActorUserID != 0 {
		q = q.Where("ae.actor_user_id = ?", f.ActorUserID)
	}
	if who := strings.TrimSpace(f.Actor); who != "" {
		like := "%" + likeEscaper.Replace(who) + "%"
		q = q.Where("(ae.actor_name ILIKE ? OR ae.actor_user_id IN (SELECT u.id FROM users AS u WHERE u.name ILIKE ? OR u.email ILIKE ?))", like, like, like)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			q = q.Where("starts_with(ae.action, ?)", f.Action)
		} else {
			q = q.Where("ae.action = ?", f.Action)
		}
	}
	if f.EntityType != "" {
		q = q.Where("ae.entity_type = ?", f.EntityType)
	}
	if f.EntityID != "" {
		q = q.Where("ae.entity_id = ?", f.EntityID)
	}
	if !f.From.IsZero() {
		q = q.Where("ae.occurred_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("ae.occurred_at < ?", f.To)
	}
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	return rows, int(total), nil
}

// likeEscaper makes typed text match itself in an ILIKE pattern (backslash is the default escape).
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// pageLimit is the page size List uses when asked for n rows.
func pageLimit(n int) int {
	if n <= 0 {
		return defaultLimit
	}
	return min(n, maxLimit)
}

// Actions lists the distinct actions recorded, sorted.
func Actions(ctx context.Context, db bun.IDB) ([]string, error) {
	var actions []string
	err := db.NewSelect().Model((*Row)(nil)).Distinct().Column("ae.action").OrderExpr("ae.action").Scan(ctx, &actions)
	if err != nil {
		return nil, fmt.Errorf("list audit actions: %w", err)
	}
	return actions, nil
}
