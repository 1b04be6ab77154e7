package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/input"
)

// AssessmentCycle runs one month's CSI assessment (R4.5): compute and
// publish the results, hold the publication window of N working days during
// which results may be appealed (R6), wait for every appeal of the month,
// then finalize (results final, probation flags) and nominate the month's
// CSI service stars (R5.2).
//
// It is also the gate of late entries (R4.0, UpdateLateEntry): an entry
// dated in the month counts only if the cycle accepts it, and an accepted
// entry is recomputed before the cycle answers and before it can finalize.
//
// Its history is bounded (issue 13): past its budget it continues as new
// at a safe point, carrying its state (CycleCarried), so its ID, queries
// and updates go on across the boundary.
func AssessmentCycle(ctx workflow.Context, in CycleInput) (CycleState, error) {
	// The month as the HTTP layer checks it (package input): YYYY-MM within
	// the horizon (a year wide: the zone does not matter here).
	if _, p := input.Month(in.Month, time.UTC, workflow.Now(ctx)); p != "" {
		return CycleState{}, temporal.NewNonRetryableApplicationError("month "+p, ErrInvalidInput, nil)
	}
	c := &cycle{in: in, log: workflow.GetLogger(ctx), appeals: map[string]AppealStatus{}}
	c.rec = CycleRecord{Month: in.Month, Status: CycleComputing, StartedBy: in.StartedBy}
	if in.Carried != nil {
		if err := c.restore(in.Carried); err != nil {
			return c.state(), err
		}
	}
	if err := c.registerHandlers(ctx); err != nil {
		return CycleState{}, err
	}
	workflow.Go(ctx, c.recomputeOnLateEntries)
	workflow.Go(ctx, c.countLateEntries)
	workflow.Go(ctx, c.receiveAppealEnds)
	return c.run(ctx)
}

// changeBounded is the GetVersion change of issue 13: runs that took it
// continue as new past their budget, open appeals that tell the cycle when
// they end, and wait for the window on a timer they can cancel. Runs
// started before it replay as released.
const changeBounded = "cycle-continue-as-new"

// windowTimer is the publication window's timer as the UI shows it.
var windowTimer = workflow.TimerOptions{Summary: "publication window ends (R4.5)"}

// recomputeOnLateEntries reruns ComputeResults whenever late entries for
// the month arrive while its results are published (R4.0). ComputeResults
// never touches a corrected or final result, and signals that arrive
// together are served by one run. Kept for the signal's senders of the
// release before UpdateLateEntry (and the cycles they signalled).
func (c *cycle) recomputeOnLateEntries(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalRecompute)
	for {
		ch.Receive(ctx, nil)
		// An entry written while the first run was computing may have been
		// missed by it: wait for publication, then run again.
		if err := workflow.Await(ctx, func() bool { return c.rec.Status != CycleComputing }); err != nil {
			return
		}
		for ch.ReceiveAsync(nil) {
		}
		if c.rec.Status != CyclePublished {
			continue // past the window entries are refused (HTTP 409)
		}
		c.recomputing++
		err := c.recompute(ctx)
		c.recomputing--
		if err != nil {
			c.log.Error("recompute failed", "error", err)
		}
	}
}

// countLateEntries serves the accepted late entries (UpdateLateEntry): once
// the month is computed, one ComputeResults run for every entry accepted
// before it started. ComputeResults takes the month's lock exclusively
// (activities.ComputeResults), so it starts only once the transactions of
// those entries have ended: an entry committed is counted.
func (c *cycle) countLateEntries(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return c.lateDone < c.lateAsked && c.rec.Status != CycleComputing }); err != nil {
			return
		}
		upTo := c.lateAsked
		c.recomputing++
		err := c.recompute(ctx)
		c.recomputing--
		if err != nil {
			c.log.Error("recompute for late entries failed", "error", err)
			c.lateFailed = upTo
		}
		c.lateDone = upTo
	}
}

