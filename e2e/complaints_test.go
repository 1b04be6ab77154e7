package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
)

func complaintBody(no string) map[string]any {
	return map[string]any{
		"complaint_no": no,
		"customer":     map[string]any{"name": "Customer Name", "phone": "+86 138 0000 0000"},
		"product":      "washing machine WM-7", "category": "repair", "description": "drum does not spin",
		"assignee_id": "agent1",
	}
}

func clockNamed(body map[string]any, name string) map[string]any {
	for _, c := range body["clocks"].([]any) {
		if m := c.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

// R3 end to end: create, contact, plan, resolve, survey through HTTP, a real
// Temporal server and PostgreSQL; every command answers with the new state.
func TestR3_ComplaintLifecycleThroughHTTP(t *testing.T) {
	s := startStack(t)
	r := s.call("agent1", "POST", "/api/v1/complaints", complaintBody("C-100"))
	if r.status != http.StatusCreated || r.body["status"] != "open" || r.body["assignee_id"] != "agent1" || r.body["team_id"] != "team-a" {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if c := clockNamed(r.body, "contact"); c == nil || c["breached"] != false || c["remaining_seconds"].(float64) <= 23*3600 {
		t.Fatalf("contact clock at create: %v", c)
	}
	if again := s.call("agent1", "POST", "/api/v1/complaints", complaintBody("C-100")); again.status != http.StatusOK || again.body["complaint_no"] != "C-100" {
		t.Fatalf("same create again: %d %s", again.status, again.raw)
	}
	other := complaintBody("C-100")
	other["description"] = "something else"
	if r := s.call("agent1", "POST", "/api/v1/complaints", other); r.status != http.StatusConflict {
		t.Fatalf("same number, other body: %d %s", r.status, r.raw)
	}

	steps := []struct {
		path string
		body any
	}{
		{"contact", map[string]any{"note": "called the customer"}},
		{"plan", map[string]any{"plan": "replace the motor"}},
		{"resolve", map[string]any{"resolution": "motor replaced"}},
		{"survey", map[string]any{"ratings": map[string]any{"attitude": 5, "speed": 4, "quality": 5, "parts": 4, "cost": 3}}},
	}
	for _, st := range steps {
		r := s.call("agent1", "POST", "/api/v1/complaints/C-100/"+st.path, st.body)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", st.path, r.status, r.raw)
		}
	}
	got := s.call("manager1", "GET", "/api/v1/complaints/C-100", nil)
	if got.status != 200 || got.body["status"] != "resolved" {
		t.Fatalf("GET: %d %s", got.status, got.raw)
	}
	var types []string
	for _, e := range got.body["events"].([]any) {
		m := e.(map[string]any)
		types = append(types, m["type"].(string))
		if m["actor_id"] == "" || m["at"] == "" {
			t.Errorf("event without actor or time: %v", m)
		}
	}
	if fmt.Sprint(types) != "[received contacted planned resolved surveyed]" {
		t.Errorf("events = %v", types)
	}
	// The read model and the survey row are written.
	var status string
	var surveys int
	ctx := context.Background()
	if err := s.pool.QueryRow(ctx, "SELECT status FROM complaints WHERE complaint_no='C-100'").Scan(&status); err != nil || status != "resolved" {
		t.Errorf("read model status %q %v", status, err)
	}
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM surveys WHERE complaint_no='C-100'").Scan(&surveys); err != nil || surveys != 1 {
		t.Errorf("surveys %d %v", surveys, err)
	}
	// R3: forbidden by the state -> 409; the survey only once per resolution.
	if r := s.call("agent1", "POST", "/api/v1/complaints/C-100/resolve", map[string]any{"resolution": "again"}); r.status != http.StatusConflict {
		t.Errorf("resolve twice: %d %s", r.status, r.raw)
	}
	if r := s.call("agent1", "POST", "/api/v1/complaints/C-100/survey", steps[3].body); r.status != http.StatusConflict {
		t.Errorf("survey twice: %d %s", r.status, r.raw)
	}
	// Listed for the team's manager, not for another team's view.
	list := s.call("manager1", "GET", "/api/v1/complaints?status=resolved", nil)
	if items := list.body["items"].([]any); list.status != 200 || len(items) != 1 {
		t.Errorf("manager list: %d %s", list.status, list.raw)
	}
	if r := s.call("manager1", "GET", "/api/v1/complaints?team_id=team-b", nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("manager1 sees team-b: %s", r.raw)
	}
}

// R3: a complaint received 30 hours ago yields exactly one level-1 contact
// escalation row and one deduction proposal, even when created twice.
func TestR3_BackdatedComplaintEscalatesOnce(t *testing.T) {
	s := startStack(t)
	body := complaintBody("C-200")
	body["received_at"] = time.Now().Add(-30 * time.Hour).Format(time.RFC3339)
	if r := s.call("officer1", "POST", "/api/v1/complaints", body); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if r := s.call("officer1", "POST", "/api/v1/complaints", body); r.status != http.StatusOK {
		t.Fatalf("create again: %d %s", r.status, r.raw)
	}
	ctx := context.Background()
	count := func(sql string) int {
		var n int
		if err := s.pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The read model is written before the first workflow task completes;
	// poll briefly in case the query answered first.
	deadline := time.Now().Add(10 * time.Second)
	for count("SELECT count(*) FROM escalations WHERE complaint_no='C-200'") == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := count("SELECT count(*) FROM escalations WHERE complaint_no='C-200' AND clock='contact' AND level=1"); n != 1 {
		t.Errorf("level-1 contact escalations = %d, want 1", n)
	}
	if n := count("SELECT count(*) FROM escalations WHERE complaint_no='C-200'"); n != 1 {
		t.Errorf("escalations = %d, want 1", n)
	}
	if n := count("SELECT count(*) FROM deductions WHERE source_complaint_no='C-200' AND employee_id='agent1' AND points=20 AND status='proposed'"); n != 1 {
		t.Errorf("deduction proposals = %d, want 1", n)
	}
	got := s.call("officer1", "GET", "/api/v1/complaints/C-200", nil)
	if c := clockNamed(got.body, "contact"); c["breached"] != true || c["remaining_seconds"].(float64) >= 0 {
		t.Errorf("contact clock: %v", c)
	}
	// The officers' queue lists it; manager1 (escalated to) acknowledges once.
	list := s.call("officer1", "GET", "/api/v1/escalations", nil)
	items := list.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("open escalations: %s", list.raw)
	}
	id := items[0].(map[string]any)["id"].(string)
	if r := s.call("agent1", "POST", "/api/v1/escalations/"+id+"/ack", map[string]any{"note": "x"}); r.status != http.StatusForbidden {
		t.Errorf("agent ack: %d", r.status)
	}
	ack := s.call("manager1", "POST", "/api/v1/escalations/"+id+"/ack", map[string]any{"note": "calling now"})
	if ack.status != 200 || ack.body["acknowledged_by"] != "manager1" {
		t.Fatalf("ack: %d %s", ack.status, ack.raw)
	}
	if r := s.call("officer1", "POST", "/api/v1/escalations/"+id+"/ack", nil); r.status != http.StatusConflict {
		t.Errorf("second ack: %d %s", r.status, r.raw)
	}
	if r := s.call("officer1", "GET", "/api/v1/escalations", nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("acknowledged escalation still open: %s", r.raw)
	}
	if r := s.call("officer1", "GET", "/api/v1/escalations?open=false", nil); len(r.body["items"].([]any)) != 1 {
		t.Errorf("?open=false: %s", r.raw)
	}
	if r := s.call("officer1", "GET", "/api/v1/complaints/C-200", nil); r.body["escalations"].([]any)[0].(map[string]any)["acknowledged_by"] != "manager1" {
		t.Errorf("live state lacks the acknowledgement: %s", r.raw)
	}
	if r := s.call("hr1", "GET", "/api/v1/complaints?breached=true", nil); len(r.body["items"].([]any)) != 1 {
		t.Errorf("breached filter: %s", r.raw)
	}
}

// R1, R7: who may act on a complaint, and 400s with field messages.
func TestR3_ComplaintAccessAndBadInput(t *testing.T) {
	s := startStack(t)
	if r := s.call("agent1", "POST", "/api/v1/complaints", complaintBody("C-300")); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	for _, tc := range []struct {
		name, user, method, path string
		body                     any
		status                   int
		field                    string
	}{
		{"not the assignee", "agent2", "POST", "/api/v1/complaints/C-300/contact", map[string]any{"note": "n"}, 403, ""},
		{"other team's manager reads", "agent2", "GET", "/api/v1/complaints/C-300", nil, 403, ""},
		{"agent lists", "agent1", "GET", "/api/v1/complaints", nil, 403, ""},
		{"hr creates", "hr1", "POST", "/api/v1/complaints", complaintBody("C-301"), 403, ""},
		{"agent extends", "agent1", "POST", "/api/v1/complaints/C-300/extend", map[string]any{"clock": "contact", "due_at": "2030-01-01T00:00:00Z", "reason": "r"}, 403, ""},
		{"unknown complaint", "officer1", "GET", "/api/v1/complaints/NOPE", nil, 404, ""},
		{"unknown complaint command", "officer1", "POST", "/api/v1/complaints/NOPE/extend", map[string]any{"clock": "contact", "due_at": time.Now().AddDate(0, 1, 0).Format(time.RFC3339), "reason": "r"}, 404, ""},
		{"plan before contact", "agent1", "POST", "/api/v1/complaints/C-300/plan", map[string]any{"plan": "p"}, 409, ""},
		{"empty note", "agent1", "POST", "/api/v1/complaints/C-300/contact", map[string]any{"note": " "}, 400, "note"},
		{"unknown field", "agent1", "POST", "/api/v1/complaints/C-300/contact", map[string]any{"note": "n", "mood": "ok"}, 400, "mood"},
		{"actor is not input", "agent1", "POST", "/api/v1/complaints/C-300/plan", map[string]any{"plan": "p", "actor": "hr1"}, 400, "actor"},
		{"bad rating", "agent1", "POST", "/api/v1/complaints/C-300/survey", map[string]any{"ratings": map[string]any{"attitude": 9, "speed": 4, "quality": 5, "parts": 4, "cost": 3}}, 400, "ratings.attitude"},
		{"bad clock", "officer1", "POST", "/api/v1/complaints/C-300/extend", map[string]any{"clock": "lunch", "due_at": "2030-01-01T00:00:00Z", "reason": "r"}, 400, "clock"},
		{"bad number", "agent1", "POST", "/api/v1/complaints", map[string]any{"complaint_no": "a b", "customer": map[string]any{"name": "n", "phone": "123456"}, "product": "p", "category": "c", "description": "d", "assignee_id": "agent1"}, 400, "complaint_no"},
		{"bad phone", "agent1", "POST", "/api/v1/complaints", map[string]any{"complaint_no": "C-9", "customer": map[string]any{"name": "n", "phone": "call me"}, "product": "p", "category": "c", "description": "d", "assignee_id": "agent1"}, 400, "customer.phone"},
		{"assignee not an agent", "agent1", "POST", "/api/v1/complaints", map[string]any{"complaint_no": "C-9", "customer": map[string]any{"name": "n", "phone": "123456"}, "product": "p", "category": "c", "description": "d", "assignee_id": "hr1"}, 400, "assignee_id"},
		{"future receipt", "agent1", "POST", "/api/v1/complaints", map[string]any{"complaint_no": "C-9", "customer": map[string]any{"name": "n", "phone": "123456"}, "product": "p", "category": "c", "description": "d", "assignee_id": "agent1", "received_at": "2099-01-01T00:00:00Z"}, 400, "received_at"},
		{"wrong type", "agent1", "POST", "/api/v1/complaints", `{"complaint_no": 7}`, 400, "complaint_no"},
		{"bad filter", "hr1", "GET", "/api/v1/complaints?status=lost&due_before=tomorrow", nil, 400, "due_before"},
		{"bad limit", "hr1", "GET", "/api/v1/complaints?limit=501", nil, 400, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.call(tc.user, tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if tc.field != "" && r.fields()[tc.field] == nil {
				t.Fatalf("no message for %q: %s", tc.field, r.raw)
			}
		})
	}
	// The escalation officer reassigns to agent2; agent2 may now act, agent1 not.
	if r := s.call("officer1", "POST", "/api/v1/complaints/C-300/reassign", map[string]any{"assignee_id": "agent2", "reason": "workload"}); r.status != 200 || r.body["assignee_id"] != "agent2" {
		t.Fatalf("reassign: %d %s", r.status, r.raw)
	}
	if r := s.call("agent1", "POST", "/api/v1/complaints/C-300/contact", map[string]any{"note": "n"}); r.status != 403 {
		t.Errorf("old assignee: %d", r.status)
	}
	if r := s.call("agent2", "POST", "/api/v1/complaints/C-300/contact", map[string]any{"note": "n"}); r.status != 200 {
		t.Errorf("new assignee: %d %s", r.status, r.raw)
	}
}

// A closed complaint whose workflow is past Temporal's retention is still
// answered, from the read model; a create retry does not restart it.
func TestR7_ArchivedComplaintFromReadModel(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	// What a long-closed complaint leaves behind: intake, read model, trail.
	if _, err := s.pool.Exec(ctx, `INSERT INTO complaints (complaint_no, request_hash, customer_name, customer_phone, product, category,
		description, assignee_id, team_id, received_at, created_by, status, resolved_at, contact_due_at, contact_met_at, last_seq)
		VALUES ('C-OLD', sha256('other'), 'n', '123456', 'p', 'c', 'd', 'agent1', 'team-a', now() - interval '60 days', 'agent1', 'closed',
		        now() - interval '59 days', now() - interval '59 days', now() - interval '59 days 12 hours', 2)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO complaint_events (complaint_no, seq, type, actor_id, at, reason) VALUES
		('C-OLD', 1, 'received', 'agent1', now() - interval '60 days', ''), ('C-OLD', 2, 'closed', 'system', now() - interval '29 days', 'reopen window ended')`); err != nil {
		t.Fatal(err)
	}
	r := s.call("hr1", "GET", "/api/v1/complaints/C-OLD", nil)
	if r.status != 200 || r.body["status"] != "closed" || len(r.body["events"].([]any)) != 2 {
		t.Fatalf("archived GET: %d %s", r.status, r.raw)
	}
	if r := s.call("agent1", "POST", "/api/v1/complaints/C-OLD/contact", map[string]any{"note": "n"}); r.status != http.StatusConflict {
		t.Errorf("command on a closed complaint: %d %s", r.status, r.raw)
	}
	if r := s.call("officer1", "POST", "/api/v1/escalations/nope.contact.1/ack", nil); r.status != http.StatusNotFound {
		t.Errorf("ack of an unknown escalation: %d %s", r.status, r.raw)
	}
	if r := s.call("officer1", "POST", "/api/v1/complaints", complaintBody("C-301")); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if r := s.call("officer1", "POST", "/api/v1/complaints/C-301/reassign", map[string]any{"assignee_id": "agent2", "reason": "r", "team_id": "team-a"}); r.status != 400 || r.fields()["team_id"] == nil {
		t.Errorf("reassign with a server-set field: %d %s", r.status, r.raw)
	}
}

// R3 §5: search attributes let the Web UI and `temporal workflow list
// --query` find, e.g., every open complaint due in the next day.
func TestR3_SearchAttributesFindOpenComplaintsDueSoon(t *testing.T) {
	s := startStack(t)
	for _, no := range []string{"C-SA1", "C-SA2"} {
		if r := s.call("agent1", "POST", "/api/v1/complaints", complaintBody(no)); r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
	}
	s.call("agent1", "POST", "/api/v1/complaints/C-SA2/contact", map[string]any{"note": "n"})
	s.call("agent1", "POST", "/api/v1/complaints/C-SA2/plan", map[string]any{"plan": "p"})
	s.call("agent1", "POST", "/api/v1/complaints/C-SA2/resolve", map[string]any{"resolution": "r"})
	query := fmt.Sprintf(`ComplaintStatus = "open" AND AssigneeId = "agent1" AND TeamId = "team-a" AND Breached = false AND NextDueAt < "%s"`,
		time.Now().Add(25*time.Hour).UTC().Format(time.RFC3339))
	var ids []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) { // visibility is eventually consistent
		res, err := s.temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatal(err)
		}
		ids = ids[:0]
		for _, e := range res.Executions {
			ids = append(ids, e.Execution.WorkflowId)
		}
		if len(ids) == 1 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if fmt.Sprint(ids) != "[complaint:C-SA1]" {
		t.Fatalf("query %s found %v, want only complaint:C-SA1", query, ids)
	}
}

