// Package localpg runs a throwaway local PostgreSQL cluster from the
// machine's PostgreSQL binaries: no Docker, no TCP listener (unix socket only).
//
// Two callers:
//   - the dev launcher (make run): Options.Dir is a data directory that is
//     initialised once and reused on every run; Stop on Ctrl-C.
//   - tests: Options{Fast: true} and an empty Dir give a cluster in a fresh
//     temporary directory that Stop removes.
//
// PostgreSQL refuses to run as root. When this process is root (sessions and
// CI here are), the server binaries run as the "postgres" system user and the
// data directory is handed to that user; otherwise they run as the caller.
package localpg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// User is the cluster's superuser; local connections need no password.
	User = "app"
	// DefaultPort only names the socket file (.s.PGSQL.5432): with no TCP
	// listener, clusters with different socket directories never clash.
	DefaultPort = 5432

	logName = "server.log" // server log, kept in the data directory
	// sun_path holds 108 bytes on Linux and 104 on macOS; stay below both.
	maxSocketPath = 100
	// How long pg_ctl may wait for start/stop, and Start for a first connection.
	waitSeconds = 60
)

// Options says where and how to run the cluster.
type Options struct {
	// Dir is the cluster's data directory: created and initialised (initdb)
	// when it holds no PG_VERSION, reused otherwise. Empty means a new
	// temporary directory that Stop removes (for tests).
	Dir string
	// Port names the unix socket; 0 means DefaultPort.
	Port int
	// Fast trades durability for speed (fsync, synchronous_commit and
	// full_page_writes off, initdb --no-sync). For tests only: a crash can
	// corrupt the data. The dev launcher leaves it off so a user's data
	// survives a crash or power loss.
	Fast bool
	// Settings are extra server settings (name -> value), passed as -c.
	Settings map[string]string
	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

// Cluster is a running local server.
type Cluster struct {
	DataDir   string // the data directory actually used (see Fallback)
	SocketDir string // where the unix socket lives
	Port      int
	BinDir    string // where initdb, pg_ctl and postgres were found

	// RequestedDir is Options.Dir made absolute (or the temporary directory).
	RequestedDir string
	// Fallback is true when RequestedDir could not be reached by the
	// postgres user (root only, e.g. a directory under /root) and DataDir is
	// a stable stand-in under /var/tmp instead.
	Fallback bool
	// Reused is true when the server was already running in DataDir (say a
	// previous run crashed without stopping it) and Start adopted it.
	Reused bool

	runAs   *syscall.Credential // nil: run binaries as ourselves
	temp    bool                // remove the directories on Stop
	logf    func(string, ...any)
	mu      sync.Mutex
	stopped bool
}

// Start brings up the cluster described by opts and returns once it accepts
// connections. On failure nothing it started is left running.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	binDir, err := findBinaries(ctx, logf)
	if err != nil {
		return nil, err
	}
	c := &Cluster{BinDir: binDir, Port: opts.Port, logf: logf}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if os.Geteuid() == 0 {
		if c.runAs, err = postgresUser(); err != nil {
			return nil, err
		}
	}

	if opts.Dir == "" {
		// Directly under the temp dir (normally /tmp): reachable by the
		// postgres user and short enough for the socket.
		if c.RequestedDir, err = os.MkdirTemp("", "localpg-"); err != nil {
			return nil, fmt.Errorf("localpg: %w", err)
		}
		c.temp = true
		defer func() {
			if err != nil {
				c.removeDirs()
			}
		}()
	} else if c.RequestedDir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}

	c.DataDir = c.RequestedDir
	if c.runAs != nil && !c.reachable(ctx, c.RequestedDir) {
		// Never loosen the permissions of the user's own directories (e.g.
		// /root is 0700); use a stable place per requested directory, so the
		// data is still found on the next run.
		c.DataDir = "/var/tmp/localpg-" + shortHash(c.RequestedDir)
		c.Fallback = true
		logf("localpg: the postgres user cannot reach %s (PostgreSQL cannot run as root); using %s instead", c.RequestedDir, c.DataDir)
	} else if err := mkdirParents(c.DataDir); err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	if err := c.makeDir(c.DataDir, c.Fallback); err != nil {
		return nil, err
	}

	pidFile := filepath.Join(c.DataDir, "postmaster.pid")
	if live, lines := lockHolder(pidFile, c.DataDir); live {
		// Lines: PID, data directory, start time, port, first socket
		// directory, listen address, shared memory key, status.
		c.Reused = true
		if len(lines) > 4 {
			c.Port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
			c.SocketDir = strings.TrimSpace(lines[4])
		}
		if c.SocketDir == "" || c.Port == 0 { // started by someone else, without a socket
			return nil, fmt.Errorf("localpg: a server without a unix socket is already running in %s; stop it with: %s", c.DataDir, c.StopCommand())
		}
		logf("localpg: reusing the server already running in %s", c.DataDir)
		if err := c.waitReady(ctx); err != nil {
			return nil, fmt.Errorf("localpg: the server already running in %s does not accept connections (stop it with: %s): %w\n%s", c.DataDir, c.StopCommand(), err, c.logTail())
		}
		return c, nil
	}

	c.SocketDir = c.DataDir
	if len(c.socketPath()) > maxSocketPath {
		c.SocketDir = "/tmp/localpg-s-" + shortHash(c.DataDir)
		if err := c.makeDir(c.SocketDir, true); err != nil {
			return nil, err
		}
	}

	// Lock files of a server that died without cleaning up (kill -9, OOM,
	// machine or container restart). PostgreSQL ignores them itself only when
	// their PID is unused; after a container restart the PID often belongs to
	// another process, or the dead server is a not yet reaped zombie, and it
	// refuses to start. The socket's lock lives in the data directory too, so
	// it survives restarts.
	for _, f := range []string{pidFile, c.socketPath() + ".lock"} {
		if live, _ := lockHolder(f, c.DataDir); !live && exists(f) {
			logf("localpg: removing stale %s", f)
			if err := os.Remove(f); err != nil {
				return nil, fmt.Errorf("localpg: %w", err)
			}
		}
	}

	if !exists(filepath.Join(c.DataDir, "PG_VERSION")) {
		if err := c.initdb(ctx, opts.Fast); err != nil {
			return nil, err
		}
	}

	t0 := time.Now()
	out, err := c.command(ctx, "pg_ctl", "-D", c.DataDir, "-l", c.logPath(), "-w", "-t", strconv.Itoa(waitSeconds),
		"-o", serverOptions(c.SocketDir, c.Port, opts), "start").CombinedOutput()
	if err == nil {
		err = c.waitReady(ctx)
	} else {
		err = fmt.Errorf("pg_ctl start: %v: %s", err, tail(out, 5))
	}
	if err != nil {
		// Never leave a half-started server behind; ignore the result, the
		// server may well not be running.
		_ = c.stop("immediate")
		return nil, fmt.Errorf("localpg: starting postgres in %s: %w\n%s", c.DataDir, err, c.logTail())
	}
	logf("localpg: postgres started in %v (data %s, socket %s)", time.Since(t0).Round(time.Millisecond), c.DataDir, c.socketPath())
	return c, nil
}

