package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/database/dbtest"
)

func TestMain(m *testing.M) {
	os.Exit(dbtest.Main(m))
}

// mustRecord records e in its own transaction.
func mustRecord(t testing.TB, db *bun.DB, at time.Time, e Event) {
	t.Helper()
	err := database.RunInTx(t.Context(), db, func(ctx context.Context, tx bun.Tx) error {
		return Record(ctx, tx, at, e)
	})
	if err != nil {
		t.Fatalf("record %s: %v", e.Action, err)
	}
}

// allRows reads the whole audit trail in id order.
func allRows(t testing.TB, db bun.IDB) []Row {
	t.Helper()
	var rows []Row
	if err := db.NewSelect().Model(&rows).OrderExpr("ae.id").Scan(t.Context()); err != nil {
		t.Fatalf("read audit events: %v", err)
	}
	return rows
}

// checkChain fails unless rows, in id order, form an unbroken chain whose hashes match their content.
func checkChain(t testing.TB, rows []Row) {
	t.Helper()
	prev := genesis()
	for i, r := range rows {
		if i > 0 && r.ID <= rows[i-1].ID {
			t.Fatalf("row %d: id not after %d", r.ID, rows[i-1].ID)
		}
		if !bytes.Equal(r.PrevHash, prev) {
			t.Fatalf("row %d: prev_hash %x, want the hash of the row before, %x", r.ID, r.PrevHash, prev)
		}
		h, err := hashRow(&r)
		if err != nil {
			t.Fatalf("row %d: hash: %v", r.ID, err)
		}
		if !bytes.Equal(h, r.Hash) {
			t.Fatalf("row %d: recomputed hash %x, stored %x", r.ID, h, r.Hash)
		}
		prev = r.Hash
	}
}

func TestVerifyEmptyTrail(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	checked, brk, err := Verify(t.Context(), d.DB)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if checked != 0 || brk != nil {
		t.Fatalf("verify empty trail = %d, %+v; want 0, nil", checked, brk)
	}
}

var errRollback = errors.New("roll back on purpose")

