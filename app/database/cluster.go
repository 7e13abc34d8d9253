package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoServerBinaries is returned (wrapped in a one-line message saying what to install) when StartCluster
// finds no PostgreSQL server binaries.
var ErrNoServerBinaries = errors.New("no PostgreSQL server binaries found")

const (
	// clusterOwnerRole owns clusterAppDatabase and its schema and runs the migrations; the portal serves
	// as clusterRuntimeRole, which owns nothing (see RuntimeGrants). The cluster's bootstrap superuser
	// creates the roles and the database.
	clusterOwnerRole   = "portal"
	clusterRuntimeRole = "portal_app"
	clusterAppDatabase = "portal"
	clusterSuperuser   = "postgres"
	// clusterOSUser owns the data directory and runs the server when the portal runs as root, because
	// PostgreSQL refuses to run as root.
	clusterOSUser = "postgres"
	// clusterPort only names the Unix socket: the server listens on no network interface.
	clusterPort = 5432
	// Unix socket paths are limited to 107 bytes; longer socket directories move under os.TempDir().
	maxSocketPath = 100
	// socketDirPrefix names the private socket directories made under os.TempDir().
	socketDirPrefix = "portal-pg-"
	// serverLibDir holds Debian's versioned server binaries, /usr/lib/postgresql/<major>/bin.
	serverLibDir = "/usr/lib/postgresql"

	startTimeout  = 30 * time.Second
	pollInterval  = 50 * time.Millisecond
	stopTimeout   = 30 * time.Second
	orphanTimeout = 10 * time.Second
)

// ClusterOptions configure a private PostgreSQL cluster.
type ClusterOptions struct {
	// Dir is the cluster's directory (for example ./data/postgres); it is created if missing and holds the
	// data directory (pgdata), the server log (postgres.log) and usually the socket directory (run).
	Dir string
	// BinDir is where initdb and postgres live; empty searches PATH, then the highest
	// /usr/lib/postgresql/<major>/bin.
	BinDir string
	// Fsync makes the server flush to disk. Only tests turn it off.
	Fsync bool
	// Logger receives start and stop messages; nil discards them.
	Logger *slog.Logger
}

// Cluster is a private PostgreSQL server reached over a Unix socket only. The bootstrap superuser
// "postgres" trusts local connections, so the socket directory and socket are private to the user that
// runs the server.
type Cluster struct {
	dir         string
	pgdata      string
	socketDir   string
	port        int
	initialised bool
	logger      *slog.Logger

	// cmd is nil when this process reuses a server it did not start.
	cmd           *exec.Cmd
	exited        chan struct{} // closed once cmd has exited; waitErr is then set
	waitErr       error
	tempSocketDir bool // socketDir was made under os.TempDir() and is removed on Stop

	stopOnce sync.Once
	stopErr  error
}

// StartCluster starts the private PostgreSQL cluster in opts.Dir, running initdb first when the cluster
// does not exist yet, and makes sure the owner and runtime roles and the database exist. When a server left running
// by an earlier process already serves the directory, StartCluster connects to it instead, and Stop leaves
// it running.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("start cluster: no directory given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start cluster: resolve %s: %w", opts.Dir, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{dir: dir, pgdata: filepath.Join(dir, "pgdata"), port: clusterPort, logger: logger}

	dataVersion, err := readDataVersion(c.pgdata)
	if err != nil {
		return nil, err
	}
	bins, err := findServerBinaries(opts.BinDir, os.Getenv("PATH"), serverLibDir, dataVersion)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	if err := prepareClusterDir(dir, cred); err != nil {
		return nil, err
	}

	if running, ok, err := c.reuseRunning(ctx); err != nil {
		return nil, err
	} else if ok {
		return running, nil
	}

	if dataVersion == "" {
		if err := c.initdb(ctx, bins.initdb, cred, opts.Fsync); err != nil {
			return nil, err
		}
		c.initialised = true
	}
	if err := c.chooseSocketDir(cred); err != nil {
		return nil, err
	}
	if err := c.start(ctx, bins.postgres, cred, opts.Fsync); err != nil {
		c.removeTempSocketDir()
		return nil, err
	}
	if err := c.ensureAppDatabase(ctx); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