// recompute reruns ComputeResults and keeps its answer.
func (c *cycle) recompute(ctx workflow.Context) error {
	var out ComputeResultsOutput
	if err := workflow.ExecuteActivity(activityOptions(ctx), ActivityComputeResults, c.computeInput()).Get(ctx, &out); err != nil {
		return err
	}
	for _, r := range out.Results {
		c.results[r.AssessmentID] = r
	}
	c.rec.ResultsCount = len(c.results)
	return nil
}

// computeInput is the cycle's input without what only the workflow needs.
func (c *cycle) computeInput() CycleInput {
	return CycleInput{Month: c.in.Month, StartedBy: c.in.StartedBy, Policy: c.in.Policy, Location: c.in.Location}
}

// receiveAppealEnds takes SignalAppealEnded: how a run learns of the end of
// an appeal opened by a run before it (no longer its child).
func (c *cycle) receiveAppealEnds(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalAppealEnded)
	for {
		var e AppealEnded
		if !ch.Receive(ctx, &e) {
			return
		}
		st := e.Status
		if e.Failed || st == AppealOpen {
			st = AppealRejected
		}
		c.appealEnded(e.AppealID, st)
	}
}

// appealEnded counts an appeal's end once: its signal and its child's
// completion may both tell it.
func (c *cycle) appealEnded(id string, st AppealStatus) {
	if c.appeals[id] != AppealOpen {
		return
	}
	c.appeals[id] = st
	c.pending--
}

type cycle struct {
	in      CycleInput
	log     log.Logger
	cal     *calendar.Calendar
	rec     CycleRecord
	results map[string]ResultRef // by assessment id
	appeals map[string]AppealStatus
	// pending counts appeals that have not ended.
	pending int
	// recomputing counts ComputeResults runs for late entries in flight.
	recomputing int
	// bounded: this run took changeBounded.
	bounded bool
	// updates counts the updates this run accepted (its budget).
	updates int
	// Late entries (UpdateLateEntry): lateAsked numbers the accepted ones,
	// lateDone is the last one a recompute has served, lateFailed the last
	// one whose recompute failed; lateCounted counts the counted ones over
	// every run.
	lateAsked, lateDone, lateFailed, lateCounted int
	// continued counts the runs before this one.
	continued int
}

// restore takes the state a run before this one carried (continue-as-new).
func (c *cycle) restore(k *CycleCarried) error {
	var err error
	if c.cal, err = newCalendar(c.in.Location, k.Calendar); err != nil {
		return err
	}
	c.rec = k.Record
	c.results = make(map[string]ResultRef, len(k.Results))
	for _, r := range k.Results {
		c.results[r.AssessmentID] = r
	}
	// Sorted keys: deterministic whatever the map's order.
	//workflowcheck:ignore
	for _, id := range slices.Sorted(maps.Keys(k.Appeals)) {
		c.appeals[id] = k.Appeals[id]
		if k.Appeals[id] == AppealOpen {
			c.pending++
		}
	}
	c.lateCounted, c.continued, c.bounded = k.LateEntries, k.Continued, true
	return nil
}

// activityOptions retry for as long as a database outage could last, at
// most 10 s apart so the read model catches up within seconds of its return: the
// cycle must not fail because PostgreSQL was down for an hour.
func activityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second},
	})
}

