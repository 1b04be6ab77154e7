package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/acme/aftersales/internal/pgtest"
	"github.com/acme/aftersales/workflows"
)

// Fault tests: the service's guarantees when a part fails, shown with the
// real parts (an in-process Temporal server, a real PostgreSQL, the real
// worker and server packages), each fault made for real: an unreachable
// Temporal frontend, a stopped worker, a stopped PostgreSQL.

// eventCount counts the events of type typ in a complaint state.
func eventCount(body map[string]any, typ string) int {
	n := 0
	events, _ := body["events"].([]any)
	for _, e := range events {
		if e.(map[string]any)["type"] == typ {
			n++
		}
	}
	return n
}

// itemNos returns the complaint_no of each item of a list answer.
func itemNos(body map[string]any) []string {
	var out []string
	items, _ := body["items"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["complaint_no"].(string))
	}
	return out
}

// (a) A crash between the intake row and the workflow start, made for real:
// the server's own create runs against a Temporal frontend that nothing
// listens on, so it writes the intake row and then fails to start the
// workflow. Such complaints are invisible until the reconciler (or the
// same POST again) starts their workflow, exactly once each.
func TestFaultCrashBetweenIntakeAndStart(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	tokens := seedDemo(t, pool)
	tc := newTemporal(t)
	queue := "e2e-" + t.Name()
	startWorker(t, tc, queue, pool)
	srv, real := newFaultServer(t, pool, tc, queue, tokens)
	_, crashing := newFaultServer(t, pool, unreachableTemporal(t), queue, tokens)

	const normal, crashed = 5, 20
	for i := range normal {
		if r := real.call("agent1", "POST", "/api/v1/complaints", complaintBody(fmt.Sprintf("OK-%02d", i))); r.status != http.StatusCreated {
			t.Fatalf("normal create %d: %d %s", i, r.status, r.raw)
		}
	}
	// The interrupted creates, concurrently (each waits out the deadline).
	answers := make([]timedResponse, crashed)
	var wg sync.WaitGroup
	for i := range crashed {
		wg.Go(func() {
			answers[i] = crashing.timedCall("agent1", "POST", "/api/v1/complaints", complaintBody(fmt.Sprintf("X-%02d", i)), "")
		})
	}
	wg.Wait()
	unavailable := 0
	for i, a := range answers {
		if p := a.unavailableProblem("temporal"); p != "" {
			t.Errorf("interrupted create X-%02d: %s", i, p)
			continue
		}
		unavailable++
	}
	if unavailable != crashed {
		t.Fatalf("interrupted creates answered 503 naming temporal: %d of %d", unavailable, crashed)
	}
	// Each left exactly its intake row, which no workflow has written.
	if n := countRows(t, pool, "SELECT count(*) FROM complaints WHERE complaint_no LIKE 'X-%' AND last_seq IS NULL"); n != crashed {
		t.Fatalf("unstarted intake rows = %d, want %d", n, crashed)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM complaints WHERE complaint_no LIKE 'OK-%' AND last_seq IS NOT NULL"); n != normal {
		t.Fatalf("written normal complaints = %d, want %d", n, normal)
	}

	// Invisible: 404 to read and to command, not listed.
	for i := range crashed {
		no := fmt.Sprintf("X-%02d", i)
		if r := real.call("officer1", "GET", "/api/v1/complaints/"+no, nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s before reconcile: %d %s", no, r.status, r.raw)
		}
	}
	if r := real.call("agent1", "POST", "/api/v1/complaints/X-01/contact", map[string]any{"note": "n"}); r.status != http.StatusNotFound {
		t.Errorf("command on an invisible complaint: %d %s", r.status, r.raw)
	}
	list := real.call("officer1", "GET", "/api/v1/complaints?limit=500", nil)
	if nos := itemNos(list.body); list.status != 200 || len(nos) != normal || strings.Contains(strings.Join(nos, ","), "X-") {
		t.Fatalf("list before reconcile: %d %v", list.status, nos)
	}

	// The same POST again completes one of them: 200, the same complaint.
	retry := real.call("agent1", "POST", "/api/v1/complaints", complaintBody("X-00"))
	if retry.status != http.StatusOK || retry.body["complaint_no"] != "X-00" || len(retry.body["clocks"].([]any)) != 3 {
		t.Fatalf("retried create of X-00: %d %s", retry.status, retry.raw)
	}

	// The reconciler starts each of the rest, once.
	n, err := srv.ReconcileOnce(ctx, 0)
	if err != nil || n != crashed-1 {
		t.Fatalf("ReconcileOnce started %d (%v), want %d", n, err, crashed-1)
	}
	// Visible once each workflow has written the read model.
	ok, took := pollUntil(30*time.Second, func() bool {
		return countRows(t, pool, "SELECT count(*) FROM complaints WHERE last_seq IS NULL") == 0
	})
	if !ok {
		t.Fatalf("after 30 s, %d intake rows still unwritten", countRows(t, pool, "SELECT count(*) FROM complaints WHERE last_seq IS NULL"))
	}
	t.Logf("reconciled complaints written to the read model %v after ReconcileOnce", took.Round(time.Millisecond))
	if n, err := srv.ReconcileOnce(ctx, 0); err != nil || n != 0 {
		t.Errorf("second ReconcileOnce started %d (%v), want 0", n, err)
	}
	for i := range crashed {
		no := fmt.Sprintf("X-%02d", i)
		r := real.call("officer1", "GET", "/api/v1/complaints/"+no, nil)
		if r.status != http.StatusOK || r.body["status"] != "open" || len(r.body["clocks"].([]any)) != 3 || eventCount(r.body, "received") != 1 {
			t.Errorf("GET %s after reconcile: %d %s", no, r.status, r.raw)
			continue
		}
		desc, err := tc.DescribeWorkflowExecution(ctx, workflows.ComplaintWorkflowID(no), "")
		if err != nil || desc.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("workflow of %s: %v %v", no, desc, err)
		}
	}
	// Exactly one run per complaint, and no other complaint workflow.
	var runs map[string]int
	ok, _ = pollUntil(30*time.Second, func() bool {
		res, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = %q", workflows.ComplaintWorkflowType), PageSize: 1000,
		})
		if err != nil {
			t.Logf("list workflows: %v", err)
			return false
		}
		runs = map[string]int{}
		for _, e := range res.Executions {
			runs[e.Execution.WorkflowId]++
		}
		return len(runs) == normal+crashed
	})
	if !ok {
		t.Fatalf("complaint workflows in visibility: %d IDs, want %d: %v", len(runs), normal+crashed, runs)
	}
	for id, n := range runs {
		if n != 1 {
			t.Errorf("%s has %d runs, want 1", id, n)
		}
	}
	list = real.call("officer1", "GET", "/api/v1/complaints?limit=500", nil)
	if nos := itemNos(list.body); list.status != 200 || len(nos) != normal+crashed {
		t.Errorf("list after reconcile: %d items, want %d: %v", len(nos), normal+crashed, nos)
	}
	// The same POST again after the reconcile: 200, the same complaint.
	again := real.call("agent1", "POST", "/api/v1/complaints", complaintBody("X-05"))
	if again.status != http.StatusOK || again.body["complaint_no"] != "X-05" {
		t.Errorf("retried create of X-05 after reconcile: %d %s", again.status, again.raw)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM complaints"); n != normal+crashed {
		t.Errorf("complaint rows = %d, want %d", n, normal+crashed)
	}
}