// URL returns a connection URL (pgx and libpq) for database as the
// superuser, e.g. postgres://app@/db?host=/path/to/socketdir&port=5432&sslmode=disable.
func (c *Cluster) URL(database string) string {
	return "postgres://" + User + "@/" + escape(database, "") + "?host=" + escape(c.SocketDir, "/") +
		"&port=" + strconv.Itoa(c.Port) + "&sslmode=disable"
}

// CreateDatabase creates database name; it is not an error if it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil {
		// Rather than matching error codes (duplicate_database, or a
		// unique_violation when two callers race), ask whether it exists.
		var exists bool
		if qerr := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); qerr == nil && exists {
			return nil
		}
		return fmt.Errorf("localpg: create database %q: %w", name, err)
	}
	return nil
}

// Stop shuts the server down (fast mode: open sessions are ended, data is
// flushed) and, for a temporary cluster, removes its directories. It uses
// its own timeout, not Start's context, so it works on the Ctrl-C path.
// Calling it again after it succeeded does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	if err := c.stop("fast"); err != nil {
		c.logf("localpg: fast shutdown failed (%v); trying immediate", err)
		if err := c.stop("immediate"); err != nil {
			return fmt.Errorf("localpg: stopping postgres in %s: %w", c.DataDir, err)
		}
	}
	c.stopped = true
	if c.temp {
		c.removeDirs()
	}
	c.logf("localpg: postgres in %s stopped", c.DataDir)
	return nil
}

