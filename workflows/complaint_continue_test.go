package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// continuedInput is the next run's input of a run that continued as new.
func continuedInput(t *testing.T, env *testsuite.TestWorkflowEnvironment, into any) {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("the run did not end")
	}
	var next *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &next) {
		t.Fatalf("the run ended with %v, want it continued as new", err)
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(next.Input, into); err != nil {
		t.Fatal(err)
	}
}

// comparable is st without what depends on the instant asked (as_of,
// remaining seconds), as JSON.
func comparable(t *testing.T, st ComplaintState) string {
	t.Helper()
	st.AsOf = time.Time{}
	for i := range st.Clocks {
		st.Clocks[i].RemainingSeconds = 0
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// R3, issue 13 item 2: a complaint driven past its history budget by many
// commands (an officer extending the resolution deadline again and again)
// continues as new at a safe point with its whole state: the next run
// answers the same query, takes later commands, fires the pending level 2
// once, proposes no second deduction, repeats no notice, numbers its
// events on, and closes.
func TestR3_ContinuesAsNewPastItsHistoryBudget(t *testing.T) {
	const budget, perCommand = 100, 10 // history events: the budget, and what each command is made to add
	h := newHarness(t, monday)
	h.in.HistoryBudget = budget
	h.ok(time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "called"})
	// The plan clock warns at 36 h and misses at 48 h (level 1 and the
	// deduction); its level 2 is due Fri 00:00, after the boundary.
	h.ok(50*time.Hour, UpdatePause, PauseInput{Actor: "agent1", Reason: "waiting for the customer"})
	extends := budget / perCommand
	var last ComplaintState
	for i := 1; i <= extends; i++ {
		at := 50*time.Hour + time.Duration(i)*time.Minute
		h.ok(at, UpdateExtend, ExtendInput{Actor: "officer1", Clock: ClockResolution,
			DueAt: time.Date(2026, 3, 12+i, 0, 0, 0, 0, shanghai), Reason: fmt.Sprintf("parts, %d", i)}, func(st ComplaintState) { last = st })
		// The history as a real server would have it after the command.
		h.at(at+30*time.Second, func() { h.env.SetCurrentHistoryLength(i * perCommand) })
	}
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
	var in ComplaintInput
	continuedInput(t, h.env, &in)
	boundary := h.env.Now()
	if in.Carried == nil || in.ComplaintNo != "C-1" || in.HistoryBudget != budget || !in.ReceivedAt.Equal(monday) {
		t.Fatalf("next input: %+v", in)
	}
	if n := len(eventsOf(last, EventExtended)); n != extends {
		t.Fatalf("%d extends before the boundary, want %d", n, extends)
	}
	firstRun := h.rec

	// The next run, as the server would start it from that input.
	h2 := newHarness(t, boundary)
	h2.in = in
	h2.in.HistoryBudget = 0 // the default: no second boundary
	h2.at(time.Second, func() {
		if got, want := comparable(t, h2.query()), comparable(t, last); got != want {
			t.Errorf("state across the boundary:\n got %s\nwant %s", got, want)
		}
		// What only a recalculation shows (R2): each clock's base, and that
		// the extended resolution deadline is an officer's decision it keeps.
		p := DefaultSLAPolicy()
		p.PlanWithin, p.ResolutionWorkingDays = Duration(72*time.Hour), 5
		changes := h2.preview(RecalculateInput{Policy: &p})
		if len(changes) != 1 || changes[0].Clock != ClockPlan || !changes[0].NewDueAt.Equal(monday.Add(72*time.Hour)) {
			t.Errorf("recalculation preview after the boundary: %+v, want the plan clock only, to receipt + 72 h", changes)
		}
	})
	level2 := time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai) // the end of Thu, the working day after the miss (R3)
	h2.ok(level2.Add(time.Hour).Sub(boundary), UpdateResume, ResumeInput{Actor: "agent1"})
	h2.ok(level2.Add(2*time.Hour).Sub(boundary), UpdatePlan, PlanInput{Actor: "agent1", Plan: "swap"})
	h2.ok(level2.Add(3*time.Hour).Sub(boundary), UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "swapped"})
	h2.ok(level2.Add(4*time.Hour).Sub(boundary), UpdateSurvey, SurveyInput{Actor: "agent1", Ratings: Ratings{Attitude: 4, Speed: 4, Quality: 4, Parts: 4, Cost: 4}})
	h2.run()
	var final ComplaintState
	if err := h2.env.GetWorkflowResult(&final); err != nil {
		t.Fatal(err)
	}
	if final.Status != StatusClosed || len(eventsOf(final, EventReceived)) != 1 || len(eventsOf(final, EventExtended)) != extends {
		t.Errorf("final: status %s, %d received, %d extended", final.Status, len(eventsOf(final, EventReceived)), len(eventsOf(final, EventExtended)))
	}
	for i, e := range final.Events {
		if e.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
	}
	var ids []string
	for _, e := range final.Escalations {
		ids = append(ids, e.ID)
	}
	if fmt.Sprint(ids) != "[C-1.plan.1 C-1.plan.2]" {
		t.Errorf("escalations %v, want the plan's level 1 (first run) and level 2 (second run)", ids)
	}
	if len(firstRun.deductions)+len(h2.rec.deductions) != 1 || len(h2.rec.surveys) != 1 {
		t.Errorf("deductions %d + %d, surveys %d", len(firstRun.deductions), len(h2.rec.deductions), len(h2.rec.surveys))
	}
	keys := map[string]bool{}
	for _, n := range append(firstRun.notifications, h2.rec.notifications...) {
		if keys[n.Key] {
			t.Errorf("notice %s sent in both runs", n.Key)
		}
		keys[n.Key] = true
	}
	if !keys["C-1/plan/escalation/2/0"] || len(h2.rec.escalations) != 1 {
		t.Errorf("the second run's escalations: %+v", h2.rec.escalations)
	}
}

// R3, issue 13 item 2: the server's suggestion alone continues a run, at
// once when nothing is in flight.
func TestR3_ContinuesAsNewWhenTheServerSuggests(t *testing.T) {
	h := newHarness(t, monday)
	h.ok(time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "called"})
	h.at(2*time.Hour, func() { h.env.SetContinueAsNewSuggested(true) })
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
	var in ComplaintInput
	continuedInput(t, h.env, &in)
	if in.Carried == nil || len(in.Carried.Events) != 2 || in.Carried.Clocks[0].MetAt == nil || in.Carried.Run != 1 {
		t.Errorf("carried: %+v", in.Carried)
	}
}
