package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/scoring"
)

// assessmentFakes stand in for the assessment's activities (mocks belong
// only in workflow unit tests) and record what they were asked.
type assessmentFakes struct {
	mu       sync.Mutex
	notices  []AppealNotice
	appeals  []AppealRecord
	cycles   []CycleRecord
	finalAt  []time.Time
	stars    []ServiceStar
	computed int
	results  []ResultRef
	// calls counts ComputeResults attempts; failCompute, when set, fails
	// the attempts it picks (a busy database: retried with backoff).
	calls       int
	failCompute func(attempt int) bool
}

func (f *assessmentFakes) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterWorkflowWithOptions(AssessmentCycle, workflow.RegisterOptions{Name: AssessmentCycleWorkflowType})
	env.RegisterWorkflowWithOptions(Appeal, workflow.RegisterOptions{Name: AppealWorkflowType})
	reg := func(fn any, name string) { env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg(func(context.Context) ([]calendar.Override, error) { return nil, nil }, ActivityCalendarOverrides)
	reg(func(context.Context, CycleInput) (ComputeResultsOutput, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls++
		if f.failCompute != nil && f.failCompute(f.calls) {
			return ComputeResultsOutput{}, errors.New("database busy")
		}
		f.computed++
		return ComputeResultsOutput{Results: f.results}, nil
	}, ActivityComputeResults)
	reg(func(_ context.Context, r CycleRecord) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.cycles = append(f.cycles, r)
		return nil
	}, ActivityRecordCycle)
	reg(func(_ context.Context, in FinalizeInput) (FinalizeOutput, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.finalAt = append(f.finalAt, in.At)
		return FinalizeOutput{Final: len(f.results), ServiceStars: f.stars}, nil
	}, ActivityFinalizeCycle)
	reg(func(_ context.Context, r AppealRecord) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.appeals = append(f.appeals, r)
		return nil
	}, ActivityRecordAppeal)
	reg(func(_ context.Context, n AppealNotice) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.notices = append(f.notices, n)
		return nil
	}, ActivityNotifyAppeal)
}

func (f *assessmentFakes) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, x := range f.notices {
		if x.Kind == kind {
			n++
		}
	}
	return n
}

func newEnv(t *testing.T, start time.Time) (*testsuite.TestWorkflowEnvironment, *assessmentFakes) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(testLogOut(), nil))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	f := &assessmentFakes{}
	f.register(env)
	return env, f
}

// updateAt sends an update at offset; check sees the answer.
func updateAt(env *testsuite.TestWorkflowEnvironment, pending *int, offset time.Duration, name string, arg any, check func(any, error)) {
	*pending++
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { *pending--; check(nil, err) },
			OnComplete: func(v any, err error) { *pending--; check(v, err) },
		}, arg)
	}, offset)
}

func appealInput(opened time.Time) AppealInput {
	return AppealInput{
		AppealID: "appeal_2026-01_agent1", AssessmentID: "2026-01_agent1", Month: "2026-01", AppellantID: "agent1",
		ManagerID: "manager1", HeadID: "head1", Reason: "two surveys belong to agent2", OpenedAt: opened, Score: 715,
		Policy: DefaultAssessmentPolicy(), Location: "Asia/Shanghai",
	}
}

func appealResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) AppealState {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("appeal did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st AppealState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// Tuesday 2026-03-03 10:00: a fortnight with no holidays.
var tuesday = time.Date(2026, 3, 3, 10, 0, 0, 0, shanghai)

// R6: stage 1 ends after 2 working days (Wed, Thu -> Fri 00:00); stage 2 is
// then decided in time: upheld with the corrected score, no reminder, no escalation.
func TestR6_AppealDecidedInTime(t *testing.T) {
	env, f := newEnv(t, tuesday)
	pending := 0
	stage2 := time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai)
	env.RegisterDelayedCallback(func() {
		v, _ := env.QueryWorkflow(QueryAppeal)
		var st AppealState
		_ = v.Get(&st)
		// Stage 2 started Fri 00:00 (a working day): 5 working days Mon..Fri -> Sat 14 00:00.
		if st.Stage != 2 || !st.DueAt.Equal(time.Date(2026, 3, 14, 0, 0, 0, 0, shanghai)) {
			t.Errorf("after stage 1: stage %d due %s", st.Stage, st.DueAt)
		}
	}, stage2.Sub(tuesday)+time.Second)
	updateAt(env, &pending, stage2.Sub(tuesday)+time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "hr1", Outcome: AppealUpheld, CorrectedScore: ptr(scoring.Tenths(785)), Reason: "surveys reassigned"},
		func(v any, err error) {
			if err != nil {
				t.Errorf("decision: %v", err)
			}
		})
	env.ExecuteWorkflow(AppealWorkflowType, appealInput(tuesday))
	st := appealResult(t, env)
	if st.Status != AppealUpheld || st.CorrectedScore == nil || *st.CorrectedScore != 785 || st.OriginalScore != 715 {
		t.Errorf("result %+v", st)
	}
	if f.count("reminder") != 0 || f.count("escalation") != 0 || f.count("outcome") != 1 {
		t.Errorf("notices %+v", f.notices)
	}
	last := f.appeals[len(f.appeals)-1]
	if last.Decision == nil || last.Decision.Outcome != AppealUpheld {
		t.Errorf("the upheld decision was not recorded: %+v", last)
	}
	if pending != 0 {
		t.Fatal("an update check never ran")
	}
}