func (c *cycle) run(ctx workflow.Context) (CycleState, error) {
	if c.in.Carried == nil {
		c.bounded = workflow.GetVersion(ctx, changeBounded, workflow.DefaultVersion, 1) == 1
		if err := c.publish(ctx); err != nil {
			return c.state(), err
		}
	}
	if c.rec.Status == CyclePublished {
		ended, err := c.holdWindow(ctx)
		if err != nil {
			return c.state(), err
		}
		if !ended {
			return c.continueAsNew(ctx)
		}
		c.rec.Status = CycleClosing
		if err := c.record(ctx); err != nil {
			return c.state(), err
		}
	}
	// Final only when every appeal of the month has ended (R4.5, R6), and
	// every late entry accepted in the window is counted (R4.0).
	settled := func() bool { return c.pending == 0 && c.recomputing == 0 && workflow.AllHandlersFinished(ctx) }
	if err := workflow.Await(ctx, func() bool { return settled() || c.continueWanted(ctx) }); err != nil {
		return c.state(), err
	}
	if !settled() {
		return c.continueAsNew(ctx)
	}
	var fin FinalizeOutput
	at := workflow.Now(ctx)
	if err := workflow.ExecuteActivity(activityOptions(ctx), ActivityFinalizeCycle, FinalizeInput{Month: c.in.Month, At: at, Policy: c.in.Policy, Location: c.in.Location}).Get(ctx, &fin); err != nil {
		return c.state(), err
	}
	c.rec.Status, c.rec.FinalizedAt = CycleFinal, &at
	c.nominateServiceStars(ctx, fin.ServiceStars, fin.RewardPolicy)
	return c.state(), c.record(ctx)
}

// publish computes the month and publishes it: open to appeal until the end
// of the N-th working day (R4.5, R2).
func (c *cycle) publish(ctx workflow.Context) error {
	actx := activityOptions(ctx)
	var overrides []calendar.Override
	if err := workflow.ExecuteActivity(actx, ActivityCalendarOverrides).Get(ctx, &overrides); err != nil {
		return err
	}
	var err error
	if c.cal, err = newCalendar(c.in.Location, overrides); err != nil {
		return err
	}
	var out ComputeResultsOutput
	if err := workflow.ExecuteActivity(actx, ActivityComputeResults, c.computeInput()).Get(ctx, &out); err != nil {
		return err
	}
	c.results = map[string]ResultRef{}
	for _, r := range out.Results {
		c.results[r.AssessmentID] = r
	}
	now := workflow.Now(ctx)
	ends := c.cal.AddWorkingDays(now, c.in.Policy.PublicationWorkingDays)
	if c.in.Policy.PublicationWindow > 0 {
		ends = now.Add(c.in.Policy.PublicationWindow.Std())
	}
	c.rec.Status, c.rec.PublishedAt, c.rec.WindowEndsAt, c.rec.ResultsCount = CyclePublished, &now, &ends, len(out.Results)
	return c.record(ctx)
}

