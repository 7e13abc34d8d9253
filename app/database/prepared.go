package database

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
)

// observers are the functions ObservePrepared registered, by database handle.
var observers sync.Map

// ObservePrepared calls fn with the text of every statement ScanPrepared runs on db, which bun's query
// hooks do not see, so that tests and benchmarks that count statements count these too; a nil fn stops
// it. The portal itself observes nothing.
func ObservePrepared(db *bun.DB, fn func(query string)) {
	if fn == nil {
		observers.Delete(db)
		return
	}
	observers.Store(db, fn)
}

// FixedSQL is the text of a statement that never changes, built (with bun) the first time it is needed
// rather than on every call.
type FixedSQL struct {
	once sync.Once
	text string
}

// Text returns the statement's text, building it with build the first time.
func (f *FixedSQL) Text(build func() string) string {
	f.once.Do(func() { f.text = build() })
	return f.text
}

// numbered keeps each query ScanPrepared was given with its placeholders numbered for PostgreSQL.
var numbered sync.Map

// positional matches bun's positional placeholders, ?0, ?1, ….
var positional = regexp.MustCompile(`\?(\d+)`)

// ScanPrepared runs query — a text that never changes, with bun's positional placeholders (?0, ?1, …)
// for its values — and scans it into dest as bun's Scan would: every row into a pointer to a slice, or
// else the first row (sql.ErrNoRows when there is none). On the portal's database handle the values go as real parameters through a statement prepared
// once per connection and kept (pgx.QueryExecModeCacheStatement), so that PostgreSQL plans it once a
// connection, with a generic plan after its first runs, instead of on every call as it must for the
// texts bun writes values into. It is for the statements every page runs: who is visiting, and the
// request a request page shows. Inside a transaction, or on any other handle, the values are written
// into the text as bun always does.
//
// A statement prepared before a migration changed the columns it reads fails once a connection with
// "cached plan must not change result type"; pgx then forgets it on that connection, and the call is
// answered by running the statement unprepared.
func ScanPrepared(ctx context.Context, db bun.IDB, query string, dest any, args ...any) error {
	bdb, ok := db.(*bun.DB)
	if !ok {
		return db.NewRaw(query, args...).Scan(ctx, dest)
	}
	var text string
	if t, ok := numbered.Load(query); ok {
		text = t.(string)
	} else {
		text = positional.ReplaceAllStringFunc(query, func(m string) string {
			n, _ := strconv.Atoi(m[1:])
			return "$" + strconv.Itoa(n+1)
		})
		numbered.Store(query, text)
	}
	if fn, ok := observers.Load(bdb); ok {
		fn.(func(string))(text)
	}
	err := scanFirst(ctx, bdb, text, dest, append([]any{pgx.QueryExecModeCacheStatement}, args...))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "0A000" {
		// Each connection that kept the statement fails this way once and forgets it; this call is
		// answered without it, its values still parameters.
		err = scanFirst(ctx, bdb, text, dest, append([]any{pgx.QueryExecModeExec}, args...))
	}
	return err
}

func scanFirst(ctx context.Context, db *bun.DB, text string, dest any, params []any) error {
	rows, err := db.DB.QueryContext(ctx, text, params...)
	if err != nil {
		return err
	}
	if v := reflect.ValueOf(dest); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Slice {
		return db.ScanRows(ctx, rows, dest) // every row; it closes rows
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := db.ScanRow(ctx, rows, dest); err != nil {
		return err
	}
	return rows.Close()
}
