package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Bounded histories (issue 13 item 2): a complaint with many extends,
// reopens or commands would grow its history without limit, and Temporal
// caps a run (51,200 events, 2,000 Updates). Once a run's history reaches
// its budget (continueAsNewDue) or the server suggests it, the complaint
// continues as new at its next safe point: no command in flight
// (AllHandlersFinished), nothing left for the read model (no pending
// sync, none in flight) and no notice in flight. The next run has the same
// workflow ID, so the HTTP layer's queries and Updates (sent by ID, no run
// ID) reach it; it takes its whole state from the input (Carried) and
// starts nothing again: no received event, no escalation, warning or
// deduction twice (each keyed as before: clock, level, resolution round),
// event numbers go on from where they were.
//
// What the next run's input carries grows with the audit trail (every
// event is kept, R7); the history of each run stays within its budget.

// complaintCarry is the state of a complaint continued as new: everything
// the complaint struct holds but what is rebuilt from the input (calendar,
// policy: the input carries the ones in force, a recalculation's included)
// or is empty at the safe point (pending writes, notices in flight).
type complaintCarry struct {
	Status      ComplaintStatus `json:"status"`
	AssigneeID  string          `json:"assignee_id"`
	TeamID      string          `json:"team_id"`
	ManagerID   string          `json:"manager_id"`
	HeadID      string          `json:"head_id"`
	Clocks      []clockCarry    `json:"clocks"`
	Escalations []Escalation    `json:"escalations"`
	Events      []Event         `json:"events"`
	FirstMiss   bool            `json:"first_miss"`
	ResolvedAt  *time.Time      `json:"resolved_at,omitempty"`
	Resolutions int             `json:"resolutions"`
	Surveyed    int             `json:"surveyed"`
	FirstTime   bool            `json:"first_time_fix"`
	// WholeSeconds keeps the first run's way of recording instants
	// (wholeSecond): a complaint started before it has deadlines with
	// fractions of a second, which a truncated now would misjudge.
	WholeSeconds bool `json:"whole_seconds"`
	// Run counts the runs so far (1 in the first run's carry): shown in the
	// workflow's details.
	Run int `json:"run"`
}

// clockCarry is one clock of complaintCarry: every field of clock.
type clockCarry struct {
	Name      ClockName  `json:"name"`
	Start     time.Time  `json:"start"`
	Due       time.Time  `json:"due"`
	MetAt     *time.Time `json:"met_at,omitempty"`
	PausedAt  *time.Time `json:"paused_at,omitempty"`
	WarnedAt  *time.Time `json:"warned_at,omitempty"`
	Level1At  *time.Time `json:"level1_at,omitempty"`
	Level2At  *time.Time `json:"level2_at,omitempty"`
	Level2Due time.Time  `json:"level2_due"`
	Base      time.Time  `json:"base"`
	PausedFor Duration   `json:"paused_for"`
	Extended  bool       `json:"extended"`
}

// carry is the next run's input: the input in force (a recalculation's
// policy and calendar included) with the state.
func (c *complaint) carry() ComplaintInput {
	in := c.in
	cr := &complaintCarry{
		Status: c.status, AssigneeID: c.assignee, TeamID: c.team, ManagerID: c.manager, HeadID: c.head,
		Escalations: slices.Clone(c.escalations), Events: slices.Clone(c.events),
		FirstMiss: c.firstMiss, ResolvedAt: c.resolvedAt, Resolutions: c.resolutions, Surveyed: c.surveyed,
		FirstTime: c.ftf, WholeSeconds: c.whole, Run: c.runs + 1,
	}
	for _, k := range c.clocks {
		cr.Clocks = append(cr.Clocks, clockCarry{
			Name: k.name, Start: k.start, Due: k.due, MetAt: k.metAt, PausedAt: k.pausedAt, WarnedAt: k.warnedAt,
			Level1At: k.level1At, Level2At: k.level2At, Level2Due: k.level2Due, Base: k.base,
			PausedFor: Duration(k.pausedFor), Extended: k.extended,
		})
	}
	in.Carried = cr
	return in
}

// restore takes the state a previous run carried.
func (c *complaint) restore(cr *complaintCarry) {
	c.status = cr.Status
	c.assignee, c.team, c.manager, c.head = cr.AssigneeID, cr.TeamID, cr.ManagerID, cr.HeadID
	c.escalations, c.events = cr.Escalations, cr.Events
	c.firstMiss, c.resolvedAt, c.resolutions, c.surveyed, c.ftf = cr.FirstMiss, cr.ResolvedAt, cr.Resolutions, cr.Surveyed, cr.FirstTime
	c.whole, c.runs = cr.WholeSeconds, cr.Run
	for _, k := range cr.Clocks {
		c.clocks = append(c.clocks, &clock{
			name: k.Name, start: k.Start, due: k.Due, metAt: k.MetAt, pausedAt: k.PausedAt, warnedAt: k.WarnedAt,
			level1At: k.Level1At, level2At: k.Level2At, level2Due: k.Level2Due, base: k.Base,
			pausedFor: k.PausedFor.Std(), extended: k.Extended,
		})
	}
	c.in.Carried = nil // carried into this run's state; carry() builds the next one
}

// continueReady: the run has reached its budget and is at a safe point.
func (c *complaint) continueReady(ctx workflow.Context) bool {
	return !c.noContinue && continueAsNewDue(ctx, c.in.HistoryBudget) &&
		workflow.AllHandlersFinished(ctx) && c.notices.idle() && !c.unwritten() && c.flushing == 0
}

// details is the workflow's current details in the Web UI (issue 13 item
// 5): where the case stands, each clock with its deadline and what it has
// done, and what the timer waits for.
func (c *complaint) details(next time.Time, what string) string {
	loc := c.cal.Location()
	at := func(t time.Time) string { return shownAt(t, loc) }
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s**, assignee %s", c.status, c.assignee))
	if c.team != "" {
		b.WriteString(fmt.Sprintf(" (team %s)", c.team))
	}
	b.WriteString(fmt.Sprintf(", policy v%d", shownVersion(c.in.Policy.Version)))
	if c.runs > 0 {
		b.WriteString(fmt.Sprintf(", run %d", c.runs+1))
	}
	b.WriteString("\n\n")
	for _, k := range c.clocks {
		b.WriteString(fmt.Sprintf("- %s: ", k.name))
		switch {
		case !k.open():
			b.WriteString(fmt.Sprintf("met %s (due %s)", at(*k.metAt), at(k.due)))
			if k.breached() {
				b.WriteString(", late")
			}
		case k.pausedAt != nil:
			b.WriteString(fmt.Sprintf("paused since %s (due %s before the pause)", at(*k.pausedAt), at(k.due)))
		default:
			b.WriteString(fmt.Sprintf("due %s", at(k.due)))
			switch {
			case k.level2At != nil:
				b.WriteString(", escalated to level 2")
			case k.level1At != nil:
				b.WriteString(fmt.Sprintf(", missed: level 2 at %s", at(k.level2Due)))
			case k.warnedAt != nil:
				b.WriteString(", warned")
			default:
				b.WriteString(fmt.Sprintf(", warning at %s", at(c.warnAt(k))))
			}
		}
		b.WriteString("\n")
	}
	if c.status == StatusResolved && c.resolvedAt != nil {
		b.WriteString(fmt.Sprintf("- resolved %s; closes %s unless reopened\n", at(*c.resolvedAt), at(c.closeAt())))
	}
	if !next.IsZero() {
		b.WriteString(fmt.Sprintf("\nNext: %s at %s", what, at(next)))
	}
	return b.String()
}
