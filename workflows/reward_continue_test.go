package workflows

import (
	"encoding/json"
	"testing"
	"time"
)

// R5.3, issue 13 item 2: a nomination returned and resubmitted round after
// round continues as new once its history reaches the budget, between
// rounds; the next run answers the same query, and four eyes still knows
// who approved which step in the earlier run's rounds.
func TestR5_ContinuesAsNewAfterManyReturnRounds(t *testing.T) {
	const budget, perRound = 100, 25 // history events: the budget, and what a return round adds
	h := newRewardHarness(t, KindCash, 100000)
	h.in.HistoryBudget = budget
	var last RewardState
	keep := func(st RewardState) { last = st }
	rounds := budget / perRound
	for round := 1; round <= rounds; round++ {
		if round > 1 {
			h.ok(UpdateResubmit, ResubmitInput{Actor: "manager1", Comment: "more detail"})
		}
		h.ok(UpdateApprove, approve("head1", "manager"))
		h.ok(UpdateReturn, RewardDecisionInput{Actor: "hr1", ActorRoles: []string{"hr"}, Comment: "attach the customer's letter"}, keep)
		h.env.RegisterDelayedCallback(func() { h.env.SetCurrentHistoryLength(round * perRound) }, h.at+30*time.Second)
	}
	h.env.ExecuteWorkflow(RewardWorkflowType, h.in)
	if h.pending != 0 {
		t.Fatalf("%d update checks never ran", h.pending)
	}
	var in RewardInput
	continuedInput(t, h.env, &in)
	boundary := h.env.Now()
	if cr := in.Carried; cr == nil || cr.State.Round != rounds || cr.State.Status != RewardReturned || cr.Approvers[StepManager] != "head1" || cr.Run != 1 {
		t.Fatalf("carried: %+v", in.Carried)
	}

	h2 := newRewardHarness(t, KindCash, 100000)
	h2.env.SetStartTime(boundary)
	h2.in = in
	h2.in.HistoryBudget = 0
	h2.env.RegisterDelayedCallback(func() {
		v, err := h2.env.QueryWorkflow(QueryReward)
		var st RewardState
		if err != nil || v.Get(&st) != nil {
			t.Fatalf("query after the boundary: %v", err)
		}
		got, _ := json.Marshal(st)
		want, _ := json.Marshal(last)
		if string(got) != string(want) {
			t.Errorf("state across the boundary:\n got %s\nwant %s", got, want)
		}
	}, time.Second)
	h2.ok(UpdateResubmit, ResubmitInput{Actor: "manager1", Comment: "letter attached"}, func(st RewardState) {
		if st.Round != rounds+1 || st.Status != RewardPending {
			t.Errorf("after resubmit: round %d, %s", st.Round, st.Status)
		}
	})
	h2.ok(UpdateApprove, approve("head1", "manager"))
	h2.refused("the head approves a second step, across the boundary", UpdateApprove, approve("head1", "hr", "manager"), ErrConflict)
	h2.ok(UpdateApprove, approve("hr1", "hr"))
	h2.ok(UpdatePayout, PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, PaymentRef: "PAY-9"})
	st := h2.run()
	if st.Status != RewardPaid || st.Round != rounds+1 || h2.f.payouts() != 1 || len(st.Approvals) != rounds+2 {
		t.Errorf("end: %s, round %d, %d payouts, %d approvals", st.Status, st.Round, h2.f.payouts(), len(st.Approvals))
	}
	for i, e := range st.Events {
		if e.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
	}
	if st.Events[0].Type != "nominated" || countTypes(st.Events, "nominated") != 1 || countTypes(st.Events, "returned:hr") != rounds {
		t.Errorf("events: %+v", st.Events)
	}
}

func countTypes(events []Event, typ string) (n int) {
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// R5, issue 13 item 7: a reward records whole seconds: the nomination's
// instant, every event, approval, deadline and the payout.
func TestR5_TimesAreWholeSeconds(t *testing.T) {
	const frac = 137435444 * time.Nanosecond
	h := newRewardHarness(t, KindHonour, 0)
	h.in.NominatedAt = tuesday.Add(frac)
	h.env.SetStartTime(tuesday.Add(2 * frac))
	h.ok(UpdateApprove, approve("head1", "manager"))
	h.ok(UpdateApprove, approve("hr1", "hr"))
	h.ok(UpdatePayout, PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, IssuedRef: "CERT-7"})
	st := h.run()
	check := func(where string, at time.Time) {
		if at.Nanosecond() != 0 {
			t.Errorf("%s = %s: not a whole second", where, at.Format(time.RFC3339Nano))
		}
	}
	for _, e := range st.Events {
		check(e.Type, e.At)
	}
	for _, a := range st.Approvals {
		check("approval "+string(a.Step), a.At)
	}
	for _, r := range h.f.records {
		if r.State.DueAt != nil {
			check("due_at", *r.State.DueAt)
		}
		if r.Payout != nil {
			check("payout", r.Payout.At)
		}
	}
}
