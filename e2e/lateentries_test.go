package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cycle is the gate of late entries (R4.0 with R4.5, issue 13 item 3):
// an entry dated in an assessed month is counted (the cycle accepted it
// and recomputed before the answer) or refused with 409 month_closed, never
// stored uncounted. The races are driven through PostgreSQL locks the test
// holds, never by sleeping: the month's advisory lock (which a compute
// takes exclusively and an entry shared) and the cycle's row (which the
// cycle's status write needs).

// monthAgo is the month n months before this one (1: the month just
// ended), and an instant of it (day, hour).
func monthAgo(n int) (string, func(day, hour int) string) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(sh)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, sh).AddDate(0, -n, 0)
	return first.Format("2006-01"), func(day, hour int) string {
		return first.AddDate(0, 0, day-1).Add(time.Duration(hour) * time.Hour).Format(time.RFC3339)
	}
}

// resultOf is emp's result of month as HR sees it, nil when none.
func (s *stack) resultOf(month, emp string) map[string]any {
	s.t.Helper()
	r := s.must(s.call("hr1", "GET", "/api/v1/assessments?month="+month, nil), 200, "results")
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		if m := it.(map[string]any); m["employee_id"] == emp {
			return m
		}
	}
	return nil
}

func (s *stack) cycleOf(month string) map[string]any {
	s.t.Helper()
	return s.must(s.call("hr1", "GET", "/api/v1/assessment-cycles/"+month, nil), 200, "cycle").body
}

// callAsync is call from another goroutine: its answer arrives on the channel.
func (s *stack) callAsync(user, method, path string, body any) <-chan response {
	out := make(chan response, 1)
	go func() {
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(j))
		req.Header.Set("Authorization", "Bearer "+s.tokens[user])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			s.t.Error(err)
			out <- response{}
			return
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		r := response{status: res.StatusCode, header: res.Header, raw: raw}
		_ = json.Unmarshal(raw, &r.body)
		out <- r
	}()
	return out
}

// hold opens a transaction that runs sql (a lock) and keeps it until the
// returned release is called (or the test ends). It has a connection of its
// own: the stack's pool is small, and what waits on the lock holds some.
func (s *stack) hold(sql string, args ...any) (release func()) {
	s.t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		s.t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		s.t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = tx.Rollback(ctx)
			_ = conn.Close(ctx)
		}
	}
	s.t.Cleanup(release)
	return release
}

// monthLockShared is the month's lock as an entry takes it (db/queries/lateentries.sql).
const monthLockShared = `SELECT pg_advisory_xact_lock_shared(hashtextextended('assessment-month:' || $1::text, 0))`

