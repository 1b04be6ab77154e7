package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/input"
)

// Complaint runs one complaint's three SLA clocks (R3) from receipt until it
// is closed: the reopen window after its last resolution has passed.
//
// The design: state lives in the complaint struct; commands are Updates
// whose validators reject what the state forbids (nothing enters history);
// one loop sleeps until the earliest pending clock action (a warning, a
// level-1 or level-2 escalation, the close) and wakes early whenever a
// command changes the state, so a met or moved deadline cancels its timer.
// Every state change is written to the PostgreSQL read model by a local
// activity before the command answers.
func Complaint(ctx workflow.Context, in ComplaintInput) (ComplaintState, error) {
	c, err := newComplaint(ctx, in)
	if err != nil {
		return ComplaintState{}, err
	}
	return c.run(ctx)
}

// clock is one of the three clocks of R3 in workflow state.
type clock struct {
	name      ClockName
	start     time.Time  // receipt, or the reopen for a reopened resolution clock
	due       time.Time  // the deadline; a clock is met by anything strictly before it
	metAt     *time.Time //
	pausedAt  *time.Time // resolution clock only (R3)
	warnedAt  *time.Time
	level1At  *time.Time
	level2At  *time.Time
	level2Due time.Time // when level 2 fires if still unmet (set at level 1)
	// What a recalculation (R2, last rule) counts the deadline from: the
	// receipt or the reopen, the pause time since, and whether an officer
	// set the deadline by hand (an extension stands: it is a decision).
	base      time.Time
	pausedFor time.Duration
	extended  bool
}

func (k *clock) open() bool { return k.metAt == nil }

// warnAt is the warning instant: the configured fraction of the clock's time.
func (k *clock) warnAt(fraction float64) time.Time {
	return k.start.Add(time.Duration(float64(k.due.Sub(k.start)) * fraction))
}

type complaint struct {
	in                            ComplaintInput
	cal                           *calendar.Calendar
	log                           log.Logger
	status                        ComplaintStatus
	assignee, team, manager, head string
	clocks                        []*clock // in Clocks order
	escalations                   []Escalation
	events                        []Event
	// firstMiss is set once the complaint's one deduction has been proposed (R3, R4.4).
	firstMiss   bool
	resolvedAt  *time.Time
	resolutions int // how many times resolved
	surveyed    int // the resolution number last surveyed (one survey per resolution)
	ftf         bool
	// changed wakes the main loop to re-plan its timer.
	changed bool
	// flushing counts read-model writes in flight (see created).
	flushing int
	// pending is what the next sync writes to the read model.
	pending ComplaintSync
	notices notifier // the workflow ends only after its notices are out
	// lastSA is the last upserted search attributes, to upsert only on change.
	lastSA string
	// legible: the run was started by code with the "legible-clocks" patch
	// (see newComplaint): it waits on a wakeTimer, and every earlier patch
	// is in force without asking.
	legible bool
	// whole: this run records whole-second instants (wholeSecond, issue 13
	// item 7); runs started before that record workflow.Now as it is.
	whole bool
	// timer is the main loop's one timer (wakeTimer).
	timer wakeTimer
	// noContinue: a run started before continue-as-new (R3, issue 13 item
	// 2) keeps its one history.
	noContinue bool
	// runs counts the runs before this one (continue-as-new).
	runs int
}

