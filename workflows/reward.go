package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/input"
)

// RewardApproval takes one nomination through the approval chain of R5.3:
// the nominee's department head (the committee instead where the head is
// the nominator or the nominee), HR, the committee for cash above the
// threshold or a promotion, then HR's payout or issue. Every step has 3
// working days, a reminder and one escalation at a missed deadline, all on
// durable timers. Approve, reject, return, resubmit, withdraw and payout are
// Updates whose validators enforce who may act, in order, with four eyes:
// neither the nominee nor the nominator approves, and nobody approves two
// steps of one reward.
func RewardApproval(ctx workflow.Context, in RewardInput) (RewardState, error) {
	cal, err := newCalendar(in.Location, in.Calendar)
	if err != nil {
		return RewardState{}, err
	}
	if in.Policy.StepWorkingDays < 1 {
		in.Policy = DefaultRewardPolicy()
	}
	w := &reward{in: in, cal: cal, log: workflow.GetLogger(ctx), approvers: map[Step]string{}, notices: notifier{log: workflow.GetLogger(ctx)}}
	if in.Carried != nil {
		// A later run of a long nomination (continued as new): its state as
		// the previous run left it, nothing started again.
		w.restore(in.Carried)
	} else {
		w.st = RewardState{
			NominationNo: in.NominationNo, NomineeID: in.NomineeID, NominatorID: in.NominatorID, Kind: in.Kind,
			AmountFen: in.AmountFen, Reason: in.Reason, AssessmentID: in.AssessmentID, Round: 1,
		}
		nominated := wholeSecond(in.NominatedAt)
		w.event(in.NominatorID, nominated, "nominated", in.Reason)
		w.startChain(nominated)
	}
	if err := w.registerHandlers(ctx); err != nil {
		return w.st, err
	}
	return w.run(ctx)
}

type reward struct {
	in        RewardInput
	cal       *calendar.Calendar
	log       log.Logger
	st        RewardState
	approvers map[Step]string // who approved each step (kept across rounds: four eyes)
	// The current step's clock.
	stepStart, reminderAt, dueAt time.Time
	reminded, escalated          bool
	changed                      bool // wakes the main loop to re-plan its timer
	recorded                     int  // events written to the read model
	payout                       *PayoutRecord
	notices                      notifier
	timer                        wakeTimer // the main loop's one timer
	// noContinue: a run started before continue-as-new keeps its one
	// history; runs counts the runs before this one.
	noContinue bool
	runs       int
}

// now is workflow.Now to the whole second, as a reward records it (issue
// 13 item 7). No version is needed: what a reward decides by now (a
// reminder, an escalation) compares it with step deadlines at 00:00
// (calendar.AddWorkingDays), which a truncated now judges exactly as the
// exact one, and the working day of an instant does not change either; so
// the commands are the same, only the instants recorded lose their
// fractions of a second.
func (w *reward) now(ctx workflow.Context) time.Time { return wholeSecond(workflow.Now(ctx)) }

func (w *reward) event(actor string, at time.Time, typ, reason string) {
	w.st.Events = append(w.st.Events, Event{Seq: len(w.st.Events) + 1, Type: typ, ActorID: actor, At: at, Reason: reason})
	w.changed = true
}

// firstStepToCommittee is R5.3: where the department head is the nominator
// or the nominee (or there is none), step 1 goes to the committee.
func (w *reward) firstStepToCommittee() bool {
	h := w.in.HeadID
	return h == "" || h == w.st.NominatorID || h == w.st.NomineeID
}

// needsCommittee is R5.3 step 3: cash above the threshold, or a promotion.
func (w *reward) needsCommittee() bool {
	return (w.st.Kind == KindCash && w.st.AmountFen > w.in.Policy.CommitteeAboveFen) || w.st.Kind == KindPromotion
}

