package workflows

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// The cycle as the gate of late entries (R4.0 with R4.5) and its bounded
// history (issue 13). The month is February 2026; the cycle starts on
// Tuesday 3 March 10:00, so its window (3 working days) ends Sat 7 March 00:00.

var (
	lateFeb     = time.Date(2026, 2, 20, 10, 0, 0, 0, shanghai) // an instant of the month (R4.0)
	windowEnded = time.Date(2026, 3, 7, 0, 0, 0, 0, shanghai)
)

func febCycle() CycleInput {
	return CycleInput{Month: "2026-02", StartedBy: "hr1", Policy: DefaultAssessmentPolicy(), Location: "Asia/Shanghai"}
}

func lateEntry(key string) LateEntryInput {
	return LateEntryInput{Key: key, Entry: "POST /api/v1/work-orders", At: lateFeb}
}

func cycleQuery(t *testing.T, env *testsuite.TestWorkflowEnvironment) CycleState {
	t.Helper()
	v, err := env.QueryWorkflow(QueryCycle)
	if err != nil {
		t.Fatal(err)
	}
	var st CycleState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func cycleResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) CycleState {
	t.Helper()
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st CycleState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// R4.0: an entry of a published month is accepted, and the cycle answers
// only once it has recomputed the month: the answer means "counted". Past
// the window (R4.5) the cycle refuses, without recomputing; bad input is
// refused as such.
func TestR4_0_LateEntryIsCountedBeforeTheCycleAnswers(t *testing.T) {
	env, f := newEnv(t, tuesday)
	f.results = []ResultRef{{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", ManagerID: "manager1", Score: 700}}
	pending := 0
	// An appeal keeps the month closing past its window until HR decides it.
	updateAt(env, &pending, 30*time.Minute, UpdateOpenAppeal, OpenAppealInput{AssessmentID: "2026-02_agent1", AppellantID: "agent1", Reason: "r"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("appeal: %v", err)
		}
	})
	env.RegisterDelayedCallback(func() {
		if err := env.UpdateWorkflowByID(AppealWorkflowID("2026-02_agent1"), UpdateDecideAppeal, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("decision: %v", err) }, OnComplete: func(any, error) {},
		}, DecideAppealInput{Actor: "hr1", Outcome: AppealRejected, Reason: "r"}); err != nil {
			t.Error(err)
		}
	}, windowEnded.Sub(tuesday)+time.Hour)
	updateAt(env, &pending, time.Hour, UpdateLateEntry, lateEntry("k1"), func(v any, err error) {
		if err != nil {
			t.Fatalf("late entry while published: %v", err)
		}
		out := v.(LateEntryOutput)
		if !out.Counted || out.Month != "2026-02" || out.Status != CyclePublished || out.ResultsCount != 1 {
			t.Errorf("answer %+v", out)
		}
		if n := f.computes(); n != 2 {
			t.Errorf("answered after %d computes, want the first and the recompute", n)
		}
	})
	bad := lateEntry("k2")
	bad.At = time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai) // March in Shanghai
	updateAt(env, &pending, 2*time.Hour, UpdateLateEntry, bad, func(_ any, err error) {
		if !IsRejection(err, ErrInvalidInput) {
			t.Errorf("an entry of another month: %v", err)
		}
	})
	updateAt(env, &pending, 3*time.Hour, UpdateLateEntry, LateEntryInput{Key: "bad key", At: lateFeb}, func(_ any, err error) {
		if !IsRejection(err, ErrInvalidInput) {
			t.Errorf("a bad key: %v", err)
		}
	})
	updateAt(env, &pending, windowEnded.Sub(tuesday)+time.Second, UpdateLateEntry, lateEntry("k3"), func(_ any, err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("late entry after the window: %v", err)
		}
	})
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, febCycle())
	st := cycleResult(t, env)
	if st.Status != CycleFinal || st.LateEntries != 1 || st.LateEntriesPending != 0 {
		t.Errorf("cycle %+v", st)
	}
	if f.computed != 2 || pending != 0 {
		t.Errorf("ComputeResults ran %d times, want 2; %d update checks never ran", f.computed, pending)
	}
}