func newComplaint(ctx workflow.Context, in ComplaintInput) (*complaint, error) {
	if in.ComplaintNo == "" || in.AssigneeID == "" || in.ReceivedAt.IsZero() {
		return nil, temporal.NewNonRetryableApplicationError("complaint_no, assignee_id and received_at are required", ErrInvalidInput, nil)
	}
	if err := rejectBadFields(
		fieldProblem{"complaint_no", input.Key(in.ComplaintNo)}, fieldProblem{"assignee_id", input.ID(in.AssigneeID)},
		fieldProblem{"team_id", optionalID(in.TeamID)}, fieldProblem{"manager_id", optionalID(in.ManagerID)},
		fieldProblem{"head_id", optionalID(in.HeadID)}, fieldProblem{"created_by", optionalID(in.CreatedBy)},
	); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidInput, err)
	}
	if err := in.Policy.Validate(); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidInput, err)
	}
	cal, err := newCalendar(in.Location, in.Calendar)
	if err != nil {
		return nil, err
	}
	c := &complaint{
		in:       in,
		cal:      cal,
		log:      workflow.GetLogger(ctx),
		notices:  notifier{log: workflow.GetLogger(ctx)},
		status:   StatusOpen,
		assignee: in.AssigneeID, team: in.TeamID, manager: in.ManagerID, head: in.HeadID,
		ftf: true,
	}
	// One patch, "legible-clocks", for issue 13's changes to the command
	// sequence, decided once at the start of a run: whole-second instants
	// (item 7) and a timer cancelled when the loop wakes early (item 5).
	// Runs started before it keep workflow.Now's instants (their deadlines
	// may have fractions, which a truncated now would judge differently)
	// and wait as they did. A run started with it also has every earlier
	// patch ("clocks-before-command", "retry-unwritten-sync",
	// "notify-inline"), so it asks for none of them: each GetVersion costs
	// a marker and a search-attribute upsert, two events in every history
	// (README "Changing a released workflow").
	c.legible = workflow.GetVersion(ctx, "legible-clocks", workflow.DefaultVersion, 1) == 1
	c.notices.patched = c.legible
	if in.Carried != nil {
		// A later run of a long complaint (continued as new): its state as
		// the previous run left it, nothing started again.
		c.restore(in.Carried)
	} else {
		c.whole = c.legible
		c.in.ReceivedAt = c.stamp(in.ReceivedAt)
		r := c.in.ReceivedAt
		c.clocks = []*clock{
			{name: ClockContact, start: r, base: r},
			{name: ClockPlan, start: r, base: r},
			{name: ClockResolution, start: r, base: r},
		}
		for _, k := range c.clocks {
			k.due = c.dueOf(k, c.cal, in.Policy)
		}
		c.addEvent(in.CreatedBy, r, EventReceived, "", nil)
	}
	if err := c.registerHandlers(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// dueBy is the clock's deadline under cal and policy p (R3): 24 and 48
// elapsed hours, or N working days (R2) from its base, plus the pause time
// since (pause time does not count).
func (k *clock) dueBy(cal *calendar.Calendar, p SLAPolicy) time.Time {
	switch k.name {
	case ClockContact:
		return k.base.Add(p.ContactWithin.Std())
	case ClockPlan:
		return k.base.Add(p.PlanWithin.Std())
	default:
		return cal.AddWorkingDays(k.base, p.ResolutionWorkingDays).Add(k.pausedFor)
	}
}

// stamp is t as this run records it: to the whole second (wholeSecond),
// or as it is in a run started before that.
func (c *complaint) stamp(t time.Time) time.Time {
	if c.whole {
		return wholeSecond(t)
	}
	return t
}

// now is workflow.Now as this run records and judges it (stamp). Every
// instant the clocks are judged against is a whole second in such a run,
// so the truncated now judges exactly as workflow.Now would.
func (c *complaint) now(ctx workflow.Context) time.Time { return c.stamp(workflow.Now(ctx)) }

// dueOf is k's deadline under cal and p (dueBy), as this run records it.
func (c *complaint) dueOf(k *clock, cal *calendar.Calendar, p SLAPolicy) time.Time {
	return c.stamp(k.dueBy(cal, p))
}

// warnAt is k's warning instant (R3: the policy's fraction of its time).
func (c *complaint) warnAt(k *clock) time.Time {
	return c.stamp(k.warnAt(c.in.Policy.WarningFraction))
}

// closeAt is when a resolved complaint closes: its reopen window ends (R3).
func (c *complaint) closeAt() time.Time {
	return c.stamp(c.resolvedAt.Add(c.in.Policy.ReopenWithin.Std()))
}

func (c *complaint) clock(name ClockName) *clock {
	for _, k := range c.clocks {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (c *complaint) run(ctx workflow.Context) (ComplaintState, error) {
	for {
		now := c.now(ctx)
		c.fireDue(ctx, now)
		c.flush(ctx)
		if c.status == StatusClosed {
			// The read model must learn of the close: retry until it does.
			for c.unwritten() {
				if err := sleepFor(ctx, time.Minute, "read model: retry writing the close"); err != nil {
					return c.state(c.now(ctx)), err
				}
				c.flush(ctx)
			}
			break
		}
		c.changed = false
		next, what := c.nextAction()
		if c.unwritten() && (c.legible || workflow.GetVersion(ctx, "retry-unwritten-sync", workflow.DefaultVersion, 1) == 1) {
			// The read model has been unreachable for syncGiveUp: try again
			// in a minute rather than wait for the next change (versioned:
			// older runs waited for the next change).
			if retry := now.Add(time.Minute); next.IsZero() || retry.Before(next) {
				next, what = retry, "read model: retry the write"
			}
		}
		workflow.SetCurrentDetails(ctx, c.details(next, what))
		if c.continueReady(ctx) {
			// Issue 13 item 2: a long complaint (many extends, reopens or
			// commands) goes on in a new run with the same ID, its whole
			// state in the input. Versioned: a run started before it keeps
			// its one history.
			if workflow.GetVersion(ctx, "complaint-continue-as-new", workflow.DefaultVersion, 1) == 1 {
				return c.state(now), workflow.NewContinueAsNewError(ctx, ComplaintWorkflowType, c.carry())
			}
			c.noContinue = true
		}
		wake := func() bool { return c.changed || c.continueReady(ctx) }
		// A timer cancelled when the loop wakes early (wakeTimer); runs
		// started before "legible-clocks" wait as they did.
		cancelling := c.legible
		var err error
		switch {
		case next.IsZero():
			if cancelling {
				c.timer.stop()
			}
			err = workflow.Await(ctx, wake)
		case cancelling:
			err = c.timer.sleep(ctx, now, next, what, wake)
		default:
			if wait := next.Sub(workflow.Now(ctx)); wait > 0 {
				_, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: wait, TimerOptions: workflow.TimerOptions{Summary: what}}, wake)
			}
		}
		if err != nil {
			return c.state(c.now(ctx)), err
		}
	}
	// Let in-flight commands and notifications finish before the workflow ends.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && c.notices.idle() }); err != nil {
		return c.state(c.now(ctx)), err
	}
	return c.state(c.now(ctx)), nil
}

