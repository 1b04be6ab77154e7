package topology

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/devstack"
	"github.com/acme/aftersales/localpg"
	"github.com/acme/aftersales/workflows"
)

// Two kinds of complaint, so nothing waits on a long timer:
//   - "past" (TP-P..): received 40 days ago, so all three clocks and both
//     levels of each are long past: six escalations and the deduction
//     fire in the create's first workflow task. They are then contacted,
//     planned and their contact escalation acknowledged.
//   - "due" (TP-D..): the contact clock falls due a few seconds after the
//     kill, so the timers fire while the killed worker's workflows are
//     moving to the survivor: one escalation and the deduction each.
const (
	pastComplaints = 20
	dueComplaints  = 20
	// concurrency of the clients' requests.
	concurrency = 4
)

// pastEscalations is what a complaint received 40 days ago escalates at
// once: every clock (contact 24 h, plan 48 h, resolution 7 working days)
// at both levels (level 2 a working day after the miss).
var pastEscalations = []string{"contact.1", "contact.2", "plan.1", "plan.2", "resolution.1", "resolution.2"}

// dueEscalations: only the contact clock's level 1 falls due in the test.
var dueEscalations = []string{"contact.1"}

// TestProductionTopology is the production topology in small
// (deploy/topology.md): one PostgreSQL holding the read model and, in
// databases of their own, Temporal's store (the dev launcher's
// TEMPORAL_PERSISTENCE=postgres code path); the production binaries built
// from this module: migrate once, two workers and two servers. Complaints
// and commands go through both servers alternately, a duplicate of every
// command through the other server with the same Idempotency-Key, and one
// worker is SIGKILLed while complaints are being created and commanded and
// while timers are about to fire. Then every escalation, deduction and
// command is there exactly once, in the read model, in the workflows'
// state and in their histories, and no complaint is lost.
func TestProductionTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, Temporal and five production processes")
	}
	began := time.Now()
	ctx := context.Background()
	dir := t.TempDir()

	// The binaries build while PostgreSQL and Temporal start.
	binDir := filepath.Join(dir, "bin")
	var buildErr error
	built := make(chan struct{})
	go func() { buildErr = buildBinaries(binDir); close(built) }()
	t.Cleanup(func() { <-built }) // never leave go build writing into a removed directory

	cluster, err := localpg.Start(ctx, localpg.Options{Fast: true,
		Settings: map[string]string{"max_connections": itoa(devstack.PostgresMaxConnections)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	if err := cluster.CreateDatabase(ctx, "aftersales"); err != nil {
		t.Fatal(err)
	}
	store, err := devstack.TemporalStoreIn(ctx, cluster)
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 5)
	temporalLog := filepath.Join(dir, "temporal.log")
	ts, err := devstack.StartTemporal(devstack.TemporalOptions{
		Postgres: store, LogFile: temporalLog, IP: "127.0.0.1", Port: ports[0],
		Namespace: "default", SearchAttributes: workflows.SearchAttributes,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Stop() })
	tc, err := client.Dial(client.Options{HostPort: ts.Address, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	stackUp := time.Since(began)

	<-built
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	built1 := time.Since(began)
	dbURL := cluster.URL("aftersales")
	migrate := exec.Command(filepath.Join(binDir, "migrate"))
	migrate.Env = append(baseEnv(), "DATABASE_URL="+dbURL)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	pool, err := db.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tokens, err := demo.SeedTokens(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}

	// Two workers, two servers: the production binaries, each with its
	// own listener, all on one Temporal namespace and task queue and one
	// read model. Defaults otherwise (a 5 s sticky timeout, the production
	// worker cache, a 10 s request deadline).
	env := []string{"DATABASE_URL=" + dbURL, "TEMPORAL_ADDRESS=" + ts.Address, "TEMPORAL_NAMESPACE=default", "LOG_LEVEL=warn"}
	var workers, servers [2]*process
	for i := range 2 {
		workers[i] = start(t, fmt.Sprintf("worker-%d", i), filepath.Join(binDir, "worker"), dir,
			append(env, "METRICS_ADDR=127.0.0.1:"+itoa(ports[1+i]))...)
	}
	api := &apiClient{tokens: tokens, http: &http.Client{Timeout: 30 * time.Second}}
	for i := range 2 {
		servers[i] = start(t, fmt.Sprintf("server-%d", i), filepath.Join(binDir, "server"), dir,
			append(env, "HTTP_ADDR=127.0.0.1:"+itoa(ports[3+i]))...)
		api.servers = append(api.servers, "http://127.0.0.1:"+itoa(ports[3+i]))
	}
	for i := range 2 {
		waitOK(t, workers[i], "http://127.0.0.1:"+itoa(ports[1+i])+"/metrics", time.Minute)
		waitOK(t, servers[i], api.servers[i]+"/readyz", time.Minute)
	}
	defer func() {
		if t.Failed() {
			for _, p := range append(workers[:], servers[:]...) {
				t.Logf("last lines of %s (%s):\n%s", p.name, p.log, p.logTail(15))
			}
			t.Logf("Temporal server log: %s", temporalLog)
		}
	}()
	ready := time.Since(began)

	d := &driver{api: api}
	past := make([]string, pastComplaints)
	for i := range past {
		past[i] = fmt.Sprintf("TP-P%02d", i)
	}
	due := make([]string, dueComplaints)
	for i := range due {
		due[i] = fmt.Sprintf("TP-D%02d", i)
	}
	firstHalf, secondHalf := past[:pastComplaints/2], past[pastComplaints/2:]

	// 1. Half of the past complaints: create, contact, acknowledge.
	phase1 := time.Now()
	d.run(ctx, t, firstHalf, func(ctx context.Context, i int, no string) error {
		return d.createContactAck(ctx, i, no)
	})
	took1 := time.Since(phase1)
	if t.Failed() {
		t.FailNow()
	}

	// 2. The due complaints. Their contact deadline must fall after the
	// kill below, which comes two complaints into step 3. Creating them
	// (20 requests) and those two (about 14 requests, 4 at a time) take
	// well under what step 1 took (50 requests, 4 at a time) on this
	// machine however loaded: that plus a margin, and no more, or the
	// test only waits.
	margin := min(max(took1+3*time.Second, 5*time.Second), time.Minute)
	dueAt := time.Now().Add(margin)
	d.run(ctx, t, due, func(ctx context.Context, i int, no string) error {
		return d.createDue(ctx, i, no, dueAt)
	})
	if t.Failed() {
		t.FailNow()
	}

	// 3. The second half of the past complaints (create, contact, plan,
	// acknowledge) and the plans of the first half, during which worker 0
	// is killed: some requests are in flight on it, and it holds about
	// half the workflows in its cache (sticky), the due ones' timers among
	// them.
	killAt := dueAt.Add(-time.Second)
	progress := make(chan struct{}, 2*pastComplaints)
	phase3 := make(chan struct{})
	go func() {
		defer close(phase3)
		work := append(slices.Clone(secondHalf), firstHalf...)
		d.run(ctx, t, work, func(ctx context.Context, i int, no string) error {
			defer func() { progress <- struct{}{} }()
			if slices.Contains(secondHalf, no) {
				if err := d.createContactAck(ctx, i, no); err != nil {
					return err
				}
			}
			return d.command(ctx, i, no, assignee(no), "plan", map[string]any{"plan": "replace the motor"})
		})
	}()
	for n := 0; n < 2 && time.Now().Before(killAt); n++ {
		select {
		case <-progress:
		case <-time.After(time.Until(killAt)):
		}
	}
	killedAt, inflightAtKill := time.Now(), api.inflight.Load()
	workers[0].kill(t)
	killedPID := workers[0].cmd.Process.Pid
	<-phase3
	commanded := time.Since(phase1)
	if t.Failed() {
		t.FailNow()
	}
	if killedAt.After(dueAt) {
		t.Logf("note: the kill came %s after the due complaints' deadline (a slow machine): their escalations may have fired before it", killedAt.Sub(dueAt).Round(time.Millisecond))
	}

	// Every expected escalation arrives; the due ones on the survivor.
	want := map[string][]string{}
	for _, no := range past {
		want[no] = pastEscalations
	}
	for _, no := range due {
		want[no] = dueEscalations
	}
	total := len(past)*len(pastEscalations) + len(due)*len(dueEscalations)
	var have int
	if !pollUntil(2*time.Minute, func() bool {
		have = countRows(t, pool, "SELECT count(*) FROM escalations")
		return have >= total
	}) {
		t.Fatalf("escalations after 2 minutes: %d of %d", have, total)
	}
	escalated := time.Since(phase1)

	c := &checker{t: t, pool: pool, tc: tc, api: api, want: want, past: past, due: due}
	c.readModel(ctx)
	c.workflowState(ctx)
	c.visibility(ctx)
	recovered := c.histories(ctx, killedPID, killedAt)
	if recovered == 0 {
		t.Errorf("no workflow had a task completed by worker 0 before the kill and by worker 1 after it: the kill tested nothing")
	}
	for _, p := range append([]*process{workers[1]}, servers[:]...) {
		if !p.alive() {
			t.Errorf("%s exited (%v)", p.name, p.waitErr)
		}
		if strings.Contains(p.logTail(1000), "panic") {
			t.Errorf("%s logged a panic", p.name)
		}
	}
	firedAfterKill := countRows(t, pool, "SELECT count(*) FROM escalations WHERE complaint_no LIKE 'TP-D%' AND escalated_at > $1", killedAt)
	t.Logf("stack up %s, binaries built %s, processes ready %s; %d complaints created and commanded in %s (%d requests retried after a 503), every escalation in %s; "+
		"the kill came with %d requests in flight, %s before the due deadline; %d of %d due escalations fired after it; %d workflows moved from the killed worker to the survivor; total %s",
		stackUp.Round(time.Millisecond), built1.Round(time.Millisecond), ready.Round(time.Millisecond),
		len(past)+len(due), commanded.Round(time.Millisecond), d.retries.Load(), escalated.Round(time.Millisecond),
		inflightAtKill, dueAt.Sub(killedAt).Round(time.Millisecond), firedAfterKill, len(due), recovered, time.Since(began).Round(time.Millisecond))
}

// driver sends the complaints and commands.
type driver struct {
	api     *apiClient
	retries atomic.Int64 // requests resent after a 503
}

// run calls fn for each complaint, concurrency at a time; the first error
// fails the test (after every call has returned).
func (d *driver) run(ctx context.Context, t *testing.T, nos []string, fn func(ctx context.Context, i int, no string) error) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, concurrency)
	)
	for i, no := range nos {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := fn(ctx, i, no); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", no, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
}

// complaintIndex is the number in a complaint number: which assignee it
// has, which server it goes through first.
func complaintIndex(no string) int {
	var n int
	fmt.Sscanf(no[len(no)-2:], "%d", &n)
	return n
}

// assignee alternates the two demo agents: agent1 in team-a (supervisor
// manager1), agent2 in team-b (no supervisor: level 1 goes to the head).
func assignee(no string) string { return "agent" + itoa(1+complaintIndex(no)%2) }

func complaintBody(no string, receivedAt time.Time) map[string]any {
	return map[string]any{
		"complaint_no": no,
		"customer":     map[string]any{"name": "Customer Name", "phone": "+86 138 0000 0000"},
		"product":      "washing machine WM-7", "category": "repair", "description": "drum does not spin",
		"assignee_id": assignee(no), "received_at": receivedAt.UTC().Format(time.RFC3339Nano),
	}
}

// create sends the create through server i (again through the next one
// after a 503: creates are idempotent on the complaint number).
func (d *driver) create(ctx context.Context, i int, no string, receivedAt time.Time) (answer, error) {
	a, retries, err := d.api.call(ctx, i, "officer1", "POST", "/api/v1/complaints", complaintBody(no, receivedAt), "")
	d.retries.Add(int64(retries))
	if err != nil {
		return a, err
	}
	// 200: a 503 was answered after the complaint was stored; the retry found it.
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		return a, expect(a, http.StatusCreated, "create")
	}
	return a, nil
}

