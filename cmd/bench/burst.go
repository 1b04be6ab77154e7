package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	aftersalesworker "github.com/acme/aftersales/worker"
	"go.temporal.io/sdk/workflow"
)

// burstResult is the lateness of level-1 contact escalations of N
// complaints whose contact deadlines all fall at one instant T.
type burstResult struct {
	N             int          `json:"n"`
	T             time.Time    `json:"t"`
	Create        opStats      `json:"create"`
	CreatedAfterT bool         `json:"created_after_t"` // creation overran T: lateness includes it
	Rows          int          `json:"rows"`            // complaint rows of the burst (a failed POST may still have stored one)
	Escalated     int          `json:"escalated"`
	TimedOut      bool         `json:"timed_out"`
	Lateness      lateness     `json:"lateness"`
	PerSec        float64      `json:"escalations_per_second"` // escalated / (last escalated_at - T)
	TaskTimeouts  taskTimeouts `json:"task_timeouts"`
}

// plannedInstant is when N things started at rate per second will all
// exist: half as long again plus margin, so a slower phase still fits.
func plannedInstant(n int, rate float64, margin time.Duration) time.Time {
	if rate <= 0 {
		rate = 10
	}
	need := time.Duration(float64(n) / rate * 1.5 * float64(time.Second))
	return time.Now().Add(need + margin).Truncate(time.Second)
}

// measureBurst creates n complaints received 24 h before T over HTTP (so
// their contact clocks all run out at T), then waits until each has its
// level-1 contact escalation in the read model, or timeout after T.
// rssAtOpen is called once all are created.
func (b *bench) measureBurst(ctx context.Context, n int, rate float64, timeout time.Duration, rssAtOpen func()) (burstResult, error) {
	r := burstResult{N: n, T: plannedInstant(n, rate, 30*time.Second)}
	received := r.T.Add(-24 * time.Hour)
	logf("burst: creating %d complaints due at T = %s (in %s)", n, r.T.Format(time.RFC3339), time.Until(r.T).Round(time.Second))
	r.Create = runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error {
		return b.createHTTP(ctx, b.no("B", i), &received)
	})
	r.CreatedAfterT = time.Now().After(r.T)
	if r.CreatedAfterT {
		logf("burst: WARNING creation ended after T; the lateness includes creation time")
	}
	rssAtOpen()
	// A small burst is over before the profile's 30 s: wait for it, so the
	// stack is not stopped under it.
	var profiling sync.WaitGroup
	defer profiling.Wait()
	if b.st.pprof != "" {
		profiling.Go(func() { b.profileBurst(ctx, r.T, filepath.Join(filepath.Dir(b.st.dataDir), "burst-cpu.pprof")) })
	}

	prefix := "B-" + b.tag + "-%"
	var at map[string]time.Time
	var err error
	r.Rows, r.Escalated, r.TimedOut, at, err = b.waitEscalated(ctx, "burst", prefix, r.T, timeout, 15*time.Second)
	if err != nil {
		return r, err
	}
	var late []time.Duration
	var last time.Time
	for _, t := range at {
		late = append(late, t.Sub(r.T))
		if t.After(last) {
			last = t
		}
	}
	r.Lateness = latenessOf(late)
	if d := last.Sub(r.T).Seconds(); d > 0 {
		r.PerSec = float64(len(late)) / d
	}
	return r, nil
}