// URL is the connection URL of the runtime role "portal_app" to the database "portal": what the portal
// serves with.
func (c *Cluster) URL() string {
	return c.url(clusterRuntimeRole, clusterAppDatabase)
}

// OwnerURL is the connection URL of the owner role "portal" to the database "portal": what migrations
// run with.
func (c *Cluster) OwnerURL() string {
	return c.url(clusterOwnerRole, clusterAppDatabase)
}

// SuperuserURL is the connection URL of the bootstrap superuser "postgres" to the named database.
func (c *Cluster) SuperuserURL(database string) string {
	return c.url(clusterSuperuser, database)
}

// Initialised reports whether this start created the cluster with initdb.
func (c *Cluster) Initialised() bool {
	return c.initialised
}

// Stop shuts the server down with PostgreSQL's fast shutdown (SIGINT), which ends open sessions and
// writes a checkpoint, and kills it when it has not exited within stopTimeout. Stop does nothing when this
// process reused a server it did not start; calling it again returns the first result.
func (c *Cluster) Stop() error {
	if c.cmd == nil {
		return nil
	}
	c.stopOnce.Do(func() {
		c.stopErr = c.stop()
		c.removeTempSocketDir()
	})
	return c.stopErr
}

func (c *Cluster) stop() error {
	select {
	case <-c.exited:
		if c.waitErr != nil {
			return fmt.Errorf("stop postgres: it had already exited: %w", c.waitErr)
		}
		return nil
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop postgres (pid %d): %w", c.cmd.Process.Pid, err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-c.exited:
		if c.waitErr != nil {
			return fmt.Errorf("stop postgres: %w", c.waitErr)
		}
		c.logger.Info("stopped PostgreSQL", "dir", c.dir)
		return nil
	case <-timer.C:
		if err := c.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("stop postgres: kill pid %d after %s: %w", c.cmd.Process.Pid, stopTimeout, err)
		}
		<-c.exited
		return fmt.Errorf("stop postgres: not stopped %s after SIGINT, killed it (see %s)", stopTimeout, c.logPath())
	}
}

func (c *Cluster) url(user, database string) string {
	q := url.Values{
		"host":    {c.socketDir},
		"port":    {strconv.Itoa(c.port)},
		"user":    {user},
		"sslmode": {"disable"},
	}
	u := url.URL{Scheme: "postgres", Path: "/" + database, RawQuery: q.Encode()}
	return u.String()
}

func (c *Cluster) logPath() string {
	return filepath.Join(c.dir, "postgres.log")
}

// serverBinaries are the paths of one installation's initdb and postgres.
type serverBinaries struct {
	initdb   string
	postgres string
}

// findServerBinaries looks for initdb and postgres side by side: in binDir when given; otherwise in
// libDir/<dataVersion>/bin when an existing cluster names its major version (a server of another major
// version cannot open it), then on pathList, then in the highest libDir/<major>/bin.
func findServerBinaries(binDir, pathList, libDir, dataVersion string) (serverBinaries, error) {
	var candidates []string
	looked := binDir
	if binDir != "" {
		candidates = []string{binDir}
	} else {
		looked = "PATH and " + filepath.Join(libDir, "*", "bin")
		if dataVersion != "" {
			candidates = append(candidates, filepath.Join(libDir, dataVersion, "bin"))
		}
		for _, d := range filepath.SplitList(pathList) {
			if d != "" {
				candidates = append(candidates, d)
			}
		}
		candidates = append(candidates, versionedBinDirs(libDir)...)
	}
	for _, d := range candidates {
		bins := serverBinaries{initdb: filepath.Join(d, "initdb"), postgres: filepath.Join(d, "postgres")}
		if isExecutable(bins.initdb) && isExecutable(bins.postgres) {
			if abs, err := filepath.Abs(d); err == nil {
				bins = serverBinaries{initdb: filepath.Join(abs, "initdb"), postgres: filepath.Join(abs, "postgres")}
			}
			return bins, nil
		}
	}
	return serverBinaries{}, fmt.Errorf("%w (looked for initdb and postgres in %s): install PostgreSQL's server package (Debian: apt-get install postgresql) or set DATABASE_URL",
		ErrNoServerBinaries, looked)
}