// createContactAck creates a past complaint (its escalations fire at once),
// has its assignee contact the customer, and an escalation officer
// acknowledge its contact escalation, each through alternating servers
// and each sent twice.
func (d *driver) createContactAck(ctx context.Context, i int, no string) error {
	a, err := d.create(ctx, i, no, time.Now().Add(-40*24*time.Hour))
	if err != nil {
		return err
	}
	if n := len(listOf(a.body, "escalations")); n != len(pastEscalations) {
		return fmt.Errorf("the create answered with %d escalations, want %d: %s", n, len(pastEscalations), short(a.raw))
	}
	if err := d.command(ctx, i+1, no, assignee(no), "contact", map[string]any{"note": "called, visit booked"}); err != nil {
		return err
	}
	// An acknowledgement is a read-model update, once: the second, through
	// the other server, is 409 and leaves the first as it was.
	path := "/api/v1/escalations/" + workflows.EscalationID(no, workflows.ClockContact, 1) + "/ack"
	ack, retries, err := d.api.call(ctx, i, "officer1", "POST", path, map[string]any{"note": "first"}, "")
	d.retries.Add(int64(retries))
	if err != nil {
		return err
	}
	if err := expect(ack, http.StatusOK, "ack"); err != nil {
		return err
	}
	again, retries, err := d.api.call(ctx, i+1, "officer1", "POST", path, map[string]any{"note": "second"}, "")
	d.retries.Add(int64(retries))
	if err != nil {
		return err
	}
	return expect(again, http.StatusConflict, "second ack")
}

