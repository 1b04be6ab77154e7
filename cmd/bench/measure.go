package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// bench holds the connections of one run to the stack under test.
type bench struct {
	st    *stack
	hc    *http.Client
	tc    client.Client
	pool  *pgxpool.Pool
	queue string // the service's task queue
	conc  int    // concurrent calls in the create and command phases
	tag   string // in every complaint number of this run, so runs against one stack never collide

	calendar []calendar.Override // what the server passes to each complaint it starts
	location string

	stickyTimeout time.Duration // the service worker's (worker.Options), for the floor's worker
}

// The demo organisation of `make run`: agent1 in team-a under manager1,
// department head head1 (the values the server would derive for agent1).
const (
	agent   = "agent1"
	team    = "team-a"
	manager = "manager1"
	head    = "head1"
)

func (b *bench) no(kind string, i int) string { return fmt.Sprintf("%s-%s-%05d", kind, b.tag, i) }

// post sends body (nil: no body) as user to path and fails unless the
// status is one of want.
func (b *bench) post(ctx context.Context, path, user string, body any, want ...int) ([]byte, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.st.api+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.st.tokens[user])
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return out, nil
		}
	}
	return nil, fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(out))
}

// createHTTP is POST /complaints as in README's "One complaint"; a nil
// receivedAt lets the server use now.
func (b *bench) createHTTP(ctx context.Context, no string, receivedAt *time.Time) error {
	body := map[string]any{
		"complaint_no": no,
		"customer":     map[string]string{"name": "Ms Li", "phone": "13800000000"},
		"product":      "WM-7 washer", "category": "repair", "description": "drum does not spin",
		"assignee_id": agent,
	}
	if receivedAt != nil {
		body["received_at"] = receivedAt.UTC().Format(time.RFC3339Nano)
	}
	_, err := b.post(ctx, "/api/v1/complaints", agent, body, http.StatusCreated)
	return err
}

// createRaw is what the HTTP create does in Temporal, straight from the
// SDK: start the same workflow with the input the server would build, then
// query its state (the HTTP create answers with that state too).
func (b *bench) createRaw(ctx context.Context, no string) error {
	in := workflows.ComplaintInput{
		ComplaintNo: no, AssigneeID: agent, TeamID: team, ManagerID: manager, HeadID: head,
		ReceivedAt: time.Now(), CreatedBy: agent, Policy: workflows.DefaultSLAPolicy(),
		Calendar: b.calendar, Location: b.location,
	}
	id := workflows.ComplaintWorkflowID(no)
	_, err := b.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: b.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.ComplaintWorkflowType, in)
	if err != nil {
		return err
	}
	v, err := b.tc.QueryWorkflow(ctx, id, "", workflows.QueryState)
	if err != nil {
		return err
	}
	var st workflows.ComplaintState
	if err := v.Get(&st); err != nil {
		return err
	}
	if st.ComplaintNo != no {
		return fmt.Errorf("query of %s answered complaint %q", no, st.ComplaintNo)
	}
	return nil
}

// insertIntakes writes the intake rows of complaints the bench starts
// itself: their workflow's read-model sync updates that row. created_at is
// put a day ahead so the server's reconciler (which starts the workflow of
// intake rows older than its interval) leaves them to us.
func (b *bench) insertIntakes(ctx context.Context, nos []string) error {
	_, err := b.pool.Exec(ctx, `
		INSERT INTO complaints (complaint_no, request_hash, customer_name, customer_phone, product, category,
		                        description, assignee_id, team_id, received_at, created_by, created_at)
		SELECT no, sha256(convert_to(no, 'UTF8')), 'Ms Li', '13800000000', 'WM-7 washer', 'repair',
		       'drum does not spin', $2, $3, now(), $2, now() + interval '1 day'
		FROM unnest($1::text[]) AS no`, nos, agent, team)
	return err
}

type comparison struct {
	HTTP  opStats `json:"http"`
	Raw   opStats `json:"raw"`
	Ratio float64 `json:"ratio"` // create: HTTP/raw throughput; command: HTTP/raw p50
}

// measureCreate creates n complaints over HTTP and n with the raw SDK,
// b.conc at a time, side by side (see sideBySide). It returns the numbers
// of the complaints created over each path.
func (b *bench) measureCreate(ctx context.Context, n int) (comparison, []string, []string, error) {
	httpNos, rawNos := make([]string, n), make([]string, n)
	for i := range n {
		httpNos[i], rawNos[i] = b.no("H", i), b.no("R", i)
	}
	if err := b.warmUp(ctx); err != nil {
		return comparison{}, nil, nil, err
	}
	if err := b.insertIntakes(ctx, rawNos); err != nil {
		return comparison{}, nil, nil, fmt.Errorf("raw intake rows: %w", err)
	}
	var c comparison
	c.Raw, c.HTTP = sideBySide(ctx, n, b.conc,
		func(ctx context.Context, i int) error { return b.createRaw(ctx, rawNos[i]) },
		func(ctx context.Context, i int) error { return b.createHTTP(ctx, httpNos[i], nil) })
	c.Ratio = ratio(c.HTTP.PerSec, c.Raw.PerSec)
	return c, httpNos, rawNos, ctx.Err()
}