// holdWindow waits for the end of the publication window (R4.5) and
// reports whether it ended. A bounded run waits on a timer it cancels when
// its history is over budget first (at a safe point): the caller then
// continues as new, and the next run waits for the rest of the window.
func (c *cycle) holdWindow(ctx workflow.Context) (bool, error) {
	if !c.bounded {
		// As released: one timer from publication, slept on.
		d := c.rec.WindowEndsAt.Sub(*c.rec.PublishedAt)
		return true, workflow.NewTimerWithOptions(ctx, d, windowTimer).Get(ctx, nil)
	}
	d := c.rec.WindowEndsAt.Sub(workflow.Now(ctx))
	if d <= 0 {
		return true, nil
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimerWithOptions(tctx, d, windowTimer)
	if err := workflow.Await(ctx, func() bool { return timer.IsReady() || c.continueWanted(ctx) }); err != nil {
		return false, err
	}
	if !timer.IsReady() {
		return false, nil // cancelled by the deferred cancel
	}
	return true, timer.Get(ctx, nil)
}

// budget is the input's, each zero field DefaultCycleBudget's.
func (c *cycle) budget() CycleBudget {
	return CycleBudget{
		Events:  cmp.Or(c.in.Budget.Events, DefaultCycleBudget.Events),
		Updates: cmp.Or(c.in.Budget.Updates, DefaultCycleBudget.Updates),
	}
}

// continueWanted: this run is past its budget (or the server suggests
// continuing as new) and at a safe point, where nothing is in flight that
// the next run could not carry: no update handler (an appeal being opened,
// a late entry waiting for its recompute), no recompute, no signal not yet
// taken.
func (c *cycle) continueWanted(ctx workflow.Context) bool {
	if !c.bounded {
		return false
	}
	b := c.budget()
	if !continueAsNewDue(ctx, b.Events) && c.updates < b.Updates {
		return false
	}
	return workflow.AllHandlersFinished(ctx) && c.recomputing == 0 && c.lateDone == c.lateAsked &&
		workflow.GetSignalChannel(ctx, SignalRecompute).Len() == 0 && workflow.GetSignalChannel(ctx, SignalAppealEnded).Len() == 0
}

// continueAsNew hands the state to the next run under the same workflow ID.
// Appeals still open are not its children: they signal their end
// (NotifyCycle, set on every appeal a bounded run opens).
func (c *cycle) continueAsNew(ctx workflow.Context) (CycleState, error) {
	next := c.computeInput()
	next.Budget = c.in.Budget
	rec := c.rec
	rec.OpenAppeals = c.pending
	results := make([]ResultRef, 0, len(c.results))
	// Sorted keys: deterministic whatever the map's order.
	//workflowcheck:ignore
	for _, id := range slices.Sorted(maps.Keys(c.results)) {
		results = append(results, c.results[id])
	}
	next.Carried = &CycleCarried{Record: rec, Results: results, Appeals: c.appeals, Calendar: c.cal.Overrides(),
		LateEntries: c.lateCounted, Continued: c.continued + 1}
	c.log.Info("continuing as new", "month", c.in.Month, "status", c.rec.Status, "history_length", workflow.GetInfo(ctx).GetCurrentHistoryLength(),
		"updates", c.updates, "open_appeals", c.pending)
	return c.state(), workflow.NewContinueAsNewError(ctx, AssessmentCycleWorkflowType, next)
}

// nominateServiceStars is the one seam between the assessment and the
// reward approval (R5.2): each of the month's CSI service stars gets an
// honour nomination, a RewardApproval of its own (nominated by the system,
// so step 1 is the nominee's department head). The nomination number is
// derived from month and employee, so a rerun never nominates twice.
func (c *cycle) nominateServiceStars(ctx workflow.Context, stars []ServiceStar, policy RewardPolicy) {
	c.rec.ServiceStars = stars
	now := workflow.Now(ctx)
	for _, star := range stars {
		no := ServiceStarNominationNo(c.in.Month, star.EmployeeID)
		nomination := RewardInput{
			NominationNo: no, NomineeID: star.EmployeeID, NominatorID: SystemNominator, Kind: KindHonour,
			Reason: "CSI service star " + c.in.Month, AssessmentID: star.AssessmentID, HeadID: c.results[star.AssessmentID].HeadID,
			NominatedAt: now, Policy: policy, Calendar: c.cal.Overrides(), Location: c.in.Location,
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            RewardWorkflowID(no),
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			StaticSummary:         nomination.StaticSummary(),
			StaticDetails:         nomination.StaticDetails(),
		})
		err := workflow.ExecuteChildWorkflow(cctx, RewardWorkflowType, nomination).GetChildWorkflowExecution().Get(ctx, nil)
		var started *temporal.ChildWorkflowExecutionAlreadyStartedError
		if err != nil && !errors.As(err, &started) {
			c.log.Error("service star not nominated", "nomination_no", no, "error", err)
		}
	}
}

func (c *cycle) record(ctx workflow.Context) error {
	c.rec.OpenAppeals = c.pending
	return carryOnIfRefused(ctx, workflow.ExecuteActivity(activityOptions(ctx), ActivityRecordCycle, c.rec).Get(ctx, nil))
}

