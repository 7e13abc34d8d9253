package database

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clusterDir returns a cluster directory under a fresh temporary directory that the postgres user can
// traverse when the tests run as root (t.TempDir makes its directories 0700).
func clusterDir(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	for p := base; p != filepath.Clean(os.TempDir()) && p != filepath.Dir(p); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatalf("chmod %s: %v", p, err)
		}
	}
	return filepath.Join(base, "postgres")
}

func startTestCluster(t *testing.T, dir string) *Cluster {
	t.Helper()
	c, err := StartCluster(t.Context(), ClusterOptions{Dir: dir})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	return c
}

// execApp runs statements on the cluster's application database as the owner role.
func execApp(t *testing.T, c *Cluster, query string) {
	t.Helper()
	db, err := Open(t.Context(), c.OwnerURL())
	if err != nil {
		t.Fatalf("open %s: %v", c.OwnerURL(), err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func countNotes(t *testing.T, c *Cluster) int {
	t.Helper()
	db, err := Open(t.Context(), c.URL())
	if err != nil {
		t.Fatalf("open %s: %v", c.URL(), err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM notes").Scan(&n); err != nil {
		t.Fatalf("count notes: %v", err)
	}
	return n
}

func TestClusterFirstRunThenReuse(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	ctx := t.Context()

	began := time.Now()
	c, err := StartCluster(ctx, ClusterOptions{Dir: dir})
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	t.Logf("cold start (initdb, start, role and database): %s", time.Since(began).Round(time.Millisecond))
	if !c.Initialised() {
		t.Error("first start: Initialised() = false, want true")
	}

	db, err := Open(ctx, c.URL())
	if err != nil {
		t.Fatalf("open %s: %v", c.URL(), err)
	}
	var user, database, listen string
	var super bool
	err = db.QueryRowContext(ctx, `SELECT current_user, current_database(), current_setting('listen_addresses'),
		(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)`).Scan(&user, &database, &listen, &super)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if user != "portal_app" || database != "portal" || super || listen != "" {
		t.Errorf("connected as %q to %q (superuser %v, listen_addresses %q); want portal_app to portal, not superuser, no listen address",
			user, database, super, listen)
	}
	// The runtime role creates nothing; the owner does, and the runtime role may then use what it made.
	if _, err := db.ExecContext(ctx, "CREATE TABLE notes (body text)"); err == nil {
		t.Error("the runtime role created a table, want it refused")
	}
	owner, err := Open(ctx, c.OwnerURL())
	if err != nil {
		t.Fatalf("open %s: %v", c.OwnerURL(), err)
	}
	var ownerUser, databaseOwner string
	err = owner.QueryRowContext(ctx, `SELECT current_user, pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()`).
		Scan(&ownerUser, &databaseOwner)
	if err != nil {
		t.Fatalf("owner query: %v", err)
	}
	if ownerUser != "portal" || databaseOwner != "portal" {
		t.Errorf("owner URL connects as %q to a database owned by %q, want portal for both", ownerUser, databaseOwner)
	}
	if _, err := owner.ExecContext(ctx, "CREATE TABLE notes (body text)"); err != nil {
		t.Fatalf("create table as the owner: %v", err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO notes VALUES ('kept')"); err != nil {
		t.Fatalf("insert as the runtime role into the owner's new table: %v", err)
	}
	if _, err := db.ExecContext(ctx, "ALTER TABLE notes ADD COLUMN extra text"); err == nil {
		t.Error("the runtime role altered the owner's table, want it refused")
	}
	if err := owner.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after stop: %v, want it removed", err)
	}

	began = time.Now()
	c = startTestCluster(t, dir)
	t.Logf("warm start: %s", time.Since(began).Round(time.Millisecond))
	if c.Initialised() {
		t.Error("second start: Initialised() = true, want false")
	}
	if n := countNotes(t, c); n != 1 {
		t.Errorf("notes after restart = %d, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres.log")); err != nil {
		t.Errorf("server log: %v", err)
	}
}

func TestClusterReusesServerAlreadyRunning(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	first := startTestCluster(t, dir)
	execApp(t, first, "CREATE TABLE notes (body text)")

	second, err := StartCluster(t.Context(), ClusterOptions{Dir: dir})
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if second.Initialised() {
		t.Error("second start: Initialised() = true, want false")
	}
	if second.URL() != first.URL() {
		t.Errorf("second URL = %s, want %s", second.URL(), first.URL())
	}
	if n := countNotes(t, second); n != 0 {
		t.Errorf("notes = %d, want 0", n)
	}
	if err := second.Stop(); err != nil {
		t.Fatalf("stop the reusing cluster: %v", err)
	}
	// The server belongs to the first: it still runs.
	if n := countNotes(t, first); n != 0 {
		t.Errorf("notes = %d, want 0", n)
	}
}

func TestClusterRecoversFromCrashLeftovers(t *testing.T) {
	t.Parallel()
	// Each case leaves postmaster.pid behind in a different way.
	tests := []struct {
		name  string
		crash func(t *testing.T, c *Cluster)
	}{
		{
			name: "server killed",
			crash: func(t *testing.T, c *Cluster) {
				if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatalf("kill postgres: %v", err)
				}
				<-c.exited
			},
		},
		{
			name: "pid file names a process that has exited",
			crash: func(t *testing.T, c *Cluster) {
				stopAndForgePIDFile(t, c, exitedPID(t))
			},
		},
		{
			name: "pid file names a live process that is not postgres",
			crash: func(t *testing.T, c *Cluster) {
				sleeper := exec.Command("sleep", "60")
				if err := sleeper.Start(); err != nil {
					t.Fatalf("start sleep: %v", err)
				}
				t.Cleanup(func() {
					_ = sleeper.Process.Kill()
					_ = sleeper.Wait()
				})
				stopAndForgePIDFile(t, c, sleeper.Process.Pid)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := clusterDir(t)
			// Durable, so that a commit acknowledged before the crash must survive it.
			c, err := StartCluster(t.Context(), ClusterOptions{Dir: dir, Fsync: true})
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			execApp(t, c, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')")
			tt.crash(t, c)
			if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); err != nil {
				t.Fatalf("postmaster.pid after the crash: %v, want it left behind", err)
			}

			again := startTestCluster(t, dir)
			if again.Initialised() {
				t.Error("Initialised() = true after a crash, want false")
			}
			if again.cmd == nil {
				t.Error("reused a server after a crash, want a new one started")
			}
			if n := countNotes(t, again); n != 1 {
				t.Errorf("notes = %d, want 1", n)
			}
		})
	}
}

// stopAndForgePIDFile stops the server cleanly, then writes back the postmaster.pid and socket lock file
// it had while running, naming pid, as a server that crashed would have left them.
func stopAndForgePIDFile(t *testing.T, c *Cluster, pid int) {
	t.Helper()
	pidPath := filepath.Join(c.pgdata, "postmaster.pid")
	lockPath := filepath.Join(c.socketDir, socketName(c.port)+".lock")
	files := map[string][]byte{}
	for _, p := range []string{pidPath, lockPath} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		_, rest, _ := strings.Cut(string(b), "\n")
		files[p] = []byte(strconv.Itoa(pid) + "\n" + rest)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// A socket directory under os.TempDir() is removed on Stop; a crash would have left it.
	if err := os.MkdirAll(c.socketDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatalf("write %s: %v", p, err)
		}
	}
}

// exitedPID is the PID of a process that has exited.
func exitedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	return cmd.Process.Pid
}

func TestClusterLongDirectoryPutsSocketUnderTempDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(clusterDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60))
	c := startTestCluster(t, dir)
	if strings.HasPrefix(c.socketDir, dir) || !strings.HasPrefix(filepath.Base(c.socketDir), socketDirPrefix) {
		t.Errorf("socket directory = %s, want a %s* directory under %s", c.socketDir, socketDirPrefix, os.TempDir())
	}
	execApp(t, c, "SELECT 1")
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(c.socketDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory after stop: %v, want it removed", err)
	}
}