// waitEscalated polls the read model until every complaint numbered like
// prefix has its level-1 contact escalation and the last deadline has
// passed, or timeout after the last deadline (logging progress every
// `every`), then reads when each was escalated.
func (b *bench) waitEscalated(ctx context.Context, what, prefix string, lastDue time.Time, timeout, every time.Duration) (rows, escalated int, timedOut bool, at map[string]time.Time, err error) {
	lastLog := time.Now()
	for {
		if rows, escalated, err = b.escalated(ctx, prefix); err != nil {
			return rows, escalated, false, nil, err
		}
		done := time.Now().After(lastDue) && escalated >= rows
		timedOut = !done && time.Now().After(lastDue.Add(timeout))
		if timedOut {
			logf("%s: TIMEOUT %s after the last deadline with %d of %d escalated", what, timeout, escalated, rows)
		}
		if done || timedOut {
			at, err = b.escalationTimes(ctx, prefix)
			return rows, escalated, timedOut, at, err
		}
		if time.Since(lastLog) > every {
			logf("%s: %d of %d escalated (last deadline %+ds)", what, escalated, rows, int(time.Since(lastDue).Seconds()))
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return rows, escalated, false, nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// escalationTimes reads when each complaint numbered like prefix had its
// level-1 contact escalation.
func (b *bench) escalationTimes(ctx context.Context, prefix string) (map[string]time.Time, error) {
	rows, err := b.pool.Query(ctx, `SELECT complaint_no, escalated_at FROM escalations
		WHERE complaint_no LIKE $1 AND clock = 'contact' AND level = 1`, prefix)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	at := map[string]time.Time{}
	for rows.Next() {
		var no string
		var t time.Time
		if err := rows.Scan(&no, &t); err != nil {
			return nil, err
		}
		at[no] = t
	}
	return at, rows.Err()
}

// profileBurst saves a 30 s CPU profile of the dev process from T, where
// the burst's time goes (go tool pprof -top FILE).
func (b *bench) profileBurst(ctx context.Context, t time.Time, file string) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Until(t)):
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.st.pprof+"/debug/pprof/profile?seconds=30", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		logf("burst: no profile: %v", err)
		return
	}
	defer resp.Body.Close()
	out, err := os.Create(file)
	if err == nil {
		_, err = io.Copy(out, resp.Body)
		err = errors.Join(err, out.Close())
	}
	if err != nil {
		logf("burst: profile: %v", err)
		return
	}
	logf("burst: CPU profile of the dev process from T for 30 s: go tool pprof -top %s", file)
}

