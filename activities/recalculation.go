package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// RecalculateComplaint sends one case of a Recalculation batch (R2, last
// rule) to its Complaint workflow as an Update whose ID is the batch's: a
// retry of this activity (or of the whole batch) finds the Update already
// applied and gets its answer, so a case is recalculated once.
func (a *Activities) RecalculateComplaint(ctx context.Context, in workflows.RecalculateComplaintInput) (workflows.RecalculationItem, error) {
	item := workflows.RecalculationItem{ComplaintNo: in.ComplaintNo}
	if a.Temporal == nil {
		return item, errors.New("activities: no Temporal client to send recalculations with")
	}
	h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.ComplaintWorkflowID(in.ComplaintNo), UpdateID: "recalculation:" + in.Input.BatchID,
		UpdateName: workflows.UpdateRecalculate, Args: []any{in.Input}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.RecalculateResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	var notFound *serviceerror.NotFound
	switch {
	case err == nil && res.Applied:
		item.Outcome, item.Changes = workflows.RecalcChanged, res.Changes
	case err == nil:
		item.Outcome = workflows.RecalcUnchanged
	case workflows.IsRejection(err, workflows.ErrConflict), errors.As(err, &notFound):
		// Resolved or closed since the list was made: nothing runs to move.
		item.Outcome, item.Error = workflows.RecalcSkipped, "no longer running"
	case workflows.IsRejection(err, workflows.ErrInvalidInput):
		item.Outcome, item.Error = workflows.RecalcFailed, err.Error()
	default:
		return item, fmt.Errorf("recalculate %s: %w", in.ComplaintNo, err) // retried
	}
	return item, nil
}

// RecordRecalculation writes a batch's report: its first row, then the final one.
func (a *Activities) RecordRecalculation(ctx context.Context, r workflows.RecalculationReport) error {
	report, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p := db.RecordRecalculationParams{ID: r.ID, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt, Reason: r.Reason,
		Total: int32(r.Total), Status: r.Status, Report: report, FinishedAt: r.FinishedAt}
	if r.PolicyVersion != nil {
		p.PolicyVersion = pgtype.Int4{Int32: int32(*r.PolicyVersion), Valid: true}
	}
	return writeOrRefuse(ctx, a, "recalculation", p, a.Q.RecordRecalculation)
}