// waitingMonthLocks counts lock requests of the month's lock not granted yet.
func (s *stack) waitingMonthLocks(month string) (n int) {
	s.t.Helper()
	err := s.pool.QueryRow(context.Background(), `
		SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('assessment-month:' || $1::text, 0)`, month).Scan(&n)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *stack) workOrderStored(no string) bool {
	s.t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM work_orders WHERE work_order_no = $1`, no).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n == 1
}

// R4.0, R4.5: a published month takes a late work order, survey and
// deduction decision, each counted when its answer arrives. The race, both
// sides, on two months whose windows end together: in one, an entry
// accepted before the window ends is counted although its recompute is
// held past the window's end, and the month does not finalize before it;
// in the other, an entry that arrives once the cycle is closing is refused
// with 409 while PostgreSQL still says "published" (the lag the old gate
// trusted), and nothing of it is stored. A final month refuses entries (409).
func TestR4_0_LateEntriesAreCountedOrRefusedByTheCycle(t *testing.T) {
	s := startStack(t, withPublicationWindow(30*time.Second))
	month, at := monthAgo(1)    // counted when answered; refused while the store lags
	held, heldAt := monthAgo(2) // accepted, its recompute held past the window
	wo := func(no, when, repeatOf string) map[string]any {
		b := map[string]any{"work_order_no": no, "technician_id": "agent1", "completed_at": when}
		if repeatOf != "" {
			b["repeat_of"] = repeatOf
		}
		return b
	}
	// Before any cycle: simply stored. First-time fixes (R4.2).
	s.must(s.call("agent1", "POST", "/api/v1/work-orders", wo("WO-1", at(5, 12), "")), 201, "WO-1")
	s.must(s.call("agent1", "POST", "/api/v1/work-orders", wo("WO-H1", heldAt(5, 12), "")), 201, "WO-H1")
	c := complaintBody("LATE-1")
	c["received_at"] = at(3, 10)
	s.must(s.call("agent1", "POST", "/api/v1/complaints", c), 201, "complaint")
	for _, step := range []struct{ path, field string }{{"contact", "note"}, {"plan", "plan"}, {"resolve", "resolution"}} {
		s.must(s.call("agent1", "POST", "/api/v1/complaints/LATE-1/"+step.path, map[string]any{step.field: "x"}), 200, step.path)
	}
	for _, m := range []string{held, month} {
		s.must(s.call("hr1", "POST", "/api/v1/assessment-cycles", map[string]any{"month": m}), 201, "start cycle "+m)
	}
	for _, m := range []string{held, month} {
		s.poll("published results of "+m, 20*time.Second, func() bool { return s.cycleOf(m)["status"] == "published" })
	}
	if r := s.resultOf(month, "agent1"); r == nil || r["ftfr"] != 100.0 || r["csat"] != nil {
		t.Fatalf("published: %v", r)
	}

	// Counted when answered: no polling.
	s.must(s.call("agent1", "POST", "/api/v1/work-orders", wo("WO-2", at(10, 12), "WO-1")), 201, "late WO-2")
	if r := s.resultOf(month, "agent1"); r["ftfr"] != 50.0 {
		t.Fatalf("WO-2 answered but not counted (R4.2: WO-1 came back): %v", r)
	}
	s.must(s.call("agent1", "POST", "/api/v1/complaints/LATE-1/survey", map[string]any{
		"ratings": map[string]any{"attitude": 5, "speed": 4, "quality": 5, "parts": 4, "cost": 3}, "surveyed_at": at(20, 10)}), 200, "late survey")
	if r := s.resultOf(month, "agent1"); r["csat"] != 84.0 {
		t.Fatalf("survey answered but not counted: %v", r)
	}
	d := s.must(s.call("manager1", "POST", "/api/v1/deductions", map[string]any{"employee_id": "agent1", "reason_code": "untimely_service", "occurred_at": at(12, 9), "note": "late"}), 201, "deduction")
	s.must(s.call("manager1", "POST", fmt.Sprintf("/api/v1/deductions/%v/confirm", d.body["id"]), map[string]any{"note": "ok"}), 200, "late confirmation")
	if r := s.resultOf(month, "agent1"); r["deductions"] != 20.0 {
		t.Fatalf("confirmation answered but not counted: %v", r)
	}
	if cyc := s.cycleOf(month); cyc["late_entries"] != 3.0 || cyc["status"] != "published" {
		t.Fatalf("cycle after three late entries: %v", cyc)
	}

	// Accepted side: WO-H2 is accepted while its month is published, but
	// its recompute waits for the month's lock, which the test holds past
	// the window's end.
	releaseMonth := s.hold(monthLockShared, held)
	wo2 := s.callAsync("agent1", "POST", "/api/v1/work-orders", wo("WO-H2", heldAt(10, 12), ""))
	s.poll("WO-H2 accepted, its recompute held", 10*time.Second, func() bool { return s.cycleOf(held)["late_entries_pending"] == 1.0 })

	// Refused side: the other cycle's status write waits for its row,
	// which the test holds, so PostgreSQL says "published" after the
	// workflow has moved on.
	releaseRow := s.hold(`SELECT 1 FROM assessment_cycles WHERE month = $1 FOR UPDATE`, month)
	for _, m := range []string{held, month} {
		s.poll("the window of "+m+" to end", 40*time.Second, func() bool { return s.cycleOf(m)["status"] == "closing" })
	}
	var stored string
	if err := s.pool.QueryRow(context.Background(), `SELECT status FROM assessment_cycles WHERE month = $1`, month).Scan(&stored); err != nil || stored != "published" {
		t.Fatalf("stored status %q, %v: the lag this test needs", stored, err)
	}
	late := s.call("agent1", "POST", "/api/v1/work-orders", wo("WO-4", at(26, 12), ""))
	if late.status != 409 || late.code() != "month_closed" || !strings.Contains(string(late.raw), "publication window") {
		t.Fatalf("entry after the window while the store says published: %d %s", late.status, late.raw)
	}
	if s.workOrderStored("WO-4") {
		t.Fatal("refused WO-4 was stored")
	}
	releaseRow()
	s.poll("the month final", 20*time.Second, func() bool { return s.cycleOf(month)["status"] == "final" })

	// The held month is closing, not final, while WO-H2 waits for its recompute.
	if cyc := s.cycleOf(held); cyc["status"] != "closing" || cyc["late_entries_pending"] != 1.0 || cyc["late_entries"] != 0.0 {
		t.Fatalf("the held month with WO-H2 in flight: %v", cyc)
	}
	releaseMonth()
	if r := <-wo2; r.status != 201 {
		t.Fatalf("WO-H2: %d %s", r.status, r.raw)
	}
	s.poll("the held month final", 20*time.Second, func() bool { return s.cycleOf(held)["status"] == "final" })
	if cyc := s.cycleOf(held); cyc["late_entries"] != 1.0 || cyc["late_entries_pending"] != 0.0 {
		t.Fatalf("held month final: %v", cyc)
	}
	// Counted before final: WO-H1 and WO-H2 both fixed first time (R4.2).
	if r := s.resultOf(held, "agent1"); r["ftfr"] != 100.0 || r["status"] != "final" {
		t.Fatalf("held month's final result: %v", r)
	}
	var counted int
	if err := s.pool.QueryRow(context.Background(), `SELECT work_orders FROM assessments WHERE month = $1 AND employee_id = 'agent1'`, held).Scan(&counted); err != nil || counted != 2 {
		t.Fatalf("work orders counted in %s: %d, %v", held, counted, err)
	}

	// The other month: WO-1 came back, WO-2 fixed first time: 1 of 2; WO-4 nowhere.
	if r := s.resultOf(month, "agent1"); r["ftfr"] != 50.0 || r["status"] != "final" || r["csat"] != 84.0 || r["deductions"] != 20.0 {
		t.Fatalf("final result: %v", r)
	}
	// Final: refused with 409, nothing stored.
	final := s.call("agent1", "POST", "/api/v1/work-orders", wo("WO-5", at(27, 12), ""))
	if final.status != 409 || final.code() != "month_closed" {
		t.Fatalf("entry into a final month: %d %s", final.status, final.raw)
	}
	if s.workOrderStored("WO-5") || s.workOrderStored("WO-4") {
		t.Fatal("a refused work order was stored")
	}
}

// R4.0: an entry that arrives while the month's cycle is computing for the
// first time (no cycle row yet in PostgreSQL) is not lost between the
// compute's read and the publication: the compute waits for the entry's
// transaction or the entry for the compute, and then the cycle counts it.
// Driven by the month's lock, held by the test until both wait.
func TestR4_0_EntryWhileTheCycleStartsIsCounted(t *testing.T) {
	s := startStack(t)
	month, at := monthAgo(1)
	s.must(s.call("agent1", "POST", "/api/v1/work-orders", map[string]any{"work_order_no": "WO-1", "technician_id": "agent1", "completed_at": at(5, 12)}), 201, "WO-1")

	release := s.hold(monthLockShared, month)
	s.must(s.call("hr1", "POST", "/api/v1/assessment-cycles", map[string]any{"month": month}), 201, "start cycle")
	s.poll("the first compute waiting for the month's lock", 10*time.Second, func() bool { return s.waitingMonthLocks(month) == 1 })
	var rows int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM assessment_cycles WHERE month = $1`, month).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("cycle rows %d, %v: the compute should not have started", rows, err)
	}
	wo2 := s.callAsync("agent1", "POST", "/api/v1/work-orders", map[string]any{"work_order_no": "WO-2", "technician_id": "agent1", "completed_at": at(10, 12), "repeat_of": "WO-1"})
	s.poll("WO-2 waiting behind the compute", 10*time.Second, func() bool { return s.waitingMonthLocks(month) == 2 })
	release()

	if r := <-wo2; r.status != 201 {
		t.Fatalf("WO-2: %d %s", r.status, r.raw)
	}
	// Answered: counted. WO-1 came back, WO-2 fixed first time: 1 of 2 (R4.2).
	if r := s.resultOf(month, "agent1"); r == nil || r["ftfr"] != 50.0 {
		t.Fatalf("WO-2 answered but not counted: %v", r)
	}
	if cyc := s.cycleOf(month); cyc["late_entries"] != 1.0 {
		t.Fatalf("cycle: %v", cyc)
	}
}
