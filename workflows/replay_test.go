package workflows

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Released workflow code must still replay the histories it wrote: a change
// to the command sequence without versioning (README "Changing a released
// workflow") fails here. Every file in testdata/ is a real history,
// recorded on a Temporal server by the code of its day (package e2e,
// history_test.go and histories_test.go, with UPDATE_HISTORY=1), and is
// never re-recorded: a new path or a new patch gets a new file.
//
// Complaint (R3):
//   - complaint_lifecycle.json: contact, plan, pause, resume, resolve,
//     survey, closed after the reopen window (a plain start);
//   - complaint_breached.json: received 30 days ago, so every clock missed
//     both levels at the start, recorded before notices were first tried
//     inline and before commands caught up with the clocks (both guarded by
//     GetVersion: "notify-inline", "clocks-before-command");
//   - complaint_extend.json: contact missed at the start (level 1 and the
//     deduction); an officer extends that clock (its level 2 moves) and the
//     plan clock (its warning moves); then worked to the close. This and
//     the next two start as the HTTP create does (Update-With-Start of
//     "created");
//   - complaint_reassign.json: the contact warning due at the start, the
//     contact clock missed on its timer a few seconds later; reassigned to
//     agent2, who works it to the close;
//   - complaint_reopen.json: resolved and surveyed, reopened within the
//     window, resolved and surveyed again, closed.
//
// Complaint, recorded with the "legible-clocks" patch (issue 13: whole
// seconds, timers with summaries cancelled when a command makes them moot):
//   - complaint_timers_cancelled.json: contact, plan, pause, resume, an
//     extension, a reassignment, resolve, survey, closed; five timers
//     cancelled, one kept by the reassignment, only the close fires;
//   - complaint_continued_first_run.json, complaint_continued_last_run.json:
//     a small history budget (issue 13 item 2): four extensions and a
//     contact, then continued as new; the next run (its input carries the
//     state) takes the rest of the commands to the close.
//
// AssessmentCycle (R4.5, R6, R5.2):
//   - assessmentcycle_appeals_recompute.json: published, a late work order
//     (the "recompute" signal), three appeals opened (child workflows),
//     the window timer, the month final after the decisions, the month's
//     CSI service star nominated (a RewardApproval child). Recorded before
//     the cycle was the gate of late entries and continued as new (its
//     runs replay without the "cycle-continue-as-new" patch);
//   - assessmentcycle_late_entries_continued_as_new.json: the first run of
//     a cycle with the patch (issue 13) and a budget of three updates: two
//     appeals opened, a late work order counted (the "late-entry" update),
//     the window timer cancelled, continued as new;
//   - assessmentcycle_carried_final.json: its second run, from the carried
//     state: a late entry, both appeals' ends by their "appeal-ended"
//     signals, the window's rest, final.
//
// Appeal (R6), the children of that cycle but the last:
//   - appeal_withdrawn.json: stage 1, the employee accepts the explanation;
//   - appeal_upheld.json: the manager moves it to stage 2, HR upholds it
//     with a corrected score;
//   - appeal_rejected.json: the employee moves it to stage 2, HR rejects it;
//   - appeal_withdrawn_tells_cycle.json, appeal_upheld_tells_cycle.json:
//     opened by the continued cycle above (NotifyCycle): each signals the
//     cycle's current run at its end;
//   - appeal_upheld_timer_cancelled.json: as appeal_upheld, recorded with
//     "appeal-cancel-timer": the stage-1 timer cancelled when stage 2
//     sets its own;
//   - appeal_stage1_lapsed.json: started directly with OpenedAt 10 days
//     back (a first task after a worker outage): stage 1 over at the
//     start, stage 2 by the system, the department head rejects it.
//     Not recorded: the stage-2 reminder and escalation firing, and stage 1
//     ending on its timer. They are at least a working day after the
//     workflow's own now, so a real server cannot reach them in a test.
//
// RewardApproval (R5.3):
//   - reward_committee_paid.json: cash above the threshold: the head, HR,
//     the committee, the payment;
//   - reward_rejected.json: the head approves, HR rejects;
//   - reward_returned_resubmitted.json: returned by the head, resubmitted
//     with another amount (round 2), approved and paid;
//   - reward_withdrawn.json: withdrawn by the nominator at the HR step;
//   - reward_service_star_issued.json: the cycle's star (nominated by the
//     system, a child), approved and its certificate issued;
//   - reward_reconciled_reminded.json, reward_reconciled_overdue.json: the
//     reconciler starts nominations made days before (NominatedAt back
//     then): step 1's reminder is due at the start (then rejected), or its
//     deadline (escalated; then approved and a training place issued);
//   - reward_continued_first_run.json, reward_continued_last_run.json:
//     "reward-cancel-timer" and a small history budget (issue 13 item 2):
//     returned and resubmitted round after round, continued as new, the
//     last round approved and issued in the next run.
//
// Recalculation (R2, last rule; issue 12) and a complaint it reached:
//   - recalculation_one_case.json: a batch of one complaint after a company
//     day off: its report recorded, the case's Update sent, the final report;
//   - complaint_recalculated.json: contact, then a recalculation (a day
//     off and the 5-day policy version), then worked to its close.
//
// MonthlyCycleStarter (the Schedule's):
//   - monthlycyclestarter_exists.json: the month's cycle already exists
//     (the child start fails as already started; the starter succeeds).
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	// As worker.New registers them (package worker imports this one, so
	// the list cannot be shared): the names are the contract's.
	registered := map[string]any{
		ComplaintWorkflowType:           Complaint,
		AssessmentCycleWorkflowType:     AssessmentCycle,
		AppealWorkflowType:              Appeal,
		MonthlyCycleStarterWorkflowType: MonthlyCycleStarter,
		RewardWorkflowType:              RewardApproval,
		RecalculationWorkflowType:       Recalculation,
	}
	recorded := map[string]int{}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// The workflow type is its first event's.
			typ := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
			if _, ok := registered[typ]; !ok {
				t.Fatalf("workflow type %q is not one the worker registers", typ)
			}
			recorded[typ]++
			r := worker.NewWorkflowReplayer()
			for _, name := range slices.Sorted(maps.Keys(registered)) {
				r.RegisterWorkflowWithOptions(registered[name], workflow.RegisterOptions{Name: name})
			}
			if err := r.ReplayWorkflowHistory(nil, hist); err != nil {
				t.Fatalf("%s no longer replays this history: %v", typ, err)
			}
		})
	}
	// Every workflow the worker runs has recorded histories.
	for _, typ := range slices.Sorted(maps.Keys(registered)) {
		if recorded[typ] == 0 {
			t.Errorf("no recorded history of %s in testdata", typ)
		}
	}
}
