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
	sqldb := stdlib.OpenDB(*cfg)
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

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation on the named constraint
// (any constraint when name is empty).
func IsUniqueViolation(err error, name string) bool {
	return pgErrorIs(err, "23505", name)
}

// IsForeignKeyViolation reports whether err is PostgreSQL's foreign_key_violation.
func IsForeignKeyViolation(err error) bool {
	return pgErrorIs(err, "23503", "")
}

// RunInTx runs fn in a read-committed transaction and commits it when fn returns nil.
func RunInTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, &sql.TxOptions{}, fn)
}
