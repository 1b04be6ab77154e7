package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// monthGate is what an entry dated in an assessed month means for that
// month's results (R4.0: late entries land in their own month; R4.5: results
// are published for appeal, then final):
//   - a month not yet assessed takes entries as they come;
//   - a month whose results are published takes them, and its cycle
//     recomputes the published results, so they can still be appealed;
//   - a month past its publication window (closing or final) refuses them
//     with 409, rather than letting them count nowhere.
type monthGate struct {
	month     string
	recompute bool
	// requestedAt identifies the month's recompute request (outbox, see
	// requestRecompute), once written.
	requestedAt time.Time
}

// gate checks the months of an entry's instants; the error is a 409.
func (s *Server) gate(ctx context.Context, instants ...time.Time) ([]monthGate, error) {
	var gates []monthGate
	for _, t := range instants {
		month := t.In(s.loc).Format("2006-01")
		status, err := s.q.GetCycleStatus(ctx, month)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue
		case err != nil:
			return nil, err
		case status == string(workflows.CycleClosing) || status == string(workflows.CycleFinal):
			return nil, &apiError{Status: http.StatusConflict, Code: "month_closed",
				Message: "the assessment of " + month + " is past its publication window (R4.5): entries for it are closed"}
		}
		gates = append(gates, monthGate{month: month, recompute: true})
	}
	return gates, nil
}

// requestRecompute writes the recompute requests of the gated months with
// q, in the entry's own transaction where there is one: an outbox, so that
// a crash before recompute signals the cycle leaves the request for the
// reconciler (reconcile.go) instead of an entry its month never counts.
func requestRecompute(ctx context.Context, q *db.Queries, gates []monthGate) error {
	for i, g := range gates {
		if !g.recompute {
			continue
		}
		at, err := q.RequestRecompute(ctx, g.month)
		if err != nil {
			return fmt.Errorf("request recompute of %s: %w", g.month, err)
		}
		gates[i].requestedAt = at
	}
	return nil
}

// recompute asks each gated month's cycle to recompute its published
// results after an entry was written, and clears the request. A failure is
// logged, not answered: the entry is stored and its request stays, so the
// reconciler signals the cycle later.
func (s *Server) recompute(ctx context.Context, gates []monthGate) {
	for _, g := range gates {
		if g.recompute {
			s.signalRecompute(ctx, g.month, g.requestedAt)
		}
	}
}

// signalRecompute signals month's cycle and deletes the request made at
// requestedAt (zero: none was written). A cycle that has ended needs no
// signal: its results are final.
func (s *Server) signalRecompute(ctx context.Context, month string, requestedAt time.Time) bool {
	err := s.temporal.SignalWorkflow(ctx, workflows.AssessmentCycleWorkflowID(month), "", workflows.SignalRecompute, nil)
	var ended *serviceerror.NotFound
	if err != nil && !errors.As(err, &ended) {
		s.log.WarnContext(ctx, "cycle not told to recompute yet; the reconciler will", "month", month, "error", err)
		return false
	}
	if !requestedAt.IsZero() {
		if err := s.q.DoneRecompute(ctx, db.DoneRecomputeParams{Month: month, RequestedAt: requestedAt}); err != nil {
			s.log.WarnContext(ctx, "recompute request not cleared; it will be signalled again", "month", month, "error", err)
		}
	}
	return true
}