// R4.0: an entry that arrives while the month is still computing is
// accepted; the cycle counts it with a recompute once the results are
// published (the first compute may have read the month before the entry
// was stored).
func TestR4_0_LateEntryWhileComputingIsRecomputedAfterPublication(t *testing.T) {
	env, f := newEnv(t, tuesday)
	f.results = []ResultRef{{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", Score: 700}}
	f.failCompute = func(attempt int) bool { return attempt <= 2 } // the first compute is retried for 3 s
	pending := 0
	env.RegisterDelayedCallback(func() {
		if st := cycleQuery(t, env); st.Status != CycleComputing {
			t.Errorf("status %s, want computing", st.Status)
		}
	}, 500*time.Millisecond)
	updateAt(env, &pending, time.Second, UpdateLateEntry, lateEntry("k1"), func(v any, err error) {
		if err != nil {
			t.Fatalf("late entry while computing: %v", err)
		}
		if out := v.(LateEntryOutput); !out.Counted || out.Status != CyclePublished {
			t.Errorf("answer %+v", out)
		}
		if n := f.computes(); n != 2 {
			t.Errorf("answered after %d computes, want 2", n)
		}
	})
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, febCycle())
	if st := cycleResult(t, env); st.LateEntries != 1 || pending != 0 {
		t.Errorf("cycle %+v, %d checks pending", st, pending)
	}
}

// R4.0 with R4.5, the race: an entry accepted just before the window ends
// whose recompute is slow (the database busy: retried for 25 s) holds the
// month open across the window's end. Meanwhile the cycle is closing and
// refuses the next entry; it finalizes only after the accepted one is
// counted. Either counted or refused: never accepted and lost.
func TestR4_0_EntryAcceptedAsTheWindowEndsIsCountedBeforeFinal(t *testing.T) {
	env, f := newEnv(t, tuesday)
	f.results = []ResultRef{{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", Score: 700}}
	f.failCompute = func(attempt int) bool { return attempt >= 2 && attempt <= 6 } // the recompute: 1+2+4+8+10 s of retries
	pending := 0
	var countedAt time.Time
	end := windowEnded.Sub(tuesday)
	updateAt(env, &pending, end-10*time.Second, UpdateLateEntry, lateEntry("just-in-time"), func(v any, err error) {
		if err != nil {
			t.Fatalf("entry before the window's end: %v", err)
		}
		countedAt = env.Now()
		if out := v.(LateEntryOutput); !out.Counted || out.Status != CycleClosing {
			t.Errorf("answer %+v, want counted while closing", out)
		}
	})
	env.RegisterDelayedCallback(func() {
		st := cycleQuery(t, env)
		if st.Status != CycleClosing || st.LateEntriesPending != 1 || st.LateEntries != 0 {
			t.Errorf("at the window's end +5s: %s, %d pending, %d counted", st.Status, st.LateEntriesPending, st.LateEntries)
		}
	}, end+5*time.Second)
	updateAt(env, &pending, end+6*time.Second, UpdateLateEntry, lateEntry("too-late"), func(_ any, err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("entry after the window's end: %v", err)
		}
	})
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, febCycle())
	st := cycleResult(t, env)
	if st.Status != CycleFinal || st.LateEntries != 1 || pending != 0 {
		t.Fatalf("cycle %+v, %d checks pending", st, pending)
	}
	if !countedAt.After(windowEnded) || len(f.finalAt) != 1 || f.finalAt[0].Before(countedAt) {
		t.Errorf("counted at %s, finalized at %v: the month must stay open until the entry is counted", countedAt, f.finalAt)
	}
}

// nextRun is the input of the run a continue-as-new asks for.
func nextRun(t *testing.T, env *testsuite.TestWorkflowEnvironment) CycleInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("the run did not continue as new: %v", err)
	}
	if can.WorkflowType.Name != AssessmentCycleWorkflowType {
		t.Fatalf("continued as %s", can.WorkflowType.Name)
	}
	var in CycleInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	if in.Carried == nil {
		t.Fatal("nothing carried")
	}
	return in
}

