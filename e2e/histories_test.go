package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/scoring"
	"github.com/acme/aftersales/workflows"
)

// The recorded histories of every released workflow, beside those of
// history_test.go: each test runs one path (or a month's worth of them) on
// a real stack, checks where it ended, and with UPDATE_HISTORY=1 writes the
// histories to workflows/testdata, where TestReplayRecordedHistories
// replays them. Never re-record a file after a workflow change: record a
// new one (a new name) for the new code and keep the old.
//
// Paths that wait on a working-day timer (an appeal's stage-2 reminder and
// escalation, a step timer of a reward that fires while it runs) cannot be
// reached on a real server in test time: every such deadline is at least a
// day after the instant the workflow takes from workflow.Now. Where the
// deadline counts from an instant of the input (a complaint's receipt, a
// reward's nomination, an appeal's opening) a back-dated input reaches it.

func testdata(name string) string { return filepath.Join("..", "workflows", "testdata", name) }

// R3: an officer extends a clock already missed (its pending level 2 moves
// with it) and one still running (its warning moves); then the case runs
// to its close. Started as the HTTP create starts it (Update-With-Start).
func TestHistory_ComplaintExtend(t *testing.T) {
	received := time.Now().Add(-25 * time.Hour) // the contact clock missed an hour ago: level 1 at the start
	recordComplaintRun(t, complaintRecording{no: "H-EXT", received: received, file: testdata("complaint_extend.json"), withStart: true,
		steps: []complaintUpdate{
			{workflows.UpdateExtend, workflows.ExtendInput{Actor: "officer1", Clock: workflows.ClockContact,
				DueAt: time.Now().Add(2 * time.Hour).Truncate(time.Second), Reason: "customer abroad until tonight"}, nil},
			{workflows.UpdateExtend, workflows.ExtendInput{Actor: "officer1", Clock: workflows.ClockPlan,
				DueAt: received.Add(72 * time.Hour).Truncate(time.Second), Reason: "parts survey needs a site visit"}, nil},
			{"extended twice", nil, func(st workflows.ComplaintState) bool {
				return len(st.Escalations) == 1 && countEvents(st, workflows.EventExtended) == 2
			}},
			{workflows.UpdateContact, workflows.ContactInput{Actor: "agent1", Note: "called"}, nil},
			{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent1", Plan: "site visit"}, nil},
			{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent1", Resolution: "bearing replaced"}, nil},
			{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent1", Ratings: workflows.Ratings{Attitude: 4, Speed: 3, Quality: 4, Parts: 4, Cost: 4}}, nil},
		}})
}

// R3: the contact warning is already due at the start; the contact clock
// is missed a few seconds later on its timer (level 1 and the deduction
// against agent1); an officer then reassigns the complaint to agent2, who
// works it to its close.
func TestHistory_ComplaintReassign(t *testing.T) {
	recordComplaintRun(t, complaintRecording{no: "H-RA", received: time.Now().Add(-24*time.Hour + 4*time.Second),
		file: testdata("complaint_reassign.json"), withStart: true,
		steps: []complaintUpdate{
			{"the contact clock missed on its timer", nil, func(st workflows.ComplaintState) bool {
				return len(st.Escalations) == 1 && countEvents(st, workflows.EventWarning) == 1
			}},
			{workflows.UpdateReassign, workflows.ReassignInput{Actor: "officer1", AssigneeID: "agent2", TeamID: "team-b",
				ManagerID: "head1", HeadID: "head1", Reason: "agent1 on leave"}, nil},
			{workflows.UpdateContact, workflows.ContactInput{Actor: "agent2", Note: "called"}, nil},
			{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent2", Plan: "swap the pump"}, nil},
			{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent2", Resolution: "pump swapped"}, nil},
			{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent2", Ratings: workflows.Ratings{Attitude: 5, Speed: 3, Quality: 5, Parts: 4, Cost: 4}}, nil},
		}})
}

// R3: resolved and surveyed, reopened by the customer within the window
// (the resolution clock starts again, no first-time fix), resolved and
// surveyed again, then closed when the window ends.
func TestHistory_ComplaintReopen(t *testing.T) {
	recordComplaintRun(t, complaintRecording{no: "H-RO", received: time.Now(), file: testdata("complaint_reopen.json"), withStart: true,
		reopenWithin: 5 * time.Second,
		steps: []complaintUpdate{
			{workflows.UpdateContact, workflows.ContactInput{Actor: "agent1", Note: "called"}, nil},
			{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent1", Plan: "reseat the door seal"}, nil},
			{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent1", Resolution: "seal reseated"}, nil},
			{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent1", Ratings: workflows.Ratings{Attitude: 5, Speed: 5, Quality: 3, Parts: 4, Cost: 4}}, nil},
			{workflows.UpdateReopen, workflows.ReopenInput{Actor: "agent1", Reason: "leaks again"}, nil},
			{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent1", Resolution: "seal replaced"}, nil},
			{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent1", Ratings: workflows.Ratings{Attitude: 4, Speed: 3, Quality: 4, Parts: 4, Cost: 4}}, nil},
			{"reopened, no first-time fix", nil, func(st workflows.ComplaintState) bool {
				return !st.FirstTimeFix && countEvents(st, workflows.EventReopened) == 1 && countEvents(st, workflows.EventSurveyed) == 2
			}},
		}})
}

func countEvents(st workflows.ComplaintState, typ string) (n int) {
	for _, e := range st.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// R4, R6, R5.2 through HTTP: a month with four results; a late work order
// while published (the cycle recomputes); three appeals through the cycle
// (withdrawn in stage 1; moved to stage 2 by the manager and upheld;
// moved on and rejected); one appeal whose stage 1 had lapsed before its
// first task (started directly, OpenedAt back-dated: the cycle always
// opens an appeal at its own now); the month final after the decisions;
// its CSI service star nominated (a RewardApproval child) and issued; then
// the monthly Schedule's starter finding the month already assessed.
func TestHistory_AssessmentMonth(t *testing.T) {
	s := startStack(t, withPublicationWindow(20*time.Second))
	ctx := context.Background()
	for _, id := range []string{"agent3", "agent4", "agent5"} {
		s.addUser(id, "team-a", auth.Agent)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(sh)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, sh).AddDate(0, -1, 0) // the month just ended
	month := first.Format("2006-01")
	at := func(day int) string { return first.AddDate(0, 0, day-1).Add(12 * time.Hour).Format(time.RFC3339) }
	wo := func(user, no string, day int, repeatOf string) {
		b := map[string]any{"work_order_no": no, "technician_id": user, "completed_at": at(day)}
		if repeatOf != "" {
			b["repeat_of"] = repeatOf
		}
		s.must(s.call(user, "POST", "/api/v1/work-orders", b), 201, "work order "+no)
	}
	// agent2 fixes every repair the first time (100: team-b's star, R5.2);
	// the others fix one of two (FTFR 50, R4.2).
	wo("agent2", "WO-B1", 3, "")
	for _, a := range []string{"agent1", "agent3", "agent4", "agent5"} {
		wo(a, "WO-"+a+"-1", 4, "")
		wo(a, "WO-"+a+"-2", 8, "WO-"+a+"-1")
	}
	s.must(s.call("hr1", "POST", "/api/v1/assessment-cycles", map[string]any{"month": month}), 201, "start cycle")
	result := func(emp string) map[string]any {
		r := s.must(s.call("hr1", "GET", "/api/v1/assessments?month="+month, nil), 200, "results")
		items, _ := r.body["items"].([]any)
		for _, it := range items {
			if m := it.(map[string]any); m["employee_id"] == emp {
				return m
			}
		}
		return nil
	}
	s.poll("published results", 20*time.Second, func() bool { return result("agent5") != nil })

	// A late work order of agent1's (R4.0): 2 of 3 first-time fixes, 66.7.
	wo("agent1", "WO-agent1-3", 20, "")
	s.poll("the recomputed result", 15*time.Second, func() bool { return result("agent1")["score"] == 66.7 })

	appeal := func(emp, reason string) string {
		r := s.must(s.call(emp, "POST", "/api/v1/assessments/"+workflows.AssessmentID(month, emp)+"/appeals", map[string]any{"reason": reason}), 201, "appeal of "+emp)
		return r.body["id"].(string)
	}
	upheld := appeal("agent1", "the repeat visit was the customer's second appliance")
	withdrawn := appeal("agent3", "the repeat was a different fault")
	rejected := appeal("agent4", "the repeat was not my repair")
	s.must(s.call("agent3", "POST", "/api/v1/appeals/"+withdrawn+"/accept-explanation", map[string]any{"note": "understood"}), 200, "accept explanation")
	s.must(s.call("manager1", "POST", "/api/v1/appeals/"+upheld+"/escalate", map[string]any{"reason": "the customer confirms"}), 200, "escalate "+upheld)
	s.must(s.call("agent4", "POST", "/api/v1/appeals/"+rejected+"/escalate", map[string]any{"reason": "not convinced"}), 200, "escalate "+rejected)

	// Stage 1 lapsed before the appeal's first task: stage 2 by the system at once.
	a5 := result("agent5")
	lapsedID := workflows.AssessmentID(month, "agent5")
	policy := workflows.DefaultAssessmentPolicy()
	policy.PublicationWindow = workflows.Duration(20 * time.Second)
	if _, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.AppealWorkflowID(lapsedID), TaskQueue: "e2e-" + t.Name()},
		workflows.AppealWorkflowType, workflows.AppealInput{
			AppealID: workflows.AppealID(lapsedID), AssessmentID: lapsedID, Month: month, AppellantID: "agent5",
			ManagerID: "manager1", HeadID: "head1", Reason: "the repeat was a warranty recall", OpenedAt: time.Now().AddDate(0, 0, -10),
			Score: scoring.Tenths(math.Round(a5["score"].(float64) * 10)), Policy: policy, Location: "Asia/Shanghai",
		}); err != nil {
		t.Fatal(err)
	}
	lapsed := workflows.AppealID(lapsedID)
	s.poll("the lapsed appeal in stage 2", 10*time.Second, func() bool {
		return s.call("hr1", "GET", "/api/v1/appeals/"+lapsed, nil).body["stage"] == 2.0
	})

	s.poll("the window to end", 40*time.Second, func() bool {
		return s.call("hr1", "GET", "/api/v1/assessment-cycles/"+month, nil).body["status"] == "closing"
	})
	s.must(s.call("hr1", "POST", "/api/v1/appeals/"+upheld+"/decision", map[string]any{"outcome": "upheld", "corrected_score": 80.0, "reason": "two appliances, two repairs"}), 200, "uphold")
	s.must(s.call("hr1", "POST", "/api/v1/appeals/"+rejected+"/decision", map[string]any{"outcome": "rejected", "reason": "the repeat was agent4's repair"}), 200, "reject")
	s.must(s.call("head1", "POST", "/api/v1/appeals/"+lapsed+"/decision", map[string]any{"outcome": "rejected", "reason": "a recall still counts as a repeat"}), 200, "reject the lapsed one (skip-level)")
	var cyc response
	s.poll("the month final", 20*time.Second, func() bool {
		cyc = s.call("hr1", "GET", "/api/v1/assessment-cycles/"+month, nil)
		return cyc.body["status"] == "final"
	})
	stars, _ := cyc.body["service_stars"].([]any)
	if len(stars) != 1 || stars[0].(map[string]any)["employee_id"] != "agent2" {
		t.Fatalf("service stars: %s", cyc.raw)
	}
	for id, want := range map[string]string{upheld: "upheld", withdrawn: "withdrawn", rejected: "rejected", lapsed: "rejected"} {
		if r := s.call("hr1", "GET", "/api/v1/appeals/"+id, nil); r.body["status"] != want {
			t.Errorf("appeal %s: %s", id, r.raw)
		}
	}

	// The star's honour: the department head, HR, then HR issues it.
	star := workflows.ServiceStarNominationNo(month, "agent2")
	s.poll("the star's nomination", 10*time.Second, func() bool {
		return s.call("hr1", "GET", "/api/v1/rewards/"+star, nil).body["step"] == "manager"
	})
	s.must(s.call("head1", "POST", "/api/v1/rewards/"+star+"/approve", map[string]any{"comment": "well earned"}), 200, "star: head")
	s.must(s.call("hr1", "POST", "/api/v1/rewards/"+star+"/approve", map[string]any{}), 200, "star: hr")
	s.must(s.call("hr1", "POST", "/api/v1/rewards/"+star+"/payout", map[string]any{"issued_ref": "CERT-" + month + "-B"}), 200, "star: issue")

	// The Schedule's starter on the 1st: the month exists (final), so it finds it.
	run, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "monthly-starter-e2e", TaskQueue: "e2e-" + t.Name()},
		workflows.MonthlyCycleStarterWorkflowType, policy, "Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != month {
		t.Fatalf("starter: %q, %v", got, err)
	}

	s.saveHistory(workflows.AssessmentCycleWorkflowID(month), "", testdata("assessmentcycle_appeals_recompute.json"))
	s.saveHistory(workflows.AppealWorkflowID(workflows.AssessmentID(month, "agent3")), "", testdata("appeal_withdrawn.json"))
	s.saveHistory(workflows.AppealWorkflowID(workflows.AssessmentID(month, "agent1")), "", testdata("appeal_upheld.json"))
	s.saveHistory(workflows.AppealWorkflowID(workflows.AssessmentID(month, "agent4")), "", testdata("appeal_rejected.json"))
	s.saveHistory(workflows.AppealWorkflowID(lapsedID), "", testdata("appeal_stage1_lapsed.json"))
	s.saveHistory(workflows.RewardWorkflowID(star), "", testdata("reward_service_star_issued.json"))
	s.saveHistory(run.GetID(), run.GetRunID(), testdata("monthlycyclestarter_exists.json"))
	// Issue 13 item 5, recorded by the code with the patch: the manager
	// moves the appeal on in stage 1, so the stage-1 timer is cancelled
	// when stage 2 sets its own; each timer says what it is for.
	upheldHistory := s.saveHistory(workflows.AppealWorkflowID(workflows.AssessmentID(month, "agent1")), "", testdata("appeal_upheld_timer_cancelled.json"))
	summaries, _, cancelled := timerFacts(t, upheldHistory)
	if fmt.Sprint(summaries) != "[stage 1: ends, on to stage 2 stage 2: reminder to HR]" || cancelled != 1 {
		t.Errorf("the upheld appeal's timers %q, %d cancelled", summaries, cancelled)
	}
}

// R5.3 through HTTP: each way a nomination ends, each recorded.
func TestHistory_RewardPaths(t *testing.T) {
	s := startStack(t)
	status := func(r response, want string) {
		t.Helper()
		if r.body["status"] != want {
			t.Fatalf("want %s: %s", want, r.raw)
		}
	}
	post := func(user, no, cmd string, body map[string]any) response {
		t.Helper()
		return s.must(s.call(user, "POST", "/api/v1/rewards/"+no+"/"+cmd, body), 200, no+" "+cmd+" by "+user)
	}

	// Cash above 5,000 CNY: the head, HR, the committee, then the payment.
	s.must(s.call("manager1", "POST", "/api/v1/rewards", rewardBody("RH-COM", "agent1", "cash", 800000)), 201, "nominate RH-COM")
	post("head1", "RH-COM", "approve", map[string]any{"comment": "agreed"})
	post("hr1", "RH-COM", "approve", map[string]any{})
	status(post("committee1", "RH-COM", "approve", map[string]any{"comment": "exceptional month"}), "approved")
	status(post("hr1", "RH-COM", "payout", map[string]any{"payment_ref": "PAY-RH-COM"}), "paid")

	// An honour the head approves and HR rejects.
	s.must(s.call("manager1", "POST", "/api/v1/rewards", rewardBody("RH-REJ", "agent1", "honour", 0)), 201, "nominate RH-REJ")
	post("head1", "RH-REJ", "approve", map[string]any{})
	status(post("hr1", "RH-REJ", "reject", map[string]any{"comment": "this quarter's titles are given"}), "rejected")

	// Returned by the head, resubmitted with another amount, approved and paid.
	s.must(s.call("manager1", "POST", "/api/v1/rewards", rewardBody("RH-RET", "agent1", "cash", 50000)), 201, "nominate RH-RET")
	status(post("head1", "RH-RET", "return", map[string]any{"comment": "say what was fixed"}), "returned")
	post("manager1", "RH-RET", "resubmit", map[string]any{"amount_fen": 80000, "comment": "40 washers in a week"})
	post("head1", "RH-RET", "approve", map[string]any{})
	post("hr1", "RH-RET", "approve", map[string]any{})
	status(post("hr1", "RH-RET", "payout", map[string]any{"payment_ref": "PAY-RH-RET"}), "paid")

	// A training place withdrawn by its nominator at the HR step.
	s.must(s.call("manager1", "POST", "/api/v1/rewards", rewardBody("RH-WD", "agent1", "training", 0)), 201, "nominate RH-WD")
	post("head1", "RH-WD", "approve", map[string]any{})
	status(post("manager1", "RH-WD", "withdraw", map[string]any{"reason": "the course was cancelled"}), "withdrawn")

	for no, file := range map[string]string{
		"RH-COM": "reward_committee_paid.json", "RH-REJ": "reward_rejected.json",
		"RH-RET": "reward_returned_resubmitted.json", "RH-WD": "reward_withdrawn.json",
	} {
		s.saveHistory(workflows.RewardWorkflowID(no), "", testdata(file))
	}
}

// R5.3's step clock from a back-dated nomination: the reconciler starts a
// nomination whose create was interrupted with the instant it was made
// (NominatedAt), so a late start finds step 1's reminder, or its deadline,
// already due. One is reminded and rejected by the head; one is escalated
// at once, then approved and its training place issued.
func TestHistory_RewardReconciledLate(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	cal := calendar.New(sh, nil)
	now := time.Now()
	// Reminded: a nomination made when step 1's reminder (2 working days)
	// has passed but not its deadline (3).
	var reminded time.Time
	for d := 1; d < 20 && reminded.IsZero(); d++ {
		n := now.AddDate(0, 0, -d)
		if !now.Before(cal.AddWorkingDays(n, 2)) && now.Before(cal.AddWorkingDays(n, 3)) {
			reminded = n
		}
	}
	if reminded.IsZero() {
		t.Fatal("no nomination instant between reminder and deadline")
	}
	q := db.New(s.pool)
	for _, r := range []struct {
		no, kind string
		at       time.Time
	}{{"RH-LATE-1", "honour", reminded}, {"RH-LATE-2", "training", now.AddDate(0, 0, -10)}} {
		hash := sha256.Sum256([]byte(r.no))
		if _, err := q.InsertRewardIntake(ctx, db.InsertRewardIntakeParams{NominationNo: r.no, RequestHash: hash[:], NomineeID: "agent1",
			NominatorID: "manager1", Kind: r.kind, Reason: "fixed 40 washers in a week", CreatedAt: r.at}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.srv.ReconcileOnce(ctx, time.Second); err != nil || n != 2 {
		t.Fatalf("reconcile: %d, %v", n, err)
	}
	events := func(no string) []string {
		var out []string
		for _, e := range s.call("hr1", "GET", "/api/v1/rewards/"+no, nil).body["events"].([]any) {
			out = append(out, e.(map[string]any)["type"].(string))
		}
		return out
	}
	s.poll("reminded and escalated", 10*time.Second, func() bool {
		return slices.Contains(events("RH-LATE-1"), "reminder") && slices.Contains(events("RH-LATE-2"), "escalated")
	})
	if e := events("RH-LATE-1"); slices.Contains(e, "escalated") {
		t.Errorf("RH-LATE-1 escalated before its deadline: %v", e)
	}
	s.must(s.call("head1", "POST", "/api/v1/rewards/RH-LATE-1/reject", map[string]any{"comment": "too late for this month's titles"}), 200, "reject")
	s.must(s.call("head1", "POST", "/api/v1/rewards/RH-LATE-2/approve", map[string]any{}), 200, "head")
	s.must(s.call("hr1", "POST", "/api/v1/rewards/RH-LATE-2/approve", map[string]any{}), 200, "hr")
	s.must(s.call("hr1", "POST", "/api/v1/rewards/RH-LATE-2/payout", map[string]any{"issued_ref": "TRAIN-7"}), 200, "issue")
	s.saveHistory(workflows.RewardWorkflowID("RH-LATE-1"), "", testdata("reward_reconciled_reminded.json"))
	s.saveHistory(workflows.RewardWorkflowID("RH-LATE-2"), "", testdata("reward_reconciled_overdue.json"))
}

// timerFacts is what a history says of its timers (issue 13 item 5): the
// summary of each one started, how many fired and how many were cancelled.
func timerFacts(t *testing.T, h *historypb.History) (summaries []string, fired, cancelled int) {
	t.Helper()
	for _, e := range h.Events {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			summaries = append(summaries, summaryOf(t, e))
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			fired++
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			cancelled++
		}
	}
	return summaries, fired, cancelled
}

// summaryOf is an event's user metadata summary ("" when none).
func summaryOf(t *testing.T, e *historypb.HistoryEvent) string {
	t.Helper()
	p := e.GetUserMetadata().GetSummary()
	if p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// resultOf decodes a closed run's result (its last event's).
func resultOf(t *testing.T, h *historypb.History, into any) {
	t.Helper()
	last := h.Events[len(h.Events)-1]
	if err := converter.GetDefaultDataConverter().FromPayloads(last.GetWorkflowExecutionCompletedEventAttributes().GetResult(), into); err != nil {
		t.Fatal(err)
	}
}

// R3, issue 13 item 5: every command that moves the next clock action
// cancels the timer it made moot (contact, plan, pause, the extension: the
// resolution warning moves with the deadline, resolve); the reassignment
// and the survey move nothing and keep theirs; each timer says what it is
// for; only the close fires. The workflow has its static
// summary. Started as the HTTP create starts it.
func TestHistory_ComplaintTimersCancelled(t *testing.T) {
	received := time.Now()
	hist, _ := recordComplaintHistory(t, complaintRecording{no: "H-TC", received: received, file: testdata("complaint_timers_cancelled.json"), withStart: true,
		reopenWithin: 5 * time.Second,
		steps: []complaintUpdate{
			{workflows.UpdateContact, workflows.ContactInput{Actor: "agent1", Note: "called"}, nil},
			{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent1", Plan: "swap the pump"}, nil},
			{workflows.UpdatePause, workflows.PauseInput{Actor: "agent1", Reason: "waiting for the customer's photos"}, nil},
			{workflows.UpdateResume, workflows.ResumeInput{Actor: "agent1"}, nil},
			{workflows.UpdateExtend, workflows.ExtendInput{Actor: "officer1", Clock: workflows.ClockResolution,
				DueAt: received.Add(20 * 24 * time.Hour).Truncate(time.Second), Reason: "the pump is on back order"}, nil},
			{workflows.UpdateReassign, workflows.ReassignInput{Actor: "officer1", AssigneeID: "agent2", TeamID: "team-b",
				ManagerID: "head1", HeadID: "head1", Reason: "agent1 on leave"}, nil},
			{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent2", Resolution: "pump swapped"}, nil},
			{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent2", Ratings: workflows.Ratings{Attitude: 5, Speed: 4, Quality: 5, Parts: 3, Cost: 4}}, nil},
		}})
	summaries, fired, cancelled := timerFacts(t, hist)
	want := "[contact: warning plan: warning resolution: warning resolution: warning resolution: warning close: the reopen window ends]"
	if fmt.Sprint(summaries) != want || fired != 1 || cancelled != 5 {
		t.Errorf("timers %q, %d fired, %d cancelled; want %s, 1 (the close), 5", summaries, fired, cancelled, want)
	}
	if s := summaryOf(t, hist.Events[0]); !strings.HasPrefix(s, "Complaint H-TC: assigned to agent1") {
		t.Errorf("static summary %q", s)
	}
}

// R3, issue 13 item 2: a complaint with a small history budget continues
// as new after a few extensions, and the next run takes the rest of the
// commands (sent by workflow ID, as the HTTP layer sends them) to the
// close, with the whole audit trail. Both runs are recorded.
func TestHistory_ComplaintContinuedAsNew(t *testing.T) {
	received := time.Now()
	var steps []complaintUpdate
	for i := 1; i <= 4; i++ {
		steps = append(steps, complaintUpdate{workflows.UpdateExtend, workflows.ExtendInput{Actor: "officer1", Clock: workflows.ClockResolution,
			DueAt: received.Add(time.Duration(10+i) * 24 * time.Hour).Truncate(time.Second), Reason: fmt.Sprintf("parts, week %d", i)}, nil})
	}
	steps = append(steps,
		complaintUpdate{workflows.UpdateContact, workflows.ContactInput{Actor: "agent1", Note: "called"}, nil},
		complaintUpdate{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent1", Plan: "new drum"}, nil},
		complaintUpdate{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent1", Resolution: "drum replaced"}, nil},
		complaintUpdate{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent1", Ratings: workflows.Ratings{Attitude: 4, Speed: 3, Quality: 5, Parts: 3, Cost: 4}}, nil},
	)
	const budget = 45 // the first run reaches it after five or so commands; the second closes below it
	first, last := recordComplaintHistory(t, complaintRecording{no: "H-CAN", received: received, withStart: true, budget: budget,
		file: testdata("complaint_continued_first_run.json"), nextFile: testdata("complaint_continued_last_run.json"), steps: steps})
	if first == last || first.Events[len(first.Events)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
		t.Fatal("the complaint did not continue as new")
	}
	// It continues at the first safe point past the budget: after the
	// command whose task began beyond it.
	if n := len(first.Events); n > budget+15 {
		t.Errorf("the first run has %d events: it went on %d past its budget of %d", n, n-budget, budget)
	}
	var next workflows.ComplaintInput
	if err := converter.GetDefaultDataConverter().FromPayloads(last.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput(), &next); err != nil {
		t.Fatal(err)
	}
	if next.Carried == nil || next.Carried.Run != 1 || next.ComplaintNo != "H-CAN" {
		t.Fatalf("the last run's input: %+v", next)
	}
	var final workflows.ComplaintState
	resultOf(t, last, &final)
	extended := 0
	for i, e := range final.Events {
		if e.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
		if e.Type == workflows.EventExtended {
			extended++
		}
	}
	if final.Status != workflows.StatusClosed || extended != 4 || final.Events[0].Type != workflows.EventReceived || len(final.Escalations) != 0 {
		t.Errorf("final: %s, %d extended, %d escalations, first event %s", final.Status, extended, len(final.Escalations), final.Events[0].Type)
	}
}

// R5.3, issue 13 items 2 and 5: a nomination with a small history budget,
// returned and resubmitted round after round, continues as new; the next
// run takes the last round to the payout. Its step timers say which step
// and what, and an approval cancels the step's timer. Both runs recorded.
func TestHistory_RewardContinuedAsNew(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	const no = "RH-CAN"
	hash := sha256.Sum256([]byte(no))
	nominated := time.Now().Truncate(time.Second)
	if _, err := db.New(s.pool).InsertRewardIntake(ctx, db.InsertRewardIntakeParams{NominationNo: no, RequestHash: hash[:], NomineeID: "agent1",
		NominatorID: "manager1", Kind: "honour", Reason: "fixed 40 washers in a week", CreatedAt: nominated}); err != nil {
		t.Fatal(err)
	}
	in := workflows.RewardInput{NominationNo: no, NomineeID: "agent1", NominatorID: "manager1", Kind: workflows.KindHonour,
		Reason: "fixed 40 washers in a week", HeadID: "head1", NominatedAt: nominated, Policy: workflows.DefaultRewardPolicy(),
		Location: "Asia/Shanghai", HistoryBudget: 50}
	run, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.RewardWorkflowID(no), TaskQueue: "e2e-" + t.Name(),
		StaticSummary: in.StaticSummary(), StaticDetails: in.StaticDetails()}, workflows.RewardWorkflowType, in)
	if err != nil {
		t.Fatal(err)
	}
	update := func(name string, arg any) {
		t.Helper()
		h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: name,
			Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	head := workflows.RewardDecisionInput{Actor: "head1", ActorRoles: []string{"manager"}}
	for round := 1; round <= 3; round++ {
		if round > 1 {
			update(workflows.UpdateResubmit, workflows.ResubmitInput{Actor: "manager1", Comment: "more detail"})
		}
		update(workflows.UpdateApprove, head)
		update(workflows.UpdateReturn, workflows.RewardDecisionInput{Actor: "hr1", ActorRoles: []string{"hr"}, Comment: "attach the letter"})
	}
	update(workflows.UpdateResubmit, workflows.ResubmitInput{Actor: "manager1", Comment: "letter attached"})
	update(workflows.UpdateApprove, head)
	update(workflows.UpdateApprove, workflows.RewardDecisionInput{Actor: "hr1", ActorRoles: []string{"hr"}})
	update(workflows.UpdatePayout, workflows.PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, IssuedRef: "CERT-CAN"})
	// The HTTP answer comes from the last run.
	r := s.must(s.call("hr1", "GET", "/api/v1/rewards/"+no, nil), 200, "get")
	if r.body["status"] != "paid" || r.body["round"] != 4.0 || len(r.body["approvals"].([]any)) != 5 {
		t.Fatalf("reward: %s", r.raw)
	}
	first := s.saveHistory(run.GetID(), run.GetRunID(), testdata("reward_continued_first_run.json"))
	last := s.saveHistory(run.GetID(), "", testdata("reward_continued_last_run.json"))
	if first.Events[len(first.Events)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW || len(last.Events) == len(first.Events) {
		t.Fatal("the reward did not continue as new")
	}
	summaries, _, cancelled := timerFacts(t, first)
	for _, s := range summaries {
		if !strings.HasPrefix(s, "step ") || !strings.HasSuffix(s, ": reminder") {
			t.Errorf("a step timer's summary %q", s)
		}
	}
	if len(summaries) == 0 || cancelled == 0 {
		t.Errorf("first run's timers %q, %d cancelled", summaries, cancelled)
	}
	var final workflows.RewardState
	resultOf(t, last, &final)
	for i, e := range final.Events {
		if e.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
	}
}
