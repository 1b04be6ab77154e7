package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func ago(d time.Duration) string { return time.Now().Add(-d).Format(time.RFC3339) }

const day = 24 * time.Hour

func workOrderBody(no, technician string, completed time.Duration, repeatOf string) map[string]any {
	b := map[string]any{"work_order_no": no, "technician_id": technician, "completed_at": ago(completed)}
	if repeatOf != "" {
		b["repeat_of"] = repeatOf
	}
	return b
}

// R4.2 through HTTP: create, an identical retry (200), a conflict (409), the
// 30-day repeat rule, who may enter whose work orders (R1, R7), bad input.
func TestR4_2_WorkOrdersThroughHTTP(t *testing.T) {
	s := startStack(t)
	x := workOrderBody("WO-1", "agent1", 20*day, "")
	r := s.call("agent1", "POST", "/api/v1/work-orders", x)
	if r.status != http.StatusCreated || r.body["work_order_no"] != "WO-1" || r.body["technician_id"] != "agent1" ||
		r.body["team_id"] != "team-a" || r.body["first_time_fix"] != true || r.body["repeat_of"] != nil || r.body["created_by"] != "agent1" {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	// The same instant written in another offset is the same body.
	sameInUTC := map[string]any{"work_order_no": "WO-1", "technician_id": "agent1", "completed_at": r.body["completed_at"]}
	if ts, err := time.Parse(time.RFC3339, r.body["completed_at"].(string)); err == nil {
		sameInUTC["completed_at"] = ts.UTC().Format(time.RFC3339Nano)
	}
	if again := s.call("agent1", "POST", "/api/v1/work-orders", sameInUTC); again.status != http.StatusOK || again.body["work_order_no"] != "WO-1" {
		t.Fatalf("identical retry: %d %s", again.status, again.raw)
	}
	other := workOrderBody("WO-1", "agent1", 19*day, "")
	if r := s.call("agent1", "POST", "/api/v1/work-orders", other); r.status != http.StatusConflict || r.code() != "work_order_exists" {
		t.Fatalf("same number, other body: %d %s", r.status, r.raw)
	}

	// R4.2: WO-2 brings WO-1's repair back 15 days later: WO-1 is not a first-time fix.
	y := workOrderBody("WO-2", "agent1", 5*day, "WO-1")
	if r := s.call("manager1", "POST", "/api/v1/work-orders", y); r.status != http.StatusCreated || r.body["repeat_of"] != "WO-1" ||
		r.body["first_time_fix"] != true || r.body["created_by"] != "manager1" {
		t.Fatalf("repeat: %d %s", r.status, r.raw)
	}
	// The retry of WO-1 answers with it as it is now.
	if r := s.call("agent1", "POST", "/api/v1/work-orders", x); r.status != http.StatusOK || r.body["first_time_fix"] != false || r.body["came_back_as"] != "WO-2" {
		t.Fatalf("WO-1 after its repeat within 30 days: %d %s", r.status, r.raw)
	}
	// A repeat 40 days later is a new repair: WO-3 stays a first-time fix.
	if r := s.call("agent1", "POST", "/api/v1/work-orders", workOrderBody("WO-3", "agent1", 100*day, "")); r.status != http.StatusCreated {
		t.Fatalf("WO-3: %d %s", r.status, r.raw)
	}
	if r := s.call("agent1", "POST", "/api/v1/work-orders", workOrderBody("WO-4", "agent1", 60*day, "WO-3")); r.status != http.StatusCreated {
		t.Fatalf("WO-4: %d %s", r.status, r.raw)
	}
	var ftf bool
	if err := s.pool.QueryRow(context.Background(), `SELECT first_time_fix FROM work_orders WHERE work_order_no = 'WO-3'`).Scan(&ftf); err != nil || !ftf {
		t.Errorf("WO-3 first_time_fix = %v (%v), want true: its repeat came after 30 days", ftf, err)
	}

	// R1, R7: agents enter their own, managers their teams'.
	for _, c := range []struct {
		user, technician string
		want             int
	}{
		{"agent1", "agent2", http.StatusForbidden},   // not their own
		{"manager1", "agent2", http.StatusForbidden}, // team-b is not manager1's
		{"hr1", "agent1", http.StatusForbidden},
		{"head1", "agent2", http.StatusCreated}, // the department head manages team-b
		{"agent2", "agent2", http.StatusCreated},
	} {
		no := fmt.Sprintf("WO-%s-%s", c.user, c.technician)
		if r := s.call(c.user, "POST", "/api/v1/work-orders", workOrderBody(no, c.technician, day, "")); r.status != c.want {
			t.Errorf("%s entering %s's work order: %d %s, want %d", c.user, c.technician, r.status, r.raw, c.want)
		}
	}

	// Bad input: 400 with the field at fault.
	for _, c := range []struct {
		name  string
		body  any
		field string
	}{
		{"future completed_at", map[string]any{"work_order_no": "WO-9", "technician_id": "agent1", "completed_at": time.Now().Add(day).Format(time.RFC3339)}, "completed_at"},
		{"no completed_at", map[string]any{"work_order_no": "WO-9", "technician_id": "agent1"}, "completed_at"},
		{"unknown field", map[string]any{"work_order_no": "WO-9", "technician_id": "agent1", "completed_at": ago(day), "first_time_fix": false}, "first_time_fix"},
		{"bad number", workOrderBody("WO 9", "agent1", day, ""), "work_order_no"},
		{"unknown repeat_of", workOrderBody("WO-9", "agent1", day, "WO-404"), "repeat_of"},
		{"repeat_of completed later", workOrderBody("WO-9", "agent1", 30*day, "WO-2"), "repeat_of"},
		{"unknown technician", workOrderBody("WO-9", "nobody", day, ""), "technician_id"},
		{"not a JSON object", `["WO-9"]`, "body"},
	} {
		r := s.call("manager1", "POST", "/api/v1/work-orders", c.body)
		if r.status != http.StatusBadRequest || r.fields()[c.field] == nil {
			t.Errorf("%s: %d %s, want 400 on %s", c.name, r.status, r.raw, c.field)
		}
	}
	// A manager's technician who is not an agent.
	if r := s.call("head1", "POST", "/api/v1/work-orders", workOrderBody("WO-10", "manager1", day, "")); r.status != http.StatusBadRequest || r.fields()["technician_id"] == nil {
		t.Errorf("a manager as technician: %d %s", r.status, r.raw)
	}
}

func deductionBody(employee, reason string, occurred time.Duration, note string) map[string]any {
	return map[string]any{"employee_id": employee, "reason_code": reason, "occurred_at": ago(occurred), "note": note}
}

// R4.4 through HTTP: a manager proposes and confirms (or cancels) a
// deduction of their team, once; another team's manager is refused (R1, R7);
// bad input is 400 with field messages.
func TestR4_4_DeductionsThroughHTTP(t *testing.T) {
	s := startStack(t)
	r := s.call("manager1", "POST", "/api/v1/deductions", deductionBody("agent1", "rude_to_customer", time.Hour, "shouted at Ms Li"))
	if r.status != http.StatusCreated || r.body["status"] != "proposed" || r.body["points"] != 50.0 || r.body["employee_id"] != "agent1" ||
		r.body["reason_code"] != "rude_to_customer" || r.body["proposed_by"] != "manager1" || r.body["source_complaint_no"] != nil ||
		r.body["decided_by"] != nil {
		t.Fatalf("propose: %d %s", r.status, r.raw)
	}
	id := fmt.Sprint(int64(r.body["id"].(float64)))

	// Only the employee's manager decides (R4.4); an agent never.
	if r := s.call("agent1", "POST", "/api/v1/deductions/"+id+"/confirm", map[string]any{"note": "fine"}); r.status != http.StatusForbidden {
		t.Errorf("agent confirms: %d %s", r.status, r.raw)
	}
	c := s.call("manager1", "POST", "/api/v1/deductions/"+id+"/confirm", map[string]any{"note": "seen on the recording"})
	if c.status != http.StatusOK || c.body["status"] != "confirmed" || c.body["decided_by"] != "manager1" ||
		c.body["decision_note"] != "seen on the recording" || c.body["decided_at"] == nil {
		t.Fatalf("confirm: %d %s", c.status, c.raw)
	}
	// Once: a second confirmation, or a cancellation now, is 409.
	if r := s.call("manager1", "POST", "/api/v1/deductions/"+id+"/confirm", nil); r.status != http.StatusConflict || r.code() != "invalid_state" {
		t.Errorf("second confirm: %d %s", r.status, r.raw)
	}
	if r := s.call("head1", "POST", "/api/v1/deductions/"+id+"/cancel", map[string]any{"note": "no"}); r.status != http.StatusConflict {
		t.Errorf("cancel after confirm: %d %s", r.status, r.raw)
	}
	var status, decidedBy string
	if err := s.pool.QueryRow(context.Background(), `SELECT status, decided_by FROM deductions WHERE id = $1`, c.body["id"]).Scan(&status, &decidedBy); err != nil ||
		status != "confirmed" || decidedBy != "manager1" {
		t.Errorf("stored: %s by %s (%v)", status, decidedBy, err)
	}

	// A manager of another team: 403, proposing or deciding.
	if r := s.call("manager1", "POST", "/api/v1/deductions", deductionBody("agent2", "untimely_service", time.Hour, "late")); r.status != http.StatusForbidden {
		t.Errorf("manager1 against team-b's agent2: %d %s", r.status, r.raw)
	}
	b := s.call("head1", "POST", "/api/v1/deductions", deductionBody("agent2", "untimely_service", time.Hour, "late again"))
	if b.status != http.StatusCreated || b.body["points"] != 20.0 {
		t.Fatalf("head1 against agent2: %d %s", b.status, b.raw)
	}
	bid := fmt.Sprint(int64(b.body["id"].(float64)))
	if r := s.call("manager1", "POST", "/api/v1/deductions/"+bid+"/confirm", nil); r.status != http.StatusForbidden {
		t.Errorf("manager1 confirms team-b's deduction: %d %s", r.status, r.raw)
	}
	// Cancel needs a reason; then it is cancelled, once.
	if r := s.call("head1", "POST", "/api/v1/deductions/"+bid+"/cancel", map[string]any{}); r.status != http.StatusBadRequest || r.fields()["note"] == nil {
		t.Errorf("cancel without note: %d %s", r.status, r.raw)
	}
	if r := s.call("head1", "POST", "/api/v1/deductions/"+bid+"/cancel", map[string]any{"note": "the customer was late"}); r.status != http.StatusOK || r.body["status"] != "cancelled" {
		t.Errorf("cancel: %d %s", r.status, r.raw)
	}
	if r := s.call("head1", "POST", "/api/v1/deductions/"+bid+"/confirm", nil); r.status != http.StatusConflict {
		t.Errorf("confirm after cancel: %d %s", r.status, r.raw)
	}

	// Nobody decides a deduction against themselves.
	m := s.call("head1", "POST", "/api/v1/deductions", deductionBody("manager1", "training_unprepared", day, "no slides"))
	if m.status != http.StatusCreated {
		t.Fatalf("head1 against manager1: %d %s", m.status, m.raw)
	}
	mid := fmt.Sprint(int64(m.body["id"].(float64)))
	if r := s.call("manager1", "POST", "/api/v1/deductions/"+mid+"/cancel", map[string]any{"note": "mine"}); r.status != http.StatusForbidden {
		t.Errorf("manager1 cancels their own deduction: %d %s", r.status, r.raw)
	}

	// Unknown ids: 404.
	for _, p := range []string{"/api/v1/deductions/999999/confirm", "/api/v1/deductions/abc/confirm"} {
		if r := s.call("manager1", "POST", p, nil); r.status != http.StatusNotFound {
			t.Errorf("%s: %d %s", p, r.status, r.raw)
		}
	}
	if r := s.call("agent1", "POST", "/api/v1/deductions", deductionBody("agent1", "untimely_service", time.Hour, "x")); r.status != http.StatusForbidden {
		t.Errorf("agent proposes: %d %s", r.status, r.raw)
	}

	// Bad input: 400 with the field at fault.
	final := time.Now().Add(-60 * day)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO assessment_cycles (month, status, started_by) VALUES ($1, 'final', 'hr1')`,
		final.In(loc).Format("2006-01")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		body  any
		field string
	}{
		{"unknown reason_code", deductionBody("agent1", "bad_mood", time.Hour, "x"), "reason_code"},
		{"future occurred_at", map[string]any{"employee_id": "agent1", "reason_code": "untimely_service", "occurred_at": time.Now().Add(day).Format(time.RFC3339), "note": "x"}, "occurred_at"},
		{"occurred_at in a final month", map[string]any{"employee_id": "agent1", "reason_code": "untimely_service", "occurred_at": final.Format(time.RFC3339), "note": "x"}, "occurred_at"},
		{"unknown field", map[string]any{"employee_id": "agent1", "reason_code": "untimely_service", "occurred_at": ago(time.Hour), "note": "x", "points": 5}, "points"},
		{"server field status", map[string]any{"employee_id": "agent1", "reason_code": "untimely_service", "occurred_at": ago(time.Hour), "note": "x", "status": "confirmed"}, "status"},
		{"blank note", deductionBody("agent1", "untimely_service", time.Hour, "  "), "note"},
		{"no employee", map[string]any{"reason_code": "untimely_service", "occurred_at": ago(time.Hour), "note": "x"}, "employee_id"},
		{"wrong type", map[string]any{"employee_id": "agent1", "reason_code": "untimely_service", "occurred_at": 5, "note": "x"}, "body"},
	} {
		r := s.call("manager1", "POST", "/api/v1/deductions", c.body)
		if r.status != http.StatusBadRequest || r.fields()[c.field] == nil {
			t.Errorf("%s: %d %s, want 400 on %s", c.name, r.status, r.raw, c.field)
		}
	}
	if r := s.call("manager1", "POST", "/api/v1/deductions/"+id+"/confirm", map[string]any{"note": "x", "by": "me"}); r.status != http.StatusBadRequest || r.fields()["by"] == nil {
		t.Errorf("confirm with an unknown field: %d %s", r.status, r.raw)
	}
}