// chain is the steps of the current round, in order.
func (w *reward) chain() []Step {
	steps := []Step{StepManager, StepHR}
	if w.needsCommittee() {
		steps = append(steps, StepCommittee)
	}
	return append(steps, StepPayout)
}

func (w *reward) startChain(now time.Time) {
	w.st.Status = RewardPending
	w.st.NeedsCommittee = w.needsCommittee()
	w.enter(StepManager, now)
}

// enter starts a step and its 3-working-day clock.
func (w *reward) enter(s Step, now time.Time) {
	w.st.Step = &s
	w.stepStart = now
	w.reminderAt = w.cal.AddWorkingDays(now, w.in.Policy.ReminderWorkingDays)
	w.dueAt = w.cal.AddWorkingDays(now, w.in.Policy.StepWorkingDays)
	w.reminded, w.escalated = false, false
	due := w.dueAt
	w.st.DueAt = &due
	w.st.Awaiting, w.st.StepRole = []string{}, ""
	switch {
	case s == StepManager && !w.firstStepToCommittee():
		w.st.Awaiting = []string{w.in.HeadID}
	case s == StepManager || s == StepCommittee:
		w.st.StepRole = "committee"
	default: // hr, payout
		w.st.StepRole = "hr"
	}
	w.st.Excluded = w.excluded(s)
	w.event(SystemActor, now, "step:"+string(s), "")
}

// excluded is who may not act on step s: the nominee and the nominator
// (nobody approves their own nomination or a reward to themselves), and
// whoever approved another step of this reward (four eyes, R5.3).
func (w *reward) excluded(s Step) []string {
	out := []string{w.st.NomineeID}
	if s == StepPayout { // recording a payout is not an approval: only nobody pays themselves
		return out
	}
	if w.st.NominatorID != SystemNominator {
		out = append(out, w.st.NominatorID)
	}
	for _, other := range []Step{StepManager, StepHR, StepCommittee} {
		if by := w.approvers[other]; by != "" && other != s && !slices.Contains(out, by) {
			out = append(out, by)
		}
	}
	return out
}

func (w *reward) ended() bool {
	switch w.st.Status {
	case RewardRejected, RewardWithdrawn, RewardPaid:
		return true
	}
	return false
}

func (w *reward) run(ctx workflow.Context) (RewardState, error) {
	for {
		now := w.now(ctx)
		if w.st.Step != nil && (w.st.Status == RewardPending || w.st.Status == RewardApproved) {
			if !w.reminded && !now.Before(w.reminderAt) && now.Before(w.dueAt) {
				w.reminded = true
				w.event(SystemActor, now, "reminder", string(*w.st.Step))
				w.notify(ctx, "reminder", w.recipients())
			}
			if !w.escalated && !now.Before(w.dueAt) {
				w.reminded, w.escalated = true, true
				w.event(SystemActor, now, "escalated", "step "+string(*w.st.Step)+" overdue")
				w.notify(ctx, "escalation", []string{HRHeadRecipient})
			}
		}
		if err := w.record(ctx); err != nil {
			return w.st, err
		}
		if w.ended() {
			break
		}
		w.changed = false
		var next time.Time
		what := ""
		if w.st.Step != nil && !w.escalated {
			next, what = w.dueAt, "step "+string(*w.st.Step)+": escalation at the deadline"
			if !w.reminded {
				next, what = w.reminderAt, "step "+string(*w.st.Step)+": reminder"
			}
		}
		workflow.SetCurrentDetails(ctx, w.details(next, what))
		if w.continueReady(ctx) {
			// Issue 13 item 2: a nomination returned and resubmitted many
			// times goes on in a new run with the same ID, its whole state
			// in the input. Versioned: a run started before it keeps its
			// one history.
			if workflow.GetVersion(ctx, "reward-continue-as-new", workflow.DefaultVersion, 1) == 1 {
				return w.state(), workflow.NewContinueAsNewError(ctx, RewardWorkflowType, w.carry())
			}
			w.noContinue = true
		}
		wake := func() bool { return w.changed || w.continueReady(ctx) }
		// A timer cancelled when the loop wakes early (wakeTimer).
		// Versioned: runs started before it wait as they did.
		cancelling := workflow.GetVersion(ctx, "reward-cancel-timer", workflow.DefaultVersion, 1) == 1
		var err error
		switch {
		case next.IsZero():
			if cancelling {
				w.timer.stop()
			}
			err = workflow.Await(ctx, wake)
		case cancelling:
			err = w.timer.sleep(ctx, now, next, what, wake)
		default:
			if d := next.Sub(workflow.Now(ctx)); d > 0 {
				_, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: what}}, wake)
			}
		}
		if err != nil {
			return w.st, err
		}
	}
	w.notify(ctx, "outcome", []string{w.st.NomineeID, w.st.NominatorID})
	err := workflow.Await(ctx, func() bool { return w.notices.idle() && workflow.AllHandlersFinished(ctx) })
	return w.st, err
}