// nextAction is the earliest instant at which something is due: a warning,
// a level-1 or level-2 escalation, or closing after the reopen window; and
// what is due then, as a timer's summary says it ("contact: level-1
// escalation").
func (c *complaint) nextAction() (time.Time, string) {
	var next time.Time
	var what []string
	consider := func(t time.Time, action string) {
		switch {
		case next.IsZero() || t.Before(next):
			next, what = t, []string{action}
		case t.Equal(next):
			what = append(what, action)
		}
	}
	if c.status == StatusResolved && c.resolvedAt != nil {
		consider(c.closeAt(), "close: the reopen window ends")
	}
	if c.status != StatusOpen && c.status != StatusReopened {
		return next, strings.Join(what, "; ")
	}
	for _, k := range c.clocks {
		if !k.open() || k.pausedAt != nil {
			continue
		}
		switch {
		case k.warnedAt == nil && k.level1At == nil:
			consider(c.warnAt(k), string(k.name)+": warning")
		case k.level1At == nil:
			consider(k.due, string(k.name)+": level-1 escalation")
		case k.level2At == nil:
			consider(k.level2Due, string(k.name)+": level-2 escalation")
		}
	}
	return next, strings.Join(what, "; ")
}

// fireDue performs every clock action due at now, each exactly once: the
// warning (skipped when the deadline has already passed, e.g. a back-dated
// receipt), level 1 at the miss, level 2 one working day later (R3).
func (c *complaint) fireDue(ctx workflow.Context, now time.Time) {
	if c.status == StatusResolved && c.resolvedAt != nil && !now.Before(c.closeAt()) {
		c.status = StatusClosed
		c.addEvent(SystemActor, now, EventClosed, "reopen window ended", nil)
		return
	}
	c.fireClocks(ctx, now)
}

// fireClocks performs the clock actions due at now (see fireDue).
func (c *complaint) fireClocks(ctx workflow.Context, now time.Time) {
	if c.status != StatusOpen && c.status != StatusReopened {
		return
	}
	for _, k := range c.clocks {
		if !k.open() || k.pausedAt != nil {
			continue
		}
		// The warning is skipped when the deadline has already passed (a
		// back-dated receipt): level 1 fires just below instead, and no
		// warned_at is reported for a warning never sent (issue 13 item 7).
		// warnedAt matters to no later decision once level 1 has fired, so
		// leaving it unset changes no command: no version needed.
		if k.warnedAt == nil && k.level1At == nil && !now.Before(c.warnAt(k)) && now.Before(k.due) {
			t := now
			k.warnedAt = &t
			c.addEvent(SystemActor, now, EventWarning, "", map[string]any{"clock": string(k.name), "due_at": k.due})
			c.notify(ctx, "warning", k, 0, []string{c.assignee})
		}
		if k.level1At == nil && !now.Before(k.due) {
			c.escalate(ctx, k, 1, now)
		}
		if k.level1At != nil && k.level2At == nil && !now.Before(k.level2Due) {
			c.escalate(ctx, k, 2, now)
		}
	}
}

// escalate fires level 1 or 2 of clock k. Level 1 is the miss: it also
// proposes the complaint's one 20-point deduction on its first miss (R3, R4.4).
func (c *complaint) escalate(ctx workflow.Context, k *clock, level int, now time.Time) {
	t := now
	var to []string
	if level == 1 {
		k.level1At = &t
		k.level2Due = c.level2After(k)
		to = nonEmpty(c.manager, "escalation_officers")
		c.addEvent(SystemActor, now, EventBreached, "", map[string]any{"clock": string(k.name), "due_at": k.due, "assignee": c.assignee})
	} else {
		k.level2At = &t
		to = nonEmpty(c.head, "escalation_officers")
	}
	e := Escalation{
		ID: EscalationID(c.in.ComplaintNo, k.name, level), ComplaintNo: c.in.ComplaintNo,
		Clock: k.name, Level: level, EscalatedAt: now, EscalatedTo: to,
	}
	c.escalations = append(c.escalations, e)
	c.pending.Escalations = append(c.pending.Escalations, e)
	c.addEvent(SystemActor, now, EventEscalated, "", map[string]any{"clock": string(k.name), "level": level, "escalated_to": to})
	if level == 1 && !c.firstMiss {
		c.firstMiss = true
		c.pending.Deduction = &DeductionProposal{
			ComplaintNo: c.in.ComplaintNo, EmployeeID: c.assignee, ReasonCode: "untimely_service",
			Points: c.in.Policy.DeductionPoints, OccurredAt: k.due,
		}
	}
	c.notify(ctx, "escalation", k, level, to)
}

