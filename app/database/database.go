// Package database opens the portal's PostgreSQL database, applies its migrations and, when no
// DATABASE_URL is given, runs a private PostgreSQL cluster under the data directory.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// connectTimeout bounds one attempt to connect to the server.
const connectTimeout = 5 * time.Second

// Open connects to the PostgreSQL database at url and checks that it answers.
func Open(ctx context.Context, url string) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// Timestamps are stored as timestamptz and read back in UTC; the views convert to Europe/London.
	cfg.RuntimeParams["timezone"] = "UTC"
	// The only statements the portal prepares (ScanPrepared, ExecPrepared) look rows up by key; their
	// generic plan is as good as a plan made for the values, and reusing it is what preparing is for.
	// PostgreSQL's default would plan some of them afresh on every call, its estimate of the generic
	// plan being no better than its guess for an array or a reference given as a parameter. It is set
	// on each new connection rather than as a startup parameter, which a connection pooler such as
	// PgBouncer refuses unless told to ignore it; a plan_cache_mode in the URL is left as it is.
	var opts []stdlib.OptionOpenDB
	if _, ok := cfg.RuntimeParams["plan_cache_mode"]; !ok {
		opts = append(opts, stdlib.OptionAfterConnect(func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan")
			return err
		}))
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "portal"
	}
	// bun writes every value into the statement's text, so nearly every statement is a text the server
	// has not seen. pgx's default prepares each new text and keeps it (a second round trip, and a cache
	// that only churns); this mode sends each one as it is, in one round trip.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	// A server that does not answer must not hold a request for the operating system's TCP timeout
	// (minutes): a connection attempt gives up after connectTimeout unless the URL's connect_timeout
	// says otherwise. Pooled connections are checked before reuse (pgx pings one idle for more than a
	// second, and database/sql replaces a broken one), so the pool recovers by itself when the server
	// comes back.
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	sqldb := stdlib.OpenDB(*cfg, opts...)
	sqldb.SetMaxOpenConns(20)
	sqldb.SetMaxIdleConns(10)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// NullID is id as a statement's value: NULL for 0, the zero value of an id that is not set.
func NullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation on the named constraint
// (any constraint when name is empty).
func IsUniqueViolation(err error, name string) bool {
	return pgErrorIs(err, "23505", name)
}

// IsForeignKeyViolation reports whether err is PostgreSQL's foreign_key_violation.
func IsForeignKeyViolation(err error) bool {
	return pgErrorIs(err, "23503", "")
}

// staleTries bounds how many times RunInTx starts a transaction again because a statement prepared on
// its connection was made stale by a migration: each connection fails that way once and forgets it.
const staleTries = 3

// RunInTx runs fn in a read-committed transaction and commits it when fn returns nil. Inside fn,
// ScanPrepared and ExecPrepared run prepared statements on the transaction's connection, and
// BeforeCommit queues work to run last, just before the commit. When a prepared statement fails
// because a migration changed what it reads ("cached plan must not change result type"), the
// transaction has been rolled back and the connection has forgotten the statement, so fn is run again
// in a new transaction, at most staleTries times in all: fn must do nothing outside the transaction
// that cannot be done twice (setting the caller's results is fine; sending mail is not — queue it).
func RunInTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx bun.Tx) error) error {
	for try := 1; ; try++ {
		err := runInTx(ctx, db, fn)
		if try < staleTries && IsStalePlan(err) {
			continue
		}
		return err
	}
}

func runInTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		run := &txRun{tx: tx.Tx}
		ctx = context.WithValue(ctx, txRunKey{}, run)
		if err := fn(ctx, tx); err != nil {
			return err
		}
		// Work queued by the work queued runs too, in order.
		for i := 0; i < len(run.last); i++ {
			if err := run.last[i](ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// txRun is what RunInTx keeps about the transaction it is running, in fn's context.
type txRun struct {
	tx   *sql.Tx
	last []func(ctx context.Context) error
}

type txRunKey struct{}

// runOf returns the RunInTx run of tx in ctx, or nil when tx was not begun by RunInTx with this ctx.
func runOf(ctx context.Context, tx bun.Tx) *txRun {
	run, _ := ctx.Value(txRunKey{}).(*txRun)
	if run == nil || run.tx != tx.Tx {
		return nil
	}
	return run
}

// BeforeCommit queues fn to run in tx after the function RunInTx was given returns without error and
// just before the commit, after anything queued earlier; an error from fn rolls the transaction back
// and is RunInTx's error. It reports false, and queues nothing, when tx was not begun by RunInTx with
// ctx: the caller then does the work at once. It is for work that takes a lock every writer needs,
// such as the audit trail's, so that the lock is held for as short a time as can be.
func BeforeCommit(ctx context.Context, tx bun.Tx, fn func(ctx context.Context) error) bool {
	run := runOf(ctx, tx)
	if run == nil {
		return false
	}
	run.last = append(run.last, fn)
	return true
}