// (b) The worker dies after the contact clock's timer is armed and before
// it fires; a new worker on the same task queue fires it late, exactly once.
func TestFaultWorkerKilledBetweenArmingAndFiring(t *testing.T) {
	pool := pgtest.New(t)
	s, w1, queue := faultStack(t, pool)
	tc := s.temporal

	due := time.Now().Add(4 * time.Second)
	r := s.call("agent1", "POST", "/api/v1/complaints", backdatedBody("K-1", due.Add(-24*time.Hour)))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	contact := clockNamed(r.body, "contact")
	if contact["breached"] != false || len(r.body["escalations"].([]any)) != 0 {
		t.Fatalf("contact clock at create: %v", contact)
	}
	dueAt, err := time.Parse(time.RFC3339Nano, contact["due_at"].(string))
	if err != nil || dueAt.Sub(due).Abs() > time.Second {
		t.Fatalf("contact due_at %v, want about %v (%v)", contact["due_at"], due, err)
	}

	w1.Stop() // the kill
	if time.Now().After(dueAt) {
		t.Fatalf("setup too slow: the deadline passed before the worker was stopped")
	}
	time.Sleep(time.Until(dueAt) + 500*time.Millisecond) // the timer fires with no worker
	escalations := func() int {
		return countRows(t, pool, "SELECT count(*) FROM escalations WHERE complaint_no='K-1'")
	}
	if n := escalations(); n != 0 {
		t.Fatalf("escalations with no worker running = %d, want 0", n)
	}

	w2 := startWorker(t, tc, queue, pool)
	ok, took := pollUntil(30*time.Second, func() bool { return escalations() > 0 })
	if !ok {
		t.Fatalf("no escalation 30 s after the new worker started")
	}
	t.Logf("escalation written %v after the new worker started (%v after the deadline)", took.Round(time.Millisecond), time.Since(dueAt).Round(time.Millisecond))
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			what string
			sql  string
		}{
			{"level-1 contact escalations", "SELECT count(*) FROM escalations WHERE complaint_no='K-1' AND clock='contact' AND level=1"},
			{"escalations", "SELECT count(*) FROM escalations WHERE complaint_no='K-1'"},
			{"escalated events", "SELECT count(*) FROM complaint_events WHERE complaint_no='K-1' AND type='escalated'"},
			{"deductions", "SELECT count(*) FROM deductions WHERE source_complaint_no='K-1'"},
			{"proposed 20-point deductions of agent1", "SELECT count(*) FROM deductions WHERE source_complaint_no='K-1' AND employee_id='agent1' AND points=20 AND status='proposed'"},
		} {
			if n := countRows(t, pool, c.sql); n != 1 {
				t.Errorf("%s: %s = %d, want 1", when, c.what, n)
			}
		}
	}
	// The deduction is written with the escalation (one sync); poll briefly
	// in case the count raced it.
	pollUntil(5*time.Second, func() bool {
		return countRows(t, pool, "SELECT count(*) FROM deductions WHERE source_complaint_no='K-1'") > 0
	})
	check("after the late firing")

	// Replay: kill this worker too. A command sent while no worker runs
	// cannot be accepted: 503 naming temporal, saying so, within the
	// deadline. A third worker (empty cache) replays the whole history to
	// take it; the retry with the same Idempotency-Key answers 200 and the
	// command is applied once. Nothing is done twice.
	w2.Stop()
	body := map[string]any{"note": "called after the escalation"}
	first := s.timedCall("agent1", "POST", "/api/v1/complaints/K-1/contact", body, "k1-contact")
	if p := first.unavailableProblem("temporal"); p != "" {
		t.Errorf("contact with no worker: %s", p)
	} else if msg, _ := first.fields()["temporal"].(string); !strings.Contains(msg, "not accepted") {
		t.Errorf("contact with no worker does not say it was not accepted: %s", first.raw)
	}
	t.Logf("contact with no worker: %d after %v", first.status, first.elapsed.Round(time.Millisecond))
	startWorker(t, tc, queue, pool)
	var got timedResponse
	attempts := 0
	ok, took = pollUntil(30*time.Second, func() bool {
		attempts++
		got = s.timedCall("agent1", "POST", "/api/v1/complaints/K-1/contact", body, "k1-contact")
		if got.status == http.StatusServiceUnavailable {
			t.Logf("retry %d: 503 after %v: %s", attempts, got.elapsed.Round(time.Millisecond), got.raw)
		}
		return got.err == nil && got.status != http.StatusServiceUnavailable
	})
	if !ok || got.status != http.StatusOK {
		t.Fatalf("contact retried with the same key on the third worker (retry %d): %d %v %s", attempts, got.status, got.err, got.raw)
	}
	t.Logf("retry with the same key answered 200 by the third worker %v after it started (retry %d)", took.Round(time.Millisecond), attempts)
	if again := s.timedCall("agent1", "POST", "/api/v1/complaints/K-1/contact", body, "k1-contact-2"); again.status != http.StatusConflict {
		t.Errorf("contact with a new key: %d %s", again.status, again.raw)
	}
	if eventCount(got.body, "escalated") != 1 || len(got.body["escalations"].([]any)) != 1 || eventCount(got.body, "contacted") != 1 {
		t.Errorf("state after replay: %s", got.raw)
	}
	// Let the contact's sync land, then count again.
	pollUntil(10*time.Second, func() bool {
		return countRows(t, pool, "SELECT count(*) FROM complaint_events WHERE complaint_no='K-1' AND type='contacted'") == 1
	})
	time.Sleep(time.Second)
	check("after the replay")
	if n := countRows(t, pool, "SELECT count(*) FROM complaint_events WHERE complaint_no='K-1' AND type='contacted'"); n != 1 {
		t.Errorf("contacted events = %d, want 1", n)
	}
}