func nonEmpty(ids ...string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// notify delivers a notice through the Notify activity in the background,
// retried with backoff; the key is the same on every retry (R3).
func (c *complaint) notify(ctx workflow.Context, kind string, k *clock, level int, to []string) {
	n := Notification{
		// Unique per notice: a reopened resolution clock's warning is a new one.
		Key:  fmt.Sprintf("%s/%s/%s/%d/%d", c.in.ComplaintNo, k.name, kind, level, c.resolutions),
		Kind: kind, ComplaintNo: c.in.ComplaintNo, Clock: k.name, Level: level,
		DueAt: k.due, Recipients: to, At: c.now(ctx),
	}
	c.notices.send(ctx, ActivityNotify, n.Key, n)
}

func (c *complaint) addEvent(actor string, at time.Time, typ, reason string, data map[string]any) {
	e := Event{Seq: len(c.events) + 1, Type: typ, ActorID: actor, At: at, Reason: reason, Data: data}
	c.events = append(c.events, e)
	c.pending.Events = append(c.pending.Events, e)
	c.changed = true
}

// flush writes the pending changes to the read model (a local activity: one
// marker in history) and updates the search attributes.
//
// An outage is retried every few seconds (at most syncRetryMax apart), so
// the read model catches up within seconds of PostgreSQL's return; should
// the write still fail after syncGiveUp, the changes are kept and the main
// loop tries again. Data PostgreSQL refuses (ErrReadModelRefused: retrying
// cannot help) is logged and dropped, so it never wedges the case; the
// activity has counted it for alerting.
func (c *complaint) flush(ctx workflow.Context) {
	c.upsertSearchAttributes(ctx)
	if !c.unwritten() {
		return
	}
	sync := c.pending
	c.pending = ComplaintSync{}
	sync.State = c.state(c.now(ctx))
	c.flushing++
	defer func() { c.flushing-- }()
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: syncGiveUp,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: syncRetryMax},
	})
	err := workflow.ExecuteLocalActivity(lctx, ActivitySyncComplaint, sync).Get(ctx, nil)
	switch {
	case err == nil:
	case IsRejection(err, ErrReadModelRefused):
		c.log.Error("read model refused this change; dropped, the case goes on", "workflow_id", workflow.GetInfo(ctx).WorkflowExecution.ID, "error", err)
	default:
		c.log.Error("read model not written; kept for the next try", "error", err)
		c.pending.Events = append(sync.Events, c.pending.Events...)
		c.pending.Escalations = append(sync.Escalations, c.pending.Escalations...)
		if c.pending.Deduction == nil {
			c.pending.Deduction = sync.Deduction
		}
		if c.pending.Survey == nil {
			c.pending.Survey = sync.Survey
		}
	}
}

// The read-model write's retry bounds (see flush).
const (
	syncRetryMax = 5 * time.Second
	syncGiveUp   = time.Hour
)

// unwritten reports changes the read model has not received yet.
func (c *complaint) unwritten() bool {
	return len(c.pending.Events) > 0 || len(c.pending.Escalations) > 0 || c.pending.Deduction != nil || c.pending.Survey != nil
}

func (c *complaint) upsertSearchAttributes(ctx workflow.Context) {
	breached := slices.ContainsFunc(c.clocks, (*clock).breached)
	next := c.nextDue()
	key := fmt.Sprint(c.status, c.assignee, c.team, next, breached)
	if key == c.lastSA {
		return
	}
	c.lastSA = key
	updates := []temporal.SearchAttributeUpdate{
		ComplaintStatusKey.ValueSet(string(c.status)),
		AssigneeIDKey.ValueSet(c.assignee),
		BreachedKey.ValueSet(breached),
	}
	if c.team != "" {
		updates = append(updates, TeamIDKey.ValueSet(c.team))
	}
	if next != nil {
		updates = append(updates, NextDueAtKey.ValueSet(*next))
	} else {
		updates = append(updates, NextDueAtKey.ValueUnset())
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		c.log.Warn("search attributes not updated", "error", err)
	}
}

// state is the api.md view of the complaint at now.
func (c *complaint) state(now time.Time) ComplaintState {
	st := ComplaintState{
		ComplaintNo: c.in.ComplaintNo, Status: c.status, AssigneeID: c.assignee, TeamID: c.team,
		ReceivedAt: c.in.ReceivedAt, ResolvedAt: c.resolvedAt, FirstTimeFix: c.ftf,
		Escalations:   append([]Escalation(nil), c.escalations...),
		Events:        append([]Event(nil), c.events...),
		SurveyPending: c.status == StatusResolved && c.surveyed < c.resolutions,
		PolicyVersion: shownVersion(c.in.Policy.Version),
	}
	for _, k := range c.clocks {
		clk := Clock{
			Name: k.name, DueAt: k.due, MetAt: k.metAt, Paused: k.pausedAt != nil, PausedAt: k.pausedAt,
			WarnedAt: k.warnedAt, Breached: k.breached(),
		}
		if k.open() {
			warn, level2 := c.warnAt(k), c.level2DueOf(k)
			clk.WarnAt, clk.Level2DueAt = &warn, &level2
		}
		st.Clocks = append(st.Clocks, clk)
	}
	st.NextDueAt = c.nextDue()
	st.Refresh(now)
	return st
}