// StopCommand returns a shell command that stops the server, for a user to
// paste into a terminal.
func (c *Cluster) StopCommand() string {
	cmd := shellQuote(filepath.Join(c.BinDir, "pg_ctl")) + " -D " + shellQuote(c.DataDir) + " -m fast stop"
	if c.runAs != nil {
		cmd = "runuser -u postgres -- " + cmd
	}
	return cmd
}

func (c *Cluster) stop(mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), (waitSeconds+10)*time.Second)
	defer cancel()
	out, err := c.command(ctx, "pg_ctl", "-D", c.DataDir, "-m", mode, "-w", "-t", strconv.Itoa(waitSeconds), "stop").CombinedOutput()
	if err != nil {
		// pg_ctl fails when no server is running; that is what we want.
		if _, serr := os.Stat(filepath.Join(c.DataDir, "postmaster.pid")); errors.Is(serr, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("pg_ctl stop -m %s: %v: %s", mode, err, tail(out, 5))
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context, fast bool) error {
	entries, err := os.ReadDir(c.DataDir)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("localpg: %s is not empty and holds no PostgreSQL cluster (no PG_VERSION); empty it or choose another directory", c.DataDir)
	}
	// Locale C: byte-order sorting, the same on every machine, and needs no
	// OS locale to be installed. Trust auth: only reachable through a socket
	// in a directory only the server user (and root) can enter.
	args := []string{"-D", c.DataDir, "-A", "trust", "-U", User, "-E", "UTF8", "--locale=C"}
	if fast {
		args = append(args, "--no-sync")
	}
	t0 := time.Now()
	out, err := c.command(ctx, "initdb", args...).CombinedOutput()
	if err != nil {
		// The directory was empty; leave it so, or the next run would take a
		// half-made cluster for a real one.
		for _, e := range mustReadDir(c.DataDir) {
			os.RemoveAll(filepath.Join(c.DataDir, e.Name()))
		}
		return fmt.Errorf("localpg: initdb %s: %v\n%s", c.DataDir, err, tail(out, 10))
	}
	c.logf("localpg: initdb %s took %v", c.DataDir, time.Since(t0).Round(time.Millisecond))
	return nil
}

func mustReadDir(dir string) []fs.DirEntry {
	entries, _ := os.ReadDir(dir)
	return entries
}

// waitReady connects until the server answers "select 1". pg_ctl -w has
// already waited for the postmaster to report ready; this also proves the
// socket path and the URL are right.
func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(waitSeconds * time.Second)
	for {
		err := func() error {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			conn, err := pgx.Connect(cctx, c.URL("postgres"))
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			var one int
			return conn.QueryRow(cctx, "select 1").Scan(&one)
		}()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// command runs a PostgreSQL binary, as the postgres user when we are root.
// A Credential rather than runuser(1): no PAM session, no extra binary, and
// the context's kill reaches the program itself rather than a wrapper.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, name), args...)
	// initdb and pg_ctl fail when they cannot read their working directory,
	// as the postgres user cannot when root runs us from /root.
	cmd.Dir = "/"
	// PGDATA, PGPORT, PGHOST... from the caller's shell must not steer the
	// server or the tools; everything they need is on the command line.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// Its own process group: a terminal's Ctrl-C reaches our process, which
	// stops the cluster in order, instead of hitting the postmaster directly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c.runAs != nil {
		cmd.SysProcAttr.Credential = c.runAs
	}
	// The postmaster is detached by pg_ctl and writes to its log, but don't
	// ever hang on an inherited pipe.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// serverOptions builds pg_ctl's -o string, which pg_ctl hands to /bin/sh:
// values are shell-quoted.
func serverOptions(socketDir string, port int, opts Options) string {
	o := []string{"-k", shellQuote(socketDir), "-p", strconv.Itoa(port), "-c", "listen_addresses=''"}
	settings := map[string]string{}
	if opts.Fast {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o = append(o, "-c", shellQuote(k+"="+settings[k]))
	}
	return strings.Join(o, " ")
}

