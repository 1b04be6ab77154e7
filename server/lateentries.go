package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

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

// recompute asks each gated month's cycle to recompute its published
// results after an entry was written. A failure is logged, not answered:
// the entry is stored, and the next entry or HR's check will catch up.
func (s *Server) recompute(ctx context.Context, gates []monthGate) {
	for _, g := range gates {
		if !g.recompute {
			continue
		}
		err := s.temporal.SignalWorkflow(ctx, workflows.AssessmentCycleWorkflowID(g.month), "", workflows.SignalRecompute, nil)
		if err != nil {
			s.log.WarnContext(ctx, "cycle not told to recompute", "month", g.month, "error", err)
		}
	}
}