func TestRecordConcurrentWritersKeepTheChain(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	const writers, perWriter = 8, 25
	start := make(chan struct{})
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range perWriter {
				e := Event{
					Actor:      Actor{UserID: int64(w + 1), Name: fmt.Sprintf("Writer %d", w), IP: "10.0.0.1", RequestID: fmt.Sprintf("req-%d-%d", w, i)},
					Action:     "request.submitted",
					EntityType: "request",
					EntityID:   fmt.Sprintf("ENH-%d-%d", w, i),
					After:      map[string]any{"writer": w, "n": i, "title": "Café ☕"},
				}
				err := database.RunInTx(context.Background(), d.DB, func(ctx context.Context, tx bun.Tx) error {
					return Record(ctx, tx, time.Now(), e)
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d event %d: %w", w, i, err)
					return
				}
				// A transaction that records and then rolls back leaves a gap in the ids, not a break. (Not
				// begun by database.RunInTx, so the row is written at once rather than before the commit.)
				if i%10 == 5 {
					err := d.DB.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
						if err := Record(ctx, tx, time.Now(), Event{Action: "request.withdrawn"}); err != nil {
							return err
						}
						return errRollback
					})
					if !errors.Is(err, errRollback) {
						errs <- fmt.Errorf("writer %d rollback %d: %v", w, i, err)
						return
					}
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	checked, brk, err := Verify(t.Context(), d.DB)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if checked != writers*perWriter || brk != nil {
		t.Fatalf("verify = %d, %+v; want %d, nil", checked, brk, writers*perWriter)
	}
	rows := allRows(t, d.DB)
	if len(rows) != writers*perWriter {
		t.Fatalf("got %d rows, want %d", len(rows), writers*perWriter)
	}
	checkChain(t, rows)
	gaps := 0
	for i := 1; i < len(rows); i++ {
		if rows[i].ID != rows[i-1].ID+1 {
			gaps++
		}
	}
	if gaps == 0 {
		t.Error("rolled-back events left no gap in the ids; the test did not exercise gaps")
	}
}

func TestAppendOnlyForTheApplication(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		mustRecord(t, d.DB, at.Add(time.Duration(i)*time.Minute), Event{Actor: Actor{Name: "system"}, Action: "user.created", EntityType: "user", EntityID: fmt.Sprint(i)})
	}
	tests := []struct {
		name  string
		query string
	}{
		{"update", "UPDATE audit_events SET actor_name = 'someone else'"},
		{"delete", "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)"},
		{"truncate", "TRUNCATE audit_events"},
	}
	// The runtime role holds no privilege to try; the owner, which does, meets the trigger.
	owner := d.Owner(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.DB.ExecContext(t.Context(), tt.query)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				t.Fatalf("%s as the runtime role: err = %v; want permission denied", tt.query, err)
			}
			_, err = owner.ExecContext(t.Context(), tt.query)
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, "append-only") {
				t.Fatalf("%s as the owner: err = %v; want the append-only trigger's refusal", tt.query, err)
			}
		})
	}
	checked, brk, err := Verify(t.Context(), d.DB)
	if err != nil || checked != 3 || brk != nil {
		t.Fatalf("verify after refused changes = %d, %+v, %v; want 3, nil, nil", checked, brk, err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	// Each tamper runs as the superuser with triggers off, as an attacker with database access would.
	tests := []struct {
		name   string
		tamper func(ctx context.Context, tx bun.Tx, ids []int64) error
		want   int // index of the first broken row
		reason string
	}{
		{
			name: "actor name changed",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, "UPDATE audit_events SET actor_name = 'Someone Else' WHERE id = ?", ids[4])
				return err
			},
			want: 4, reason: ReasonRowChanged,
		},
		{
			name: "after changed",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, `UPDATE audit_events SET after = jsonb_set(after, '{status}', '"approved"') WHERE id = ?`, ids[4])
				return err
			},
			want: 4, reason: ReasonRowChanged,
		},
		{
			name: "redacted value replaced",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, `UPDATE audit_events SET after = jsonb_set(after, '{password}', '"hunter2"') WHERE id = ?`, ids[2])
				return err
			},
			want: 2, reason: ReasonRowChanged,
		},
		{
			name: "before set where there was none",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, `UPDATE audit_events SET before = 'null' WHERE id = ?`, ids[7])
				return err
			},
			want: 7, reason: ReasonRowChanged,
		},
		{
			name: "time moved by a microsecond",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, `UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE id = ?`, ids[9])
				return err
			},
			want: 9, reason: ReasonRowChanged,
		},
		{
			name: "actor removed",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, `UPDATE audit_events SET actor_user_id = NULL WHERE id = ?`, ids[3])
				return err
			},
			want: 3, reason: ReasonRowChanged,
		},
		{
			name: "row changed and its hash recomputed",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				var r Row
				if err := tx.NewSelect().Model(&r).Where("ae.id = ?", ids[5]).Scan(ctx); err != nil {
					return err
				}
				r.ActorName = "Someone Else"
				h, err := hashRow(&r)
				if err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, "UPDATE audit_events SET actor_name = ?, hash = ? WHERE id = ?", r.ActorName, h, r.ID)
				return err
			},
			want: 6, reason: ReasonPrevHash,
		},
		{
			name: "middle row deleted",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, "DELETE FROM audit_events WHERE id = ?", ids[4])
				return err
			},
			want: 5, reason: ReasonPrevHash,
		},
		{
			name: "first row deleted",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, "DELETE FROM audit_events WHERE id = ?", ids[0])
				return err
			},
			want: 1, reason: ReasonPrevHash,
		},
		{
			name: "two rows reordered by swapping ids",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				for _, step := range [][2]int64{{ids[3], -1}, {ids[6], ids[3]}, {-1, ids[6]}} {
					if _, err := tx.ExecContext(ctx, "UPDATE audit_events SET id = ? WHERE id = ?", step[1], step[0]); err != nil {
						return err
					}
				}
				return nil
			},
			want: 3, reason: ReasonPrevHash,
		},
		{
			name: "content swapped between two rows",
			tamper: func(ctx context.Context, tx bun.Tx, ids []int64) error {
				_, err := tx.ExecContext(ctx, `
UPDATE audit_events a SET
    (occurred_at, actor_user_id, actor_name, organisation_id, action, entity_type, entity_id, before, after, ip, request_id) =
    (SELECT occurred_at, actor_user_id, actor_name, organisation_id, action, entity_type, entity_id, before, after, ip, request_id
     FROM audit_events b WHERE b.id = CASE a.id WHEN ? THEN ?::bigint ELSE ?::bigint END)
WHERE a.id IN (?, ?)`, ids[3], ids[6], ids[3], ids[3], ids[6])
				return err
			},
			want: 3, reason: ReasonRowChanged,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := dbtest.New(t)
			at := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
			for i := range 10 {
				e := Event{
					Actor:      Actor{UserID: int64(i%3 + 1), Name: "Alex Example", OrganisationID: 7, IP: "192.0.2.1", RequestID: fmt.Sprintf("req-%d", i)},
					Action:     "request.status_changed",
					EntityType: "request",
					EntityID:   fmt.Sprintf("ENH-%d", i),
					After:      map[string]any{"status": "submitted", "n": i, "password": "never stored"},
				}
				if i%2 == 0 {
					e.Before = map[string]any{"status": "draft"}
				}
				mustRecord(t, d.DB, at.Add(time.Duration(i)*time.Second), e)
			}
			ids := make([]int64, 0, 10)
			for _, r := range allRows(t, d.DB) {
				ids = append(ids, r.ID)
			}

			su := d.Superuser(t)
			err := su.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
					return err
				}
				return tt.tamper(ctx, tx, ids)
			})
			if err != nil {
				t.Fatalf("tamper: %v", err)
			}

			want := Break{ID: ids[tt.want], Reason: tt.reason}
			for _, batch := range []int{verifyBatch, 3, 1} {
				checked, brk, err := verify(t.Context(), d.DB, batch)
				if err != nil {
					t.Fatalf("verify in batches of %d: %v", batch, err)
				}
				if brk == nil || *brk != want {
					t.Fatalf("verify in batches of %d: break %+v; want %+v", batch, brk, want)
				}
				wantChecked := tt.want // the sound rows before the break
				if strings.Contains(tt.name, "deleted") {
					wantChecked-- // one of them is gone
				}
				if checked != wantChecked {
					t.Errorf("verify in batches of %d: checked %d rows; want %d", batch, checked, wantChecked)
				}
			}
		})
	}
}