// versionedBinDirs lists libDir/<major>/bin, highest major version first.
func versionedBinDirs(libDir string) []string {
	entries, err := os.ReadDir(libDir)
	if err != nil {
		return nil
	}
	type versioned struct {
		dir          string
		major, minor int
	}
	var found []versioned
	for _, e := range entries {
		majorText, minorText, _ := strings.Cut(e.Name(), ".")
		major, err := strconv.Atoi(majorText)
		if err != nil {
			continue
		}
		minor, _ := strconv.Atoi(minorText) // "9.6" has a minor part; "15" has none
		found = append(found, versioned{dir: filepath.Join(libDir, e.Name(), "bin"), major: major, minor: minor})
	}
	slices.SortFunc(found, func(a, b versioned) int {
		if a.major != b.major {
			return b.major - a.major
		}
		return b.minor - a.minor
	})
	dirs := make([]string, len(found))
	for i, v := range found {
		dirs[i] = v.dir
	}
	return dirs
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// readDataVersion returns the major version recorded in an existing data directory, or "" when there is
// no cluster yet.
func readDataVersion(pgdata string) (string, error) {
	b, err := os.ReadFile(filepath.Join(pgdata, "PG_VERSION"))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(pgdata); err == nil {
			return "", fmt.Errorf("start cluster: %s exists but is not a PostgreSQL data directory (no PG_VERSION): move it away", pgdata)
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("start cluster: read data directory version: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// serverCredential returns the credential the server runs with when the portal runs as root (PostgreSQL
// refuses to run as root), and nil otherwise: then the server runs as the portal's own user.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(clusterOSUser)
	if err != nil {
		return nil, fmt.Errorf("the portal runs as root, so PostgreSQL must run as the user %q, which was not found (%v): install PostgreSQL's server package (Debian: apt-get install postgresql), run the portal as an unprivileged user, or set DATABASE_URL",
			clusterOSUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", clusterOSUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", clusterOSUser, u.Gid, err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	groupIDs, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("user %s: groups: %w", clusterOSUser, err)
	}
	for _, g := range groupIDs {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil && uint32(n) != cred.Gid {
			cred.Groups = append(cred.Groups, uint32(n))
		}
	}
	return cred, nil
}

// prepareClusterDir creates dir (0700) and, when the server runs as another user (cred not nil), gives it
// to that user after checking that the user can reach it.
func prepareClusterDir(dir string, cred *syscall.Credential) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	if cred != nil {
		if err := checkTraversable(parent, cred); err != nil {
			return err
		}
	}
	created := true
	if err := os.Mkdir(dir, 0o700); errors.Is(err, fs.ErrExist) {
		created = false
	} else if err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	if cred == nil {
		return nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cluster directory: %w", err)
	}
	owner := st.Sys().(*syscall.Stat_t).Uid
	if owner == cred.Uid {
		return nil
	}
	if !created {
		// Only an empty directory is taken over, so a mistaken path never has its owner changed.
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("cluster directory: %w", err)
		}
		if len(entries) > 0 {
			return fmt.Errorf("cluster directory %s is owned by uid %d, not by the user %s that runs PostgreSQL: chown -R %s %s, or set PORTAL_DATA_DIR to another directory",
				dir, owner, clusterOSUser, clusterOSUser, dir)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("cluster directory: %w", err)
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("give cluster directory to %s: %w", clusterOSUser, err)
	}
	return nil
}

// checkTraversable checks that the user of cred may search dir and every directory above it.
func checkTraversable(dir string, cred *syscall.Credential) error {
	for p := dir; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check %s: %w", p, err)
		}
		if !canSearch(st.Sys().(*syscall.Stat_t), cred) {
			return fmt.Errorf("the user %s that runs PostgreSQL cannot reach %s (%s is mode %04o, owner uid %d): set PORTAL_DATA_DIR to a directory that user can reach",
				clusterOSUser, dir, p, st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Uid)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func canSearch(st *syscall.Stat_t, cred *syscall.Credential) bool {
	switch {
	case st.Uid == cred.Uid:
		return st.Mode&0o100 != 0
	case st.Gid == cred.Gid || slices.Contains(cred.Groups, st.Gid):
		return st.Mode&0o010 != 0
	default:
		return st.Mode&0o001 != 0
	}
}

// initdb creates the cluster in a scratch directory and renames it into place, so a run interrupted
// halfway leaves no half-made data directory behind.
func (c *Cluster) initdb(ctx context.Context, initdbPath string, cred *syscall.Credential, fsync bool) error {
	scratch := c.pgdata + ".init"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("remove unfinished cluster: %w", err)
	}
	args := []string{"-D", scratch, "-U", clusterSuperuser, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"}
	if !fsync {
		args = append(args, "--no-sync")
	}
	c.logger.Info("creating PostgreSQL cluster", "dir", c.pgdata)
	began := time.Now()
	cmd := exec.CommandContext(ctx, initdbPath, args...)
	cmd.Dir = c.dir // the server user may not be able to read the portal's working directory
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", scratch, err, lastLines(out, 15))
	}
	if err := os.Rename(scratch, c.pgdata); err != nil {
		return fmt.Errorf("move new cluster into place: %w", err)
	}
	c.logger.Info("created PostgreSQL cluster", "dir", c.pgdata, "duration", time.Since(began).Round(time.Millisecond))
	return nil
}

// chooseSocketDir puts the socket in dir/run, or in a private directory under os.TempDir() when that
// path would be too long for a Unix socket.
func (c *Cluster) chooseSocketDir(cred *syscall.Credential) error {
	dir := filepath.Join(c.dir, "run")
	if len(filepath.Join(dir, socketName(c.port))) < maxSocketPath {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create socket directory: %w", err)
		}
	} else {
		tmp, err := os.MkdirTemp("", socketDirPrefix)
		if err != nil {
			return fmt.Errorf("create socket directory: %w", err)
		}
		dir, err = filepath.Abs(tmp)
		if err != nil {
			return fmt.Errorf("create socket directory: %w", err)
		}
		c.tempSocketDir = true
		if len(filepath.Join(dir, socketName(c.port))) >= maxSocketPath {
			c.socketDir = dir
			c.removeTempSocketDir()
			return fmt.Errorf("socket directory %s is too long for a Unix socket: set TMPDIR to a shorter path", dir)
		}
	}
	c.socketDir = dir
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("give socket directory to %s: %w", clusterOSUser, err)
		}
	}
	return nil
}