// R6: the employee accepts the explanation in stage 1: withdrawn.
func TestR6_AcceptExplanationWithdraws(t *testing.T) {
	env, f := newEnv(t, tuesday)
	pending := 0
	updateAt(env, &pending, time.Hour, UpdateAcceptExplanation, AcceptExplanationInput{Actor: "manager1"}, func(_ any, err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("someone else accepting: %v", err)
		}
	})
	updateAt(env, &pending, 2*time.Hour, UpdateDecideAppeal, DecideAppealInput{Actor: "hr1", Outcome: AppealRejected, Reason: "r"}, func(_ any, err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("decision in stage 1: %v", err)
		}
	})
	updateAt(env, &pending, 3*time.Hour, UpdateAcceptExplanation, AcceptExplanationInput{Actor: "agent1", Note: "understood"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("accept: %v", err)
		}
	})
	env.ExecuteWorkflow(AppealWorkflowType, appealInput(tuesday))
	if st := appealResult(t, env); st.Status != AppealWithdrawn || st.Stage != 1 {
		t.Errorf("result %+v", st)
	}
	if f.count("outcome") != 1 || pending != 0 {
		t.Errorf("notices %+v pending %d", f.notices, pending)
	}
}

// R6: in stage 2 a reminder after 3 working days, and a missed deadline
// escalates to the head of HR exactly once; the appeal still waits for its decision.
func TestR6_ReminderAndMissedDeadlineEscalateOnce(t *testing.T) {
	env, f := newEnv(t, tuesday)
	pending := 0
	// Moved to stage 2 at once (Tue 11:00): reminder at the end of Fri (Sat 00:00),
	// deadline at the end of the 5th working day, Mon 10 -> Tue 11 00:00.
	updateAt(env, &pending, time.Hour, UpdateEscalateAppeal, EscalateAppealInput{Actor: "agent1", Reason: "talk did not help"}, func(v any, err error) {
		if err != nil {
			t.Errorf("escalate: %v", err)
		}
	})
	reminder := time.Date(2026, 3, 7, 0, 0, 0, 0, shanghai).Sub(tuesday)
	deadline := time.Date(2026, 3, 11, 0, 0, 0, 0, shanghai).Sub(tuesday)
	probe := func(at time.Duration, what string, ok func() bool) {
		env.RegisterDelayedCallback(func() {
			if !ok() {
				t.Errorf("+%s: %s", at, what)
			}
		}, at)
	}
	probe(reminder-time.Second, "reminded early", func() bool { return f.count("reminder") == 0 })
	probe(reminder+time.Second, "no reminder after 3 working days", func() bool { return f.count("reminder") == 1 })
	probe(deadline-time.Second, "escalated early", func() bool { return f.count("escalation") == 0 })
	probe(deadline+time.Second, "no escalation at the deadline", func() bool { return f.count("escalation") == 1 })
	updateAt(env, &pending, deadline+48*time.Hour, UpdateDecideAppeal, DecideAppealInput{Actor: "hr1", Outcome: AppealRejected, Reason: "the surveys are right"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("late decision: %v", err)
		}
	})
	env.ExecuteWorkflow(AppealWorkflowType, appealInput(tuesday))
	st := appealResult(t, env)
	if st.Status != AppealRejected || st.EscalatedAt == nil || f.count("escalation") != 1 || f.count("reminder") != 1 {
		t.Errorf("result %+v notices %+v", st, f.notices)
	}
}

