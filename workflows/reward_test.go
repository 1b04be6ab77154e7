package workflows

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

type rewardFakes struct {
	mu      sync.Mutex
	records []RewardRecord
	notices []RewardNotice
}

func (f *rewardFakes) payouts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range f.records {
		if r.Payout != nil {
			seen[r.Payout.NominationNo] = true
		}
	}
	return len(seen)
}

func (f *rewardFakes) count(kind string) int {
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

type rewardHarness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	f       *rewardFakes
	in      RewardInput
	pending int
	at      time.Duration // the next update's offset
}

func newRewardHarness(t *testing.T, kind RewardKind, amount int64) *rewardHarness {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(tuesday)
	f := &rewardFakes{}
	env.RegisterWorkflowWithOptions(RewardApproval, workflow.RegisterOptions{Name: RewardWorkflowType})
	env.RegisterActivityWithOptions(func(_ context.Context, r RewardRecord) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.records = append(f.records, r)
		return nil
	}, activity.RegisterOptions{Name: ActivityRecordReward})
	env.RegisterActivityWithOptions(func(_ context.Context, n RewardNotice) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.notices = append(f.notices, n)
		return nil
	}, activity.RegisterOptions{Name: ActivityNotifyReward})
	return &rewardHarness{t: t, env: env, f: f, at: time.Hour, in: RewardInput{
		NominationNo: "N-1", NomineeID: "agent1", NominatorID: "manager1", Kind: kind, AmountFen: amount,
		Reason: "saved a key account", HeadID: "head1", NominatedAt: tuesday, Policy: DefaultRewardPolicy(), Location: "Asia/Shanghai",
	}}
}

// send schedules an update one minute after the previous one.
func (h *rewardHarness) send(name string, arg any, check func(RewardState, error)) {
	h.at += time.Minute
	h.pending++
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { h.pending--; check(RewardState{}, err) },
			OnComplete: func(v any, err error) {
				h.pending--
				st, _ := v.(RewardState)
				check(st, err)
			},
		}, arg)
	}, h.at)
}

func (h *rewardHarness) ok(name string, arg any, checks ...func(RewardState)) {
	h.send(name, arg, func(st RewardState, err error) {
		if err != nil {
			h.t.Errorf("%s %+v: %v", name, arg, err)
			return
		}
		for _, c := range checks {
			c(st)
		}
	})
}

func (h *rewardHarness) refused(what, name string, arg any, typ string) {
	h.send(name, arg, func(_ RewardState, err error) {
		if !IsRejection(err, typ) {
			h.t.Errorf("%s: got %v, want a %s rejection", what, err, typ)
		}
	})
}

func approve(actor string, roles ...string) RewardDecisionInput {
	return RewardDecisionInput{Actor: actor, ActorRoles: roles, Comment: "ok"}
}

func (h *rewardHarness) expectStep(want Step) func(RewardState) {
	return func(st RewardState) {
		if st.Step == nil || *st.Step != want {
			h.t.Errorf("step %v, want %s", st.Step, want)
		}
	}
}

func (h *rewardHarness) run() RewardState {
	h.t.Helper()
	h.env.ExecuteWorkflow(RewardWorkflowType, h.in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("reward did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatal(err)
	}
	if h.pending != 0 {
		h.t.Fatalf("%d update checks never ran", h.pending)
	}
	var st RewardState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

// R5.3: the full path, with the committee step only where R5.3 asks for it:
// cash of exactly 5,000.00 CNY has none, 5,000.01 CNY and a promotion have it.
func TestR5_FullPathWithAndWithoutCommittee(t *testing.T) {
	for _, tc := range []struct {
		kind      RewardKind
		amount    int64
		committee bool
		ref       PayoutInput
	}{
		{KindCash, 500000, false, PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, PaymentRef: "PAY-1"}},
		{KindCash, 500001, true, PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, PaymentRef: "PAY-2"}},
		{KindPromotion, 0, true, PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, IssuedRef: "PROMO-7"}},
	} {
		t.Run(fmt.Sprintf("%s_%d", tc.kind, tc.amount), func(t *testing.T) {
			h := newRewardHarness(t, tc.kind, tc.amount)
			h.ok(UpdateApprove, approve("head1", "manager"), h.expectStep(StepHR))
			if tc.committee {
				h.ok(UpdateApprove, approve("hr1", "hr"), h.expectStep(StepCommittee))
				h.ok(UpdateApprove, approve("committee1", "committee"), func(st RewardState) {
					if st.Status != RewardApproved || *st.Step != StepPayout {
						t.Errorf("after committee: %s %v", st.Status, st.Step)
					}
				})
			} else {
				h.ok(UpdateApprove, approve("hr1", "hr"), func(st RewardState) {
					if st.Status != RewardApproved || *st.Step != StepPayout || st.NeedsCommittee {
						t.Errorf("after hr: %s %v committee %v", st.Status, st.Step, st.NeedsCommittee)
					}
				})
			}
			h.ok(UpdatePayout, tc.ref)
			// A second payout meets an ended workflow; the HTTP layer answers 409 (e2e).
			st := h.run()
			if st.Status != RewardPaid || st.Step != nil || h.f.payouts() != 1 {
				t.Errorf("end: %s step %v payouts %d", st.Status, st.Step, h.f.payouts())
			}
			if want := map[bool]int{false: 2, true: 3}[tc.committee]; len(st.Approvals) != want {
				t.Errorf("approvals %+v, want %d", st.Approvals, want)
			}
		})
	}
}