func (w *reward) recipients() []string {
	if len(w.st.Awaiting) > 0 {
		return w.st.Awaiting
	}
	return []string{w.st.StepRole}
}

// record writes what changed since the last write (idempotent activity).
func (w *reward) record(ctx workflow.Context) error {
	if w.recorded == len(w.st.Events) {
		return nil
	}
	n := len(w.st.Events)
	rec := RewardRecord{State: w.state(), Payout: w.payout}
	err := workflow.ExecuteActivity(activityOptions(ctx), ActivityRecordReward, rec).Get(ctx, nil)
	if err := carryOnIfRefused(ctx, err); err != nil {
		return err
	}
	w.recorded = max(w.recorded, n)
	return nil
}

func (w *reward) notify(ctx workflow.Context, kind string, to []string) {
	step := Step("")
	if w.st.Step != nil {
		step = *w.st.Step
	}
	n := RewardNotice{
		Key: fmt.Sprintf("%s/%d/%s/%s", w.in.NominationNo, w.st.Round, step, kind), Kind: kind,
		NominationNo: w.in.NominationNo, Step: step, Recipients: to, DueAt: w.dueAt, At: w.now(ctx),
	}
	w.notices.send(ctx, ActivityNotifyReward, n.Key, n)
}

func (w *reward) state() RewardState {
	st := w.st
	st.Events = slices.Clone(w.st.Events)
	st.Awaiting = slices.Clone(w.st.Awaiting)
	st.Excluded = slices.Clone(w.st.Excluded)
	st.Approvals = slices.Clone(w.st.Approvals)
	st.PolicyVersion = shownVersion(w.in.Policy.Version)
	return st
}

func (w *reward) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryReward, func() (RewardState, error) { return w.state(), nil }); err != nil {
		return err
	}
	return registerUpdates(ctx,
		update{UpdateApprove, w.approve, w.validateApprove},
		update{UpdateReject, w.reject, w.validateReject},
		update{UpdateReturn, w.giveBack, w.validateReject},
		update{UpdateResubmit, w.resubmit, w.validateResubmit},
		update{UpdateWithdraw, w.withdraw, w.validateWithdraw},
		update{UpdatePayout, w.pay, w.validatePayout},
	)
}

// answer writes the change before the update answers with the new state.
func (w *reward) answer(ctx workflow.Context) (RewardState, error) {
	return w.state(), w.record(ctx)
}

// mayDecide is who may approve, reject or return the current step (R5.3).
func (w *reward) mayDecide(actor string, roles []string) error {
	if w.st.Status != RewardPending || w.st.Step == nil || *w.st.Step == StepPayout {
		return conflict("no approval step is open (the reward is %s)", w.st.Status)
	}
	if slices.Contains(w.st.Excluded, actor) {
		switch {
		case actor == w.st.NomineeID:
			return conflict("nobody approves a reward to themselves")
		case actor == w.st.NominatorID:
			return conflict("nobody approves their own nomination")
		default:
			return conflict("four eyes: %s already approved another step of this reward", actor)
		}
	}
	if len(w.st.Awaiting) > 0 {
		if !slices.Contains(w.st.Awaiting, actor) {
			return conflict("the %s step is %s's", *w.st.Step, strings.Join(w.st.Awaiting, ", "))
		}
		return nil
	}
	if !slices.Contains(roles, w.st.StepRole) {
		return conflict("the %s step needs the %s role", *w.st.Step, w.st.StepRole)
	}
	return nil
}

