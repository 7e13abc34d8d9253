// Package dbtest gives each test its own PostgreSQL database, cloned from a template that holds every
// migration. A package's tests use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
//
// Tests run as the portal runs: the migrations as the owner role, everything else as the runtime role,
// which owns nothing and may only add to and read the audit trail (see database.RuntimeGrants), so a
// missing grant fails the tests.
//
// With DATABASE_URL set, that server is used; its role must be able to CREATE DATABASE (and be a
// superuser for tests that tamper with rows behind triggers). It owns the databases and migrates them;
// when it may create roles, the tests run as a runtime role made for this test process (and dropped
// after it), otherwise as the DATABASE_URL role itself. Without DATABASE_URL each test process runs its
// own private cluster in a temporary directory, with the portal's two roles.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/migrations"
)

// setupTimeout bounds starting the server and migrating the template.
const setupTimeout = 2 * time.Minute

// server is this test process's database server. It is package state because New receives only a
// testing.TB; Main sets it up on first use and tears it down after the tests.
var server harness

// harness creates and drops the test databases of one test process.
type harness struct {
	mu      sync.Mutex
	inMain  bool  // Main is running the tests
	started bool  // setup has run
	err     error // setup's failure, reported by every New

	cluster    *database.Cluster // nil when DATABASE_URL names the server
	dir        string            // the private cluster's temporary directory
	admin      *bun.DB           // creates and drops databases
	ownerURL   string            // connection URL of the role that owns the databases and migrates them
	runtimeURL string            // connection URL of the role the tests run as
	superURL   func(database string) string
	owner      string // role that owns created databases
	runtime    string // role the tests run as; empty when it is the owner
	madeRole   bool   // runtime was created for this test process, and is dropped after it
	template   string
	// fileCopy clones with STRATEGY FILE_COPY (PostgreSQL 15 and later): in the private cluster, which
	// does not fsync, it is several times faster than the default WAL_LOG. On a shared server its
	// checkpoints would cost more than they save.
	fileCopy bool
}

// TestDB is a database of its own for one test, dropped when the test ends.
type TestDB struct {
	DB       *bun.DB // connected as the runtime role; closed when the test ends
	Name     string
	URL      string // the runtime role's connection URL for this database
	OwnerURL string // the owner role's connection URL for this database, for migrations

	superURL string
}

// Main runs the tests of m and then drops the template database and stops the private cluster, if
// either was made. It returns the exit code for os.Exit.
func Main(m *testing.M) int {
	server.mu.Lock()
	server.inMain = true
	server.mu.Unlock()

	code := m.Run()

	if err := server.teardown(); err != nil {
		fmt.Fprintf(os.Stderr, "dbtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// New returns a fresh database with every migration applied. It is safe to call from parallel tests.
func New(t testing.TB) *TestDB {
	t.Helper()
	return server.newDatabase(t, true)
}

// NewEmpty is like New but applies no migrations, for tests of the migrations themselves.
func NewEmpty(t testing.TB) *TestDB {
	t.Helper()
	return server.newDatabase(t, false)
}

// Owner connects to the same database as the role that owns it and runs the migrations. It is closed
// when the test ends.
func (d *TestDB) Owner(t testing.TB) *bun.DB {
	t.Helper()
	db, err := database.Open(t.Context(), d.OwnerURL)
	if err != nil {
		t.Fatalf("dbtest: connect to %s as its owner: %v", d.Name, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("dbtest: close owner connection to %s: %v", d.Name, err)
		}
	})
	return db
}

// Superuser connects to the same database as a superuser, for tests that tamper with data the
// application role may not change (for example `SET session_replication_role = replica` and then an
// UPDATE behind a trigger). Its pool holds a single connection, so session settings such as
// session_replication_role apply to every later statement. It is closed when the test ends.
func (d *TestDB) Superuser(t testing.TB) *bun.DB {
	t.Helper()
	db, err := database.Open(t.Context(), d.superURL)
	if err != nil {
		t.Fatalf("dbtest: connect to %s as superuser: %v", d.Name, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("dbtest: close superuser connection to %s: %v", d.Name, err)
		}
	})
	var super bool
	if err := db.QueryRowContext(t.Context(), "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		t.Fatalf("dbtest: superuser connection to %s: %v", d.Name, err)
	}
	if !super {
		t.Fatalf("dbtest: the role of DATABASE_URL is not a superuser, which this test needs")
	}
	return db
}

func (h *harness) newDatabase(t testing.TB, migrated bool) *TestDB {
	t.Helper()
	if err := h.setup(); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	name, err := uniqueName("portal_test")
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	template := h.template
	if !migrated {
		template = "template0"
	}
	if err := h.createDatabase(t.Context(), name, template); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := h.dropDatabase(name); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	if !migrated {
		// A database cloned from the template has the grants already.
		if err := h.grantRuntime(t.Context(), name, nil); err != nil {
			t.Fatalf("dbtest: %v", err)
		}
	}

	d := &TestDB{Name: name, URL: withDatabase(h.runtimeURL, name), OwnerURL: withDatabase(h.ownerURL, name), superURL: h.superURL(name)}
	d.DB, err = database.Open(t.Context(), d.URL)
	if err != nil {
		t.Fatalf("dbtest: connect to %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := d.DB.Close(); err != nil {
			t.Errorf("dbtest: close %s: %v", name, err)
		}
	})
	return d
}