// api.md lists: ?limit= and an opaque next cursor walk every row once.
func TestComplaintListPagination(t *testing.T) {
	s := startStack(t)
	for _, no := range []string{"P-1", "P-2", "P-3"} {
		if r := s.call("agent1", "POST", "/api/v1/complaints", complaintBody(no)); r.status != 201 {
			t.Fatalf("create %s: %d", no, r.status)
		}
	}
	var seen []string
	path := "/api/v1/complaints?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		r := s.call("hr1", "GET", path, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
		for _, it := range r.body["items"].([]any) {
			seen = append(seen, it.(map[string]any)["complaint_no"].(string))
		}
		path = ""
		if next, ok := r.body["next"].(string); ok {
			path = "/api/v1/complaints?limit=2&next=" + next
		}
	}
	if fmt.Sprint(seen) != "[P-1 P-2 P-3]" {
		t.Fatalf("pages gave %v", seen)
	}
	if r := s.call("hr1", "GET", "/api/v1/complaints?next=garbage", nil); r.status != 400 || r.fields()["next"] == nil {
		t.Fatalf("bad cursor: %d %s", r.status, r.raw)
	}
}

// R1, R3: team-b has no supervisor, so level 1 goes to the department head,
// who may acknowledge it.
func TestR3_LevelOneToTheDepartmentHeadWithoutSupervisor(t *testing.T) {
	s := startStack(t)
	body := complaintBody("C-B1")
	body["assignee_id"] = "agent2"
	body["received_at"] = time.Now().Add(-30 * time.Hour).Format(time.RFC3339)
	if r := s.call("officer1", "POST", "/api/v1/complaints", body); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	var id string
	s.poll("the escalation", 10*time.Second, func() bool {
		items, _ := s.call("head1", "GET", "/api/v1/escalations", nil).body["items"].([]any)
		if len(items) == 1 {
			id = items[0].(map[string]any)["id"].(string)
		}
		return id != ""
	})
	if r := s.call("head1", "POST", "/api/v1/escalations/"+id+"/ack", map[string]any{"note": "on it"}); r.status != 200 {
		t.Fatalf("head ack: %d %s", r.status, r.raw)
	}
	if r := s.call("manager1", "POST", "/api/v1/rewards", map[string]any{"nomination_no": "csi-star-2026-10-agent1", "nominee_id": "agent1", "kind": "honour", "reason": "x"}); r.status != 400 || r.fields()["nomination_no"] == nil {
		t.Errorf("reserved nomination number: %d %s", r.status, r.raw)
	}
}