// escalated counts the complaints numbered like prefix and those of them
// with their level-1 contact escalation in the read model.
func (b *bench) escalated(ctx context.Context, prefix string) (rows, escalated int, err error) {
	err = b.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM complaints WHERE complaint_no LIKE $1),
		(SELECT count(*) FROM escalations WHERE complaint_no LIKE $1 AND clock = 'contact' AND level = 1)`, prefix).Scan(&rows, &escalated)
	return rows, escalated, err
}

// exactlyOnce counts, for the burst's complaints, those with exactly one
// level-1 contact escalation row, exactly one deduction and exactly one
// "escalated" (contact, level 1) event in their audit trail. The rows have
// UNIQUE keys, so for them the failure to look for is a missing one; the
// event trail is append-only by sequence number, so it also shows a clock
// that fired twice.
type exactlyOnce struct {
	Complaints  int  `json:"complaints"`
	Escalations int  `json:"with_one_level1_escalation"`
	Deductions  int  `json:"with_one_deduction"`
	Events      int  `json:"with_one_escalated_event"`
	OK          bool `json:"ok"`
}

func (b *bench) checkExactlyOnce(ctx context.Context) (exactlyOnce, error) {
	var e exactlyOnce
	err := b.pool.QueryRow(ctx, `
		SELECT count(*),
		       count(*) FILTER (WHERE esc = 1),
		       count(*) FILTER (WHERE ded = 1),
		       count(*) FILTER (WHERE ev = 1)
		FROM (SELECT
		        (SELECT count(*) FROM escalations e
		          WHERE e.complaint_no = c.complaint_no AND e.clock = 'contact' AND e.level = 1) AS esc,
		        (SELECT count(*) FROM deductions d WHERE d.source_complaint_no = c.complaint_no) AS ded,
		        (SELECT count(*) FROM complaint_events v
		          WHERE v.complaint_no = c.complaint_no AND v.type = 'escalated'
		            AND v.data->>'clock' = 'contact' AND v.data->>'level' = '1') AS ev
		      FROM complaints c WHERE c.complaint_no LIKE $1) x`, "B-"+b.tag+"-%").
		Scan(&e.Complaints, &e.Escalations, &e.Deductions, &e.Events)
	e.OK = err == nil && e.Complaints > 0 &&
		e.Escalations == e.Complaints && e.Deductions == e.Complaints && e.Events == e.Complaints
	return e, err
}

// The floor: the same number of trivial workflows, on the same server, each
// sleeping until one instant T2 and returning the time it woke. Their
// lateness is what Temporal itself costs at this size; the burst is
// compared with it.
const floorQueue = "bench-floor"

func floorWorkflow(ctx workflow.Context, at time.Time) (time.Time, error) {
	if d := at.Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.Sleep(ctx, d); err != nil {
			return time.Time{}, err
		}
	}
	return workflow.Now(ctx), nil
}

type floorResult struct {
	N            int          `json:"n"`
	T            time.Time    `json:"t"`
	Start        opStats      `json:"start"`
	Errors       int          `json:"errors"` // workflows not started or whose result could not be read
	Lateness     lateness     `json:"lateness"`
	TaskTimeouts taskTimeouts `json:"task_timeouts"`
}

func (b *bench) floorID(i int) string { return fmt.Sprintf("bench-floor-%s-%05d", b.tag, i) }

// measureFloor runs n floor workflows on a worker in this process and
// waits for all of them.
func (b *bench) measureFloor(ctx context.Context, n int, rate float64) (floorResult, error) {
	// The service's own worker settings, so the floor is the same path
	// minus the service's work.
	w := worker.New(b.tc, floorQueue, aftersalesworker.Options(b.stickyTimeout))
	w.RegisterWorkflowWithOptions(floorWorkflow, workflow.RegisterOptions{Name: "BenchFloor"})
	if err := w.Start(); err != nil {
		return floorResult{}, err
	}
	defer w.Stop()

	r := floorResult{N: n, T: plannedInstant(n, rate, 20*time.Second)}
	logf("floor: starting %d workflows sleeping until T2 = %s (in %s)", n, r.T.Format(time.RFC3339), time.Until(r.T).Round(time.Second))
	runs := make([]client.WorkflowRun, n)
	r.Start = runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error {
		var err error
		runs[i], err = b.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: b.floorID(i), TaskQueue: floorQueue,
		}, "BenchFloor", r.T)
		return err
	})
	if time.Now().After(r.T) {
		logf("floor: WARNING starting ended after T2; the lateness includes start time")
	}
	b.awaitFloor(ctx, r.T)
	late, woke := make([]time.Duration, n), make([]bool, n)
	got := runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error {
		if runs[i] == nil {
			return fmt.Errorf("not started")
		}
		var at time.Time
		if err := runs[i].Get(ctx, &at); err != nil {
			return err
		}
		late[i], woke[i] = at.Sub(r.T), true
		return nil
	})
	r.Errors = got.Errors
	var ok []time.Duration
	for i := range late {
		if woke[i] {
			ok = append(ok, late[i])
		}
	}
	r.Lateness = latenessOf(ok)
	return r, ctx.Err()
}

// awaitFloor waits until no floor workflow of this run is running, asking
// the server once a second. Reading every result while they fire (a long
// poll per workflow) would load the server during the very seconds measured,
// which the burst's lateness, read from PostgreSQL, does not.
func (b *bench) awaitFloor(ctx context.Context, t2 time.Time) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Until(t2)):
	}
	query := fmt.Sprintf("WorkflowId STARTS_WITH 'bench-floor-%s-' AND ExecutionStatus = 'Running'", b.tag)
	for ctx.Err() == nil {
		resp, err := b.tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if err != nil {
			logf("floor: count running: %v (reading the results now)", err)
			return
		}
		if resp.GetCount() == 0 {
			return
		}
		time.Sleep(time.Second)
	}
}

// taskTimeouts counts WorkflowTaskTimedOut events in the histories of the
// given workflows, read after the measurement. The Temporal log does not
// show them, yet each is a task that waited out the sticky-queue timeout
// (schedule-to-start) or the worker's 10 s to complete it (start-to-close)
// and was queued again: the first sign of a server that thrashes.
type taskTimeouts struct {
	Workflows       int `json:"workflows"`
	Timeouts        int `json:"workflow_task_timeouts"`
	ScheduleToStart int `json:"schedule_to_start"`
	WithTimeout     int `json:"workflows_with_a_timeout"`
	Unread          int `json:"histories_not_read"`
}

func (b *bench) countTaskTimeouts(ctx context.Context, ids []string) taskTimeouts {
	counts, toStart := make([]int, len(ids)), make([]int, len(ids))
	read := runTimed(ctx, len(ids), b.conc, func(ctx context.Context, i int) error {
		it := b.tc.GetWorkflowHistory(ctx, ids[i], "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				return err
			}
			if e.GetEventType() == enums.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT {
				counts[i]++
				if e.GetWorkflowTaskTimedOutEventAttributes().GetTimeoutType() == enums.TIMEOUT_TYPE_SCHEDULE_TO_START {
					toStart[i]++
				}
			}
		}
		return nil
	})
	t := taskTimeouts{Workflows: len(ids), Unread: read.Errors}
	for i, c := range counts {
		t.Timeouts += c
		t.ScheduleToStart += toStart[i]
		if c > 0 {
			t.WithTimeout++
		}
	}
	return t
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
}
