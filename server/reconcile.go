package server

import (
	"context"
	"time"

	"github.com/acme/aftersales/db"
)

// Creation is all-or-nothing from a client's view. A create writes its
// intake row (with the personal data that must stay out of workflow
// history, R7), then starts the workflow; a crash between the two leaves an
// intake row without a workflow. Such a row is invisible (reads and lists
// show only cases their workflow has written: last_seq is set), and
// Reconcile completes it: every interval it starts the workflow of each
// intake row older than one interval that its workflow has not written,
// exactly as a retry of the same POST would. Starting is idempotent (the
// workflow ID is the business key, "use existing"), so several servers may
// reconcile at once, and a workflow that is merely slow to write is left
// alone.
//
// Why not an outbox table, or the workflow first: the intake row already is
// the outbox entry (written once, in one statement), and the workflow cannot
// come first because the personal data must be stored before anything
// refers to it. Work orders and deductions are one transaction each, and
// an appeal is opened by one update of its cycle, so they need no repair;
// a late one is let in by its month's cycle before it commits, and the
// cycle counts it whatever happens to the server after (lateentries.go).
// A late survey is written by its complaint's workflow instead: its
// recompute request (recompute_requests, an outbox row written when its
// cycle accepted it) is cleared once the cycle answered; one left behind
// (the survey stored after its request ended, or a request of the release
// before the gate) is asked of the cycle again here.

// reconcileBatch bounds one pass; the next pass takes the rest.
const reconcileBatch = 100

// Reconcile runs until ctx ends (cmd/server and make run start it).
func (s *Server) Reconcile(ctx context.Context) error {
	t := time.NewTicker(s.reconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			n, err := s.ReconcileOnce(ctx, s.reconcileEvery)
			if err != nil && ctx.Err() == nil {
				// PostgreSQL or Temporal down: the next pass tries again.
				s.log.WarnContext(ctx, "reconcile: interrupted creates not completed yet", "error", err)
			} else if n > 0 {
				s.log.InfoContext(ctx, "reconcile: completed interrupted creates", "count", n)
			}
		}
	}
}

// ReconcileOnce starts the workflows of intake rows older than grace that
// their workflow has not written, asks the cycles of recompute requests
// older than grace again, and reports how many of these it did.
//
// A row that fails for a reason of its own (say, its assignee was removed)
// is logged and skipped, so it never holds up the rows behind it; a
// dependency that is down ends the pass, and the next one tries again.
func (s *Server) ReconcileOnce(ctx context.Context, grace time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	before := time.Now().Add(-grace)
	n := 0
	// done counts a repaired row, or decides whether a failed one ends the pass.
	done := func(what, id string, err error) error {
		switch {
		case err == nil:
			n++
		case isUnavailable(err) || ctx.Err() != nil:
			return err
		default:
			s.log.ErrorContext(ctx, "reconcile: "+what+" not repaired; skipped", "id", id, "error", err)
		}
		return nil
	}
	complaints, err := s.q.ListUnstartedComplaints(ctx, db.ListUnstartedComplaintsParams{OlderThan: before, RowLimit: reconcileBatch})
	if err != nil {
		return n, err
	}
	for _, c := range complaints {
		assignee, err := s.q.GetUserPlacement(ctx, c.AssigneeID)
		if err == nil {
			err = s.startComplaint(ctx, db.GetComplaintIntakeRow(c), assignee, nil)
		}
		if err := done("complaint", c.ComplaintNo, err); err != nil {
			return n, err
		}
	}
	rewards, err := s.q.ListUnstartedRewards(ctx, db.ListUnstartedRewardsParams{OlderThan: before, RowLimit: reconcileBatch})
	if err != nil {
		return n, err
	}
	for _, r := range rewards {
		nominee, err := s.q.GetUserPlacement(ctx, r.NomineeID)
		if err == nil {
			err = s.startReward(ctx, db.GetRewardRow(r), nominee)
		}
		if err := done("reward", r.NominationNo, err); err != nil {
			return n, err
		}
	}
	// Late surveys whose cycle's answer was not seen (lateentries.go).
	requests, err := s.q.ListRecomputeRequests(ctx, db.ListRecomputeRequestsParams{OlderThan: before, RowLimit: reconcileBatch})
	if err != nil {
		return n, err
	}
	for _, req := range requests {
		if s.reaskCycle(ctx, req.Month, req.RequestedAt) {
			n++
		}
	}
	return n, nil
}
