package e2e

import (
	"testing"
	"time"

	"github.com/acme/aftersales/internal/pgtest"
)

// With no worker polling, a complaint's GET answers from the read model
// (X-State-Source: read-model) instead of a 503, and a command answers 503
// with Retry-After within the request deadline, saying it was not accepted.
func TestNoWorkerReadsFromTheReadModelAndCommandsAre503(t *testing.T) {
	s, w, _ := faultStack(t, pgtest.New(t))
	s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("NW-1")), 201, "create")
	s.must(s.call("agent1", "POST", "/api/v1/complaints/NW-1/contact", map[string]any{"note": "called"}), 200, "contact")
	w.Stop() // no worker polls from here on

	r := s.must(s.call("officer1", "GET", "/api/v1/complaints/NW-1", nil), 200, "GET without a worker")
	if r.header.Get("X-State-Source") != "read-model" || clockNamed(r.body, "contact")["met_at"] == nil {
		t.Errorf("GET without a worker: %v %s", r.header, r.raw)
	}
	start := time.Now()
	r = s.call("agent1", "POST", "/api/v1/complaints/NW-1/plan", map[string]any{"plan": "p"})
	if r.status != 503 || r.header.Get("Retry-After") == "" || r.fields()["temporal"] == nil {
		t.Errorf("command without a worker: %d %v %s", r.status, r.header, r.raw)
	}
	if took := time.Since(start); took > faultTimeout+faultMargin {
		t.Errorf("command without a worker took %s, want about the %s deadline", took, faultTimeout)
	}
}