// (c) PostgreSQL stops for longer than the request deadline while
// escalations are due: every answer is a prompt 503 naming postgres; once
// it is back, every escalation and deduction reaches the read model, once.
func TestFaultPostgresStoppedAndRestarted(t *testing.T) {
	oc := startOwnCluster(t)
	pool := oc.pool("aftersales")
	s, _, _ := faultStack(t, pool)

	// One complaint for commands (its clocks are far off), k whose contact
	// clock runs out a few seconds after PostgreSQL stops.
	if r := s.call("agent1", "POST", "/api/v1/complaints", complaintBody("PG-CMD")); r.status != http.StatusCreated {
		t.Fatalf("create PG-CMD: %d %s", r.status, r.raw)
	}
	const k = 5
	due := time.Now().Add(5 * time.Second)
	for i := range k {
		no := fmt.Sprintf("PG-%d", i)
		if r := s.call("agent1", "POST", "/api/v1/complaints", backdatedBody(no, due.Add(-24*time.Hour))); r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", no, r.status, r.raw)
		}
	}
	if time.Until(due) < 1500*time.Millisecond {
		t.Fatalf("setup too slow: the deadlines are %v away", time.Until(due))
	}

	stoppedAt := time.Now()
	oc.Stop()
	t.Logf("PostgreSQL stopped in %v; the deadlines are %v later", time.Since(stoppedAt).Round(time.Millisecond), due.Sub(stoppedAt).Round(time.Millisecond))
	// The outage: past the deadlines, and longer than the request deadline.
	outageEnd := due.Add(4 * time.Second)
	if min := stoppedAt.Add(3 * faultTimeout); outageEnd.Before(min) {
		outageEnd = min
	}
	probes := []struct {
		user, method, path string
		body               any
		key                string
	}{
		{"agent1", "POST", "/api/v1/complaints/PG-CMD/contact", map[string]any{"note": "called"}, "outage-contact"},
		{"officer1", "GET", "/api/v1/complaints/PG-0", nil, ""},
		{"agent1", "POST", "/api/v1/complaints/PG-CMD/pause", map[string]any{"reason": "customer away"}, "outage-pause"},
		{"officer1", "GET", "/api/v1/complaints", nil, ""},
		{"officer1", "GET", "/api/v1/escalations", nil, ""},
		{"agent1", "POST", "/api/v1/complaints", complaintBody("PG-NEW"), ""},
		{"officer1", "POST", "/api/v1/complaints/PG-1/extend", map[string]any{"clock": "plan", "due_at": time.Now().Add(72 * time.Hour).Format(time.RFC3339), "reason": "r"}, "outage-extend"},
	}
	var total, ok503, status500, hangs, other int
	var slowest time.Duration
	for i := 0; time.Now().Before(outageEnd); i++ {
		p := probes[i%len(probes)]
		a := s.timedCall(p.user, p.method, p.path, p.body, p.key)
		total++
		slowest = max(slowest, a.elapsed)
		switch problem := a.unavailableProblem("postgres"); {
		case problem == "":
			ok503++
		case a.err != nil:
			hangs++
			t.Errorf("outage: %s %s: %s", p.method, p.path, problem)
		case a.status == http.StatusInternalServerError:
			status500++
			t.Errorf("outage: %s %s: %s", p.method, p.path, problem)
		default:
			other++
			t.Errorf("outage: %s %s: %s", p.method, p.path, problem)
		}
		time.Sleep(20 * time.Millisecond) // a client's pace, not a flood
	}
	t.Logf("outage of %v: %d calls, %d prompt 503s naming postgres, %d 500s, %d hangs, %d other; slowest answer %v",
		time.Since(stoppedAt).Round(time.Millisecond), total, ok503, status500, hangs, other, slowest.Round(time.Millisecond))
	if total < len(probes) || ok503 != total || status500 != 0 || hangs != 0 {
		t.Errorf("outage answers: %d calls, %d good 503s, %d 500s, %d hangs", total, ok503, status500, hangs)
	}

	restartAt := time.Now()
	oc.Start()
	t.Logf("PostgreSQL restarted in %v", time.Since(restartAt).Round(time.Millisecond))
	escalated := func() (int, error) {
		return tryCount(pool, "SELECT count(*) FROM escalations WHERE complaint_no LIKE 'PG-%' AND clock='contact' AND level=1")
	}
	deducted := func() (int, error) {
		return tryCount(pool, "SELECT count(*) FROM deductions WHERE source_complaint_no LIKE 'PG-%'")
	}
	done, took := pollUntil(15*time.Second, func() bool {
		e, err1 := escalated()
		d, err2 := deducted()
		return err1 == nil && err2 == nil && e >= k && d >= k
	})
	e, _ := escalated()
	d, _ := deducted()
	if !done {
		t.Fatalf("15 s after the restart: %d escalations and %d deductions in the read model, want %d each", e, d, k)
	}
	t.Logf("all %d escalations and deductions in the read model %v after the restart", k, took.Round(time.Millisecond))

	check := func(when string) {
		t.Helper()
		for i := range k {
			no := fmt.Sprintf("PG-%d", i)
			if n := countRows(t, pool, "SELECT count(*) FROM escalations WHERE complaint_no=$1", no); n != 1 {
				t.Errorf("%s: %s has %d escalations, want 1", when, no, n)
			}
			if n := countRows(t, pool, "SELECT count(*) FROM escalations WHERE complaint_no=$1 AND clock='contact' AND level=1 AND escalated_at >= (SELECT contact_due_at FROM complaints WHERE complaint_no=$1) AND escalated_at < $2", no, restartAt); n != 1 {
				t.Errorf("%s: %s has %d level-1 contact escalations fired between its deadline and the restart, want 1", when, no, n)
			}
			if n := countRows(t, pool, "SELECT count(*) FROM complaint_events WHERE complaint_no=$1 AND type='escalated'", no); n != 1 {
				t.Errorf("%s: %s has %d escalated events, want 1", when, no, n)
			}
			if n := countRows(t, pool, "SELECT count(*) FROM deductions WHERE source_complaint_no=$1 AND employee_id='agent1' AND points=20 AND status='proposed'", no); n != 1 {
				t.Errorf("%s: %s has %d deduction proposals, want 1", when, no, n)
			}
		}
		if n := countRows(t, pool, "SELECT count(*) FROM escalations"); n != k {
			t.Errorf("%s: %d escalations in all, want %d", when, n, k)
		}
		if n := countRows(t, pool, "SELECT count(*) FROM deductions"); n != k {
			t.Errorf("%s: %d deductions in all, want %d", when, n, k)
		}
		// Nothing sent during the outage was applied or created.
		if n := countRows(t, pool, "SELECT count(*) FROM complaints WHERE complaint_no='PG-NEW'"); n != 0 {
			t.Errorf("%s: PG-NEW, created during the outage, exists", when)
		}
	}
	check("after the restart")

	// Commands and reads work again.
	var got response
	ok, took := pollUntil(15*time.Second, func() bool {
		got = s.call("agent1", "POST", "/api/v1/complaints/PG-CMD/contact", map[string]any{"note": "called after the outage"})
		return got.status != http.StatusServiceUnavailable
	})
	if !ok || got.status != http.StatusOK || eventCount(got.body, "contacted") != 1 || eventCount(got.body, "paused") != 0 {
		t.Fatalf("contact after the restart: %d %s", got.status, got.raw)
	}
	t.Logf("first command after the restart answered after %v", took.Round(time.Millisecond))
	list := s.call("officer1", "GET", "/api/v1/escalations", nil)
	if items, _ := list.body["items"].([]any); list.status != 200 || len(items) != k {
		t.Errorf("GET /escalations after the restart: %d %s", list.status, list.raw)
	}
	if r := s.call("officer1", "GET", "/api/v1/complaints/PG-0", nil); r.status != 200 || eventCount(r.body, "escalated") != 1 || len(r.body["escalations"].([]any)) != 1 {
		t.Errorf("GET PG-0 after the restart: %d %s", r.status, r.raw)
	}
	breached := s.call("officer1", "GET", "/api/v1/complaints?breached=true", nil)
	if nos := itemNos(breached.body); breached.status != 200 || len(nos) != k {
		t.Errorf("breached complaints after the restart: %d %v, want the %d PG-n", breached.status, nos, k)
	}
	// A little later (several sync retry intervals): still exactly once.
	time.Sleep(6 * time.Second)
	check("6 s later")
}

