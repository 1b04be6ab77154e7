package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// stack is the service under test: either a fresh `make run` stack this
// process started (proc != nil), or one already running (-url).
type stack struct {
	api      string            // http://host:port
	temporal string            // host:port of the Temporal frontend
	dbURL    string            // PostgreSQL of the read model
	tokens   map[string]string // user id -> bearer token

	// Only for a stack we started.
	proc    *process
	pid     int    // the dev process, for RSS (also -pid for a running stack)
	dataDir string // DATA_DIR of the dev process
	logPath string // its stdout and stderr
	pprof   string // its profiler's base URL
}

// startStack runs the dev binary on free ports with a fresh data directory
// under dir and waits until it is ready.
func startStack(ctx context.Context, bin, dir string) (*stack, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	s := &stack{
		pprof:    "http://127.0.0.1:" + strconv.Itoa(ports[3]),
		api:      "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		temporal: "127.0.0.1:" + strconv.Itoa(ports[1]),
		dataDir:  filepath.Join(dir, "data"),
		logPath:  filepath.Join(dir, "stack.log"),
	}
	s.proc, err = startProcess(bin, s.logPath,
		"DATA_DIR="+s.dataDir,
		"HTTP_ADDR=127.0.0.1:"+strconv.Itoa(ports[0]),
		"TEMPORAL_DEV_PORT="+strconv.Itoa(ports[1]),
		"TEMPORAL_UI_PORT="+strconv.Itoa(ports[2]),
		"PPROF_ADDR=127.0.0.1:"+strconv.Itoa(ports[3]),
		"LOG_LEVEL=warn",
	)
	if err != nil {
		return nil, err
	}
	s.pid = s.proc.cmd.Process.Pid
	// The first start runs initdb and creates the Temporal schema.
	if err := waitOK(ctx, s.api+"/readyz", s.proc.exited, 5*time.Minute); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, s.logPath)
	}
	// The banner names the real PostgreSQL URL (localpg may have had to put
	// the socket elsewhere than DATA_DIR/postgres).
	s.dbURL = fmt.Sprintf("postgres://app@/aftersales?host=%s&port=5432&sslmode=disable", filepath.Join(s.dataDir, "postgres"))
	if b, err := os.ReadFile(s.logPath); err == nil {
		if m := regexp.MustCompile(`PostgreSQL\s+(postgres://\S+)`).FindSubmatch(b); m != nil {
			s.dbURL = string(m[1])
		}
	}
	s.tokens, err = readTokens(filepath.Join(s.dataDir, "demo-tokens.json"))
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitOK polls url until it answers 200, the process exits, or within passes.
func waitOK(ctx context.Context, url string, exited <-chan struct{}, within time.Duration) error {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not answer 200 within %s", url, within)
}

// stop sends SIGINT (the dev process then stops every part in reverse
// order, PostgreSQL included) and waits; SIGKILL after a minute.
func (s *stack) stop() error {
	if s.proc == nil {
		return nil
	}
	_ = s.proc.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.proc.exited:
		return s.proc.waitErr
	case <-time.After(time.Minute):
		_ = s.proc.cmd.Process.Kill()
		<-s.proc.exited
		return errors.New("the stack did not stop within a minute of SIGINT: killed (its PostgreSQL may still run)")
	}
}

func readTokens(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	var users []struct {
		UserID string `json:"user_id"`
		Token  string `json:"token"`
	}
	if err := json.Unmarshal(b, &users); err != nil {
		return nil, fmt.Errorf("tokens %s: %w", path, err)
	}
	m := map[string]string{}
	for _, u := range users {
		m[u.UserID] = u.Token
	}
	if m["agent1"] == "" {
		return nil, fmt.Errorf("tokens %s: no token of agent1", path)
	}
	return m, nil
}

// freePorts finds n distinct free loopback ports (held open together, so
// they differ; a race with another process is possible but unlikely).
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