// lockHolder reports whether the PID in a PostgreSQL lock file (postmaster.pid
// or a socket's .lock) is a live server of dataDir, and returns the file's lines.
func lockHolder(lockFile, dataDir string) (live bool, lines []string) {
	b, err := os.ReadFile(lockFile)
	if err != nil {
		return false, nil
	}
	lines = strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid == 0 {
		return false, lines
	}
	if pid < 0 { // a standalone backend writes -PID
		pid = -pid
	}
	if exists("/proc/self/cwd") {
		// A server chdirs into its data directory, so its cwd tells a live
		// server of this cluster from a recycled PID or a zombie (no cwd).
		cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
		want, werr := filepath.EvalSymlinks(dataDir)
		return err == nil && werr == nil && cwd == want, lines
	}
	// No /proc (macOS): a live PID may be ours; let PostgreSQL judge.
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH), lines
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// postgresUser returns the credentials of the postgres system user.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("localpg: running as root, and PostgreSQL refuses to run as root, but there is no postgres user to run it as (install the Debian package postgresql, or create the user): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("localpg: postgres user has uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// reachable reports whether the postgres user can get to dir, i.e. traverse
// its nearest existing parent. dir itself is ours to chown. We ask the kernel
// (cd as that user) rather than reading mode bits, so ACLs and groups count.
func (c *Cluster) reachable(ctx context.Context, dir string) bool {
	p := filepath.Dir(dir)
	for {
		if _, err := os.Stat(p); err == nil || p == "/" {
			break
		}
		p = filepath.Dir(p)
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `cd -- "$1"`, "sh", p)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs}
	return cmd.Run() == nil
}

// mkdirParents creates dir's missing parents with mode 0755 whatever the
// umask, so the postgres user can traverse them.
func mkdirParents(dir string) error {
	parent := filepath.Dir(dir)
	if _, err := os.Stat(parent); err == nil || parent == dir {
		return nil
	}
	if err := mkdirParents(parent); err != nil {
		return err
	}
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(parent, 0o755)
}

// makeDir creates dir (0700) if needed and makes sure it belongs to the
// server's user with a mode PostgreSQL accepts (0700 or 0750). A directory in
// a shared place (/tmp, /var/tmp) that already exists must already be the
// server user's: anyone could have planted it.
func (c *Cluster) makeDir(dir string, shared bool) error {
	created := os.Mkdir(dir, 0o700) == nil
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("localpg: %s is not a directory", dir)
	}
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	if c.runAs != nil {
		uid, gid = c.runAs.Uid, c.runAs.Gid
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uid {
		switch {
		case shared && !created:
			return fmt.Errorf("localpg: %s belongs to uid %d, not %d; remove it", dir, st.Uid, uid)
		case c.runAs == nil:
			return fmt.Errorf("localpg: %s belongs to uid %d, not to you (uid %d)", dir, st.Uid, uid)
		}
		// Root: hand the directory (and any cluster already in it) over.
		err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, int(uid), int(gid))
		})
		if err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
	}
	if perm := fi.Mode().Perm(); perm != 0o700 && perm != 0o750 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
	}
	return nil
}

func (c *Cluster) removeDirs() {
	os.RemoveAll(c.DataDir)
	os.RemoveAll(c.RequestedDir)
	if c.SocketDir != "" && c.SocketDir != c.DataDir {
		os.RemoveAll(c.SocketDir)
	}
}

func (c *Cluster) socketPath() string {
	return filepath.Join(c.SocketDir, ".s.PGSQL."+strconv.Itoa(c.Port))
}

func (c *Cluster) logPath() string { return filepath.Join(c.DataDir, logName) }

// logTail is the end of the server log, for error messages.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath())
	if err != nil || len(b) == 0 {
		return "(no server log at " + c.logPath() + ")"
	}
	return "last lines of " + c.logPath() + ":\n" + tail(b, 20)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

// shellQuote quotes s for /bin/sh unless it is plainly safe.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// escape percent-encodes all but unreserved characters and those in keep.
// Both libpq and pgx decode %XX; '+' is not safe (pgx reads it as a space).
func escape(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' ||
			strings.IndexByte("-._~"+keep, ch) >= 0 {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}