// level2DueOf is when level 2 fires for an unmet clock: fixed once level 1
// has fired (pauses and extensions move it there), else as level 1 will
// set it.
func (c *complaint) level2DueOf(k *clock) time.Time {
	if k.level1At != nil {
		return k.level2Due
	}
	return c.level2After(k)
}

// level2After is R3's level-2 instant of a clock missed at its current
// deadline: the policy's working days later, counted by R2 from the miss
// (a deadline at 00:00 is 24:00 of the day before, so count from the
// instant before it).
func (c *complaint) level2After(k *clock) time.Time {
	return c.stamp(c.cal.AddWorkingDays(k.due.Add(-time.Nanosecond), c.in.Policy.Level2WorkingDays))
}

// breached: the clock escalated, or was met late.
func (k *clock) breached() bool {
	return k.level1At != nil || (k.metAt != nil && !k.metAt.Before(k.due))
}

// nextDue is the complaint's next deadline: NextDue of its clocks while it
// is open or reopened, nil otherwise.
func (c *complaint) nextDue() *time.Time {
	if c.status != StatusOpen && c.status != StatusReopened {
		return nil
	}
	views := make([]Clock, len(c.clocks))
	for i, k := range c.clocks {
		views[i] = Clock{DueAt: k.due, MetAt: k.metAt, Paused: k.pausedAt != nil}
	}
	return NextDue(views)
}

// --- commands -------------------------------------------------------------

// invalid rejects field's value (its api.md name, e.g. "ratings.speed"):
// the message starts with the field for people; the details carry it for
// the HTTP layer (a 400 on that field), which never parses messages.
func invalid(field, format string, a ...any) error {
	return temporal.NewApplicationError(field+" "+fmt.Sprintf(format, a...), ErrInvalidInput,
		Rejection{Field: field, Code: ErrInvalidInput})
}

// conflict rejects a command the state forbids (HTTP 409).
func conflict(format string, a ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, a...), ErrConflict, Rejection{Code: ErrConflict})
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid(field, "is required")
	}
	return nil
}

func (c *complaint) active() error {
	if c.status != StatusOpen && c.status != StatusReopened {
		return conflict("the complaint is %s", c.status)
	}
	return nil
}

// registerHandlers registers the query and one Update per command of
// api.md. Validators run before anything enters history: a command the
// state forbids is rejected there (HTTP 409), bad input too (HTTP 400).
func (c *complaint) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ComplaintState, error) {
		return c.state(c.now(ctx)), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, QueryRecalculation, func(in RecalculateInput) ([]ClockChange, error) {
		cal, policy := c.rulesOf(in)
		return c.recalculated(cal, policy), nil
	}); err != nil {
		return err
	}
	return registerUpdates(ctx,
		update{UpdateContact, catchingUp(c, c.contact), c.validateContact},
		update{UpdatePlan, catchingUp(c, c.plan), c.validatePlan},
		update{UpdateResolve, catchingUp(c, c.resolve), c.validateResolve},
		update{UpdatePause, catchingUp(c, c.pause), c.validatePause},
		update{UpdateResume, catchingUp(c, c.resume), c.validateResume},
		update{UpdateReassign, catchingUp(c, c.reassign), c.validateReassign},
		update{UpdateExtend, catchingUp(c, c.extend), c.validateExtend},
		update{UpdateReopen, catchingUp(c, c.reopen), c.validateReopen},
		update{UpdateSurvey, catchingUp(c, c.survey), c.validateSurvey},
		update{UpdateRecalculate, catchingUp(c, c.recalculate), c.validateRecalculate},
		update{UpdateCreated, c.created, nil},
	)
}

// catchingUp runs a command after the clock actions already due. A command
// can reach the workflow in the same task as the timer of a deadline it
// missed, or with the start of a back-dated complaint, and run before the
// main loop has seen that clock: a contact 30 days late then met the
// contact clock with no escalation and no deduction (R3). Versioned: runs
// started before it apply the command as they did.
func catchingUp[In, Out any](c *complaint, command func(workflow.Context, In) (Out, error)) func(workflow.Context, In) (Out, error) {
	return func(ctx workflow.Context, in In) (Out, error) {
		if c.legible || workflow.GetVersion(ctx, "clocks-before-command", workflow.DefaultVersion, 1) == 1 {
			c.fireClocks(ctx, c.now(ctx))
		}
		return command(ctx, in)
	}
}

// done finishes a command: write the read model, answer with the new state.
func (c *complaint) done(ctx workflow.Context) (ComplaintState, error) {
	c.flush(ctx)
	return c.state(c.now(ctx)), nil
}

