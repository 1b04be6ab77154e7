package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// poll calls until ok or the deadline; the service is eventually consistent
// only across workflow steps (a cycle computing, a window ending).
func (s *stack) poll(what string, within time.Duration, f func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for !f() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// R4 and R6 end to end: a month of complaints, surveys, work orders and
// deductions entered through the API; the cycle run; one result appealed
// and upheld; the corrected score shown with the original kept; the cycle
// final only after the decision.
func TestR4_R6_AssessmentMonthThroughHTTP(t *testing.T) {
	s := startStack(t)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(sh)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, sh).AddDate(0, -1, 0) // the month just ended
	month := first.Format("2006-01")
	at := func(day, hour int) string {
		return first.AddDate(0, 0, day-1).Add(time.Duration(hour) * time.Hour).Format(time.RFC3339)
	}
	must := func(r response, status int, what string) response {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: %d, want %d: %s", what, r.status, status, r.raw)
		}
		return r
	}

	// A complaint received on the 5th at 10:00 misses its contact clock on
	// the 6th: it counts in this month, not timely (R4.0, R4.3).
	c := complaintBody("M-1")
	c["received_at"] = at(5, 10)
	must(s.call("agent1", "POST", "/api/v1/complaints", c), 201, "complaint")
	for _, step := range []struct{ path, field, value string }{{"contact", "note", "n"}, {"plan", "plan", "p"}, {"resolve", "resolution", "r"}} {
		must(s.call("agent1", "POST", "/api/v1/complaints/M-1/"+step.path, map[string]any{step.field: step.value}), 200, step.path)
	}
	// One survey on the 20th: 5x0.20 + 4x0.15 + 5x0.25 + 4x0.15 + 3x0.25 = 4.2 -> CSAT 84.0 (R4.1).
	must(s.call("agent1", "POST", "/api/v1/complaints/M-1/survey", map[string]any{
		"ratings": map[string]any{"attitude": 5, "speed": 4, "quality": 5, "parts": 4, "cost": 3}, "surveyed_at": at(20, 10)}), 200, "survey")
	// Two work orders; the second is a repeat of the first within 30 days,
	// so the first is no first-time fix: FTFR 1/2 = 50.0 (R4.2).
	must(s.call("agent1", "POST", "/api/v1/work-orders", map[string]any{"work_order_no": "WO-1", "technician_id": "agent1", "completed_at": at(5, 12)}), 201, "WO-1")
	must(s.call("manager1", "POST", "/api/v1/work-orders", map[string]any{"work_order_no": "WO-2", "technician_id": "agent1", "completed_at": at(10, 12), "repeat_of": "WO-1"}), 201, "WO-2")
	// One confirmed deduction of 20 points (R4.4).
	d := must(s.call("manager1", "POST", "/api/v1/deductions", map[string]any{"employee_id": "agent1", "reason_code": "untimely_service", "occurred_at": at(12, 9), "note": "late visit"}), 201, "deduction")
	must(s.call("manager1", "POST", fmt.Sprintf("/api/v1/deductions/%v/confirm", d.body["id"]), map[string]any{"note": "checked"}), 200, "confirm")

	// HR runs the month.
	cyc := must(s.call("hr1", "POST", "/api/v1/assessment-cycles", map[string]any{"month": month}), 201, "start cycle")
	if cyc.body["month"] != month {
		t.Fatalf("cycle %s", cyc.raw)
	}
	must(s.call("hr1", "POST", "/api/v1/assessment-cycles", map[string]any{"month": month}), 200, "start cycle again")
	var result map[string]any
	s.poll("published results", 20*time.Second, func() bool {
		r := s.call("hr1", "GET", "/api/v1/assessments?month="+month, nil)
		items, _ := r.body["items"].([]any)
		for _, it := range items {
			if m := it.(map[string]any); m["employee_id"] == "agent1" {
				result = m
			}
		}
		return result != nil
	})
	// 0.7x84.0 + 0.2x50.0 + 0.1x0.0 = 68.8, minus 20 = 48.8: failing (R4.4).
	if result["csat"] != 84.0 || result["ftfr"] != 50.0 || result["timeliness"] != 0.0 || result["score"] != 48.8 ||
		result["band"] != "failing" || result["deductions"] != 20.0 || result["status"] != "published" || result["corrected"] != nil {
		t.Fatalf("agent1's result: %v", result)
	}
	id := result["id"].(string)
	if r := s.call("agent2", "GET", "/api/v1/assessments?month="+month, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("agent2 sees others' results: %s", r.raw)
	}
	// A late work order for the month while it is published (R4.0): the
	// result is recomputed. FTFR 2/3 = 66.7; 0.7x84 + 0.2x66.66.. = 72.13.., minus 20 = 52.1.
	must(s.call("agent1", "POST", "/api/v1/work-orders", map[string]any{"work_order_no": "WO-3", "technician_id": "agent1", "completed_at": at(25, 12)}), 201, "late WO-3")
	s.poll("the recomputed result", 20*time.Second, func() bool {
		r := s.call("hr1", "GET", "/api/v1/assessments?month="+month, nil)
		return r.body["items"].([]any)[0].(map[string]any)["score"] == 52.1
	})
	// The cycle let the work order in before it was committed and counted
	// it before answering (R4.0, lateentries.go): no recompute request is
	// left behind. One left behind (a late survey's, stored after its
	// request ended) is asked of the cycle again and cleared by the reconciler.
	pending := func() (n int) {
		if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM recompute_requests WHERE month = $1`, month).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := pending(); n != 0 {
		t.Errorf("recompute requests left after a counted entry: %d", n)
	}
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO recompute_requests (month, requested_at) VALUES ($1, now() - interval '1 minute')`, month); err != nil {
		t.Fatal(err)
	}
	if n, err := s.srv.ReconcileOnce(context.Background(), time.Second); err != nil || n != 1 || pending() != 0 {
		t.Errorf("reconcile of a left-behind recompute request: %d, %v, %d left", n, err, pending())
	}

	// agent1 appeals; the manager cannot settle it, so it goes to HR.
	must(s.call("agent2", "POST", "/api/v1/assessments/"+id+"/appeals", map[string]any{"reason": "x"}), 403, "appeal of another's result")
	ap := must(s.call("agent1", "POST", "/api/v1/assessments/"+id+"/appeals", map[string]any{"reason": "the late visit was the customer's request"}), 201, "appeal")
	appealID := ap.body["id"].(string)
	if ap.body["stage"] != 1.0 || ap.body["status"] != "open" {
		t.Fatalf("new appeal: %s", ap.raw)
	}
	must(s.call("agent1", "POST", "/api/v1/assessments/"+id+"/appeals", map[string]any{"reason": "the late visit was the customer's request"}), 200, "the same appeal again")
	must(s.call("agent1", "POST", "/api/v1/assessments/"+id+"/appeals", map[string]any{"reason": "again"}), 409, "second appeal")
	must(s.call("agent1", "POST", "/api/v1/assessments/"+month+"_nobody/appeals", map[string]any{"reason": "x"}), 404, "appeal of an unknown result")
	must(s.call("hr1", "POST", "/api/v1/appeals/"+appealID+"/decision", map[string]any{"outcome": "upheld", "corrected_score": 68.8, "reason": "r"}), 409, "decision in stage 1")
	esc := must(s.call("manager1", "POST", "/api/v1/appeals/"+appealID+"/escalate", map[string]any{"reason": "customer confirms"}), 200, "escalate")
	if esc.body["stage"] != 2.0 {
		t.Fatalf("after escalate: %s", esc.raw)
	}
	// The window ends; the month is not final while the appeal is open.
	s.poll("the window to end", 30*time.Second, func() bool {
		r := s.call("hr1", "GET", "/api/v1/assessment-cycles/"+month, nil)
		return r.body["status"] == "closing"
	})
	if r := s.call("hr1", "GET", "/api/v1/assessment-cycles/"+month, nil); r.body["open_appeals"] != 1.0 {
		t.Fatalf("cycle while the appeal is open: %s", r.raw)
	}
	// Past the window, entries for the month are refused rather than lost (R4.5).
	must(s.call("agent1", "POST", "/api/v1/work-orders", map[string]any{"work_order_no": "WO-4", "technician_id": "agent1", "completed_at": at(26, 12)}), 409, "entry after the window")
	must(s.call("agent1", "POST", "/api/v1/appeals/"+appealID+"/decision", map[string]any{"outcome": "upheld", "corrected_score": 68.8, "reason": "r"}), 403, "the appellant deciding")
	dec := must(s.call("hr1", "POST", "/api/v1/appeals/"+appealID+"/decision", map[string]any{"outcome": "upheld", "corrected_score": 68.8, "reason": "the visit time was the customer's choice"}), 200, "decision")
	if dec.body["status"] != "upheld" {
		t.Fatalf("decision: %s", dec.raw)
	}
	s.poll("the cycle to be final", 20*time.Second, func() bool {
		return s.call("hr1", "GET", "/api/v1/assessment-cycles/"+month, nil).body["status"] == "final"
	})
	r := s.call("agent1", "GET", "/api/v1/assessments?month="+month, nil)
	got := r.body["items"].([]any)[0].(map[string]any)
	corr, _ := got["corrected"].(map[string]any)
	if got["score"] != 68.8 || got["band"] != "poor" || got["status"] != "final" || corr == nil || corr["original_score"] != 52.1 || corr["by"] != "hr1" {
		t.Fatalf("corrected result: %s", r.raw)
	}
	must(s.call("agent1", "POST", "/api/v1/appeals/"+appealID+"/accept-explanation", nil), 409, "accept after the decision")
	if r := s.call("agent1", "GET", "/api/v1/appeals/"+appealID, nil); r.status != 200 || r.body["status"] != "upheld" {
		t.Errorf("appeal after: %d %s", r.status, r.raw)
	}
	rep := must(s.call("hr1", "GET", fmt.Sprintf("/api/v1/reports/annual/%d", first.Year()), nil), 200, "annual report")
	if emps := rep.body["employees"].([]any); len(emps) != 1 || emps[0].(map[string]any)["total"] != 68.8 {
		t.Errorf("annual report: %s", rep.raw)
	}
	must(s.call("agent1", "GET", fmt.Sprintf("/api/v1/reports/annual/%d", first.Year()), nil), 403, "annual report as agent")
	_ = http.StatusOK
}