// Issue 13 item 2 (R4.5, R6, R4.0): a run past its update budget continues
// as new at a safe point, and nothing is lost: the next run answers the
// query with the same results, appeals, counts, status and window end;
// takes late entries; refuses a second appeal on a result appealed in the
// run before; learns of that appeal's end from its signal; and finalizes
// at the original window's end.
func TestR4_5_CycleContinuesAsNewPastItsBudgetAndLosesNothing(t *testing.T) {
	results := []ResultRef{
		{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", TeamID: "team-a", ManagerID: "manager1", Score: 715},
		{AssessmentID: "2026-02_agent2", EmployeeID: "agent2", TeamID: "team-b", Score: 880},
		{AssessmentID: "2026-02_agent3", EmployeeID: "agent3", TeamID: "team-a", ManagerID: "manager1", Score: 640},
	}
	in := febCycle()
	in.Budget = CycleBudget{Updates: 2}

	// Run 1: an appeal (update 1) and a late entry (update 2): at budget.
	env, f := newEnv(t, tuesday)
	env.SetDetachedChildWait(false) // the appeal outlives the run
	f.results = results
	pending := 0
	var notified []bool
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		var a AppealInput
		if info.WorkflowType.Name == AppealWorkflowType && args.Get(&a) == nil {
			notified = append(notified, a.NotifyCycle)
		}
	})
	updateAt(env, &pending, time.Hour, UpdateOpenAppeal, OpenAppealInput{AssessmentID: "2026-02_agent1", AppellantID: "agent1", Reason: "wrong surveys"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("appeal: %v", err)
		}
	})
	updateAt(env, &pending, 2*time.Hour, UpdateLateEntry, lateEntry("run1"), func(_ any, err error) {
		if err != nil {
			t.Errorf("late entry in run 1: %v", err)
		}
	})
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, in)
	next := nextRun(t, env)
	k := next.Carried
	if pending != 0 || len(notified) != 1 || !notified[0] {
		t.Errorf("run 1: %d checks pending; appeals told to notify the cycle: %v", pending, notified)
	}
	if k.Record.Status != CyclePublished || k.Record.WindowEndsAt == nil || !k.Record.WindowEndsAt.Equal(windowEnded) ||
		len(k.Results) != 3 || k.Appeals[AppealID("2026-02_agent1")] != AppealOpen || k.Record.OpenAppeals != 1 ||
		k.LateEntries != 1 || k.Continued != 1 || next.Budget != in.Budget || next.Month != in.Month || next.Policy != in.Policy {
		t.Fatalf("carried %+v", next)
	}
	continuedAt := env.Now()
	if continuedAt.Sub(tuesday) > 3*time.Hour {
		t.Errorf("continued as new at %s, not at the first safe point past the budget", continuedAt)
	}

	// Run 2, from where run 1 stopped.
	env, f = newEnv(t, continuedAt)
	f.results = results
	env.RegisterDelayedCallback(func() {
		st := cycleQuery(t, env)
		if st.Status != CyclePublished || !st.WindowEndsAt.Equal(windowEnded) || st.ResultsCount != 3 || st.OpenAppeals != 1 ||
			st.Appeals[AppealID("2026-02_agent1")] != AppealOpen || st.LateEntries != 1 || st.ContinuedAsNew != 1 || st.PolicyVersion != 1 {
			t.Errorf("run 2 answers %+v", st)
		}
	}, time.Second)
	updateAt(env, &pending, time.Hour, UpdateLateEntry, lateEntry("run2"), func(v any, err error) {
		if err != nil || !v.(LateEntryOutput).Counted {
			t.Errorf("late entry in run 2: %v %v", v, err)
		}
	})
	updateAt(env, &pending, 90*time.Minute, UpdateOpenAppeal, OpenAppealInput{AssessmentID: "2026-02_agent1", AppellantID: "agent1", Reason: "again"}, func(_ any, err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("a second appeal on a result appealed in run 1: %v", err)
		}
	})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalAppealEnded, AppealEnded{AppealID: AppealID("2026-02_agent1"), Status: AppealWithdrawn})
	}, 2*time.Hour)
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, next)
	st := cycleResult(t, env)
	if st.Status != CycleFinal || st.Appeals[AppealID("2026-02_agent1")] != AppealWithdrawn || st.OpenAppeals != 0 ||
		st.LateEntries != 2 || st.ResultsCount != 3 || st.ContinuedAsNew != 1 || pending != 0 {
		t.Errorf("final %+v, %d checks pending", st, pending)
	}
	// The carried run neither read the calendar nor computed the month
	// afresh: one recompute, for its late entry.
	if f.computed != 1 || len(f.finalAt) != 1 || !f.finalAt[0].Equal(windowEnded) {
		t.Errorf("run 2: %d computes, finalized at %v (the window ends %s)", f.computed, f.finalAt, windowEnded)
	}
}

