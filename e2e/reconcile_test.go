package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A row the reconciler cannot repair (here a number Temporal refuses as a
// workflow ID, as no create over HTTP could store) is skipped: the
// interrupted creates behind it are still completed in the same pass.
func TestReconcileSkipsARowItCannotRepair(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	insert := func(no, age string) {
		if _, err := s.pool.Exec(ctx, `INSERT INTO complaints (complaint_no, request_hash, customer_name, customer_phone, product,
			category, description, assignee_id, team_id, received_at, created_by, created_at)
			VALUES ($1::text, sha256(convert_to($1::text, 'UTF8')), 'n', '13800000000', 'p', 'c', 'd', 'agent1', 'team-a', now(), 'agent1', now() - $2::interval)`, no, age); err != nil {
			t.Fatal(err)
		}
	}
	insert("A-"+strings.Repeat("x", 2000), "2 minutes") // the oldest: the pass meets it first
	insert("R-1", "1 minute")
	n, err := s.srv.ReconcileOnce(ctx, time.Second)
	if err != nil || n != 1 {
		t.Fatalf("ReconcileOnce = %d, %v; want 1 repaired and no error", n, err)
	}
	s.poll("R-1 visible", 10*time.Second, func() bool {
		return s.call("officer1", http.MethodGet, "/api/v1/complaints/R-1", nil).status == http.StatusOK
	})
}
