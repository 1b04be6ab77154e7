package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// opStats summarises n timed calls made with some concurrency.
type opStats struct {
	N          int     `json:"n"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	WallSec    float64 `json:"wall_seconds"`
	PerSec     float64 `json:"per_second"` // successful calls per second of wall time
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
}

// calls are timed calls: the latency of each that succeeded, the failures,
// and the wall time they took together.
type calls struct {
	lat      []time.Duration
	errors   int
	firstErr string
	wall     time.Duration
}

// runCalls calls fn(i) for every i in [from, to) from `workers` goroutines
// and times each call. Errors are counted, not fatal: under load some calls
// may fail, and that is part of the result.
func runCalls(ctx context.Context, from, to, workers int, fn func(ctx context.Context, i int) error) calls {
	lat := make([]time.Duration, to-from)
	errs := make([]error, to-from)
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				errs[i-from] = fn(ctx, i)
				lat[i-from] = time.Since(t)
			}
		}()
	}
	for i := from; i < to && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()

	c := calls{wall: time.Since(start)}
	for i, err := range errs {
		if err != nil {
			c.errors++
			if c.firstErr == "" {
				c.firstErr = err.Error()
			}
			continue
		}
		c.lat = append(c.lat, lat[i])
	}
	if ctx.Err() != nil && c.firstErr == "" {
		c.firstErr = ctx.Err().Error()
	}
	return c
}

// plus is c and d as one set of calls.
func (c calls) plus(d calls) calls {
	first := c.firstErr
	if first == "" {
		first = d.firstErr
	}
	return calls{lat: append(slices.Clone(c.lat), d.lat...), errors: c.errors + d.errors, firstErr: first, wall: c.wall + d.wall}
}

func (c calls) stats() opStats {
	st := opStats{N: len(c.lat) + c.errors, Errors: c.errors, FirstError: c.firstErr, WallSec: c.wall.Seconds()}
	q := quantiles(c.lat)
	st.P50ms, st.P99ms, st.MaxMs = ms(q.P50), ms(q.P99), ms(q.Max)
	if c.wall > 0 {
		st.PerSec = float64(len(c.lat)) / c.wall.Seconds()
	}
	return st
}

// runTimed is runCalls over [0, n), summarised.
func runTimed(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) opStats {
	return runCalls(ctx, 0, n, workers, fn).stats()
}

// sideBySide runs n calls of each of two paths in halves, ordered raw,
// HTTP, HTTP, raw: whatever drifts during the phase (a backlog of earlier
// work, a filling cache) then weighs on both paths alike. Neither path's
// calls overlap the other's.
func sideBySide(ctx context.Context, n, workers int, raw, web func(ctx context.Context, i int) error) (rawSt, webSt opStats) {
	h := n / 2
	r1 := runCalls(ctx, 0, h, workers, raw)
	w1 := runCalls(ctx, 0, h, workers, web)
	w2 := runCalls(ctx, h, n, workers, web)
	r2 := runCalls(ctx, h, n, workers, raw)
	return r1.plus(r2).stats(), w1.plus(w2).stats()
}

// lateness is p50/p99/max of how late something happened, in seconds.
type lateness struct {
	N      int     `json:"n"`
	P50Sec float64 `json:"p50_seconds"`
	P99Sec float64 `json:"p99_seconds"`
	MaxSec float64 `json:"max_seconds"`
}

func latenessOf(ds []time.Duration) lateness {
	q := quantiles(ds)
	return lateness{N: len(ds), P50Sec: q.P50.Seconds(), P99Sec: q.P99.Seconds(), MaxSec: q.Max.Seconds()}
}

type quant struct{ P50, P99, Max time.Duration }

// quantiles by nearest rank: p99 of 200 samples is the 198th smallest.
func quantiles(ds []time.Duration) quant {
	if len(ds) == 0 {
		return quant{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return quant{P50: rank(0.50), P99: rank(0.99), Max: s[len(s)-1]}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ratio is a/b, 0 when b is 0 (nothing to compare with).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// rss is the resident memory of the dev process, of it with its child
// processes, and of the PostgreSQL cluster it started (which runs detached:
// pg_ctl daemonises it). Sums count shared pages once per process.
type rss struct {
	DevMB      float64 `json:"dev_mb"`
	DevTreeMB  float64 `json:"dev_with_children_mb"`
	PostgresMB float64 `json:"postgres_mb,omitempty"`
}

func sampleRSS(pid int, dataDir string) (rss, error) {
	dev, err := vmRSS(pid)
	if err != nil {
		return rss{}, err
	}
	r := rss{DevMB: dev, DevTreeMB: dev}
	procs := processes()
	for _, c := range descendants(procs, pid) {
		kb, _ := vmRSS(c)
		r.DevTreeMB += kb
	}
	if pm := postmaster(dataDir); pm != 0 {
		r.PostgresMB, _ = vmRSS(pm)
		for _, c := range descendants(procs, pm) {
			kb, _ := vmRSS(c)
			r.PostgresMB += kb
		}
	}
	return r, nil
}

// vmRSS reads VmRSS of /proc/<pid>/status, in MB.
func vmRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// processes maps each process to its parent, from /proc/<pid>/stat.
func processes() map[int]int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces, so cut at the last ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 {
			parent[pid], _ = strconv.Atoi(fields[1])
		}
	}
	return parent
}

func descendants(parent map[int]int, root int) []int {
	var out []int
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// postmaster is the pid of the PostgreSQL server of dataDir (the first line
// of its postmaster.pid), or 0.
func postmaster(dataDir string) int {
	if dataDir == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}