func (c *Cluster) removeTempSocketDir() {
	if c.tempSocketDir && c.socketDir != "" {
		if err := os.RemoveAll(c.socketDir); err != nil {
			c.logger.Warn("remove socket directory", "dir", c.socketDir, "error", err)
		}
	}
}

func socketName(port int) string {
	return ".s.PGSQL." + strconv.Itoa(port)
}

// start runs postgres as a child of this process and waits until it accepts connections.
func (c *Cluster) start(ctx context.Context, postgresPath string, cred *syscall.Credential, fsync bool) error {
	logFile, err := os.OpenFile(c.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close() // the server keeps its own descriptor
	if cred != nil {
		if err := logFile.Chown(int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("give server log to %s: %w", clusterOSUser, err)
		}
	}
	args := []string{
		"-D", c.pgdata,
		"-k", c.socketDir,
		"-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=", // never on a network interface
		"-c", "unix_socket_permissions=0700",
	}
	if !fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(postgresPath, args...)
	cmd.Dir = c.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// Its own process group, so a Ctrl-C at the terminal reaches only the portal, which stops the
		// server after it has finished with it.
		Setpgid: true,
		// When the portal dies without calling Stop, the server gets SIGINT, PostgreSQL's fast shutdown:
		// the portal's sessions are gone with it, so the server checkpoints, removes postmaster.pid and
		// exits cleanly, and the next start needs no crash recovery. SIGKILL would leave the server's
		// children and the pid file behind; SIGTERM (smart shutdown) waits for sessions to end.
		Pdeathsig: syscall.SIGINT,
	}
	c.cmd = cmd
	c.exited = make(chan struct{})
	started := make(chan error, 1)
	// The kernel sends Pdeathsig when the thread that forked the child exits, not the process. A thread
	// locked to this goroutine for the server's whole life is never handed to other code that could end it.
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	if err := <-started; err != nil {
		c.cmd = nil
		return fmt.Errorf("start postgres: %w", err)
	}
	began := time.Now()
	err = waitReady(ctx, c.SuperuserURL(clusterSuperuser), func() error {
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during start-up (%v); the end of %s:\n%s", c.waitErr, c.logPath(), c.logTail())
		default:
			return nil
		}
	})
	if err != nil {
		return errors.Join(err, c.Stop())
	}
	c.logger.Info("started PostgreSQL", "pid", cmd.Process.Pid, "socket_dir", c.socketDir,
		"duration", time.Since(began).Round(time.Millisecond))
	return nil
}

