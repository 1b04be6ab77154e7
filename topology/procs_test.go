package topology

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// buildBinaries builds the production commands into dir with `go build`,
// from the module this test belongs to: the test runs what the image runs.
func buildBinaries(dir string) error {
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/server", "./cmd/worker", "./cmd/migrate")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// process is a production binary the test started, its output in a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	log     string
	exited  chan struct{} // closed once it has exited
	waitErr error         // its exit status, once exited is closed
}

// baseEnv is this process's environment without what could steer the
// binaries elsewhere than the stack of the test (a developer's Temporal
// or PostgreSQL settings).
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") && !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return env
}

// start runs bin with env added to baseEnv; Cleanup stops it (SIGTERM,
// then SIGKILL) unless it has exited already.
func start(t *testing.T, name, bin, logDir string, env ...string) *process {
	t.Helper()
	p := &process{name: name, log: filepath.Join(logDir, name+".log"), exited: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(baseEnv(), env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	// Its own process group: a Ctrl-C on the terminal reaches only go
	// test, whose cleanup then stops the processes in order.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)
	return p
}

func (p *process) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *process) stop() {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// kill is the crash: SIGKILL, no shutdown of any kind.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.exited
}

// logTail is the end of the process's log, for failure messages.
func (p *process) logTail(lines int) string {
	b, _ := os.ReadFile(p.log)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// waitOK polls url until it answers 200, p exits, or the deadline passes.
func waitOK(t *testing.T, p *process, url string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if !p.alive() {
			t.Fatalf("%s exited before it was ready (%v):\n%s", p.name, p.waitErr, p.logTail(20))
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("%s: %s did not answer 200 within %s:\n%s", p.name, url, within, p.logTail(20))
}

// freePorts finds n distinct free loopback ports (held open together, so
// they differ; another process may still take one before the binary does).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// answer is one HTTP answer of the API.
type answer struct {
	status int
	body   map[string]any
	raw    string
	header http.Header
}

// client calls the API as the demo users, through whichever server a call names.
type apiClient struct {
	servers []string          // base URLs, http://127.0.0.1:port
	tokens  map[string]string // user id -> bearer token
	http    *http.Client
	// inflight counts the requests sent and not yet answered.
	inflight atomic.Int64
}

// do sends one request to server i; key, when set, is the Idempotency-Key.
func (c *apiClient) do(ctx context.Context, i int, user, method, path string, body any, key string) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.servers[i%len(c.servers)]+path, rd)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.tokens[user])
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	c.inflight.Add(1)
	defer c.inflight.Add(-1)
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: res.StatusCode, raw: string(raw), header: res.Header}
	_ = json.Unmarshal(raw, &a.body) // a list or an empty body leaves it nil
	return a, nil
}

// retryWithin is how long a client keeps retrying a request the service
// answered 503 (README "When something fails"), e.g. a command whose
// workflow was held by the killed worker.
const retryWithin = 90 * time.Second

// call sends a request to server i and, on 503 or a transport error,
// sends the same request (same body, same Idempotency-Key) again through
// the next server, as a client behind a load balancer would, until it gets
// another answer. retries counts the resends.
func (c *apiClient) call(ctx context.Context, i int, user, method, path string, body any, key string) (a answer, retries int, err error) {
	deadline := time.Now().Add(retryWithin)
	for ; ; i++ {
		a, err = c.do(ctx, i, user, method, path, body, key)
		if err == nil && a.status != http.StatusServiceUnavailable {
			return a, retries, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still 503 after %s: %s", retryWithin, short(a.raw))
			}
			return a, retries, fmt.Errorf("%s %s: %w", method, path, err)
		}
		retries++
		select {
		case <-ctx.Done():
			return a, retries, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// pollUntil calls cond until it is true or within has passed; it reports
// whether cond held.
func pollUntil(within time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(within); ; time.Sleep(250 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

var errNotOK = errors.New("unexpected answer")

// expect checks a's status.
func expect(a answer, status int, what string) error {
	if a.status != status {
		return fmt.Errorf("%w: %s: %d, want %d: %s", errNotOK, what, a.status, status, short(a.raw))
	}
	return nil
}

// short is the start of an answer, enough to see what it was.
func short(raw string) string {
	if len(raw) > 300 {
		return raw[:300] + "…"
	}
	return raw
}

func itoa(i int) string { return strconv.Itoa(i) }
