package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("look up session: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"no rows", sql.ErrNoRows, false},
		{"a plain error", errors.New("something broke"), false},
		{"admin shutdown 57P01", wrap(&pgconn.PgError{Code: "57P01"}), true},
		{"crash shutdown 57P02", wrap(&pgconn.PgError{Code: "57P02"}), true},
		{"cannot connect now 57P03", wrap(&pgconn.PgError{Code: "57P03"}), true},
		{"too many connections 53300", &pgconn.PgError{Code: "53300"}, true},
		{"connection failure 08006", wrap(&pgconn.PgError{Code: "08006"}), true},
		{"connection exception 08000", &pgconn.PgError{Code: "08000"}, true},
		{"unique violation 23505", wrap(&pgconn.PgError{Code: "23505"}), false},
		{"syntax error 42601", &pgconn.PgError{Code: "42601"}, false},
		{"wrong password 28P01", &pgconn.PgError{Code: "28P01"}, false},
		{"query cancelled 57014", &pgconn.PgError{Code: "57014"}, false},
		{"connection refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"connection reset", wrap(&net.OpError{Op: "read", Net: "unix", Err: syscall.ECONNRESET}), true},
		{"bad connection", wrap(driver.ErrBadConn), true},
		{"deadline waiting for the pool", wrap(context.DeadlineExceeded), true},
		{"request cancelled by its client", wrap(context.Canceled), false},
	} {
		if got := IsUnavailable(tc.err); got != tc.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestIsUnavailableOnRealErrors classifies what the driver really returns: no server at a socket, a
// server that never answers, a server shutting down under an open connection; and, on a live server,
// mistakes that are not unavailability.
func TestIsUnavailableOnRealErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	_, err := Open(ctx, "postgres:///portal?host="+filepath.Join(t.TempDir(), "nowhere")+"&user=portal&sslmode=disable")
	if !IsUnavailable(err) {
		t.Errorf("no server on the socket: IsUnavailable(%v) = false", err)
	}

	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts connections, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	began := time.Now()
	_, err = Open(ctx, "postgres://portal@"+silent.Addr().String()+"/portal?sslmode=disable&connect_timeout=1")
	if !IsUnavailable(err) || time.Since(began) > 5*time.Second {
		t.Errorf("a server that never answers: IsUnavailable(%v) = false, or it took %s", err, time.Since(began))
	}

	c := startTestCluster(t, clusterDir(t))
	db, err := Open(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "SELEC 1"); err == nil || IsUnavailable(err) {
		t.Errorf("a syntax error: IsUnavailable(%v) = true", err)
	}
	_, err = Open(ctx, c.SuperuserURL("no_such_database"))
	if err == nil || IsUnavailable(err) {
		t.Errorf("a database that does not exist: IsUnavailable(%v) = true", err)
	}
	conn, err := db.Conn(ctx) // held open across the shutdown
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT 1"); !IsUnavailable(err) {
		t.Errorf("a connection the server ended: IsUnavailable(%v) = false", err)
	}
	if _, err := db.ExecContext(ctx, "SELECT 1"); !IsUnavailable(err) {
		t.Errorf("the pool with the server stopped: IsUnavailable(%v) = false", err)
	}
}
