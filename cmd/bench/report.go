package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// result is everything one run measured; the table and the JSON file show it.
type result struct {
	StartedAt   time.Time `json:"started_at"`
	WallSeconds float64   `json:"wall_seconds"`
	Machine     machine   `json:"machine"`
	Stack       string    `json:"stack"` // the API's URL
	Sizes       sizes     `json:"sizes"`

	Create          comparison     `json:"create"`
	Command         comparison     `json:"command"`
	History         historyCount   `json:"history_full_lifecycle"`
	BreachedHistory historyCount   `json:"history_every_clock_breached"`
	Floor           floorResult    `json:"floor"`
	Burst           burstResult    `json:"burst"`
	BurstVsFloorP99 float64        `json:"burst_p99_over_floor_p99"`
	ExactlyOnce     exactlyOnce    `json:"exactly_once"`
	Steady          steadyResult   `json:"steady"`
	Production      prodResult     `json:"production"`
	RSS             map[string]rss `json:"rss,omitempty"` // idle, burst_open, after_burst
	Logs            *logCounts     `json:"logs,omitempty"`
	Failures        []string       `json:"failures,omitempty"`
}

type sizes struct {
	Creates     int `json:"creates"`
	Commands    int `json:"commands"`
	Burst       int `json:"burst"`
	Concurrency int `json:"concurrency"`
}

type machine struct {
	CPUs     int     `json:"cpus"`
	CPUModel string  `json:"cpu_model"`
	MemoryGB float64 `json:"memory_gb"`
	Go       string  `json:"go"`
}

func thisMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	var kb float64
	fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%f", &kb)
	m.MemoryGB = kb / 1024 / 1024
	return m
}

// procField is the value after "key:" on the first such line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// logCounts are the signs of trouble in the stack's logs: the embedded
// Temporal server's (JSON, warn and up) and the service's own.
type logCounts struct {
	TemporalErrors   int `json:"temporal_error_lines"`
	TemporalDeadline int `json:"temporal_deadline_exceeded_lines"`
	TemporalTimeouts int `json:"temporal_timed_out_lines"`
	StackErrors      int `json:"stack_error_lines"`
	StackWarnings    int `json:"stack_warning_lines"`
}

func scanLogs(temporalLog, stackLog string) *logCounts {
	c := &logCounts{}
	eachLine(temporalLog, func(l string) {
		if strings.Contains(l, `"level":"error"`) {
			c.TemporalErrors++
		}
		if strings.Contains(l, "deadline exceeded") {
			c.TemporalDeadline++
		}
		if strings.Contains(strings.ToLower(l), "timed out") || strings.Contains(l, "TimedOut") {
			c.TemporalTimeouts++
		}
	})
	eachLine(stackLog, func(l string) {
		switch {
		case strings.Contains(l, "level=ERROR"):
			c.StackErrors++
		case strings.Contains(l, "level=WARN"):
			c.StackWarnings++
		}
	})
	return c
}

