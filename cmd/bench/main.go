// Command bench measures the service against the raw Temporal SDK on the
// same server in the same run (`make bench`; issue 9): HTTP create and
// command latency, the lateness of a burst of escalations due at one
// instant against a floor of trivial timers, exactly-once escalation and
// deduction, memory, and the history size of a full lifecycle.
//
// By default it starts a fresh `make run` stack (bin/aftersales-dev) on free
// ports with a temporary data directory, and stops it at the end; -url
// drives one already running instead. Not part of `make test`.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/acme/aftersales/db"
	aftersalesworker "github.com/acme/aftersales/worker"
	"github.com/acme/aftersales/workflows"
)

type options struct {
	creates, commands, burst, concurrency int
	burstTimeout                          time.Duration
	steady                                int
	steadyWindow                          time.Duration
	open                                  int
	stickyTimeout                         time.Duration // the service worker's, for the floor's

	devBinary string
	keep      bool
	jsonPath  string

	// A running stack instead of a fresh one.
	url, temporal, databaseURL, tokens string
	pid                                int
	dataDir                            string

	taskQueue, timeZone string
}

func parseFlags() options {
	var o options
	flag.IntVar(&o.creates, "creates", 200, "complaints created each way (HTTP and raw SDK)")
	flag.IntVar(&o.commands, "commands", 200, "contact commands each way, one per created complaint (at most -creates)")
	flag.IntVar(&o.burst, "burst", 500, "complaints due at one instant (the issue's sizes: 2000, 10000); 0 skips the burst and its floor")
	flag.IntVar(&o.concurrency, "concurrency", 8, "concurrent requests while creating and commanding")
	flag.IntVar(&o.steady, "steady", 0, "complaints due one after another over -steady-window (the issue's: 10000 over 1h); 0 skips it")
	flag.DurationVar(&o.steadyWindow, "steady-window", time.Hour, "the window the -steady deadlines are spread over")
	flag.IntVar(&o.open, "open", 500, "complaints opened on the production binaries (bin/server, bin/worker) to measure their RSS (the issue's: 10000); 0 skips it")
	flag.DurationVar(&o.burstTimeout, "burst-timeout", 15*time.Minute, "how long after the burst's instant to wait for every escalation")
	flag.DurationVar(&o.stickyTimeout, "sticky-timeout", aftersalesworker.OneWorkerStickyTimeout, "the service worker's sticky timeout (make run's by default), which the floor's worker uses too")
	flag.StringVar(&o.devBinary, "dev-binary", "bin/aftersales-dev", "the dev launcher (what make run builds) to start")
	flag.BoolVar(&o.keep, "keep", false, "keep the fresh stack's data directory")
	flag.StringVar(&o.jsonPath, "json", "", "write the result as JSON here (default bench-result.json in the run's directory)")
	flag.StringVar(&o.url, "url", "", "drive the stack running at this API URL (e.g. http://127.0.0.1:8080) instead of starting one")
	flag.StringVar(&o.temporal, "temporal", "127.0.0.1:7233", "with -url: its Temporal frontend")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "with -url: its PostgreSQL")
	flag.StringVar(&o.tokens, "tokens", ".data/demo-tokens.json", "with -url: its demo-tokens.json")
	flag.IntVar(&o.pid, "pid", 0, "with -url: the dev process, to sample its RSS (0: no RSS)")
	flag.StringVar(&o.dataDir, "data-dir", "", "with -url: its DATA_DIR, to read its Temporal log and find its PostgreSQL")
	flag.StringVar(&o.taskQueue, "task-queue", "aftersales", "the service's task queue")
	flag.StringVar(&o.timeZone, "time-zone", "Asia/Shanghai", "the service's TIME_ZONE (part of the raw workflow input)")
	flag.Parse()
	o.commands = min(o.commands, o.creates)
	return o
}