func TestVerifyAcrossBatches(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for i := range 7 {
		mustRecord(t, d.DB, at, Event{Actor: Actor{Name: "system"}, Action: "user.created", EntityType: "user", EntityID: fmt.Sprint(i)})
	}
	for _, batch := range []int{1, 2, 3, 7, 8, verifyBatch} {
		checked, brk, err := verify(t.Context(), d.DB, batch)
		if err != nil || checked != 7 || brk != nil {
			t.Errorf("verify in batches of %d = %d, %+v, %v; want 7, nil, nil", batch, checked, brk, err)
		}
	}
}

func TestRecordRejects(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		at      time.Time
		e       Event
		wantErr string // empty when the event is accepted
	}{
		{"two words", at, Event{Action: "user.created"}, ""},
		{"three words with underscores", at, Event{Action: "session.sign_in.failed_twice"}, ""},
		{"one word", at, Event{Action: "user"}, "dotted lower_snake"},
		{"upper case", at, Event{Action: "User.created"}, "dotted lower_snake"},
		{"trailing dot", at, Event{Action: "user."}, "dotted lower_snake"},
		{"leading dot", at, Event{Action: ".user"}, "dotted lower_snake"},
		{"double dot", at, Event{Action: "user..created"}, "dotted lower_snake"},
		{"digit", at, Event{Action: "user.created2"}, "dotted lower_snake"},
		{"hyphen", at, Event{Action: "user.sign-in"}, "dotted lower_snake"},
		{"empty", at, Event{}, "dotted lower_snake"},
		{"no time", time.Time{}, Event{Action: "user.created"}, "time"},
		{"unmarshallable after", at, Event{Action: "user.created", After: map[string]any{"c": make(chan int)}}, "after"},
		{"number out of range", at, Event{Action: "user.created", Before: json.RawMessage(`{"n": 1e5000}`)}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after int
			if err := d.DB.NewSelect().Model((*Row)(nil)).ColumnExpr("count(*)").Scan(t.Context(), &before); err != nil {
				t.Fatal(err)
			}
			err := database.RunInTx(t.Context(), d.DB, func(ctx context.Context, tx bun.Tx) error {
				return Record(ctx, tx, tt.at, tt.e)
			})
			if err := d.DB.NewSelect().Model((*Row)(nil)).ColumnExpr("count(*)").Scan(t.Context(), &after); err != nil {
				t.Fatal(err)
			}
			if tt.wantErr == "" {
				if err != nil || after != before+1 {
					t.Fatalf("Record = %v, rows %d → %d; want accepted", err, before, after)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Record = %v; want an error mentioning %q", err, tt.wantErr)
			}
			if after != before {
				t.Fatalf("rows %d → %d after a refused event", before, after)
			}
		})
	}
	checked, brk, err := Verify(t.Context(), d.DB)
	if err != nil || checked != 2 || brk != nil {
		t.Fatalf("verify = %d, %+v, %v; want 2, nil, nil", checked, brk, err)
	}
}

