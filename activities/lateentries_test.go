package activities

import (
	"context"
	"testing"
	"time"

	"github.com/acme/aftersales/db"
)

// R4.0 (issue 13): ComputeResults takes the month's lock exclusively, so it
// waits for an entry whose transaction holds it shared, and then counts
// the entry; entries of another month do not hold it up.
func TestComputeResultsWaitsForTheMonthsEntriesInFlight_R4_0(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	workOrder(t, a, "WO-1", "agent1", "team-a", sep(5, 12), "")

	// An entry of October in flight: no wait for September.
	other, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx)
	if err := db.New(other).LockMonthForEntry(ctx, "2026-10"); err != nil {
		t.Fatal(err)
	}
	quick, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := a.ComputeResults(quick, cycleInput()); err != nil {
		t.Fatalf("September waited for an October entry: %v", err)
	}

	// A September entry in flight: its transaction holds the lock shared.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	q := db.New(tx)
	if err := q.LockMonthForEntry(ctx, "2026-09"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.InsertWorkOrder(ctx, db.InsertWorkOrderParams{WorkOrderNo: "WO-2", RequestHash: make([]byte, 32), TechnicianID: "agent1",
		TeamID: "team-a", CompletedAt: sep(20, 12), CreatedBy: "manager1"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := a.ComputeResults(ctx, cycleInput())
		done <- err
	}()
	// It waits: the lock request is queued, not granted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("ComputeResults ended (%v) while a September entry was in flight", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("ComputeResults never asked for the month's lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var orders int32
	if err := pool.QueryRow(ctx, `SELECT work_orders FROM assessments WHERE id = '2026-09_agent1'`).Scan(&orders); err != nil || orders != 2 {
		t.Fatalf("work orders counted: %d, %v; want both, the one committed while the compute waited included", orders, err)
	}
}
