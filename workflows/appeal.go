package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/input"
)

// Appeal runs one appeal against a monthly result (R6), as a child of its
// month's AssessmentCycle:
//   - stage 1: the employee's manager talks it through, up to 2 working
//     days; the employee may accept the explanation (withdrawn), or either
//     of them moves it on early; when the 2 days pass it moves on;
//   - stage 2: HR (or the skip-level manager) decides within 5 working
//     days of stage 2 starting; a reminder after 3 working days; at a
//     missed deadline one escalation to the head of HR, recorded; the
//     appeal still waits for its decision;
//   - upheld (corrected score; the original is kept) or rejected (reasons).
func Appeal(ctx workflow.Context, in AppealInput) (AppealState, error) {
	cal, err := newCalendar(in.Location, in.Calendar)
	if err != nil {
		return AppealState{}, err
	}
	a := &appeal{in: in, cal: cal, log: workflow.GetLogger(ctx), notices: notifier{log: workflow.GetLogger(ctx)}}
	a.st = AppealState{
		ID: in.AppealID, AssessmentID: in.AssessmentID, AppellantID: in.AppellantID, Stage: 1, Status: AppealOpen,
		DueAt: cal.AddWorkingDays(in.OpenedAt, in.Policy.Stage1WorkingDays), OriginalScore: in.Score,
	}
	a.event(in.AppellantID, wholeSecond(in.OpenedAt), "opened", in.Reason)
	if err := a.registerHandlers(ctx); err != nil {
		return a.st, err
	}
	st, err := a.run(ctx)
	if in.NotifyCycle {
		a.tellCycle(ctx, st, err)
	}
	return st, err
}

// tellCycle signals the parent cycle's current run that this appeal has
// ended (R4.5: the month is final only when its appeals end). The cycle may
// have continued as new since it opened the appeal (issue 13), so its
// child's completion reaches a closed run; the signal, sent by workflow ID
// alone, reaches the current one. Only appeals opened with NotifyCycle
// signal: histories of those opened before replay without it.
func (a *appeal) tellCycle(ctx workflow.Context, st AppealState, failed error) {
	parent := workflow.GetInfo(ctx).ParentWorkflowExecution
	if parent == nil {
		return // started directly: no cycle waits for it
	}
	ctx, _ = workflow.NewDisconnectedContext(ctx) // told even when the appeal was cancelled
	ended := AppealEnded{AppealID: a.in.AppealID, Status: st.Status, Failed: failed != nil}
	if err := workflow.SignalExternalWorkflow(ctx, parent.ID, "", SignalAppealEnded, ended).Get(ctx, nil); err != nil {
		a.log.Error("the cycle was not told that the appeal ended", "appeal", a.in.AppealID, "cycle", parent.ID, "error", err)
	}
}

type appeal struct {
	in      AppealInput
	cal     *calendar.Calendar
	log     log.Logger
	st      AppealState
	changed bool
	// decision is set by the decision update, written by run.
	decision  *DecideAppealInput
	decidedAt time.Time
	notices   notifier
	timer     wakeTimer // the one timer of the stage's clock
}

// now is workflow.Now to the whole second, as an appeal records it (issue
// 13 item 7). No version is needed: the appeal's deadlines are at 00:00
// (calendar.AddWorkingDays) and its timers are set from the exact
// workflow.Now, so only the instants recorded lose their fractions.
func (a *appeal) now(ctx workflow.Context) time.Time { return wholeSecond(workflow.Now(ctx)) }

func (a *appeal) event(actor string, at time.Time, typ, reason string) {
	a.st.Events = append(a.st.Events, Event{Seq: len(a.st.Events) + 1, Type: typ, ActorID: actor, At: at, Reason: reason})
	a.changed = true
}

func (a *appeal) run(ctx workflow.Context) (AppealState, error) {
	if err := a.record(ctx, nil); err != nil {
		return a.st, err
	}
	// Stage 1: until the explanation is accepted, someone moves it on, or 2 working days pass.
	if err := a.waitUntil(ctx, a.st.DueAt, "stage 1: ends, on to stage 2", func() bool { return a.st.Stage != 1 || a.st.Status != AppealOpen }); err != nil {
		return a.st, err
	}
	if a.st.Status == AppealOpen && a.st.Stage == 1 {
		a.enterStage2(a.now(ctx), SystemActor, "stage 1 ended after its working days")
	}
	if err := a.record(ctx, nil); err != nil {
		return a.st, err
	}
	if a.st.Status != AppealOpen {
		return a.finish(ctx)
	}
	// Stage 2: reminder, then the deadline, each once; then wait for the decision.
	decided := func() bool { return a.st.Status != AppealOpen }
	if err := a.waitUntil(ctx, *a.st.ReminderAt, "stage 2: reminder to HR", decided); err != nil {
		return a.st, err
	}
	if !decided() {
		a.event(SystemActor, a.now(ctx), "reminder", "")
		a.notify(ctx, "reminder", []string{"hr"})
		if err := a.record(ctx, nil); err != nil {
			return a.st, err
		}
	}
	if err := a.waitUntil(ctx, a.st.DueAt, "stage 2: escalation to the head of HR at the deadline", decided); err != nil {
		return a.st, err
	}
	if !decided() {
		now := a.now(ctx)
		a.st.EscalatedAt = &now
		a.event(SystemActor, now, "escalated", "stage 2 deadline missed")
		a.notify(ctx, "escalation", []string{HRHeadRecipient})
		if err := a.record(ctx, nil); err != nil {
			return a.st, err
		}
		workflow.SetCurrentDetails(ctx, a.details(time.Time{}, ""))
		if err := workflow.Await(ctx, decided); err != nil {
			return a.st, err
		}
	}
	return a.finish(ctx)
}

