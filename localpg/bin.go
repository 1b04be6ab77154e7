package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// errNoBinaries is the one-line message for a user who cannot install
// packages (not root): what to install, or how to avoid needing it.
var errNoBinaries = errors.New("localpg: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in $PG_BIN, PATH or /usr/lib/postgresql/*/bin: " +
	"install them (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@15), set PG_BIN to their directory, " +
	"or set DATABASE_URL to use a server you already have")

// findBinaries returns the directory holding initdb, pg_ctl and postgres,
// installing the Debian package when they are missing and we are root.
func findBinaries(ctx context.Context, logf func(string, ...any)) (string, error) {
	if dir := lookBinDir(logf); dir != "" {
		return dir, nil
	}
	if os.Geteuid() != 0 {
		return "", errNoBinaries
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", fmt.Errorf("%w (apt-get is not available to install them)", errNoBinaries)
	}
	logf("localpg: PostgreSQL binaries not found; installing the Debian package postgresql with apt-get")
	if err := aptGet(ctx, "install"); err != nil {
		// Usually a stale or empty package list (fresh containers have none).
		logf("localpg: apt-get install failed; running apt-get update and trying again")
		if err := aptGet(ctx, "update"); err != nil {
			return "", err
		}
		if err := aptGet(ctx, "install"); err != nil {
			return "", err
		}
	}
	if dir := lookBinDir(logf); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("%w (apt-get installed postgresql but the binaries are still not found)", errNoBinaries)
}

func aptGet(ctx context.Context, verb string) error {
	args := []string{
		// Several test binaries may start at once; wait for dpkg's lock
		// instead of failing on it.
		"-o", "DPkg::Lock::Timeout=300",
	}
	if verb == "install" {
		args = append(args, "install", "-y", "--no-install-recommends", "postgresql")
	} else {
		args = append(args, verb)
	}
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("localpg: apt-get %s: %v\n%s", verb, err, tail(out, 15))
	}
	return nil
}

// lookBinDir tries, in order: $PG_BIN, pg_ctl on PATH, the highest
// /usr/lib/postgresql/*/bin (Debian keeps the server binaries off PATH).
func lookBinDir(logf func(string, ...any)) string {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if hasServerBinaries(dir) {
			return dir
		}
		logf("localpg: PG_BIN=%s does not hold initdb, pg_ctl and postgres; looking elsewhere", dir)
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// Resolve symlinks (e.g. /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl)
		// so initdb and postgres come from the same installation as pg_ctl.
		if real, err := filepath.EvalSymlinks(p); err == nil && hasServerBinaries(filepath.Dir(real)) {
			return filepath.Dir(real)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { // highest version first
		return versionLess(filepath.Base(filepath.Dir(dirs[j])), filepath.Base(filepath.Dir(dirs[i])))
	})
	for _, dir := range dirs {
		if hasServerBinaries(dir) {
			return dir
		}
	}
	return ""
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// versionLess compares dotted version strings numerically ("9.6" < "15").
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx != nil || erry != nil {
			return a < b
		}
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

// tail returns the last n lines of b, for error messages.
func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
