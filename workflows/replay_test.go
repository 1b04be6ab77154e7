package workflows

import (
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Released workflow code must still replay the histories it wrote: a change
// to the command sequence without versioning fails here. The history is a
// real one, recorded from a full lifecycle against a Temporal server
// (e2e TestR3_LifecycleHistoryIsSmall with UPDATE_HISTORY=1).
func TestReplayRecordedHistories(t *testing.T) {
	for _, file := range []string{"testdata/complaint_lifecycle.json"} {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(Complaint, workflow.RegisterOptions{Name: ComplaintWorkflowType})
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}