// setup starts the server and migrates the template database, once per test process.
func (h *harness) setup() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.inMain {
		return errors.New("call dbtest.Main from TestMain: func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }")
	}
	if h.started {
		return h.err
	}
	h.started = true
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	h.err = h.connect(ctx)
	if h.err == nil {
		h.err = h.createTemplate(ctx)
	}
	return h.err
}

// connect reaches the server named by DATABASE_URL or starts a private cluster.
func (h *harness) connect(ctx context.Context) error {
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		return h.connectURL(ctx, dsn)
	}

	base, err := os.MkdirTemp("", "portal-dbtest-")
	if err != nil {
		return fmt.Errorf("make cluster directory: %w", err)
	}
	h.dir = base
	// When the tests run as root, the server runs as the postgres user, which must reach the cluster
	// directory inside.
	if err := os.Chmod(base, 0o755); err != nil {
		return fmt.Errorf("make cluster directory: %w", err)
	}
	cluster, err := database.StartCluster(ctx, database.ClusterOptions{
		Dir:    filepath.Join(base, "postgres"),
		Fsync:  false,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	h.cluster = cluster
	if h.owner, err = roleOf(cluster.OwnerURL()); err != nil {
		return err
	}
	if h.runtime, err = roleOf(cluster.URL()); err != nil {
		return err
	}
	h.ownerURL, h.runtimeURL = cluster.OwnerURL(), cluster.URL()
	h.superURL = cluster.SuperuserURL
	admin, err := database.Open(ctx, cluster.SuperuserURL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the private cluster: %w", err)
	}
	h.admin = admin
	var version int
	if err := admin.QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return fmt.Errorf("server version: %w", err)
	}
	h.fileCopy = version >= 150000
	return nil
}

// connectURL reaches the server named by DATABASE_URL. Its role owns the databases; when it may create
// roles, a runtime role is made for this test process.
func (h *harness) connectURL(ctx context.Context, dsn string) error {
	admin, err := database.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	h.admin = admin
	h.ownerURL, h.runtimeURL = dsn, dsn
	h.superURL = func(name string) string { return withDatabase(dsn, name) }
	var canCreateRoles bool
	err = admin.QueryRowContext(ctx, "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").
		Scan(&h.owner, &canCreateRoles)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: read its role: %w", err)
	}
	if !canCreateRoles {
		return nil
	}
	runtime, err := uniqueName("portal_test_app")
	if err != nil {
		return err
	}
	// The runtime role cannot sign in: connections sign in as the DATABASE_URL role and take the runtime
	// role at once (options=-c role=…), which works whatever authentication the server asks for.
	if _, err := admin.ExecContext(ctx, "CREATE ROLE ? NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", bun.Ident(runtime)); err != nil {
		return fmt.Errorf("create runtime role: %w", err)
	}
	h.runtime, h.madeRole = runtime, true
	if _, err := admin.ExecContext(ctx, "GRANT ? TO ?", bun.Ident(runtime), bun.Ident(h.owner)); err != nil {
		return fmt.Errorf("let %s take the runtime role: %w", h.owner, err)
	}
	if h.runtimeURL, err = withRole(dsn, runtime); err != nil {
		return err
	}
	return nil
}

