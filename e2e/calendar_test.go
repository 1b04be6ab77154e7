package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// R2: the National Day 2026 span with its adjusted working Saturday, as the
// issue's first curl shows it.
func TestR2_CalendarListsNationalDay2026(t *testing.T) {
	s := startStack(t)
	r := s.call("agent1", http.MethodGet, "/api/v1/calendar?from=2026-09-28&to=2026-10-12", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	days := r.body["days"].([]any)
	if len(days) != 15 {
		t.Fatalf("got %d days, want 15", len(days))
	}
	got := map[string]string{}
	for _, d := range days {
		m := d.(map[string]any)
		got[m["date"].(string)] = m["source"].(string)
		if working := m["working"].(bool); working != (m["source"] == "weekday" || m["source"] == "adjusted") {
			t.Errorf("%s: working=%v with source %s", m["date"], working, m["source"])
		}
	}
	want := map[string]string{
		"2026-09-30": "weekday", "2026-10-01": "statutory", "2026-10-04": "statutory", "2026-10-07": "statutory",
		"2026-10-08": "weekday", "2026-10-10": "adjusted", "2026-10-11": "weekend",
	}
	for date, src := range want {
		if got[date] != src {
			t.Errorf("%s: source %q, want %q", date, got[date], src)
		}
	}
}

// R2: a company override changes deadlines at once, and only an admin may set one.
func TestR2_CalendarOverrideChangesDeadline(t *testing.T) {
	s := startStack(t)
	deadline := func() string {
		r := s.call("agent1", http.MethodPost, "/api/v1/calendar/deadline",
			map[string]any{"from": "2026-09-30T10:00:00+08:00", "working_days": 5})
		if r.status != http.StatusOK {
			t.Fatalf("deadline: %d %s", r.status, r.raw)
		}
		return r.body["due_at"].(string)
	}
	// Oct 8, 9, 10 (adjusted Saturday), 12, 13 -> Oct 14 00:00.
	if got := deadline(); got != "2026-10-14T00:00:00+08:00" {
		t.Fatalf("deadline before override = %s", got)
	}
	if r := s.call("manager1", http.MethodPut, "/api/v1/calendar/overrides/2026-10-03", map[string]any{"working": true, "note": "stocktake"}); r.status != http.StatusForbidden {
		t.Fatalf("non-admin PUT: %d, want 403", r.status)
	}
	r := s.call("admin1", http.MethodPut, "/api/v1/calendar/overrides/2026-10-03", map[string]any{"working": true, "note": "stocktake"})
	if r.status != http.StatusCreated || r.body["updated_by"] != "admin1" {
		t.Fatalf("admin PUT: %d %s", r.status, r.raw)
	}
	if r := s.call("admin1", http.MethodPut, "/api/v1/calendar/overrides/2026-10-03", map[string]any{"working": true, "note": "stocktake, all day"}); r.status != http.StatusOK {
		t.Fatalf("second PUT: %d, want 200", r.status)
	}
	// Oct 3 now counts: Oct 3, 8, 9, 10, 12 -> Oct 13 00:00.
	if got := deadline(); got != "2026-10-13T00:00:00+08:00" {
		t.Fatalf("deadline with override = %s", got)
	}
	cal := s.call("agent1", http.MethodGet, "/api/v1/calendar?from=2026-10-03&to=2026-10-03", nil)
	day := cal.body["days"].([]any)[0].(map[string]any)
	if day["source"] != "company" || day["working"] != true {
		t.Fatalf("overridden day = %v", day)
	}
	if r := s.call("admin1", http.MethodDelete, "/api/v1/calendar/overrides/2026-10-03", nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d", r.status)
	}
	if r := s.call("admin1", http.MethodDelete, "/api/v1/calendar/overrides/2026-10-03", nil); r.status != http.StatusNotFound {
		t.Fatalf("second DELETE: %d, want 404", r.status)
	}
	if got := deadline(); got != "2026-10-14T00:00:00+08:00" {
		t.Fatalf("deadline after delete = %s", got)
	}
}

// api.md conventions: 401 without or with a bad token; 400 with field messages.
func TestCalendarRejectsBadInput(t *testing.T) {
	s := startStack(t)
	for _, tc := range []struct {
		name, user, method, path string
		body                     any
		status                   int
		field                    string // a key of error.fields
	}{
		{"no token", "", "GET", "/api/v1/calendar?from=2026-01-01&to=2026-01-31", nil, 401, ""},
		{"unknown token", "abc.def", "GET", "/api/v1/calendar?from=2026-01-01&to=2026-01-31", nil, 401, ""},
		{"malformed token", "garbage", "GET", "/api/v1/calendar?from=2026-01-01&to=2026-01-31", nil, 401, ""},
		{"malformed date", "agent1", "GET", "/api/v1/calendar?from=2026-1-01&to=2026-01-31", nil, 400, "from"},
		{"impossible date", "agent1", "GET", "/api/v1/calendar?from=2026-02-30&to=2026-03-31", nil, 400, "from"},
		{"missing to", "agent1", "GET", "/api/v1/calendar?from=2026-01-01", nil, 400, "to"},
		{"from after to", "agent1", "GET", "/api/v1/calendar?from=2026-02-01&to=2026-01-31", nil, 400, "to"},
		{"over two years", "agent1", "GET", "/api/v1/calendar?from=2025-01-01&to=2027-01-02", nil, 400, "to"},
		{"unknown field", "admin1", "PUT", "/api/v1/calendar/overrides/2026-10-03", `{"working":true,"note":"x","colour":"red"}`, 400, "colour"},
		{"wrong type", "admin1", "PUT", "/api/v1/calendar/overrides/2026-10-03", `{"working":"yes","note":"x"}`, 400, "working"},
		{"trailing data", "admin1", "PUT", "/api/v1/calendar/overrides/2026-10-03", `{"working":true,"note":"x"} {}`, 400, "body"},
		{"malformed json", "admin1", "PUT", "/api/v1/calendar/overrides/2026-10-03", `{"working":tru`, 400, "body"},
		{"missing working", "admin1", "PUT", "/api/v1/calendar/overrides/2026-10-03", `{"note":"x"}`, 400, "working"},
		{"bad path date", "admin1", "PUT", "/api/v1/calendar/overrides/03-10-2026", `{"working":true,"note":"x"}`, 400, "date"},
		{"non-admin put", "hr1", "PUT", "/api/v1/calendar/overrides/2026-10-03", `{"working":true,"note":"x"}`, 403, ""},
		{"non-admin delete", "agent1", "DELETE", "/api/v1/calendar/overrides/2026-10-03", nil, 403, ""},
		{"deadline without offset", "agent1", "POST", "/api/v1/calendar/deadline", `{"from":"2026-10-01T10:00:00","working_days":3}`, 400, "from"},
		{"deadline zero days", "agent1", "POST", "/api/v1/calendar/deadline", `{"from":"2026-10-01T10:00:00+08:00","working_days":0}`, 400, "working_days"},
		{"deadline unknown field", "agent1", "POST", "/api/v1/calendar/deadline", `{"from":"2026-10-01T10:00:00+08:00","working_days":3,"x":1}`, 400, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.call(tc.user, tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if tc.field != "" {
				if msg, ok := r.fields()[tc.field].(string); !ok || strings.TrimSpace(msg) == "" {
					t.Fatalf("no message for field %q: %s", tc.field, r.raw)
				}
			}
			if r.code() == "" {
				t.Fatalf("no error code: %s", r.raw)
			}
		})
	}
}

func TestServiceEndpoints(t *testing.T) {
	s := startStack(t)
	if r := s.call("", "GET", "/healthz", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := s.call("", "GET", "/readyz", nil); r.status != 200 || r.body["status"] != "ready" {
		t.Fatalf("readyz %d %s", r.status, r.raw)
	}
	s.call("agent1", "GET", "/api/v1/calendar?from=2026-01-01&to=2026-01-02", nil)
	m := s.call("", "GET", "/metrics", nil)
	if !strings.Contains(string(m.raw), `http_requests_total{code="200",method="GET",route="/api/v1/calendar"}`) {
		t.Fatalf("metrics lack the route-labelled counter:\n%s", m.raw)
	}
	if strings.Contains(string(m.raw), "2026-01-01") {
		t.Fatal("metrics carry a raw query")
	}
	if r := s.call("", "GET", "/nope", nil); r.status != 404 || r.code() != "not_found" {
		t.Fatalf("unknown path: %d %s", r.status, r.raw)
	}
}
