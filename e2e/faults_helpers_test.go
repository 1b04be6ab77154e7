package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/localpg"
	"github.com/acme/aftersales/migrations"
	"github.com/acme/aftersales/server"
	"github.com/acme/aftersales/worker"
)

// The fault tests build their stacks part by part, so that a part can be
// swapped for a broken one (an unreachable Temporal frontend), stopped (the
// worker, PostgreSQL) and started again.

// faultTimeout is the request deadline of the fault tests' servers.
const faultTimeout = 2 * time.Second

// faultMargin is how much longer than faultTimeout an answer may take
// (scheduling, the JSON answer); more is a hang.
const faultMargin = 1500 * time.Millisecond

// newTemporal starts an in-process Temporal server with the project's
// search attributes and returns its client.
func newTemporal(t *testing.T) client.Client {
	t.Helper()
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	tc := ts.GetDefaultClient()
	if err := worker.EnsureSearchAttributes(context.Background(), tc, ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	return tc
}

// unreachableTemporal is a client whose frontend nothing listens on.
func unreachableTemporal(t *testing.T) client.Client {
	t.Helper()
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: nil})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// stoppableWorker is a worker that a test may stop (the "kill") before
// the test ends; Stop is safe to call more than once.
type stoppableWorker struct {
	w       sdkworker.Worker
	stopped bool
}

func (w *stoppableWorker) Stop() {
	if !w.stopped {
		w.stopped = true
		w.w.Stop()
	}
}