// roleOf returns the user a connection URL signs in as.
func roleOf(url string) (string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", fmt.Errorf("parse cluster url: %w", err)
	}
	return cfg.User, nil
}

// createTemplate makes the database every New clones, gives the runtime role its privileges there (the
// default privileges cover the tables the migrations make) and applies every migration as the owner.
func (h *harness) createTemplate(ctx context.Context) error {
	name, err := uniqueName("portal_tmpl")
	if err != nil {
		return err
	}
	if err := h.createDatabase(ctx, name, "template0"); err != nil {
		return err
	}
	h.template = name
	err = h.grantRuntime(ctx, name, func(db *bun.DB) error {
		migrator, err := database.NewMigrator(db, migrations.FS)
		if err == nil {
			_, err = migrator.Up(ctx)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate template %s: %w", name, err)
	}
	return nil
}

// grantRuntime connects to the database name as its owner, gives the runtime role its privileges and
// then runs then (when not nil) on the same connection.
func (h *harness) grantRuntime(ctx context.Context, name string, then func(db *bun.DB) error) (err error) {
	db, err := database.Open(ctx, withDatabase(h.ownerURL, name))
	if err != nil {
		return fmt.Errorf("connect to %s as its owner: %w", name, err)
	}
	// A database with open connections cannot be cloned.
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", name, cerr)
		}
	}()
	if h.runtime != "" {
		grants, err := database.RuntimeGrants(h.owner, h.runtime)
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, grants); err != nil {
			return fmt.Errorf("grant %s its privileges in %s: %w", h.runtime, name, err)
		}
	}
	if then != nil {
		return then(db)
	}
	return nil
}

func (h *harness) createDatabase(ctx context.Context, name, template string) error {
	query, args := "CREATE DATABASE ? TEMPLATE ?", []any{bun.Ident(name), bun.Ident(template)}
	if h.fileCopy {
		query += " STRATEGY FILE_COPY"
	}
	if h.owner != "" {
		query, args = query+" OWNER ?", append(args, bun.Ident(h.owner))
	}
	if _, err := h.admin.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("create database %s from %s: %w", name, template, err)
	}
	return nil
}

func (h *harness) dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS ? WITH (FORCE)", bun.Ident(name)); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// teardown drops the template, closes the admin connection and stops and removes the private cluster.
func (h *harness) teardown() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	if h.template != "" {
		errs = append(errs, h.dropDatabase(h.template))
	}
	if h.madeRole && h.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := h.admin.ExecContext(ctx, "DROP ROLE IF EXISTS ?", bun.Ident(h.runtime)); err != nil {
			errs = append(errs, fmt.Errorf("drop runtime role %s: %w", h.runtime, err))
		}
	}
	if h.admin != nil {
		if err := h.admin.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close admin connection: %w", err))
		}
	}
	if h.cluster != nil {
		if err := h.cluster.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop private cluster: %w", err))
		}
	}
	if h.dir != "" {
		if err := os.RemoveAll(h.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove private cluster: %w", err))
		}
	}
	return errors.Join(errs...)
}

// uniqueName is prefix plus this process's id and random hex: test processes sharing a server (with
// DATABASE_URL) never pick the same name.
func uniqueName(prefix string) (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random database name: %w", err)
	}
	return fmt.Sprintf("%s_%d_%s", prefix, os.Getpid(), hex.EncodeToString(b)), nil
}

// withRole returns the connection string dsn with the option that makes each connection take the role
// as soon as it signs in.
func withRole(dsn, role string) (string, error) {
	opt := "-c role=" + role
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("DATABASE_URL: %w", err)
		}
		q := u.Query()
		q.Set("options", strings.TrimSpace(q.Get("options")+" "+opt))
		u.RawQuery = libpqQuery(q)
		return u.String(), nil
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("DATABASE_URL: %w", err)
	}
	return dsn + " options='" + strings.TrimSpace(cfg.RuntimeParams["options"]+" "+opt) + "'", nil
}