// waitUntil sleeps until t or until done, whichever comes first, on a
// timer whose summary says what happens at t. A timer cancelled when the
// appeal moves on early (wakeTimer), and none started when done already
// holds. Versioned: runs started before it wait as they did.
func (a *appeal) waitUntil(ctx workflow.Context, t time.Time, what string, done func() bool) error {
	workflow.SetCurrentDetails(ctx, a.details(t, what))
	if workflow.GetVersion(ctx, "appeal-cancel-timer", workflow.DefaultVersion, 1) == 1 {
		return a.timer.sleep(ctx, workflow.Now(ctx), t, what, done)
	}
	if d := t.Sub(workflow.Now(ctx)); d > 0 {
		_, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: what}}, done)
		return err
	}
	return nil
}

// details is the workflow's current details in the Web UI (issue 13 item
// 5): the stage, its deadline and reminder, and what the timer waits for.
func (a *appeal) details(next time.Time, what string) string {
	loc := a.cal.Location()
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s**, stage %d, appeal of %s by %s\n\n", a.st.Status, a.st.Stage, a.in.AssessmentID, a.in.AppellantID))
	b.WriteString(fmt.Sprintf("- stage %d due %s", a.st.Stage, shownAt(a.st.DueAt, loc)))
	if a.st.Stage == 2 && a.st.ReminderAt != nil {
		b.WriteString(fmt.Sprintf(", reminder %s", shownAt(*a.st.ReminderAt, loc)))
	}
	if a.st.EscalatedAt != nil {
		b.WriteString(fmt.Sprintf(", escalated %s: waiting for the decision", shownAt(*a.st.EscalatedAt, loc)))
	}
	b.WriteString("\n")
	if !next.IsZero() {
		b.WriteString(fmt.Sprintf("\nNext: %s at %s", what, shownAt(next, loc)))
	}
	return b.String()
}

func (a *appeal) enterStage2(now time.Time, actor, reason string) {
	a.st.Stage = 2
	a.st.DueAt = a.cal.AddWorkingDays(now, a.in.Policy.Stage2WorkingDays)
	reminder := a.cal.AddWorkingDays(now, a.in.Policy.ReminderWorkingDays)
	a.st.ReminderAt = &reminder
	a.event(actor, now, "stage2", reason)
}

// finish writes the outcome (an upheld decision corrects the result, R6),
// tells the employee, and waits for notices in flight.
func (a *appeal) finish(ctx workflow.Context) (AppealState, error) {
	if err := a.record(ctx, a.decision); err != nil {
		return a.st, err
	}
	a.notify(ctx, "outcome", []string{a.in.AppellantID})
	err := workflow.Await(ctx, func() bool { return a.notices.idle() && workflow.AllHandlersFinished(ctx) })
	return a.st, err
}

func (a *appeal) record(ctx workflow.Context, decision *DecideAppealInput) error {
	rec := AppealRecord{State: a.st, Month: a.in.Month, Decision: decision}
	if decision != nil {
		rec.DecidedAt = &a.decidedAt
	}
	return carryOnIfRefused(ctx, workflow.ExecuteActivity(activityOptions(ctx), ActivityRecordAppeal, rec).Get(ctx, nil))
}

func (a *appeal) notify(ctx workflow.Context, kind string, to []string) {
	n := AppealNotice{
		Key: fmt.Sprintf("%s/%s/%d", a.in.AppealID, kind, a.st.Stage), Kind: kind, AppealID: a.in.AppealID,
		Recipients: to, DueAt: a.st.DueAt, At: a.now(ctx),
	}
	a.notices.send(ctx, ActivityNotifyAppeal, n.Key, n)
}

func (a *appeal) state(now time.Time) AppealState {
	st := a.st
	st.Events = append([]Event(nil), a.st.Events...)
	st.Refresh(now)
	return st
}