func (c *cycle) state() CycleState {
	// The map is encoded right away by the query or the result, never mutated by the caller.
	st := CycleState{CycleRecord: c.rec, Appeals: c.appeals, PolicyVersion: shownVersion(c.in.Policy.Version),
		LateEntries: c.lateCounted, LateEntriesPending: c.lateAsked - c.lateDone, ContinuedAsNew: c.continued}
	st.OpenAppeals = c.pending
	return st
}

func (c *cycle) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryCycle, func() (CycleState, error) { return c.state(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateOpenAppeal, c.openAppeal,
		workflow.UpdateHandlerOptions{Validator: c.validateOpenAppeal}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateLateEntry, c.lateEntry,
		workflow.UpdateHandlerOptions{Validator: c.validateLateEntry})
}

// validateLateEntry is the gate of R4.0 with R4.5: an entry dated in the
// month is taken while the month is computing (the handler waits for the
// results, then recomputes) or published with its window open; from the
// window's end (closing, final) it is refused, as an appeal is: a result
// must not change once it can no longer be appealed. The cycle decides
// from its own state, never from PostgreSQL's copy of it, which lags.
func (c *cycle) validateLateEntry(ctx workflow.Context, in LateEntryInput) error {
	if err := rejectBadFields(fieldProblem{"key", input.ID(in.Key)}, fieldProblem{"entry", input.Line(in.Entry, input.Name)}); err != nil {
		return err
	}
	if in.At.IsZero() {
		return invalid("at", "is required: the entry's own instant (R4.0)")
	}
	if in.At.In(c.cal.Location()).Format("2006-01") != c.in.Month {
		return invalid("at", "%s is not in %s (R4.0)", in.At.Format(time.RFC3339), c.in.Month)
	}
	switch {
	case c.rec.Status == CycleComputing:
		return nil
	case c.rec.Status == CyclePublished && c.rec.WindowEndsAt != nil && workflow.Now(ctx).Before(*c.rec.WindowEndsAt):
		return nil
	}
	return conflict("the assessment of %s is past its publication window (R4.5): entries dated in it are closed", c.in.Month)
}

// lateEntry answers once the month has been recomputed after the entry was
// accepted (countLateEntries): the answer means "counted". The cycle does
// not finalize while one is in flight (AllHandlersFinished), so an entry
// accepted just before the window ended is counted, never lost.
func (c *cycle) lateEntry(ctx workflow.Context, in LateEntryInput) (LateEntryOutput, error) {
	c.updates++
	c.lateAsked++
	mine := c.lateAsked
	if err := workflow.Await(ctx, func() bool { return c.lateDone >= mine }); err != nil {
		return LateEntryOutput{}, err
	}
	if c.lateFailed >= mine {
		return LateEntryOutput{}, fmt.Errorf("the results of %s were not recomputed; the entry is counted by the next recompute", c.in.Month)
	}
	c.lateCounted++
	return LateEntryOutput{Month: c.in.Month, Counted: true, Status: c.rec.Status, ResultsCount: len(c.results)}, nil
}

// validateOpenAppeal is R6: the assessed employee, against their own
// result, during its publication period, one appeal per result.
func (c *cycle) validateOpenAppeal(ctx workflow.Context, in OpenAppealInput) error {
	if c.rec.Status != CyclePublished || c.rec.WindowEndsAt == nil || !workflow.Now(ctx).Before(*c.rec.WindowEndsAt) {
		return conflict("the publication window of %s is not open", c.in.Month)
	}
	if err := rejectBadFields(fieldProblem{"assessment_id", input.ID(in.AssessmentID)}); err != nil {
		return err
	}
	r, ok := c.results[in.AssessmentID]
	if !ok {
		return conflict("no published result %s in %s", in.AssessmentID, c.in.Month)
	}
	if r.EmployeeID != in.AppellantID {
		return conflict("only the assessed employee may appeal their result")
	}
	if _, dup := c.appeals[AppealID(in.AssessmentID)]; dup {
		return conflict("result %s already has an appeal", in.AssessmentID)
	}
	// Long, as the HTTP layer's bound on an appeal's reason: never stricter than it.
	return rejectBadFields(fieldProblem{"reason", requiredText(in.Reason, input.Long)})
}

