package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/temporal"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/internal/pgtest"
	"github.com/acme/aftersales/workflows"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	shanghai = time.FixedZone("CST", 8*3600)
	// t0 is a Monday 10:00 in Asia/Shanghai.
	t0 = time.Date(2026, 9, 21, 10, 0, 0, 0, shanghai)
)

// setup returns Activities on a fresh database with the demo organisation.
func setup(t *testing.T) (*Activities, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	if err := demo.Seed(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return New(pool), pool
}

// intake inserts the complaint row the server writes before starting the workflow.
func intake(t *testing.T, a *Activities, no, assignee, team string, received time.Time) {
	t.Helper()
	h := sha256.Sum256([]byte(no))
	_, err := a.Q.InsertComplaintIntake(context.Background(), db.InsertComplaintIntakeParams{
		ComplaintNo: no, RequestHash: h[:], CustomerName: "Customer " + no, CustomerPhone: "13800000000",
		Product: "washer", Category: "repair", Description: "leaks", AssigneeID: assignee, TeamID: team,
		ReceivedAt: received, CreatedBy: "manager1",
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ev(seq int, typ string, at time.Time, data map[string]any) workflows.Event {
	actor := "agent1"
	if typ == "warning" || typ == "breached" || typ == "escalated" {
		actor = workflows.SystemActor
	}
	return workflows.Event{Seq: seq, Type: typ, ActorID: actor, At: at, Data: data}
}

func ptr[T any](v T) *T { return &v }

// clocks are the three clocks of R3 for a complaint received at r, none met.
func clocks(r time.Time) []workflows.Clock {
	return []workflows.Clock{
		{Name: workflows.ClockContact, DueAt: r.Add(24 * time.Hour)},
		{Name: workflows.ClockPlan, DueAt: r.Add(48 * time.Hour)},
		{Name: workflows.ClockResolution, DueAt: r.Add(9 * 24 * time.Hour)},
	}
}

// sync builds a ComplaintSync whose state holds events and whose new events
// are the last `fresh` of them.
func mkSync(no string, status workflows.ComplaintStatus, r time.Time, cl []workflows.Clock, events []workflows.Event, fresh int) workflows.ComplaintSync {
	return workflows.ComplaintSync{
		State: workflows.ComplaintState{
			ComplaintNo: no, Status: status, AssigneeID: "agent1", TeamID: "team-a",
			ReceivedAt: r, FirstTimeFix: true, Clocks: cl, Events: events,
		},
		Events: events[len(events)-fresh:],
	}
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// breachedSync is a complaint whose contact clock was missed: received,
// breached, escalated (level 1, R3), with a deduction proposal (R4.4).
func breachedSync(no string) workflows.ComplaintSync {
	cl := clocks(t0)
	cl[0].Breached = true
	events := []workflows.Event{
		ev(1, "received", t0, nil),
		ev(2, "warning", t0.Add(18*time.Hour), map[string]any{"clock": "contact"}),
		ev(3, "breached", t0.Add(24*time.Hour), map[string]any{"clock": "contact"}),
		ev(4, "escalated", t0.Add(24*time.Hour), map[string]any{"clock": "contact", "level": 1}),
	}
	s := mkSync(no, workflows.StatusOpen, t0, cl, events, 4)
	esc := workflows.Escalation{
		ID: workflows.EscalationID(no, workflows.ClockContact, 1), ComplaintNo: no,
		Clock: workflows.ClockContact, Level: 1, EscalatedAt: t0.Add(24 * time.Hour), EscalatedTo: []string{"manager1", "officer1"},
	}
	s.State.Escalations = []workflows.Escalation{esc}
	s.Escalations = []workflows.Escalation{esc}
	s.Deduction = &workflows.DeductionProposal{ComplaintNo: no, EmployeeID: "agent1", ReasonCode: "untimely_service",
		Points: 20, OccurredAt: t0.Add(24 * time.Hour)}
	return s
}

func TestSyncComplaintTwiceWritesEachRowOnce_R3_R7(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	intake(t, a, "C-1", "agent1", "team-a", t0)
	s := breachedSync("C-1")
	s.Survey = &workflows.SurveyRecord{ComplaintNo: "C-1", Resolution: 1, EmployeeID: "agent1",
		Ratings: workflows.Ratings{Attitude: 5, Speed: 4, Quality: 5, Parts: 3, Cost: 4}, SurveyedAt: t0.Add(48 * time.Hour), RecordedBy: "agent1"}
	for range 2 {
		if err := a.SyncComplaint(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for table, want := range map[string]int{"complaint_events": 4, "escalations": 1, "deductions": 1, "surveys": 1} {
		if n := count(t, pool, "SELECT count(*) FROM "+table); n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
	var (
		status   string
		breached bool
		nextDue  *time.Time
		lastSeq  int
		score    float64
	)
	if err := pool.QueryRow(ctx, `SELECT status, breached, next_due_at, last_seq FROM complaints WHERE complaint_no = 'C-1'`).
		Scan(&status, &breached, &nextDue, &lastSeq); err != nil {
		t.Fatal(err)
	}
	// The overdue contact clock is still the earliest open one.
	if status != "open" || !breached || nextDue == nil || !nextDue.Equal(t0.Add(24*time.Hour)) || lastSeq != 4 {
		t.Errorf("read model = %s breached=%v next_due=%v last_seq=%d", status, breached, nextDue, lastSeq)
	}
	// R4.1: the score is computed from the ratings when the record has none.
	if err := pool.QueryRow(ctx, `SELECT score::float8 FROM surveys`).Scan(&score); err != nil || score != 4.3 {
		t.Errorf("survey score = %v, %v; want 4.3", score, err)
	}
	// R7: the audit trail keeps the event's data.
	evs, err := a.Q.ListComplaintEvents(ctx, "C-1")
	if err != nil || len(evs) != 4 || !strings.Contains(string(evs[3].Data), `"level": 1`) || evs[0].Data != nil {
		t.Errorf("events = %+v, %v", evs, err)
	}
}

func TestSyncComplaintOlderAfterNewerKeepsNewerState_R7(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	intake(t, a, "C-1", "agent1", "team-a", t0)
	older := mkSync("C-1", workflows.StatusOpen, t0, clocks(t0), []workflows.Event{ev(1, "received", t0, nil)}, 1)

	cl := clocks(t0)
	for i := range cl {
		cl[i].MetAt = ptr(t0.Add(time.Duration(i+1) * time.Hour))
	}
	newer := mkSync("C-1", workflows.StatusResolved, t0, cl, []workflows.Event{
		ev(1, "received", t0, nil), ev(2, "contacted", t0.Add(time.Hour), nil),
		ev(3, "planned", t0.Add(2*time.Hour), nil), ev(4, "resolved", t0.Add(3*time.Hour), nil),
	}, 3)
	newer.State.ResolvedAt = ptr(t0.Add(3 * time.Hour))

	for _, s := range []workflows.ComplaintSync{newer, older} {
		if err := a.SyncComplaint(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	var status string
	var nextDue, resolvedAt *time.Time
	if err := pool.QueryRow(ctx, `SELECT status, next_due_at, resolved_at FROM complaints`).Scan(&status, &nextDue, &resolvedAt); err != nil {
		t.Fatal(err)
	}
	if status != "resolved" || nextDue != nil || resolvedAt == nil {
		t.Errorf("after an older sync: status=%s next_due=%v resolved_at=%v, want the newer resolved state", status, nextDue, resolvedAt)
	}
	if n := count(t, pool, `SELECT count(*) FROM complaint_events`); n != 4 {
		t.Errorf("%d events, want 4", n)
	}
}

func TestSyncComplaintWithoutIntakeFails(t *testing.T) {
	a, _ := setup(t)
	s := mkSync("NOPE", workflows.StatusOpen, t0, clocks(t0), []workflows.Event{ev(1, "received", t0, nil)}, 1)
	if err := a.SyncComplaint(context.Background(), s); err == nil || !strings.Contains(err.Error(), "no intake row") {
		t.Errorf("err = %v, want no intake row", err)
	}
}

func TestEscalationExactlyOncePerComplaintClockLevel_R3(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	intake(t, a, "C-1", "agent1", "team-a", t0)
	first := breachedSync("C-1")
	if err := a.SyncComplaint(ctx, first); err != nil {
		t.Fatal(err)
	}
	// A second sync carrying the same complaint/clock/level, fired "later"
	// to other people, must not add or change a row.
	again := breachedSync("C-1")
	again.Escalations[0].EscalatedAt = t0.Add(30 * time.Hour)
	again.Escalations[0].EscalatedTo = []string{"head1"}
	if err := a.SyncComplaint(ctx, again); err != nil {
		t.Fatal(err)
	}
	e, err := a.Q.GetEscalation(ctx, workflows.EscalationID("C-1", workflows.ClockContact, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !e.EscalatedAt.Equal(t0.Add(24*time.Hour)) || !slices.Equal(e.EscalatedTo, []string{"manager1", "officer1"}) {
		t.Errorf("escalation changed by a repeat: %+v", e)
	}
	// The constraint itself: another id for the same triple is refused silently.
	n, err := a.Q.InsertEscalation(ctx, db.InsertEscalationParams{ID: "other-id", ComplaintNo: "C-1",
		Clock: "contact", Level: 1, EscalatedAt: t0, EscalatedTo: []string{}})
	if err != nil || n != 0 {
		t.Errorf("duplicate (complaint, clock, level) inserted %d rows, err %v", n, err)
	}
	// Level 2 of the same clock is a different escalation.
	if n, err := a.Q.InsertEscalation(ctx, db.InsertEscalationParams{ID: workflows.EscalationID("C-1", "contact", 2),
		ComplaintNo: "C-1", Clock: "contact", Level: 2, EscalatedAt: t0, EscalatedTo: []string{"head1"}}); err != nil || n != 1 {
		t.Errorf("level 2 inserted %d rows, err %v", n, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM escalations`); n != 2 {
		t.Errorf("%d escalations, want 2", n)
	}
}

func TestDeductionOneProposalPerComplaint_R3_R4_4(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	intake(t, a, "C-1", "agent1", "team-a", t0)
	if err := a.SyncComplaint(ctx, breachedSync("C-1")); err != nil {
		t.Fatal(err)
	}
	// A later sync proposing again (say, after a reassignment to agent2)
	// must not add a second proposal.
	s := breachedSync("C-1")
	s.Deduction.EmployeeID = "agent2"
	if err := a.SyncComplaint(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM deductions`); n != 1 {
		t.Fatalf("%d deductions, want 1", n)
	}
	d, err := a.Q.GetDeductionByComplaint(ctx, "C-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.EmployeeID != "agent1" || d.Points != 20 || d.Status != "proposed" || d.ReasonCode != "untimely_service" || d.ProposedBy != workflows.SystemActor {
		t.Errorf("deduction = %+v", d)
	}
}

func TestSurveyOnePerResolution_R4_1(t *testing.T) {
	a, _ := setup(t)
	ctx := context.Background()
	intake(t, a, "C-1", "agent1", "team-a", t0)
	r := workflows.Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}
	base := mkSync("C-1", workflows.StatusResolved, t0, clocks(t0), []workflows.Event{ev(1, "received", t0, nil)}, 1)
	for i, res := range []int{1, 1, 2} {
		s := base
		s.Survey = &workflows.SurveyRecord{ComplaintNo: "C-1", Resolution: res, EmployeeID: "agent1", Ratings: r,
			Score: r.Score(), SurveyedAt: t0.Add(time.Duration(i+1) * time.Hour), RecordedBy: "manager1"}
		if err := a.SyncComplaint(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.Q.CountSurveys(ctx, "C-1"); err != nil || n != 2 {
		t.Errorf("%d surveys (%v), want 2: one per resolution", n, err)
	}
}

// listFixture makes four complaints (received an hour apart):
// C-1 agent1/team-a open, contact due t0+24h; C-2 agent2/team-b open,
// breached, plan overdue (due t0+49h); C-3 agent1/team-a resolved;
// C-4 agent1/team-a open with contact and plan met and resolution paused
// (no clock running, R3).
func listFixture(t *testing.T, a *Activities) {
	t.Helper()
	ctx := context.Background()
	for i, c := range []struct{ no, assignee, team string }{
		{"C-1", "agent1", "team-a"}, {"C-2", "agent2", "team-b"}, {"C-3", "agent1", "team-a"}, {"C-4", "agent1", "team-a"},
	} {
		r := t0.Add(time.Duration(i) * time.Hour)
		intake(t, a, c.no, c.assignee, c.team, r)
		cl := clocks(r)
		status := workflows.StatusOpen
		switch c.no {
		case "C-2":
			cl[0].MetAt = ptr(r.Add(time.Hour))
			cl[1].Breached = true
		case "C-3":
			status = workflows.StatusResolved
			for j := range cl {
				cl[j].MetAt = ptr(r.Add(time.Hour))
			}
		case "C-4":
			cl[0].MetAt, cl[1].MetAt = ptr(r.Add(time.Hour)), ptr(r.Add(time.Hour))
			cl[2].Paused = true
		}
		s := mkSync(c.no, status, r, cl, []workflows.Event{ev(1, "received", r, nil)}, 1)
		s.State.AssigneeID, s.State.TeamID = c.assignee, c.team
		if err := a.SyncComplaint(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}

func nos(rows []db.ListComplaintsRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ComplaintNo)
	}
	return out
}

func TestListComplaintsFilters_R3_R7(t *testing.T) {
	a, _ := setup(t)
	listFixture(t, a)
	for _, tc := range []struct {
		name string
		p    db.ListComplaintsParams
		want []string
	}{
		{"all", db.ListComplaintsParams{}, []string{"C-1", "C-2", "C-3", "C-4"}},
		{"status open", db.ListComplaintsParams{Status: ptr("open")}, []string{"C-1", "C-2", "C-4"}},
		{"status resolved", db.ListComplaintsParams{Status: ptr("resolved")}, []string{"C-3"}},
		{"assignee", db.ListComplaintsParams{AssigneeID: ptr("agent2")}, []string{"C-2"}},
		{"team", db.ListComplaintsParams{TeamID: ptr("team-a")}, []string{"C-1", "C-3", "C-4"}},
		{"breached", db.ListComplaintsParams{Breached: ptr(true)}, []string{"C-2"}},
		{"not breached", db.ListComplaintsParams{Breached: ptr(false)}, []string{"C-1", "C-3", "C-4"}},
		// R3: an open clock due before the instant; paused and met clocks don't count.
		{"due before contact", db.ListComplaintsParams{DueBefore: ptr(t0.Add(30 * time.Hour))}, []string{"C-1"}},
		{"due before later", db.ListComplaintsParams{DueBefore: ptr(t0.Add(100 * time.Hour))}, []string{"C-1", "C-2"}},
		// R1/R7: a manager sees their teams only; a manager of no team sees nothing.
		{"manager of team-b", db.ListComplaintsParams{TeamIds: []string{"team-b"}}, []string{"C-2"}},
		{"manager of team-a, open", db.ListComplaintsParams{TeamIds: []string{"team-a"}, Status: ptr("open")}, []string{"C-1", "C-4"}},
		{"manager of no team", db.ListComplaintsParams{TeamIds: []string{}}, []string{}},
		{"manager of team-a asking team-b", db.ListComplaintsParams{TeamIds: []string{"team-a"}, TeamID: ptr("team-b")}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.RowLimit = 50
			rows, err := a.Q.ListComplaints(context.Background(), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if got := nos(rows); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestListComplaintsKeysetPagination(t *testing.T) {
	a, _ := setup(t)
	listFixture(t, a)
	ctx := context.Background()
	var pages [][]string
	p := db.ListComplaintsParams{RowLimit: 3}
	for range 5 {
		rows, err := a.Q.ListComplaints(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, nos(rows))
		if len(rows) < int(p.RowLimit) {
			break
		}
		last := rows[len(rows)-1]
		p.AfterReceivedAt, p.AfterNo = &last.ReceivedAt, &last.ComplaintNo
	}
	if len(pages) != 2 || !slices.Equal(pages[0], []string{"C-1", "C-2", "C-3"}) || !slices.Equal(pages[1], []string{"C-4"}) {
		t.Errorf("pages = %v", pages)
	}
}

func TestAckEscalationTwiceKeepsFirst_R3(t *testing.T) {
	a, _ := setup(t)
	ctx := context.Background()
	intake(t, a, "C-1", "agent2", "team-b", t0)
	s := breachedSync("C-1")
	s.State.AssigneeID, s.State.TeamID = "agent2", "team-b"
	if err := a.SyncComplaint(ctx, s); err != nil {
		t.Fatal(err)
	}
	id := workflows.EscalationID("C-1", workflows.ClockContact, 1)
	list := func(p db.ListEscalationsParams) []string {
		t.Helper()
		p.RowLimit = 50
		rows, err := a.Q.ListEscalations(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	// Visibility (R1/R7): team-a's manager sees it only because it was escalated to them.
	if got := list(db.ListEscalationsParams{OpenOnly: true, TeamIds: []string{"team-a"}, Recipient: ptr("manager1")}); len(got) != 1 {
		t.Errorf("recipient's list = %v", got)
	}
	if got := list(db.ListEscalationsParams{OpenOnly: true, TeamIds: []string{"team-a"}, Recipient: ptr("head1")}); len(got) != 0 {
		t.Errorf("other manager's list = %v", got)
	}
	if n, _ := a.Q.CountOpenEscalations(ctx); n != 1 {
		t.Errorf("open escalations = %d, want 1", n)
	}

	first, err := a.Q.AckEscalation(ctx, db.AckEscalationParams{ID: id, AcknowledgedBy: ptr("officer1"), AckNote: ptr("on it")})
	if err != nil || first.AcknowledgedAt == nil || *first.AcknowledgedBy != "officer1" {
		t.Fatalf("first ack = %+v, %v", first, err)
	}
	if _, err := a.Q.AckEscalation(ctx, db.AckEscalationParams{ID: id, AcknowledgedBy: ptr("manager1"), AckNote: ptr("me too")}); !errors.Is(err, pgx.ErrNoRows) {
		t.Errorf("second ack: err = %v, want pgx.ErrNoRows", err)
	}
	got, err := a.Q.GetEscalation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if *got.AcknowledgedBy != "officer1" || *got.AckNote != "on it" || !got.AcknowledgedAt.Equal(*first.AcknowledgedAt) ||
		got.TeamID != "team-b" || got.AssigneeID != "agent2" {
		t.Errorf("after a second ack: %+v", got)
	}
	// A later sync of the same escalation must not reopen it either.
	if err := a.SyncComplaint(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := list(db.ListEscalationsParams{OpenOnly: true}); len(got) != 0 {
		t.Errorf("open list after ack = %v", got)
	}
	if got := list(db.ListEscalationsParams{OpenOnly: false}); len(got) != 1 {
		t.Errorf("full list after ack = %v", got)
	}
	if n, _ := a.Q.CountOpenEscalations(ctx); n != 0 {
		t.Errorf("open escalations = %d, want 0", n)
	}
}

func notice() workflows.Notification {
	return workflows.Notification{Key: "C-1/contact/1", Kind: "escalation", ComplaintNo: "C-1",
		Clock: workflows.ClockContact, Level: 1, DueAt: t0.Add(24 * time.Hour),
		Recipients: []string{"manager1", "officer1"}, At: t0.Add(24 * time.Hour)}
}

func TestNotifyWebhookRetriesWithSameKey_R3(t *testing.T) {
	var (
		mu     sync.Mutex
		keys   []string
		bodies []workflows.Notification
		codes  = []int{http.StatusInternalServerError, http.StatusOK}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var n workflows.Notification
		_ = json.NewDecoder(r.Body).Decode(&n)
		keys, bodies = append(keys, r.Header.Get("Idempotency-Key")), append(bodies, n)
		w.WriteHeader(codes[0])
		codes = codes[1:]
	}))
	defer srv.Close()
	a := &Activities{WebhookURL: srv.URL}

	// The first attempt meets a 500: a retryable error, Temporal retries.
	err := a.Notify(context.Background(), notice())
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.NonRetryable() {
		t.Fatalf("500: err = %v, want a retryable application error", err)
	}
	if err := a.Notify(context.Background(), notice()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(keys) != 2 || keys[0] != "C-1/contact/1" || keys[1] != keys[0] {
		t.Errorf("Idempotency-Key per attempt = %q, want the same key twice", keys)
	}
	if bodies[1].ComplaintNo != "C-1" || bodies[1].Level != 1 || !slices.Equal(bodies[1].Recipients, []string{"manager1", "officer1"}) {
		t.Errorf("body = %+v", bodies[1])
	}
}

func TestNotifyWebhookErrorClasses_R3(t *testing.T) {
	for _, tc := range []struct {
		code         int
		nonRetryable bool
	}{{400, true}, {404, true}, {408, false}, {429, false}, {500, false}, {503, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.code) }))
		err := (&Activities{WebhookURL: srv.URL}).Notify(context.Background(), notice())
		srv.Close()
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.NonRetryable() != tc.nonRetryable {
			t.Errorf("%d: err = %v, want non-retryable=%v", tc.code, err, tc.nonRetryable)
		}
	}
	// An unreachable receiver is retryable too, and the error does not
	// repeat the URL (it may hold a secret).
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	err := (&Activities{WebhookURL: srv.URL + "/hook?token=secret"}).Notify(context.Background(), notice())
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable: err = %v", err)
	}
}

func TestNotifyWithoutURLLogsAndSucceeds_R3_R7(t *testing.T) {
	var buf bytes.Buffer
	a := &Activities{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := a.Notify(context.Background(), notice()); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	for k, want := range map[string]any{"complaint_no": "C-1", "clock": "contact", "level": 1.0, "kind": "escalation", "key": "C-1/contact/1"} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v", k, line[k], want)
		}
	}
	if r, _ := line["recipients"].([]any); len(r) != 2 {
		t.Errorf("recipients = %v", line["recipients"])
	}
}

// sample returns the value of the counter or gauge name with the given
// label values (in label-name order), 0 when absent; for a histogram, its
// number of observations. (prometheus/testutil would need
// github.com/kylelemons/godebug in go.mod, which it lacks.)
func sample(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetValue() != labels[i] {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func TestMetricsCountedOnceAcrossRepeatedSync_R3(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, pool)
	intake(t, a, "C-1", "agent1", "team-a", t0)

	// Contact missed (breached, escalated), then contacted late; plan met.
	s := breachedSync("C-1")
	s.State.Clocks[0].MetAt = ptr(t0.Add(30 * time.Hour))
	s.State.Clocks[1].MetAt = ptr(t0.Add(40 * time.Hour))
	s.State.Events = append(s.State.Events,
		ev(5, "contacted", t0.Add(30*time.Hour), nil), ev(6, "planned", t0.Add(40*time.Hour), nil))
	s.Events = s.State.Events
	// The level as it arrives after a trip through JSON.
	s.State.Events[3].Data["level"] = 1.0
	for range 2 {
		if err := a.SyncComplaint(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// Then resolved, synced twice as well.
	r := s
	r.State.Status = workflows.StatusResolved
	r.State.Clocks = slices.Clone(s.State.Clocks)
	r.State.Clocks[2].MetAt = ptr(t0.Add(50 * time.Hour))
	r.State.Events = append(slices.Clone(s.State.Events), ev(7, "resolved", t0.Add(50*time.Hour), nil))
	r.Events = r.State.Events[6:]
	r.Deduction = nil
	for range 2 {
		if err := a.SyncComplaint(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"complaints_received_total", nil, 1},
		{"complaint_warnings_total", []string{"contact"}, 1},
		{"complaint_clocks_total", []string{"contact", "breached"}, 1},
		{"complaint_clocks_total", []string{"contact", "met"}, 0}, // met late: already counted as breached
		{"complaint_clocks_total", []string{"plan", "met"}, 1},
		{"complaint_clocks_total", []string{"resolution", "met"}, 1},
		{"complaint_escalations_total", []string{"contact", "1"}, 1},
		{"complaint_open_escalations", nil, 1},
		{"complaint_time_to_contact_seconds", nil, 1}, // observations
		{"complaint_time_to_plan_seconds", nil, 1},
		{"complaint_time_to_resolve_seconds", nil, 1},
	} {
		if got := sample(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// R7: no label carries a complaint number or personal data.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, met := range mf.GetMetric() {
			for _, l := range met.GetLabel() {
				if strings.Contains(l.GetValue(), "C-1") || strings.Contains(l.GetValue(), "138") {
					t.Errorf("%s has label %s=%s", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestActivitiesWorkWithoutMetrics(t *testing.T) {
	a, _ := setup(t)
	intake(t, a, "C-1", "agent1", "team-a", t0)
	if err := a.SyncComplaint(context.Background(), breachedSync("C-1")); err != nil {
		t.Fatal(err)
	}
}

func TestComplaintEventsAppendOnly_R7(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	intake(t, a, "C-1", "agent1", "team-a", t0)
	if err := a.SyncComplaint(ctx, breachedSync("C-1")); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{`UPDATE complaint_events SET reason = 'rewritten'`, `DELETE FROM complaint_events`} {
		if _, err := pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want refused", sql, err)
		}
	}
}

// A reassignment to another team moves the complaint's escalations with it,
// so the new team's manager finds them in their list (R3, R7).
func TestEscalationsFollowAReassignment_R3(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	intake(t, a, "C-1", "agent1", "team-a", t0)
	s := breachedSync("C-1")
	if err := a.SyncComplaint(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM escalations WHERE complaint_no = 'C-1' AND team_id = 'team-a'`); n != 1 {
		t.Fatalf("escalations of team-a = %d, want 1", n)
	}
	s.State.AssigneeID, s.State.TeamID = "agent2", "team-b"
	s.State.Events = append(s.State.Events, ev(5, "reassigned", t0.Add(25*time.Hour), map[string]any{"from": "agent1", "to": "agent2"}))
	s.Events, s.Escalations, s.Deduction = s.State.Events[4:], nil, nil
	if err := a.SyncComplaint(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM escalations WHERE complaint_no = 'C-1' AND team_id = 'team-b'`); n != 1 {
		t.Errorf("escalations of team-b after the reassignment = %d, want 1", n)
	}
}