// validateApprove and the validators below check text again by package
// input, with the HTTP layer's bounds (a comment or a reward's reason 4,000
// characters, a withdrawal's reason 2,000, a reference 200): never stricter.
func (w *reward) validateApprove(ctx workflow.Context, in RewardDecisionInput) error {
	if err := w.mayDecide(in.Actor, in.ActorRoles); err != nil {
		return err
	}
	return rejectBadFields(fieldProblem{"comment", input.Text(in.Comment, input.Long)})
}

func (w *reward) approve(ctx workflow.Context, in RewardDecisionInput) (RewardState, error) {
	now := w.now(ctx)
	step := *w.st.Step
	w.approvers[step] = in.Actor
	w.st.Approvals = append(w.st.Approvals, Approval{Step: step, By: in.Actor, At: now, Round: w.st.Round})
	w.event(in.Actor, now, "approved:"+string(step), in.Comment)
	chain := w.chain()
	next := chain[slices.Index(chain, step)+1]
	if next == StepPayout {
		w.st.Status = RewardApproved
	}
	w.enter(next, now)
	return w.answer(ctx)
}

func (w *reward) validateReject(ctx workflow.Context, in RewardDecisionInput) error {
	if err := w.mayDecide(in.Actor, in.ActorRoles); err != nil {
		return err
	}
	return rejectBadFields(fieldProblem{"comment", requiredText(in.Comment, input.Long)})
}

func (w *reward) stop(status RewardStatus) {
	w.st.Status = status
	w.st.Step, w.st.DueAt = nil, nil
	w.st.Awaiting, w.st.StepRole, w.st.Excluded = []string{}, "", []string{}
}

func (w *reward) reject(ctx workflow.Context, in RewardDecisionInput) (RewardState, error) {
	step := *w.st.Step
	w.stop(RewardRejected)
	w.event(in.Actor, w.now(ctx), "rejected:"+string(step), in.Comment)
	return w.answer(ctx)
}

// giveBack returns the nomination to the nominator for changes (R5.3).
func (w *reward) giveBack(ctx workflow.Context, in RewardDecisionInput) (RewardState, error) {
	step := *w.st.Step
	w.stop(RewardReturned)
	w.st.Awaiting = []string{w.st.NominatorID}
	w.event(in.Actor, w.now(ctx), "returned:"+string(step), in.Comment)
	return w.answer(ctx)
}

func (w *reward) validateResubmit(ctx workflow.Context, in ResubmitInput) error {
	if w.st.Status != RewardReturned {
		return conflict("only a returned nomination is resubmitted (it is %s)", w.st.Status)
	}
	if in.Actor != w.st.NominatorID {
		return conflict("only the nominator resubmits")
	}
	kind, amount := w.st.Kind, w.st.AmountFen
	if in.Kind != nil {
		kind = *in.Kind
	}
	if in.AmountFen != nil {
		amount = *in.AmountFen
	}
	reason := fieldProblem{field: "reason"}
	if in.Reason != nil {
		reason.problem = input.Text(*in.Reason, input.Long)
	}
	if err := rejectBadFields(reason, fieldProblem{"comment", input.Text(in.Comment, input.Long)}); err != nil {
		return err
	}
	return validKindAmount(kind, amount)
}