// R5.3: a reject at each step ends it, with a reason.
func TestR5_RejectAtEachStep(t *testing.T) {
	for _, step := range []Step{StepManager, StepHR, StepCommittee} {
		t.Run(string(step), func(t *testing.T) {
			h := newRewardHarness(t, KindPromotion, 0)
			who := map[Step]RewardDecisionInput{StepManager: approve("head1", "manager"), StepHR: approve("hr1", "hr"), StepCommittee: approve("committee1", "committee")}
			for _, s := range []Step{StepManager, StepHR, StepCommittee} {
				if s == step {
					break
				}
				h.ok(UpdateApprove, who[s])
			}
			no := who[step]
			no.Comment = ""
			h.refused("reject without a reason", UpdateReject, no, ErrInvalidInput)
			no.Comment = "not this quarter"
			h.ok(UpdateReject, no)
			if st := h.run(); st.Status != RewardRejected || st.Step != nil {
				t.Errorf("end %s %v", st.Status, st.Step)
			}
		})
	}
}

// R5.3: return to the nominator, resubmit with changes (now above the
// threshold: the committee step joins), approve to the end; withdraw.
func TestR5_ReturnResubmitAndWithdraw(t *testing.T) {
	h := newRewardHarness(t, KindCash, 100000)
	h.ok(UpdateApprove, approve("head1", "manager"))
	h.ok(UpdateReturn, RewardDecisionInput{Actor: "hr1", ActorRoles: []string{"hr"}, Comment: "attach the customer's letter"}, func(st RewardState) {
		if st.Status != RewardReturned || st.Step != nil {
			t.Errorf("after return %s %v", st.Status, st.Step)
		}
	})
	h.refused("someone else resubmits", UpdateResubmit, ResubmitInput{Actor: "hr1"}, ErrConflict)
	amount := int64(800000)
	h.ok(UpdateResubmit, ResubmitInput{Actor: "manager1", AmountFen: &amount, Comment: "letter attached"}, func(st RewardState) {
		if st.Status != RewardPending || *st.Step != StepManager || st.Round != 2 || !st.NeedsCommittee {
			t.Errorf("after resubmit %+v", st)
		}
	})
	h.ok(UpdateApprove, approve("head1", "manager"))
	h.ok(UpdateApprove, approve("hr1", "hr"), h.expectStep(StepCommittee))
	h.refused("withdraw by another", UpdateWithdraw, WithdrawInput{Actor: "hr1", Reason: "r"}, ErrConflict)
	h.ok(UpdateWithdraw, WithdrawInput{Actor: "manager1", Reason: "nominee left the company"})
	if st := h.run(); st.Status != RewardWithdrawn || h.f.payouts() != 0 {
		t.Errorf("end %s", st.Status)
	}
}

