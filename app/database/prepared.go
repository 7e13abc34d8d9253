package database

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
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
// else the first row (sql.ErrNoRows when there is none). On the portal's database handle, and in a
// transaction RunInTx began, the values go as real parameters through a statement prepared once per
// connection and kept (pgx.QueryExecModeCacheStatement), so that PostgreSQL plans it once a
// connection, with a generic plan after its first runs, instead of on every call as it must for the
// texts bun writes values into. It is for the statements every page and every change runs. In any
// other transaction, or on any other handle, the values are written into the text as bun always does.
//
// A statement prepared before a migration changed the columns it reads fails once a connection with
// "cached plan must not change result type"; pgx then forgets it on that connection. On the database
// handle the call is answered by running the statement unprepared; in a transaction, which that error
// ended, RunInTx runs the transaction again.
func ScanPrepared(ctx context.Context, db bun.IDB, query string, dest any, args ...any) error {
	ok, err := onPrepared(ctx, db, query, args, func(q querier, bdb *bun.DB, text string, params []any) error {
		return scanFirst(ctx, bdb, q, text, dest, params)
	})
	if !ok {
		return db.NewRaw(query, bunArgs(args)...).Scan(ctx, dest)
	}
	return err
}

// ExecPrepared runs query, which returns no rows, as ScanPrepared runs its query, and returns the
// number of rows it changed.
func ExecPrepared(ctx context.Context, db bun.IDB, query string, args ...any) (int64, error) {
	var n int64
	ok, err := onPrepared(ctx, db, query, args, func(q querier, _ *bun.DB, text string, params []any) error {
		res, err := q.ExecContext(ctx, text, params...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if !ok {
		res, err := db.NewRaw(query, bunArgs(args)...).Exec(ctx)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	return n, err
}

// onPrepared runs do with the statement's text and its values as PostgreSQL takes them, first as a
// statement prepared and kept on the connection; on the database handle, when a migration made that
// statement stale, once more unprepared. Each connection that kept the statement fails that way once
// and forgets it. It reports false, running nothing, when db is neither the database handle nor a
// transaction RunInTx began with ctx.
func onPrepared(ctx context.Context, db bun.IDB, query string, args []any, do func(q querier, bdb *bun.DB, text string, params []any) error) (bool, error) {
	q, bdb, ok := preparedOn(ctx, db)
	if !ok {
		return false, nil
	}
	args = pgxArgs(args)
	text := numberedText(query)
	if fn, ok := observers.Load(bdb); ok {
		fn.(func(string))(text)
	}
	err := do(q, bdb, text, append([]any{pgx.QueryExecModeCacheStatement}, args...))
	if _, inTx := db.(bun.Tx); !inTx && IsStalePlan(err) {
		err = do(q, bdb, text, append([]any{pgx.QueryExecModeExec}, args...))
	}
	return true, err
}

// Array marks a slice given to ScanPrepared or ExecPrepared as one PostgreSQL array value.
func Array(slice any) any { return arrayArg{slice} }

type arrayArg struct{ slice any }

// bunArgs are args as bun writes them into a text.
func bunArgs(args []any) []any {
	return withArrays(args, func(a arrayArg) any { return pgdialect.Array(a.slice) })
}

// pgxArgs are args as pgx sends them as parameters.
func pgxArgs(args []any) []any {
	return withArrays(args, func(a arrayArg) any { return a.slice })
}

// withArrays returns args with each Array replaced by as(it), copied if any is.
func withArrays(args []any, as func(arrayArg) any) []any {
	var out []any
	for i, a := range args {
		if arr, ok := a.(arrayArg); ok {
			if out == nil {
				out = slices.Clone(args)
			}
			out[i] = as(arr)
		}
	}
	if out == nil {
		return args
	}
	return out
}

// IsStalePlan reports whether err is PostgreSQL's "cached plan must not change result type": a
// statement prepared on a connection before a migration changed what it reads.
func IsStalePlan(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "0A000" && strings.Contains(pgErr.Message, "cached plan")
}

// querier is what a prepared statement runs on: the pool or a transaction's connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// preparedOn returns where a prepared statement on db runs and the bun handle that scans its rows, or
// false when db is neither the database handle nor a transaction RunInTx began with ctx.
func preparedOn(ctx context.Context, db bun.IDB) (querier, *bun.DB, bool) {
	switch d := db.(type) {
	case *bun.DB:
		return d.DB, d, true
	case bun.Tx:
		if runOf(ctx, d) == nil {
			return nil, nil, false
		}
		return d.Tx, d.NewRaw("").DB(), true
	}
	return nil, nil, false
}

// numberedText returns query with its placeholders numbered for PostgreSQL, worked out once a text.
func numberedText(query string) string {
	if !strings.Contains(query, "?") {
		// Numbered already ($1, …): such texts may be many, one for each kind of viewer, and are not kept.
		return query
	}
	if t, ok := numbered.Load(query); ok {
		return t.(string)
	}
	text := positional.ReplaceAllStringFunc(query, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		return "$" + strconv.Itoa(n+1)
	})
	numbered.Store(query, text)
	return text
}

func scanFirst(ctx context.Context, db *bun.DB, q querier, text string, dest any, params []any) error {
	rows, err := q.QueryContext(ctx, text, params...)
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