func eachLine(path string, fn func(string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
}

func writeJSON(path string, r *result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printTable writes the human summary: each measure beside its raw-SDK
// counterpart and their ratio.
func printTable(out io.Writer, r *result) {
	fmt.Fprintf(out, "\naftersales bench, %s: %d CPUs (%s), %.1f GB, %s\n", r.StartedAt.Format("2006-01-02 15:04"),
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.MemoryGB, r.Machine.Go)
	fmt.Fprintf(out, "sizes: %d creates, %d commands, burst %d, concurrency %d; wall time %s\n\n",
		r.Sizes.Creates, r.Sizes.Commands, r.Sizes.Burst, r.Sizes.Concurrency, time.Duration(r.WallSeconds*float64(time.Second)).Round(time.Second))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...string) { fmt.Fprintln(w, strings.Join(cells, "\t")+"\t") }
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	x := func(v float64) string { return fmt.Sprintf("%.2fx", v) }

	row("", "HTTP", "raw SDK", "HTTP/raw")
	c := r.Create
	row("create /s", f1(c.HTTP.PerSec), f1(c.Raw.PerSec), x(c.Ratio))
	row("create p50 ms", f1(c.HTTP.P50ms), f1(c.Raw.P50ms), x(ratio(c.HTTP.P50ms, c.Raw.P50ms)))
	row("create p99 ms", f1(c.HTTP.P99ms), f1(c.Raw.P99ms), x(ratio(c.HTTP.P99ms, c.Raw.P99ms)))
	row("create errors", fmt.Sprint(c.HTTP.Errors), fmt.Sprint(c.Raw.Errors), "")
	m := r.Command
	row("command p50 ms", f1(m.HTTP.P50ms), f1(m.Raw.P50ms), x(m.Ratio))
	row("command p99 ms", f1(m.HTTP.P99ms), f1(m.Raw.P99ms), x(ratio(m.HTTP.P99ms, m.Raw.P99ms)))
	row("command errors", fmt.Sprint(m.HTTP.Errors), fmt.Sprint(m.Raw.Errors), "")
	if r.Burst.N > 0 {
		b, fl := r.Burst, r.Floor
		row("", "", "", "")
		row(fmt.Sprintf("lateness, %d at one instant", b.N), "burst", "floor", "burst/floor")
		row("p50 s", f2(b.Lateness.P50Sec), f2(fl.Lateness.P50Sec), x(ratio(b.Lateness.P50Sec, fl.Lateness.P50Sec)))
		row("p99 s", f2(b.Lateness.P99Sec), f2(fl.Lateness.P99Sec), x(r.BurstVsFloorP99))
		row("max s", f2(b.Lateness.MaxSec), f2(fl.Lateness.MaxSec), x(ratio(b.Lateness.MaxSec, fl.Lateness.MaxSec)))
		row("escalations /s (N / last-T)", f1(b.PerSec), "", "")
		row("created (burst) / started (floor) /s", f1(b.Create.PerSec), f1(fl.Start.PerSec), "")
		row("errors", fmt.Sprint(b.Create.Errors), fmt.Sprint(fl.Errors), "")
		row("workflow-task timeouts", fmt.Sprint(b.TaskTimeouts.Timeouts), fmt.Sprint(fl.TaskTimeouts.Timeouts), "")
		row("  of which schedule-to-start", fmt.Sprint(b.TaskTimeouts.ScheduleToStart), fmt.Sprint(fl.TaskTimeouts.ScheduleToStart), "")
		row("workflows with a timeout", fmt.Sprint(b.TaskTimeouts.WithTimeout), fmt.Sprint(fl.TaskTimeouts.WithTimeout), "")
	}
	if s := r.Steady; s.N > 0 {
		row("", "", "", "")
		row(fmt.Sprintf("lateness, %d spread over %s", s.N, time.Duration(s.WindowSec*float64(time.Second))), "steady", "", "")
		row("p50 / p99 / max s", fmt.Sprintf("%.2f / %.2f / %.2f", s.Lateness.P50Sec, s.Lateness.P99Sec, s.Lateness.MaxSec), "", "")
		row("escalated / created", fmt.Sprintf("%d / %d", s.Escalated, s.Rows), "", "")
	}
	if p := r.Production; p.Open > 0 {
		row("", "", "", "")
		row("production binaries, RSS MB", "idle", fmt.Sprintf("%d open", p.Open), "")
		row("bin/worker", f1(p.WorkerMB.Idle), f1(p.WorkerMB.Open), "")
		row("bin/server", f1(p.ServerMB.Idle), f1(p.ServerMB.Open), "")
	}
	w.Flush()
	fmt.Fprintln(out)
	if r.Burst.N > 0 {
		e := r.ExactlyOnce
		verdict := "OK"
		if !e.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(out, "exactly-once  %s: %d burst complaints; %d with one level-1 contact escalation, %d with one deduction, %d with one escalated event\n",
			verdict, e.Complaints, e.Escalations, e.Deductions, e.Events)
		fmt.Fprintf(out, "burst T       %s; creation took %.0f s%s\n", r.Burst.T.Format(time.RFC3339), r.Burst.Create.WallSec,
			map[bool]string{true: " (OVERRAN T)", false: ""}[r.Burst.CreatedAfterT])
	}
	if len(r.RSS) > 0 {
		fmt.Fprintf(out, "RSS MB        dev process:")
		for _, k := range []string{"idle", "burst_open", "after_burst"} {
			if v, ok := r.RSS[k]; ok {
				fmt.Fprintf(out, "  %s %.0f (postgres %.0f)", k, v.DevMB, v.PostgresMB)
			}
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "history       full lifecycle (create, contact, plan, pause, resume, resolve, survey): %d events; every clock breached at both levels: %d events\n",
		r.History.Events, r.BreachedHistory.Events)
	if l := r.Logs; l != nil {
		fmt.Fprintf(out, "logs          temporal.log: %d error lines, %d 'deadline exceeded', %d 'timed out'; stack: %d errors, %d warnings\n",
			l.TemporalErrors, l.TemporalDeadline, l.TemporalTimeouts, l.StackErrors, l.StackWarnings)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(out, "FAIL          %s\n", f)
	}
	fmt.Fprintln(out)
}
