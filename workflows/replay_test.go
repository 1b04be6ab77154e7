package workflows

import (
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Released workflow code must still replay the histories it wrote: a change
// to the command sequence without versioning fails here. The histories are
// real ones, recorded against a Temporal server by the code of their day
// (e2e history_test.go with UPDATE_HISTORY=1):
//   - complaint_lifecycle.json: a full lifecycle;
//   - complaint_breached.json: received 30 days ago, so every clock missed
//     both levels at the start, recorded before notices were first tried
//     inline and before commands caught up with the clocks (both guarded by
//     GetVersion: "notify-inline", "clocks-before-command").
func TestReplayRecordedHistories(t *testing.T) {
	for _, file := range []string{"testdata/complaint_lifecycle.json", "testdata/complaint_breached.json"} {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(Complaint, workflow.RegisterOptions{Name: ComplaintWorkflowType})
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}