// openAppeal starts the appeal as a child workflow: the cycle then knows,
// from the child's completion, when the month's appeals are done.
func (c *cycle) openAppeal(ctx workflow.Context, in OpenAppealInput) (OpenAppealOutput, error) {
	r := c.results[in.AssessmentID]
	id := AppealID(in.AssessmentID)
	appeal := AppealInput{
		AppealID: id, AssessmentID: in.AssessmentID, Month: c.in.Month, AppellantID: in.AppellantID,
		ManagerID: r.ManagerID, HeadID: r.HeadID, Reason: strings.TrimSpace(in.Reason), OpenedAt: workflow.Now(ctx),
		Score: r.Score, Policy: c.in.Policy, Calendar: c.cal.Overrides(), Location: c.in.Location,
		NotifyCycle: c.bounded,
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            AppealWorkflowID(in.AssessmentID),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:         appeal.StaticSummary(),
	})
	child := workflow.ExecuteChildWorkflow(cctx, AppealWorkflowType, appeal)
	// State changes only once the appeal exists. Finalizing cannot slip in
	// meanwhile: it waits for every handler to finish.
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return OpenAppealOutput{}, conflict("the appeal could not be started: %v", err)
	}
	c.updates++
	c.appeals[id] = AppealOpen
	c.pending++
	// Its end comes from the child's completion in this run, or from its
	// signal (NotifyCycle) in whichever run is current then.
	workflow.Go(ctx, func(ctx workflow.Context) {
		var st AppealState
		if err := child.Get(ctx, &st); err != nil {
			c.log.Error("appeal ended with an error", "appeal", id, "error", err)
			st.Status = AppealRejected
		}
		c.appealEnded(id, st.Status)
	})
	return OpenAppealOutput{AppealID: id, WorkflowID: AppealWorkflowID(in.AssessmentID)}, c.record(ctx)
}

// MonthlyCycleStarter is what the Schedule runs on the 1st at 02:00 (R4.5):
// it starts the previous month's cycle under its month's ID, or finds the
// one HR already started early.
func MonthlyCycleStarter(ctx workflow.Context, policy AssessmentPolicy, location string) (string, error) {
	loc, err := zoneOf(location)
	if err != nil {
		return "", err
	}
	now := workflow.Now(ctx).In(loc)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0).Format("2006-01")
	// The cycle runs by the assessment policy in force now (issue 12), not
	// the one the Schedule was created with; the Schedule's publication
	// window, a demo setting, still applies. Versioned: starters recorded
	// before it started the cycle with the Schedule's policy.
	if workflow.GetVersion(ctx, "policy-in-force", workflow.DefaultVersion, 1) == 1 {
		var inForce AssessmentPolicy
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second,
			Summary: "the assessment policy in force"})
		if err := workflow.ExecuteLocalActivity(lctx, ActivityAssessmentPolicy, now).Get(ctx, &inForce); err != nil {
			return month, err
		}
		inForce.PublicationWindow = policy.PublicationWindow
		policy = inForce
	}
	// It has no timer; the summaries (issue 13 item 5) name what it starts
	// in the UI. Summaries are metadata: replay does not compare them.
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            AssessmentCycleWorkflowID(month),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:         "assessment cycle of " + month + " (R4.5)",
	})
	err = workflow.ExecuteChildWorkflow(cctx, AssessmentCycleWorkflowType, CycleInput{
		Month: month, StartedBy: "schedule", Policy: policy, Location: location,
	}).GetChildWorkflowExecution().Get(ctx, nil)
	var started *temporal.ChildWorkflowExecutionAlreadyStartedError
	if err != nil && !errors.As(err, &started) {
		return month, err
	}
	return month, nil
}
