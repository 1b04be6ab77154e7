package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/acme/aftersales/workflows"
)

// historyFile is the recorded full lifecycle the replay test in package
// workflows replays. Regenerate with UPDATE_HISTORY=1 go test ./e2e -run History
// (only when the change is meant to be incompatible, i.e. versioned).
var historyFile = filepath.Join("..", "workflows", "testdata", "complaint_lifecycle.json")

// R3 §9: a full lifecycle (received, contact, plan, pause, resume, resolve,
// survey, then closed after the reopen window) stays under 100 history events.
func TestR3_LifecycleHistoryIsSmall(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	policy := workflows.DefaultSLAPolicy()
	policy.ReopenWithin = 2 * time.Second // so the test sees the close without waiting 30 days
	in := workflows.ComplaintInput{
		ComplaintNo: "H-1", AssigneeID: "agent1", TeamID: "team-a", ManagerID: "manager1", HeadID: "head1",
		ReceivedAt: time.Now(), CreatedBy: "agent1", Policy: policy, Location: "Asia/Shanghai",
	}
	// The read model needs the intake row the HTTP create would have written.
	if _, err := s.pool.Exec(ctx, `INSERT INTO complaints (complaint_no, request_hash, customer_name, customer_phone, product, category,
		description, assignee_id, team_id, received_at, created_by) VALUES ('H-1', sha256('x'), 'n', '123456', 'p', 'c', 'd', 'agent1', 'team-a', $1, 'agent1')`, in.ReceivedAt); err != nil {
		t.Fatal(err)
	}
	run, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ComplaintWorkflowID("H-1"), TaskQueue: "e2e-" + t.Name(),
	}, workflows.ComplaintWorkflowType, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		arg  any
	}{
		{workflows.UpdateContact, workflows.ContactInput{Actor: "agent1", Note: "called"}},
		{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent1", Plan: "swap"}},
		{workflows.UpdatePause, workflows.PauseInput{Actor: "agent1", Reason: "waiting for parts photo"}},
		{workflows.UpdateResume, workflows.ResumeInput{Actor: "agent1"}},
		{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent1", Resolution: "swapped"}},
		{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent1", Ratings: workflows.Ratings{Attitude: 5, Speed: 5, Quality: 4, Parts: 4, Cost: 5}}},
	} {
		h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: run.GetID(), UpdateName: u.name, Args: []any{u.arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			t.Fatalf("%s: %v", u.name, err)
		}
	}
	var final workflows.ComplaintState
	if err := run.Get(ctx, &final); err != nil {
		t.Fatal(err)
	}
	if final.Status != workflows.StatusClosed {
		t.Fatalf("final status %s", final.Status)
	}
	hist := &historypb.History{}
	it := s.temporal.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, e)
	}
	t.Logf("full lifecycle: %d history events", len(hist.Events))
	if len(hist.Events) >= 100 {
		t.Errorf("%d history events, want under 100", len(hist.Events))
	}
	if os.Getenv("UPDATE_HISTORY") != "" {
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(historyFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
