package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// badValues are what PostgreSQL cannot store or the input rules refuse.
var badValues = map[string]string{"NUL": "a\x00b", "bell": "a\x07b", "escape": "a\x1bb"}

// Input hygiene at the edge (package input): a bad byte in any body field,
// path or query parameter is a 400 naming the field, never a 5xx, and the
// case it was aimed at keeps working (the bug was a plan with a NUL byte
// that wedged the complaint for good).
func TestInputHygieneEveryBodyFieldPathAndQuery(t *testing.T) {
	s := startStack(t)
	s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("H-1")), 201, "create")
	s.must(s.call("agent1", "POST", "/api/v1/complaints/H-1/contact", map[string]any{"note": "called"}), 200, "contact")
	s.must(s.call("manager1", "POST", "/api/v1/rewards", map[string]any{"nomination_no": "HR-1", "nominee_id": "agent1",
		"kind": "cash", "amount_fen": 1000, "reason": "good"}), 201, "nominate")

	type body = map[string]any
	cases := []struct {
		user, path, field string
		body              func(v string) body
	}{
		{"agent1", "/api/v1/complaints", "complaint_no", func(v string) body { b := complaintBody(v); return b }},
		{"agent1", "/api/v1/complaints", "customer.name", func(v string) body {
			b := complaintBody("H-2")
			b["customer"] = body{"name": v, "phone": "13800000000"}
			return b
		}},
		{"agent1", "/api/v1/complaints", "product", func(v string) body { b := complaintBody("H-2"); b["product"] = v; return b }},
		{"agent1", "/api/v1/complaints", "category", func(v string) body { b := complaintBody("H-2"); b["category"] = v; return b }},
		{"agent1", "/api/v1/complaints", "description", func(v string) body { b := complaintBody("H-2"); b["description"] = v; return b }},
		{"agent1", "/api/v1/complaints", "assignee_id", func(v string) body { b := complaintBody("H-2"); b["assignee_id"] = v; return b }},
		{"agent1", "/api/v1/complaints/H-1/plan", "plan", func(v string) body { return body{"plan": v} }},
		{"agent1", "/api/v1/complaints/H-1/resolve", "resolution", func(v string) body { return body{"resolution": v} }},
		{"agent1", "/api/v1/complaints/H-1/pause", "reason", func(v string) body { return body{"reason": v} }},
		{"officer1", "/api/v1/complaints/H-1/reassign", "reason", func(v string) body { return body{"assignee_id": "agent2", "reason": v} }},
		{"officer1", "/api/v1/complaints/H-1/reassign", "assignee_id", func(v string) body { return body{"assignee_id": v, "reason": "r"} }},
		{"officer1", "/api/v1/complaints/H-1/extend", "reason", func(v string) body {
			return body{"clock": "plan", "due_at": time.Now().Add(72 * time.Hour).Format(time.RFC3339), "reason": v}
		}},
		{"agent1", "/api/v1/work-orders", "work_order_no", func(v string) body {
			return body{"work_order_no": v, "technician_id": "agent1", "completed_at": time.Now().Format(time.RFC3339)}
		}},
		{"manager1", "/api/v1/work-orders", "technician_id", func(v string) body {
			return body{"work_order_no": "W-1", "technician_id": v, "completed_at": time.Now().Format(time.RFC3339)}
		}},
		{"manager1", "/api/v1/work-orders", "repeat_of", func(v string) body {
			return body{"work_order_no": "W-1", "technician_id": "agent1", "completed_at": time.Now().Format(time.RFC3339), "repeat_of": v}
		}},
		{"manager1", "/api/v1/deductions", "note", func(v string) body {
			return body{"employee_id": "agent1", "reason_code": "untimely_service", "occurred_at": time.Now().Format(time.RFC3339), "note": v}
		}},
		{"manager1", "/api/v1/deductions", "employee_id", func(v string) body {
			return body{"employee_id": v, "reason_code": "untimely_service", "occurred_at": time.Now().Format(time.RFC3339), "note": "n"}
		}},
		{"manager1", "/api/v1/rewards", "nomination_no", func(v string) body {
			return body{"nomination_no": v, "nominee_id": "agent1", "kind": "honour", "reason": "r"}
		}},
		{"manager1", "/api/v1/rewards", "reason", func(v string) body {
			return body{"nomination_no": "HR-2", "nominee_id": "agent1", "kind": "honour", "reason": v}
		}},
		{"manager1", "/api/v1/rewards", "assessment_id", func(v string) body {
			return body{"nomination_no": "HR-2", "nominee_id": "agent1", "kind": "honour", "reason": "r", "assessment_id": v}
		}},
		{"head1", "/api/v1/rewards/HR-1/reject", "comment", func(v string) body { return body{"comment": v} }},
		{"manager1", "/api/v1/rewards/HR-1/withdraw", "reason", func(v string) body { return body{"reason": v} }},
		{"hr1", "/api/v1/rewards/HR-1/payout", "payment_ref", func(v string) body { return body{"payment_ref": v} }},
	}
	for _, c := range cases {
		for what, v := range badValues {
			r := s.call(c.user, "POST", c.path, c.body(v))
			if r.status != http.StatusBadRequest || r.fields()[c.field] == nil {
				t.Errorf("%s %s with %s in %s: %d %s", c.user, c.path, what, c.field, r.status, r.raw)
			}
		}
	}
	// Bodies of PUT and ack: the calendar override's and the acknowledgement's notes.
	for what, v := range badValues {
		if r := s.call("admin1", "PUT", "/api/v1/calendar/overrides/2026-10-03", map[string]any{"working": true, "note": v}); r.status != 400 || r.fields()["note"] == nil {
			t.Errorf("override note with %s: %d %s", what, r.status, r.raw)
		}
	}
	// The complaint the bad commands were aimed at still works.
	if r := s.must(s.call("agent1", "POST", "/api/v1/complaints/H-1/plan", map[string]any{"plan": "a\tmulti-line\nplan"}), 200, "plan after bad ones"); r.body["status"] != "open" {
		t.Errorf("after: %s", r.raw)
	}

	// Paths and queries: odd bytes name the parameter; nothing is a 5xx.
	for _, p := range []struct{ user, method, path, field string }{
		{"officer1", "GET", "/api/v1/complaints/%00", "no"},
		{"officer1", "GET", "/api/v1/complaints/%E4%B8%AD%E6%96%87", "no"},
		{"agent1", "POST", "/api/v1/complaints/a%07b/contact", "no"},
		{"hr1", "GET", "/api/v1/rewards/%00", "no"},
		{"officer1", "POST", "/api/v1/escalations/%00/ack", "id"},
		{"hr1", "GET", "/api/v1/appeals/%00", "id"},
		{"agent1", "POST", "/api/v1/assessments/%00/appeals", "id"},
		{"manager1", "POST", "/api/v1/deductions/%00/confirm", "id"},
		{"hr1", "GET", "/api/v1/assessment-cycles/%00", "month"},
		{"hr1", "GET", "/api/v1/reports/annual/2%0026", "year"},
		{"admin1", "DELETE", "/api/v1/calendar/overrides/%00", "date"},
		{"officer1", "GET", "/api/v1/complaints?team_id=%00", "team_id"},
		{"officer1", "GET", "/api/v1/complaints?assignee_id=%E4%B8%AD", "assignee_id"},
		{"officer1", "GET", "/api/v1/complaints?status=%07", "status"},
		{"hr1", "GET", "/api/v1/assessments?month=%00", "month"},
		{"hr1", "GET", "/api/v1/rewards?awaiting=%FF", "awaiting"},
		{"officer1", "GET", "/api/v1/escalations?open=%00", "open"},
	} {
		r := s.call(p.user, p.method, p.path, nil)
		if r.status != http.StatusBadRequest || r.fields()[p.field] == nil {
			t.Errorf("%s %s: %d %s (want 400 naming %s)", p.method, p.path, r.status, r.raw, p.field)
		}
	}
	// A header too: the Idempotency-Key is an id.
	req, _ := http.NewRequest("POST", s.url+"/api/v1/complaints/H-1/pause", strings.NewReader(`{"reason":"r"}`))
	req.Header.Set("Authorization", "Bearer "+s.tokens["agent1"])
	req.Header.Set("Idempotency-Key", "a b")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("bad Idempotency-Key: %d", res.StatusCode)
	}
}

