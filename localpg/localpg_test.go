package localpg_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acme/aftersales/localpg"
	"github.com/jackc/pgx/v5"
)

// testDir is a fresh data directory. t.TempDir makes 0700 directories; as
// root the server runs as the postgres user, which must traverse them, so
// open them up (otherwise Start would fall back to /var/tmp).
func testDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start starts a cluster and stops it when the test ends (before t.TempDir
// is removed: cleanups run last-registered first). Missing binaries that
// cannot be installed make Start fail, and so the test: nothing is skipped.
func start(t *testing.T, opts localpg.Options) *localpg.Cluster {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := localpg.Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryInt(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestStartFresh(t *testing.T) {
	dir := testDir(t)
	t0 := time.Now()
	c := start(t, localpg.Options{Dir: dir, Fast: true})
	t.Logf("initdb+start took %v", time.Since(t0))

	if c.DataDir != dir || c.Fallback || c.Reused {
		t.Errorf("DataDir=%s Fallback=%v Reused=%v, want %s false false", c.DataDir, c.Fallback, c.Reused, dir)
	}
	if c.SocketDir != dir || c.Port != localpg.DefaultPort {
		t.Errorf("SocketDir=%s Port=%d, want %s %d", c.SocketDir, c.Port, dir, localpg.DefaultPort)
	}
	want := "postgres://app@/postgres?host=" + dir + "&port=5432&sslmode=disable"
	if got := c.URL("postgres"); got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
	conn := connect(t, c.URL("postgres"))
	if n := queryInt(t, conn, "select 1"); n != 1 {
		t.Errorf("select 1 = %d", n)
	}
	var user, listen string
	if err := conn.QueryRow(context.Background(), "select current_user, current_setting('listen_addresses')").Scan(&user, &listen); err != nil {
		t.Fatal(err)
	}
	if user != localpg.User || listen != "" {
		t.Errorf("current_user=%q listen_addresses=%q, want app and no TCP", user, listen)
	}
}

func TestCreateDatabaseTwice(t *testing.T) {
	c := start(t, localpg.Options{Dir: testDir(t), Fast: true})
	ctx := context.Background()
	for _, name := range []string{"orders_test", `odd "name"-1`} {
		for i := 0; i < 2; i++ {
			if err := c.CreateDatabase(ctx, name); err != nil {
				t.Fatalf("CreateDatabase(%q) #%d: %v", name, i+1, err)
			}
		}
		conn := connect(t, c.URL(name))
		var got string
		if err := conn.QueryRow(ctx, "select current_database()").Scan(&got); err != nil || got != name {
			t.Errorf("current_database() = %q, %v; want %q", got, err, name)
		}
	}
}

func TestRestartKeepsData(t *testing.T) {
	dir := testDir(t)
	ctx := context.Background()
	c := start(t, localpg.Options{Dir: dir}) // not Fast: like the dev launcher
	conn := connect(t, c.URL("postgres"))
	if _, err := conn.Exec(ctx, "create table kept (id int); insert into kept values (42)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if exists(filepath.Join(dir, "postmaster.pid")) {
		t.Fatal("postmaster.pid still there after Stop")
	}

	t0 := time.Now()
	c2 := start(t, localpg.Options{Dir: dir})
	t.Logf("restart on existing data took %v", time.Since(t0))
	if c2.Reused {
		t.Error("Reused = true after a clean stop")
	}
	conn2 := connect(t, c2.URL("postgres"))
	if n := queryInt(t, conn2, "select id from kept"); n != 42 {
		t.Errorf("kept.id = %d, want 42", n)
	}
}

// A server left running (previous run crashed) is adopted, not a failure.
func TestReuseRunningServer(t *testing.T) {
	dir := testDir(t)
	c := start(t, localpg.Options{Dir: dir, Fast: true})
	c2 := start(t, localpg.Options{Dir: dir})
	if !c2.Reused || c2.SocketDir != c.SocketDir || c2.Port != c.Port {
		t.Errorf("second Start: Reused=%v SocketDir=%s Port=%d; want true %s %d", c2.Reused, c2.SocketDir, c2.Port, c.SocketDir, c.Port)
	}
	conn := connect(t, c2.URL("postgres"))
	queryInt(t, conn, "select 1")
	conn.Close(context.Background())
	if err := c2.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil { // already stopped by c2: fine
		t.Fatal(err)
	}
}

// A postmaster.pid left by a dead server must not block Start, including
// the container-restart case where its PID now belongs to another process.
func TestStalePidFile(t *testing.T) {
	dir := testDir(t)
	c := start(t, localpg.Options{Dir: dir, Fast: true})
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{dead.Process.Pid, 1, os.Getpid()} {
		content := strings.Join([]string{strconv.Itoa(pid), dir, "1700000000", "5432", dir, "", "  1234   5678", "ready   ", ""}, "\n")
		// The socket's lock file is left behind too, and lives in the data dir.
		for _, f := range []string{"postmaster.pid", ".s.PGSQL.5432.lock"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c := start(t, localpg.Options{Dir: dir, Fast: true})
		if c.Reused {
			t.Errorf("pid %d: stale postmaster.pid taken for a running server", pid)
		}
		conn := connect(t, c.URL("postgres"))
		queryInt(t, conn, "select 1")
		conn.Close(context.Background())
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// Stop runs on the Ctrl-C path, when Start's context is already cancelled.
func TestStopAfterContextCancelled(t *testing.T) {
	dir := testDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := localpg.Start(ctx, localpg.Options{Dir: dir, Fast: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop after cancel: %v", err)
	}
	if exists(filepath.Join(dir, "postmaster.pid")) {
		t.Fatal("server still running")
	}
}

// Two clusters on the same port number in different directories.
func TestTwoClustersSamePort(t *testing.T) {
	a := start(t, localpg.Options{Dir: testDir(t), Fast: true})
	b := start(t, localpg.Options{Dir: testDir(t), Fast: true})
	ca, cb := connect(t, a.URL("postgres")), connect(t, b.URL("postgres"))
	if _, err := ca.Exec(context.Background(), "create table only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, cb, "select count(*) from pg_tables where tablename = 'only_in_a'"); n != 0 {
		t.Error("clusters share data")
	}
}

// A data directory whose socket path would exceed the unix socket limit
// gets a short socket directory under /tmp.
func TestLongPathSocketDir(t *testing.T) {
	dir := filepath.Join(testDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60))
	c := start(t, localpg.Options{Dir: dir, Fast: true})
	if c.SocketDir == c.DataDir || !strings.HasPrefix(c.SocketDir, "/tmp/") {
		t.Errorf("SocketDir = %s, want a short dir under /tmp", c.SocketDir)
	}
	connect(t, c.URL("postgres"))
	// Not a temporary cluster, so Stop keeps the socket dir; clean it up here.
	t.Cleanup(func() { os.RemoveAll(c.SocketDir) })
}

// An empty Dir means a temporary cluster that Stop removes.
func TestTemporaryCluster(t *testing.T) {
	c, err := localpg.Start(context.Background(), localpg.Options{Fast: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c.URL("postgres")).Close(context.Background())
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if exists(c.DataDir) {
		t.Errorf("%s still exists after Stop", c.DataDir)
	}
}

// The printed stop command really stops the server.
func TestStopCommand(t *testing.T) {
	c := start(t, localpg.Options{Dir: testDir(t), Fast: true})
	cmd := c.StopCommand()
	if !strings.Contains(cmd, "pg_ctl") || !strings.Contains(cmd, c.DataDir) {
		t.Errorf("StopCommand = %q", cmd)
	}
	if out, err := exec.Command("/bin/sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, c.URL("postgres")); err == nil {
		conn.Close(ctx)
		t.Fatal("server still accepts connections after StopCommand")
	}
	if err := c.Stop(); err != nil { // already stopped: fine
		t.Fatal(err)
	}
}

// As root, a directory the postgres user cannot reach is replaced by a
// stable one under /var/tmp, and the user's directories are left alone.
func TestFallbackWhenUnreachable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the /var/tmp fallback only applies when running as root")
	}
	private := filepath.Join(testDir(t), "private") // like /root: 0700, owned by root
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(private, "pgdata")
	c := start(t, localpg.Options{Dir: dir, Fast: true})
	t.Cleanup(func() { os.RemoveAll(c.DataDir) })
	if !c.Fallback || !strings.HasPrefix(c.DataDir, "/var/tmp/localpg-") || c.RequestedDir != dir {
		t.Errorf("Fallback=%v DataDir=%s RequestedDir=%s", c.Fallback, c.DataDir, c.RequestedDir)
	}
	if fi, err := os.Stat(private); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("parent mode changed: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s was created: %v", dir, err)
	}
	connect(t, c.URL("postgres"))

	// Same requested directory, same stand-in: the data is found again.
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, localpg.Options{Dir: dir, Fast: true})
	if c2.DataDir != c.DataDir {
		t.Errorf("fallback moved: %s then %s", c.DataDir, c2.DataDir)
	}
}

// A server that cannot start yields an error with the server log's tail and
// leaves nothing running.
func TestStartFailureShowsLog(t *testing.T) {
	dir := testDir(t)
	_, err := localpg.Start(context.Background(), localpg.Options{Dir: dir, Fast: true, Logf: t.Logf,
		Settings: map[string]string{"shared_buffers": "lots"}})
	if err == nil {
		t.Fatal("Start succeeded with shared_buffers=lots")
	}
	t.Logf("error:\n%v", err)
	if !strings.Contains(err.Error(), "server.log") || !strings.Contains(err.Error(), "shared_buffers") {
		t.Errorf("error lacks the server log tail: %v", err)
	}
	if exists(filepath.Join(dir, "postmaster.pid")) {
		t.Error("a server was left behind")
	}
}

// A postmaster killed with SIGKILL (machine crash, OOM killer) leaves its
// lock file and shared memory behind; the next Start recovers the data.
func TestKilledServer(t *testing.T) {
	dir := testDir(t)
	c := start(t, localpg.Options{Dir: dir})
	conn := connect(t, c.URL("postgres"))
	if _, err := conn.Exec(context.Background(), "create table survivor (id int); insert into survivor values (7)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Its children notice the postmaster's death and exit on their own; all
	// of them have the data directory as their working directory.
	for i := 0; len(processesIn(dir)) > 0; i++ {
		if i == 100 {
			t.Fatalf("server processes still running in %s: %v", dir, processesIn(dir))
		}
		time.Sleep(100 * time.Millisecond)
	}

	c2 := start(t, localpg.Options{Dir: dir})
	if c2.Reused {
		t.Error("a killed server was taken for a running one")
	}
	conn2 := connect(t, c2.URL("postgres"))
	if n := queryInt(t, conn2, "select id from survivor"); n != 7 {
		t.Errorf("survivor.id = %d, want 7", n)
	}
}

// processesIn lists the PIDs whose working directory is dir.
func processesIn(dir string) []string {
	var pids []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if cwd, err := os.Readlink(p + "/cwd"); err == nil && cwd == dir {
			pids = append(pids, filepath.Base(p))
		}
	}
	return pids
}