func TestRecordNeedsReadCommitted(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	for _, level := range []sql.IsolationLevel{sql.LevelRepeatableRead, sql.LevelSerializable} {
		err := d.DB.RunInTx(t.Context(), &sql.TxOptions{Isolation: level}, func(ctx context.Context, tx bun.Tx) error {
			return Record(ctx, tx, time.Now(), Event{Action: "user.created"})
		})
		if err == nil || !strings.Contains(err.Error(), "read committed") {
			t.Errorf("Record in %s = %v; want an error asking for read committed", level, err)
		}
	}
}

func TestRecordAndReadBackJSON(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	type profile struct {
		Name     string            `json:"name"`
		Password string            `json:"password"`
		Tags     []string          `json:"tags"`
		Extra    map[string]string `json:"extra,omitempty"`
	}
	var nilProfile *profile
	tests := []struct {
		name     string
		value    any
		wantNull bool
		want     string // canonical JSON; empty when wantNull
	}{
		{"nil", nil, true, ""},
		{"typed nil pointer", nilProfile, true, ""},
		{"nested objects", map[string]any{"z": map[string]any{"y": []any{1, map[string]any{"b": true, "a": nil}}}, "a": "first"},
			false, `{"a":"first","z":{"y":[1,{"a":null,"b":true}]}}`},
		{"struct with a secret", profile{Name: "Zoë", Password: "hunter2", Tags: []string{"a", "b"}, Extra: map[string]string{"apiToken": "t"}},
			false, `{"extra":{"apiToken":"[redacted]"},"name":"Zoë","password":"[redacted]","tags":["a","b"]}`},
		{"unicode", map[string]any{"名前": "日本語", "emoji": "😀 ☕", "accent": "é", "separators": "a\u2028b", "html": "<a&b>"},
			false, `{"accent":"é","emoji":"😀 ☕","html":"\u003ca\u0026b\u003e","separators":"a\u2028b","名前":"日本語"}`},
		{"NUL and invalid UTF-8", map[string]any{"a\x00": "b\x00c", "bad": "\xff"}, false, `{"a` + "\uFFFD" + `":"b` + "\uFFFD" + `c","bad":"` + "\uFFFD" + `"}`},
		{"floats", []any{0.1, 1e21, 1e-7, 2.5, math.Copysign(0, -1), 123456789.125}, false, `[0.1,1000000000000000000000,0.0000001,2.5,0,123456789.125]`},
		{"integers", []any{int64(9223372036854775807), int64(-9223372036854775808), uint64(18446744073709551615), 0},
			false, `[9223372036854775807,-9223372036854775808,18446744073709551615,0]`},
		{"numbers as written", json.RawMessage(`[1.50, 1e2, 1E-7, -0, -0.0, 0.10e1, 12345678901234567890123.4500, 2.5e-3, 1e+3, 0.000]`),
			false, `[1.5,100,0.0000001,0,0,1,12345678901234567890123.45,0.0025,1000,0]`},
		{"raw JSON with spaces and a repeated key", json.RawMessage(` { "b" : 2 , "a" : 1, "b": 3 } `), false, `{"a":1,"b":3}`},
		{"empty object", map[string]any{}, false, `{}`},
		{"empty array", []string{}, false, `[]`},
		{"nil slice", []string(nil), true, ""},
		{"string", "just text", false, `"just text"`},
		{"boolean", false, false, `false`},
	}
	at := time.Date(2026, 11, 21, 10, 0, 0, 999999999, time.UTC)
	for i, tt := range tests {
		mustRecord(t, d.DB, at, Event{
			Actor:      Actor{UserID: 1, Name: "Zoë O’Brien\x00", IP: "2001:db8::1", RequestID: "req"},
			Action:     "user.updated",
			EntityType: "user",
			EntityID:   fmt.Sprint(i),
			Before:     tt.value,
			After:      tt.value,
		})
	}
	rows := allRows(t, d.DB)
	if len(rows) != len(tests) {
		t.Fatalf("got %d rows, want %d", len(rows), len(tests))
	}
	checkChain(t, rows)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rows[i]
			if r.EntityID != fmt.Sprint(i) {
				t.Fatalf("row %d is for entity %q, want %d", r.ID, r.EntityID, i)
			}
			if !r.OccurredAt.Equal(at.Truncate(time.Microsecond)) {
				t.Errorf("occurred_at %s, want %s", r.OccurredAt, at.Truncate(time.Microsecond))
			}
			if r.ActorName != "Zoë O’Brien\uFFFD" {
				t.Errorf("actor name %q", r.ActorName)
			}
			for _, stored := range []json.RawMessage{r.Before, r.After} {
				if tt.wantNull {
					if stored != nil {
						t.Errorf("stored %s, want SQL NULL", stored)
					}
					continue
				}
				got, err := canonicalJSON(stored)
				if err != nil {
					t.Fatalf("canonicalise stored %s: %v", stored, err)
				}
				if string(got) != tt.want {
					t.Errorf("stored %s canonicalises to %s, want %s", stored, got, tt.want)
				}
			}
			written, err := redactedJSON(tt.value)
			if err != nil {
				t.Fatalf("redactedJSON: %v", err)
			}
			if tt.wantNull != (written == nil) || (!tt.wantNull && string(written) != tt.want) {
				t.Errorf("written %s, want %s (null %v)", written, tt.want, tt.wantNull)
			}
		})
	}
	checked, brk, err := Verify(t.Context(), d.DB)
	if err != nil || checked != len(tests) || brk != nil {
		t.Fatalf("verify = %d, %+v, %v; want %d, nil, nil", checked, brk, err, len(tests))
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"top-level password", map[string]any{"email": "a@example.nhs.uk", "password": "hunter2"},
			`{"email":"a@example.nhs.uk","password":"[redacted]"}`},
		{"any case and as part of a name", map[string]any{"PasswordHash": "x", "api_TOKEN": "y", "clientSecret": "z", "SessionID": "s", "name": "kept"},
			`{"PasswordHash":"[redacted]","SessionID":"[redacted]","api_TOKEN":"[redacted]","clientSecret":"[redacted]","name":"kept"}`},
		{"nested in objects and arrays", map[string]any{"user": map[string]any{"roles": []any{map[string]any{"name": "admin", "reset_token": "t"}}, "new_password": "p"}},
			`{"user":{"new_password":"[redacted]","roles":[{"name":"admin","reset_token":"[redacted]"}]}}`},
		{"whole value under a secret key", map[string]any{"session": map[string]any{"id": "abc", "user": 1}, "tokens": []string{"a", "b"}},
			`{"session":"[redacted]","tokens":"[redacted]"}`},
		{"struct fields", struct {
			Email    string
			Password string
			Secret   *string
		}{Email: "a@example.nhs.uk", Password: "hunter2"},
			`{"Email":"a@example.nhs.uk","Password":"[redacted]","Secret":"[redacted]"}`},
		{"values are not keys", map[string]any{"note": "my password is hunter2"}, `{"note":"my password is hunter2"}`},
		{"array at the top", []any{map[string]any{"token": "t"}, "token"}, `[{"token":"[redacted]"},"token"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := redactedJSON(tt.value)
			if err != nil {
				t.Fatalf("redactedJSON: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: `{"b": 1, "a": [1, 2, {"d": null, "c": true}]}`, want: `{"a":[1,2,{"c":true,"d":null}],"b":1}`},
		{in: ` null `, want: `null`},
		{in: `"\u00e9\ud83d\ude00"`, want: `"é😀"`},
		{in: `"\ud800"`, want: `"` + "\uFFFD" + `"`},
		{in: `"a\u0000b"`, want: `"a` + "\uFFFD" + `b"`},
		{in: `[1.50, -1e2, 5E-1]`, want: `[1.5,-100,0.5]`},
		{in: `{"a":1} {"b":2}`, wantErr: true},
		{in: `{"a":1`, wantErr: true},
		{in: ``, wantErr: true},
		{in: `1e5000`, wantErr: true},
		{in: `1e-5000`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := canonicalJSON([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("canonicalJSON(%s) = %s; want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("canonicalJSON(%s): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("canonicalJSON(%s) = %s; want %s", tt.in, got, tt.want)
			}
			again, err := canonicalJSON(got)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("canonicalJSON not idempotent: %s → %s (%v)", got, again, err)
			}
		})
	}
}

func TestPlainDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"-0.000", "0"},
		{"0e10", "0"},
		{"7", "7"},
		{"-7", "-7"},
		{"100", "100"},
		{"1.50", "1.5"},
		{"1.0", "1"},
		{"0.10e1", "1"},
		{"1e2", "100"},
		{"1E+2", "100"},
		{"1.5e2", "150"},
		{"12.345e1", "123.45"},
		{"12.345e-1", "1.2345"},
		{"2.5E-3", "0.0025"},
		{"1e-7", "0.0000001"},
		{"-123.456e-5", "-0.00123456"},
		{"0.00120", "0.0012"},
		{"12345678901234567890123", "12345678901234567890123"},
		{"1e21", "1000000000000000000000"},
	}
	for _, tt := range tests {
		got, err := plainDecimal(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("plainDecimal(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	events := []struct {
		at time.Time
		e  Event
	}{
		{base, Event{Actor: Actor{UserID: 1, Name: "Ann"}, Action: "user.created", EntityType: "user", EntityID: "10"}},
		{base.Add(time.Hour), Event{Actor: Actor{UserID: 1, Name: "Ann"}, Action: "user.roles_changed", EntityType: "user", EntityID: "10",
			Before: map[string]any{"roles": []string{}}, After: map[string]any{"roles": []string{"central_team"}}}},
		{base.Add(24 * time.Hour), Event{Actor: Actor{UserID: 2, Name: "Bo"}, Action: "session.signed_in", EntityType: "user", EntityID: "11"}},
		{base.Add(48 * time.Hour), Event{Actor: Actor{Name: "system"}, Action: "user.created", EntityType: "user", EntityID: "11"}},
		{base.Add(72 * time.Hour), Event{Actor: Actor{UserID: 2, Name: "Bo", OrganisationID: 5}, Action: "request.submitted", EntityType: "request", EntityID: "ENH-1"}},
		{base.Add(73 * time.Hour), Event{Actor: Actor{UserID: 1, Name: "Ann"}, Action: "session.sign_in_failed", EntityType: "user", EntityID: "10"}},
	}
	for _, ev := range events {
		mustRecord(t, d.DB, ev.at, ev.e)
	}
	all := allRows(t, d.DB)
	if len(all) != len(events) {
		t.Fatalf("got %d rows, want %d", len(all), len(events))
	}

	tests := []struct {
		name      string
		f         Filter
		want      []int // indexes into events, newest first
		wantTotal int
	}{
		{"everything", Filter{}, []int{5, 4, 3, 2, 1, 0}, 6},
		{"actor", Filter{ActorUserID: 1}, []int{5, 1, 0}, 3},
		{"exact action", Filter{Action: "user.created"}, []int{3, 0}, 2},
		{"action prefix", Filter{Action: "user."}, []int{3, 1, 0}, 3},
		{"another action prefix", Filter{Action: "session."}, []int{5, 2}, 2},
		{"a word without its dot is exact", Filter{Action: "user"}, nil, 0},
		{"prefix treats _ literally", Filter{Action: "u_er."}, nil, 0},
		{"entity", Filter{EntityType: "user", EntityID: "10"}, []int{5, 1, 0}, 3},
		{"entity type", Filter{EntityType: "request"}, []int{4}, 1},
		{"date range includes from, excludes to", Filter{From: base.Add(24 * time.Hour), To: base.Add(72 * time.Hour)}, []int{3, 2}, 2},
		{"from only", Filter{From: base.Add(72 * time.Hour)}, []int{5, 4}, 2},
		{"to only", Filter{To: base.Add(time.Hour)}, []int{0}, 1},
		{"first page", Filter{Limit: 2}, []int{5, 4}, 6},
		{"second page", Filter{Limit: 2, Offset: 2}, []int{3, 2}, 6},
		{"page past the end", Filter{Limit: 2, Offset: 10}, nil, 6},
		{"negative offset is the first page", Filter{Limit: 1, Offset: -3}, []int{5}, 6},
		{"combined", Filter{ActorUserID: 1, Action: "user.", From: base.Add(time.Minute)}, []int{1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, total, err := List(t.Context(), d.DB, tt.f)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			var got, want []int64
			for _, r := range rows {
				got = append(got, r.ID)
			}
			for _, i := range tt.want {
				want = append(want, all[i].ID)
			}
			if !slices.Equal(got, want) || total != tt.wantTotal {
				t.Errorf("List(%+v) = ids %v, total %d; want %v, %d", tt.f, got, total, want, tt.wantTotal)
			}
		})
	}

	t.Run("rows read back in full", func(t *testing.T) {
		rows, _, err := List(t.Context(), d.DB, Filter{Action: "user.roles_changed"})
		if err != nil || len(rows) != 1 {
			t.Fatalf("List = %d rows, %v", len(rows), err)
		}
		r := rows[0]
		if r.ActorUserID != 1 || r.ActorName != "Ann" || r.OrganisationID != 0 || r.EntityType != "user" || r.EntityID != "10" ||
			!r.OccurredAt.Equal(base.Add(time.Hour)) || string(r.Before) != `{"roles": []}` || string(r.After) != `{"roles": ["central_team"]}` {
			t.Errorf("row = %+v", r)
		}
		rows, _, err = List(t.Context(), d.DB, Filter{EntityType: "user", EntityID: "11", Action: "user.created"})
		if err != nil || len(rows) != 1 {
			t.Fatalf("List = %d rows, %v", len(rows), err)
		}
		if r := rows[0]; r.ActorUserID != 0 || r.ActorName != "system" || r.Before != nil || r.After != nil {
			t.Errorf("system row = %+v", r)
		}
	})
}

func TestPageLimit(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want int }{{0, 50}, {-1, 50}, {1, 1}, {50, 50}, {200, 200}, {201, 200}, {10000, 200}}
	for _, tt := range tests {
		if got := pageLimit(tt.in); got != tt.want {
			t.Errorf("pageLimit(%d) = %d; want %d", tt.in, got, tt.want)
		}
	}
}

func TestActions(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	got, err := Actions(t.Context(), d.DB)
	if err != nil || len(got) != 0 {
		t.Fatalf("Actions on an empty trail = %v, %v; want none", got, err)
	}
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, action := range []string{"user.roles_changed", "session.signed_in", "user.created", "session.signed_in", "request.submitted", "user.created"} {
		mustRecord(t, d.DB, at, Event{Action: action})
	}
	got, err = Actions(t.Context(), d.DB)
	if err != nil {
		t.Fatalf("Actions: %v", err)
	}
	want := []string{"request.submitted", "session.signed_in", "user.created", "user.roles_changed"}
	if !slices.Equal(got, want) {
		t.Errorf("Actions = %v; want %v", got, want)
	}
}

// In a transaction database.RunInTx began, Record checks the event at once but appends it last: the
// lock every writer takes is not held while the rest of the change runs, so a second writer appends
// and commits meanwhile, and the first row's place in the chain is after it.
func TestRecordAppendsJustBeforeTheCommit(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := t.Context()
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	err := database.RunInTx(ctx, d.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := Record(ctx, tx, at, Event{Action: "bad action"}); err == nil {
			return errors.New("an event with a bad action was taken")
		}
		if err := Record(ctx, tx, at, Event{Action: "request.submitted", EntityType: "request", EntityID: "ENH-1"}); err != nil {
			return err
		}
		var locks int
		if err := tx.NewRaw(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`).Scan(ctx, &locks); err != nil {
			return err
		}
		if locks != 0 {
			return fmt.Errorf("the audit lock is held %d times before the commit", locks)
		}
		// Another writer is not kept waiting by this transaction.
		done := make(chan error, 1)
		go func() {
			done <- database.RunInTx(context.WithoutCancel(ctx), d.DB, func(ctx context.Context, tx bun.Tx) error {
				return Record(ctx, tx, at, Event{Action: "request.withdrawn", EntityType: "request", EntityID: "ENH-2"})
			})
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("the other writer waited for this transaction")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := allRows(t, d.DB)
	if len(rows) != 2 || rows[0].EntityID != "ENH-2" || rows[1].EntityID != "ENH-1" {
		t.Fatalf("rows = %+v; want ENH-2's event, then ENH-1's", rows)
	}
	checkChain(t, rows)
}