// (d) Temporal unreachable: creates, live reads and commands answer a
// prompt 503 naming temporal; the read model's lists still answer.
func TestFaultTemporalUnreachable(t *testing.T) {
	pool := pgtest.New(t)
	tokens := seedDemo(t, pool)
	_, s := newFaultServer(t, pool, unreachableTemporal(t), "e2e-"+t.Name(), tokens)

	create := s.timedCall("agent1", "POST", "/api/v1/complaints", complaintBody("T-1"), "")
	if p := create.unavailableProblem("temporal"); p != "" {
		t.Errorf("POST /complaints: %s", p)
	}
	// The intake row exists (written before the start failed).
	if n := countRows(t, pool, "SELECT count(*) FROM complaints WHERE complaint_no='T-1' AND last_seq IS NULL"); n != 1 {
		t.Fatalf("intake rows of T-1 = %d, want 1", n)
	}
	get := s.timedCall("officer1", "GET", "/api/v1/complaints/T-1", nil, "")
	if p := get.unavailableProblem("temporal"); p != "" {
		t.Errorf("GET /complaints/T-1: %s", p)
	}
	cmd := s.timedCall("agent1", "POST", "/api/v1/complaints/T-1/contact", map[string]any{"note": "called"}, "k-1")
	if p := cmd.unavailableProblem("temporal"); p != "" {
		t.Errorf("POST /complaints/T-1/contact: %s", p)
	} else if msg, _ := cmd.fields()["temporal"].(string); !strings.Contains(msg, "not accepted") {
		t.Errorf("command 503 does not say it was not accepted: %s", cmd.raw)
	}
	for _, a := range []timedResponse{create, get, cmd} {
		t.Logf("%d in %v: %s", a.status, a.elapsed.Round(time.Millisecond), a.raw)
	}
	// PostgreSQL-only reads still answer; the interrupted create is not listed.
	list := s.timedCall("officer1", "GET", "/api/v1/complaints", nil, "")
	if list.err != nil || list.status != 200 || len(itemNos(list.body)) != 0 {
		t.Errorf("GET /complaints with Temporal down: %d %v %s", list.status, list.err, list.raw)
	}
}