// created answers the create (UpdateCreated) once everything so far is in
// the read model, so the new complaint is in every list when the client
// hears of it. It changes nothing: no validator is needed.
func (c *complaint) created(ctx workflow.Context) (ComplaintState, error) {
	if err := workflow.Await(ctx, func() bool { return !c.unwritten() && c.flushing == 0 }); err != nil {
		return ComplaintState{}, err
	}
	return c.state(c.now(ctx)), nil
}

func (c *complaint) validateContact(ctx workflow.Context, in ContactInput) error {
	if err := c.active(); err != nil {
		return err
	}
	if !c.clock(ClockContact).open() {
		return conflict("the customer was already contacted")
	}
	if in.ContactedAt != nil {
		if in.ContactedAt.After(workflow.Now(ctx)) {
			return invalid("contacted_at", "is in the future")
		}
		if c.stamp(*in.ContactedAt).Before(c.in.ReceivedAt) {
			return invalid("contacted_at", "is before the complaint was received")
		}
	}
	return rejectBadFields(fieldProblem{"note", requiredText(in.Note, input.Note)})
}

func (c *complaint) contact(ctx workflow.Context, in ContactInput) (ComplaintState, error) {
	at := c.now(ctx)
	if in.ContactedAt != nil {
		at = c.stamp(*in.ContactedAt)
	}
	c.clock(ClockContact).metAt = &at
	c.addEvent(in.Actor, at, EventContacted, in.Note, nil)
	return c.done(ctx)
}

func (c *complaint) validatePlan(ctx workflow.Context, in PlanInput) error {
	if err := c.active(); err != nil {
		return err
	}
	if c.clock(ClockContact).open() {
		return conflict("a plan needs a first contact with the customer")
	}
	if !c.clock(ClockPlan).open() {
		return conflict("a plan was already given")
	}
	return rejectBadFields(fieldProblem{"plan", requiredText(in.Plan, input.Long)})
}

func (c *complaint) plan(ctx workflow.Context, in PlanInput) (ComplaintState, error) {
	now := c.now(ctx)
	c.clock(ClockPlan).metAt = &now
	c.addEvent(in.Actor, now, EventPlanned, in.Plan, nil)
	return c.done(ctx)
}

func (c *complaint) validateResolve(ctx workflow.Context, in ResolveInput) error {
	if err := c.active(); err != nil {
		return err
	}
	if c.clock(ClockPlan).open() {
		return conflict("resolving needs a plan first")
	}
	return rejectBadFields(fieldProblem{"resolution", requiredText(in.Resolution, input.Long)})
}

func (c *complaint) resolve(ctx workflow.Context, in ResolveInput) (ComplaintState, error) {
	now := c.now(ctx)
	k := c.clock(ClockResolution)
	if k.pausedAt != nil { // resolving ends a pause: the customer answered
		c.endPause(k, now)
	}
	k.metAt = &now
	c.status = StatusResolved
	c.resolvedAt = &now
	c.resolutions++
	c.addEvent(in.Actor, now, EventResolved, in.Resolution, map[string]any{"assignee": c.assignee})
	return c.done(ctx)
}

func (c *complaint) validatePause(ctx workflow.Context, in PauseInput) error {
	if err := c.active(); err != nil {
		return err
	}
	k := c.clock(ClockResolution)
	if k.pausedAt != nil {
		return conflict("the resolution clock is already paused")
	}
	return rejectBadFields(fieldProblem{"reason", requiredText(in.Reason, input.Note)})
}

// pause stops the resolution clock while waiting for the customer (R3);
// only that clock pauses, contact and plan never do.
func (c *complaint) pause(ctx workflow.Context, in PauseInput) (ComplaintState, error) {
	now := c.now(ctx)
	c.clock(ClockResolution).pausedAt = &now
	c.addEvent(in.Actor, now, EventPaused, in.Reason, map[string]any{"clock": string(ClockResolution)})
	return c.done(ctx)
}

func (c *complaint) validateResume(ctx workflow.Context, in ResumeInput) error {
	if err := c.active(); err != nil {
		return err
	}
	if c.clock(ClockResolution).pausedAt == nil {
		return conflict("the resolution clock is not paused")
	}
	return nil
}

func (c *complaint) resume(ctx workflow.Context, in ResumeInput) (ComplaintState, error) {
	now := c.now(ctx)
	paused := c.endPause(c.clock(ClockResolution), now)
	c.addEvent(in.Actor, now, EventResumed, "", map[string]any{"clock": string(ClockResolution), "paused_seconds": int64(paused / time.Second)})
	return c.done(ctx)
}

// endPause moves the deadline (and the clock's start, so the warning keeps
// its fraction) by the paused time: pause time does not count (R3).
func (c *complaint) endPause(k *clock, now time.Time) time.Duration {
	paused := now.Sub(*k.pausedAt)
	k.due = k.due.Add(paused)
	k.start = k.start.Add(paused)
	k.pausedFor += paused
	if k.level1At != nil && k.level2At == nil {
		k.level2Due = k.level2Due.Add(paused)
	}
	k.pausedAt = nil
	return paused
}

