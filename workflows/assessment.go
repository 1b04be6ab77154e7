package workflows

import (
	"errors"
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
func AssessmentCycle(ctx workflow.Context, in CycleInput) (CycleState, error) {
	// The month as the HTTP layer checks it (package input): YYYY-MM within
	// the horizon (a year wide: the zone does not matter here).
	if _, p := input.Month(in.Month, time.UTC, workflow.Now(ctx)); p != "" {
		return CycleState{}, temporal.NewNonRetryableApplicationError("month "+p, ErrInvalidInput, nil)
	}
	c := &cycle{in: in, log: workflow.GetLogger(ctx), appeals: map[string]AppealStatus{}}
	c.rec = CycleRecord{Month: in.Month, Status: CycleComputing, StartedBy: in.StartedBy}
	if err := c.registerHandlers(ctx); err != nil {
		return CycleState{}, err
	}
	workflow.Go(ctx, c.recomputeOnLateEntries)
	return c.run(ctx)
}

// recomputeOnLateEntries reruns ComputeResults whenever late entries for
// the month arrive while its results are published (R4.0). ComputeResults
// never touches a corrected or final result, and signals that arrive
// together are served by one run.
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
		var out ComputeResultsOutput
		err := workflow.ExecuteActivity(activityOptions(ctx), ActivityComputeResults, c.in).Get(ctx, &out)
		c.recomputing--
		if err != nil {
			c.log.Error("recompute failed", "error", err)
			continue
		}
		for _, r := range out.Results {
			c.results[r.AssessmentID] = r
		}
		c.rec.ResultsCount = len(c.results)
	}
}

type cycle struct {
	in      CycleInput
	log     log.Logger
	cal     *calendar.Calendar
	rec     CycleRecord
	results map[string]ResultRef // by assessment id
	appeals map[string]AppealStatus
	// pending counts appeals whose child workflow has not ended.
	pending int
	// recomputing counts ComputeResults runs for late entries in flight.
	recomputing int
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
	actx := activityOptions(ctx)
	var overrides []calendar.Override
	if err := workflow.ExecuteActivity(actx, ActivityCalendarOverrides).Get(ctx, &overrides); err != nil {
		return c.state(), err
	}
	var err error
	if c.cal, err = newCalendar(c.in.Location, overrides); err != nil {
		return c.state(), err
	}
	var out ComputeResultsOutput
	if err := workflow.ExecuteActivity(actx, ActivityComputeResults, c.in).Get(ctx, &out); err != nil {
		return c.state(), err
	}
	c.results = map[string]ResultRef{}
	for _, r := range out.Results {
		c.results[r.AssessmentID] = r
	}
	// Published: open to appeal until the end of the N-th working day (R4.5, R2).
	now := workflow.Now(ctx)
	ends := c.cal.AddWorkingDays(now, c.in.Policy.PublicationWorkingDays)
	if c.in.Policy.PublicationWindow > 0 {
		ends = now.Add(c.in.Policy.PublicationWindow.Std())
	}
	c.rec.Status, c.rec.PublishedAt, c.rec.WindowEndsAt, c.rec.ResultsCount = CyclePublished, &now, &ends, len(out.Results)
	if err := c.record(ctx); err != nil {
		return c.state(), err
	}
	if err := workflow.Sleep(ctx, ends.Sub(now)); err != nil {
		return c.state(), err
	}
	c.rec.Status = CycleClosing
	if err := c.record(ctx); err != nil {
		return c.state(), err
	}
	// Final only when every appeal of the month has ended (R4.5, R6).
	if err := workflow.Await(ctx, func() bool {
		return c.pending == 0 && c.recomputing == 0 && workflow.AllHandlersFinished(ctx)
	}); err != nil {
		return c.state(), err
	}
	var fin FinalizeOutput
	at := workflow.Now(ctx)
	if err := workflow.ExecuteActivity(actx, ActivityFinalizeCycle, FinalizeInput{Month: c.in.Month, At: at, Policy: c.in.Policy, Location: c.in.Location}).Get(ctx, &fin); err != nil {
		return c.state(), err
	}
	c.rec.Status, c.rec.FinalizedAt = CycleFinal, &at
	c.nominateServiceStars(ctx, fin.ServiceStars, fin.RewardPolicy)
	return c.state(), c.record(ctx)
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
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            RewardWorkflowID(no),
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		})
		err := workflow.ExecuteChildWorkflow(cctx, RewardWorkflowType, RewardInput{
			NominationNo: no, NomineeID: star.EmployeeID, NominatorID: SystemNominator, Kind: KindHonour,
			Reason: "CSI service star " + c.in.Month, AssessmentID: star.AssessmentID, HeadID: c.results[star.AssessmentID].HeadID,
			NominatedAt: now, Policy: policy, Calendar: c.cal.Overrides(), Location: c.in.Location,
		}).GetChildWorkflowExecution().Get(ctx, nil)
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
	st := CycleState{CycleRecord: c.rec, Appeals: c.appeals, PolicyVersion: shownVersion(c.in.Policy.Version)}
	st.OpenAppeals = c.pending
	return st
}