func (a *appeal) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryAppeal, func() (AppealState, error) {
		return a.state(a.now(ctx)), nil
	}); err != nil {
		return err
	}
	return registerUpdates(ctx,
		update{UpdateAcceptExplanation, a.acceptExplanation, a.validateAcceptExplanation},
		update{UpdateEscalateAppeal, a.escalate, a.validateEscalate},
		update{UpdateDecideAppeal, a.decide, a.validateDecide},
	)
}

// waitRecorded lets the main loop write the change before the update answers.
func (a *appeal) answer(ctx workflow.Context) (AppealState, error) {
	return a.state(a.now(ctx)), a.record(ctx, a.decision)
}

func (a *appeal) validateAcceptExplanation(ctx workflow.Context, in AcceptExplanationInput) error {
	if a.st.Status != AppealOpen || a.st.Stage != 1 {
		return conflict("the explanation can only be accepted in stage 1 of an open appeal")
	}
	if in.Actor != a.in.AppellantID {
		return conflict("only the appellant accepts the explanation")
	}
	return rejectBadFields(fieldProblem{"note", input.Text(in.Note, input.Note)})
}

func (a *appeal) acceptExplanation(ctx workflow.Context, in AcceptExplanationInput) (AppealState, error) {
	a.st.Status = AppealWithdrawn
	a.event(in.Actor, a.now(ctx), "withdrawn", in.Note)
	return a.answer(ctx)
}

func (a *appeal) validateEscalate(ctx workflow.Context, in EscalateAppealInput) error {
	if a.st.Status != AppealOpen || a.st.Stage != 1 {
		return conflict("only an open appeal in stage 1 moves to stage 2")
	}
	return rejectBadFields(fieldProblem{"reason", input.Text(in.Reason, input.Note)})
}

func (a *appeal) escalate(ctx workflow.Context, in EscalateAppealInput) (AppealState, error) {
	a.enterStage2(a.now(ctx), in.Actor, in.Reason)
	return a.answer(ctx)
}

func (a *appeal) validateDecide(ctx workflow.Context, in DecideAppealInput) error {
	if a.st.Status != AppealOpen || a.st.Stage != 2 {
		return conflict("a decision is taken in stage 2 of an open appeal")
	}
	if in.Actor == a.in.AppellantID {
		return conflict("nobody decides their own appeal")
	}
	if err := a.fourEyes(in.Actor); err != nil {
		return err
	}
	// Long, as the HTTP layer's bound on a decision's reason: never stricter than it.
	if err := rejectBadFields(fieldProblem{"reason", requiredText(in.Reason, input.Long)}); err != nil {
		return err
	}
	switch in.Outcome {
	case AppealUpheld:
		if in.CorrectedScore == nil || *in.CorrectedScore < 0 || *in.CorrectedScore > 1000 { // 0.0 .. 100.0
			return invalid("corrected_score", "is required when upheld: 0 to 100, one decimal")
		}
	case AppealRejected:
		if in.CorrectedScore != nil {
			return invalid("corrected_score", "only goes with upheld")
		}
	default:
		return invalid("outcome", "must be upheld or rejected")
	}
	return nil
}

// fourEyes is R6: whoever handled stage 1 does not decide stage 2. That is
// the stage-1 manager (the team supervisor, or the department head where
// the team has none) and anyone but the appellant and the system who acted
// in stage 1, up to and including the move to stage 2. The message names
// who decides instead: HR, and the skip-level head unless it is they who
// handled stage 1.
func (a *appeal) fourEyes(actor string) error {
	handled := func(id string) bool {
		switch id {
		case "", a.in.AppellantID, SystemActor:
			return false
		case a.in.ManagerID:
			return true
		}
		for _, e := range a.st.Events {
			if e.ActorID == id {
				return true
			}
			if e.Type == "stage2" {
				break // later events belong to stage 2
			}
		}
		return false
	}
	if !handled(actor) {
		return nil
	}
	who := "HR decides"
	if h := a.in.HeadID; h != "" && h != actor && h != a.in.AppellantID && h != SystemActor && !handled(h) {
		who = "HR or " + h + " decides"
	}
	return conflict("four eyes (R6): %s handled stage 1 of this appeal; %s", actor, who)
}

func (a *appeal) decide(ctx workflow.Context, in DecideAppealInput) (AppealState, error) {
	now := a.now(ctx)
	a.st.Status = in.Outcome
	a.st.CorrectedScore = in.CorrectedScore
	a.decision, a.decidedAt = &in, now
	a.event(in.Actor, now, string(in.Outcome), in.Reason)
	return a.answer(ctx)
}

// StaticSummary is the one line the Temporal Web UI shows for an appeal's
// workflow (issue 13 item 5). The cycle starts appeals as its children:
// ChildWorkflowOptions.StaticSummary is where it goes (assessment.go).
func (in AppealInput) StaticSummary() string {
	return fmt.Sprintf("Appeal %s: %s appeals %s (score %s), opened %s",
		in.AppealID, in.AppellantID, in.AssessmentID, in.Score, shownAt(in.OpenedAt, locationOf(in.Location)))
}