func (c *complaint) validateReassign(ctx workflow.Context, in ReassignInput) error {
	if err := c.active(); err != nil {
		return err
	}
	if in.AssigneeID == c.assignee {
		return conflict("%s is already the assignee", in.AssigneeID)
	}
	return rejectBadFields(fieldProblem{"assignee_id", input.ID(in.AssigneeID)}, fieldProblem{"team_id", optionalID(in.TeamID)},
		fieldProblem{"manager_id", optionalID(in.ManagerID)}, fieldProblem{"head_id", optionalID(in.HeadID)},
		fieldProblem{"reason", requiredText(in.Reason, input.Note)})
}

// reassign changes the assignee; every clock keeps running (R3).
func (c *complaint) reassign(ctx workflow.Context, in ReassignInput) (ComplaintState, error) {
	now := c.now(ctx)
	from := c.assignee
	c.assignee, c.team, c.manager, c.head = in.AssigneeID, in.TeamID, in.ManagerID, in.HeadID
	c.addEvent(in.Actor, now, EventReassigned, in.Reason, map[string]any{"from": from, "to": in.AssigneeID})
	return c.done(ctx)
}

func (c *complaint) validateExtend(ctx workflow.Context, in ExtendInput) error {
	if err := c.active(); err != nil {
		return err
	}
	k := c.clock(in.Clock)
	if k == nil {
		return invalid("clock", "must be contact, plan or resolution")
	}
	if !k.open() {
		return conflict("the %s clock is already met", in.Clock)
	}
	if p := input.Horizon(in.DueAt, workflow.Now(ctx)); p != "" {
		return invalid("due_at", "%s", p)
	}
	if !c.stamp(in.DueAt).After(k.due) {
		return conflict("a deadline may only move forward (now %s)", k.due.Format(time.RFC3339))
	}
	return rejectBadFields(fieldProblem{"reason", requiredText(in.Reason, input.Note)})
}