// warmUp creates and contacts a few complaints each way, untimed: the
// first calls pay for connections, caches and the pollers getting going.
func (b *bench) warmUp(ctx context.Context) error {
	n := b.conc
	var nos []string
	for i := range n {
		nos = append(nos, b.no("WR", i))
	}
	if err := b.insertIntakes(ctx, nos); err != nil {
		return err
	}
	raw := runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error { return b.createRaw(ctx, nos[i]) })
	web := runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error { return b.createHTTP(ctx, b.no("WH", i), nil) })
	rawCmd := runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error { return b.contactRaw(ctx, nos[i]) })
	webCmd := runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error { return b.contactHTTP(ctx, b.no("WH", i)) })
	for _, st := range []opStats{raw, web, rawCmd, webCmd} {
		if st.Errors > 0 {
			return fmt.Errorf("warm-up failed: %s", st.FirstError)
		}
	}
	return nil
}

// contactRaw is the contact command as the server sends it: an update
// waited on until completed, returning the new state.
func (b *bench) contactRaw(ctx context.Context, no string) error {
	h, err := b.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.ComplaintWorkflowID(no), UpdateName: workflows.UpdateContact,
		Args:         []any{workflows.ContactInput{Actor: agent, Note: "n"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	var st workflows.ComplaintState
	return h.Get(ctx, &st)
}

func (b *bench) contactHTTP(ctx context.Context, no string) error {
	_, err := b.post(ctx, "/api/v1/complaints/"+no+"/contact", agent, map[string]string{"note": "n"}, http.StatusOK)
	return err
}

// measureCommand sends one contact to each of the first n complaints of
// each path, side by side as in measureCreate.
func (b *bench) measureCommand(ctx context.Context, httpNos, rawNos []string, n int) comparison {
	n = min(n, len(httpNos), len(rawNos))
	var c comparison
	c.Raw, c.HTTP = sideBySide(ctx, n, b.conc,
		func(ctx context.Context, i int) error { return b.contactRaw(ctx, rawNos[i]) },
		func(ctx context.Context, i int) error { return b.contactHTTP(ctx, httpNos[i]) })
	c.Ratio = ratio(c.HTTP.P50ms, c.Raw.P50ms)
	return c
}

type historyCount struct {
	Events int            `json:"events"`
	ByType map[string]int `json:"by_type"`
}

// measureHistory takes one complaint through its whole life over HTTP and
// counts the events of its workflow history.
func (b *bench) measureHistory(ctx context.Context) (historyCount, error) {
	no := b.no("L", 0)
	if err := b.createHTTP(ctx, no, nil); err != nil {
		return historyCount{}, err
	}
	steps := []struct {
		cmd  string
		body any
	}{
		{"contact", map[string]string{"note": "called, visit booked"}},
		{"plan", map[string]string{"plan": "replace the motor"}},
		{"pause", map[string]string{"reason": "waiting for the customer to be home"}},
		{"resume", nil},
		{"resolve", map[string]string{"resolution": "motor replaced"}},
		{"survey", map[string]any{"ratings": map[string]int{"attitude": 5, "speed": 4, "quality": 5, "parts": 4, "cost": 3}}},
	}
	for _, s := range steps {
		if _, err := b.post(ctx, "/api/v1/complaints/"+no+"/"+s.cmd, agent, s.body, http.StatusOK); err != nil {
			return historyCount{}, err
		}
	}
	return b.countHistory(ctx, no)
}

// measureBreachedHistory creates a complaint received 30 days ago, so every
// clock has missed both levels, waits for its six escalations in the read
// model and counts its history's events.
func (b *bench) measureBreachedHistory(ctx context.Context) (historyCount, error) {
	no := b.no("X", 0)
	received := time.Now().Add(-30 * 24 * time.Hour)
	if err := b.createHTTP(ctx, no, &received); err != nil {
		return historyCount{}, err
	}
	for deadline := time.Now().Add(time.Minute); ; {
		var n int
		if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM escalations WHERE complaint_no = $1`, no).Scan(&n); err != nil {
			return historyCount{}, err
		}
		if n == 6 {
			break
		}
		if time.Now().After(deadline) {
			return historyCount{}, fmt.Errorf("%s has %d escalations, want 6 (3 clocks x 2 levels)", no, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return b.countHistory(ctx, no)
}

func (b *bench) countHistory(ctx context.Context, no string) (historyCount, error) {
	h := historyCount{ByType: map[string]int{}}
	it := b.tc.GetWorkflowHistory(ctx, workflows.ComplaintWorkflowID(no), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return h, err
		}
		h.Events++
		h.ByType[e.GetEventType().String()]++
	}
	return h, nil
}

// loadCalendar reads what the server passes to every complaint it starts.
func (b *bench) loadCalendar(ctx context.Context) error {
	ovs, err := db.New(b.pool).CalendarOverrides(ctx)
	b.calendar = ovs
	return err
}