// createDue creates a complaint whose contact clock falls due at dueAt.
func (d *driver) createDue(ctx context.Context, i int, no string, dueAt time.Time) error {
	a, err := d.create(ctx, i, no, dueAt.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	if time.Now().Before(dueAt) && len(listOf(a.body, "escalations")) != 0 {
		return fmt.Errorf("escalated before its deadline: %s", short(a.raw))
	}
	return nil
}

// command sends a complaint command through server i with an
// Idempotency-Key, then the same command with the same key through the
// other server, as a client that never saw the first answer would: both
// answer 200 with the command applied once.
func (d *driver) command(ctx context.Context, i int, no, user, cmd string, body map[string]any) error {
	key := "topology-" + no + "-" + cmd
	path := "/api/v1/complaints/" + no + "/" + cmd
	event := map[string]string{"contact": workflows.EventContacted, "plan": workflows.EventPlanned}[cmd]
	for n := range 2 {
		a, retries, err := d.api.call(ctx, i+n, user, "POST", path, body, key)
		d.retries.Add(int64(retries))
		if err != nil {
			return err
		}
		if err := expect(a, http.StatusOK, fmt.Sprintf("%s (send %d)", cmd, n+1)); err != nil {
			return err
		}
		if got := countEvents(a.body, event); got != 1 {
			return fmt.Errorf("%s (send %d) answered with %d %q events, want 1: %s", cmd, n+1, got, event, short(a.raw))
		}
	}
	return nil
}

func listOf(body map[string]any, key string) []any {
	l, _ := body[key].([]any)
	return l
}

// countEvents counts the audit events of type typ in a complaint state.
func countEvents(body map[string]any, typ string) int {
	n := 0
	for _, e := range listOf(body, "events") {
		if m, _ := e.(map[string]any); m["type"] == typ {
			n++
		}
	}
	return n
}

// escalationKey is "clock.level" of an escalation or escalated event.
func escalationKey(clock any, level any) string { return fmt.Sprintf("%v.%v", clock, level) }

func countRows(t *testing.T, q *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := q.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// checker holds what the checks need.
type checker struct {
	t         *testing.T
	pool      *pgxpool.Pool
	tc        client.Client
	api       *apiClient
	want      map[string][]string // complaint number -> its escalations, "clock.level"
	past, due []string
}

func (c *checker) isPast(no string) bool { return slices.Contains(c.past, no) }

// readModel: PostgreSQL holds every complaint, each expected escalation
// once and no other, one deduction per complaint, and each command's audit
// event once.
func (c *checker) readModel(ctx context.Context) {
	t := c.t
	if n := countRows(t, c.pool, "SELECT count(*) FROM complaints WHERE last_seq IS NOT NULL"); n != len(c.want) {
		t.Errorf("complaints written by their workflow: %d, want %d", n, len(c.want))
	}
	if n := countRows(t, c.pool, "SELECT count(*) FROM complaints"); n != len(c.want) {
		t.Errorf("complaints stored: %d, want %d", n, len(c.want))
	}

	got := map[string][]string{}
	rows, err := c.pool.Query(ctx, "SELECT complaint_no, clock, level, coalesce(acknowledged_by, ''), coalesce(ack_note, '') FROM escalations ORDER BY 1, 2, 3")
	if err != nil {
		t.Fatal(err)
	}
	acks := map[string]string{}
	for rows.Next() {
		var no, clock, by, note string
		var level int
		if err := rows.Scan(&no, &clock, &level, &by, &note); err != nil {
			t.Fatal(err)
		}
		k := escalationKey(clock, level)
		got[no] = append(got[no], k)
		if by != "" {
			acks[no+"/"+k] = by + ": " + note
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for no, want := range c.want {
		if !slices.Equal(got[no], sorted(want)) {
			t.Errorf("%s: escalations table %v, want %v", no, got[no], sorted(want))
		}
		if c.isPast(no) {
			if a := acks[no+"/contact.1"]; a != "officer1: first" {
				t.Errorf("%s: contact.1 acknowledged %q, want by officer1 with the first note", no, a)
			}
		}
	}
	if extra := slices.Collect(maps.Keys(got)); len(extra) != len(c.want) {
		t.Errorf("escalations for %d complaints, want %d", len(extra), len(c.want))
	}
	if n := len(acks); n != len(c.past) {
		t.Errorf("%d escalations acknowledged, want %d", n, len(c.past))
	}

	// One proposal per complaint, by the workflow, against its assignee.
	rows, err = c.pool.Query(ctx, "SELECT coalesce(source_complaint_no, ''), employee_id, proposed_by, status, points FROM deductions")
	if err != nil {
		t.Fatal(err)
	}
	deductions := map[string]int{}
	for rows.Next() {
		var no, employee, by, status string
		var points int
		if err := rows.Scan(&no, &employee, &by, &status, &points); err != nil {
			t.Fatal(err)
		}
		deductions[no]++
		if employee != assignee(no) || by != "system" || status != "proposed" || points != 20 {
			t.Errorf("deduction of %q: %s %s %s %d, want %s system proposed 20", no, employee, by, status, points, assignee(no))
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for no := range c.want {
		if deductions[no] != 1 {
			t.Errorf("%s: %d deductions proposed, want 1", no, deductions[no])
		}
	}
	if len(deductions) != len(c.want) {
		t.Errorf("deductions for %d sources, want %d: %v", len(deductions), len(c.want), deductions)
	}

	// The audit trail: each command and each escalation once.
	rows, err = c.pool.Query(ctx, `SELECT complaint_no, type, coalesce(data->>'clock', ''), coalesce(data->>'level', ''), count(*)
		FROM complaint_events GROUP BY 1, 2, 3, 4`)
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]int{} // "no/type" or "no/escalated/clock.level" -> count
	for rows.Next() {
		var no, typ, clock, level string
		var n int
		if err := rows.Scan(&no, &typ, &clock, &level, &n); err != nil {
			t.Fatal(err)
		}
		if typ == workflows.EventEscalated {
			events[no+"/"+typ+"/"+escalationKey(clock, level)] += n
		} else {
			events[no+"/"+typ] += n
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for no, want := range c.want {
		commands := 0
		if c.isPast(no) {
			commands = 1
		}
		for typ, n := range map[string]int{workflows.EventReceived: 1, workflows.EventContacted: commands, workflows.EventPlanned: commands} {
			if events[no+"/"+typ] != n {
				t.Errorf("%s: %d %q events in complaint_events, want %d", no, events[no+"/"+typ], typ, n)
			}
		}
		escalatedEvents := 0
		for k, n := range events {
			if strings.HasPrefix(k, no+"/"+workflows.EventEscalated+"/") {
				escalatedEvents += n
			}
		}
		for _, k := range want {
			if n := events[no+"/"+workflows.EventEscalated+"/"+k]; n != 1 {
				t.Errorf("%s: %d escalated events for %s in complaint_events, want 1", no, n, k)
			}
		}
		if escalatedEvents != len(want) {
			t.Errorf("%s: %d escalated events in complaint_events, want %d", no, escalatedEvents, len(want))
		}
	}
}

// workflowState: GET /complaints/{no} through each server answers from the
// workflow (not the read-model fallback) with the same escalations and
// each command's event once; the list has every complaint.
func (c *checker) workflowState(ctx context.Context) {
	t := c.t
	for no, want := range c.want {
		for i := range c.api.servers {
			a, _, err := c.api.call(ctx, i, "officer1", "GET", "/api/v1/complaints/"+no, nil, "")
			if err != nil || a.status != http.StatusOK {
				t.Errorf("GET %s through server %d: %v %d %s", no, i, err, a.status, short(a.raw))
				continue
			}
			if src := a.header.Get("X-State-Source"); src != "" {
				t.Errorf("GET %s through server %d answered from %s, not the workflow", no, i, src)
			}
			var got []string
			for _, e := range listOf(a.body, "escalations") {
				m, _ := e.(map[string]any)
				got = append(got, escalationKey(m["clock"], m["level"]))
			}
			slices.Sort(got)
			if !slices.Equal(got, sorted(want)) {
				t.Errorf("%s (server %d): workflow escalations %v, want %v", no, i, got, sorted(want))
			}
			commands := 0
			if c.isPast(no) {
				commands = 1
			}
			for typ, n := range map[string]int{workflows.EventReceived: 1, workflows.EventContacted: commands, workflows.EventPlanned: commands, workflows.EventEscalated: len(want)} {
				if got := countEvents(a.body, typ); got != n {
					t.Errorf("%s (server %d): %d %q events in the workflow's state, want %d", no, i, got, typ, n)
				}
			}
		}
	}
	a, _, err := c.api.call(ctx, 0, "officer1", "GET", "/api/v1/complaints?limit=500", nil, "")
	if err != nil || a.status != http.StatusOK || len(listOf(a.body, "items")) != len(c.want) {
		t.Errorf("GET /complaints: %v %d, %d items, want %d", err, a.status, len(listOf(a.body, "items")), len(c.want))
	}
}

// visibility: Temporal lists exactly one running workflow per complaint
// (PostgreSQL visibility).
func (c *checker) visibility(ctx context.Context) {
	t := c.t
	var runs map[string]int
	var running int
	ok := pollUntil(30*time.Second, func() bool {
		res, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = %q", workflows.ComplaintWorkflowType), PageSize: 1000,
		})
		if err != nil {
			return false
		}
		runs, running = map[string]int{}, 0
		for _, e := range res.Executions {
			runs[e.Execution.WorkflowId]++
			if e.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				running++
			}
		}
		return len(runs) == len(c.want) && running == len(c.want)
	})
	if !ok {
		t.Errorf("visibility: %d complaint workflows, %d running, want %d", len(runs), running, len(c.want))
	}
	for no := range c.want {
		if n := runs[workflows.ComplaintWorkflowID(no)]; n != 1 {
			t.Errorf("%s: %d workflow runs, want 1", no, n)
		}
	}
}

// histories: in each workflow's history every command's update (its
// Idempotency-Key) was accepted and completed once, and one notice was
// recorded per escalation and warning (the Notify local activity's
// marker; a retried workflow task that ran it again leaves none). It
// returns how many workflows had a task completed by the killed worker
// before the kill and by the survivor after it.
func (c *checker) histories(ctx context.Context, killedPID int, killedAt time.Time) (recovered int) {
	t := c.t
	killed := fmt.Sprintf("%d@", killedPID)
	for no := range c.want {
		accepted, completed := map[string]int{}, map[string]int{}
		notices := 0
		var byKilled, bySurvivorAfter bool
		it := c.tc.GetWorkflowHistory(ctx, workflows.ComplaintWorkflowID(no), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", no, err)
			}
			switch e.EventType {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
				accepted[e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetMeta().GetUpdateId()]++
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
				completed[e.GetWorkflowExecutionUpdateCompletedEventAttributes().GetMeta().GetUpdateId()]++
			case enumspb.EVENT_TYPE_MARKER_RECORDED:
				if isNotifyMarker(t, e) {
					notices++
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				id := e.GetWorkflowTaskCompletedEventAttributes().GetIdentity()
				if strings.HasPrefix(id, killed) {
					byKilled = true
				} else if e.EventTime.AsTime().After(killedAt) {
					bySurvivorAfter = true
				}
			}
		}
		if byKilled && bySurvivorAfter {
			recovered++
		}
		for id, n := range accepted {
			if n != 1 || completed[id] != 1 {
				t.Errorf("%s: update %q accepted %d and completed %d times, want once", no, id, n, completed[id])
			}
		}
		for _, cmd := range []string{"contact", "plan"} {
			key := "topology-" + no + "-" + cmd
			if want := c.isPast(no); (accepted[key] == 1) != want {
				t.Errorf("%s: update %s accepted %d times, want %v", no, key, accepted[key], want)
			}
		}
		// Notices: each escalation and each warning once (the state says
		// how many warnings: a due complaint's contact clock warns at
		// creation, a past one's clocks never).
		a, _, err := c.api.call(ctx, 0, "officer1", "GET", "/api/v1/complaints/"+no, nil, "")
		if err != nil {
			t.Errorf("GET %s: %v", no, err)
			continue
		}
		if want := len(c.want[no]) + countEvents(a.body, workflows.EventWarning); notices != want {
			t.Errorf("%s: %d notices in the history, want %d (escalations and warnings)", no, notices, want)
		}
	}
	return recovered
}

// isNotifyMarker reports whether e is the marker of a Notify local activity.
func isNotifyMarker(t *testing.T, e *historypb.HistoryEvent) bool {
	attrs := e.GetMarkerRecordedEventAttributes()
	if attrs.GetMarkerName() != "LocalActivity" {
		return false
	}
	var data struct{ ActivityType string }
	if err := converter.GetDefaultDataConverter().FromPayloads(attrs.GetDetails()["data"], &data); err != nil {
		t.Fatalf("local activity marker: %v", err)
	}
	return data.ActivityType == workflows.ActivityNotify
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