// extend moves a deadline forward with a reason. Escalations already sent
// stay (each fires once, R3); a pending level 2 moves with the deadline.
func (c *complaint) extend(ctx workflow.Context, in ExtendInput) (ComplaintState, error) {
	now := c.now(ctx)
	k := c.clock(in.Clock)
	old := k.due
	k.due = c.stamp(in.DueAt)
	k.extended = true
	if k.level1At != nil && k.level2At == nil {
		k.level2Due = c.level2After(k)
		if now.Before(k.due) { // the clock is no longer missed: level 2 waits for the new miss
			k.level2Due = maxTime(k.level2Due, k.due)
		}
	}
	c.addEvent(in.Actor, now, EventExtended, in.Reason, map[string]any{"clock": string(in.Clock), "old_due_at": old, "new_due_at": k.due})
	return c.done(ctx)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (c *complaint) validateReopen(ctx workflow.Context, in ReopenInput) error {
	if c.status != StatusResolved {
		return conflict("only a resolved complaint can be reopened (it is %s)", c.status)
	}
	if c.now(ctx).Sub(*c.resolvedAt) > c.in.Policy.ReopenWithin.Std() {
		return conflict("the reopen window has passed")
	}
	return rejectBadFields(fieldProblem{"reason", requiredText(in.Reason, input.Note)})
}

// reopen puts a resolved complaint back to work (R3): the repair is then not
// a first-time fix, and the resolution clock starts again from the reopen.
// Escalations already sent are not repeated (once per complaint, clock, level).
func (c *complaint) reopen(ctx workflow.Context, in ReopenInput) (ComplaintState, error) {
	now := c.now(ctx)
	k := c.clock(ClockResolution)
	k.start, k.base, k.pausedFor, k.extended, k.metAt, k.warnedAt = now, now, 0, false, nil, nil
	k.due = c.dueOf(k, c.cal, c.in.Policy)
	if k.level1At != nil && k.level2At == nil {
		// Level 1 was spent on the first miss; level 2 waits for a miss of the new deadline.
		k.level2Due = c.level2After(k)
	}
	c.status = StatusReopened
	c.resolvedAt = nil
	c.ftf = false
	c.addEvent(in.Actor, now, EventReopened, in.Reason, nil)
	return c.done(ctx)
}

func (c *complaint) validateSurvey(ctx workflow.Context, in SurveyInput) error {
	if c.status != StatusResolved {
		return conflict("a survey needs a resolved complaint (it is %s)", c.status)
	}
	if c.surveyed >= c.resolutions {
		return conflict("this resolution already has its survey")
	}
	if field, bad := in.Ratings.Invalid(); bad {
		return invalid("ratings."+field, "must be 1..5")
	}
	if in.SurveyedAt != nil {
		if in.SurveyedAt.After(workflow.Now(ctx)) {
			return invalid("surveyed_at", "is in the future")
		}
		if c.stamp(*in.SurveyedAt).Before(c.in.ReceivedAt) {
			return invalid("surveyed_at", "is before the complaint was received")
		}
	}
	return nil
}

// survey records the customer's satisfaction survey, one per resolution (R4.1).
func (c *complaint) survey(ctx workflow.Context, in SurveyInput) (ComplaintState, error) {
	now := c.now(ctx)
	at := now
	if in.SurveyedAt != nil {
		at = c.stamp(*in.SurveyedAt)
	}
	c.surveyed = c.resolutions
	c.pending.Survey = &SurveyRecord{
		ComplaintNo: c.in.ComplaintNo, Resolution: c.resolutions, EmployeeID: c.assignee,
		Ratings: in.Ratings, Score: in.Ratings.Score(), SurveyedAt: at, RecordedBy: in.Actor,
	}
	c.addEvent(in.Actor, now, EventSurveyed, "", map[string]any{"score": in.Ratings.Score()})
	return c.done(ctx)
}

// --- recalculation (R2, last rule) ------------------------------------------

// rulesOf is the calendar and policy a recalculation brings: the given
// overrides in the complaint's zone, and the given policy or its own.
func (c *complaint) rulesOf(in RecalculateInput) (*calendar.Calendar, SLAPolicy) {
	policy := c.in.Policy
	if in.Policy != nil {
		policy = *in.Policy
	}
	return calendar.New(c.cal.Location(), in.Calendar), policy
}

// recalculated is what the running clocks' deadlines would become under
// cal and policy: one change per clock that moves. A met clock keeps its
// deadline (it is history), and so does an extended one (an officer's
// decision, with its reason); a paused clock moves like a running one.
func (c *complaint) recalculated(cal *calendar.Calendar, policy SLAPolicy) []ClockChange {
	if c.active() != nil {
		return nil
	}
	changes := []ClockChange{}
	for _, k := range c.clocks {
		if !k.open() || k.extended {
			continue
		}
		if due := c.dueOf(k, cal, policy); !due.Equal(k.due) {
			changes = append(changes, ClockChange{Clock: k.name, OldDueAt: k.due, NewDueAt: due})
		}
	}
	return changes
}

func (c *complaint) validateRecalculate(ctx workflow.Context, in RecalculateInput) error {
	if err := c.active(); err != nil {
		return err
	}
	if in.Policy != nil {
		if err := in.Policy.Validate(); err != nil {
			return invalid("policy", "%v", err)
		}
	}
	if len(in.Calendar) > maxCalendarOverrides {
		return invalid("calendar", "has more than %d overrides", maxCalendarOverrides)
	}
	return rejectBadFields(fieldProblem{"batch_id", input.Key(in.BatchID)}, fieldProblem{"reason", requiredText(in.Reason, input.Note)})
}

// recalculate applies the calendar and policy of a recorded recalculation
// (R2, last rule) to the running clocks, with who, when, why, and old and
// new deadline in the audit trail. Escalations already sent stay sent; a
// clock whose new deadline has passed escalates now, once (fireClocks, the
// same path as every miss). A recalculation that moves nothing changes
// nothing and records nothing.
func (c *complaint) recalculate(ctx workflow.Context, in RecalculateInput) (RecalculateResult, error) {
	now := c.now(ctx)
	cal, policy := c.rulesOf(in)
	changes := c.recalculated(cal, policy)
	if len(changes) == 0 && shownVersion(policy.Version) == shownVersion(c.in.Policy.Version) {
		st, err := c.done(ctx)
		return RecalculateResult{State: st, Changes: changes}, err
	}
	from := shownVersion(c.in.Policy.Version)
	c.cal, c.in.Calendar, c.in.Policy = cal, in.Calendar, policy
	moved := make([]map[string]any, 0, len(changes))
	for _, ch := range changes {
		k := c.clock(ch.Clock)
		k.due = ch.NewDueAt
		if k.level1At != nil && k.level2At == nil {
			k.level2Due = c.level2After(k)
			if now.Before(k.due) { // no longer missed: level 2 waits for the new miss
				k.level2Due = maxTime(k.level2Due, k.due)
			}
		}
		moved = append(moved, map[string]any{"clock": string(ch.Clock), "old_due_at": ch.OldDueAt, "new_due_at": ch.NewDueAt})
	}
	c.addEvent(in.Actor, now, EventRecalculated, in.Reason, map[string]any{
		"batch_id": in.BatchID, "changes": moved, "policy_version_from": from, "policy_version": shownVersion(policy.Version),
	})
	c.fireClocks(ctx, now)
	st, err := c.done(ctx)
	return RecalculateResult{State: st, Changes: changes, Applied: true}, err
}

// IsRejection reports whether err is a validator's rejection of kind typ.
func IsRejection(err error, typ string) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == typ
}

// Rejection is what a validator's refusal carries in its details: the
// field it is about (none for a conflict) and its kind.
type Rejection struct {
	Field string `json:"field,omitempty"`
	Code  string `json:"code"`
}

// RejectionOf reads a refusal: its details and its message for people,
// without the SDK's wrapping and without the field it starts with.
func RejectionOf(err error) (Rejection, string) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return Rejection{}, err.Error()
	}
	var r Rejection
	if app.HasDetails() {
		_ = app.Details(&r) // refusals of older workers carry none: the message alone
	}
	return r, strings.TrimPrefix(app.Message(), r.Field+" ")
}