func (c *cycle) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryCycle, func() (CycleState, error) { return c.state(), nil }); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateOpenAppeal, c.openAppeal,
		workflow.UpdateHandlerOptions{Validator: c.validateOpenAppeal})
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
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            AppealWorkflowID(in.AssessmentID),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
	})
	child := workflow.ExecuteChildWorkflow(cctx, AppealWorkflowType, AppealInput{
		AppealID: id, AssessmentID: in.AssessmentID, Month: c.in.Month, AppellantID: in.AppellantID,
		ManagerID: r.ManagerID, HeadID: r.HeadID, Reason: strings.TrimSpace(in.Reason), OpenedAt: workflow.Now(ctx),
		Score: r.Score, Policy: c.in.Policy, Calendar: c.cal.Overrides(), Location: c.in.Location,
	})
	// State changes only once the appeal exists. Finalizing cannot slip in
	// meanwhile: it waits for every handler to finish.
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return OpenAppealOutput{}, conflict("the appeal could not be started: %v", err)
	}
	c.appeals[id] = AppealOpen
	c.pending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		var st AppealState
		if err := child.Get(ctx, &st); err != nil {
			c.log.Error("appeal ended with an error", "appeal", id, "error", err)
			st.Status = AppealRejected
		}
		c.appeals[id] = st.Status
		c.pending--
	})
	return OpenAppealOutput{AppealID: id, WorkflowID: AppealWorkflowID(in.AssessmentID)}, c.record(ctx)
}

// newCalendar builds the calendar of a workflow from the overrides it
// recorded and its zone (deterministic: the zone data is compiled in).
func newCalendar(location string, overrides []calendar.Override) (*calendar.Calendar, error) {
	loc := time.UTC
	if location != "" {
		var err error
		if loc, err = time.LoadLocation(location); err != nil {
			return nil, temporal.NewNonRetryableApplicationError("unknown location", ErrInvalidInput, err)
		}
	}
	return calendar.New(loc, overrides), nil
}

// MonthlyCycleStarter is what the Schedule runs on the 1st at 02:00 (R4.5):
// it starts the previous month's cycle under its month's ID, or finds the
// one HR already started early.
func MonthlyCycleStarter(ctx workflow.Context, policy AssessmentPolicy, location string) (string, error) {
	loc, err := time.LoadLocation(location)
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError("unknown location", ErrInvalidInput, err)
	}
	now := workflow.Now(ctx).In(loc)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0).Format("2006-01")
	// The cycle runs by the assessment policy in force now (issue 12), not
	// the one the Schedule was created with; the Schedule's publication
	// window, a demo setting, still applies. Versioned: starters recorded
	// before it started the cycle with the Schedule's policy.
	if workflow.GetVersion(ctx, "policy-in-force", workflow.DefaultVersion, 1) == 1 {
		var inForce AssessmentPolicy
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		if err := workflow.ExecuteLocalActivity(lctx, ActivityAssessmentPolicy, now).Get(ctx, &inForce); err != nil {
			return month, err
		}
		inForce.PublicationWindow = policy.PublicationWindow
		policy = inForce
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            AssessmentCycleWorkflowID(month),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
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