// validKindAmount: a cash reward has a positive amount, others none (R5.1).
func validKindAmount(kind RewardKind, amount int64) error {
	switch kind {
	case KindCash:
		if amount <= 0 {
			return invalid("amount_fen", "must be positive for a cash reward")
		}
	case KindHonour, KindTraining, KindPromotion:
		if amount != 0 {
			return invalid("amount_fen", "only goes with a cash reward")
		}
	default:
		return invalid("kind", "must be cash, honour, training or promotion")
	}
	return nil
}

// resubmit starts a new round from the first step with the changed fields.
// Approvals of earlier rounds still count for four eyes.
func (w *reward) resubmit(ctx workflow.Context, in ResubmitInput) (RewardState, error) {
	now := w.now(ctx)
	if in.Kind != nil {
		w.st.Kind = *in.Kind
	}
	if in.AmountFen != nil {
		w.st.AmountFen = *in.AmountFen
	}
	if in.Reason != nil {
		w.st.Reason = *in.Reason
	}
	w.st.Round++
	w.event(in.Actor, now, "resubmitted", in.Comment)
	w.startChain(now)
	return w.answer(ctx)
}

func (w *reward) validateWithdraw(ctx workflow.Context, in WithdrawInput) error {
	if in.Actor != w.st.NominatorID {
		return conflict("only the nominator withdraws a nomination")
	}
	if w.ended() {
		return conflict("the reward is already %s", w.st.Status)
	}
	return rejectBadFields(fieldProblem{"reason", requiredText(in.Reason, input.Note)})
}

func (w *reward) withdraw(ctx workflow.Context, in WithdrawInput) (RewardState, error) {
	w.stop(RewardWithdrawn)
	w.event(in.Actor, w.now(ctx), "withdrawn", in.Reason)
	return w.answer(ctx)
}

func (w *reward) validatePayout(ctx workflow.Context, in PayoutInput) error {
	if w.st.Status == RewardPaid {
		return conflict("the reward is already paid (%s%s)", w.st.PaymentRef, w.st.IssuedRef)
	}
	if w.st.Status != RewardApproved || w.st.Step == nil || *w.st.Step != StepPayout {
		return conflict("the reward is not approved for payout (it is %s)", w.st.Status)
	}
	if !slices.Contains(in.ActorRoles, "hr") {
		return conflict("HR records the payout")
	}
	if slices.Contains(w.st.Excluded, in.Actor) {
		return conflict("nobody records a payout to themselves")
	}
	// A reference PostgreSQL cannot store would leave the reward paid here
	// with no payouts row (R5.3 step 4: exactly one).
	if err := rejectBadFields(
		fieldProblem{"payment_ref", input.Line(in.PaymentRef, input.Name)},
		fieldProblem{"issued_ref", input.Line(in.IssuedRef, input.Name)},
	); err != nil {
		return err
	}
	if w.st.Kind == KindCash {
		if err := required("payment_ref", in.PaymentRef); err != nil {
			return err
		}
		if in.IssuedRef != "" {
			return invalid("issued_ref", "is for honours, training places and promotions")
		}
		return nil
	}
	if in.PaymentRef != "" {
		return invalid("payment_ref", "is for cash rewards")
	}
	return required("issued_ref", in.IssuedRef)
}

// pay records the payment or issue: exactly one payout row (R5.3 step 4).
func (w *reward) pay(ctx workflow.Context, in PayoutInput) (RewardState, error) {
	now := w.now(ctx)
	ref := in.PaymentRef + in.IssuedRef
	w.st.PaymentRef, w.st.IssuedRef = in.PaymentRef, in.IssuedRef
	w.payout = &PayoutRecord{
		NominationNo: w.in.NominationNo, NomineeID: w.st.NomineeID, Kind: w.st.Kind, AmountFen: w.st.AmountFen,
		Reference: ref, RecordedBy: in.Actor, At: now,
	}
	w.approvers[StepPayout] = in.Actor
	w.stop(RewardPaid)
	w.event(in.Actor, now, "paid", ref)
	return w.answer(ctx)
}