func main() {
	o := parseFlags()
	// Ctrl-C ends the measurements; the stack is still stopped in order.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) (err error) {
	started := time.Now()
	dir, err := os.MkdirTemp("", "aftersales-bench-")
	if err != nil {
		return err
	}
	// The PostgreSQL server runs as the postgres user when we are root: it
	// must be able to traverse to its directory under this one.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if o.jsonPath == "" {
		o.jsonPath = filepath.Join(dir, "bench-result.json")
	}

	st, err := openStack(ctx, o, dir)
	if err != nil {
		return err
	}
	if st.proc != nil {
		defer func() {
			logf("stopping the stack")
			if serr := st.stop(); serr != nil {
				logf("stack stop: %v (log: %s)", serr, st.logPath)
			}
			if o.keep {
				logf("kept its data directory %s", st.dataDir)
			} else if rerr := os.RemoveAll(st.dataDir); rerr != nil {
				logf("remove %s: %v", st.dataDir, rerr)
			}
		}()
	}

	b, closeAll, err := connect(ctx, o, st)
	if err != nil {
		return err
	}
	defer closeAll()

	r := &result{StartedAt: started, Machine: thisMachine(), Stack: st.api, RSS: map[string]rss{},
		Sizes: sizes{Creates: o.creates, Commands: o.commands, Burst: o.burst, Concurrency: o.concurrency}}
	if err := measureAll(ctx, o, b, r, dir); err != nil {
		return err
	}
	if st.dataDir != "" {
		r.Logs = scanLogs(filepath.Join(st.dataDir, "temporal.log"), st.logPath)
	}
	r.WallSeconds = time.Since(started).Seconds()
	printTable(os.Stdout, r)
	if err := writeJSON(o.jsonPath, r); err != nil {
		return err
	}
	logf("result: %s", o.jsonPath)
	if st.logPath != "" {
		logf("stack log: %s", st.logPath)
	}
	if len(r.Failures) > 0 {
		return fmt.Errorf("%d check(s) failed: %v", len(r.Failures), r.Failures)
	}
	return nil
}

// openStack starts a fresh stack in dir, or describes the running one of -url.
func openStack(ctx context.Context, o options, dir string) (*stack, error) {
	if o.url != "" {
		tokens, err := readTokens(o.tokens)
		if err != nil {
			return nil, err
		}
		if o.databaseURL == "" {
			return nil, fmt.Errorf("-url needs -database-url (or DATABASE_URL)")
		}
		return &stack{api: o.url, temporal: o.temporal, dbURL: o.databaseURL, tokens: tokens, pid: o.pid, dataDir: o.dataDir}, nil
	}
	logf("starting %s with its data in %s", o.devBinary, filepath.Join(dir, "data"))
	logf("stack log: %s", filepath.Join(dir, "stack.log"))
	st, err := startStack(ctx, o.devBinary, dir)
	if err != nil {
		return nil, err
	}
	logf("stack ready: API %s, Temporal %s, pid %d", st.api, st.temporal, st.pid)
	return st, nil
}

