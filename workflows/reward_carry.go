package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Bounded histories (issue 13 item 2): a nomination returned and
// resubmitted round after round (R5.3) grows its history by about 25
// events a round. Once a run reaches its budget (continueAsNewDue) or the
// server suggests it, the reward continues as new at its next safe point:
// no command in flight (AllHandlersFinished), every event in the read
// model, no notice in flight. The next run has the same workflow ID, so
// the HTTP layer's queries and Updates reach it; it takes its whole state
// from the input (Carried), including who approved which step in every
// earlier round (four eyes, R5.3), and starts nothing again.

// rewardCarry is the state of a reward continued as new. A paid reward has
// ended, so there is never a payout to carry.
type rewardCarry struct {
	State      RewardState     `json:"state"`
	Approvers  map[Step]string `json:"approvers"`
	StepStart  time.Time       `json:"step_start"`
	ReminderAt time.Time       `json:"reminder_at"`
	DueAt      time.Time       `json:"due_at"`
	Reminded   bool            `json:"reminded"`
	Escalated  bool            `json:"escalated"`
	Run        int             `json:"run"` // runs so far (1 in the first run's carry)
}

// carry is the next run's input: the input as it started (the policy in
// force included) with the state.
func (w *reward) carry() RewardInput {
	in := w.in
	in.Carried = &rewardCarry{
		State: w.state(), Approvers: w.approvers, StepStart: w.stepStart, ReminderAt: w.reminderAt, DueAt: w.dueAt,
		Reminded: w.reminded, Escalated: w.escalated, Run: w.runs + 1,
	}
	return in
}

// restore takes the state a previous run carried; all of it is in the
// read model already (the safe point), so nothing is written again.
func (w *reward) restore(cr *rewardCarry) {
	w.st = cr.State
	if cr.Approvers != nil {
		w.approvers = cr.Approvers
	}
	w.stepStart, w.reminderAt, w.dueAt, w.reminded, w.escalated = cr.StepStart, cr.ReminderAt, cr.DueAt, cr.Reminded, cr.Escalated
	w.recorded, w.runs = len(w.st.Events), cr.Run
	w.in.Carried = nil
}

// continueReady: the run has reached its budget and is at a safe point.
func (w *reward) continueReady(ctx workflow.Context) bool {
	return !w.noContinue && continueAsNewDue(ctx, w.in.HistoryBudget) &&
		workflow.AllHandlersFinished(ctx) && w.notices.idle() && w.recorded == len(w.st.Events)
}

// details is the workflow's current details in the Web UI (issue 13 item
// 5): the status, the step with who acts and its clock, and what the timer
// waits for.
func (w *reward) details(next time.Time, what string) string {
	loc := w.cal.Location()
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s**, %s for %s, round %d, policy v%d", w.st.Status, w.st.Kind, w.st.NomineeID, w.st.Round, shownVersion(w.in.Policy.Version)))
	if w.runs > 0 {
		b.WriteString(fmt.Sprintf(", run %d", w.runs+1))
	}
	b.WriteString("\n\n")
	if w.st.Step != nil {
		who := strings.Join(w.st.Awaiting, ", ")
		if who == "" {
			who = "role " + w.st.StepRole
		}
		b.WriteString(fmt.Sprintf("- step %s (%s): since %s, reminder %s, due %s\n", *w.st.Step, who,
			shownAt(w.stepStart, loc), shownAt(w.reminderAt, loc), shownAt(w.dueAt, loc)))
	}
	if w.st.Status == RewardReturned {
		b.WriteString(fmt.Sprintf("- returned to %s for changes\n", w.st.NominatorID))
	}
	for _, s := range []Step{StepManager, StepHR, StepCommittee} {
		if by := w.approvers[s]; by != "" {
			b.WriteString(fmt.Sprintf("- %s approved by %s\n", s, by))
		}
	}
	if !next.IsZero() {
		b.WriteString(fmt.Sprintf("\nNext: %s at %s", what, shownAt(next, loc)))
	}
	return b.String()
}
