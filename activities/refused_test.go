package activities

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/aftersales/workflows"
)

// A history recorded before the validators refused NUL (a plan "a\x00b")
// no longer wedges its complaint: the write is retried with U+FFFD in place
// of the NUL, succeeds, and is counted; the case's later writes go through.
func TestSyncComplaintWithNULIsWrittenScrubbedAndCounted(t *testing.T) {
	a, pool := setup(t)
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, pool)
	intake(t, a, "C-1", "agent1", "team-a", t0)
	events := []workflows.Event{ev(1, "received", t0, nil), ev(2, "contacted", t0.Add(time.Hour), nil), ev(3, "planned", t0.Add(2*time.Hour), nil)}
	events[2].Reason = "a\x00b"
	s := mkSync("C-1", workflows.StatusOpen, t0, clocks(t0), events, 3)
	if err := a.SyncComplaint(context.Background(), s); err != nil {
		t.Fatalf("sync with NUL: %v", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM complaint_events WHERE complaint_no = 'C-1' AND reason = 'a' || chr(65533) || 'b'`); n != 1 {
		t.Errorf("scrubbed event rows = %d, want 1", n)
	}
	if got := sample(t, reg, "read_model_refused_total", "written_scrubbed", "complaint"); got != 1 {
		t.Errorf("read_model_refused_total{written_scrubbed} = %v, want 1", got)
	}
	// The next change of the same case (its trail still holds the NUL) is written too.
	s.State.Events = append(s.State.Events, ev(4, "resolved", t0.Add(3*time.Hour), nil))
	s.Events = s.State.Events[3:]
	s.State.Status = workflows.StatusResolved
	if err := a.SyncComplaint(context.Background(), s); err != nil {
		t.Fatalf("the next sync: %v", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM complaints WHERE complaint_no = 'C-1' AND status = 'resolved' AND last_seq = 4`); n != 1 {
		t.Errorf("the read model did not move on")
	}
}

// Data PostgreSQL refuses however it is cleaned (here a clock name its
// CHECK constraint does not know) is dropped with a non-retryable
// ErrReadModelRefused, counted; retrying could never succeed.
func TestSyncComplaintRefusedDataIsNonRetryableAndCounted(t *testing.T) {
	a, pool := setup(t)
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, pool)
	intake(t, a, "C-1", "agent1", "team-a", t0)
	s := breachedSync("C-1")
	s.Escalations[0].Clock = "bogus"
	s.State.Escalations[0].Clock = "bogus"
	err := a.SyncComplaint(context.Background(), s)
	if !workflows.IsRejection(err, workflows.ErrReadModelRefused) {
		t.Fatalf("err = %v, want %s", err, workflows.ErrReadModelRefused)
	}
	if got := sample(t, reg, "read_model_refused_total", "dropped", "complaint"); got != 1 {
		t.Errorf("read_model_refused_total{dropped} = %v, want 1", got)
	}
	// An outage is not a data error: it stays retryable.
	pool.Close()
	if err := a.SyncComplaint(context.Background(), breachedSync("C-1")); err == nil || workflows.IsRejection(err, workflows.ErrReadModelRefused) {
		t.Errorf("closed pool: err = %v, want a retryable error", err)
	}
}