// startWorker starts the real worker on queue, with its own metrics registry.
func startWorker(t *testing.T, tc client.Client, queue string, pool *pgxpool.Pool) *stoppableWorker {
	t.Helper()
	w := &stoppableWorker{w: worker.New(tc, queue, worker.Deps{Pool: pool, Registry: prometheus.NewRegistry(), Logger: quiet})}
	if err := w.w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// newFaultServer builds the real server on pool and tc, serves it, and
// returns it with a stack that calls it as the demo users of tokens.
func newFaultServer(t *testing.T, pool *pgxpool.Pool, tc client.Client, queue string, tokens map[string]string) (*server.Server, *stack) {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	srv, err := server.New(server.Options{
		Logger: quiet, Pool: pool, Temporal: tc, Location: loc, TaskQueue: queue,
		Registry: prometheus.NewRegistry(), RequestTimeout: faultTimeout,
		PublicationWindow: publicationWindow,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, &stack{t: t, url: hs.URL, tokens: tokens, pool: pool, temporal: tc}
}

// faultStack runs the real worker and server on pool, against a fresh
// in-process Temporal, for the demo users; the worker may be stopped and
// started again (startWorker on s.temporal and queue).
func faultStack(t *testing.T, pool *pgxpool.Pool) (s *stack, w *stoppableWorker, queue string) {
	t.Helper()
	tokens := seedDemo(t, pool)
	tc := newTemporal(t)
	queue = "e2e-" + t.Name()
	w = startWorker(t, tc, queue, pool)
	_, s = newFaultServer(t, pool, tc, queue, tokens)
	return s, w, queue
}

// seedDemo seeds the demo organisation and returns user id -> token.
func seedDemo(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	tokens, err := demo.SeedTokens(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// ownCluster is a PostgreSQL cluster of one test, which it may stop and
// start again on the same data directory (the shared pgtest cluster is
// never stopped).
type ownCluster struct {
	t   *testing.T
	dir string // the data directory
	c   *localpg.Cluster
}

func startOwnCluster(t *testing.T) *ownCluster {
	t.Helper()
	// Not t.TempDir: as root the server runs as the postgres user, which
	// must be able to traverse the parent (t.TempDir's parents are 0700).
	parent, err := os.MkdirTemp("", "faultpg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	oc := &ownCluster{t: t, dir: filepath.Join(parent, "data")}
	t.Cleanup(func() {
		if oc.c != nil {
			if err := oc.c.Stop(); err != nil {
				t.Logf("stop own cluster: %v", err)
			}
		}
		if oc.c != nil && oc.c.Fallback {
			os.RemoveAll(oc.c.DataDir)
		}
		os.RemoveAll(parent)
	})
	oc.Start()
	return oc
}

// Start starts (or restarts) the cluster on its data directory.
func (oc *ownCluster) Start() {
	oc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := localpg.Start(ctx, localpg.Options{Dir: oc.dir, Fast: true})
	if err != nil {
		oc.t.Fatal(err)
	}
	oc.c = c
}

// Stop stops PostgreSQL; the data directory stays.
func (oc *ownCluster) Stop() {
	oc.t.Helper()
	if err := oc.c.Stop(); err != nil {
		oc.t.Fatal(err)
	}
}

// processes returns the PIDs of the running server: the postmaster first,
// then its children (backends, background workers).
func (oc *ownCluster) processes() []int {
	oc.t.Helper()
	b, err := os.ReadFile(filepath.Join(oc.c.DataDir, "postmaster.pid"))
	if err != nil {
		oc.t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	postmaster, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		oc.t.Fatalf("postmaster.pid: %q", first)
	}
	pids := []int{postmaster}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(postmaster) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// freeze stops every process of the server (SIGSTOP): PostgreSQL neither
// answers nor refuses, a hang rather than an outage. It returns the thaw
// (SIGCONT), which is also run when the test ends.
func (oc *ownCluster) freeze() (thaw func()) {
	oc.t.Helper()
	pids := oc.processes()
	for _, pid := range pids { // the postmaster first: it spawns no more children
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			oc.t.Fatalf("SIGSTOP %d: %v", pid, err)
		}
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			for i := len(pids) - 1; i >= 0; i-- {
				_ = syscall.Kill(pids[i], syscall.SIGCONT)
			}
		})
	}
	oc.t.Cleanup(thaw)
	return thaw
}

// pool creates database name, migrates it and returns a pool on it.
func (oc *ownCluster) pool(name string) *pgxpool.Pool {
	oc.t.Helper()
	ctx := context.Background()
	if err := oc.c.CreateDatabase(ctx, name); err != nil {
		oc.t.Fatal(err)
	}
	pool, err := db.Open(ctx, oc.c.URL(name))
	if err != nil {
		oc.t.Fatal(err)
	}
	oc.t.Cleanup(pool.Close)
	if _, err := migrations.Up(ctx, pool); err != nil {
		oc.t.Fatal(err)
	}
	return pool
}

// timedResponse is an answer with how long it took; err is a transport
// error (a hang past the client's timeout included).
type timedResponse struct {
	response
	elapsed time.Duration
	err     error
}

// timedCall is stack.call with a client timeout of faultTimeout +
// faultMargin (past it the call counts as a hang) and an optional
// Idempotency-Key; it never fails the test itself.
func (s *stack) timedCall(user, method, path string, body any, key string) timedResponse {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[user])
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	hc := &http.Client{Timeout: faultTimeout + faultMargin}
	t0 := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return timedResponse{elapsed: time.Since(t0), err: err}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := timedResponse{response: response{status: res.StatusCode, header: res.Header, raw: raw}, elapsed: time.Since(t0)}
	if len(raw) > 0 && res.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			out.err = fmt.Errorf("body is not a JSON object: %s", raw)
		}
	}
	return out
}

// unavailableProblem says what is wrong with an answer that should be a
// 503 naming dependency, or "" if it is one.
func (r timedResponse) unavailableProblem(dependency string) string {
	switch {
	case r.err != nil:
		return fmt.Sprintf("no answer after %v: %v", r.elapsed.Round(time.Millisecond), r.err)
	case r.status != http.StatusServiceUnavailable:
		return fmt.Sprintf("status %d, want 503: %s", r.status, r.raw)
	case r.header.Get("Retry-After") == "":
		return fmt.Sprintf("503 without Retry-After: %s", r.raw)
	case r.code() != "unavailable":
		return fmt.Sprintf("503 with code %q, want unavailable: %s", r.code(), r.raw)
	case r.fields()[dependency] == nil:
		return fmt.Sprintf("503 not naming %s in fields: %s", dependency, r.raw)
	case r.elapsed > faultTimeout+faultMargin:
		return fmt.Sprintf("answered after %v, past the deadline %v + %v", r.elapsed.Round(time.Millisecond), faultTimeout, faultMargin)
	}
	return ""
}

// countRows runs a count(*) query.
func countRows(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// tryCount is countRows that reports an error instead of failing (for
// polling while PostgreSQL comes back).
func tryCount(pool *pgxpool.Pool, sql string, args ...any) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var n int
	err := pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// pollUntil calls cond every 100 ms until it is true or within has passed,
// and reports whether it became true and how long that took.
func pollUntil(within time.Duration, cond func() bool) (bool, time.Duration) {
	t0 := time.Now()
	for {
		if cond() {
			return true, time.Since(t0)
		}
		if time.Since(t0) > within {
			return false, time.Since(t0)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// backdatedBody is complaintBody(no) received at receivedAt.
func backdatedBody(no string, receivedAt time.Time) map[string]any {
	b := complaintBody(no)
	b["received_at"] = receivedAt.UTC().Format(time.RFC3339Nano)
	return b
}