// R6 with R2: a stage 2 starting Friday 13 Feb 2026 runs across the Spring
// Festival (Feb 15-23 off, Sat 14 and Sat 28 worked): working days Sat 14,
// Tue 24, Wed 25, Thu 26, Fri 27 -> deadline Sat 28 00:00.
func TestR6_Stage2AcrossSpringFestival2026(t *testing.T) {
	start := time.Date(2026, 2, 13, 9, 0, 0, 0, shanghai)
	env, _ := newEnv(t, start)
	pending := 0
	updateAt(env, &pending, time.Minute, UpdateEscalateAppeal, EscalateAppealInput{Actor: "manager1"}, func(v any, err error) {
		if err != nil {
			t.Fatalf("escalate: %v", err)
		}
		st := v.(AppealState)
		if want := time.Date(2026, 2, 28, 0, 0, 0, 0, shanghai); !st.DueAt.Equal(want) {
			t.Errorf("stage 2 due %s, want %s", st.DueAt, want)
		}
		// Reminder after 3 working days: Sat 14, Tue 24, Wed 25 -> Thu 26 00:00.
		if want := time.Date(2026, 2, 26, 0, 0, 0, 0, shanghai); st.ReminderAt == nil || !st.ReminderAt.Equal(want) {
			t.Errorf("reminder %v, want %s", st.ReminderAt, want)
		}
	})
	updateAt(env, &pending, 2*time.Minute, UpdateDecideAppeal, DecideAppealInput{Actor: "hr1", Outcome: AppealUpheld, CorrectedScore: ptr(scoring.Tenths(1001)), Reason: "r"}, func(_ any, err error) {
		if !IsRejection(err, ErrInvalidInput) {
			t.Errorf("over 100: %v", err)
		}
	})
	updateAt(env, &pending, 3*time.Minute, UpdateDecideAppeal, DecideAppealInput{Actor: "agent1", Outcome: AppealRejected, Reason: "r"}, func(_ any, err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("own decision: %v", err)
		}
	})
	updateAt(env, &pending, 4*time.Minute, UpdateDecideAppeal, DecideAppealInput{Actor: "head1", Outcome: AppealRejected, Reason: "skip-level review"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("decision: %v", err)
		}
	})
	env.ExecuteWorkflow(AppealWorkflowType, appealInput(start))
	if st := appealResult(t, env); st.Status != AppealRejected || pending != 0 {
		t.Errorf("result %+v, %d checks pending", st, pending)
	}
}

// R4.5, R6: the cycle publishes, accepts one appeal per result from its
// owner during the window, rejects appeals after it, and is final only
// after the month's appeals are decided.
func TestR4_CycleWaitsForAppealsAndRejectsLateOnes(t *testing.T) {
	start := tuesday // published Tue 10:00; window: Wed, Thu, Fri -> Sat 00:00
	env, f := newEnv(t, start)
	f.results = []ResultRef{
		{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", TeamID: "team-a", ManagerID: "manager1", Score: 715},
		{AssessmentID: "2026-02_agent2", EmployeeID: "agent2", TeamID: "team-b", Score: 880},
	}
	pending := 0
	open := func(at time.Duration, id, who string, check func(error)) {
		updateAt(env, &pending, at, UpdateOpenAppeal, OpenAppealInput{AssessmentID: id, AppellantID: who, Reason: "wrong surveys"}, func(_ any, err error) { check(err) })
	}
	open(time.Hour, "2026-02_agent1", "agent2", func(err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("appeal of another's result: %v", err)
		}
	})
	open(2*time.Hour, "2026-02_agent1", "agent1", func(err error) {
		if err != nil {
			t.Errorf("appeal: %v", err)
		}
	})
	open(3*time.Hour, "2026-02_agent1", "agent1", func(err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("second appeal on the result: %v", err)
		}
	})
	windowEnd := time.Date(2026, 3, 7, 0, 0, 0, 0, shanghai).Sub(start)
	open(windowEnd+time.Second, "2026-02_agent2", "agent2", func(err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("appeal after the window: %v", err)
		}
	})
	// The appeal goes to stage 2 and is decided on Wed 11 March: the cycle is final then, not before.
	decided := time.Date(2026, 3, 11, 15, 0, 0, 0, shanghai)
	env.RegisterDelayedCallback(func() {
		err := env.UpdateWorkflowByID(AppealWorkflowID("2026-02_agent1"), UpdateDecideAppeal, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("decision rejected: %v", err) }, OnComplete: func(any, error) {},
		}, DecideAppealInput{Actor: "hr1", Outcome: AppealUpheld, CorrectedScore: ptr(scoring.Tenths(750)), Reason: "surveys reassigned"})
		if err != nil {
			t.Errorf("decision: %v", err)
		}
	}, decided.Sub(start))
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, CycleInput{Month: "2026-02", StartedBy: "hr1", Policy: DefaultAssessmentPolicy(), Location: "Asia/Shanghai"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st CycleState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Status != CycleFinal || st.Appeals[AppealID("2026-02_agent1")] != AppealUpheld {
		t.Errorf("cycle %+v", st)
	}
	if len(f.finalAt) != 1 || f.finalAt[0].Before(decided) {
		t.Errorf("finalized at %v, before the decision at %s", f.finalAt, decided)
	}
	if pending != 0 {
		t.Errorf("%d update checks never ran", pending)
	}
}

