package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err means that the database could not be reached or is not taking
// work at the moment, a condition that passes on its own (the server is restarting, failing over or
// full), rather than a fault of the request or of the portal:
//
//   - no connection could be made: refused, no socket, a network error or a connect timeout, or the
//     server said it cannot take connections now (57P03, 53300);
//   - the connection broke: the server shut down (57P01, 57P02), a connection exception (class 08), a
//     network error on an open connection, or the driver reporting a bad connection;
//   - the request's deadline passed, whether waiting for a connection from the pool, for a connect, or
//     for the server's answer.
//
// A PostgreSQL error that names any other condition (a constraint, a syntax error, a wrong password or
// database name) is not: those are faults to log and fix.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, context.DeadlineExceeded) ||
		pgconn.Timeout(err)
}

// unavailableState reports whether a SQLSTATE says that the server is unreachable, shutting down,
// starting up or out of connections.
func unavailableState(code string) bool {
	switch code {
	case "57P01", // admin_shutdown
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now: starting up, shutting down or in recovery
		"53300": // too_many_connections
		return true
	}
	return strings.HasPrefix(code, "08") // connection_exception and its subclasses
}