// (e) The same command twice with one Idempotency-Key is applied once and
// answered alike; a new key is a new command (409: already contacted).
func TestFaultIdempotencyKey(t *testing.T) {
	s := startStack(t)
	if r := s.call("agent1", "POST", "/api/v1/complaints", complaintBody("I-1")); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	body := map[string]any{"note": "called the customer"}
	first := s.timedCall("agent1", "POST", "/api/v1/complaints/I-1/contact", body, "contact-key-1")
	second := s.timedCall("agent1", "POST", "/api/v1/complaints/I-1/contact", body, "contact-key-1")
	for i, a := range []timedResponse{first, second} {
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("contact %d: %d %v %s", i+1, a.status, a.err, a.raw)
		}
	}
	t.Logf("the retry's answer is byte-identical to the first: %v (as_of and remaining_seconds are computed at answer time)", string(first.raw) == string(second.raw))
	if !reflect.DeepEqual(stable(first.body), stable(second.body)) {
		t.Errorf("same key, different answers:\n%s\n%s", first.raw, second.raw)
	}
	if n := eventCount(second.body, "contacted"); n != 1 {
		t.Errorf("contacted events in the retry's answer = %d, want 1", n)
	}
	got := s.call("agent1", "GET", "/api/v1/complaints/I-1", nil)
	if n := eventCount(got.body, "contacted"); got.status != 200 || n != 1 {
		t.Errorf("contacted events in the state = %d, want 1: %s", n, got.raw)
	}
	third := s.timedCall("agent1", "POST", "/api/v1/complaints/I-1/contact", body, "contact-key-2")
	if third.status != http.StatusConflict || third.code() != "invalid_state" {
		t.Errorf("contact with a new key: %d %s", third.status, third.raw)
	}
	// After another command, the first key still answers its first result.
	if r := s.timedCall("agent1", "POST", "/api/v1/complaints/I-1/plan", map[string]any{"plan": "replace the motor"}, "plan-key-1"); r.status != http.StatusOK {
		t.Fatalf("plan: %d %s", r.status, r.raw)
	}
	fourth := s.timedCall("agent1", "POST", "/api/v1/complaints/I-1/contact", body, "contact-key-1")
	if fourth.status != http.StatusOK || !reflect.DeepEqual(stable(first.body), stable(fourth.body)) {
		t.Errorf("first key after a plan: %d %s\nfirst answer: %s", fourth.status, fourth.raw, first.raw)
	}
	got = s.call("agent1", "GET", "/api/v1/complaints/I-1", nil)
	if eventCount(got.body, "contacted") != 1 || eventCount(got.body, "planned") != 1 {
		t.Errorf("state after the retries: %s", got.raw)
	}
	pollUntil(10*time.Second, func() bool {
		return countRows(t, s.pool, "SELECT count(*) FROM complaint_events WHERE complaint_no='I-1' AND type='planned'") == 1
	})
	if n := countRows(t, s.pool, "SELECT count(*) FROM complaint_events WHERE complaint_no='I-1' AND type='contacted'"); n != 1 {
		t.Errorf("contacted events in the read model = %d, want 1", n)
	}
}