// Issue 13 item 2: a run whose history is past its event budget continues
// as new at its next safe point (here while published), and one the
// server suggests should continue does so while closing, an appeal still
// open: both keep the state.
func TestR4_5_CycleContinuesAsNewOnItsHistoryLength(t *testing.T) {
	in := febCycle()
	in.Budget = CycleBudget{Events: 500}
	env, f := newEnv(t, tuesday)
	env.SetDetachedChildWait(false)
	f.results = []ResultRef{{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", ManagerID: "manager1", Score: 700}}
	pending := 0
	updateAt(env, &pending, time.Hour, UpdateOpenAppeal, OpenAppealInput{AssessmentID: "2026-02_agent1", AppellantID: "agent1", Reason: "r"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("appeal: %v", err)
		}
	})
	env.RegisterDelayedCallback(func() { env.SetCurrentHistoryLength(499) }, 2*time.Hour)
	updateAt(env, &pending, 2*time.Hour+time.Minute, UpdateLateEntry, lateEntry("under"), func(_ any, err error) {
		if err != nil {
			t.Errorf("late entry under budget: %v", err)
		}
	})
	// At its budget: the run continues as new on its next workflow task.
	env.RegisterDelayedCallback(func() {
		if st := cycleQuery(t, env); st.ContinuedAsNew != 0 || st.LateEntries != 1 {
			t.Errorf("continued under its budget: %+v", st)
		}
		env.SetCurrentHistoryLength(500)
	}, 3*time.Hour)
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, in)
	next := nextRun(t, env)
	if k := next.Carried; k.Record.Status != CyclePublished || k.LateEntries != 1 || k.Appeals[AppealID("2026-02_agent1")] != AppealOpen || pending != 0 {
		t.Fatalf("carried %+v", k)
	}
	if at := env.Now().Sub(tuesday); at != 3*time.Hour {
		t.Errorf("continued as new at +%s, want +3h", at)
	}

	// The next run, past the window's end: the server suggests continuing
	// while the month waits for its appeal.
	env, _ = newEnv(t, env.Now())
	env.RegisterDelayedCallback(func() {
		env.SetContinueAsNewSuggested(true)
		env.SignalWorkflow(SignalRecompute, nil) // any event: a new workflow task
	}, windowEnded.Sub(env.Now())+time.Hour)
	env.ExecuteWorkflow(AssessmentCycleWorkflowType, next)
	last := nextRun(t, env)
	if k := last.Carried; k.Record.Status != CycleClosing || k.Record.OpenAppeals != 1 || k.LateEntries != 1 || k.Continued != 2 {
		t.Errorf("carried from closing %+v", k)
	}
}

// R6 with issue 13: an appeal opened with NotifyCycle tells its parent
// cycle's current run, by workflow ID, that it ended (the parent may have
// continued as new); one opened without it does not (as released).
func TestR6_AppealTellsItsCycleWhenItEnds(t *testing.T) {
	for _, notify := range []bool{true, false} {
		env, _ := newEnv(t, tuesday)
		parent := func(ctx workflow.Context, notify bool) (AppealEnded, error) {
			in := appealInput(workflow.Now(ctx))
			in.NotifyCycle = notify
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: AppealWorkflowID(in.AssessmentID)})
			var e AppealEnded // zero: not told
			if err := workflow.ExecuteChildWorkflow(cctx, AppealWorkflowType, in).Get(ctx, nil); err != nil {
				return e, err
			}
			workflow.GetSignalChannel(ctx, SignalAppealEnded).ReceiveAsync(&e)
			return e, nil
		}
		env.RegisterWorkflowWithOptions(parent, workflow.RegisterOptions{Name: "parent"})
		env.RegisterDelayedCallback(func() {
			if err := env.UpdateWorkflowByID(AppealWorkflowID("2026-01_agent1"), UpdateAcceptExplanation, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(err error) { t.Errorf("accept: %v", err) }, OnComplete: func(any, error) {},
			}, AcceptExplanationInput{Actor: "agent1", Note: "understood"}); err != nil {
				t.Error(err)
			}
		}, time.Hour)
		env.ExecuteWorkflow("parent", notify)
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		var got AppealEnded
		if err := env.GetWorkflowResult(&got); err != nil {
			t.Fatal(err)
		}
		switch {
		case notify && (got.AppealID != "appeal_2026-01_agent1" || got.Status != AppealWithdrawn || got.Failed):
			t.Errorf("with NotifyCycle the cycle was told %+v", got)
		case !notify && got != (AppealEnded{}):
			t.Errorf("without NotifyCycle the cycle was told %+v", got)
		}
	}
}

// computes is how many times ComputeResults succeeded so far.
func (f *assessmentFakes) computes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.computed
}

// testLogOut is where the workflow tests' logs go: WFLOG=1 shows them.
func testLogOut() io.Writer {
	if os.Getenv("WFLOG") != "" {
		return os.Stderr
	}
	return io.Discard
}