// waitReady connects to superuserURL until it succeeds, gone reports that the server has gone, or
// startTimeout passes.
func waitReady(ctx context.Context, superuserURL string, gone func() error) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attemptCtx, superuserURL)
		cancelAttempt()
		if err == nil {
			return conn.Close(ctx)
		}
		if goneErr := gone(); goneErr != nil {
			return goneErr
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres to accept connections: %w (last error: %v)", ctx.Err(), err)
		case <-ticker.C:
		}
	}
}

// logTail is the end of the server log, for errors.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return fmt.Sprintf("(cannot read server log: %v)", err)
	}
	return lastLines(b, 15)
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ensureAppDatabase creates the owner and runtime roles and the database unless they exist, and gives
// the runtime role its privileges. It runs on every start, so a first start interrupted after initdb
// is completed by the next one, and a cluster made before the runtime role existed gains it.
func (c *Cluster) ensureAppDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.SuperuserURL(clusterSuperuser))
	if err != nil {
		return fmt.Errorf("connect as %s: %w", clusterSuperuser, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	owner := pgx.Identifier{clusterOwnerRole}.Sanitize()
	var ownerExists, runtimeExists, databaseExists bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1),
		EXISTS (SELECT FROM pg_roles WHERE rolname = $2),
		EXISTS (SELECT FROM pg_database WHERE datname = $3)`,
		clusterOwnerRole, clusterRuntimeRole, clusterAppDatabase).Scan(&ownerExists, &runtimeExists, &databaseExists)
	if err != nil {
		return fmt.Errorf("look up the portal's roles and database: %w", err)
	}
	// Another process starting on the same directory may create them at the same moment: duplicates are fine.
	for _, r := range []struct {
		exists     bool
		name, with string
	}{
		{ownerExists, clusterOwnerRole, "LOGIN NOSUPERUSER CREATEDB"},
		{runtimeExists, clusterRuntimeRole, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"},
	} {
		if r.exists {
			continue
		}
		_, err := conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{r.name}.Sanitize()+" "+r.with)
		if err != nil && !pgErrorIs(err, "42710", "") { // duplicate_object
			return fmt.Errorf("create role %s: %w", r.name, err)
		}
	}
	if !databaseExists {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{clusterAppDatabase}.Sanitize()+" OWNER "+owner)
		if err != nil && !pgErrorIs(err, "42P04", "") { // duplicate_database
			return fmt.Errorf("create database %s: %w", clusterAppDatabase, err)
		}
	}
	return c.grantRuntime(ctx)
}

// grantRuntime gives the runtime role its privileges in the application database.
func (c *Cluster) grantRuntime(ctx context.Context) error {
	grants, err := RuntimeGrants(clusterOwnerRole, clusterRuntimeRole)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, c.SuperuserURL(clusterAppDatabase))
	if err != nil {
		return fmt.Errorf("connect to %s as %s: %w", clusterAppDatabase, clusterSuperuser, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Grants are idempotent, but two changes to one table's privileges at once can fail: granting waits
	// for any process that is granting or migrating (whose new tables get the default privileges).
	_, err = conn.Exec(ctx, "BEGIN; SELECT pg_advisory_xact_lock("+fmt.Sprint(migrationLockKey)+"); "+grants+" COMMIT;")
	if err != nil {
		return fmt.Errorf("grant the runtime role %s its privileges: %w", clusterRuntimeRole, err)
	}
	return nil
}

// pidFile is what postmaster.pid records about a running (or crashed) server.
type pidFile struct {
	pid       int
	dataDir   string
	port      int
	socketDir string
	shmKey    int64 // System V shared memory segment; 0 when not recorded
	shmID     int64
}

// readPIDFile reads pgdata/postmaster.pid; ok is false when there is none.
func readPIDFile(pgdata string) (pf pidFile, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return pidFile{}, false, nil
	}
	if err != nil {
		return pidFile{}, false, fmt.Errorf("read postmaster.pid: %w", err)
	}
	// Lines: PID, data directory, start time, port, first socket directory, listen address, shared
	// memory key, status. A server that is starting may not have written them all yet.
	lines := strings.Split(string(b), "\n")
	line := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	pf.pid, _ = strconv.Atoi(line(0)) // unreadable: treated as no live process
	pf.dataDir = line(1)
	pf.port, _ = strconv.Atoi(line(3))
	pf.socketDir = line(4)
	if shm := strings.Fields(line(6)); len(shm) == 2 {
		pf.shmKey, _ = strconv.ParseInt(shm[0], 10, 64)
		pf.shmID, _ = strconv.ParseInt(shm[1], 10, 64)
	}
	return pf, true, nil
}

// serverRunsFor reports whether process pid is a postgres server started on the data directory pgdata,
// and not an unrelated process that took the PID of a crashed server.
func serverRunsFor(pid int, pgdata string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if base := filepath.Base(args[0]); base != "postgres" && base != "postmaster" {
		return false
	}
	want, err := os.Stat(pgdata)
	if err != nil {
		return false
	}
	for i, a := range args {
		var dataDir string
		switch {
		case a == "-D" && i+1 < len(args):
			dataDir = args[i+1]
		case strings.HasPrefix(a, "-D") && len(a) > 2:
			dataDir = a[2:]
		default:
			continue
		}
		if !filepath.IsAbs(dataDir) {
			cwd, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "cwd"))
			if err != nil {
				return false
			}
			dataDir = filepath.Join(cwd, dataDir)
		}
		got, err := os.Stat(dataDir)
		return err == nil && os.SameFile(got, want)
	}
	return false
}

// reuseRunning connects to a server already running on the data directory, left by an earlier process.
// When postmaster.pid is a leftover of a server that is gone, it and the socket lock file are removed so
// that postgres starts cleanly; ok is then false.
func (c *Cluster) reuseRunning(ctx context.Context) (*Cluster, bool, error) {
	pf, ok, err := readPIDFile(c.pgdata)
	if err != nil || !ok {
		return nil, false, err
	}
	if serverRunsFor(pf.pid, c.pgdata) {
		if pf.socketDir == "" || pf.port == 0 {
			return nil, false, fmt.Errorf("postgres (pid %d) already runs on %s but has no Unix socket recorded in postmaster.pid: stop it", pf.pid, c.pgdata)
		}
		running := &Cluster{dir: c.dir, pgdata: c.pgdata, socketDir: pf.socketDir, port: pf.port, logger: c.logger}
		err := waitReady(ctx, running.SuperuserURL(clusterSuperuser), func() error {
			if !serverRunsFor(pf.pid, c.pgdata) {
				return errServerGone
			}
			return nil
		})
		switch {
		case err == nil:
			if err := running.ensureAppDatabase(ctx); err != nil {
				return nil, false, err
			}
			c.logger.Info("using PostgreSQL already running", "pid", pf.pid, "socket_dir", pf.socketDir)
			return running, true, nil
		case !errors.Is(err, errServerGone):
			return nil, false, fmt.Errorf("postgres (pid %d) already runs on %s: %w", pf.pid, c.pgdata, err)
		}
		// It was shutting down and has gone: start afresh.
		if _, ok, err := readPIDFile(c.pgdata); err != nil || !ok {
			return nil, false, err
		}
	}
	if err := waitForOrphans(ctx, pf, c.pgdata); err != nil {
		return nil, false, err
	}
	c.logger.Warn("removing postmaster.pid left by a server that is no longer running", "pid", pf.pid)
	if err := os.Remove(filepath.Join(c.pgdata, "postmaster.pid")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("remove stale postmaster.pid: %w", err)
	}
	socketDirs := []string{filepath.Join(c.dir, "run")}
	if pf.socketDir != "" && pf.socketDir != socketDirs[0] {
		if filepath.Dir(pf.socketDir) == filepath.Clean(os.TempDir()) && strings.HasPrefix(filepath.Base(pf.socketDir), socketDirPrefix) {
			if err := os.RemoveAll(pf.socketDir); err != nil {
				return nil, false, fmt.Errorf("remove stale socket directory: %w", err)
			}
		}
	}
	port := pf.port
	if port == 0 {
		port = c.port
	}
	for _, d := range socketDirs {
		for _, name := range []string{socketName(port), socketName(port) + ".lock"} {
			if err := os.Remove(filepath.Join(d, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, false, fmt.Errorf("remove stale socket file: %w", err)
			}
		}
	}
	return nil, false, nil
}

// waitForOrphans waits until no process is attached to the shared memory segment recorded by a server
// that has gone: its children outlive it briefly, and postgres refuses to start while they hold it.
func waitForOrphans(ctx context.Context, pf pidFile, pgdata string) error {
	if pf.shmKey == 0 && pf.shmID == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, orphanTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		attached, err := shmAttached(pf.shmKey, pf.shmID)
		if err != nil || attached == 0 {
			return nil // postgres makes the same check itself and says what it found
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d processes of a PostgreSQL server that is no longer running still use %s (shared memory id %d): stop them, then start again",
				attached, pgdata, pf.shmID)
		case <-ticker.C:
		}
	}
}

// shmAttached counts the processes attached to the System V shared memory segment with this key and id.
func shmAttached(key, id int64) (int, error) {
	b, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		return 0, fmt.Errorf("read shared memory segments: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	header := strings.Fields(lines[0])
	keyCol, idCol, nattchCol := slices.Index(header, "key"), slices.Index(header, "shmid"), slices.Index(header, "nattch")
	if keyCol < 0 || idCol < 0 || nattchCol < 0 {
		return 0, errors.New("read shared memory segments: unknown format")
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != len(header) || f[keyCol] != strconv.FormatInt(key, 10) || f[idCol] != strconv.FormatInt(id, 10) {
			continue
		}
		return strconv.Atoi(f[nattchCol])
	}
	return 0, nil
}

// errServerGone reports that a running server found at start-up exited while it was awaited.
var errServerGone = errors.New("server exited")