// stable is an answer without what is computed at answer time (as_of and
// the clocks' remaining_seconds).
func stable(body map[string]any) map[string]any {
	b, _ := json.Marshal(body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	delete(out, "as_of")
	if clocks, ok := out["clocks"].([]any); ok {
		for _, c := range clocks {
			delete(c.(map[string]any), "remaining_seconds")
		}
	}
	return out
}

// (f, beyond the brief) PostgreSQL frozen rather than stopped (SIGSTOP on
// all its processes): it neither answers nor refuses, so only the request
// deadline ends a call. Every answer must still be a 503 with Retry-After
// within the deadline, from several concurrent clients (more than the
// pool's connections); after the thaw everything works again.
func TestFaultPostgresFrozen(t *testing.T) {
	oc := startOwnCluster(t)
	pool := oc.pool("aftersales")
	s, _, _ := faultStack(t, pool)
	if r := s.call("agent1", "POST", "/api/v1/complaints", complaintBody("FZ-CMD")); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	due := time.Now().Add(3 * time.Second)
	if r := s.call("agent1", "POST", "/api/v1/complaints", backdatedBody("FZ-1", due.Add(-24*time.Hour))); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}

	frozenAt := time.Now()
	thaw := oc.freeze()
	end := frozenAt.Add(3 * faultTimeout)
	if end.Before(due.Add(2 * time.Second)) {
		end = due.Add(2 * time.Second)
	}
	const clients = 6 // more than the pool's connections
	var (
		mu                                           sync.Mutex
		total, named, unnamed, status500, hangs, bad int
		slowest                                      time.Duration
		examples                                     = map[string]string{}
	)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(end); i++ {
				var a timedResponse
				switch (c + i) % 3 {
				case 0:
					a = s.timedCall("agent1", "POST", "/api/v1/complaints/FZ-CMD/contact", map[string]any{"note": "called"}, fmt.Sprintf("fz-%d-%d", c, i))
				case 1:
					a = s.timedCall("officer1", "GET", "/api/v1/complaints/FZ-1", nil, "")
				default:
					a = s.timedCall("officer1", "GET", "/api/v1/escalations", nil, "")
				}
				mu.Lock()
				total++
				slowest = max(slowest, a.elapsed)
				switch {
				case a.unavailableProblem("postgres") == "":
					named++
				case a.err != nil:
					hangs++
					examples["hang"] = a.unavailableProblem("postgres")
				case a.status == http.StatusInternalServerError:
					status500++
					examples["500"] = string(a.raw)
				case a.status == http.StatusServiceUnavailable && a.header.Get("Retry-After") != "" && a.elapsed <= faultTimeout+faultMargin:
					unnamed++ // a prompt 503, but not naming postgres
					examples["503 not naming postgres"] = string(a.raw)
				default:
					bad++
					examples["other"] = a.unavailableProblem("postgres")
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	thaw()
	t.Logf("frozen %v: %d calls from %d clients: %d 503s naming postgres, %d 503s not naming it, %d 500s, %d hangs, %d other; slowest %v",
		time.Since(frozenAt).Round(time.Millisecond), total, clients, named, unnamed, status500, hangs, bad, slowest.Round(time.Millisecond))
	for k, v := range examples {
		t.Logf("example %s: %s", k, v)
	}
	if status500 != 0 || hangs != 0 || bad != 0 {
		t.Errorf("while frozen: %d 500s, %d hangs, %d other answers, want none", status500, hangs, bad)
	}
	if named != total {
		t.Errorf("while frozen: %d of %d answers were 503s naming postgres", named, total)
	}

	// Thawed: the escalation that fell due while frozen lands once, and
	// commands work.
	ok, took := pollUntil(15*time.Second, func() bool {
		n, err := tryCount(pool, "SELECT count(*) FROM escalations WHERE complaint_no='FZ-1'")
		return err == nil && n > 0
	})
	if !ok {
		t.Fatalf("no escalation of FZ-1 15 s after the thaw")
	}
	t.Logf("escalation in the read model %v after the thaw", took.Round(time.Millisecond))
	var got response
	ok, _ = pollUntil(15*time.Second, func() bool {
		got = s.call("agent1", "POST", "/api/v1/complaints/FZ-CMD/contact", map[string]any{"note": "after the thaw"})
		return got.status != http.StatusServiceUnavailable
	})
	if !ok || got.status != http.StatusOK || eventCount(got.body, "contacted") != 1 {
		t.Fatalf("contact after the thaw: %d %s", got.status, got.raw)
	}
	pollUntil(5*time.Second, func() bool {
		return countRows(t, pool, "SELECT count(*) FROM deductions WHERE source_complaint_no='FZ-1'") > 0
	})
	for _, c := range []struct{ what, sql string }{
		{"FZ-1 escalations", "SELECT count(*) FROM escalations WHERE complaint_no='FZ-1' AND clock='contact' AND level=1"},
		{"escalations in all", "SELECT count(*) FROM escalations"},
		{"FZ-1 deductions", "SELECT count(*) FROM deductions WHERE source_complaint_no='FZ-1'"},
		{"deductions in all", "SELECT count(*) FROM deductions"},
	} {
		if n := countRows(t, pool, c.sql); n != 1 {
			t.Errorf("%s = %d, want 1", c.what, n)
		}
	}
}
