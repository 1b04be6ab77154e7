package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// prodResult is the memory of the production binaries (bin/server and
// bin/worker, what the image runs) on the stack's Temporal and PostgreSQL,
// idle and holding n open complaints. They serve a task queue of their own,
// so the dev process's worker takes none of their work.
type prodResult struct {
	Open      int     `json:"open"`
	Create    opStats `json:"create"`
	WorkerMB  rssPair `json:"worker_mb"`
	ServerMB  rssPair `json:"server_mb"`
	CacheSize string  `json:"worker_cache_size"` // WORKER_CACHE_SIZE, "" for the default
}

type rssPair struct {
	Idle float64 `json:"idle"`
	Open float64 `json:"open"`
}

// process is a binary the bench started, in its own process group (a
// Ctrl-C on the terminal reaches only the bench, which then stops it).
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // its exit status, once exited is closed
}

// startProcess runs bin with env added to the bench's, its output to logPath.
func startProcess(bin, logPath string, env ...string) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := &process{cmd: exec.Command(bin), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *process) rss() float64 {
	v, _ := vmRSS(p.cmd.Process.Pid)
	return v
}

// measureProduction starts bin/worker and bin/server on a queue of their
// own, samples their RSS idle, creates n complaints through that server
// (received now: nothing falls due during the run) and samples again.
func (b *bench) measureProduction(ctx context.Context, n int, dir string) (prodResult, error) {
	r := prodResult{Open: n, CacheSize: os.Getenv("WORKER_CACHE_SIZE")}
	ports, err := freePorts(2)
	if err != nil {
		return r, err
	}
	api := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	env := []string{
		"DATABASE_URL=" + b.st.dbURL, "TEMPORAL_ADDRESS=" + b.st.temporal, "TEMPORAL_NAMESPACE=default",
		"TEMPORAL_TASK_QUEUE=bench-production-" + b.tag, "TIME_ZONE=" + b.location, "LOG_LEVEL=warn",
		"HTTP_ADDR=127.0.0.1:" + strconv.Itoa(ports[0]), "METRICS_ADDR=127.0.0.1:" + strconv.Itoa(ports[1]),
	}
	logf("production: starting bin/worker and bin/server (logs in %s)", dir)
	wk, err := startProcess("bin/worker", filepath.Join(dir, "worker.log"), env...)
	if err != nil {
		return r, err
	}
	defer wk.stop()
	srv, err := startProcess("bin/server", filepath.Join(dir, "server.log"), env...)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	if err := waitOK(ctx, api+"/readyz", srv.exited, time.Minute); err != nil {
		return r, fmt.Errorf("bin/server: %w", err)
	}
	if err := waitOK(ctx, "http://127.0.0.1:"+strconv.Itoa(ports[1])+"/metrics", wk.exited, time.Minute); err != nil {
		return r, fmt.Errorf("bin/worker: %w", err)
	}
	time.Sleep(2 * time.Second) // let start-up garbage be collected
	r.WorkerMB.Idle, r.ServerMB.Idle = wk.rss(), srv.rss()

	logf("production: creating %d complaints through bin/server", n)
	pb := *b
	pb.st = &stack{api: api, tokens: b.st.tokens}
	r.Create = runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error {
		return pb.createHTTP(ctx, b.no("P", i), nil)
	})
	time.Sleep(5 * time.Second)
	r.WorkerMB.Open, r.ServerMB.Open = wk.rss(), srv.rss()
	if r.Create.Errors > 0 {
		return r, fmt.Errorf("production: %d of %d creates failed, first: %s", r.Create.Errors, n, r.Create.FirstError)
	}
	return r, ctx.Err()
}