func TestClusterWithoutServerBinaries(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	_, err := StartCluster(context.Background(), ClusterOptions{Dir: filepath.Join(t.TempDir(), "postgres"), BinDir: empty})
	if !errors.Is(err, ErrNoServerBinaries) {
		t.Fatalf("StartCluster error = %v, want ErrNoServerBinaries", err)
	}
	msg := err.Error()
	for _, want := range []string{"initdb", empty, "apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q is more than one line", msg)
	}
}

func TestFindServerBinaries(t *testing.T) {
	root := t.TempDir()
	lib := filepath.Join(root, "lib")
	onPath := filepath.Join(root, "path")
	emptyDir := filepath.Join(root, "empty")
	for _, d := range []string{"9.6", "13", "15"} {
		installFakeServer(t, filepath.Join(lib, d, "bin"))
	}
	installFakeServer(t, onPath)
	if err := os.MkdirAll(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// initdb alone is not an installation.
	onlyInitdb := filepath.Join(root, "only-initdb")
	installFakeServer(t, onlyInitdb)
	if err := os.Remove(filepath.Join(onlyInitdb, "postgres")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		binDir      string
		path        string
		libDir      string
		dataVersion string
		want        string // directory; empty = ErrNoServerBinaries
	}{
		{name: "bin dir given", binDir: onPath, path: "", libDir: lib, want: onPath},
		{name: "bin dir given but empty", binDir: emptyDir, path: onPath, libDir: lib, want: ""},
		{name: "PATH before library", path: emptyDir + ":" + onlyInitdb + ":" + onPath, libDir: lib, want: onPath},
		{name: "highest library version", path: emptyDir, libDir: lib, want: filepath.Join(lib, "15", "bin")},
		{name: "version of existing cluster first", path: onPath, libDir: lib, dataVersion: "13", want: filepath.Join(lib, "13", "bin")},
		{name: "version of existing cluster missing", path: emptyDir, libDir: lib, dataVersion: "12", want: filepath.Join(lib, "15", "bin")},
		{name: "nothing", path: emptyDir, libDir: filepath.Join(root, "missing"), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findServerBinaries(tt.binDir, tt.path, tt.libDir, tt.dataVersion)
			if tt.want == "" {
				if !errors.Is(err, ErrNoServerBinaries) {
					t.Fatalf("findServerBinaries = %+v, %v; want ErrNoServerBinaries", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("findServerBinaries: %v", err)
			}
			want := serverBinaries{initdb: filepath.Join(tt.want, "initdb"), postgres: filepath.Join(tt.want, "postgres")}
			if got != want {
				t.Errorf("findServerBinaries = %+v, want %+v", got, want)
			}
		})
	}
}

func installFakeServer(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckTraversable(t *testing.T) {
	// A user that owns nothing here: only the "other" permission bits apply to it.
	stranger := &syscall.Credential{Uid: 65534, Gid: 65534}
	tests := []struct {
		name    string
		mode    os.FileMode
		wantErr bool
	}{
		{name: "searchable by others", mode: 0o755, wantErr: false},
		{name: "searchable but not readable by others", mode: 0o711, wantErr: false},
		{name: "private", mode: 0o700, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := clusterDir(t)
			if err := os.Mkdir(parent, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(parent, tt.mode); err != nil {
				t.Fatal(err)
			}
			err := checkTraversable(parent, stranger)
			if tt.wantErr != (err != nil) {
				t.Fatalf("checkTraversable error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), "PORTAL_DATA_DIR") || strings.Contains(err.Error(), "\n")) {
				t.Errorf("error %q should be one line naming PORTAL_DATA_DIR", err)
			}
		})
	}
}

func TestClusterDataDirUnreachableByServerUser(t *testing.T) {
	parent := clusterDir(t)
	if err := os.Mkdir(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := StartCluster(t.Context(), ClusterOptions{Dir: filepath.Join(parent, "postgres")})
	if os.Geteuid() != 0 {
		// The server runs as this user, who can reach its own directory.
		if err != nil {
			t.Fatalf("StartCluster: %v", err)
		}
		if err := c.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "PORTAL_DATA_DIR") {
		t.Fatalf("StartCluster error = %v, want one naming PORTAL_DATA_DIR", err)
	}
}

func TestReadPIDFile(t *testing.T) {
	dir := t.TempDir()
	content := "4242\n/srv/pgdata\n1763686800\n5433\n/srv/run\n\n  5432001     32768\nready   \n"
	if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	pf, ok, err := readPIDFile(dir)
	if err != nil || !ok {
		t.Fatalf("readPIDFile = %v, %v", ok, err)
	}
	want := pidFile{pid: 4242, dataDir: "/srv/pgdata", port: 5433, socketDir: "/srv/run", shmKey: 5432001, shmID: 32768}
	if pf != want {
		t.Errorf("readPIDFile = %+v, want %+v", pf, want)
	}
	if serverRunsFor(os.Getpid(), dir) {
		t.Errorf("serverRunsFor(test process) = true, want false")
	}
	if _, ok, err := readPIDFile(filepath.Join(dir, "none")); ok || err != nil {
		t.Errorf("readPIDFile(no file) = %v, %v; want false, nil", ok, err)
	}
}

// helperDirEnv tells the test binary, run again as a child by TestClusterStopsWhenPortalDies, to play
// the portal: start a cluster in that directory and wait to be killed.
const helperDirEnv = "PORTAL_CLUSTER_HELPER_DIR"

func TestClusterHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		return
	}
	c, err := StartCluster(context.Background(), ClusterOptions{Dir: dir})
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("ready %d\n", c.cmd.Process.Pid)
	select {}
}

func TestClusterStopsWhenPortalDies(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	portal := exec.Command(os.Args[0], "-test.run=^TestClusterHelperProcess$")
	portal.Env = append(os.Environ(), helperDirEnv+"="+dir)
	out, err := portal.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := portal.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read helper: %v", err)
	}
	var pid int
	if _, err := fmt.Sscanf(line, "ready %d", &pid); err != nil {
		t.Fatalf("helper said %q", line)
	}
	pgdata := filepath.Join(dir, "pgdata")
	pf, ok, err := readPIDFile(pgdata)
	if err != nil || !ok || pf.pid != pid {
		t.Fatalf("postmaster.pid: %+v, %v, %v; want pid %d", pf, ok, err, pid)
	}
	children := childrenOf(t, pid)
	if len(children) == 0 {
		t.Fatal("the server has no child processes to check")
	}
	killed := time.Now()
	if err := portal.Process.Kill(); err != nil {
		t.Fatalf("kill helper: %v", err)
	}
	_ = portal.Wait() // killed

	deadline := killed.Add(10 * time.Second)
	for serverRunsFor(pid, pgdata) {
		if time.Now().After(deadline) {
			t.Fatalf("postgres (pid %d) still runs 10s after the portal died", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	gone := time.Since(killed)
	// Nothing of the server is left: none of its processes, nothing attached to its shared memory.
	for _, child := range children {
		if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "cmdline")); err == nil && strings.HasPrefix(string(b), "postgres") {
			t.Errorf("server process %d (%s) outlived the portal", child, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if n, err := shmAttached(pf.shmKey, pf.shmID); err != nil || n != 0 {
		t.Errorf("%d processes still attached to the server's shared memory (%v)", n, err)
	}
	// A fast shutdown removes postmaster.pid: nothing for the next start to clean up.
	if _, err := os.Stat(filepath.Join(pgdata, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after the portal died: %v, want it removed by a clean shutdown", err)
	}

	// The next start finds a cleanly stopped cluster: no crash recovery, no leftovers to remove.
	began := time.Now()
	c := startTestCluster(t, dir)
	restart := time.Since(began)
	if c.Initialised() || c.cmd == nil {
		t.Errorf("restart: initialised %v, started a server %v; want a server started on the existing cluster", c.Initialised(), c.cmd != nil)
	}
	if restart > 2*time.Second {
		t.Errorf("the next start took %s, want under 2 s", restart)
	}
	t.Logf("server and its %d processes gone %s after the portal was killed; the next start took %s",
		len(children), gone.Round(time.Millisecond), restart.Round(time.Millisecond))
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so read after its closing parenthesis.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			kids = append(kids, n)
		}
	}
	return kids
}

// TestClusterGivesEarlierClustersTheRuntimeRole starts a cluster made before the portal served as a
// runtime role (the owner role made and used everything): the next start adds the runtime role with
// its grants on the tables already there, and only INSERT and SELECT on the audit trail.
func TestClusterGivesEarlierClustersTheRuntimeRole(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	ctx := t.Context()
	c, err := StartCluster(ctx, ClusterOptions{Dir: dir})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	su, err := Open(ctx, c.SuperuserURL("portal"))
	if err != nil {
		t.Fatalf("open as superuser: %v", err)
	}
	if _, err := su.ExecContext(ctx, `DROP OWNED BY portal_app; DROP ROLE portal_app`); err != nil {
		t.Fatalf("remove the runtime role: %v", err)
	}
	if err := su.Close(); err != nil {
		t.Fatal(err)
	}
	execApp(t, c, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept'); CREATE TABLE audit_events (id bigint)")
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	c = startTestCluster(t, dir)
	if n := countNotes(t, c); n != 1 {
		t.Errorf("notes read by the runtime role = %d, want 1", n)
	}
	db, err := Open(ctx, c.URL())
	if err != nil {
		t.Fatalf("open %s: %v", c.URL(), err)
	}
	defer db.Close()
	var insert, sel, update, del, truncate bool
	err = db.QueryRowContext(ctx, `SELECT has_table_privilege('audit_events', 'INSERT'), has_table_privilege('audit_events', 'SELECT'),
		has_table_privilege('audit_events', 'UPDATE'), has_table_privilege('audit_events', 'DELETE'),
		has_table_privilege('audit_events', 'TRUNCATE')`).Scan(&insert, &sel, &update, &del, &truncate)
	if err != nil {
		t.Fatalf("privileges: %v", err)
	}
	if !insert || !sel || update || del || truncate {
		t.Errorf("runtime role on audit_events: insert %v select %v update %v delete %v truncate %v; want only insert and select",
			insert, sel, update, del, truncate)
	}
}