// libpqQuery encodes a URL's query as PostgreSQL's URIs read it: a space as %20, because a "+" is a
// plus sign to them, not the space url.Values.Encode means by it (it writes a plus sign as %2B).
func libpqQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// withDatabase returns the connection string dsn (a postgres:// URL or key=value settings) naming the
// database name instead.
func withDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Del("dbname") // it would override the path
			u.RawQuery = libpqQuery(q)
			u.Path = "/" + name
			u.RawPath = ""
			return u.String()
		}
	}
	// In key=value form, a later setting overrides an earlier one.
	return dsn + " dbname='" + name + "'"
}

// Server is a PostgreSQL server of one test's own, for tests that stop and start it. It runs a private
// cluster even when DATABASE_URL is set, so it needs PostgreSQL's server binaries.
type Server struct {
	dir     string
	cluster *database.Cluster // nil while stopped
	url     string            // the application role's URL, the same across restarts
}

// NewServer starts a private cluster for the calling test alone and returns it with a migrated
// database on it, connected as the application role. The cluster is stopped and removed when the test
// ends. Without server binaries the test is skipped when DATABASE_URL names a server, and fails
// otherwise.
func NewServer(t testing.TB) (*Server, *TestDB) {
	t.Helper()
	base, err := os.MkdirTemp("", "portal-dbtest-")
	if err != nil {
		t.Fatalf("dbtest: make cluster directory: %v", err)
	}
	s := &Server{dir: base}
	t.Cleanup(func() {
		if s.cluster != nil {
			if err := s.cluster.Stop(); err != nil {
				t.Errorf("dbtest: stop the test's cluster: %v", err)
			}
		}
		if err := os.RemoveAll(base); err != nil {
			t.Errorf("dbtest: remove the test's cluster: %v", err)
		}
	})
	if err := os.Chmod(base, 0o755); err != nil { // the postgres user must reach it when tests run as root
		t.Fatalf("dbtest: make cluster directory: %v", err)
	}
	if err := s.Start(t.Context()); err != nil {
		if errors.Is(err, database.ErrNoServerBinaries) && os.Getenv("DATABASE_URL") != "" {
			t.Skipf("dbtest: this test stops and starts a server of its own: %v", err)
		}
		t.Fatalf("dbtest: %v", err)
	}
	url := s.url
	db, err := database.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("dbtest: connect to the test's cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("dbtest: close the test's database: %v", err)
		}
	})
	// The schema is the owner's, as in production: migrate as the owner, serve as the runtime role.
	owner, err := database.Open(t.Context(), s.cluster.OwnerURL())
	if err != nil {
		t.Fatalf("dbtest: connect to the test's cluster as its owner: %v", err)
	}
	defer owner.Close()
	migrator, err := database.NewMigrator(owner, migrations.FS)
	if err == nil {
		_, err = migrator.Up(t.Context())
	}
	if err != nil {
		t.Fatalf("dbtest: migrate the test's database: %v", err)
	}
	return s, &TestDB{DB: db, Name: "portal", URL: url, OwnerURL: s.cluster.OwnerURL(), superURL: s.cluster.SuperuserURL("portal")}
}

// Stop shuts the server down (PostgreSQL's fast shutdown: open connections are ended).
func (s *Server) Stop() error {
	if s.cluster == nil {
		return nil
	}
	err := s.cluster.Stop()
	s.cluster = nil
	return err
}

// Start starts the server again on the same directory and socket, so connection URLs made before
// still reach it.
func (s *Server) Start(ctx context.Context) error {
	if s.cluster != nil {
		return nil
	}
	c, err := database.StartCluster(ctx, database.ClusterOptions{
		Dir: filepath.Join(s.dir, "postgres"), Fsync: false, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	if s.url != "" && c.URL() != s.url {
		return errors.Join(fmt.Errorf("the restarted server is reached at %s, not %s", c.URL(), s.url), c.Stop())
	}
	s.cluster, s.url = c, c.URL()
	return nil
}