// R4.5: the Schedule's run on the 1st at 02:00 (Asia/Shanghai) assesses
// the previous month, under that month's cycle ID, by the assessment
// policy in force then (issue 12), keeping the Schedule's demo window.
func TestR4_MonthlyStarterPicksThePreviousMonth(t *testing.T) {
	start := time.Date(2026, 11, 1, 2, 0, 0, 0, shanghai) // still 31 Oct in UTC
	env, _ := newEnv(t, start)
	env.RegisterWorkflowWithOptions(MonthlyCycleStarter, workflow.RegisterOptions{Name: MonthlyCycleStarterWorkflowType})
	inForce := DefaultAssessmentPolicy()
	inForce.Version, inForce.PublicationWorkingDays = 4, 5
	env.RegisterActivityWithOptions(func(_ context.Context, at time.Time) (AssessmentPolicy, error) {
		if !at.Equal(start) {
			t.Errorf("policy asked for %s, want %s", at, start)
		}
		return inForce, nil
	}, activity.RegisterOptions{Name: ActivityAssessmentPolicy})
	var childID string
	var child CycleInput
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		childID = info.WorkflowExecution.ID
		if err := args.Get(&child); err != nil {
			t.Error(err)
		}
	})
	scheduled := DefaultAssessmentPolicy()
	scheduled.PublicationWindow = Duration(2 * time.Minute)
	env.ExecuteWorkflow(MonthlyCycleStarterWorkflowType, scheduled, "Asia/Shanghai")
	var month string
	if err := env.GetWorkflowResult(&month); err != nil {
		t.Fatal(err)
	}
	if month != "2026-10" || childID != AssessmentCycleWorkflowID("2026-10") {
		t.Errorf("month %s child %s", month, childID)
	}
	if child.Policy.Version != 4 || child.Policy.PublicationWorkingDays != 5 || child.Policy.PublicationWindow != scheduled.PublicationWindow {
		t.Errorf("cycle policy %+v, want version 4 with the Schedule's window", child.Policy)
	}
}

// R5.2: the cycle's seam nominates each CSI service star for an honour,
// one RewardApproval per star with a nomination number from month and employee.
func TestR5_CycleNominatesServiceStars(t *testing.T) {
	env, f := newEnv(t, tuesday)
	f.results = []ResultRef{{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", TeamID: "team-a", HeadID: "head1", Score: 950}}
	f.stars = []ServiceStar{{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", TeamID: "team-a", Score: 950}}
	// A stand-in child: the approval itself is tested in reward_test.go.
	env.RegisterWorkflowWithOptions(func(workflow.Context, RewardInput) error { return nil }, workflow.RegisterOptions{Name: RewardWorkflowType})
	var nominated []string
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		if info.WorkflowType.Name == RewardWorkflowType {
			var in RewardInput
			_ = args.Get(&in)
			nominated = append(nominated, info.WorkflowExecution.ID+" "+in.NominatorID+" "+string(in.Kind)+" "+in.HeadID)
		}
	})
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, CycleInput{Month: "2026-02", Policy: DefaultAssessmentPolicy(), Location: "Asia/Shanghai"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if want := "[reward:csi-star-2026-02-agent1 system honour head1]"; fmt.Sprint(nominated) != want {
		t.Errorf("nominated %v, want %s", nominated, want)
	}
}

// R4.0: late entries while the month is published recompute its results;
// none after the window (Tue 10:00 + 3 working days = Sat 00:00).
func TestR4_LateEntriesRecomputeWhilePublished(t *testing.T) {
	env, f := newEnv(t, tuesday)
	f.results = []ResultRef{{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", Score: 700}}
	for _, at := range []time.Duration{time.Hour, 2 * time.Hour, 10 * 24 * time.Hour} {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalRecompute, nil) }, at)
	}
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, CycleInput{Month: "2026-02", Policy: DefaultAssessmentPolicy(), Location: "Asia/Shanghai"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	// The first run, one at +1h, one at +2h; none after the window.
	if f.computed != 3 {
		t.Errorf("ComputeResults ran %d times, want 3", f.computed)
	}
}