// R5.3: each step has 3 working days with a reminder (after 2) and one
// escalation at the deadline; the next step gets its own clock.
func TestR5_StepDeadlineEscalatesOnce(t *testing.T) {
	h := newRewardHarness(t, KindHonour, 0)
	// Nominated Tue 3 March 10:00: reminder Fri 6 00:00, deadline Sat 7 00:00.
	reminder := time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai).Sub(tuesday)
	deadline := time.Date(2026, 3, 7, 0, 0, 0, 0, shanghai).Sub(tuesday)
	probe := func(at time.Duration, what string, ok func() bool) {
		h.env.RegisterDelayedCallback(func() {
			if !ok() {
				t.Errorf("+%s: %s", at, what)
			}
		}, at)
	}
	probe(reminder-time.Second, "reminded early", func() bool { return h.f.count("reminder") == 0 })
	probe(reminder+time.Second, "no reminder", func() bool { return h.f.count("reminder") == 1 })
	probe(deadline-time.Second, "escalated early", func() bool { return h.f.count("escalation") == 0 })
	probe(deadline+time.Second, "no escalation", func() bool { return h.f.count("escalation") == 1 })
	probe(deadline+72*time.Hour, "escalated twice", func() bool { return h.f.count("escalation") == 1 })
	h.at = deadline + 96*time.Hour
	h.ok(UpdateApprove, approve("head1", "manager"), func(st RewardState) {
		// The HR step starts Wed 11 March 00:01: 3 working days Thu, Fri, Mon -> Tue 17 00:00.
		if want := time.Date(2026, 3, 17, 0, 0, 0, 0, shanghai); st.DueAt == nil || !st.DueAt.Equal(want) {
			t.Errorf("hr step due %v, want %s", st.DueAt, want)
		}
	})
	h.ok(UpdateApprove, approve("hr1", "hr"))
	h.ok(UpdatePayout, PayoutInput{Actor: "hr1", ActorRoles: []string{"hr"}, IssuedRef: "CERT-1"})
	if st := h.run(); st.Status != RewardPaid || h.f.count("escalation") != 1 {
		t.Errorf("end %s escalations %d", st.Status, h.f.count("escalation"))
	}
}

// R5.3 four eyes: every violation is rejected by the validator, so nothing
// enters history.
func TestR5_FourEyesViolationsRejected(t *testing.T) {
	h := newRewardHarness(t, KindPromotion, 0)
	h.in.NominatorID = "hr9" // an HR user nominates
	h.refused("the nominee approves", UpdateApprove, approve("agent1", "manager"), ErrConflict)
	h.refused("not the department head", UpdateApprove, approve("manager2", "manager"), ErrConflict)
	h.refused("payout before approval", UpdatePayout, PayoutInput{Actor: "hr1", ActorRoles: []string{"hr"}, IssuedRef: "X"}, ErrConflict)
	h.ok(UpdateApprove, approve("head1", "manager"))
	h.refused("the nominator approves the HR step", UpdateApprove, approve("hr9", "hr"), ErrConflict)
	h.refused("the head approves a second step", UpdateApprove, approve("head1", "hr", "manager"), ErrConflict)
	h.refused("without the role", UpdateApprove, approve("committee1", "committee"), ErrConflict)
	h.ok(UpdateApprove, approve("boss", "hr", "committee"))
	h.refused("one person, two steps", UpdateApprove, approve("boss", "hr", "committee"), ErrConflict)
	h.ok(UpdateApprove, approve("committee1", "committee"))
	st := h.run2()
	var types []string
	for _, e := range st.Events {
		types = append(types, e.Type)
	}
	want := "[nominated step:manager approved:manager step:hr approved:hr step:committee approved:committee step:payout]"
	if fmt.Sprint(types) != want {
		t.Errorf("events %v", types)
	}
}

// run2 ends an open-ended test (a reward left waiting for its payout).
func (h *rewardHarness) run2() RewardState {
	h.t.Helper()
	var st RewardState
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryReward)
		if err == nil {
			_ = v.Get(&st)
		}
		h.env.CancelWorkflow()
	}, h.at+time.Minute)
	h.env.ExecuteWorkflow(RewardWorkflowType, h.in)
	if h.pending != 0 {
		h.t.Fatalf("%d update checks never ran", h.pending)
	}
	return st
}

// R5.3: where the department head is the nominator, step 1 goes to the committee.
func TestR5_HeadNominatesCommitteeReviews(t *testing.T) {
	h := newRewardHarness(t, KindHonour, 0)
	h.in.NominatorID = "head1"
	h.refused("the head approves their own nomination", UpdateApprove, approve("head1", "manager"), ErrConflict)
	h.ok(UpdateApprove, approve("committee1", "committee"), h.expectStep(StepHR))
	h.ok(UpdateApprove, approve("hr1", "hr"))
	h.ok(UpdatePayout, PayoutInput{Actor: "hr1", ActorRoles: []string{"hr"}, IssuedRef: "CERT-2"})
	if st := h.run(); st.Status != RewardPaid {
		t.Errorf("end %s", st.Status)
	}
}