// R4.0: a complaint counts for the assignee at its first missed clock, not
// for whoever it was reassigned to afterwards.
func TestR4_ComplaintCountsForTheAssigneeAtTheMiss(t *testing.T) {
	s := startStack(t)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(sh)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, sh).AddDate(0, -1, 0)
	month := first.Format("2006-01")
	c := complaintBody("M-2")
	c["received_at"] = first.AddDate(0, 0, 4).Add(10 * time.Hour).Format(time.RFC3339) // missed on the 6th, agent1's
	if r := s.call("officer1", "POST", "/api/v1/complaints", c); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if r := s.call("officer1", "POST", "/api/v1/complaints/M-2/reassign", map[string]any{"assignee_id": "agent2", "reason": "agent1 on leave"}); r.status != 200 {
		t.Fatalf("reassign: %d %s", r.status, r.raw)
	}
	for _, step := range []struct{ path, field string }{{"contact", "note"}, {"plan", "plan"}, {"resolve", "resolution"}} {
		if r := s.call("agent2", "POST", "/api/v1/complaints/M-2/"+step.path, map[string]any{step.field: "x"}); r.status != 200 {
			t.Fatalf("%s: %d %s", step.path, r.status, r.raw)
		}
	}
	if r := s.call("hr1", "POST", "/api/v1/assessment-cycles", map[string]any{"month": month}); r.status != 201 {
		t.Fatalf("cycle: %d %s", r.status, r.raw)
	}
	var items []any
	s.poll("results", 20*time.Second, func() bool {
		items, _ = s.call("hr1", "GET", "/api/v1/assessments?month="+month, nil).body["items"].([]any)
		return len(items) > 0
	})
	if len(items) != 1 {
		t.Fatalf("results: %v", items)
	}
	got := items[0].(map[string]any)
	if got["employee_id"] != "agent1" || got["timeliness"] != 0.0 || got["csat"] != nil || got["score"] != 0.0 {
		t.Fatalf("the late complaint should count for agent1 (only timeliness, 0.0): %v", got)
	}
}