// The service's horizon: an extended deadline at most a year out, a
// calendar override from 2000 to a year ahead, a month from 2000.
func TestInputHorizon(t *testing.T) {
	s := startStack(t)
	s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("HZ-1")), 201, "create")
	far := time.Now().AddDate(2, 0, 0).Format(time.RFC3339)
	if r := s.call("officer1", "POST", "/api/v1/complaints/HZ-1/extend", map[string]any{"clock": "resolution", "due_at": far, "reason": "r"}); r.status != 400 || r.fields()["due_at"] == nil {
		t.Errorf("extend two years out: %d %s", r.status, r.raw)
	}
	for _, d := range []string{"1999-12-31", fmt.Sprintf("%d-01-01", time.Now().Year()+2)} {
		if r := s.call("admin1", "PUT", "/api/v1/calendar/overrides/"+d, map[string]any{"working": true, "note": "n"}); r.status != 400 || r.fields()["date"] == nil {
			t.Errorf("override on %s: %d %s", d, r.status, r.raw)
		}
	}
	if r := s.call("hr1", "POST", "/api/v1/assessment-cycles", map[string]any{"month": "1999-12"}); r.status != 400 || r.fields()["month"] == nil {
		t.Errorf("cycle of 1999-12: %d %s", r.status, r.raw)
	}
}

// Throttled failed authentication: a client that keeps sending bad tokens
// gets 429 with Retry-After; a valid token keeps working from the same client.
func TestBadTokensAreThrottled(t *testing.T) {
	s := startStack(t)
	var unauthorized, throttled int
	for i := range 30 {
		r := s.call(fmt.Sprintf("nosuch%d.secret", i), "GET", "/api/v1/calendar?from=2026-10-01&to=2026-10-02", nil)
		switch r.status {
		case 401:
			unauthorized++
		case 429:
			throttled++
			if r.header.Get("Retry-After") == "" || r.code() != "too_many_failures" {
				t.Fatalf("429 without Retry-After or code: %v %s", r.header, r.raw)
			}
		default:
			t.Fatalf("bad token: %d %s", r.status, r.raw)
		}
	}
	if unauthorized != 20 || throttled != 10 {
		t.Errorf("401s %d, 429s %d; want 20 then 10", unauthorized, throttled)
	}
	s.must(s.call("admin1", "GET", "/api/v1/calendar?from=2026-10-01&to=2026-10-02", nil), 200, "a valid token while throttled")
}
