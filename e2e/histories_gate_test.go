package e2e

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/workflows"
)

// Issue 13 items 2 and 3 on a real stack, recorded (UPDATE_HISTORY=1) for
// TestReplayRecordedHistories: a cycle of the bounded version (GetVersion
// "cycle-continue-as-new") with a budget of three updates. Run 1 opens two
// appeals and counts a late work order (the late-entry update), then
// continues as new at its budget. Run 2 answers the query as run 1 did,
// counts another late entry, learns by their signals that the appeals run 1
// opened have ended (one withdrawn in stage 1, one upheld by HR after the
// window), and finalizes. The cycle is started through the SDK because the
// HTTP start takes no budget; everything else goes through HTTP.
func TestHistory_AssessmentContinuedAsNew(t *testing.T) {
	window := 20 * time.Second
	s := startStack(t, withPublicationWindow(window))
	ctx := context.Background()
	s.addUser("agent3", "team-a", auth.Agent)
	month, at := monthAgo(1)
	wo := func(user, no string, day int) {
		s.must(s.call(user, "POST", "/api/v1/work-orders", map[string]any{"work_order_no": no, "technician_id": user, "completed_at": at(day, 12)}), 201, "work order "+no)
	}
	wo("agent1", "WO-1", 4)
	wo("agent3", "WO-3", 4)
	policy := workflows.DefaultAssessmentPolicy()
	policy.PublicationWindow = workflows.Duration(window)
	run, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.AssessmentCycleWorkflowID(month), TaskQueue: "e2e-" + t.Name()},
		workflows.AssessmentCycleWorkflowType, workflows.CycleInput{Month: month, StartedBy: "hr1", Policy: policy, Location: "Asia/Shanghai",
			Budget: workflows.CycleBudget{Updates: 3}})
	if err != nil {
		t.Fatal(err)
	}
	s.poll("published results", 20*time.Second, func() bool { return s.cycleOf(month)["status"] == "published" })

	// Run 1: two appeals and a late entry, its three updates.
	appeal := func(emp string) string {
		r := s.must(s.call(emp, "POST", "/api/v1/assessments/"+workflows.AssessmentID(month, emp)+"/appeals", map[string]any{"reason": "the repair was right"}), 201, "appeal of "+emp)
		return r.body["id"].(string)
	}
	upheld, withdrawn := appeal("agent1"), appeal("agent3")
	wo("agent1", "WO-4", 20)
	s.poll("the cycle to continue as new", 10*time.Second, func() bool { return s.cycleOf(month)["continued_as_new"] == 1.0 })

	// Run 2 answers as run 1 did.
	cyc := s.cycleOf(month)
	appeals, _ := cyc["appeals"].(map[string]any)
	if cyc["status"] != "published" || cyc["open_appeals"] != 2.0 || cyc["late_entries"] != 1.0 || cyc["results_count"] != 2.0 ||
		appeals[upheld] != "open" || appeals[withdrawn] != "open" {
		t.Fatalf("run 2: %v", cyc)
	}
	if r := s.resultOf(month, "agent1"); r["ftfr"] != 100.0 {
		t.Fatalf("agent1 after WO-4: %v", r)
	}
	// An appeal run 1 opened ends; run 2 learns it from the appeal's signal.
	s.must(s.call("agent3", "POST", "/api/v1/appeals/"+withdrawn+"/accept-explanation", map[string]any{"note": "understood"}), 200, "withdraw")
	s.poll("run 2 to learn of the withdrawal", 10*time.Second, func() bool {
		c := s.cycleOf(month)
		return c["open_appeals"] == 1.0 && c["appeals"].(map[string]any)[withdrawn] == "withdrawn"
	})
	// A second appeal on a result run 1 saw appealed is still refused.
	s.must(s.call("agent3", "POST", "/api/v1/assessments/"+workflows.AssessmentID(month, "agent3")+"/appeals", map[string]any{"reason": "again"}), 409, "second appeal")
	wo("agent3", "WO-5", 21)
	if c := s.cycleOf(month); c["late_entries"] != 2.0 || c["continued_as_new"] != 1.0 {
		t.Fatalf("run 2 after its late entry: %v", c)
	}

	s.must(s.call("manager1", "POST", "/api/v1/appeals/"+upheld+"/escalate", map[string]any{"reason": "for HR"}), 200, "escalate")
	s.poll("the window to end", 40*time.Second, func() bool { return s.cycleOf(month)["status"] == "closing" })
	s.must(s.call("hr1", "POST", "/api/v1/appeals/"+upheld+"/decision", map[string]any{"outcome": "upheld", "corrected_score": 90.0, "reason": "r"}), 200, "uphold")
	s.poll("the month final", 20*time.Second, func() bool { return s.cycleOf(month)["status"] == "final" })
	cyc = s.cycleOf(month)
	if appeals := cyc["appeals"].(map[string]any); appeals[upheld] != "upheld" || appeals[withdrawn] != "withdrawn" || cyc["open_appeals"] != 0.0 || cyc["late_entries"] != 2.0 {
		t.Fatalf("final: %v", cyc)
	}

	s.saveHistory(workflows.AssessmentCycleWorkflowID(month), run.GetRunID(), testdata("assessmentcycle_late_entries_continued_as_new.json"))
	s.saveHistory(workflows.AssessmentCycleWorkflowID(month), "", testdata("assessmentcycle_carried_final.json"))
	s.saveHistory(workflows.AppealWorkflowID(workflows.AssessmentID(month, "agent3")), "", testdata("appeal_withdrawn_tells_cycle.json"))
	s.saveHistory(workflows.AppealWorkflowID(workflows.AssessmentID(month, "agent1")), "", testdata("appeal_upheld_tells_cycle.json"))
}