// connect opens the HTTP client, the Temporal client and the PostgreSQL pool.
func connect(ctx context.Context, o options, st *stack) (*bench, func(), error) {
	pool, err := db.Open(ctx, st.dbURL)
	if err != nil {
		return nil, nil, err
	}
	tc, err := client.DialContext(ctx, client.Options{
		HostPort: st.temporal, Namespace: "default",
		// The SDK logs every poll hiccup at info: keep warnings only.
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("connect to Temporal at %s: %w", st.temporal, err)
	}
	b := &bench{
		st: st, tc: tc, pool: pool, queue: o.taskQueue, conc: o.concurrency, location: o.timeZone, stickyTimeout: o.stickyTimeout,
		hc: &http.Client{
			Timeout:   30 * time.Second, // the server answers within its 10 s deadline
			Transport: &http.Transport{MaxIdleConnsPerHost: 2 * o.concurrency},
		},
		tag: strconv.FormatInt(time.Now().Unix(), 36),
	}
	if err := b.loadCalendar(ctx); err != nil {
		tc.Close()
		pool.Close()
		return nil, nil, err
	}
	return b, func() { tc.Close(); pool.Close() }, nil
}

// measureAll runs the measurements in an order where none overlaps another:
// create and command, the lifecycle's history, the floor, then the burst.
func measureAll(ctx context.Context, o options, b *bench, r *result, dir string) error {
	sample := func(name string) {
		if b.st.pid == 0 {
			return
		}
		if v, err := sampleRSS(b.st.pid, b.st.dataDir); err == nil {
			r.RSS[name] = v
		} else {
			logf("RSS %s: %v", name, err)
		}
	}
	sample("idle")

	logf("create: %d complaints over HTTP and %d with the raw SDK, concurrency %d", o.creates, o.creates, o.concurrency)
	var httpNos, rawNos []string
	var err error
	r.Create, httpNos, rawNos, err = b.measureCreate(ctx, o.creates)
	if err != nil {
		return err
	}
	logf("command: %d contacts each way", o.commands)
	r.Command = b.measureCommand(ctx, httpNos, rawNos, o.commands)
	logf("history: one full lifecycle")
	if r.History, err = b.measureHistory(ctx); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if r.BreachedHistory, err = b.measureBreachedHistory(ctx); err != nil {
		return fmt.Errorf("history of a breached complaint: %w", err)
	}
	if o.open > 0 {
		if r.Production, err = b.measureProduction(ctx, o.open, dir); err != nil {
			return fmt.Errorf("production: %w", err)
		}
	}
	if o.burst > 0 {
		if err := measureBurstAndFloor(ctx, o, b, r, sample); err != nil {
			return err
		}
	}
	if o.steady > 0 {
		if r.Steady, err = b.measureSteady(ctx, o.steady, o.steadyWindow, r.Create.HTTP.PerSec, o.burstTimeout); err != nil {
			return fmt.Errorf("steady: %w", err)
		}
		if r.Steady.TimedOut {
			r.Failures = append(r.Failures, fmt.Sprintf("steady: only %d of %d escalated within %s of the last deadline", r.Steady.Escalated, r.Steady.Rows, o.burstTimeout))
		}
	}
	return ctx.Err()
}

// measureBurstAndFloor measures the burst against its floor, then checks
// the burst for task timeouts and exactly-once.
func measureBurstAndFloor(ctx context.Context, o options, b *bench, r *result, sample func(string)) (err error) {
	// The floor first, on a server not yet holding the burst's complaints:
	// the stricter baseline.
	if r.Floor, err = b.measureFloor(ctx, o.burst, r.Create.Raw.PerSec); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	r.Burst, err = b.measureBurst(ctx, o.burst, r.Create.HTTP.PerSec, o.burstTimeout, func() { sample("burst_open") })
	if err != nil {
		return fmt.Errorf("burst: %w", err)
	}
	r.BurstVsFloorP99 = ratio(r.Burst.Lateness.P99Sec, r.Floor.Lateness.P99Sec)
	sample("after_burst")

	logf("reading the histories of the burst and the floor for workflow-task timeouts")
	burstIDs, floorIDs := make([]string, o.burst), make([]string, o.burst)
	for i := range o.burst {
		burstIDs[i], floorIDs[i] = workflows.ComplaintWorkflowID(b.no("B", i)), b.floorID(i)
	}
	r.Burst.TaskTimeouts, r.Floor.TaskTimeouts = b.countTaskTimeouts(ctx, burstIDs), b.countTaskTimeouts(ctx, floorIDs)

	if r.ExactlyOnce, err = b.checkExactlyOnce(ctx); err != nil {
		return fmt.Errorf("exactly-once: %w", err)
	}
	if !r.ExactlyOnce.OK {
		e := r.ExactlyOnce
		r.Failures = append(r.Failures, fmt.Sprintf("exactly-once: of %d burst complaints %d have one level-1 escalation, %d one deduction, %d one escalated event",
			e.Complaints, e.Escalations, e.Deductions, e.Events))
	}
	if r.Burst.TimedOut {
		r.Failures = append(r.Failures, fmt.Sprintf("burst: only %d of %d escalated within %s of T", r.Burst.Escalated, r.Burst.Rows, o.burstTimeout))
	}
	return ctx.Err()
}
